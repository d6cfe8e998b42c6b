"""Shift-share (Kitagawa) decomposition of a change in a rate KPI into mix and rate effects.

A rate KPI is a ratio of sums, ``C = N / D`` (wins / leads, qualified / leads, revenue /
wins). Split by groups ``s`` it is ``C = sum_s w_s c_s`` with ``w_s = D_s / D`` the group's
share of the denominator and ``c_s = N_s / D_s`` its own rate. Between a ``before`` and an
``after`` side the change splits exactly into

* the mix effect ``sum_s (w1_s - w0_s) c0_s``: the groups' shares moved, rates held;
* the rate effect ``sum_s w1_s (c1_s - c0_s)``: the groups' rates moved, at the new shares;

so the "5W1H drill-down" of a KPI change (who: segment, tier; what: product; where: region,
channel; when: period) is computed instead of asserted. The plan's own example, new leads
70% -> 90% with conversion 15% -> 10%, is a pure mix effect if per-segment conversion held
(:func:`plan_example`; /work/shared/reference/domain.md section 0).

A group with no denominator on one side takes its rate from the other side, so a group that
appears contributes only mix and a group that disappears has no rate effect.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Joins the columns of a crossed dimension and the values of its groups: the multiplication sign.
CROSS = "\u00d7"
#: Per-group columns of :attr:`ShiftShare.table`, after the ``by`` columns.
GROUP_COLUMNS: tuple[str, ...] = (
    "numerator_before",
    "denominator_before",
    "numerator_after",
    "denominator_after",
    "weight_before",
    "weight_after",
    "rate_before",
    "rate_after",
    "mix_effect",
    "rate_effect",
    "effect",
)
#: Columns of :func:`drill_down`.
DRILL_DOWN_COLUMNS: tuple[str, ...] = ("dimension", "group", *GROUP_COLUMNS, "dimension_mix", "dimension_rate")
#: Most dimensions :func:`plot_drill_down` draws (the first ones of its frame).
MAX_PANELS = 6
#: Most groups drawn in one panel of :func:`plot_drill_down` (those with the largest effect).
MAX_BARS = 15
DPI = 100

_MINUS = "\u2212"
_ARROW = "\u2192"


@dataclass(frozen=True, eq=False)
class ShiftShare:
    """The mix and rate effects of the change of a rate KPI, in total and per group (see the module)."""

    by: tuple[str, ...]
    table: pd.DataFrame  # one row per group: the ``by`` columns, then GROUP_COLUMNS
    rate_before: float
    rate_after: float
    mix: float
    rate: float

    @property
    def change(self) -> float:
        """``rate_after - rate_before``; equals ``mix + rate`` up to float rounding."""
        return self.rate_after - self.rate_before


def shift_share(
    before: pd.DataFrame, after: pd.DataFrame, *, by: str | Sequence[str], numerator: str, denominator: str
) -> ShiftShare:
    """Decompose the change of ``sum(numerator) / sum(denominator)`` from ``before`` to ``after`` by ``by``.

    Rows of a group are summed first. In the table a group absent from a side (zero
    denominator there) shows the other side's rate as its rate on that side, the value the
    effects use. Raises ValueError on a missing or non-numeric column, a NaN or negative
    count, a numerator without a denominator, or a side whose total denominator is zero.
    """
    return _shift_share(
        before, after, _columns(by), numerator=numerator, denominator=denominator, labels=("before", "after")
    )


def drill_down(
    panel: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    dimensions: Sequence[str | Sequence[str]],
    period: str,
    before: object,
    after: object,
    where: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """The shift-share of the KPI change between two sides of ``panel``, one block of rows per dimension.

    ``period`` is the column that separates the sides (a period, or e.g. ``variant``);
    ``before`` and ``after`` are a value of it or a list of values (rows summed). ``where``
    keeps the rows whose column equals the value (or is in the list) first. A dimension is a
    column or a sequence of columns (their cross, named by joining them with :data:`CROSS`). Columns:
    :data:`DRILL_DOWN_COLUMNS`; ``group`` is the group's value(s) as text, groups in sorted
    order, and the blocks come by ``|dimension_mix|`` descending (ties in the given order).
    """
    if not dimensions:
        raise ValueError("drill_down needs at least one dimension")
    crosses = [_columns(d) for d in dimensions]
    needed = [period, numerator, denominator, *(where or {}), *(c for cross in crosses for c in cross)]
    missing = [c for c in dict.fromkeys(needed) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel has no column {missing[0]!r}")
    rows = panel
    for column, value in (where or {}).items():
        rows = rows[rows[column].isin(_values(value))]
    sides = (rows[rows[period].isin(_values(before))], rows[rows[period].isin(_values(after))])
    labels = (f"before ({period}={before!r})", f"after ({period}={after!r})")
    blocks = []
    for cross in crosses:
        result = _shift_share(*sides, cross, numerator=numerator, denominator=denominator, labels=labels)
        table = result.table
        block = table[list(GROUP_COLUMNS)].copy()
        block.insert(0, "group", [_label(key) for key in table[list(cross)].itertuples(index=False, name=None)])
        block.insert(0, "dimension", CROSS.join(cross))
        blocks.append(block.assign(dimension_mix=result.mix, dimension_rate=result.rate))
    order = sorted(range(len(blocks)), key=lambda i: -abs(float(blocks[i]["dimension_mix"].iloc[0])))
    out = pd.concat([blocks[i] for i in order], ignore_index=True)
    return out[list(DRILL_DOWN_COLUMNS)]


def diagnosis(result: ShiftShare, *, kpi: str = "conversion", percent: bool = True) -> str:
    """One plain-English line: how ``kpi`` moved, its mix and rate effects, and which one explains it.

    The mix effect names the group whose share of the denominator moved most. The change is
    "a pure mix effect" when ``|rate| < 1e-9 + 1% of |change|``, "a pure rate effect" in the
    symmetric case, else each effect's share of the change. ``percent`` formats rates as %
    and effects as percentage points; otherwise as plain numbers.
    """
    value = _percent if percent else _plain
    delta = _points if percent else _signed_plain
    change, mix, rate = result.change, result.mix, result.rate
    if abs(change) <= 1e-12 * max(1.0, abs(result.rate_before)):
        moved = f"held at {value(result.rate_before)}"
    else:
        verb = "rose" if change > 0 else "fell"
        moved = f"{verb} from {value(result.rate_before)} to {value(result.rate_after)}"
    tolerance = 1e-9 + 0.01 * abs(change)
    if abs(rate) < tolerance and abs(mix) < tolerance:
        verdict = "no mix or rate effect"
    elif abs(rate) < tolerance:
        verdict = "a pure mix effect"
    elif abs(mix) < tolerance:
        verdict = "a pure rate effect"
    elif abs(change) < 1e-9:
        verdict = "mix and rate effects offset each other"
    else:
        verdict = f"mix {_share(mix / change)}, rate {_share(rate / change)} of the change"
    return f"{kpi} {moved} ({delta(change)}): mix {delta(mix)} ({_shift(result)}), rate {delta(rate)}; {verdict}"


def plan_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plan's 5W1H example as (before, after) frames: one channel, new leads 70% -> 90%, conversion 15% -> 10%.

    Columns: period ("before"/"after"), channel ("web"), segment ("new"/"existing"), leads
    (1000 a period) and wins. The plan gives only the two shares and the two conversions;
    under the hypothesis that per-segment conversion held (domain.md section 0), they fix
    new at 7.5% and existing at 32.5% (0.7 c_new + 0.3 c_old = 0.15, 0.9 c_new + 0.1 c_old =
    0.10). Wins are those rates times the leads, so fractional (52.5 of 700 new leads).
    """
    rows = [  # period, segment, leads, wins = leads x (7.5% new, 32.5% existing)
        ("before", "new", 700, 52.5),
        ("before", "existing", 300, 97.5),
        ("after", "new", 900, 67.5),
        ("after", "existing", 100, 32.5),
    ]
    frame = pd.DataFrame([{"period": p, "channel": "web", "segment": s, "leads": n, "wins": w} for p, s, n, w in rows])
    return _side(frame, "before"), _side(frame, "after")


def plot_drill_down(frame: pd.DataFrame, path: Path, *, title: str | None = None) -> Path:
    """Horizontal bars of each group's mix and rate effect in percentage points, one panel per dimension.

    ``frame`` is :func:`drill_down` output; the first :data:`MAX_PANELS` dimensions are drawn,
    each with its :data:`MAX_BARS` groups of largest ``|effect|``. The PNG is written to a
    ``.part`` name and then moved onto ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    dimensions = list(dict.fromkeys(frame["dimension"])) if not frame.empty else []
    shown = dimensions[:MAX_PANELS]
    cols = {0: 1, 4: 2}.get(len(shown), min(3, len(shown)))
    rows = max(1, math.ceil(len(shown) / cols))
    bars = [min(MAX_BARS, int((frame["dimension"] == d).sum())) for d in shown] or [1]
    height = max(4.0, min(14.0, 1.2 + rows * (0.9 + 0.32 * max(bars))))
    fig = Figure(figsize=(5.0 * cols + 1.0, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    points = FuncFormatter(lambda x, _pos: f"{x:+.1f}".replace("-", _MINUS) if x else "0")
    if not shown:
        axes[0, 0].text(0.5, 0.5, "no data", ha="center", va="center", transform=axes[0, 0].transAxes, fontsize=14)
    for ax, dimension in zip(axes.flat, shown, strict=False):
        block = frame[frame["dimension"] == dimension]
        top = block.loc[block["effect"].abs().sort_values(ascending=False, kind="stable").index[:MAX_BARS]]
        y = np.arange(len(top), dtype=float)
        ax.barh(y - 0.2, 100 * top["mix_effect"].to_numpy(dtype=float), height=0.4, color="C0", label="mix effect")
        ax.barh(y + 0.2, 100 * top["rate_effect"].to_numpy(dtype=float), height=0.4, color="C1", label="rate effect")
        ax.set_yticks(y, [str(g) for g in top["group"]], fontsize=9 if len(top) <= 8 else 7)
        ax.invert_yaxis()
        ax.axvline(0.0, color="black", linewidth=1.0)
        ax.use_sticky_edges = False  # keep the zero line off the frame when every bar has one sign
        ax.margins(x=0.05)
        ax.xaxis.set_major_formatter(points)
        ax.set_xlabel("effect on the KPI (percentage points)", fontsize=9)
        mix, rate = 100 * float(block["dimension_mix"].iloc[0]), 100 * float(block["dimension_rate"].iloc[0])
        more = f", top {MAX_BARS} of {len(block)} groups" if len(block) > MAX_BARS else ""
        ax.set_title(f"{dimension}: mix {_signed(mix)} pp, rate {_signed(rate)} pp{more}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(shown) :]:
        ax.set_visible(False)
    if shown:
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.95), ncol=2, fontsize=9, frameon=False)
    dropped = f" (first {MAX_PANELS} of {len(dimensions)} dimensions)" if len(dimensions) > MAX_PANELS else ""
    fig.suptitle((title or "Shift-share of the KPI change by dimension: mix and rate effects") + dropped, fontsize=11)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.91))
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, Path(path), dpi=DPI)


def _shift_share(
    before: pd.DataFrame,
    after: pd.DataFrame,
    by: tuple[str, ...],
    *,
    numerator: str,
    denominator: str,
    labels: tuple[str, str],
) -> ShiftShare:
    clash = [c for c in by if c in (numerator, denominator, *GROUP_COLUMNS)]
    if clash:
        raise ValueError(f"group column {clash[0]!r} is also a count or a result column")
    if numerator == denominator:
        raise ValueError(f"numerator and denominator are the same column {numerator!r}")
    sums = [_sums(before, by, numerator, denominator, labels[0]), _sums(after, by, numerator, denominator, labels[1])]
    sides = zip(sums, ("before", "after"), strict=True)
    table = pd.concat([s.set_axis([f"numerator_{side}", f"denominator_{side}"], axis=1) for s, side in sides], axis=1)
    table = table.sort_index().fillna(0.0)
    n0, d0, n1, d1 = (table[c].to_numpy(dtype=float) for c in GROUP_COLUMNS[:4])
    totals = []
    for n, d, label in ((n0, d0, labels[0]), (n1, d1, labels[1])):
        total = math.fsum(d)
        if total <= 0:
            raise ValueError(f"{label} side has zero total {denominator}")
        orphan = np.flatnonzero((d == 0) & (n != 0))
        if orphan.size:
            key = _label(_key(table.index[orphan[0]]))
            raise ValueError(f"{label} side: group {key} has {numerator} {n[orphan[0]]:g} but zero {denominator}")
        totals.append((math.fsum(n), total))
    with np.errstate(divide="ignore", invalid="ignore"):
        own0, own1 = n0 / d0, n1 / d1
    c0 = np.where(d0 > 0, own0, own1)
    c1 = np.where(d1 > 0, own1, own0)
    w0, w1 = d0 / totals[0][1], d1 / totals[1][1]
    present = (d0 > 0) | (d1 > 0)
    mix = np.where(present, (w1 - w0) * c0, 0.0)
    rate = np.where(present, w1 * (c1 - c0), 0.0)
    table = table.assign(
        weight_before=w0, weight_after=w1, rate_before=c0, rate_after=c1, mix_effect=mix, rate_effect=rate
    ).assign(effect=mix + rate)
    table = table.reset_index()[[*by, *GROUP_COLUMNS]]
    return ShiftShare(
        by=by,
        table=table,
        rate_before=totals[0][0] / totals[0][1],
        rate_after=totals[1][0] / totals[1][1],
        mix=math.fsum(mix),
        rate=math.fsum(rate),
    )


def _sums(frame: pd.DataFrame, by: tuple[str, ...], numerator: str, denominator: str, label: str) -> pd.DataFrame:
    """``numerator`` and ``denominator`` summed per group of ``by``, as floats, after checking them."""
    missing = [c for c in dict.fromkeys((*by, numerator, denominator)) if c not in frame.columns]
    if missing:
        raise ValueError(f"{label} frame has no column {missing[0]!r}")
    counts = frame[[numerator, denominator]]
    if len(counts):
        for column in (numerator, denominator):
            values = counts[column]
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                raise ValueError(f"column {column!r} of the {label} frame is not numeric")
            if values.isna().any():
                raise ValueError(f"column {column!r} of the {label} frame has NaN values")
        if (counts[denominator] < 0).any():
            raise ValueError(f"column {denominator!r} of the {label} frame has negative values")
    return frame.groupby(list(by), sort=True, dropna=False)[[numerator, denominator]].sum().astype(float)


def _columns(by: str | Sequence[str]) -> tuple[str, ...]:
    columns = (by,) if isinstance(by, str) else tuple(by)
    if not columns:
        raise ValueError("a dimension needs at least one column")
    return columns


def _values(value: object) -> list[object]:
    """A side or filter value as the list of values it stands for."""
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def _key(index_value: Hashable) -> tuple[object, ...]:
    return index_value if isinstance(index_value, tuple) else (index_value,)


def _label(key: tuple[object, ...]) -> str:
    return CROSS.join(str(v) for v in key)


def _shift(result: ShiftShare) -> str:
    """``"new 70%→90% of the denominator"`` for the group whose share moved most (growth wins a tie)."""
    t = result.table
    if t.empty:
        return "no groups"
    moved = (t["weight_after"] - t["weight_before"]).to_numpy(dtype=float)
    i = max(range(len(moved)), key=lambda j: (round(abs(moved[j]), 12), moved[j]))
    if abs(moved[i]) <= 1e-12:
        return "shares unchanged"
    group = _label(tuple(t[list(result.by)].iloc[i]))
    w0, w1 = float(t["weight_before"].iloc[i]), float(t["weight_after"].iloc[i])
    return f"{group} {w0:.0%}{_ARROW}{w1:.0%} of the denominator"


def _percent(x: float) -> str:
    return f"{x:.1%}".replace("-", _MINUS)


def _points(x: float) -> str:
    return f"{_signed(100 * x)} pp"


def _signed(x: float, digits: int = 1) -> str:
    """``x`` with an explicit sign (a true minus), ``+0.0`` for anything that rounds to zero."""
    text = f"{abs(x):,.{digits}f}"
    return ("+" if x >= 0 or text.strip("0.,") == "" else _MINUS) + text


def _side(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    return frame[frame["period"] == period].reset_index(drop=True)


def _signed_plain(x: float) -> str:
    text = _plain(abs(x))
    return ("+" if x >= 0 or text.strip("0.,") == "" else _MINUS) + text


def _plain(x: float) -> str:
    return (f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3g}").replace("-", _MINUS)


def _share(x: float) -> str:
    return f"{x:.0%}".replace("-", _MINUS)
