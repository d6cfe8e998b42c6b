"""Simulation throughput and memory: leads per CPU-second of ``sim.run`` and peak memory by horizon.

Every measurement runs in a fresh process, so imports and caches of one do not flatter the
next. CPU time (not wall time) is the per-core figure on a shared machine; the script
reports medians with min and max, all measured in this one invocation.

    .venv/bin/python benchmarks/throughput.py            # full: 7 throughput runs, 4 horizons
    .venv/bin/python benchmarks/throughput.py --quick    # a smoke run

Target (issue #2): at least 60,000 leads per CPU-second on the legacy pipeline without the
event log, and memory that stays flat as the horizon grows.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGET_LEADS_PER_CPU_SECOND = 60_000

_CHILD = r"""
import json, resource, sys, time, tracemalloc
from experiments.compose import compose_config, scenario_sections
from salesboost import Scenario
import sim

pipeline, days, seed, trace = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
data = scenario_sections(compose_config([f"pipeline={pipeline}"]))
data["horizon"] = {"days": days, "warmup_days": 28.0, "drain_days": 60.0}
scenario = Scenario.from_dict(data)

rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
cpu, wall = time.process_time(), time.perf_counter()
result = sim.run(scenario, seed, 0)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
print(json.dumps({
    "pipeline": pipeline, "days": days, "leads": result.leads_simulated, "cpu_s": cpu, "wall_s": wall,
    "rss_before_mb": rss_before / 1024, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "traced_peak_mb": None if traced_peak is None else traced_peak / 2**20,
}))
"""


def _child(pipeline: str, days: float, seed: int, *, trace: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, pipeline, str(days), str(seed), "1" if trace else "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def throughput(pipeline: str, days: float, runs: int) -> dict[str, object]:
    """Leads per CPU-second over ``runs`` fresh processes (different seeds)."""
    rows = [_child(pipeline, days, seed, trace=False) for seed in range(1, runs + 1)]
    rates = [r["leads"] / r["cpu_s"] for r in rows]
    wall_rates = [r["leads"] / r["wall_s"] for r in rows]
    return {
        "pipeline": pipeline,
        "horizon_days": days,
        "runs": runs,
        "leads_per_run_median": statistics.median(r["leads"] for r in rows),
        "leads_per_cpu_s": {"median": statistics.median(rates), "min": min(rates), "max": max(rates)},
        "leads_per_wall_s_median": statistics.median(wall_rates),
    }


def memory(horizons: list[float]) -> list[dict[str, float]]:
    """Peak memory of one legacy run per horizon: Python allocations (tracemalloc) and process RSS."""
    rows = []
    for days in horizons:
        traced = _child("legacy", days, 1, trace=True)
        plain = _child("legacy", days, 1, trace=False)
        rows.append(
            {
                "horizon_days": days,
                "leads": traced["leads"],
                "traced_peak_mb": traced["traced_peak_mb"],
                "rss_peak_mb": plain["rss_peak_mb"],
                "rss_growth_mb": plain["rss_peak_mb"] - plain["rss_before_mb"],
            }
        )
    return rows


def main() -> None:
    """Measure, print a report and save it under benchmarks/results/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (a smoke test)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the throughput target is missed")
    args = parser.parse_args()
    runs, days = (3, 182.0) if args.quick else (7, 730.0)
    horizons = [91.0, 182.0, 365.0] if args.quick else [182.0, 365.0, 730.0, 1460.0]

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    legacy = throughput("legacy", days, runs)
    optimised = throughput("optimised", days, runs)
    mem = memory(horizons)
    report = {
        "started": started,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "target_leads_per_cpu_s": TARGET_LEADS_PER_CPU_SECOND,
        "throughput": [legacy, optimised],
        "memory": mem,
    }
    for row in (legacy, optimised):
        r = row["leads_per_cpu_s"]
        print(
            f"{row['pipeline']:<9} {row['horizon_days']:.0f} days, {row['runs']} runs, "
            f"{row['leads_per_run_median']:,.0f} leads/run: {r['median']:,.0f} leads/CPU-s "
            f"(min {r['min']:,.0f}, max {r['max']:,.0f}); wall median {row['leads_per_wall_s_median']:,.0f} leads/s"
        )
    print("\nhorizon_days      leads  traced_peak_MB  rss_peak_MB  rss_growth_MB")
    for row in mem:
        print(
            f"{row['horizon_days']:>12.0f} {row['leads']:>10,} {row['traced_peak_mb']:>15.2f} "
            f"{row['rss_peak_mb']:>12.1f} {row['rss_growth_mb']:>14.1f}"
        )
    growth = mem[-1]["traced_peak_mb"] / mem[0]["traced_peak_mb"]
    leads_growth = mem[-1]["leads"] / mem[0]["leads"]
    verdict = legacy["leads_per_cpu_s"]["median"] >= TARGET_LEADS_PER_CPU_SECOND
    print(
        f"\ntraced peak grows {growth:.2f}x while leads grow {leads_growth:.1f}x; "
        f"legacy throughput {'meets' if verdict else 'MISSES'} the {TARGET_LEADS_PER_CPU_SECOND:,} leads/CPU-s target"
    )
    report["memory_growth_ratio"] = growth
    report["meets_target"] = verdict
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"throughput-{started.replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"saved {path.relative_to(ROOT)}")
    if args.check and not verdict:
        sys.exit(1)


if __name__ == "__main__":
    main()
