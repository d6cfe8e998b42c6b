"""One pure entry point: ``run(scenario, seed, replication) -> RunResult``."""

from __future__ import annotations

import os
import time

from salesboost.results import FUNNEL, RunResult
from salesboost.scenario import Scenario
from sim.eventlog import EventLogWriter
from sim.intake import Intake
from sim.streams import Streams
from sim.world import World


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
        env = world.env
        Intake(world).start()
        env.run(until=world.end)
        world.recorder.sample_until(world.end)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    rec = world.recorder
    horizon = scenario.horizon
    rep_hours = sum(len(pool.servers) for pool in world.pools.values()) * world.calendar.working_hours_between(
        horizon.warmup_days * 24.0, horizon.days * 24.0
    )
    metrics = rec.metrics(rep_hours)
    economics = scenario.economics
    metrics["team_cost"] = economics.team_cost(scenario.team, (horizon.days - horizon.warmup_days) / 7.0)
    metrics["gross_profit"] = metrics["revenue"] * economics.gross_margin - metrics["team_cost"]
    return RunResult(
        scenario=scenario,
        seed=seed,
        replication=replication,
        metrics=metrics,
        outcomes=rec.outcome_counts(),
        funnel=dict(zip(FUNNEL, rec.funnel, strict=True)),
        histograms=rec.histograms(),
        stages=rec.stage_stats(),
        leads_simulated=rec.leads_created,
        sim_end_hours=world.end,
        wall_seconds=time.perf_counter() - wall,
        cpu_seconds=time.process_time() - cpu,
    )
