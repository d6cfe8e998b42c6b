"""The incentive desk: the scheme's clock, the reps' weekly plans, their discretionary work and the settlements.

Every Monday each rep in post builds its outlook for the rest of the settlement period (revenue
so far and at its recent pace, the scorecard's and the floors' metrics so far) and asks its
brain (:func:`salesboost.effort.plan_effort`) how many hours a day of prospecting, account
development and training the scheme pays for; the same marginal prices drive the rep's choice
of the next task (:mod:`sim.decisions.effort`). Planned work becomes tasks each morning and
lapses with the day, so a busy rep does less of it. Prospecting reaches outbound prospects
(``reps.work``, rows from the seat's own stream), development calls a live account's request
and cut its dropout like a service touch, and a second call in a month risks a complaint, as
does an account's request that waited past the SLA. Near a period's end a rep may pull a deal
forward with a discount or push a contract into the next period
(:func:`salesboost.effort.timing_move`), and under a timeliness floor make a perfunctory first
touch that stops the SLA clock. At each period's end the desk settles every seat with
:func:`salesboost.incentive.payout` and ratchets the quota; repeated floor misses let a rep go.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from salesboost.effort import Outlook, plan_effort, timing_move
from salesboost.incentive import IncentiveConfig, starts_period
from sim.agents.payroll import Payroll, Running, repurchase, satisfaction, share_of
from sim.agents.rep import RepState, rep_state
from sim.agents.staffing import MONTH_HOURS, StaffingDesk
from sim.agents.worker import Worker
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.decisions.effort import COMPULSORY, Prices, first_call_deadline, scheme_policy
from sim.decisions.work import scenario_pipeline_value
from sim.lead import RowSource, SequentialRows
from sim.outreach_ledger import REP_HOURS, REQUESTS, TOUCHES
from sim.rep_book import (
    ACCOUNTS_PLAN,
    DISCOUNT,
    FIRST_ATTEMPTS,
    GAMED,
    NEW_CUSTOMERS,
    PLAN_WEEKS,
    PROSPECTING_PLAN,
    PULLED,
    PUSHED,
    REVENUE,
    TIMELY,
    TRAINING_PLAN,
    WINS,
    RepBook,
)
from sim.rep_book import COMPLAINTS as REP_COMPLAINTS
from sim.tasks import ACCOUNT, PROSPECTING, TRAINING, Task
from sim.world import World

#: ``request(account, t)``: a purchase request of ``account`` arrives at ``t``.
Request = Callable[[Account, float], None]
#: ``outbound(rep, t)``: a prospect the rep reached by prospecting at ``t`` (the intake's entry point).
Outbound = Callable[[Worker, float], None]
WORKDAYS_PER_MONTH = 21.0
#: First calls a rep expects a working day when it prices timeliness per lead: in the study's
#: world about 3 (113 leads and ~60 account requests a week over 11 reps and 5 days).
FIRST_CALLS_PER_DAY = 3.0


def _call(then: Callable[[Any], None], arg: Any, _event: object) -> None:
    then(arg)


class SchemeChange(NamedTuple):
    """A change of scheme for some seats, waiting for a month that starts both schemes' periods."""

    scheme: IncentiveConfig
    seats: frozenset[int]
    not_before: float  # clock hour


class IncentiveDesk:
    """Plans, prices, settles and keeps the books of every rep seat under the scheme."""

    def __init__(self, world: World, request: Request, outbound: Outbound) -> None:
        scenario = world.scenario
        self.world = world
        self._env = world.env
        self._request = request
        self._outbound = outbound
        self._reps = scenario.reps
        self._work = scenario.reps.work
        self._response = scenario.reps.response
        horizon = scenario.horizon
        window = (horizon.warmup_days * HOURS_PER_DAY, horizon.days * HOURS_PER_DAY)
        self.book = RepBook(scenario.calendar.start(), world.end, [(r.name, r.region) for r in world.reps], window)
        self.staffing = StaffingDesk(world, self.book, self._reassign)
        self.payroll = Payroll(world, self.book, self.staffing)
        self.quota = self.payroll.quota
        self.running = self.payroll.running
        self.pace = [scenario.incentive.quota_per_month / WORKDAYS_PER_MONTH] * len(world.reps)  # revenue a workday
        self.load = [0.0] * len(world.reps)  # non-discretionary work hours per working day (EWMA)
        self._week_work = [0.0] * len(world.reps)
        self._week_revenue = [0.0] * len(world.reps)
        self.plans: list[dict[str, float]] = [{} for _ in world.reps]
        self._marginal: list[dict[str, float]] = [{} for _ in world.reps]
        self._owed: list[dict[str, float]] = [{} for _ in world.reps]
        self._called: dict[str, int] = {}  # account -> month index of its last development call
        self._call_order: list[int] = [0] * len(world.reps)
        self.lag_days = 12.0  # running mean of lead-to-order days (what reps expect a new deal takes)
        # One stream per seat and purpose: whether a purpose draws at all depends on the scheme
        # (gaming, pulling, pushing), so a shared stream would shift every other purpose's luck.
        seat_streams = world.streams.seat_streams
        self._prospect_rngs = seat_streams(world.reps, "incentive.prospects")
        self._development_rngs = seat_streams(world.reps, "incentive.development")
        self._complaint_rngs = seat_streams(world.reps, "incentive.late_complaints")
        self._gaming_rngs = seat_streams(world.reps, "incentive.gaming")
        self._pull_rngs = seat_streams(world.reps, "incentive.pull")
        self._push_rngs = seat_streams(world.reps, "incentive.push")
        self._rows = [
            SequentialRows(
                RowSource(scenario, world.streams, f"lead.outbound.{r.name}", scenario.market.segments["new"].deal_size)
            )
            for r in world.reps
        ]
        revenue_value = scenario_pipeline_value(scenario, margin=False)
        deadline = first_call_deadline(world.calendar.add_working_time, scenario.kpi.response_sla_business_hours)
        pick = scheme_policy(revenue_value, deadline, self._work.late_complaint_prob)
        for seat, rep in enumerate(world.reps):
            state = rep_state(rep)
            state.slot = seat
            state.prices = Prices(0.0, 0.0, 0.0, self._work.admin_value_per_hour)
            rep.pick = partial(_unless_vacant, pick)
            rep.on_work = partial(self._on_work, rep.on_work)
        self._returns_cache: dict[str, float] = self._unit_returns()
        self._changes: list[SchemeChange] = []  # changes of scheme waiting for their first month
        self.switched_at: float | None = None  # the clock hour a change of scheme first took effect
        pilot = scenario.pilot
        if pilot.incentive is not None:  # the pilot regions' seats, from the first shared period start on or after it
            seats = frozenset(seat for seat, rep in enumerate(world.reps) if rep.region in pilot.regions)
            self.change_scheme(
                pilot.incentive, seats, not_before=pilot.start_day(scenario.calendar.start()) * HOURS_PER_DAY
            )

    # -- clock ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Schedule month starts, Monday plans and the daily roll call."""
        for m, (_day, a, _b) in enumerate(self.book.months):
            if a < self.world.end:
                self._env.timeout(a - self._env.now).callbacks.append(partial(_call, self._month, m))
        for seat in range(len(self.world.reps)):
            self.staffing.assess(seat)
        start = self.world.scenario.calendar.start()
        monday = (7 - start.weekday()) % 7
        for d in range(monday, int(self.world.end // HOURS_PER_DAY), 7):
            self._env.timeout(d * HOURS_PER_DAY + 1e-6).callbacks.append(partial(_call, self._week, d))
        for d in range(int(self.world.end // HOURS_PER_DAY)):
            self._env.timeout(d * HOURS_PER_DAY).callbacks.append(partial(_call, self._roll_call, d))

    def _roll_call(self, day: int) -> None:
        for seat, rep in enumerate(self.world.reps):
            state = rep_state(rep)
            if state.vacant:
                state.vacant_days.add(day)
            else:
                self.running[seat].days += 1.0
        self.staffing.in_post_days(self._env.now)

    def _month(self, m: int) -> None:
        now = self._env.now
        if m > 0:
            for seat, rep in enumerate(self.world.reps):
                state = rep_state(rep)
                tenure = (now - state.hired) / MONTH_HOURS
                status = "vacant" if state.vacant else ("ramping" if state.ramp < 1.0 else "active")
                self.book.status(seat, m - 1, status, tenure, self.quota[seat])
            self.payroll.settle_due(m - 1, now)
        self._apply_changes(m, now)
        self.staffing.month(m, now)
        self._plan_all(now)

    def _week(self, day: int) -> None:
        now = self._env.now
        for seat in range(len(self.world.reps)):
            self.pace[seat] = 0.7 * self.pace[seat] + 0.3 * self._week_revenue[seat] / 5.0
            self.load[seat] = 0.7 * self.load[seat] + 0.3 * self._week_work[seat] / 5.0
            self._week_revenue[seat] = self._week_work[seat] = 0.0
        self._plan_all(now)
        del day

    def change_scheme(
        self, scheme: IncentiveConfig, seats: frozenset[int] | None = None, not_before: float = 0.0
    ) -> None:
        """Pay ``seats`` (None: all) by ``scheme`` from the first month that can start both schemes' periods.

        That month starts on or after clock hour ``not_before`` and begins a settlement period of
        the new scheme and of every seat's current one.

        Waiting for a shared boundary means no period is settled half under each scheme. Seats
        keep their (ratcheted) monthly quotas: the targets stay, the way they are paid changes.
        """
        chosen = frozenset(range(len(self.world.reps))) if seats is None else seats
        self._changes.append(SchemeChange(scheme, chosen, not_before))

    def _apply_changes(self, m: int, now: float) -> None:
        schemes = self.payroll.schemes
        month = self.book.months[m][0].month
        waiting = []
        for change in self._changes:
            current = [schemes[seat] for seat in change.seats]
            if now >= change.not_before and starts_period(month, change.scheme, *current):
                for seat in change.seats:  # settled under the old scheme, paid by the new from now
                    schemes[seat] = change.scheme
                if self.switched_at is None:
                    self.switched_at = now
            else:
                waiting.append(change)
        self._changes = waiting

    # -- plans ------------------------------------------------------------------------------------------
    def _unit_returns(self) -> dict[str, float]:
        """Expected revenue of an outbound prospect and of an account's request (before timing)."""
        scenario = self.world.scenario
        segments = scenario.market.segments
        factor = sum(p.share * p.price_factor for p in scenario.products.values())
        keep = math.exp(-scenario.behaviour.loss_hazard_per_day * 8.0)
        prospect_win = self._work.prospect_qualify_prob * segments["new"].accept_prob * keep
        request_win = scenario.accounts.qualify_prob * segments["existing"].accept_prob * keep
        return {
            "prospect_win": prospect_win,
            "prospect_revenue": prospect_win * segments["new"].deal_size.expected * factor,
            "request_win": request_win,
            "request_revenue": request_win * segments["existing"].deal_size.expected * factor,
        }

    def _plan_all(self, now: float) -> None:
        for seat, rep in enumerate(self.world.reps):
            if not rep_state(rep).vacant:
                self._plan(seat, rep, now)

    def _plan(self, seat: int, rep: Worker, now: float) -> None:
        scheme, work, config = self.payroll.schemes[seat], self._work, self._reps.lifecycle
        m = self.book.month_of(now)
        first, last = self.payroll.period_of(m, seat)
        months = self.book.months
        end = months[min(last, len(months) - 1)][2]
        days_left = max(0.5, (end - now) / HOURS_PER_DAY * 5.0 / 7.0)
        calendar_left = max(1.0, (end - now) / HOURS_PER_DAY)
        run = self.running[seat]
        state = rep_state(rep)
        career = self.staffing.careers[seat]
        period_days = (end - max(months[max(first, 0)][1], 0.0)) / HOURS_PER_DAY
        share = min(1.0, max(0.05, (run.days + calendar_left) / max(1.0, period_days)))
        timely_in = max(0.0, 1.0 - self.lag_days / calendar_left)
        owned = [a for a in state.owned if a.owner is rep]
        u = self._returns_cache
        calls = work.development_calls_per_hour
        alive_guess = 0.7
        base = sum(1 for a in owned if a.first_order < run.start) or 1
        served_expected = max(1.0, len(run.served) + len(owned) * 0.1 * days_left / WORKDAYS_PER_MONTH)
        first_expected = max(1.0, run.first + FIRST_CALLS_PER_DAY * days_left)
        returns = {
            "prospecting": {
                "revenue": work.prospect_leads_per_hour * u["prospect_revenue"] * timely_in,
                "new_customers": work.prospect_leads_per_hour * u["prospect_win"] * timely_in,
            },
            "accounts": {
                "revenue": calls * work.development_request_prob * alive_guess * u["request_revenue"] * timely_in
                if owned
                else 0.0,
                "repurchase_rate": calls * work.development_request_prob * alive_guess * u["request_win"] / base
                if owned
                else 0.0,
                "complaint_rate": calls
                * work.repeat_call_complaint_prob
                * self._repeat_share(seat, owned)
                / served_expected,
            },
            "training": {
                "training_score": config.exam_sd
                * config.exam_validity
                * config.training_effect
                / config.programme_hours,
                "data_use": 0.0 if career.data_found else work.data_use_per_hour,
            },
        }
        timeliness = (run.timely + 0.8 * 5) / (run.first + 5)
        complaints = run.complaints / max(1, len(run.served)) if run.served else 0.0
        n_first = max(1.0, first_expected)
        gates = {
            "timeliness": (timeliness, math.sqrt(timeliness * (1 - timeliness) / n_first) + 0.03),
            "complaint_rate": (complaints, math.sqrt(max(complaints, 0.002) / served_expected) + 0.003),
        }
        metrics = self._metric_outlook(
            seat, rep, owned=owned, run=run, days_left=days_left, timeliness=timeliness, complaints=complaints
        )
        outlook = Outlook(
            revenue_to_date=run.revenue,
            revenue_expected=self.pace[seat] * days_left,
            quota=self.quota[seat] * scheme.months,
            days_left=days_left,
            months_to_pay=max(0, last - m),
            free_hours=max(0.0, self.staffing.day_hours - self.load[seat]),
            metrics=metrics,
            gates=gates,
            employed_share=share,
            period_days=max(days_left, period_days * 5.0 / 7.0),
        )
        plan = plan_effort(scheme, self._response, outlook, returns)
        prices = plan.prices
        satisfaction = prices.get("satisfaction", 0.0)
        state.prices = Prices(
            revenue=prices["revenue"],
            timeliness=(prices.get("timeliness", 0.0) + satisfaction * work.satisfaction_timely) / n_first,
            complaint=(-prices.get("complaint_rate", 0.0) + satisfaction * work.satisfaction_complaint)
            / served_expected,
            admin=work.admin_value_per_hour,
        )
        self.plans[seat] = plan.hours
        self._marginal[seat] = plan.marginal
        state.timing = timing_move(
            scheme, self._response, run.revenue, self.quota[seat] * scheme.months * share, days_left
        )
        book = self.book
        book.add(seat, now, PLAN_WEEKS)
        book.add(seat, now, PROSPECTING_PLAN, plan.hours["prospecting"])
        book.add(seat, now, ACCOUNTS_PLAN, plan.hours["accounts"])
        book.add(seat, now, TRAINING_PLAN, plan.hours["training"])

    def _repeat_share(self, seat: int, owned: list[Account]) -> float:
        """Share of this month's development calls that would go to an account already called."""
        calls = self.plans[seat].get("accounts", 0.0) * self._work.development_calls_per_hour * WORKDAYS_PER_MONTH
        return max(0.0, 1.0 - len(owned) / calls) if calls > 0 else 0.0

    def _metric_outlook(
        self,
        seat: int,
        rep: Worker,
        *,
        owned: list[Account],
        run: Running,
        days_left: float,
        timeliness: float,
        complaints: float,
    ) -> dict[str, tuple[float, float]]:
        """Expected end-of-period values of the scorecard metrics, with a rough sd."""
        work = self._work
        elapsed = max(1.0, run.days * 5.0 / 7.0)
        new = run.new_customers + run.new_customers / elapsed * days_left
        career = self.staffing.careers[seat]
        schemes = self.payroll.schemes
        region_quota = sum(
            self.quota[rep_state(p).slot] * schemes[rep_state(p).slot].months
            for p in self.world.reps_by_region[rep.region]
        )
        region_pace = sum(
            self.running[rep_state(p).slot].revenue + self.pace[rep_state(p).slot] * days_left
            for p in self.world.reps_by_region[rep.region]
        )
        return {
            "new_customers": (new, math.sqrt(new + 1.0)),
            "repurchase_rate": (repurchase(owned, run.start), 0.05),
            "high_value_share": (share_of(owned, lambda a: a.tier == "high_value"), 0.03),
            "satisfaction": (satisfaction(work, timeliness, complaints), 0.2),
            "training_score": (career.training_score, self._reps.lifecycle.exam_sd / 2.0),
            "data_use": (1.0 if career.data_found else 0.0, 0.3),
            "team_attainment": (region_pace / region_quota if region_quota > 0 else 0.0, 0.15),
        }

    # -- the day's discretionary work -------------------------------------------------------------------
    def day(self, rep: Worker, day: int, now: float, expires: float) -> tuple[list[Task], bool]:
        """Tasks a rep plans for the day under the scheme; True when the rep does nothing else (classroom)."""
        tasks, exclusive = self.staffing.day_tasks(rep, day, now, expires)
        if exclusive:
            return tasks, True
        seat = rep_state(rep).slot
        chunk = self._work.chunk_hours
        owed = self._owed[seat]
        marginal = self._marginal[seat]
        for kind, hours in self.plans[seat].items():
            owed[kind] = owed.get(kind, 0.0) + hours
            while owed[kind] >= chunk:
                owed[kind] -= chunk
                task = self.world.task(_KIND[kind], chunk, None, self._done(kind, rep), now)
                task.expires = expires
                task.worth = max(marginal.get(kind, 0.0), 1e-9)
                tasks.append(task)
        return tasks, False

    def _done(self, kind: str, rep: Worker) -> Callable[[Task, float], None] | None:
        if kind == "prospecting":
            return partial(self._prospected, rep)
        if kind == "accounts":
            return partial(self._developed, rep)
        return None

    def _prospected(self, rep: Worker, task: Task, now: float) -> None:
        seat = rep_state(rep).slot
        n = int(self._prospect_rngs[seat].poisson(self._work.prospect_leads_per_hour * task.hours))
        for _ in range(n):
            self._outbound(rep, now)

    def next_outbound_row(self, rep: Worker) -> tuple[float, ...]:
        """The next outbound prospect's draws from the seat's own stream."""
        return self._rows[rep_state(rep).slot].next()

    def _developed(self, rep: Worker, task: Task, now: float) -> None:
        state = rep_state(rep)
        seat = state.slot
        owned = [a for a in state.owned if a.owner is rep]
        if not owned:
            return
        i = self._call_order[seat] % len(owned)
        self._call_order[seat] = i + 1
        account = owned[i]
        m = self.book.month_of(now)
        repeat = self._called.get(account.id) == m
        self._called[account.id] = m
        u = self._development_rngs[seat].random(2).tolist()
        ledger = self.world.ledger
        ledger.outreach(now, account.tier, "development", TOUCHES, account=account.id)
        ledger.outreach(now, account.tier, "development", REP_HOURS, task.hours)
        self.running[seat].served.add(account.id)
        self.book.served(seat, now, account.id)
        effects = self.world.scenario.outreach.effects
        account.served_until = max(account.served_until, now + effects.service_days * HOURS_PER_DAY)
        if repeat and u[0] < self._work.repeat_call_complaint_prob * self.world.levers.factor("complaints", now):
            self._complaint(seat, now)
        if account.alive and u[1] < self._work.development_request_prob:
            ledger.outreach(now, account.tier, "development", REQUESTS)
            self._request(account, now)

    def _complaint(self, seat: int, now: float) -> None:
        """A complaint about the rep in ``seat`` (the scheme's floor metric, kept apart from outreach's)."""
        self.running[seat].complaints += 1
        self.book.add(seat, now, REP_COMPLAINTS)

    def _on_work(
        self, record: Callable[[Worker, Task, float, float], None], rep: Worker, task: Task, start: float, hours: float
    ) -> None:
        record(rep, task, start, hours)
        seat = rep_state(rep).slot
        if task.kind == TRAINING:
            self.staffing.trained(rep, hours, start)
        if not 0.0 < task.worth < COMPULSORY:  # what the rep must do anyway (the rest is its plan)
            self._week_work[seat] += hours

    # -- what the pipeline tells the desk ---------------------------------------------------------------
    def first_attempt(self, lead: Any, rep: Worker, timely: bool, now: float) -> None:
        """A first call attempt (or a perfunctory touch) to ``lead`` by ``rep``."""
        seat = rep_state(rep).slot
        run = self.running[seat]
        run.first += 1
        run.timely += timely
        self.book.add(seat, now, FIRST_ATTEMPTS)
        if timely:
            self.book.add(seat, now, TIMELY)
        if lead.gamed:
            self.book.add(seat, now, GAMED)
        account = lead.account
        if account is not None:
            run.served.add(account.id)
            self.book.served(seat, now, account.id)
            if not timely:
                odds = self._work.late_complaint_prob * self.world.levers.factor("complaints", now)
                if self._complaint_rngs[seat].random() < odds:
                    self._complaint(seat, now)

    def games(self, rep: Worker) -> bool:
        """Whether ``rep`` makes a perfunctory first touch of its next lead (timeliness gated and at risk)."""
        state = rep_state(rep)
        if "timeliness" not in self.payroll.schemes[state.slot].floors:
            return False
        if state.prices.timeliness <= 0:
            return False
        return bool(self._gaming_rngs[state.slot].random() < self._response.gaming_share)

    def ordered(self, lead: Any, new_account: bool, now: float) -> None:
        """An order of ``lead`` was booked: credit its rep."""
        rep = lead.rep
        if rep is None or not isinstance(rep.state, RepState):
            return
        seat = rep.state.slot
        run = self.running[seat]
        run.revenue += lead.deal_size
        self._week_revenue[seat] += lead.deal_size
        self.book.add(seat, now, REVENUE, lead.deal_size)
        self.book.add(seat, now, WINS)
        if new_account:
            run.new_customers += 1
            self.book.add(seat, now, NEW_CUSTOMERS)
        self.lag_days = 0.98 * self.lag_days + 0.02 * (now - lead.arrived) / HOURS_PER_DAY

    def pull(self, lead: Any, now: float) -> bool:
        """Whether the rep pulls this quoted deal forward with a discount (the customer decides at once)."""
        rep = lead.rep
        state = rep_state(rep)
        if state.timing != "pull" or self._pull_rngs[state.slot].random() >= self._response.pull_prob:
            return False
        discount = self._response.pull_discount * lead.deal_size
        lead.deal_size -= discount
        lead.pulled = True
        self.book.add(state.slot, now, PULLED)
        self.book.add(state.slot, now, DISCOUNT, discount)
        return True

    def push(self, lead: Any, now: float) -> float:
        """When the contract of an accepted deal starts: now, or the next period's first instant if pushed."""
        rep = lead.rep
        state = rep_state(rep)
        if state.timing != "push" or self._push_rngs[state.slot].random() >= self._response.push_prob:
            return now
        m = self.book.month_of(now)
        _first, last = self.payroll.period_of(m, state.slot)
        if last + 1 >= len(self.book.months):
            return now
        self.book.add(state.slot, now, PUSHED)
        return self.book.months[last + 1][1]

    # -- leavers ----------------------------------------------------------------------------------------
    def _reassign(self, rep: Worker, now: float) -> None:
        """A rep leaves: settle what it earned, hand its accounts and open deals to its region's peers."""
        seat = rep_state(rep).slot
        self.payroll.settle(seat, rep, self.book.month_of(now), now, left=True)
        peers = self.active_peers(rep)
        state = rep_state(rep)
        for i, account in enumerate(state.owned):
            if account.owner is rep and peers:
                peer = peers[i % len(peers)]
                account.owner = peer
                rep_state(peer).owned.append(account)
                rep_state(peer).accounts += 1
        waiting = []
        for j, task in enumerate(rep.own):
            if task.lead is not None and not task.cancelled:
                if not peers:  # nobody in post anywhere: the deal waits for the seat's next hire
                    waiting.append(task)
                    continue
                peer = peers[j % len(peers)]
                task.lead.rep = peer
                peer.submit(task)
        rep.own[:] = waiting  # the leaver's own admin, training and calls go with it
        self._owed[seat] = {}
        self.plans[seat] = {}

    def active_peers(self, rep: Worker) -> list[Worker]:
        """Reps in post in ``rep``'s region other than ``rep`` (or anywhere, if none)."""
        peers = [p for p in self.world.reps_by_region[rep.region] if p is not rep and not rep_state(p).vacant]
        return peers or [p for p in self.world.reps if p is not rep and not rep_state(p).vacant]

    def stand_in(self, rep: Worker) -> Worker:
        """Who does the work of a deal whose rep has left: the least loaded peer."""
        peers = self.active_peers(rep)
        return min(peers, key=lambda p: (len(p.own), p.index)) if peers else rep


_KIND = {"prospecting": PROSPECTING, "accounts": ACCOUNT, "training": TRAINING}


def _unless_vacant(pick: Callable[[Worker, float], Task | None], worker: Worker, now: float) -> Task | None:
    """An empty seat takes no work."""
    if rep_state(worker).vacant:
        return None
    return pick(worker, now)
