"""Plots of an experiment, drawn with matplotlib's object API (no pyplot, no display needed)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from salesboost.histogram import BINS_PER_DECADE, N_BINS, LogHistogram, bin_edges
from salesboost.results import FUNNEL, RunResult

#: Fine histogram bins merged into one plotted bin (40 per decade -> 10 per decade).
_MERGE = 4
_BASELINE_COLOUR = "#7f7f7f"
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def colours(variants: Sequence[str], baseline: str) -> dict[str, str]:
    """A stable colour per variant; the baseline is grey."""
    others = iter(_COLOURS * (len(variants) // len(_COLOURS) + 1))
    return {v: _BASELINE_COLOUR if v == baseline else next(others) for v in variants}


def distribution_figure(
    histograms: Mapping[str, LogHistogram], *, title: str, xlabel: str, baseline: str, means: Mapping[str, float]
) -> Figure:
    """Share of observations per logarithmic bin, one line per variant, means marked."""
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    _draw_distribution(ax, histograms, baseline=baseline, means=means)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"share of observations per bin ({BINS_PER_DECADE // _MERGE} bins per decade)")
    ax.set_title(title + "  (dashed: mean)")
    ax.legend(frameon=False)
    return fig


def _draw_distribution(
    ax: Axes, histograms: Mapping[str, LogHistogram], *, baseline: str, means: Mapping[str, float]
) -> None:
    """One stair line per variant (share of its observations per merged bin), its mean dashed."""
    palette = colours(list(histograms), baseline)
    for variant, hist in histograms.items():
        total = hist.total
        if total == 0:
            continue
        counts = np.asarray(hist.counts[1 : N_BINS - 1], dtype=float)
        merged = counts[: counts.size // _MERGE * _MERGE].reshape(-1, _MERGE).sum(axis=1)
        edges = np.array([bin_edges(1 + i * _MERGE)[0] for i in range(merged.size + 1)])
        share = merged / total
        ax.stairs(share, edges, label=f"{variant} (n={total:,})", color=palette[variant], linewidth=1.8)
        mean = means.get(variant, math.nan)
        if math.isfinite(mean) and mean > 0:
            ax.axvline(mean, color=palette[variant], linestyle="--", linewidth=1)
    ax.set_xscale("log")
    _trim_xlim(ax, histograms)


def _mean_of(runs: Sequence[RunResult], metric: str) -> float:
    """The mean over replications of ``metric`` (NaN where none has it)."""
    values = [r.metrics[metric] for r in runs if math.isfinite(r.metrics.get(metric, math.nan))]
    return float(np.mean(values)) if values else math.nan


#: The distributions every run records: histogram key, title, axis label.
DISTRIBUTIONS: tuple[tuple[str, str, str], ...] = (
    ("quote_approval_hours", "Quote approval time", "hours from submission to decision"),
    ("contract_cycle_days", "Contract cycle", "days from acceptance to countersignature"),
    ("first_response_hours", "First response", "hours from lead arrival to first contact"),
    ("lead_to_order_days", "Lead to order", "days from lead arrival to booked order"),
)


def merged_histograms(results: Mapping[str, Sequence[RunResult]], key: str) -> dict[str, LogHistogram]:
    """Per variant, the histogram ``key`` over all its replications."""
    return {
        v: LogHistogram.empty().merged(*(r.histograms[key] for r in runs if key in r.histograms))
        for v, runs in results.items()
    }


def variant_distributions_figure(results: Mapping[str, Sequence[RunResult]], *, variant: str, baseline: str) -> Figure:
    """A child run's four distributions (approval, contract, first response, lead to order) against the baseline's."""
    fig = Figure(figsize=(11, 7), layout="constrained")
    axes = fig.subplots(2, 2)
    for ax, (key, title, label) in zip(axes.flat, DISTRIBUTIONS, strict=True):
        hists = merged_histograms(results, key)
        means = {v: _mean_of(runs, f"{key}_mean") for v, runs in results.items()}
        _draw_distribution(ax, hists, baseline=baseline, means=means)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(label, fontsize="small")
        ax.set_ylabel("share per bin", fontsize="small")
        ax.tick_params(labelsize=8)
    palette = colours(list(results), baseline)
    handles = [Line2D([], [], color=palette[v], linewidth=1.8, label=v) for v in results]
    fig.legend(handles=handles, loc="outside lower center", ncols=max(len(handles), 1), frameon=False)
    versus = f" against {baseline}" if variant != baseline else ""
    fig.suptitle(f"{variant}{versus}: distributions over all replications (dashed: mean)")
    return fig


def _trim_xlim(ax: object, histograms: Mapping[str, LogHistogram]) -> None:
    nonzero = [i for h in histograms.values() for i, c in enumerate(h.counts) if c and 0 < i < N_BINS - 1]
    if nonzero:
        ax.set_xlim(bin_edges(min(nonzero))[0] / 1.5, bin_edges(max(nonzero))[1] * 1.5)  # type: ignore[attr-defined]


def funnel_figure(table: pd.DataFrame, *, baseline: str) -> Figure:
    """Mean cohort leads reaching each funnel step, per variant (log scale)."""
    steps = [f"funnel_{s}" for s in FUNNEL]
    means = table.groupby("variant", sort=False)[steps].mean()
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    palette = colours(list(means.index), baseline)
    height = 0.8 / max(len(means), 1)
    y = np.arange(len(FUNNEL))
    for i, (variant, row) in enumerate(means.iterrows()):
        values = row.to_numpy(dtype=float)
        bars = ax.barh(y + i * height, values, height=height, color=palette[str(variant)], label=str(variant))
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=2, fontsize=8)
    ax.set_yticks(y + height * (len(means) - 1) / 2, labels=list(FUNNEL))
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("cohort leads per replication (mean, log scale)")
    ax.set_title("Funnel: leads reaching each step")
    ax.legend(frameon=False, loc="lower right")
    return fig


def percent_axis(axis: Axis) -> None:
    """Tick labels of an axis holding percent values as signed percent (``+20%``, ``0%``, ``-50%``)."""
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:+.0f}%" if value else "0%"))


def uplift_figure(comparison: pd.DataFrame, metrics: Sequence[str], *, baseline: str | None = None) -> Figure:
    """Change against the baseline in percent with 95% intervals, one row per metric.

    The legend sits below the axes (a marker inside them would read as a data point); with
    one variant there is none, the title names the comparison, and each point carries its value.
    """
    data = comparison[comparison["metric"].isin(metrics)]
    variants = list(dict.fromkeys(data["variant"]))
    fig = Figure(figsize=(7.5, 0.45 * len(metrics) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    palette = {v: _COLOURS[i % len(_COLOURS)] for i, v in enumerate(variants)}
    offset = 0.6 / max(len(variants), 1)
    for i, variant in enumerate(variants):
        rows = data[data["variant"] == variant].set_index("metric").reindex(metrics)
        y = np.arange(len(metrics)) + i * offset
        value = rows["uplift"].to_numpy(dtype=float) * 100
        low = rows["uplift_ci_low"].to_numpy(dtype=float) * 100
        high = rows["uplift_ci_high"].to_numpy(dtype=float) * 100
        errors = np.nan_to_num(np.vstack([value - low, high - value]), nan=0.0).clip(min=0.0)
        ax.errorbar(value, y, xerr=errors, fmt="o", color=palette[variant], capsize=3, label=variant)
        if len(variants) == 1:
            for x, yy, hi in zip(value, y, high, strict=True):
                if math.isfinite(x):
                    end = hi if math.isfinite(hi) else x
                    ax.annotate(
                        f"{x:+.1f}%", (end, yy), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8
                    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(np.arange(len(metrics)) + offset * (len(variants) - 1) / 2, labels=list(metrics))
    ax.invert_yaxis()
    ax.margins(x=0.12)
    percent_axis(ax.xaxis)
    ax.set_xlabel("change vs baseline, % (mean and 95% CI, paired replications)")
    versus = f" {baseline}" if baseline else " the baseline"
    if len(variants) == 1:
        ax.set_title(f"{variants[0]} against{versus}")
    else:
        ax.set_title(f"Change against{versus}")
        # as many columns as fit the figure's width at this font size (about 110 characters)
        ncols = max(1, min(len(variants), 4, 110 // (max(len(v) for v in variants) + 6)))
        fig.legend(loc="outside lower center", ncols=ncols, frameon=False, fontsize="small")
    return fig


def replications_figure(table: pd.DataFrame, metrics: Sequence[str], *, baseline: str) -> Figure:
    """Per metric: each replication's value per variant, with the mean and its 95% interval."""
    from analysis.stats import mean_interval  # noqa: PLC0415 - keeps module import light

    variants = list(dict.fromkeys(table["variant"]))
    palette = colours(variants, baseline)
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(11, 2.6 * rows), layout="constrained")
    for k, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, k + 1)
        for i, variant in enumerate(variants):
            values = table.loc[table["variant"] == variant, metric].to_numpy(dtype=float)
            jitter = np.linspace(-0.15, 0.15, values.size) if values.size > 1 else np.zeros(values.size)
            ax.scatter(i + jitter, values, s=8, color=palette[variant], alpha=0.5)
            est = mean_interval(values)
            if math.isfinite(est.ci_low):
                ax.errorbar(i + 0.3, est.value, yerr=est.half_width, fmt="_", color="black", capsize=4)
        ax.set_xticks(range(len(variants)), labels=variants, fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle("Replications per variant (bar: mean and 95% CI)")
    return fig


def write_report_plots(
    results: Mapping[str, Sequence[RunResult]],
    table: pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    baseline: str,
    metrics: Sequence[str],
    out_dir: Path,
) -> list[Path]:
    """Draw the experiment's standard plots into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    means = table.groupby("variant", sort=False)[list(metrics)].mean()
    figures: dict[str, Figure] = {}
    for key, title, label in DISTRIBUTIONS:
        metric = f"{key}_mean"
        hists = merged_histograms(results, key)
        mean_of = {v: float(means.loc[v, metric]) if metric in means.columns else math.nan for v in results}
        figures[f"distribution_{key}.png"] = distribution_figure(
            hists, title=title, xlabel=label, baseline=baseline, means=mean_of
        )
    figures["funnel.png"] = funnel_figure(table, baseline=baseline)
    if not comparison.empty:
        figures["uplift.png"] = uplift_figure(comparison, metrics, baseline=baseline)
    figures["replications.png"] = replications_figure(table, metrics, baseline=baseline)
    return save_figures(figures, out_dir)


def save_png(fig: Figure, path: Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (to ``.<name>.part``, then renamed) and close it."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    try:
        fig.savefig(part, format="png", dpi=dpi)
        part.replace(path)
    finally:
        plt.close(fig)
        part.unlink(missing_ok=True)
    return path


def save_figures(figures: Mapping[str, Figure], out_dir: Path, *, dpi: int = 110) -> list[Path]:
    """Save each figure as ``out_dir / name``; return the files written, in order."""
    paths = []
    for name, fig in figures.items():
        path = out_dir / name
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def write_variant_plots(
    results: Mapping[str, Sequence[RunResult]],
    comparison: pd.DataFrame,
    *,
    variant: str,
    baseline: str,
    metrics: Sequence[str],
    out_dir: Path,
) -> list[Path]:
    """A child run's own plots in ``out_dir``: its distributions against the baseline's, and its uplift.

    ``results`` holds the variant's replications and the baseline's paired ones (the variant
    alone for the baseline); ``comparison`` its rows against the baseline (empty for the baseline).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"distributions.png": variant_distributions_figure(results, variant=variant, baseline=baseline)}
    if not comparison.empty:
        figures["uplift.png"] = uplift_figure(comparison, metrics, baseline=baseline)
    return save_figures(figures, out_dir, dpi=100)


#: The monthly series drawn per variant: series name (:func:`analysis.panel.monthly_summary`), axis label.
MONTHLY_SERIES: tuple[tuple[str, str], ...] = (
    ("orders", "orders booked in the period"),
    ("revenue", "revenue booked in the period"),
    ("contacted_in_sla_share", "first contacts within the follow-up SLA (share)"),
    ("rep_utilisation", "rep utilisation (all work / working time)"),
)


def _period_end(start: dt.date, label: str) -> dt.date:
    """The day after the period that starts on ``start`` (labels ``2024-03`` or ``2024-W11``)."""
    if "-W" in label:
        return start + dt.timedelta(days=7)
    return dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)


def monthly_figure(
    summary: pd.DataFrame,
    *,
    baseline: str,
    start: dt.date,
    warmup_days: float,
    horizon_days: float,
    end_days: float,
    series: Sequence[tuple[str, str]] = MONTHLY_SERIES,
) -> Figure:
    """Per series, one line per variant over the periods with its 95% band across replications.

    ``summary`` is :func:`analysis.panel.monthly_summary`. Periods that the run does not cover in
    full (cut by the start or by the end of the drain) are left out; the warm-up
    ``[0, warmup_days)`` and the drain ``[horizon_days, end_days)`` are shaded: leads arriving
    there are not measured, and the queues are filling or the arrivals of the cohort are over.
    """
    first, last = start, start + dt.timedelta(days=end_days)
    frame = summary.copy()
    frame["_start"] = [dt.date.fromisoformat(str(s)) for s in frame["period_start"]]
    frame["_end"] = [_period_end(s, str(p)) for s, p in zip(frame["_start"], frame["period"], strict=True)]
    frame = frame[(frame["_start"] >= first) & (frame["_end"] <= last)]
    frame["_mid"] = [
        pd.Timestamp(s) + (pd.Timestamp(e) - pd.Timestamp(s)) / 2
        for s, e in zip(frame["_start"], frame["_end"], strict=True)
    ]
    shown = [(name, label) for name, label in series if name in set(frame["series"])]
    variants = list(dict.fromkeys(frame["variant"]))
    palette = colours(variants, baseline)
    cols = 2
    rows = max(1, math.ceil(len(shown) / cols))
    fig = Figure(figsize=(11, 3.2 * rows + 0.8), layout="constrained")
    warm_end = pd.Timestamp(start + dt.timedelta(days=warmup_days))
    drain_start = pd.Timestamp(start + dt.timedelta(days=horizon_days))
    for k, (name, label) in enumerate(shown):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.axvspan(pd.Timestamp(first), warm_end, color="#eeeeee", zorder=0)
        ax.axvspan(drain_start, pd.Timestamp(last), color="#eeeeee", zorder=0)
        for variant in variants:
            data = frame[(frame["variant"] == variant) & (frame["series"] == name)].sort_values("_mid")
            if data.empty:
                continue
            x = data["_mid"].to_numpy()
            ax.plot(
                x, data["mean"].to_numpy(dtype=float), marker="o", markersize=3, color=palette[variant], label=variant
            )
            ax.fill_between(
                x,
                data["ci_low"].to_numpy(dtype=float),
                data["ci_high"].to_numpy(dtype=float),
                color=palette[variant],
                alpha=0.2,
                linewidth=0,
            )
        ax.set_title(label, fontsize="medium")
        ax.set_xlim(pd.Timestamp(first), pd.Timestamp(last))
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
        ax.tick_params(labelsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}"))
        for edge, text, align in ((warm_end, "warm-up", "right"), (drain_start, "drain", "left")):
            ax.annotate(
                text,
                (edge, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-3 if align == "right" else 3, -3),
                textcoords="offset points",
                ha=align,
                va="top",
                fontsize=7,
                color="#555555",
            )
    handles = [Line2D([], [], color=palette[v], linewidth=1.8, label=v) for v in variants]
    fig.legend(handles=handles, loc="outside lower center", ncols=max(min(len(handles), 4), 1), frameon=False)
    period = "week" if frame["period"].astype(str).str.contains("-W").any() else "month"
    fig.suptitle(f"Per {period}: mean over replications, 95% band; shaded: warm-up and drain (leads not measured)")
    return fig


def write_monthly_plot(
    summary: pd.DataFrame,
    path: Path,
    *,
    baseline: str,
    start: dt.date,
    warmup_days: float,
    horizon_days: float,
    end_days: float,
) -> Path | None:
    """Draw :func:`monthly_figure` to ``path``; None (and no file) when the summary is empty."""
    if summary.empty:
        return None
    fig = monthly_figure(
        summary, baseline=baseline, start=start, warmup_days=warmup_days, horizon_days=horizon_days, end_days=end_days
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
