"""The monthly KPI panel as data frames: replications stacked, sums and rates that add up, series per variant.

A panel row holds sums (counts, revenue, hours) and, per cycle-time measure, the number of
observations and their mean. Sums add across rows; a mean across rows is recomputed from
``n x mean`` and a rate from its sums (orders / leads, never a mean of per-row rates). The
per-row quantiles cannot be combined, so aggregation drops them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.stats import mean_interval
from salesboost.panel import KEY_COLUMNS, LEAD_FIELDS, MEASURES, WORK_KINDS
from salesboost.results import RunResult

#: Rates of a pipeline aggregate: name -> (numerator, denominator), both summed first.
PIPELINE_RATES: dict[str, tuple[str, str]] = {
    "contacted_in_sla_share": ("contacted_in_sla", "contacted"),
    "qualification_rate": ("qualified", "leads"),
    "win_rate_of_quotes": ("wins", "quotes"),
    "orders_per_lead": ("orders", "leads"),
}
#: Name of a role's utilisation series in :func:`per_replication` (``rep_utilisation``, ``manager_utilisation``).
ROLE_UTILISATION = "{role}_utilisation"


def in_window(frame: pd.DataFrame, window: tuple[str, str] | None) -> pd.DataFrame:
    """The rows whose ``period_start`` is in ``[first, last_plus_one)`` (all rows when ``window`` is None)."""
    if window is None:
        return frame
    a, b = window
    return frame[(frame["period_start"] >= a) & (frame["period_start"] < b)]


def panel_frame(results: Sequence[RunResult], table: str = "pipeline", *, variant: str | None = None) -> pd.DataFrame:
    """One panel ``table`` of every result, stacked, with a ``replication`` column (and ``variant``).

    Results without that table (an engine that records no panel) are skipped; numeric columns
    are floats or integers, missing numbers NaN.
    """
    frames = []
    for result in results:
        found = result.panels.get(table)
        if found is None or len(found) == 0:
            continue
        frame = pd.DataFrame(found.columns)
        frame.insert(0, "replication", result.replication)
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    keys = set(KEY_COLUMNS.get(table, ())) | {"replication"}
    for column in frame.columns:
        if column not in keys and frame[column].dtype == object:  # None for a missing number
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    if variant is not None:
        frame.insert(0, "variant", variant)
    return frame


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as Parquet (no index), via a temporary name so no partial file is left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def aggregate_pipeline(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Pipeline rows summed over every column not in ``by``: counts and money summed, means and rates recomputed."""
    counts = [f"{m}_n" for m in MEASURES]
    work = frame.copy()
    for m in MEASURES:  # n x mean is the measure's sum; 0 where there is no observation
        work[f"_{m}_sum"] = (work[f"{m}_mean"] * work[f"{m}_n"]).where(work[f"{m}_n"] > 0, 0.0)
    sums = [*LEAD_FIELDS, *counts, *(f"_{m}_sum" for m in MEASURES)]
    out = work.groupby(list(by), sort=True, dropna=False)[sums].sum().reset_index()
    for m in MEASURES:
        n = out[f"{m}_n"]
        out[f"{m}_mean"] = (out.pop(f"_{m}_sum") / n).where(n > 0)
    for rate, (num, den) in PIPELINE_RATES.items():
        out[rate] = (out[num] / out[den]).where(out[den] > 0)
    return out


def aggregate_workers(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Worker rows summed over every column not in ``by``: hours and own KPIs summed, utilisation = busy / available."""
    sums = ["available_hours", *(f"{k}_hours" for k in WORK_KINDS), "busy_hours"]
    sums += [f for f in LEAD_FIELDS if f in frame.columns]
    out = frame.groupby(list(by), sort=True, dropna=False)[sums].sum().reset_index()
    out["utilisation"] = (out["busy_hours"] / out["available_hours"]).where(out["available_hours"] > 0)
    return out


def per_replication(pipeline: pd.DataFrame, workers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (replication, period): the pipeline's series and each role's utilisation, wide."""
    by = ["replication", "period", "period_start"]
    out = aggregate_pipeline(pipeline, by) if not pipeline.empty else pd.DataFrame(columns=by)
    if workers is not None and not workers.empty:
        roles = aggregate_workers(workers, [*by, "role"])
        wide = roles.pivot_table(index=by, columns="role", values="utilisation", aggfunc="first")
        wide.columns = [ROLE_UTILISATION.format(role=role) for role in wide.columns]
        out = out.merge(wide.reset_index(), on=by, how="outer")
    return out.sort_values(by, kind="stable").reset_index(drop=True)


def monthly_summary(
    frames: Mapping[str, pd.DataFrame], workers: Mapping[str, pd.DataFrame] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Per variant x period x series: the mean over replications and its ``confidence`` band.

    ``frames`` are pipeline frames by variant (:func:`panel_frame`), ``workers`` the workers
    frames by variant. Each replication's period is first aggregated over regions, channels,
    segments, products and cohort (sums, then rates), so the series are of the whole business.
    Columns: variant, period, period_start, series, mean, ci_low, ci_high, replications.
    """
    rows: list[dict[str, object]] = []
    for variant, frame in frames.items():
        if frame.empty:
            continue
        wide = per_replication(frame, (workers or {}).get(variant))
        series = [c for c in wide.columns if c not in ("replication", "period", "period_start")]
        for (period, start), group in wide.groupby(["period", "period_start"], sort=True):
            for name in series:
                values = group[name].to_numpy(dtype=float)
                est = mean_interval(values, confidence)
                rows.append(
                    {
                        "variant": variant,
                        "period": period,
                        "period_start": start,
                        "series": name,
                        "mean": est.value,
                        "ci_low": est.ci_low,
                        "ci_high": est.ci_high,
                        "replications": int(np.isfinite(values).sum()),
                    }
                )
    columns = ["variant", "period", "period_start", "series", "mean", "ci_low", "ci_high", "replications"]
    return pd.DataFrame(rows, columns=columns)


def totals(pipeline: pd.DataFrame, *, cohort: bool | None = True) -> pd.DataFrame:
    """Per replication, the pipeline's sums over all periods (cohort rows only by default, as the run's KPIs)."""
    rows = pipeline if cohort is None else pipeline[pipeline["cohort"] == cohort]
    return aggregate_pipeline(rows, ["replication"])
