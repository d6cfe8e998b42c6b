"""Lead intake: arrivals per source, assignment to a rep, contact attempts and qualification.

Prospects arrive per channel (their own streams), repeat requests per account. A prospect
goes to a rep by the manager's daily batch or by the CRM at once (round robin, least loaded,
or a regional pool any free rep takes from); an account's request goes to its owner. The rep
calls when the work policy picks the call; an attempt that does not reach the lead is tried
again later, up to the cap. When the lead is reached it qualifies with the channel's
probability times the speed-to-lead multiplier of the time it waited
(:func:`salesboost.rules.speed_to_lead_multiplier`). Most leads end here, so intake runs on
callbacks, without a process per lead.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from salesboost.rules import attempts_to_reach, speed_to_lead_multiplier
from sim.agents.rep import RepState
from sim.agents.worker import Worker
from sim.arrivals import hourly_rates, thinned_arrivals
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.flow import DealFlow
from sim.lead import Lead, RowSource, SequentialRows, categorical
from sim.recorder import ASSIGNMENT, FOLLOWUP, NOT_CONTACTED, QUALIFIED, UNQUALIFIED
from sim.tasks import FIRST_CONTACT, Task
from sim.world import World

#: The channel of prospects a rep finds by prospecting, and a perfunctory touch's length.
OUTBOUND = "outbound"
PERFUNCTORY_HOURS = 0.05


class Intake:
    """Turns arrivals into contacted leads; hands each qualified one to the deal flow."""

    def __init__(self, world: World, flow: DealFlow) -> None:
        self.world = world
        self.flow = flow
        self._env = world.env
        self._rec = world.recorder
        scenario = world.scenario
        self._calendar = world.calendar
        speed = scenario.behaviour.speed_to_lead
        self._t0, self._beta, self._floor = speed.t0_hours, speed.beta, speed.floor
        own = scenario.accounts.speed_to_lead_beta
        self._account_beta = speed.beta if own is None else own
        self._contact_prob = scenario.behaviour.contact_prob
        self._sla = scenario.kpi.response_sla_business_hours
        self._stages = world.stages
        self._pilot = world.pilot_stages  # None without a pilot pipeline
        self._pilot_regions = world.pilot_regions
        self._pilot_from = world.pilot_from
        self._next_rep = dict.fromkeys(world.reps_by_region, 0)
        self._counts = dict.fromkeys(world.prospects, 0)
        self._outbound: dict[str, int] = {}
        self._products = scenario.products
        self._segments = scenario.market.segments
        self._account_qualify = scenario.accounts.qualify_prob
        self._reorder_share = scenario.accounts.reorder_share
        self._lead_levers = world.levers.moves("qualify") or world.levers.moves("accept")
        self._demand: dict[str, np.random.Generator] | None = None

    # -- arrivals ---------------------------------------------------------------------------
    def start(self) -> None:
        """Schedule the first arrival of every source; each arrival schedules its source's next."""
        world = self.world
        market = world.scenario.market
        weekday = world.scenario.calendar.start().weekday()
        for name in world.prospects:
            share = market.channels[name].share
            times = thinned_arrivals(
                hourly_rates(market, share),
                weekday,
                world.streams.generator(f"arrivals.{name}").standard_exponential,
                world.streams.generator(f"arrivals.{name}.thinning").random,
            )
            self._schedule_prospect(name, times)
        self._demand = (
            {name: world.streams.generator(f"arrivals.{name}.demand") for name in world.prospects}
            if world.levers.moves("demand")
            else None
        )
        diversify = [p.size for p in world.scenario.risk.playbooks if p.response == "diversify"]
        for name in world.prospects if diversify else ():  # a new segment's prospects, kept once it is entered
            rows = SequentialRows(
                RowSource(world.scenario, world.streams, f"lead.{name}.extra", market.segments["new"].deal_size)
            )
            times = thinned_arrivals(
                hourly_rates(market, market.channels[name].share * max(diversify)),
                weekday,
                world.streams.generator(f"arrivals.{name}.extra").standard_exponential,
                world.streams.generator(f"arrivals.{name}.extra.thinning").random,
            )
            self._schedule_extra(name, times, rows, 0)
        self._schedule_request()

    def _schedule_extra(self, channel: str, times: Iterator[float], rows: SequentialRows, n: int) -> None:
        t = next(times, None)
        if t is None or t >= self.world.end:
            return
        self._env.timeout(t - self._env.now).callbacks.append(lambda _e: self._extra(channel, times, rows, n, t))

    def _extra(self, channel: str, times: Iterator[float], rows: SequentialRows, n: int, t: float) -> None:
        row = rows.next()
        if self.world.levers.shift("extra_demand", t) > 0:
            self._new_prospect(f"{channel}.extra-{n}", n, t, row, channel)
        self._schedule_extra(channel, times, rows, n + 1)

    def _schedule_prospect(self, channel: str, times: Iterator[float]) -> None:
        t = next(times, None)
        if t is None or t >= self.world.end:
            return
        self._env.timeout(t - self._env.now).callbacks.append(lambda _e: self._prospect(channel, times, t))

    def _prospect(self, channel: str, times: Iterator[float], t: float) -> None:
        world = self.world
        n = self._counts[channel]
        self._counts[channel] = n + 1
        row = world.prospects[channel].next()  # drawn even when the lead is lost to a demand fall (pairing)
        demand = self._demand
        if demand is None or demand[channel].random() < world.levers.factor("demand", t):
            self._new_prospect(f"{channel}-{n}", n, t, row, channel)
        self._schedule_prospect(channel, times)

    def _new_prospect(self, lead_id: str, n: int, t: float, row: tuple[float, ...], channel: str) -> None:
        world = self.world
        lead = Lead(lead_id, n, t, row)
        lead.channel = channel
        lead.segment = "new"
        lead.region = categorical(lead.region_u, *world.region_bounds)
        lead.product = world.product_for(lead.product_u, t)
        self._price(lead, world.channel_qualify[channel])
        lead.needed = attempts_to_reach(lead.contact_u, self._contact_prob)
        self._rec.arrive(lead)
        if lead.stages.batch_times is not None:
            self._collect(lead)
        else:
            self._assign(lead, "crm")

    def _schedule_request(self) -> None:
        item = self.world.accounts.next_initial_request()
        if item is None:
            return
        t, index, request = item
        self._env.timeout(t - self._env.now).callbacks.append(lambda _e: self._initial_request(t, index, request))

    def _initial_request(self, t: float, index: int, request: int) -> None:
        accounts = self.world.accounts
        account = accounts.accounts[index]
        self.account_request(account, t, accounts.request_row(account), request)
        self._schedule_request()

    def account_request(self, account: Account, t: float, row: tuple[float, ...], n: int) -> None:
        """Request ``n`` of ``account`` arrives at ``t``: a lead for the account's owner."""
        lead = Lead(f"{account.id}-{account.requests}", n, t, row)  # requests: unique with touch-made ones
        lead.account = account
        lead.tier = account.tier
        lead.channel = "account"
        lead.segment = "existing"
        lead.region = account.region
        lead.product = account.product
        # The row's contact uniform decides a direct reorder: an account's request needs no draw to
        # be reached (the customer asked), so the uniform is free, and keyed by account and request.
        reorder = lead.contact_u < self._reorder_share
        lead.contact_u = 1.0  # the customer asked: the first call reaches them (u = 1 needs one attempt)
        self._price(lead, self._account_qualify)
        lead.deal_size *= account.spend
        account.requests += 1
        rec = self._rec
        rec.arrive(lead)
        if rec.log is not None:
            rec.log(lead, "assign_lead", "account_owner", t, t)
        if reorder:  # straight to the quote: no call, no qualification
            rec.reordered(lead, t)
            self.flow.start(lead, account.owner, t)
            return
        self._followup(lead, t)
        self._attempt(lead, account.owner, 1)

    def _price(self, lead: Lead, qualify_prob: float) -> None:
        """Price ``lead`` and give it its pipeline: the pilot's in a pilot region from the start (a cohort rule)."""
        pilot = self._pilot
        if pilot is not None and lead.arrived >= self._pilot_from and lead.region in self._pilot_regions:
            pilot.adopt(lead)
        else:
            lead.stages = self._stages
        product = self._products[lead.product]
        segment = self._segments[lead.segment]
        lead.deal_size = lead.deal_base * product.price_factor
        lead.margin = product.margin
        lead.qualify_prob = qualify_prob
        lead.accept_prob = segment.accept_prob
        if self._lead_levers:  # a pilot's lift, in its regions from its start
            levers = self.world.levers
            lead.qualify_prob = qualify_prob * levers.factor("qualify", lead.arrived, lead.region)
            lead.accept_prob = min(1.0, segment.accept_prob * levers.factor("accept", lead.arrived, lead.region))

    # -- assignment -------------------------------------------------------------------------
    def _collect(self, lead: Lead) -> None:
        env = self._env
        now = env.now
        stages = lead.stages
        batch = stages.batch  # shared by the pipelines that hand out at the same times
        if not batch:  # the first lead since the last hand-out opens the next batch
            assert stages.batch_times is not None
            release = self._calendar.next_daily_instant(now, stages.batch_times)
            env.timeout(release - now).callbacks.append(lambda _e: self._release(batch))
        self._rec.enter(ASSIGNMENT, now)
        batch.append(lead)

    def _release(self, batch: list[Lead]) -> None:
        leads = batch[:]
        batch.clear()
        now = self._env.now
        for lead in leads:
            self._rec.leave(ASSIGNMENT, lead.arrived, now)
            self._assign(lead, "manager")

    def _assign(self, lead: Lead, assigned_by: str) -> None:
        now = self._env.now
        rec = self._rec
        if rec.log is not None:
            rec.log(lead, "assign_lead", assigned_by, lead.arrived, now)
        self._followup(lead, now)
        rule = lead.stages.rule
        if rule == "pooled":
            self._attempt(lead, None, 1)
            return
        self._attempt(lead, self._pick_rep(lead.region, rule), 1)

    def _followup(self, lead: Lead, now: float) -> None:
        lead.stage_entered = now
        self._rec.enter(FOLLOWUP, now)

    def _pick_rep(self, region: str, rule: str) -> Worker:
        """The rep who gets a new lead: among those at work today, unless nobody is."""
        reps = self.world.reps_by_region[region]
        day = int(self._env.now // HOURS_PER_DAY)
        if self.world.incentive is not None:  # empty seats take no leads
            reps = [r for r in reps if not _vacant(r)] or self.world.incentive.active_peers(reps[0])
        present = [r for r in reps if r.calendar.is_workday(day)] or reps
        if rule == "least_loaded":
            return min(present, key=lambda r: (len(r.own) + r.busy, r.index))
        i = self._next_rep[region]
        for step in range(len(reps)):
            rep = reps[(i + step) % len(reps)]
            if rep in present:
                self._next_rep[region] = (i + step + 1) % len(reps)
                return rep
        raise AssertionError("unreachable: present is never empty")

    # -- contact attempts ---------------------------------------------------------------------
    def _attempt(self, lead: Lead, rep: Worker | None, attempt: int) -> None:
        """Queue call attempt ``attempt`` with ``rep`` (or the region's pool when ``rep`` is None)."""
        incentive = self.world.incentive
        if incentive is not None and rep is not None:
            if _vacant(rep):
                rep = incentive.stand_in(rep)
            if attempt == 1 and incentive.games(rep):  # a perfunctory touch first: it stops the SLA clock
                touch = self.world.task(FIRST_CONTACT, PERFUNCTORY_HOURS, lead, self._touched, lead.arrived)
                rep.submit(touch)
        hours = lead.contact_hours if lead.needed == attempt else lead.attempt_hours
        task = self.world.task(FIRST_CONTACT, hours, lead, self._attempted, lead.arrived)
        lead.rep = rep
        if rep is None:
            self.world.pools[lead.region].submit(task)
        else:
            rep.submit(task)
        lead.attempt = attempt

    def _attempted(self, task: Task, now: float) -> None:
        lead = task.lead
        rec = self._rec
        log = rec.log
        rep = self._worker_of(task)
        pooled = lead.rep is None  # a pooled lead's next attempt goes back to the pool
        lead.rep = rep
        start = task.started
        if lead.attempt == 1 and not lead.first_logged:
            self._first_attempt(lead, rep, start)
        if lead.needed != lead.attempt:
            if log is not None:
                log(lead, "call_attempt", rep.name, start, now)
            if lead.attempt >= lead.stages.attempt_cap:
                if log is not None:
                    log(lead, "not_contacted", rep.name, now, now)
                rec.leave(FOLLOWUP, lead.stage_entered, now)
                rec.close(lead, NOT_CONTACTED)
                return
            due = rep.calendar.add_working_time(now, lead.stages.retry_gap)
            nxt = lead.attempt + 1
            target = None if pooled else rep
            self._env.timeout(due - now).callbacks.append(lambda _e: self._attempt(lead, target, nxt))
            return
        response = start - lead.arrived
        rec.contacted(lead, response, start)
        state = rep.state
        if isinstance(state, RepState):
            state.ptd_contacts += 1
        if log is not None:
            log(lead, "first_contact", rep.name, start, now)
        beta = self._beta if lead.account is None else self._account_beta
        decay = speed_to_lead_multiplier(response, self._t0, beta, self._floor)
        rec.leave(FOLLOWUP, lead.stage_entered, now)
        if lead.qualify_u >= lead.qualify_prob * decay:
            rec.close(lead, UNQUALIFIED)
            if log is not None:
                log(lead, "disqualify_lead", rep.name, now, now)
            return
        rec.step(lead, QUALIFIED, now)
        self.flow.start(lead, rep, now)

    def _first_attempt(self, lead: Lead, rep: Worker, start: float) -> None:
        lead.first_logged = True
        timely = start <= self._calendar.add_working_time(lead.arrived, self._sla)
        self._rec.first_attempt(lead, start - lead.arrived, timely, start)
        if self.world.incentive is not None:
            self.world.incentive.first_attempt(lead, rep, timely, start)

    def _touched(self, task: Task, _now: float) -> None:
        """A perfunctory touch: it counts as the first attempt, the real call follows in its turn."""
        lead = task.lead
        if not lead.first_logged:
            lead.gamed = True
            self._first_attempt(lead, self._worker_of(task), task.started)

    def outbound(self, rep: Worker, t: float) -> None:
        """A prospect ``rep`` reached by prospecting at ``t``: it qualifies at once or not at all."""
        world = self.world
        incentive = world.incentive
        row = incentive.next_outbound_row(rep)
        key = f"{OUTBOUND}-{rep.name}"  # the n-th prospect of a seat: the same lead under every scheme
        n = self._outbound.get(key, 0)
        self._outbound[key] = n + 1
        lead = Lead(f"{key}-{n}", n, t, row)
        lead.channel = OUTBOUND
        lead.segment = "new"
        lead.region = rep.region
        lead.product = world.product_for(lead.product_u, t)
        self._price(lead, world.scenario.reps.work.prospect_qualify_prob)
        lead.rep = rep
        lead.first_logged = True  # no inbound request: no response time to measure
        rec = self._rec
        rec.arrive(lead)
        rec.prospected(lead, t)
        if rec.log is not None:
            rec.log(lead, "prospect_lead", rep.name, t, t)
        if lead.qualify_u >= lead.qualify_prob:
            rec.close(lead, UNQUALIFIED)
            return
        rec.step(lead, QUALIFIED, t)
        self.flow.start(lead, rep, t)

    @staticmethod
    def _worker_of(task: Task) -> Worker:
        worker = task.worker
        assert isinstance(worker, Worker)
        return worker


def _vacant(rep: Worker) -> bool:
    """Whether ``rep``'s seat is empty (a rep who left under a scheme)."""
    state = rep.state
    return isinstance(state, RepState) and state.vacant
