"""Plots of a customer base: tier shares, the R x F map with tiers, P(alive) by recency, the held-out check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analysis.customer_base import CustomerBase, Holdout
from analysis.plots import save_figures

#: One colour per tier name of the plan (others cycle through the rest).
TIER_COLOURS = {
    "high_value": "#2ca02c",
    "potential": "#1f77b4",
    "low_value": "#ff7f0e",
    "dormant": "#d62728",
    "maintain": "#7f7f7f",
}
_OTHER = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def tier_colours(tiers: list[str]) -> dict[str, str]:
    """A stable colour per tier."""
    others = iter(_OTHER * (len(tiers) // len(_OTHER) + 1))
    return {t: TIER_COLOURS.get(t) or next(others) for t in tiers}


def tier_shares_figure(base: CustomerBase) -> Figure:
    """Share of customers (and of revenue, with amounts) per tier, with the counts."""
    summary = base.summary
    tiers = list(summary.counts)
    colours = tier_colours(tiers)
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(tiers))
    shares = [summary.shares[t] for t in tiers]
    bars = ax.barh(y, shares, color=[colours[t] for t in tiers], height=0.6 if summary.revenue_shares is None else 0.4)
    for bar, tier in zip(bars, tiers, strict=True):
        ax.annotate(
            f" {summary.counts[tier]:,} ({summary.shares[tier]:.0%})",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=9,
        )
    if summary.revenue_shares is not None:
        revenue = [summary.revenue_shares[t] for t in tiers]
        ax.barh(y + 0.4, revenue, height=0.4, color=[colours[t] for t in tiers], alpha=0.45, label="share of revenue")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(y + (0 if summary.revenue_shares is None else 0.2), tiers)
    ax.invert_yaxis()
    ax.set_xlim(0, max(*shares, 0.05) * 1.3)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    gaps = sum(summary.gap_counts.values())
    note = "" if summary.monetary_known else "; no amounts: M conditions not applied"
    ax.set_title(
        f"Customers per tier as of {base.as_of.date()}\n({summary.total:,} customers; "
        f"{gaps:,} in the rules' gaps{note})",
        fontsize=10,
    )
    ax.set_xlabel("share of customers")
    return fig


def rf_map_figure(base: CustomerBase) -> Figure:
    """Each customer at (recency, frequency), coloured by tier: where the rules' boxes and gaps lie."""
    customers = base.customers
    tiers = list(base.summary.counts)
    colours = tier_colours(tiers)
    fig = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # jitter only, so that customers on the same day and count do not hide each other
    for tier in tiers:
        part = customers[customers["tier"] == tier]
        if part.empty:
            continue
        ax.scatter(
            part["recency_days"] + rng.uniform(-0.4, 0.4, len(part)),
            part["frequency_12m"] + rng.uniform(-0.25, 0.25, len(part)),
            s=7,
            alpha=0.6,
            color=colours[tier],
            label=f"{tier} ({len(part):,})",
            linewidths=0,
        )
    ax.set_yscale("symlog", linthresh=4)
    ax.set_xlabel("recency: days since the last purchase")
    ax.set_ylabel("frequency: purchases in the trailing window")
    ax.set_title(f"Recency x frequency with the rule tiers, as of {base.as_of.date()}", fontsize=10)
    ax.legend(fontsize=8, markerscale=2.5, loc="upper right")
    return fig


def p_alive_figure(base: CustomerBase) -> Figure:
    """The model's P(alive) against recency, by purchase frequency: where a long gap means a lost customer."""
    customers = base.customers
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    groups = [(1, 1, "1 purchase"), (2, 3, "2-3"), (4, 11, "4-11"), (12, 10**9, "12 or more")]
    cmap = ("#9ecae1", "#4292c6", "#2171b5", "#08306b")
    for (low, high, label), colour in zip(groups, cmap, strict=True):
        part = customers[(customers["frequency_12m"] >= low) & (customers["frequency_12m"] <= high)]
        if part.empty:
            continue
        ax.scatter(part["recency_days"], part["p_alive"], s=8, alpha=0.6, color=colour, label=label, linewidths=0)
    single = customers[customers["x"] == 0]
    if not single.empty:
        ax.annotate(
            f"{len(single):,} customers who bought once: alive by the model's assumption\n"
            "(BG/NBD drops a customer out only after a repeat purchase); the rules call them lapsed",
            (float(single["recency_days"].median()), 1.0),
            xytext=(0.3, 0.55),
            textcoords="axes fraction",
            fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey", "alpha": 0.9},
            arrowprops={"arrowstyle": "->", "color": "grey"},
        )
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("recency: days since the last purchase")
    ax.set_ylabel("P(alive) (BG/NBD)")
    ax.set_title(
        "The model's P(alive) by recency and purchases in the window:\nfrequent buyers who went quiet are likely lost",
        fontsize=10,
    )
    ax.legend(title="purchases in the window", fontsize=8, title_fontsize=8)
    return fig


def holdout_figure(holdout: Holdout) -> Figure:
    """Mean purchases in the held-out period by calibration-period repeat purchases: actual, model, naive."""
    table = holdout.by_frequency
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(table))
    ax.plot(x, table["actual"], "o-", color="black", label="actual")
    ax.plot(x, table["predicted"], "s--", color="#1f77b4", label="BG/NBD prediction")
    ax.plot(x, table["naive"], "^:", color="#ff7f0e", label="naive: the customer's past rate")
    ax.set_xticks(x, [f"{b}\n({n:,})" for b, n in zip(table["x"], table["customers"], strict=True)])
    ax.set_xlabel("repeat purchases before the snapshot (customers)")
    ax.set_ylabel(f"mean purchases in the next {holdout.days} days")
    m = holdout.metrics
    ax.set_title(
        f"Held-out check: total {m['actual_total']:,.0f} actual, {m['predicted_total']:,.0f} predicted "
        f"({m['predicted_total_error']:+.0%}); MAE {m['predicted_mae']:.2f} (naive {m['naive_mae']:.2f})",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return fig


def write_customer_plots(base: CustomerBase, out_dir: Path) -> list[Path]:
    """Draw the customer base's plots into ``out_dir``; return the files written."""
    figures = {"tier_shares.png": tier_shares_figure(base), "rf_map.png": rf_map_figure(base)}
    if base.purchase_model is not None:
        figures["p_alive_recency.png"] = p_alive_figure(base)
    if base.holdout is not None:
        figures["holdout.png"] = holdout_figure(base.holdout)
    return save_figures(figures, out_dir)
