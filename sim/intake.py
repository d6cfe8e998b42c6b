"""Lead intake: arrivals, assignment to a rep, first contact and qualification.

Most leads end here (not qualified), so intake runs without a SimPy process per lead:
the arrival process hands each lead out at once (CRM) or collects it for the manager's
daily batch (one event per batch). First contact is booked with the rep when the lead is
handed out; only a qualified lead starts a process, at the end of its first contact.
This is the hot path of the model: lookups are bound once, in ``__init__``.
"""

from __future__ import annotations

from sim.arrivals import arrival_times, hourly_rates
from sim.flow import deal_journey
from sim.lead import Lead
from sim.recorder import ASSIGNMENT, FOLLOWUP, UNQUALIFIED
from sim.world import World


class Intake:
    """Turns arrivals into contacted leads; starts a deal journey for each qualified one."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._env = world.env
        self._rec = world.recorder
        self._calendar = world.calendar
        self._pools = world.pools
        self._qualify_prob = world.qualify_prob
        self._batch: list[Lead] = []
        self._release_at = 0.0
        scenario = world.scenario
        speed = scenario.behaviour.speed_to_lead
        self._t0, self._beta, self._floor = speed.t0_hours, speed.beta, speed.floor
        self._response_sla = scenario.kpi.response_sla_business_hours

    def start(self) -> None:
        """Schedule the first arrival; each arrival schedules the next (one timeout per lead).

        A chain of callbacks rather than a process: the same events in the same order, without
        resuming a generator for every lead.
        """
        world = self.world
        self._times = arrival_times(
            hourly_rates(world.scenario.market),
            world.scenario.calendar.start().weekday(),
            world.streams.generator("arrivals").standard_exponential,
        )
        self._create = world.leads.create
        self._hand_out = self._collect if world.batch_times is not None else self._assign_now
        self._schedule_next()

    def _schedule_next(self) -> None:
        t = next(self._times)
        self._next_arrival = t
        self._env.timeout(t - self._env.now).callbacks.append(self._arrive)

    def _arrive(self, _event: object) -> None:
        lead = self._create(self._next_arrival)
        self._rec.arrive(lead)
        self._hand_out(lead)
        self._schedule_next()

    def _assign_now(self, lead: Lead) -> None:
        self.contact(lead, "crm")

    def _collect(self, lead: Lead) -> None:
        env = self._env
        now = env.now
        if not self._batch:  # the first lead since the last hand-out opens the next batch
            assert self.world.batch_times is not None
            self._release_at = self._calendar.next_daily_instant(now, self.world.batch_times)
            env.timeout(self._release_at - now).callbacks.append(self._release)
        self._rec.visit(ASSIGNMENT, now, self._release_at)
        self._batch.append(lead)

    def _release(self, _event: object) -> None:
        batch, self._batch = self._batch, []
        contact = self.contact
        for lead in batch:
            contact(lead, "manager")

    def contact(self, lead: Lead, assigned_by: str) -> None:
        """Hand ``lead`` to a rep now, book the first contact and decide qualification."""
        now = self._env.now
        rec = self._rec
        log = rec.log
        rep = self._pools[lead.region].pick()
        work = lead.contact_hours
        start, end = rep.schedule(now, work)
        rec.work(start, work)
        rec.visit(FOLLOWUP, now, end)
        arrived = lead.arrived
        response = start - arrived
        if lead.cohort:
            # Timely: at most response_sla working hours between arrival and contact.
            rec.contacted(lead, response, start <= self._calendar.add_working_time(arrived, self._response_sla))
        if log is not None:
            log(lead, "assign_lead", assigned_by, arrived, now)
            log(lead, "first_contact", rep.name, start, end)
        # Speed-to-lead (salesboost.rules.speed_to_lead_multiplier, inlined: it runs for every lead).
        t0 = self._t0
        decay = 1.0 if response <= t0 else max(self._floor, (response / t0) ** -self._beta)
        if lead.qualify_u >= self._qualify_prob[lead.channel] * decay:
            # A contact still going on when the run ends leaves the lead in flight.
            if end <= self.world.end:
                rec.close(lead, UNQUALIFIED)
                if log is not None:
                    log(lead, "disqualify_lead", rep.name, end, end)
            return
        self._env.process(deal_journey(self.world, lead, rep, end))
