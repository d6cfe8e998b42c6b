"""Where a change comes from: each part of a policy on its own, all together, and the interaction.

For a policy made of parts (the optimised pipeline's five stage changes), the replication
table holds the baseline, one variant per part (the baseline with only that part changed) and
the variant with all parts. Per replication (common random numbers pair them),

    together - baseline = sum over parts of (part - baseline) + interaction,

so the interaction is what the parts do only in combination (freed rep time used by another
stage, for example). Each term gets a paired t interval over the replications.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.stats import mean_interval


def decompose(
    table: pd.DataFrame, *, metric: str, baseline: str, parts: Sequence[str], together: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Rows ``part`` (each part alone), ``sum of parts``, ``together`` and ``interaction``.

    Columns: ``term``, ``diff`` (mean change against the baseline), ``ci_low``, ``ci_high``,
    ``share`` (of the together change) and ``pairs``. Only replications that every variant
    has are used, so the terms add up exactly.
    """
    wide = table.pivot_table(index="replication", columns="variant", values=metric, aggfunc="first")
    needed = [baseline, together, *parts]
    missing = [v for v in needed if v not in wide.columns]
    if missing:
        raise ValueError(f"decomposition of {metric}: no results for variant(s) {', '.join(missing)}")
    wide = wide[needed].dropna()
    base = wide[baseline].to_numpy(dtype=float)
    diffs = {part: wide[part].to_numpy(dtype=float) - base for part in parts}
    total = wide[together].to_numpy(dtype=float) - base
    summed = np.sum(list(diffs.values()), axis=0) if diffs else np.zeros_like(total)
    terms = [*diffs.items(), ("sum of parts", summed), ("together", total), ("interaction", total - summed)]
    scale = float(total.mean()) if len(total) else float("nan")
    rows = []
    for term, values in terms:
        est = mean_interval(values.tolist(), confidence)
        rows.append(
            {
                "term": term,
                "diff": est.value,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "share": est.value / scale if scale else float("nan"),
                "pairs": est.n,
            }
        )
    return pd.DataFrame(rows)
