"""Lead intake: arrivals, assignment to a rep, first contact and qualification.

Most leads end here (not qualified), so intake runs without a SimPy process per lead:
the arrival process hands each lead out at once (CRM) or collects it for the manager's
daily batch (one event per batch). First contact is booked with the rep when the lead is
handed out; only a qualified lead starts a process, at the end of its first contact.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from salesboost.rules import speed_to_lead_multiplier
from sim.arrivals import arrival_times, hourly_rates
from sim.flow import deal_journey
from sim.lead import Lead
from sim.recorder import ASSIGNMENT, FOLLOWUP, UNQUALIFIED
from sim.world import World

Process = Generator[Any, Any, None]


class Intake:
    """Turns arrivals into contacted leads; starts a deal journey for each qualified one."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._batch: list[Lead] = []
        self._release_at = 0.0
        scenario = world.scenario
        speed = scenario.behaviour.speed_to_lead
        self._speed = (speed.t0_hours, speed.beta, speed.floor)
        self._response_sla = scenario.kpi.response_sla_business_hours

    def arrivals(self) -> Process:
        """The arrival process: one timeout per lead."""
        world = self.world
        env = world.env
        rec = world.recorder
        create = world.leads.create
        batched = world.batch_times is not None
        times = arrival_times(
            hourly_rates(world.scenario.market),
            world.scenario.calendar.start().weekday(),
            world.streams.sampler_exponential("arrivals"),
        )
        for t in times:
            yield env.timeout(t - env.now)
            lead = create(t)
            rec.arrive(lead)
            if batched:
                self._collect(lead)
            else:
                self.contact(lead, "crm")

    def _collect(self, lead: Lead) -> None:
        world = self.world
        env = world.env
        assert world.batch_times is not None
        if not self._batch:  # the first lead since the last hand-out opens the next batch
            self._release_at = world.calendar.next_daily_instant(env.now, world.batch_times)
            env.timeout(self._release_at - env.now).callbacks.append(self._release)
        world.recorder.visit(ASSIGNMENT, env.now, self._release_at)
        self._batch.append(lead)

    def _release(self, _event: object) -> None:
        batch, self._batch = self._batch, []
        for lead in batch:
            self.contact(lead, "manager")

    def contact(self, lead: Lead, assigned_by: str) -> None:
        """Hand ``lead`` to a rep now, book the first contact and decide qualification."""
        world = self.world
        now = world.env.now
        rec = world.recorder
        log = rec.log
        rep = world.pools[lead.region].pick()
        start, end = rep.schedule(now, lead.contact_hours)
        rec.work(start, lead.contact_hours)
        rec.visit(FOLLOWUP, now, end)
        response = start - lead.arrived
        if lead.cohort:
            # Timely: at most response_sla working hours between arrival and contact.
            timely = start <= world.calendar.add_working_time(lead.arrived, self._response_sla)
            rec.contacted(lead, response, timely)
        if log is not None:
            log(lead, "assign_lead", assigned_by, lead.arrived, now)
            log(lead, "first_contact", rep.name, start, end)
        p_qualify = world.qualify_prob[lead.channel] * speed_to_lead_multiplier(response, *self._speed)
        if lead.qualify_u >= p_qualify:
            # A contact still going on when the run ends leaves the lead in flight.
            if end <= world.end:
                rec.close(lead, UNQUALIFIED)
                if log is not None:
                    log(lead, "disqualify_lead", rep.name, end, end)
            return
        world.env.process(deal_journey(world, lead, rep, end))
