"""Tornado charts: how far each parameter, at either end of its range, moves a metric.

Input is the ``sensitivity`` table of :mod:`analysis.sweep` (``parameter, level, value, variant,
metric, mean, ci_low, ci_high``, ``level`` one of ``low``, ``default``, ``high``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.plots import percent_axis
from analysis.selection import format_number, format_value
from analysis.stats import spread

TOP = 20  # more bars than this do not read at report width; sensitivity.csv keeps them all
OFF_AXIS = 4.0  # a bar reaching this many times further than the next one runs off the axis
_MAX_OFF_AXIS = 3  # at most this many bars run off: beyond that the spread is the message
_LOW_COLOUR = "#4c72b0"
_HIGH_COLOUR = "#dd8452"
_LEVEL_COLOURS = {"low": _LOW_COLOUR, "high": _HIGH_COLOUR}
_LEVELS = ("low", "high")
_ESTIMATE = ("mean", "ci_low", "ci_high")


def tornado_figure(
    sensitivity: pd.DataFrame, metric: str, variant: str, *, title: str | None = None, top: int = TOP
) -> Figure:
    """Per parameter, bars from the default mean of ``metric`` to its low- and high-level means.

    Parameters are sorted by swing, the range spanned by their low, default and high means,
    largest on top; only the ``top`` largest are drawn (the title says how many there are).
    Bar ends carry a 95% CI error bar; a vertical line marks the default mean. When a few bars
    reach more than ``OFF_AXIS`` times further than the rest, the axis is fitted to the rest
    and those bars run off its edge (an arrowhead), their values written in their labels, so
    one extreme end does not flatten every other bar. The values each parameter took are in
    its axis label (nothing is written inside the axes, so no label can cover another). An
    uplift (``*_uplift``, a ratio) is drawn in percent, the unit of the tables.
    """
    rows = sensitivity[(sensitivity["metric"] == metric) & (sensitivity["variant"] == variant)]
    if rows.empty:
        raise ValueError(f"no sensitivity rows for metric {metric!r} and variant {variant!r}")
    if top < 1:
        raise ValueError(f"top must be >= 1 (got {top})")
    percent = metric.endswith("_uplift")
    if percent:
        rows = rows.assign(**{c: pd.to_numeric(rows[c]) * 100 for c in _ESTIMATE})
    default = pd.to_numeric(rows.loc[rows["level"] == "default", "mean"]).dropna()
    centre = float(default.iloc[0]) if not default.empty else math.nan
    every = _tornado_bars(rows, centre)
    bars = every.tail(top)
    limits = axis_limits(bars, centre)
    fig = Figure(figsize=(7.5, 0.62 * len(bars) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    labelled: set[str] = set()
    for y, (_parameter, bar) in enumerate(bars.iterrows()):
        base = centre if math.isfinite(centre) else bar["low_mean"]
        for z, level in enumerate(_longest_first(bar, base)):
            label = None if level in labelled else f"{level} end of its range"
            if _tornado_end(ax, y, base, bar, level, label=label, zorder=2 + z, limits=limits):
                labelled.add(level)
    if math.isfinite(centre):
        ax.axvline(centre, color="black", linewidth=1, label=f"default ({_shown(centre, percent)})")
    labels = [_tornado_label(str(p), bar, limits, percent) for p, bar in bars.iterrows()]
    ax.set_yticks(range(len(bars)), labels=labels, fontsize=8)
    if limits is None:
        ax.margins(x=0.05)
    else:
        ax.set_xlim(*limits)
    if percent:
        percent_axis(ax.xaxis)
        name = metric.removesuffix("_uplift")
        ax.set_xlabel(f"{name}: change vs baseline, % (mean, 95% CI at the bar ends)")
    else:
        ax.set_xlabel(f"{metric} (mean, 95% CI at the bar ends)")
    heading = title or f"Sensitivity of {metric.removesuffix('_uplift') + ' uplift' if percent else metric} ({variant})"
    if len(every) > len(bars):
        heading += f"\nthe {len(bars)} largest swings of {len(every)} parameters"
    ax.set_title(heading)
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    return fig


def axis_limits(bars: pd.DataFrame, centre: float) -> tuple[float, float] | None:
    """The x range that fits every bar but the few that reach ``OFF_AXIS`` times further; None: fit all.

    A bar's reach is how far its ends and their intervals lie from the default (``centre``). At
    most three bars run off, and at least half of the bars (two or more) stay on the axis.
    """
    if not math.isfinite(centre) or len(bars) < 2:
        return None
    reach = _reach(bars, centre).sort_values(ascending=False)
    values = reach.to_numpy()
    # Only a few bars run off, and most bars stay: the axis is fitted to the bulk, not to a pair.
    most = max(2, math.ceil(len(values) / 2))
    candidates = [i for i in range(_MAX_OFF_AXIS) if len(values) - (i + 1) >= most]
    cut = next((i for i in candidates if values[i] > OFF_AXIS * values[i + 1] > 0), None)
    if cut is None:
        return None
    kept = bars.loc[reach.index[cut + 1 :]]
    ends = [centre]
    for level in _LEVELS:
        for field in _ESTIMATE:
            ends += [v for v in kept[f"{level}_{field}"] if math.isfinite(v)]
    low, high = min(ends), max(ends)
    pad = 0.15 * (high - low)
    return low - pad, high + pad


def _reach(bars: pd.DataFrame, centre: float) -> pd.Series:
    columns = [bars[f"{level}_{field}"] for level in _LEVELS for field in _ESTIMATE]
    return pd.concat([(c - centre).abs() for c in columns], axis=1).max(axis=1).fillna(0.0)


def _shown(value: float, percent: bool) -> str:
    return f"{value:+.1f}%" if percent else format_number(value, 4)


def _off_axis(value: float, limits: tuple[float, float] | None) -> bool:
    return limits is not None and math.isfinite(value) and not limits[0] <= value <= limits[1]


def _tornado_label(parameter: str, bar: pd.Series, limits: tuple[float, float] | None, percent: bool) -> str:
    """A bar's axis label: the parameter, the low and high values it took, and any end off the axis."""
    values = [f"{level} {format_value(bar[f'{level}_value'])}" for level in _LEVELS if _present(bar, level)]
    lines = [parameter, " / ".join(values)] if values else [parameter]
    off = [
        f"{level} end {_shown(bar[f'{level}_mean'], percent)}, off the axis"
        for level in _LEVELS
        if _off_axis(bar[f"{level}_mean"], limits)
    ]
    return "\n".join(lines + off)


def _present(bar: pd.Series, level: str) -> bool:
    value = bar[f"{level}_value"]
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _tornado_bars(rows: pd.DataFrame, centre: float) -> pd.DataFrame:
    """Per parameter: ``<level>_{mean,ci_low,ci_high,value}`` for low and high, and the swing, smallest first."""
    fields = [*_ESTIMATE, "value"]
    wide = rows.drop_duplicates(["parameter", "level"]).pivot(index="parameter", columns="level", values=fields)
    bars = pd.DataFrame(index=wide.index.astype(str))
    for level in _LEVELS:
        for field in fields:
            column = wide[(field, level)].to_numpy() if (field, level) in wide.columns else np.nan
            bars[f"{level}_{field}"] = column
        for field in _ESTIMATE:
            bars[f"{level}_{field}"] = pd.to_numeric(bars[f"{level}_{field}"]).astype(float)
    bars["swing"] = [spread((low, centre, high)) for low, high in zip(bars["low_mean"], bars["high_mean"], strict=True)]
    return bars.sort_values("swing", kind="stable")


def _longest_first(bar: pd.Series, base: float) -> list[str]:
    """``low`` and ``high`` ordered so the longer half is drawn first and the shorter stays visible."""
    length = {level: abs(bar[f"{level}_mean"] - base) for level in _LEVELS}
    return sorted(length, key=lambda level: -length[level] if math.isfinite(length[level]) else 0.0)


def _tornado_end(
    ax: Axes,
    y: int,
    base: float,
    bar: pd.Series,
    level: str,
    *,
    label: str | None,
    zorder: int,
    limits: tuple[float, float] | None,
) -> bool:
    """One half of a tornado bar, from ``base`` to the level's mean with its 95% CI; whether it was drawn."""
    mean = bar[f"{level}_mean"]
    if not math.isfinite(mean) or not math.isfinite(base):
        return False
    colour = _LEVEL_COLOURS[level]
    if limits is not None and _off_axis(mean, limits):
        edge = limits[1] if mean > limits[1] else limits[0]
        ax.barh(y, edge - base, left=base, height=0.6, color=colour, label=label, zorder=zorder)
        marker = ">" if mean > limits[1] else "<"
        ax.plot([edge], [y], marker=marker, markersize=9, color="black", clip_on=False, zorder=7)
        return True
    ax.barh(y, mean - base, left=base, height=0.6, color=colour, label=label, zorder=zorder)
    low, high = bar[f"{level}_ci_low"], bar[f"{level}_ci_high"]
    if math.isfinite(low) and math.isfinite(high):
        # The low end's interval above the bar's middle, the high end's below: both stay readable.
        at = y - 0.15 if level == "low" else y + 0.15
        ax.errorbar(
            mean, at, xerr=[[mean - low], [high - mean]], fmt="none", ecolor="black", lw=0.8, capsize=2, zorder=6
        )
    return True
