"""Markdown tables for docs/performance.md from the JSON files of throughput.py and crn.py.

    .venv/bin/python benchmarks/tables.py benchmarks/results/throughput.json benchmarks/results/crn.json
    .venv/bin/python benchmarks/tables.py throughput.json new-crn.json old-crn.json   # CRN side by side

Each file is recognised by its keys; CRN files are shown side by side in the order given.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

LABELS = {
    "legacy": "legacy (this engine)",
    "optimised": "optimised (this engine)",
    "simpy_basic": "`simpy_basic` (W2)",
    "simpy_opt": "`simpy_opt` (W2)",
    "compare_legacy": "legacy (old engine)",
    "compare_optimised": "optimised (old engine)",
}


def _rate(row: dict[str, Any]) -> str:
    r = row["leads_per_cpu_s"]
    return f"{r['median']:,.0f} ({r['min']:,.0f} to {r['max']:,.0f})"


def throughput_table(report: dict[str, Any]) -> str:
    """Rates, the ratio to simpy_basic and to the old engine, per engine."""
    engines = report["engines"]
    basic = engines["simpy_basic"]["leads_per_cpu_s"]["median"]
    rows = [
        "| engine | leads per run | leads/CPU-s, median (min to max) | vs `simpy_basic` (per round) | vs old engine |",
        "|---|---|---|---|---|",
    ]
    for name, row in engines.items():
        per_round = report["ratios_per_round"].get(f"{name}_vs_simpy_basic")
        ratio = f"{row['leads_per_cpu_s']['median'] / basic:.2f}"
        if per_round:
            ratio += f" ({per_round['min']:.2f} to {per_round['max']:.2f})"
        old = report["ratios"].get(f"{name}_vs_compare_{name}")
        old_text = "" if old is None else f"{old:.2f} ({1 / old:.1f}x slower)" if old < 1 else f"{old:.2f}"
        rows.append(
            f"| {LABELS.get(name, name)} | {row['leads_per_run_median']:,.0f} | {_rate(row)} | {ratio} | {old_text} |"
        )
    return "\n".join(rows)


def memory_table(report: dict[str, Any]) -> str:
    """Peak memory by horizon, the trees side by side."""
    trees = list(report["memory"])
    head = "| horizon (days) | " + " | ".join(f"leads, traced peak MB, RSS peak MB, RSS growth MB ({t})" for t in trees)
    rows = [head + " |", "|---|" + "---|" * len(trees)]
    for i, first in enumerate(report["memory"][trees[0]]["rows"]):
        cells = []
        for t in trees:
            r = report["memory"][t]["rows"][i]
            cells.append(f"{r['leads']:,}, {r['traced_peak_mb']:.2f}, {r['rss_peak_mb']:.1f}, {r['rss_growth_mb']:.1f}")
        rows.append(f"| {first['horizon_days']:.0f} | " + " | ".join(cells) + " |")
    growth = ", ".join(
        f"{t}: traced peak x{m['traced_growth']:.2f} for leads x{m['leads_growth']:.1f}"
        for t, m in report["memory"].items()
    )
    return "\n".join(rows) + f"\n\nGrowth from the shortest to the longest horizon: {growth}."


def crn_table(reports: list[dict[str, Any]]) -> str:
    """Variance reduction and half-widths per KPI, one row per KPI and file."""
    rows = [
        "| KPI | engine | mean difference | 95% half-width, paired / independent | correlation under CRN |"
        " var(indep) / var(paired) [95%] | (var L + var O) / var(paired) [95%] |",
        "|---|---|---|---|---|---|---|",
    ]
    formats = {"revenue": ",.0f", "orders": ",.1f", "win_rate": ".4f"}
    for kpi in reports[0]["metrics"]:
        fmt = formats.get(kpi, ",.4g")
        for r in reports:
            m = r["metrics"][kpi]
            rows.append(
                f"| {kpi} | {r.get('measured', '')} | {m['diff_paired_mean']:+{fmt}} | "
                f"{m['half_width_paired']:{fmt}} / {m['half_width_independent']:{fmt}} | {m['correlation_crn']:.2f} |"
                f" {m['variance_reduction']:.2f} [{m['variance_reduction_low']:.2f}, "
                f"{m['variance_reduction_high']:.2f}] | {m['variance_reduction_marginal']:.2f} "
                f"[{m['variance_reduction_marginal_low']:.2f}, {m['variance_reduction_marginal_high']:.2f}] |"
            )
    return "\n".join(rows)


def main() -> None:
    """Print the tables of the files given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    crn = []
    for path in args.files:
        report = json.loads(path.read_text())
        if "engines" in report:
            print(throughput_table(report), end="\n\n")
            print(memory_table(report), end="\n\n")
        elif "metrics" in report:
            crn.append(report)
        else:
            raise SystemExit(f"{path}: neither a throughput.py nor a crn.py result")
    if crn:
        print(crn_table(crn))


if __name__ == "__main__":
    main()
