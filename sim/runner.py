"""One pure entry point: ``run(scenario, seed, replication) -> RunResult``."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import time
from collections.abc import Iterator

from salesboost.panel import WORK_KINDS
from salesboost.results import FUNNEL, RunResult
from salesboost.scenario import Scenario
from sim.agents.incentive_desk import IncentiveDesk
from sim.agents.marketing import MarketingDesk, rep_cost_per_hour
from sim.agents.rep import meeting_hours
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.eventlog import EventLogWriter
from sim.flow import DealFlow
from sim.intake import Intake
from sim.rep_book import RepBook, effort_shares, empty_incentive_metrics
from sim.stages import running_cost
from sim.streams import Streams
from sim.tasks import ADMIN
from sim.world import World

_ABSENCE = "absence"


def run(
    scenario: Scenario,
    seed: int,
    replication: int = 0,
    *,
    event_log: str | os.PathLike[str] | None = None,
    label: str | None = None,
) -> RunResult:
    """Simulate ``scenario`` once and return its KPIs.

    ``seed`` and ``replication`` key every random stream, so two variants run with the
    same pair see the same leads (common random numbers). ``event_log`` names a ``.csv``
    (Prosimos keys) or ``.parquet`` (pm4py keys) file for the activity log, see
    :mod:`sim.eventlog`; without it nothing per-activity is kept. ``label`` is the variant's
    name in the log's ``variant`` column and case ids (default: the pipeline's name).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    writer = (
        EventLogWriter(
            event_log,
            start_date=scenario.calendar.start(),
            variant=label or scenario.pipeline.name,
            replication=replication,
        )
        if event_log is not None
        else None
    )
    world = World(scenario, Streams(seed, replication), writer)
    try:
        flow = DealFlow(world)
        intake = Intake(world, flow)
        flow.account_request = intake.account_request
        accounts = world.accounts

        def request(account: Account, t: float) -> None:  # a request that a touch made
            intake.account_request(account, t, accounts.touch_request_row(account), account.requests)

        desk = MarketingDesk(world, request, flow.schedule_requests)
        desk.start()
        if scenario.incentive.active:
            world.incentive = IncentiveDesk(world, request, intake.outbound)
            world.incentive.start()
        world.risk.request = lambda account, t, row: intake.account_request(account, t, row, account.requests)
        world.risk.schedule_requests = flow.schedule_requests
        world.risk.start()
        intake.start()
        flow.start_windows()
        world.start_days()
        with _quiet_collector():
            world.env.run(until=world.end)
        world.recorder.sample_until(world.end)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    rec = world.recorder
    horizon = scenario.horizon
    t0, t1 = horizon.warmup_days * HOURS_PER_DAY, horizon.days * HOURS_PER_DAY
    rep_hours, manager_hours = _availability(world, t0, t1)
    metrics = rec.metrics(rep_hours, manager_hours)
    economics = scenario.economics
    weeks = (horizon.days - horizon.warmup_days) / 7.0
    metrics["team_cost"] = economics.team_cost(scenario.team, weeks)
    metrics["running_cost"] = running_cost(scenario, weeks)  # a pilot's regions pay its pipeline from its start
    metrics.update(world.ledger.metrics(world.accounts.accounts, rep_cost_per_hour(world)))
    metrics["margin_after_outreach"] = metrics["gross_profit"] - metrics["outreach_cost"]
    metrics.update(world.incentive.book.metrics() if world.incentive is not None else empty_incentive_metrics())
    if world.incentive is None:  # without a rep book, count the accounts won from the account base
        won = world.accounts.accounts[world.accounts.initial_count :]
        metrics["new_customers"] = float(sum(1 for a in won if t0 <= a.first_order < t1))
    metrics.update(effort_shares(rec.work_hours["rep"]))
    metrics["playbook_cost"] = world.risk.cost(t0, t1)
    metrics["payout_share"] = metrics["payout_cost"] / metrics["revenue"] if metrics["revenue"] else math.nan
    metrics["net_profit"] = (
        metrics["margin_after_outreach"]
        - metrics["team_cost"]
        - metrics["running_cost"]
        - metrics["payout_cost"]
        - metrics["playbook_cost"]
    )
    return RunResult(
        scenario=scenario,
        seed=seed,
        replication=replication,
        metrics=metrics,
        outcomes=rec.outcome_counts(),
        funnel=dict(zip(FUNNEL, rec.funnel, strict=True)),
        histograms=rec.histograms(),
        stages=rec.stage_stats(),
        panels={
            **world.panel.tables(),
            **world.ledger.tables(),
            "reps": world.incentive.book.table() if world.incentive is not None else RepBook.empty_table(),
            "market": world.risk.table(),
        },
        leads_simulated=rec.leads_created,
        sim_end_hours=world.end,
        wall_seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )


@contextlib.contextmanager
def _quiet_collector() -> Iterator[None]:
    """Fewer cyclic garbage collections while the clock runs, and none over the long-lived world.

    The run allocates millions of short-lived objects; with the default thresholds the
    collector keeps re-scanning the scenario, the streams and the accounts (a fifth of the
    run's time). Freezing what exists before the run and collecting the young generation less
    often leaves what the collector finds unchanged; both are restored afterwards.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 20_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _availability(world: World, t0: float, t1: float) -> tuple[float, float]:
    """Reps' and managers' working hours in the cohort window, with meetings and absences in the panel.

    A person's base is the organisation's office hours less whole days away; internal
    meetings count as admin work. Evening approvals on mobile count as work against that
    same office-hours base.
    """
    organisation = world.calendar
    panel = world.panel
    bounds = panel.period_bounds()
    meetings = meeting_hours(world.scenario.team.rep_time)
    day_hours = sum(b - a for a, b in world.scenario.calendar.intervals())
    absence = panel_kind(_ABSENCE)
    admin = panel_kind("admin")
    rep_total = manager_total = 0.0
    people = [(rep, rep.state.days_off | rep.state.vacant_days, True) for rep in world.reps]  # type: ignore[attr-defined]
    people += [(m, _days_out(m, world), False) for m in world.managers]
    for clerk in world.clerks:
        for p, (a, b) in enumerate(bounds):
            panel.available(clerk.index, p, organisation.working_hours_between(a, b))
    for person, off, is_rep in people:
        for p, (a, b) in enumerate(bounds):
            office = organisation.working_hours_between(a, b)
            away = sum(day_hours for d in off if a <= d * HOURS_PER_DAY < b and organisation.is_workday(d))
            panel.available(person.index, p, office - away)
            if away:
                panel.work(a, person.index, absence, away)
            if is_rep and meetings:
                panel.work(a, person.index, admin, _meeting_days(person, off, a, b) * meetings)
        office = organisation.working_hours_between(t0, t1)
        away = sum(day_hours for d in off if t0 <= d * HOURS_PER_DAY < t1 and organisation.is_workday(d))
        if is_rep:
            rep_total += office - away
            if meetings:
                world.recorder.work_hours["rep"][ADMIN] += _meeting_days(person, off, t0, t1) * meetings
        else:
            manager_total += office - away
    return rep_total, manager_total


def _meeting_days(person: object, off: frozenset[int], start: float, end: float) -> int:
    """Working days of ``person`` in [start, end) on which the seat was filled and the person present."""
    calendar = person.calendar  # type: ignore[attr-defined]
    days = range(int(start // HOURS_PER_DAY), int(end // HOURS_PER_DAY))
    return sum(1 for d in days if d not in off and calendar.is_workday(d))


def _days_out(manager: object, world: World) -> frozenset[int]:
    calendar = manager.calendar  # type: ignore[attr-defined]
    return frozenset(d for d in range(world.days) if world.calendar.is_workday(d) and not calendar.is_workday(d))


def panel_kind(name: str) -> int:
    """The panel's index of work kind ``name``."""
    return WORK_KINDS.index(name)
