"""The summary table printed at the end of a run."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd


def fmt(value: float) -> str:
    """A number with about three significant digits; thousands get separators."""
    if not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def pct(value: float) -> str:
    """A relative change in percent with a sign."""
    return "n/a" if not math.isfinite(value) else f"{value * 100:+.1f}%"


def summary_lines(
    summary: pd.DataFrame, comparison: pd.DataFrame, *, baseline: str, metrics: Sequence[str], confidence: float = 0.95
) -> list[str]:
    """Rows per metric: each variant's mean [CI], then each variant's change against the baseline."""
    variants = list(dict.fromkeys(summary["variant"]))
    others = [v for v in variants if v != baseline]
    s = summary.set_index(["variant", "metric"])
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    header = ["metric", *variants, *(f"{v} vs {baseline}" for v in others)]
    rows = [header]
    for metric in metrics:
        row = [metric]
        for variant in variants:
            r = s.loc[(variant, metric)]
            row.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
        for variant in others:
            if c is None or (variant, metric) not in c.index:
                row.append("")
                continue
            r = c.loc[(variant, metric)]
            row.append(f"{pct(r['uplift'])} [{pct(r['uplift_ci_low'])}, {pct(r['uplift_ci_high'])}]")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"mean [{confidence:.0%} CI] over replications; changes are paired by replication (common random numbers)"
    )
    return lines
