"""Per-tier views of a study's runs: who is in each tier, what the touches cost and caused, and how tiers move.

Inputs are the panel frames of :func:`analysis.panel.panel_frame` (``tiers``, ``tier_transitions``,
``outreach`` and ``pipeline``) stacked over variants; figures are means over replications.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesboost.panel import NEW_ACCOUNT_TIER, OUTREACH_FIELDS, PROSPECT_TIER

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def tier_breakdown(
    tiers: pd.DataFrame, outreach: pd.DataFrame, pipeline: pd.DataFrame, *, window: tuple[str, str]
) -> pd.DataFrame:
    """Per variant and tier, means over replications, for the periods starting in ``window`` (ISO dates, [a, b)).

    Accounts, truly alive share and the model's mean P(alive) are averaged over the window's
    snapshots; touches, costs and effects and the cohort's orders and revenue by the tier the
    account had when it asked are summed over the window. A tier absent from a snapshot or a
    replication counts as zero there (means divide by every snapshot and every replication).
    """
    keys = ["variant", "tier"]
    runs = replications_of(pipeline if not pipeline.empty else tiers)
    parts = []
    if not tiers.empty:
        t = _in_window(tiers, window)
        snapshots = t.groupby("variant")["period_start"].nunique()
        fields = ["accounts", "alive", "p_alive_sum"]
        snap = _per_replication(t, keys, fields, runs)
        snap = snap.div(snap.index.get_level_values("variant").map(snapshots).to_numpy(), axis=0)
        snap["alive_share"] = snap["alive"] / snap["accounts"]
        snap["p_alive_mean"] = snap["p_alive_sum"] / snap["accounts"]
        parts.append(snap[["accounts", "alive_share", "p_alive_mean"]])
    if not outreach.empty:
        o = _in_window(outreach, window)
        parts.append(_per_replication(o, keys, [f for f in OUTREACH_FIELDS if f in o.columns], runs))
    if not pipeline.empty:
        p = pipeline[pipeline["cohort"].astype(bool) & (pipeline["segment"] == "existing")]
        parts.append(_per_replication(p, keys, ["orders", "revenue", "gross_profit"], runs))
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    return out[~out["tier"].isin([PROSPECT_TIER])]


def channel_breakdown(
    outreach: pd.DataFrame, *, window: tuple[str, str], runs: pd.Series | None = None
) -> pd.DataFrame:
    """Per variant and channel, means over replications of the window's touches, costs and effects.

    ``runs`` (variant -> replications; default: those in ``outreach``) is what the sums are divided
    by. ``requests_per_touch`` and ``cost_per_response`` say what a channel bought; the ``offer``
    row holds the margin given away by win-back discounts.
    """
    if outreach.empty:
        return pd.DataFrame()
    o = _in_window(outreach, window)
    fields = [f for f in OUTREACH_FIELDS if f in o.columns]
    out = _per_replication(o, ["variant", "channel"], fields, replications_of(outreach) if runs is None else runs)
    out = out.reset_index()
    touches = out["touches"].where(out["touches"] > 0)
    out["requests_per_touch"] = out["requests"] / touches
    out["cost_per_response"] = out["cost"] / out["responses"].where(out["responses"] > 0)
    return out


def replications_of(frame: pd.DataFrame) -> pd.Series:
    """Replications per variant in a panel frame (pass the pipeline's: every run has pipeline rows)."""
    return frame.groupby("variant")["replication"].nunique()


def _in_window(frame: pd.DataFrame, window: tuple[str, str]) -> pd.DataFrame:
    a, b = window
    return frame[(frame["period_start"] >= a) & (frame["period_start"] < b)]


def _per_replication(frame: pd.DataFrame, keys: list[str], fields: list[str], runs: pd.Series) -> pd.DataFrame:
    """Sums per ``keys`` over periods and replications, divided by the variant's replications."""
    sums = frame.groupby(keys)[fields].sum()
    return sums.div(sums.index.get_level_values("variant").map(runs).to_numpy(), axis=0)


def transition_matrix(transitions: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Mean accounts per replication moving from each tier (rows) to each tier (columns), all snapshots summed."""
    t = transitions[(transitions["variant"] == variant) & (transitions["from_tier"] != NEW_ACCOUNT_TIER)]
    if t.empty:
        return pd.DataFrame()
    reps = t["replication"].nunique()
    return t.pivot_table(index="from_tier", columns="to_tier", values="accounts", aggfunc="sum", fill_value=0) / reps


def write_transition_plot(transitions: pd.DataFrame, variants: list[str], path: Path) -> Path | None:
    """Heat maps of the share of each tier's accounts that move to each tier at a snapshot, one per variant."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    shown = [(v, transition_matrix(transitions, v)) for v in variants]
    shown = [(v, m) for v, m in shown if not m.empty]
    if not shown:
        return None
    order = list(dict.fromkeys(t for _, m in shown for t in [*m.index, *m.columns]))
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown) + 0.6, 4.4), squeeze=False)
    for ax, (variant, matrix) in zip(axes[0], shown, strict=True):
        full = matrix.reindex(index=order, columns=order, fill_value=0.0)
        share = full.div(full.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)
        ax.imshow(share.to_numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(len(order)):
            for j in range(len(order)):
                value = share.iat[i, j]
                if value >= 0.005:
                    ax.text(
                        j,
                        i,
                        f"{value:.0%}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > 0.6 else "black",
                    )
        ax.set_xticks(range(len(order)), [o.replace("_", " ") for o in order], rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(order)), [o.replace("_", " ") for o in order], fontsize=7)
        ax.set_title(variant, fontsize=9)
        ax.set_xlabel("tier at the next snapshot", fontsize=8)
    axes[0][0].set_ylabel("tier at a snapshot", fontsize=8)
    fig.suptitle("Tier transitions between monthly snapshots (share of the tier's accounts)", fontsize=10)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.94))
    return _save(fig, path)


def write_tier_share_plot(tiers: pd.DataFrame, variants: list[str], path: Path) -> Path | None:
    """Accounts per tier at each monthly snapshot, mean over replications, one panel per variant."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    shown = [v for v in variants if not tiers[tiers["variant"] == v].empty]
    if not shown:
        return None
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown) + 0.6, 3.4), squeeze=False, sharey=True)
    for ax, variant in zip(axes[0], shown, strict=True):
        t = tiers[tiers["variant"] == variant]
        wide = t.pivot_table(index="period_start", columns="tier", values="accounts", aggfunc="sum", fill_value=0)
        wide = wide / t["replication"].nunique()
        wide.index = pd.to_datetime(wide.index)
        ax.stackplot(wide.index, wide.T.to_numpy(), labels=[c.replace("_", " ") for c in wide.columns], alpha=0.85)
        ax.set_title(variant, fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes[0][0].set_ylabel("accounts")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("Accounts per tier at each monthly snapshot (mean over replications)", fontsize=10)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.93))
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from analysis.plots import save_figures  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return save_figures({path.name: fig}, path.parent)[0]
    finally:
        plt.close(fig)
