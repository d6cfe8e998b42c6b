"""Simulation throughput against the reference SimPy engines, and peak memory by horizon.

Every measurement runs in a fresh process, so imports and caches of one do not flatter the
next. The engines alternate round by round (legacy, optimised, simpy_basic, simpy_opt,
[legacy and optimised of ``--compare-ref``], then again), so all of them see the same machine
load; CPU time (not wall time) is the per-core figure on a shared machine. The report gives
medians with min and max over the rounds, the ratios of the medians, and the ratio within each
round (min, median, max), all measured in this one invocation.

    .venv/bin/python benchmarks/throughput.py                      # 5 rounds, 2-year runs, 4 horizons
    .venv/bin/python benchmarks/throughput.py --json               # one JSON object on stdout
    .venv/bin/python benchmarks/throughput.py --compare-ref 2d075e0  # the engine of that commit beside it
    .venv/bin/python benchmarks/throughput.py --quick              # a smoke run

The reference engines are ``../shared/bench`` (workload W2, six stages: ``simpy_basic`` is
textbook SimPy, ``simpy_opt`` hand-optimised SimPy), run there with this interpreter.

Target (issue 7): the legacy pipeline with all agents at least 1.5 x ``simpy_basic`` in leads
per CPU-second, and memory flat in the horizon.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trees import git, worktree

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BENCH = ROOT.parent / "shared" / "bench"
TARGET_VS_SIMPY_BASIC = 1.5
TARGET_TEXT = "legacy (all agents) >= 1.5 x simpy_basic leads per CPU-second"
REFERENCE_ENGINES = ("simpy_basic", "simpy_opt")

# Runs one sim.run in a fresh interpreter whose sys.path starts with the tree under test
# (the working tree or a worktree of another commit; the venv's editable install points at
# the working tree, so the tree must come first) and prints one JSON line.
_CHILD = r"""
import json, resource, sys, time, tracemalloc
root, pipeline, days, seed, trace = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
sys.path.insert(0, root)
from experiments.compose import compose_config, scenario_of
import sim

if not sim.__file__.startswith(root):
    raise SystemExit(f"sim imported from {sim.__file__}, not from {root}")
overrides = [f"pipeline={pipeline}", f"horizon.days={days}", "horizon.warmup_days=28", "horizon.drain_days=60"]
scenario = scenario_of(compose_config(overrides))
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


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(cmd: list[str], cwd: Path) -> str:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"benchmark child failed in {cwd}: {' '.join(cmd[:2])} ... -> {tail}")
    return out.stdout


def sim_child(root: Path, pipeline: str, days: float, seed: int, *, trace: bool = False) -> dict[str, Any]:
    """One ``sim.run`` of the tree at ``root`` in a fresh process."""
    cmd = [sys.executable, "-c", _CHILD, str(root), pipeline, str(days), str(seed), "1" if trace else "0"]
    row = json.loads(_run(cmd, root).strip().splitlines()[-1])
    row["leads_per_cpu_s"] = row["leads"] / row["cpu_s"]
    return row


def reference_child(engine: str, leads: int, seed: int) -> dict[str, Any]:
    """One run of a reference engine of ``../shared/bench`` (workload W2) in a fresh process."""
    out = _run([sys.executable, "run_one.py", "W2", engine, str(leads), str(seed)], BENCH)
    line = next(x for x in reversed(out.splitlines()) if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return {"leads": data["n"], "cpu_s": data["c_model"], "leads_per_cpu_s": data["cust_per_cpu_s"]}


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(tasks: dict[str, Callable[[int], dict[str, Any]]], rounds: int) -> dict[str, list[dict[str, Any]]]:
    """Run every task once per round, in order, round after round (A B C D A B C D ...)."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tasks}
    for r in range(rounds):
        for name, task in tasks.items():
            row = task(r + 1)
            rows[name].append(row)
            _log(f"round {r + 1}/{rounds} {name:<22} {row['leads']:>7,} leads {row['leads_per_cpu_s']:>9,.0f}/CPU-s")
    return rows


def memory(root: Path, horizons: list[float], label: str) -> list[dict[str, Any]]:
    """Peak memory of one legacy run per horizon: Python allocations (tracemalloc) and process RSS."""
    rows = []
    for days in horizons:
        traced = sim_child(root, "legacy", days, 1, trace=True)
        plain = sim_child(root, "legacy", days, 1)
        rows.append(
            {
                "horizon_days": days,
                "leads": traced["leads"],
                "traced_peak_mb": traced["traced_peak_mb"],
                "rss_peak_mb": plain["rss_peak_mb"],
                "rss_growth_mb": plain["rss_peak_mb"] - plain["rss_before_mb"],
            }
        )
        _log(f"memory {label}: {days:.0f} days, {traced['leads']:,} leads, {traced['traced_peak_mb']:.2f} MB traced")
    return rows


def _human(report: dict[str, Any]) -> str:
    lines = [
        f"{report['horizon_days']:.0f}-day runs (+60 days drain), {report['rounds']} rounds alternating in fresh "
        f"processes; reference engines W2 with {report['reference_leads']:,} leads; leads per CPU-second:"
    ]
    for name, row in report["engines"].items():
        r = row["leads_per_cpu_s"]
        lines.append(
            f"  {name:<22} {r['median']:>9,.0f} (min {r['min']:,.0f}, max {r['max']:,.0f}), "
            f"{row['leads_per_run_median']:,.0f} leads/run"
        )
    lines.append("ratios of medians (per-round min..max):")
    for key, value in report["ratios"].items():
        rr = report["ratios_per_round"][key]
        lines.append(f"  {key:<34} {value:5.2f}  ({rr['min']:.2f}..{rr['max']:.2f})")
    for label, mem in report["memory"].items():
        lines.append(f"\nmemory, legacy, {label}:")
        lines.append("  horizon_days      leads  traced_peak_MB  rss_peak_MB  rss_growth_MB")
        lines.extend(
            f"  {row['horizon_days']:>12.0f} {row['leads']:>10,} {row['traced_peak_mb']:>15.2f} "
            f"{row['rss_peak_mb']:>12.1f} {row['rss_growth_mb']:>14.1f}"
            for row in mem["rows"]
        )
        lines.append(f"  traced peak grows {mem['traced_growth']:.2f}x while leads grow {mem['leads_growth']:.1f}x")
    verdict = "meets" if report["meets_target"] else "MISSES"
    lines.append(
        f"\ntarget: {report['target']}: legacy_vs_simpy_basic = {report['legacy_vs_simpy_basic']:.2f} -> {verdict} it"
    )
    return "\n".join(lines)


def main() -> None:
    """Measure, print a report (text, or one JSON object with --json) and save it under benchmarks/results/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of short runs, 2 horizons (a smoke test)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress on stderr)")
    parser.add_argument("--compare-ref", metavar="REF", help="also measure the engine of this git commit, side by side")
    parser.add_argument("--ref", metavar="REF", help="measure this git commit instead of the working tree")
    parser.add_argument("--rounds", type=int, help="rounds of alternating runs (default 5; --quick 2)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the throughput target is missed")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON files")
    args = parser.parse_args()
    if not (BENCH / "run_one.py").is_file():
        raise SystemExit(f"reference engines not found: {BENCH}/run_one.py (expected ../shared/bench beside the repo)")
    if args.ref and args.ref == args.compare_ref:
        raise SystemExit(f"--ref and --compare-ref are both {args.ref}: compare two different commits")
    rounds = args.rounds or (2 if args.quick else 5)
    if rounds < 1:
        raise SystemExit(f"--rounds {rounds}: must be at least 1")
    days, ref_leads = (91.0, 5_000) if args.quick else (730.0, 30_000)
    horizons = [91.0, 182.0] if args.quick else [182.0, 365.0, 730.0, 1460.0]

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    with contextlib.ExitStack() as stack:
        trees = {"": stack.enter_context(worktree(args.ref, "--ref")) if args.ref else ROOT}
        if args.compare_ref:
            trees["compare_"] = stack.enter_context(worktree(args.compare_ref))
            _log(f"worktree of {args.compare_ref} at {trees['compare_']}")
        tasks: dict[str, Callable[[int], dict[str, Any]]] = {}
        for prefix, root in trees.items():
            for pipeline in ("legacy", "optimised"):
                tasks[prefix + pipeline] = lambda seed, r=root, p=pipeline: sim_child(r, p, days, seed)
            if not prefix:
                for engine in REFERENCE_ENGINES:
                    tasks[engine] = lambda seed, engine=engine: reference_child(engine, ref_leads, seed)
        rows = measure(tasks, rounds)
        labels = {"": args.ref or "working tree", "compare_": args.compare_ref}
        mem = {labels[prefix]: memory(root, horizons, labels[prefix]) for prefix, root in trees.items()}

    engines = {
        name: {
            "runs": len(rs),
            "leads_per_run_median": statistics.median(r["leads"] for r in rs),
            "leads_per_cpu_s": _spread([r["leads_per_cpu_s"] for r in rs]),
            "cpu_s": _spread([r["cpu_s"] for r in rs]),
        }
        for name, rs in rows.items()
    }
    report: dict[str, Any] = {
        "started": started,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured": args.ref or "working tree",
        "commit": git("rev-parse", "--short", f"{args.ref or 'HEAD'}^{{commit}}"),
        "tree_dirty": False if args.ref else bool(git("status", "--porcelain", "--", "sim", "salesboost", "conf")),
        "compare_ref": args.compare_ref,
        "quick": args.quick,
        "rounds": rounds,
        "horizon_days": days,
        "reference_leads": ref_leads,
        "target": TARGET_TEXT,
        "target_vs_simpy_basic": TARGET_VS_SIMPY_BASIC,
    }
    for name, row in engines.items():
        key = f"reference_{name}_per_cpu_s" if name in REFERENCE_ENGINES else f"{name}_leads_per_cpu_s"
        spread = row["leads_per_cpu_s"]
        report[key] = spread["median"]
        report[f"{key}_min"] = spread["min"]
        report[f"{key}_max"] = spread["max"]
    pairs = [(p, e) for p in ("legacy", "optimised") for e in REFERENCE_ENGINES]
    if args.compare_ref:
        pairs += [(f"compare_{p}", e) for p in ("legacy", "optimised") for e in REFERENCE_ENGINES]
        pairs += [(p, f"compare_{p}") for p in ("legacy", "optimised")]
    ratios, per_round = {}, {}
    for a, b in pairs:
        key = f"{a}_vs_{b}"
        ratios[key] = engines[a]["leads_per_cpu_s"]["median"] / engines[b]["leads_per_cpu_s"]["median"]
        per_round[key] = _spread(
            [x["leads_per_cpu_s"] / y["leads_per_cpu_s"] for x, y in zip(rows[a], rows[b], strict=True)]
        )
    report.update(ratios)
    report["ratios"] = ratios
    report["ratios_per_round"] = per_round
    report["meets_target"] = ratios["legacy_vs_simpy_basic"] >= TARGET_VS_SIMPY_BASIC
    report["memory"] = {
        label: {
            "rows": m,
            "traced_growth": m[-1]["traced_peak_mb"] / m[0]["traced_peak_mb"],
            "leads_growth": m[-1]["leads"] / m[0]["leads"],
        }
        for label, m in mem.items()
    }
    report["memory_growth_ratio"] = report["memory"][args.ref or "working tree"]["traced_growth"]
    report["engines"] = engines
    report["runs"] = rows

    args.results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2)
    (args.results / "throughput.json").write_text(text)
    (args.results / f"throughput-{started.replace(':', '')}.json").write_text(text)
    if args.json:
        print(json.dumps(report))
    else:
        print(_human(report))
        print(f"saved {args.results / 'throughput.json'}")
    if args.check and not report["meets_target"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
