"""How much work and memory an experiment needs, estimated from its plan before anything runs.

The constants were measured on the development machine (2 cores, Python 3.11, Ray 2.60)
with ``sim.run`` on the default scenarios, 26 weeks plus the drain, and are deliberately
rounded up: the estimate is there to refuse a configuration that cannot fit, and to warn
about one that will take long, not to predict to the second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.app import Plan
    from salesboost.scenario import Scenario

#: CPU time per simulated lead: 8.8 to 12.8 us measured (legacy and optimised pipelines,
#: 240 and 24,000 leads a week, ``time.process_time`` around ``sim.run``); rounded up.
CPU_SECONDS_PER_LEAD = 15e-6
#: Resident memory per lead when every lead stays alive until the end, which is what an
#: overloaded pipeline does (reps or approvers never catch up): 560 bytes measured as the
#: growth of ``ru_maxrss`` over 249,000 leads; rounded up. A pipeline that keeps up holds
#: far fewer leads at once, so this bounds the memory from above.
BYTES_PER_LIVE_LEAD = 600
#: An idle Ray worker process with the model imported (``VmRSS``, about 100 MB measured).
WORKER_BASE_BYTES = 150 * 2**20
#: Ray's own processes on this machine (raylet, GCS, agents; about 230 MB for the agents alone).
RAY_BASE_BYTES = 500 * 2**20
#: What the driver keeps per replication (a RunResult pickles to about 8.4 kB; objects in
#: memory, MLflow steps and analysis tables take a few times that).
DRIVER_BYTES_PER_REPLICATION = 300_000  # a 26-week result with its monthly panel holds about 224 KB
DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Estimate:
    """The size of an experiment: simulations, leads, CPU time and peak memory."""

    replications: int  # simulations in total (variants x replications, plus sensitivity runs)
    leads: float  # leads simulated in total
    largest_replication_leads: float  # leads of the largest single simulation
    workers: int  # simulations running at once
    cpu_seconds: float
    wall_seconds: float  # on ``workers`` CPUs
    worker_bytes: float  # peak memory of one worker running the largest simulation
    peak_bytes: float  # workers, Ray and the driver together (local Ray)
    driver_bytes: float


def leads_per_replication(scenario: Scenario) -> float:
    """Leads one simulation generates: arrivals run through the horizon and the drain."""
    return scenario.market.leads_per_week * (scenario.horizon.days + scenario.horizon.drain_days) / DAYS_PER_WEEK


def estimate(plan: Plan, cpus: int | None = None) -> Estimate:
    """Estimate the work and memory of ``plan`` with ``cpus`` workers (default: what Ray will use)."""
    experiment = plan.experiment
    per_variant = experiment.replications
    if experiment.adaptive.enabled:
        per_variant = max(per_variant, experiment.adaptive.max_replications)
    leads = [leads_per_replication(v.scenario) for v in plan.variants]
    total_leads = sum(leads) * per_variant
    replications = per_variant * len(leads)
    sensitivity = experiment.sensitivity
    if sensitivity.enabled:
        # Each parameter at both ends of its range, for the chosen variant and the baseline.
        probes = len(sensitivity.parameters or plan.ranges) * 2 * 2
        replications += probes * sensitivity.replications
        total_leads += probes * sensitivity.replications * max(leads)
    workers = cpus or worker_count(plan)
    workers = max(1, min(workers, replications))
    cpu_seconds = total_leads * CPU_SECONDS_PER_LEAD
    worker_bytes = WORKER_BASE_BYTES + max(leads) * BYTES_PER_LIVE_LEAD
    driver_bytes = replications * DRIVER_BYTES_PER_REPLICATION
    return Estimate(
        replications=replications,
        leads=total_leads,
        largest_replication_leads=max(leads),
        workers=workers,
        cpu_seconds=cpu_seconds,
        wall_seconds=cpu_seconds / workers,
        worker_bytes=worker_bytes,
        peak_bytes=workers * worker_bytes + RAY_BASE_BYTES + driver_bytes,
        driver_bytes=driver_bytes,
    )


def worker_count(plan: Plan) -> int:
    """How many simulations run at once: ``ray.num_cpus`` or every CPU of this machine (local Ray)."""
    return plan.ray.num_cpus or os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory this machine can still give (``MemAvailable``), or None if unknown."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def human_bytes(value: float) -> str:
    """``value`` bytes as a short figure: ``1.5 GB``, ``640 MB``."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if value >= size:
            return f"{value / size:,.3g} {unit}" if value / size < 1000 else f"{value / size:,.0f} {unit}"
    return f"{value / 2**10:.0f} kB"


def human_seconds(value: float) -> str:
    """``value`` seconds as a short duration: ``40 s``, ``12 min``, ``3.5 h``, ``9 days``."""
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    if value < 3 * 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:,.0f} days"
