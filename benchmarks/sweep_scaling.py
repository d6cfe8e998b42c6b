"""Sweep scaling: parallel efficiency of a 16-variant x 10-replication sweep on Ray, and the
share of its wall time spent writing to MLflow.

    .venv/bin/python benchmarks/sweep_scaling.py           # 3 repeats of each measurement
    .venv/bin/python benchmarks/sweep_scaling.py --quick   # 1 repeat

The sweep is the grid of ``experiment=approval_capacity`` (4 managers x 4 escalation
thresholds, optimised pipeline, default 26-week horizon). Serial: the same 160 replications
one after another in this process. Parallel: the same tasks on a local Ray with 2 CPUs,
started and warmed up before the clock starts (its start-up is a fixed cost, reported
apart). Efficiency = serial time / (2 x parallel time). MLflow: full invocations
(``experiments.app.execute``: sweep, child runs written as variants finish, analysis, plots,
parent run) with and without tracking, against a SQLite store created beforehand; the cost
of recording is the difference of their wall times (child runs are written by a background
thread while simulations run), and the time inside MLflow calls is reported beside it.
No result store is used, so every replication is computed.

Targets (issue #3): efficiency >= 85%, MLflow <= 10% of the invocation's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

from experiments.app import execute, plan  # noqa: E402
from experiments.compose import compose_config  # noqa: E402
from experiments.config import AdaptiveConfig, RayConfig  # noqa: E402
from experiments.parallel import LocalExecutor, RayExecutor, ensure_ray  # noqa: E402
from experiments.scheduler import Sweep  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OVERRIDES = [
    "experiment=approval_capacity",
    "~experiment.variants.legacy",
    "experiment.baseline='managers=2,escalate_after_hours=1.5'",
    "experiment.replications=10",
    "experiment.cache=false",
]


def _plan(*extra: str):
    overrides = [*OVERRIDES, *extra]
    return plan(compose_config(overrides), overrides)


def _sweep_seconds(sweep_plan, executor) -> float:
    start = time.perf_counter()
    Sweep(
        sweep_plan.variants,
        seed=sweep_plan.experiment.seed,
        replications=sweep_plan.experiment.replications,
        adaptive=AdaptiveConfig(),
        executor=executor,
        store=None,
    ).run()
    return time.perf_counter() - start


class _Timed:
    """Sums the wall time spent inside the methods it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)
        timer = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - start

        setattr(owner, name, timed)


def main() -> None:
    """Measure, print and save the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat instead of three")
    repeats = 1 if parser.parse_args().quick else 3

    sweep_plan = _plan("tracking.enabled=false")
    assert len(sweep_plan.variants) == 16, len(sweep_plan.variants)
    tasks = len(sweep_plan.variants) * sweep_plan.experiment.replications

    started = time.perf_counter()
    ensure_ray(RayConfig(num_cpus=2))
    ray_start = time.perf_counter() - started
    warm = _plan("tracking.enabled=false", "experiment.replications=2", "horizon.days=14", "horizon.warmup_days=7")
    _sweep_seconds(warm, RayExecutor())  # workers import the model once, before timing

    serial, parallel = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        serial.append(_sweep_seconds(sweep_plan, LocalExecutor()))
        parallel.append(_sweep_seconds(sweep_plan, RayExecutor()))
    efficiency = [s / (2 * p) for s, p in zip(serial, parallel, strict=True)]

    from experiments.tracking import SweepRecorder, open_tracker

    timer = _Timed()
    for method in ("open", "_write", "finish"):
        timer.wrap(SweepRecorder, method)
    overheads, tracked_walls, plain_walls, mlflow_seconds = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, Path(os.devnull).open("w") as quiet:
        for i in range(repeats):
            plain = _plan("tracking.enabled=false")
            start = time.perf_counter()
            execute(plain, Path(tmp) / f"plain-{i}", stream=quiet)
            plain_walls.append(time.perf_counter() - start)

            tracked = _plan(f"tracking.uri=sqlite:///{tmp}/mlflow-{i}.db")
            open_tracker(tracked.tracking, tracked.experiment.name)  # the database exists, as for a returning user
            timer.seconds = 0.0
            start = time.perf_counter()
            execute(tracked, Path(tmp) / f"tracked-{i}", stream=quiet)
            tracked_walls.append(time.perf_counter() - start)
            mlflow_seconds.append(timer.seconds)
            overheads.append((tracked_walls[-1] - plain_walls[-1]) / tracked_walls[-1])

    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "tasks": tasks,
        "repeats": repeats,
        "ray_start_seconds": ray_start,
        "serial_seconds": serial,
        "parallel_seconds": parallel,
        "efficiency": efficiency,
        "invocation_seconds_untracked": plain_walls,
        "invocation_seconds_tracked": tracked_walls,
        "mlflow_call_seconds": mlflow_seconds,
        "mlflow_overhead_share": overheads,
    }
    med = statistics.median
    print(f"sweep: 16 variants x 10 replications = {tasks} simulations; {repeats} repeat(s), medians:")
    print(f"  serial in-process   {med(serial):6.1f} s  ({med(serial) / tasks * 1000:.0f} ms per simulation)")
    print(f"  Ray, 2 CPUs         {med(parallel):6.1f} s  (Ray start-up, not counted: {ray_start:.1f} s)")
    print(
        f"  parallel efficiency {med(efficiency):6.1%}  (target >= 85%; per repeat: "
        + ", ".join(f"{e:.1%}" for e in efficiency)
        + ")"
    )
    print(
        f"  full invocation     {med(tracked_walls):6.1f} s with MLflow, {med(plain_walls):.1f} s without: "
        f"recording costs {med(overheads):.1%} of the wall time (target <= 10%; per repeat: "
        + ", ".join(f"{o:.1%}" for o in overheads)
        + f"); {med(mlflow_seconds):.2f} s inside MLflow calls, mostly overlapped with the simulations"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"sweep-{report['started'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
