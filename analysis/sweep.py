"""Analysis of a parameter sweep: many variants of one experiment on a grid of parameter values.

Inputs are the tables of :mod:`analysis.compare` plus two sweep tables:

- ``summary``: one row per (variant, metric) with ``n, mean, ci_low, ci_high, sd``;
- ``comparison``: one row per (non-baseline variant, metric) with the paired ``diff`` and ``uplift``;
- ``variant_params``: index variant, one column per swept parameter key; NaN where a variant
  (an explicit baseline, say) is not a grid point;
- ``sensitivity``: one-at-a-time runs, columns ``parameter, level, value, variant, metric,
  mean, ci_low, ci_high`` with ``level`` one of ``low``, ``default``, ``high``.

Intervals are the 95% t-intervals of the summary. Constraints are read conservatively:
a variant meets a bound only if its whole interval does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.selection import Selection, format_value, metric_frame, pareto_front
from analysis.tornado import tornado_figure

_BASELINE_COLOUR = "#7f7f7f"
_FRONT_COLOUR = "#1f77b4"
_HIGHLIGHT_COLOUR = "#d62728"
#: Legend entries drawn inside the axes; more go in a smaller legend beside them.
_LEGEND_INSIDE = 4
_DPI = 110
#: Grids with at most this many values of the x parameter get a tick per value.
_MAX_TICKS = 12
_ESTIMATE = ("mean", "ci_low", "ci_high")


# --- shared helpers ---------------------------------------------------------------------------


def _is_numeric(values: pd.Series) -> bool:
    """Whether every non-missing value is a number (booleans excluded)."""
    present = values.dropna()
    if present.empty or any(isinstance(v, bool | np.bool_) for v in present):
        return False
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def _swept_parameters(variant_params: pd.DataFrame) -> list[str]:
    """Parameter columns with at least one grid value, in column order."""
    return [str(c) for c in variant_params.columns if variant_params[c].notna().any()]


def _short_names(parameters: Sequence[str]) -> dict[str, str]:
    """Last dotted component of each parameter key, or the full key where that is ambiguous."""
    last = [p.replace("/", ".").rsplit(".", 1)[-1] for p in parameters]
    return {p: s if last.count(s) == 1 else p for p, s in zip(parameters, last, strict=True)}


def _file_name(*parts: str) -> str:
    """A PNG file name from ``parts`` joined by ``_``, characters outside ``[A-Za-z0-9._-]`` replaced."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", "_".join(parts)) + ".png"


def _sort_key(column: pd.Series) -> pd.Series:
    """Numeric columns sort as numbers, others as text; missing values stay missing."""
    if _is_numeric(column):
        return pd.to_numeric(column, errors="coerce")
    return column.where(column.isna(), column.astype(str))


def _legend(fig: Figure, ax: Axes, title: str | None = None) -> None:
    """A legend inside the axes when short, beside them in small print when long."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) <= _LEGEND_INSIDE:
        ax.legend(frameon=False, fontsize="small", title=title, title_fontsize="small")
    else:
        fig.legend(
            handles,
            labels,
            loc="outside right upper",
            frameon=False,
            fontsize="x-small",
            ncols=math.ceil(len(handles) / 20),
            title=title,
            title_fontsize="x-small",
        )


def _palette(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinguishable colours: tab10 up to 10 lines, then evenly spaced viridis."""
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]


# --- metric against one parameter -------------------------------------------------------------


def metric_vs_parameter_figure(
    summary: pd.DataFrame,
    variant_params: pd.DataFrame,
    metric: str,
    x: str,
    group: str | None = None,
    *,
    baseline: str | None = None,
    baseline_summary_label: str = "baseline",
) -> Figure:
    """Mean of ``metric`` against parameter ``x`` with 95% CI bands, one line per ``group`` value.

    Other swept parameters that vary among the plotted variants split the lines further:
    one line per distinct combination, labelled ``name=value``. A ``baseline`` with a row
    for the metric is drawn as a dashed horizontal line with its interval as a light band.
    """
    for column in (x, group):
        if column is not None and column not in variant_params.columns:
            raise ValueError(f"parameter {column!r} is not swept (swept: {list(variant_params.columns)})")
    estimates = metric_frame(summary, metric)
    data = variant_params.join(estimates, how="inner")
    data = data[data[x].notna()]
    numeric_x = _is_numeric(variant_params[x])
    if numeric_x:
        data = data.assign(_x=pd.to_numeric(data[x]))
        ticks: list[object] = []
    else:
        ticks = list(dict.fromkeys(variant_params[x].dropna()))
        data = data.assign(_x=data[x].map({v: i for i, v in enumerate(ticks)}).astype(float))
    split = ([group] if group else []) + _varying(data, exclude=(x, group))
    names = _short_names(split)

    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    lines = _line_groups(data, split)
    for (label, points), colour in zip(lines, _palette(len(lines)), strict=True):
        _draw_line(ax, points, label=_line_label(label, names), colour=colour)
    if baseline is not None and baseline in estimates.index:
        _draw_baseline(ax, estimates.loc[baseline], baseline, baseline_summary_label)
    if not numeric_x:
        ax.set_xticks(range(len(ticks)), labels=[format_value(t) for t in ticks])
    elif data["_x"].nunique() <= _MAX_TICKS:
        grid = np.unique(data["_x"].to_numpy(dtype=float))
        ax.set_xticks(grid, labels=[format_value(v) for v in grid])
    ax.set_xlabel(x)
    ax.set_ylabel(f"{metric} (mean, 95% CI)")
    short = _short_names([x, *([group] if group else [])])
    ax.set_title(f"{metric} against {short[x]}" + (f" by {short[group]}" if group else ""), fontsize="medium")
    _legend(fig, ax, title=", ".join(names[p] for p in split) or None)
    return fig


def _varying(data: pd.DataFrame, exclude: Sequence[str | None]) -> list[str]:
    """Parameter columns (not in ``exclude``) with more than one distinct value among ``data``'s rows."""
    params = [c for c in data.columns if c not in (*_ESTIMATE, "_x", *exclude)]
    return [str(c) for c in params if data[c].nunique(dropna=False) > 1]


def _line_groups(data: pd.DataFrame, split: Sequence[str]) -> list[tuple[list[tuple[str, object]], pd.DataFrame]]:
    """Rows of ``data`` per distinct combination of ``split``, combinations in sorted order."""
    if not split:
        return [([], data.sort_values("_x", kind="stable"))]
    ordered = data.sort_values([*split, "_x"], key=_sort_key, na_position="last")
    groups = ordered.groupby(list(split), sort=False, dropna=False)
    return [(list(zip(split, key, strict=True)), points) for key, points in groups]


def _line_label(key: Sequence[tuple[str, object]], names: Mapping[str, str]) -> str | None:
    """A line's values: alone for one parameter (the legend title names it), else ``name=value, ...``."""
    if len(key) == 1:
        return format_value(key[0][1])
    return ", ".join(f"{names[p]}={format_value(v)}" for p, v in key) or None


def _draw_line(ax: Axes, points: pd.DataFrame, *, label: str | None, colour: Any) -> None:
    """Means joined by a line with markers; the 95% CI as a band (error bar for a single point)."""
    xs = points["_x"].to_numpy(dtype=float)
    mean = points["mean"].to_numpy(dtype=float)
    low, high = points["ci_low"].to_numpy(dtype=float), points["ci_high"].to_numpy(dtype=float)
    ax.plot(xs, mean, marker="o", markersize=4, linewidth=1.6, color=colour, label=label)
    if xs.size == 1:
        ax.errorbar(xs, mean, yerr=_errors(mean, low, high), fmt="none", ecolor=colour, capsize=3)
    else:
        ax.fill_between(xs, low, high, color=colour, alpha=0.18, linewidth=0)


def _draw_baseline(ax: Axes, row: pd.Series, baseline: str, label: str) -> None:
    """The baseline's mean as a dashed horizontal line, its 95% CI as a light band."""
    if not math.isfinite(row["mean"]):
        return
    text = label if label == baseline else f"{label} ({baseline})"
    ax.axhline(row["mean"], color=_BASELINE_COLOUR, linestyle="--", linewidth=1.2, label=text)
    if math.isfinite(row["ci_low"]) and math.isfinite(row["ci_high"]):
        ax.axhspan(row["ci_low"], row["ci_high"], color=_BASELINE_COLOUR, alpha=0.12, linewidth=0)


def _errors(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths from an interval; 0 where the interval is missing."""
    return np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0).clip(min=0.0)


# --- trade-offs -------------------------------------------------------------------------------


def tradeoff_figure(
    summary: pd.DataFrame,
    x_metric: str,
    y_metric: str,
    *,
    front: list[str],
    highlight: str | None = None,
    baseline: str | None = None,
    labels: bool = True,
) -> Figure:
    """Every variant's two means with 95% CI error bars; the front joined, baseline and ``highlight`` marked."""
    points = pd.concat(
        [metric_frame(summary, x_metric).add_prefix("x_"), metric_frame(summary, y_metric).add_prefix("y_")], axis=1
    )
    points = points[points["x_mean"].notna() & points["y_mean"].notna()]
    on_front = points.index.isin(front)
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    for mask, colour, label in ((~on_front, "#bbbbbb", "dominated"), (on_front, _FRONT_COLOUR, "Pareto front")):
        _scatter_with_errors(ax, points[mask], colour=colour, label=label)
    ordered = points[on_front].sort_values("x_mean")
    ax.plot(ordered["x_mean"], ordered["y_mean"], color=_FRONT_COLOUR, linewidth=1.2, zorder=3)
    for name, style in ((baseline, _BASELINE_STYLE), (highlight, _HIGHLIGHT_STYLE)):
        if name is not None and name in points.index:
            row = points.loc[name]
            kind = "baseline" if style is _BASELINE_STYLE else "best"
            ax.plot(row["x_mean"], row["y_mean"], linestyle="none", zorder=5, label=f"{kind}: {name}", **style)
    if labels:
        # Neighbours on the front are often close: alternate the labels' heights.
        for i, (name, row) in enumerate(ordered.iterrows()):
            ax.annotate(
                str(name).replace(",", "\n"),
                (row["x_mean"], row["y_mean"]),
                xytext=(4, 8 if i % 2 == 0 else 34),
                textcoords="offset points",
                fontsize=7,
                va="bottom",
                arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5} if i % 2 else None,
            )
    ax.set_xlabel(f"{x_metric} (mean, 95% CI)")
    ax.set_ylabel(f"{y_metric} (mean, 95% CI)")
    ax.set_title(f"Trade-off: {y_metric} against {x_metric}")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


_BASELINE_STYLE: dict[str, Any] = {
    "marker": "s",
    "markersize": 9,
    "markerfacecolor": "none",
    "markeredgecolor": "black",
    "markeredgewidth": 1.5,
}
_HIGHLIGHT_STYLE: dict[str, Any] = {
    "marker": "*",
    "markersize": 15,
    "color": _HIGHLIGHT_COLOUR,
    "markeredgecolor": "black",
    "markeredgewidth": 0.6,
}


def _scatter_with_errors(ax: Axes, points: pd.DataFrame, *, colour: str, label: str) -> None:
    """Means as dots with 95% CI error bars on both axes."""
    if points.empty:
        return
    x, y = points["x_mean"].to_numpy(), points["y_mean"].to_numpy()
    ax.errorbar(
        x,
        y,
        xerr=_errors(x, points["x_ci_low"].to_numpy(), points["x_ci_high"].to_numpy()),
        yerr=_errors(y, points["y_ci_low"].to_numpy(), points["y_ci_high"].to_numpy()),
        fmt="o",
        markersize=5,
        color=colour,
        ecolor=colour,
        elinewidth=0.9,
        capsize=2,
        label=label,
        zorder=4,
    )


# --- choosing a variant -----------------------------------------------------------------------


# --- tables and files -------------------------------------------------------------------------


def sweep_table(
    summary: pd.DataFrame, comparison: pd.DataFrame, variant_params: pd.DataFrame, metrics: Sequence[str]
) -> pd.DataFrame:
    """One row per variant: swept parameters, then per metric mean, 95% CI and uplift vs the baseline.

    The baseline (the variant missing from a non-empty ``comparison``) comes first; the
    rest are sorted by the swept parameters (numbers as numbers, missing last), then by name.
    """
    variants = list(dict.fromkeys(summary["variant"].astype(str)))
    table = variant_params.reindex(variants)
    table.index.name = "variant"
    compared = set(comparison["variant"]) if not comparison.empty else set()
    uplift_metrics = set(comparison["metric"]) if not comparison.empty else set()
    columns: dict[str, pd.Series] = {}
    for metric in metrics:
        estimates = metric_frame(summary, metric).reindex(variants)
        columns[metric] = estimates["mean"]
        columns[f"{metric}_ci_low"] = estimates["ci_low"]
        columns[f"{metric}_ci_high"] = estimates["ci_high"]
        if metric in uplift_metrics:
            rows = comparison[comparison["metric"] == metric].drop_duplicates("variant").set_index("variant")
            columns[f"{metric}_uplift"] = rows["uplift"].astype(float).reindex(variants)
    table = pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)
    keys = table[list(variant_params.columns)].assign(
        _first=[0 if compared and v not in compared else 1 for v in variants], _name=variants
    )
    order = keys.sort_values(["_first", *variant_params.columns, "_name"], key=_sort_key, na_position="last").index
    return table.loc[order]


def write_sweep_plots(
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    variant_params: pd.DataFrame,
    *,
    metrics: Sequence[str],
    tradeoff: tuple[str, str] | None,
    tradeoff_better: tuple[int, int] = (-1, 1),
    selection: Selection | None,
    baseline: str,
    sensitivity: pd.DataFrame | None,
    out_dir: Path,
) -> list[Path]:
    """Draw the sweep's plots into ``out_dir``; return the files written.

    ``vs_<param>_<metric>.png`` for each numeric swept parameter (lines per value of the other
    parameter when exactly two are swept), ``tradeoff_<x>_<y>.png`` with the Pareto front and
    the selection, and ``tornado_[<variant>_]<metric>.png`` for each metric of ``metrics``, and
    its ``<metric>_uplift``, found in ``sensitivity`` (the variant only in the name when it has
    several). ``comparison`` is
    unused for now; it is accepted so callers pass the sweep's full set of tables.
    """
    del comparison
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        path = out_dir / name
        fig.savefig(path, dpi=_DPI)
        paths.append(path)

    swept = _swept_parameters(variant_params)
    for x in (p for p in swept if _is_numeric(variant_params[p])):
        group = next(p for p in swept if p != x) if len(swept) == 2 else None
        for metric in metrics:
            save(
                metric_vs_parameter_figure(summary, variant_params, metric, x, group, baseline=baseline),
                _file_name("vs", x, metric),
            )
    if tradeoff is not None:
        x_metric, y_metric = tradeoff
        front = pareto_front(summary, x_metric, y_metric, x_better=tradeoff_better[0], y_better=tradeoff_better[1])
        highlight = selection.best if selection is not None else None  # starred only when clearly best
        fig = tradeoff_figure(summary, x_metric, y_metric, front=front, highlight=highlight, baseline=baseline)
        save(fig, _file_name("tradeoff", x_metric, y_metric))
    if sensitivity is not None and not sensitivity.empty:
        variants = [str(v) for v in dict.fromkeys(sensitivity["variant"])]
        present = set(sensitivity["metric"])
        for variant in variants:
            for metric in (m for name in metrics for m in (name, f"{name}_uplift") if m in present):
                prefix = ("tornado", variant) if len(variants) > 1 else ("tornado",)
                save(tornado_figure(sensitivity, metric, variant), _file_name(*prefix, metric))
    return paths
