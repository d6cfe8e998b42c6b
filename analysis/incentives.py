"""What an incentive scheme did to the reps: attainment at settlement, where their hours went, what it paid.

Inputs are the ``reps`` and ``workers`` panel frames (one row per rep slot, or worker, per
calendar month) stacked over variants, with ``variant`` and ``replication`` columns. A rep is
in post in a month whose ``status`` is not ``vacant``. Windows are ISO dates ``[a, b)`` on
``period_start``; ``None`` takes every period. Shares and rates are ratios of sums, never
means of per-row ratios; figures per variant pool or average the replications as each says.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.panel import in_window
from salesboost.panel import NOT_BUSY

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Status of a rep slot with nobody in it.
VACANT = "vacant"
#: ``*_hours`` columns of the workers table that are totals, not kinds of work.
TOTAL_HOURS: tuple[str, ...] = ("available_hours", "busy_hours")
#: Columns of :func:`attainment_distribution`.
ATTAINMENT_COLUMNS: tuple[str, ...] = ("variant", "n", "share_reaching_quota", "mean", "median", "p10", "p90")
#: Columns of :func:`payout_summary`.
PAYOUT_COLUMNS: tuple[str, ...] = (
    "variant",
    "replication",
    "payout",
    "revenue",
    "payout_share",
    "leavers",
    "rep_months",
    "attrition_annual",
    "settled_periods",
    "floor_cut_share",
)
#: Size of every figure, inches at :data:`DPI` (1000 x 600 pixels).
FIGSIZE = (10.0, 6.0)
DPI = 100


def work_kinds(workers: pd.DataFrame) -> list[str]:
    """The kinds of work in a workers frame: each ``<kind>_hours`` column but the totals, in column order."""
    return [c.removesuffix("_hours") for c in workers.columns if c.endswith("_hours") and c not in TOTAL_HOURS]


def settled_attainment(reps: pd.DataFrame, window: tuple[str, str] | None = None) -> pd.DataFrame:
    """The rows of reps in post that end a settlement period in ``window`` and have a finite attainment."""
    if reps.empty:
        return reps
    r = in_window(reps, window)
    keep = (r["settled"] == 1) & (r["status"] != VACANT) & np.isfinite(r["attainment"].astype(float))
    return r[keep]


def attainment_distribution(reps: pd.DataFrame, window: tuple[str, str] | None = None) -> pd.DataFrame:
    """Per variant, attainment at settlement of reps in post, pooled over replications.

    ``n`` is the settlement periods counted, ``share_reaching_quota`` those with attainment of
    at least 1; ``mean``, ``median``, ``p10`` and ``p90`` are of the attainment.
    """
    s = settled_attainment(reps, window)
    if s.empty:
        return pd.DataFrame(columns=list(ATTAINMENT_COLUMNS))
    a = s.assign(reached=(s["attainment"] >= 1.0).astype(float)).groupby("variant", sort=True)
    out = pd.DataFrame(
        {
            "n": a["attainment"].size(),
            "share_reaching_quota": a["reached"].mean(),
            "mean": a["attainment"].mean(),
            "median": a["attainment"].median(),
            "p10": a["attainment"].quantile(0.1),
            "p90": a["attainment"].quantile(0.9),
        }
    )
    return out.rename_axis("variant").reset_index()[list(ATTAINMENT_COLUMNS)]


def reps_reaching_quota_by_replication(reps: pd.DataFrame, window: tuple[str, str] | None = None) -> pd.DataFrame:
    """Per variant and replication: settlement periods of reps in post (``n``) and the share reaching quota."""
    columns = ["variant", "replication", "n", "share_reaching_quota"]
    s = settled_attainment(reps, window)
    if s.empty:
        return pd.DataFrame(columns=columns)
    g = s.assign(reached=(s["attainment"] >= 1.0).astype(float)).groupby(["variant", "replication"], sort=True)
    out = pd.DataFrame({"n": g["reached"].size(), "share_reaching_quota": g["reached"].mean()})
    return out.reset_index()[columns]


def effort_by_kind(workers: pd.DataFrame, kinds: list[str] | None = None) -> pd.DataFrame:
    """Per variant and period, the reps' hours by kind summed over reps, mean over the variant's replications.

    Columns: variant, period, period_start, ``<kind>_hours`` for ``kinds`` (default: every kind
    in the frame), busy_hours, and ``<kind>_share`` of busy hours for each kind that is busy
    time (not ``absence``). A replication without rep rows in a period counts as zero hours.
    """
    chosen = _kinds(workers, kinds)
    hours = [f"{k}_hours" for k in chosen]
    keys = ["variant", "period", "period_start"]
    if workers.empty:
        return pd.DataFrame(columns=[*keys, *hours, "busy_hours", *_share_columns(chosen)])
    r = workers[workers["role"] == "rep"]
    runs = workers.groupby("variant")["replication"].nunique()
    sums = r.groupby(keys, sort=True)[[*hours, "busy_hours"]].sum()
    out = sums.div(sums.index.get_level_values("variant").map(runs).to_numpy(), axis=0).reset_index()
    return _with_shares(out, chosen)


def effort_shares(workers: pd.DataFrame, window: tuple[str, str] | None = None) -> pd.DataFrame:
    """Per variant and replication, the reps' busy hours in ``window`` and each busy kind's share of them."""
    chosen = _kinds(workers, None)
    keys = ["variant", "replication"]
    if workers.empty:
        return pd.DataFrame(columns=[*keys, "busy_hours", *_share_columns(chosen)])
    r = in_window(workers[workers["role"] == "rep"], window)
    hours = [f"{k}_hours" for k in chosen]
    out = _with_shares(r.groupby(keys, sort=True)[[*hours, "busy_hours"]].sum().reset_index(), chosen)
    return out[[*keys, "busy_hours", *_share_columns(chosen)]]


def payout_summary(reps: pd.DataFrame, window: tuple[str, str] | None = None) -> pd.DataFrame:
    """Per variant and replication, over ``window``: what the scheme paid, for what revenue, and who left.

    ``payout`` and ``revenue`` are totals, ``payout_share`` their ratio; ``leavers`` sums
    ``left``, ``rep_months`` counts rep months in post and ``attrition_annual`` is leavers per
    rep-year in post (rep months / 12). ``floor_cut_share`` is the share of the
    ``settled_periods`` of reps in post whose pay a floor cut.
    """
    if reps.empty:
        return pd.DataFrame(columns=list(PAYOUT_COLUMNS))
    r = in_window(reps, window)
    in_post = r["status"] != VACANT
    work = r.assign(
        in_post=in_post.astype(int),
        settled_in_post=((r["settled"] == 1) & in_post).astype(int),
        cut=((r["settled"] == 1) & in_post & (r["floor_cut"].fillna(0.0) > 0)).astype(int),
    )
    g = work.groupby(["variant", "replication"], sort=True)
    out = pd.DataFrame(
        {
            "payout": g["payout"].sum().astype(float),
            "revenue": g["revenue"].sum().astype(float),
            "leavers": g["left"].sum().astype(int),
            "rep_months": g["in_post"].sum().astype(int),
            "settled_periods": g["settled_in_post"].sum().astype(int),
            "cuts": g["cut"].sum(),
        }
    ).reset_index()
    out["payout_share"] = out["payout"] / out["revenue"].where(out["revenue"] > 0)
    out["attrition_annual"] = out["leavers"] / (out["rep_months"] / 12.0).where(out["rep_months"] > 0)
    out["floor_cut_share"] = out.pop("cuts") / out["settled_periods"].where(out["settled_periods"] > 0)
    return out[list(PAYOUT_COLUMNS)]


def plot_attainment_distribution(reps: pd.DataFrame, path: Path) -> Path:
    """Empirical CDF of attainment at settlement of reps in post, one line per variant, quota marked at 100%."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    s = settled_attainment(reps)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if s.empty:
        _no_data(ax)
    else:
        for variant, group in s.groupby("variant", sort=True):
            values = np.sort(group["attainment"].to_numpy(dtype=float))
            share = np.arange(1, len(values) + 1) / len(values)
            reached = float((values >= 1.0).mean())
            ax.step(values, share, where="post", label=f"{variant} ({reached:.0%} reach quota, n={len(values)})")
        right = max(1.5, float(s["attainment"].quantile(0.99)) * 1.05)
        ax.set_xlim(0.0, right)
    ax.set_ylim(0.0, 1.0)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1.0, label="quota (100%)")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("attainment at settlement (period revenue / period quota, %)")
    ax.set_ylabel("settlement periods at or below (cumulative %)")
    ax.set_title("Quota attainment of reps in post at settlement, all replications pooled")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_effort_by_kind(workers: pd.DataFrame, path: Path) -> Path:
    """Reps' busy hours by kind of work per month, stacked, mean over replications, one panel per variant."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: PLC0415

    table = effort_by_kind(workers)
    busy = [k for k in _kinds(workers, None) if k not in NOT_BUSY]
    shown = [k for k in busy if table[f"{k}_hours"].sum() > 0] if not table.empty else []
    variants = sorted(table["variant"].unique()) if shown else []
    if not variants:
        fig, ax = plt.subplots(figsize=FIGSIZE)
        _no_data(ax)
        ax.set_xlabel("month")
        ax.set_ylabel("rep hours per month")
        ax.set_title("Reps' busy hours by kind of work")
        fig.tight_layout()
        return _save(fig, path)
    rows = math.ceil(len(variants) / 3)
    cols = math.ceil(len(variants) / rows)
    fig, axes = plt.subplots(rows, cols, figsize=FIGSIZE, squeeze=False, sharex=True, sharey=True)
    cmap = plt.get_cmap("tab20")
    colours = [cmap(i % cmap.N) for i in range(len(shown))]
    labels = [k.replace("_", " ") for k in shown]
    for ax, variant in zip(axes.flat, variants, strict=False):
        t = table[table["variant"] == variant].sort_values("period_start")
        x = pd.to_datetime(t["period_start"])
        ax.stackplot(x, t[[f"{k}_hours" for k in shown]].T.to_numpy(), labels=labels, colors=colours, alpha=0.9)
        ax.set_title(str(variant), fontsize=10)
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(variants) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("rep hours per month")
    for ax in axes[-1, :]:
        ax.set_xlabel("month")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles[::-1], names[::-1], loc="center right", fontsize=8, title="kind of work")
    fig.suptitle("Reps' busy hours by kind of work (sum over reps, mean over replications)", fontsize=11)
    fig.tight_layout(rect=(0.0, 0.0, 0.84, 0.95))
    return _save(fig, path)


def plot_payout_tradeoff(summary: pd.DataFrame, path: Path) -> Path:
    """Net profit against payout cost, one labelled point per variant, with net profit's interval where given.

    ``summary`` has per variant (a ``variant`` column, else the index) ``payout_cost`` and
    ``net_profit``, and optionally ``net_profit_low`` and ``net_profit_high``.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import StrMethodFormatter  # noqa: PLC0415

    frame = summary if "variant" in summary.columns else summary.rename_axis("variant").reset_index()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if frame.empty:
        _no_data(ax)
    has_interval = {"net_profit_low", "net_profit_high"} <= set(frame.columns)
    for i, row in enumerate(frame.itertuples(index=False)):
        x, y = float(row.payout_cost), float(row.net_profit)
        colour = f"C{i % 10}"
        if has_interval:
            low = y - float(row.net_profit_low)
            high = float(row.net_profit_high) - y
            err = np.nan_to_num(np.array([[low], [high]]), nan=0.0)
            ax.errorbar(x, y, yerr=err, fmt="o", color=colour, capsize=4, markersize=7, label=str(row.variant))
        else:
            ax.plot(x, y, "o", color=colour, markersize=7, label=str(row.variant))
        ax.annotate(str(row.variant), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=9)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("payout cost (currency per run)")
    ax.set_ylabel("net profit (currency per run)")
    interval = "; bars: interval of net profit" if has_interval else ""
    ax.set_title(f"Incentive cost against net profit by variant (mean over replications{interval})")
    ax.grid(alpha=0.3)
    if not frame.empty:
        ax.legend(loc="best", fontsize=9, title="variant")
    fig.tight_layout()
    return _save(fig, path)


def plot_kpi_profile(profile: pd.DataFrame, path: Path, *, baseline: str | None = None) -> Path:
    """Grouped horizontal bars of each variant's relative difference from ``baseline`` per KPI, zero marked.

    ``profile`` has one row per variant (its index) and one column per KPI; values are relative
    differences (0.1 = 10% above the baseline).
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=FIGSIZE)
    kpis = [str(c) for c in profile.columns]
    variants = [str(v) for v in profile.index]
    if profile.empty:
        _no_data(ax)
    else:
        height = 0.8 / len(variants)
        y = np.arange(len(kpis), dtype=float)
        for i, variant in enumerate(variants):
            values = profile.iloc[i].to_numpy(dtype=float)
            offset = (i - (len(variants) - 1) / 2) * height
            ax.barh(y + offset, values, height=height * 0.95, label=variant, color=f"C{i % 10}")
        ax.set_yticks(y, [k.replace("_", " ") for k in kpis])
        ax.invert_yaxis()
        ax.legend(loc="best", fontsize=9, title="variant")
    ax.axvline(0.0, color="black", linewidth=1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    against = f" {baseline}" if baseline else " the baseline"
    ax.set_xlabel(f"relative difference from{against} (%)")
    ax.set_ylabel("KPI")
    ax.set_title(f"KPI profile of each variant relative to{against}")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _kinds(workers: pd.DataFrame, kinds: list[str] | None) -> list[str]:
    present = work_kinds(workers)
    if kinds is None:
        return present
    missing = [k for k in kinds if k not in present]
    if missing:
        raise ValueError(f"kinds {missing} have no <kind>_hours column; present: {', '.join(present)}")
    return list(kinds)


def _share_columns(kinds: list[str]) -> list[str]:
    return [f"{k}_share" for k in kinds if k not in NOT_BUSY]


def _with_shares(frame: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """``frame`` with ``<kind>_share`` = kind hours / busy hours (NaN where no busy hours) per busy kind."""
    busy = frame["busy_hours"].where(frame["busy_hours"] > 0)
    shares = {f"{k}_share": frame[f"{k}_hours"] / busy for k in kinds if k not in NOT_BUSY}
    return frame.assign(**shares)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, fontsize=14)


def _save(fig: Figure, path: Path) -> Path:
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, path, dpi=DPI)
