"""Tables of an experiment: replications, per-variant summaries, comparison with the baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.stats import Estimate, mean_interval, paired_difference, paired_uplift
from salesboost.metrics import METRIC_NAMES
from salesboost.results import FUNNEL, RunResult

ID_COLUMNS = ("variant", "replication", "seed")
#: Columns of :func:`summarise` per (variant, metric).
SUMMARY_FIELDS = ("mean", "sd", "ci_low", "ci_high", "n")
#: Columns of :func:`compare_to_baseline` per (variant, metric).
COMPARISON_FIELDS = ("diff", "diff_ci_low", "diff_ci_high", "uplift", "uplift_ci_low", "uplift_ci_high", "pairs")


def replication_table(results: Mapping[str, Sequence[RunResult]]) -> pd.DataFrame:
    """One row per (variant, replication): ids, every KPI, and the funnel counts."""
    rows = []
    for variant, runs in results.items():
        for run in runs:
            row: dict[str, object] = {"variant": variant, "replication": run.replication, "seed": run.seed}
            row.update({name: run.metrics.get(name, float("nan")) for name in METRIC_NAMES})
            row.update({f"funnel_{step}": run.funnel.get(step, 0) for step in FUNNEL})
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["variant", "replication"], kind="stable").reset_index(drop=True)


def summarise(table: pd.DataFrame, metrics: Sequence[str] = METRIC_NAMES, confidence: float = 0.95) -> pd.DataFrame:
    """Per variant and metric: replications, mean, sd and confidence interval."""
    rows = []
    for variant, group in table.groupby("variant", sort=False):
        for metric in metrics:
            est = mean_interval(group[metric].to_numpy(), confidence)
            rows.append({"variant": variant, "metric": metric, **_estimate_columns(est, "")})
    return pd.DataFrame(rows)


def compare_to_baseline(
    table: pd.DataFrame, baseline: str, metrics: Sequence[str] = METRIC_NAMES, confidence: float = 0.95
) -> pd.DataFrame:
    """Per non-baseline variant and metric: paired difference and relative uplift with intervals.

    Replications are paired by number: replication r of every variant used the same
    random streams.
    """
    base = table[table["variant"] == baseline].set_index("replication")
    rows = []
    for variant, group in table.groupby("variant", sort=False):
        if variant == baseline:
            continue
        other = group.set_index("replication")
        common = other.index.intersection(base.index)
        for metric in metrics:
            v = other.loc[common, metric].to_numpy()
            b = base.loc[common, metric].to_numpy()
            diff = paired_difference(v, b, confidence)
            uplift = paired_uplift(v, b, confidence)
            rows.append(
                {
                    "variant": variant,
                    "metric": metric,
                    "pairs": diff.n,
                    **_estimate_columns(diff, "diff"),
                    **_estimate_columns(uplift, "uplift"),
                }
            )
    return pd.DataFrame(rows)


def _estimate_columns(est: Estimate, prefix: str) -> dict[str, float]:
    p = f"{prefix}_" if prefix else ""
    columns = {
        prefix or "mean": est.value,
        f"{p}ci_low": est.ci_low,
        f"{p}ci_high": est.ci_high,
    }
    if not prefix:
        columns = {"n": est.n, **columns, "sd": est.sd}
    return columns


def nested(table: pd.DataFrame, fields: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """A summary or comparison table as ``{variant: {metric: {field: value}}}``."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in table.to_dict("records"):
        out.setdefault(row["variant"], {})[row["metric"]] = {f: row[f] for f in fields}
    return out
