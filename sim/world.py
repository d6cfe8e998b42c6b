"""The world of one run: environment, streams, calendars, agents, accounts and desks.

Everything a process needs travels in this object; nothing is global, so any number of
runs can share a process (a Ray worker runs many).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from salesboost.pipeline import OnlineInbox
from salesboost.scenario import Scenario
from sim.agents.manager import away_days
from sim.agents.rep import RepState, ability, days_off, rep_streams, subtract
from sim.agents.worker import SharedQueue, Worker
from sim.calendar import HOURS_PER_DAY, Calendar
from sim.customers import AccountBase
from sim.decisions.approvals import ManagerState, pick_clerk_task, pick_manager_task
from sim.decisions.work import scenario_pipeline_value, work_policy
from sim.lead import Lead, RowSource, SequentialRows, categorical, share_bounds
from sim.levers import Levers
from sim.outreach_ledger import OutreachLedger
from sim.panel import PanelRecorder
from sim.recorder import ActivityLog, Recorder
from sim.stages import Stages
from sim.streams import Streams
from sim.tasks import ACCOUNT, ADMIN, DUTIES, TRAINING, Task


class World:
    """Builds and holds the parts of one simulated run."""

    def __init__(self, scenario: Scenario, streams: Streams, log: ActivityLog | None = None) -> None:
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        horizon = scenario.horizon
        self.end = (horizon.days + horizon.drain_days) * HOURS_PER_DAY
        self.days = int(self.end // HOURS_PER_DAY) + 2
        self.calendar = Calendar.from_config(scenario.calendar)
        self.levers = Levers()  # pilots, shocks and playbooks change parameters through these
        self.risk: Any = None  # the risk desk (sim.agents.risk_desk), set once the world is built
        self.panel = PanelRecorder(scenario.calendar.start(), self.end, scenario.kpi.panel_period)
        warmup, days = horizon.warmup_days * HOURS_PER_DAY, horizon.days * HOURS_PER_DAY
        self.ledger = OutreachLedger(
            self.panel.period_labels(), self.panel.period_starts(), self.panel.period_bounds(), (warmup, days)
        )
        self.recorder = Recorder(scenario, self.panel, log, streams.sampler_exponential("monitor.wip_samples"))
        self._order = itertools.count()
        self.stages = Stages(scenario.pipeline, streams)  # what the flow reads, per lead: lead.stages
        pilot = scenario.pilot
        self.pilot_stages: Stages | None = None  # the pilot regions' pipeline, for leads from its start
        self.pilot_regions = frozenset(pilot.regions)
        self.pilot_from = pilot.start_day(scenario.calendar.start()) * HOURS_PER_DAY
        if pilot.pipeline is not None and pilot.regions:
            self.pilot_stages = Stages(pilot.pipeline, streams, base=self.stages)
            if self.pilot_stages.batch_times == self.stages.batch_times:
                self.pilot_stages.batch = self.stages.batch  # one hand-out at the same times
        self.all_stages = (self.stages,) if self.pilot_stages is None else (self.stages, self.pilot_stages)
        self.countersign_hours = streams.sampler(
            "contract.countersign_hours", scenario.team.manager_time.countersign_hours
        )
        self.products = scenario.products
        self.region_bounds = share_bounds(scenario.market.regions)
        self.product_bounds = share_bounds({k: p.share for k, p in scenario.products.items()})
        self.prospects = {
            name: SequentialRows(
                RowSource(scenario, streams, f"lead.{name}", scenario.market.segments["new"].deal_size)
            )
            for name, channel in scenario.market.channels.items()
            if channel.share > 0
        }
        self._build_reps()
        self._build_managers()
        self._build_clerks()
        self.incentive: Any = None  # the incentive desk (sim.agents.incentive_desk) when a scheme runs
        self.accounts = AccountBase(scenario, streams, self.reps_by_region, self.end)
        for account in self.accounts.accounts:
            account.owner.state.accounts += 1
            account.owner.state.owned.append(account)
        from sim.agents.risk_desk import RiskDesk  # noqa: PLC0415 - it imports this module's neighbours

        self.risk = RiskDesk(self)
        self.accounts.levers = self.levers
        self.accounts.core_ids = self.risk.core_ids

    def product_for(self, u: float, t: float) -> str:
        """The product of a new lead with uniform ``u`` at ``t`` (a playbook may move leads to product B)."""
        shift = self.levers.shift("product_b", t)
        if shift <= 0:
            return categorical(u, *self.product_bounds)
        shares = {k: p.share for k, p in self.products.items()}
        moved = min(shift, shares["A"])
        shares["A"] -= moved
        shares["B"] += moved
        return categorical(u, *share_bounds(shares))

    # -- construction -----------------------------------------------------------------------
    def next_order(self) -> int:
        """The next task sequence number (FIFO order across the run)."""
        return next(self._order)

    def task(
        self, kind: int, hours: float, lead: Lead | None, done: Callable[[Task, float], None] | None, since: float
    ) -> Task:
        """A new task."""
        return Task(kind, hours, lead, done, since=since, order=next(self._order))

    def _calendar(self, intervals: tuple[tuple[float, float], ...] | None, off: frozenset[int]) -> Calendar:
        return Calendar.from_config(self.scenario.calendar, intervals=intervals, extra_holidays=off)

    def _build_reps(self) -> None:
        scenario = self.scenario
        team = scenario.team
        rep_time = team.rep_time
        market = scenario.market
        value = scenario_pipeline_value(scenario)
        pick = work_policy(team.work_policy.policy(), value)
        pooled = any(stages.pooled for stages in self.all_stages)  # a region's pool, for the leads of either pipeline
        office = scenario.calendar.intervals()
        intervals = subtract(office, rep_time.meeting_intervals)
        self.pools: dict[str, SharedQueue] = {}
        self.reps_by_region: dict[str, list[Worker]] = {}
        self.reps: list[Worker] = []
        self.rep_daily: dict[str, np.random.Generator] = {}
        for region, count in team.reps.items():
            if count <= 0:
                continue
            pool = SharedQueue()
            self.pools[region] = pool
            members = self.reps_by_region[region] = []
            for i in range(count):
                name = f"rep_{region}_{i + 1}"
                rng_ability, rng_sick, rng_leave, rng_daily = rep_streams(self.streams, name)
                self.rep_daily[name] = rng_daily
                off = days_off(rep_time, self.calendar, rng_sick, rng_leave, self.days)
                rep = Worker(
                    self.env,
                    name,
                    role="rep",
                    region=region,
                    calendar=self._calendar(intervals, off),
                    pick=pick,
                    on_work=self.recorder.on_work,
                    on_skip=self.recorder.on_skip,
                    speed=1.0 / ability(rep_time.ability_cv, rng_ability),
                    shared=(pool,) if pooled else (),
                )
                rep.state = RepState(1.0 / rep.speed, off)
                rep.index = self.panel.worker(name, "rep", region)
                members.append(rep)
                self.reps.append(rep)
        self.service_hours = {
            rep.name: self.streams.sampler(f"rep.{rep.name}.service_hours", scenario.accounts.service_task_hours)
            for rep in self.reps
        }
        self.channel_qualify = {name: c.qualify_prob for name, c in market.channels.items()}

    def _build_managers(self) -> None:
        """Managers on the base pipeline's calendar, serving the requests of every pipeline.

        The calendar (online hours, days answered on mobile) is the scenario's pipeline's; with
        a pilot pipeline of the other kind, its requests are served in that same calendar. Both
        kinds share one queue; each request's lead says its kind (:mod:`sim.decisions.approvals`).
        """
        scenario = self.scenario
        team = scenario.team
        approval = scenario.pipeline.approval.mechanism
        kinds = {stages.online for stages in self.all_stages}
        online = isinstance(approval, OnlineInbox)
        reachable = approval.away_reachable_prob if isinstance(approval, OnlineInbox) else 0.0
        self.approvals = SharedQueue()
        self.signing = SharedQueue()
        self.managers: list[Worker] = []
        self.manager_mobile_days: list[frozenset[int]] = []
        for m in range(team.managers):
            name = f"manager_{m + 1}"
            out, mobile = away_days(
                self.calendar,
                away_prob=team.manager_away_prob,
                rng_away=self.streams.generator(f"team.manager_away.{m}"),
                rng_reachable=self.streams.generator(f"team.manager_reachable.{m}"),
                reachable_prob=reachable,
                days=self.days,
            )
            if not online:
                out, mobile = out | mobile, frozenset()
            intervals = approval.hours if isinstance(approval, OnlineInbox) else None
            manager = Worker(
                self.env,
                name,
                role="manager",
                region="all",
                calendar=self._calendar(intervals, out),
                pick=pick_manager_task,
                on_work=self.recorder.on_work,
                on_skip=self.recorder.on_skip,
                shared=(self.approvals, self.signing),
            )
            manager.state = ManagerState(online=kinds == {True}, mixed=len(kinds) > 1)
            manager.index = self.panel.worker(name, "manager", "all")
            self.managers.append(manager)
            self.manager_mobile_days.append(mobile)
        windows = next((stages.windows for stages in self.all_stages if stages.windows is not None), None)
        self.window_times = windows.times if windows is not None else ()  # the same in both (Scenario checks)
        self.window_budget = windows.budget_hours if windows is not None else 0.0

    def _build_clerks(self) -> None:
        self.entry_queue = SharedQueue()
        self.clerks: list[Worker] = []
        if all(stages.erp_times is None for stages in self.all_stages):
            return
        for i in range(self.scenario.team.sales_ops):
            name = f"sales_ops_{i + 1}"
            clerk = Worker(
                self.env,
                name,
                role="sales_ops",
                region="all",
                calendar=self.calendar,
                pick=pick_clerk_task,
                on_work=self.recorder.on_work,
                shared=(self.entry_queue,),
            )
            clerk.index = self.panel.worker(name, "sales_ops", "all")
            self.clerks.append(clerk)

    # -- the day's own work ------------------------------------------------------------------
    def start_days(self) -> None:
        """Plan each working day's own work at its first working instant: one event a day."""
        self._plan_day(0)

    def _plan_day(self, day: int) -> None:
        start = self.calendar.next_working_instant(day * HOURS_PER_DAY)
        if start >= self.end:
            return
        day = int(start // HOURS_PER_DAY)
        self.env.timeout(start - self.env.now).callbacks.append(lambda _e: self._day(day))

    def _day(self, day: int) -> None:
        now = self.env.now
        scenario = self.scenario
        rep_time = scenario.team.rep_time
        accounts = scenario.accounts
        office_hours = sum(b - a for a, b in scenario.calendar.intervals())
        date = scenario.calendar.start() + dt.timedelta(days=day)
        weekday = date.weekday()
        month = date.year * 12 + date.month - 1
        service_per_day = accounts.service_hours_per_month * 12.0 / 250.0
        mean_task = accounts.service_task_hours.expected
        expires = (day + 1) * HOURS_PER_DAY
        incentive = self.incentive
        for rep in self.reps:
            if not rep.calendar.is_workday(day):
                continue
            state = rep.state
            assert isinstance(state, RepState)
            if state.vacant:
                continue
            planned: list[Task] = []
            if incentive is not None:
                extra, exclusive = incentive.day(rep, day, now, expires)
                if exclusive:  # a new hire's classroom day: nothing else
                    rep.own.extend(extra)
                    rep.wake()
                    continue
                planned += extra
            chunks = round(rep_time.admin_hours_per_day / rep_time.admin_chunk_hours)
            planned += [self.task(ADMIN, rep_time.admin_chunk_hours, None, None, now) for _ in range(chunks)]
            if weekday == rep_time.training_day and rep_time.training_hours_per_week > 0:
                planned.append(self.task(TRAINING, rep_time.training_hours_per_week, None, None, now))
            state.start_period(month)
            expected = state.accounts * service_per_day / mean_task if mean_task > 0 else 0.0
            count = int(self.rep_daily[rep.name].poisson(expected))
            planned += [self.task(ACCOUNT, self.service_hours[rep.name](), None, None, now) for _ in range(count)]
            for task in planned:
                task.expires = expires
            rep.own.extend(planned)
            rep.wake()
        duties = scenario.team.manager_time
        for manager, mobile in zip(self.managers, self.manager_mobile_days, strict=True):
            if not self.calendar.is_workday(day) or not manager.calendar.is_workday(day) or day in mobile:
                continue
            blocks = round(duties.duties_share * office_hours / duties.duty_chunk_hours)
            for _ in range(blocks):
                task = self.task(DUTIES, duties.duty_chunk_hours, None, None, now)
                task.expires = expires
                manager.own.append(task)
            manager.wake()
        self._plan_day(day + 1)
