"""Variance reduction by common random numbers: optimised minus legacy, paired versus independent.

For replications r = 0..R-1 the script runs legacy with ``(seed, r)``, optimised with the same
``(seed, r)`` (common random numbers: the same leads, the same luck) and optimised with
``(seed + 1, r)`` (independent streams). For each KPI it compares the paired differences
``optimised(seed, r) - legacy(seed, r)`` with the independent ones ``optimised(seed + 1, r) -
legacy(seed, r)``: the variance reduction factor var(independent) / var(paired) with a
bootstrap 95% interval (replications resampled); the same factor estimated from the two
variants' own variances, (var(legacy) + var(optimised)) / var(paired), which needs no third
run and is less noisy; the correlation of the two variants under
CRN, and the 95% t half-widths of the mean difference either way.

    .venv/bin/python benchmarks/crn.py            # 30 replications of the default 26-week horizon
    .venv/bin/python benchmarks/crn.py --json     # one JSON object on stdout (progress on stderr)
    .venv/bin/python benchmarks/crn.py --quick    # 6 replications of 8 weeks (a smoke run)

Runs in-process (``sim.run`` directly), on 2 worker processes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats
from trees import git, worktree

if TYPE_CHECKING:
    from salesboost.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
# The tree under test comes first on sys.path (a worktree of --ref, re-run in a child process);
# the model is imported only after that, so a broken working tree cannot spoil a --ref run.
TREE = Path(os.environ.get("SALESBOOST_BENCH_TREE", str(ROOT)))
sys.path.insert(0, str(TREE))
RESULTS = ROOT / "benchmarks" / "results"
KPIS = ("revenue", "orders", "win_rate")
BOOTSTRAP = 4000


def scenario(pipeline: str, days: float) -> Scenario:
    """The default scenario with ``pipeline`` over a horizon of ``days`` (warm-up 28, drain 60)."""
    from experiments.compose import compose_config, scenario_of

    overrides = [f"pipeline={pipeline}", f"horizon.days={days}", "horizon.warmup_days=28", "horizon.drain_days=60"]
    return scenario_of(compose_config(overrides))


def one_run(job: tuple[str, Scenario, int, int]) -> tuple[str, int, dict[str, float]]:
    """Run one replication; return its role, replication and the KPIs of interest."""
    import sim

    role, sc, seed, replication = job
    result = sim.run(sc, seed, replication)
    return role, replication, {k: float(result.metrics[k]) for k in KPIS}


def _interval(ratios: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(ratios[np.isfinite(ratios)], [0.025, 0.975])
    return float(low), float(high)


def bootstrap_ratios(
    legacy: np.ndarray, optimised: np.ndarray, independent: np.ndarray, rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    """Percentile 95% intervals of both variance ratios, resampling replications jointly."""
    n = len(legacy)
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    leg, opt, ind = legacy[idx], optimised[idx], independent[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        var_p = (opt - leg).var(axis=1, ddof=1)
        observed = (ind - leg).var(axis=1, ddof=1) / var_p
        marginal = (leg.var(axis=1, ddof=1) + opt.var(axis=1, ddof=1)) / var_p
    return {"observed": _interval(observed), "marginal": _interval(marginal)}


def analyse(
    legacy: np.ndarray, optimised: np.ndarray, independent: np.ndarray, rng: np.random.Generator
) -> dict[str, float]:
    """Variance reduction and half-widths of one KPI's mean difference."""
    n = len(legacy)
    paired, indep = optimised - legacy, independent - legacy
    var_p, var_i = float(paired.var(ddof=1)), float(indep.var(ddof=1))
    t = float(stats.t.ppf(0.975, n - 1))
    var_marginal = float(legacy.var(ddof=1) + optimised.var(ddof=1))
    boot = bootstrap_ratios(legacy, optimised, independent, rng)
    return {
        "legacy_mean": float(legacy.mean()),
        "optimised_mean": float(optimised.mean()),
        "diff_paired_mean": float(paired.mean()),
        "diff_independent_mean": float(indep.mean()),
        "var_paired": var_p,
        "var_independent": var_i,
        "variance_reduction": var_i / var_p if var_p > 0 else math.inf,
        "variance_reduction_low": boot["observed"][0],
        "variance_reduction_high": boot["observed"][1],
        "variance_reduction_marginal": var_marginal / var_p if var_p > 0 else math.inf,
        "variance_reduction_marginal_low": boot["marginal"][0],
        "variance_reduction_marginal_high": boot["marginal"][1],
        "correlation_crn": float(np.corrcoef(legacy, optimised)[0, 1]),
        "correlation_independent": float(np.corrcoef(legacy, independent)[0, 1]),
        "half_width_paired": t * math.sqrt(var_p / n),
        "half_width_independent": t * math.sqrt(var_i / n),
    }


def main() -> None:
    """Run the replications, print the report (text or JSON) and save it under benchmarks/results/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 replications of 56 days (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress on stderr)")
    parser.add_argument("--replications", type=int, help="replications (default 30; --quick 6)")
    parser.add_argument("--days", type=float, help="horizon in days (default 182; --quick 56)")
    parser.add_argument("--seed", type=int, default=20240101, help="root seed of the paired runs")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--ref", metavar="REF", help="measure this git commit instead of the working tree")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON files")
    args = parser.parse_args()
    if args.ref and "SALESBOOST_BENCH_TREE" not in os.environ:
        with worktree(args.ref, "--ref") as path:
            env = {**os.environ, "SALESBOOST_BENCH_TREE": str(path)}
            sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env, check=False).returncode)
    import sim

    if not sim.__file__ or not sim.__file__.startswith(str(TREE)):
        raise SystemExit(f"sim imported from {sim.__file__}, not from {TREE}")
    reps = args.replications or (6 if args.quick else 30)
    days = args.days or (56.0 if args.quick else 182.0)
    if reps < 3:
        raise SystemExit(f"--replications {reps}: need at least 3")

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    legacy, optimised = scenario("legacy", days), scenario("optimised", days)
    jobs = [
        job
        for r in range(reps)
        for job in (
            ("legacy", legacy, args.seed, r),
            ("optimised", optimised, args.seed, r),
            ("independent", optimised, args.seed + 1, r),
        )
    ]
    values: dict[str, dict[int, dict[str, float]]] = {"legacy": {}, "optimised": {}, "independent": {}}
    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for done, (role, r, kpis) in enumerate(pool.map(one_run, jobs, chunksize=3), start=1):
            values[role][r] = kpis
            if done % 15 == 0 or done == len(jobs):
                print(f"{done}/{len(jobs)} runs", file=sys.stderr, flush=True)
    wall = time.perf_counter() - wall

    rng = np.random.default_rng(7)
    metrics = {
        kpi: analyse(*(np.array([values[role][r][kpi] for r in range(reps)]) for role in values), rng=rng)
        for kpi in KPIS
    }
    report: dict[str, Any] = {
        "started": started,
        "measured": args.ref or "working tree",
        "commit": git("rev-parse", "--short", f"{args.ref or 'HEAD'}^{{commit}}"),
        "replications": reps,
        "horizon_days": days,
        "seed": args.seed,
        "independent_seed": args.seed + 1,
        "bootstrap_resamples": BOOTSTRAP,
        "wall_seconds": wall,
        "metrics": metrics,
    }
    for kpi, m in metrics.items():
        for key in m:
            if key.startswith("variance_reduction"):
                report[f"{kpi}_{key}"] = m[key]

    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "crn.json").write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"optimised - legacy, {reps} replications of {days:.0f} days (seed {args.seed}; independent: "
        f"optimised with seed {args.seed + 1}); 95% intervals"
    )
    print(
        f"{'kpi':<9} {'mean diff (CRN)':>16} {'hw CRN':>11} {'hw indep':>11} {'corr CRN':>9}  "
        f"{'var(indep)/var(CRN)':<22} (var(L)+var(O))/var(CRN)"
    )
    for kpi, m in metrics.items():
        observed = (
            f"{m['variance_reduction']:.2f} [{m['variance_reduction_low']:.2f}, {m['variance_reduction_high']:.2f}]"
        )
        print(
            f"{kpi:<9} {m['diff_paired_mean']:>16,.4g} {m['half_width_paired']:>11,.4g} "
            f"{m['half_width_independent']:>11,.4g} {m['correlation_crn']:>9.2f}  {observed:<22} "
            f"{m['variance_reduction_marginal']:.2f} [{m['variance_reduction_marginal_low']:.2f}, "
            f"{m['variance_reduction_marginal_high']:.2f}]"
        )
    print(f"saved {args.results / 'crn.json'} ({wall:.0f} s)")


if __name__ == "__main__":
    main()
