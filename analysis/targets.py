"""SMART targets read against simulated years: P(hit) per target, unit targets, and the levers that help.

Inputs are panel frames stacked over variants (``variant`` and ``replication`` columns) and
the replication table (one row per variant and replication with the run's metrics). Each
replication is one simulated year; last year is the baseline variant (the legacy world), so
a target's absolute goal is fixed by the baseline's mean and each other variant's chance of
reaching it is the share of its replications that do (with a Wilson interval).

The total sales target is split into units (region, product, segment, team, rep) by potential
and response rather than pro rata: a unit's share of the increment is its predicted increment
under the variant, so units that grow get the growth asked of them (:func:`decompose_target`).
Windows are ISO dates ``[a, b)`` on ``period_start``; ``None`` takes every period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.panel import in_window
from analysis.stats import wilson_interval
from salesboost.targets import DECOMPOSE_UNITS, TARGET_KPIS, TargetConfig

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The columns that name a replication.
KEYS: list[str] = ["variant", "replication"]
#: Status of a rep seat with nobody in it (sim/agents/incentive_desk.py: else ``ramping`` or ``active``).
VACANT = "vacant"
#: Regions and products with a KPI of their own (``sales_<region>``, ``sales_<product>``).
REGIONS: tuple[str, ...] = ("east", "south", "north")
PRODUCTS: tuple[str, ...] = ("A", "B")
#: Columns of :func:`facts`: the keys, every :data:`TARGET_KPIS` column, and the seats per-rep sales divide by.
FACT_COLUMNS: tuple[str, ...] = (*KEYS, *TARGET_KPIS, "rep_seats")
#: Columns of :func:`p_hit`.
P_HIT_COLUMNS: tuple[str, ...] = (
    "variant",
    "target",
    "label",
    "kpi",
    "kind",
    "value",
    "last_year",
    "goal",
    "mean",
    "sd",
    "growth",
    "p_hit",
    "p_low",
    "p_high",
    "n",
    "hits",
    "level",
    "hit",
    "gap",
)
#: Columns of :func:`decompose_target`.
DECOMPOSITION_COLUMNS: tuple[str, ...] = (
    "dimension",
    "unit",
    "last_year",
    "predicted",
    "increment",
    "predicted_growth",
    "weight",
    "target",
    "target_growth",
    "pro_rata_target",
    "p_hit",
    "p_low",
    "p_high",
    "pro_rata_p_hit",
    "pro_rata_p_low",
    "pro_rata_p_high",
    "n",
    "basis",
)
#: Columns of :func:`lever_effects`.
LEVER_COLUMNS: tuple[str, ...] = (
    "target",
    "lever",
    "current",
    "value",
    "move",
    "relative_move",
    "p_hit",
    "p_low",
    "p_high",
    "n",
    "p_hit_current",
    "reached",
    "status",
)
#: How a unit's target is set: by response, or pro rata when no unit grows (or the total shrinks).
BASIS_RESPONSE = "response"
BASIS_NO_GROWTH = "pro rata: no unit grows under the variant"
BASIS_CUT = "pro rata: the total target is a cut"
#: Status of a lever whose range holds no value reaching the level.
NOT_REACHED = "not reached in range"
REACHED = "reached"
#: A KPI within this share of its goal counts as reaching it (the goal is a product of floats).
TOLERANCE = 1e-9
#: Size of every figure, inches at :data:`DPI` (1000 x 600 pixels).
FIGSIZE = (10.0, 6.0)
DPI = 100
#: Most panels :func:`plot_decomposition` draws (the first dimensions of its frame).
MAX_PANELS = 6


def facts(
    pipeline: pd.DataFrame,
    metrics: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    window: tuple[str, str] | None = None,
    *,
    rep_seats: int | None = None,
    cohort: bool | None = None,
) -> pd.DataFrame:
    """One row per (variant, replication) with every :data:`TARGET_KPIS` column (and ``rep_seats``).

    Sales KPIs are sums of the pipeline's ``revenue`` over the rows whose ``period_start`` is
    in ``window``; shares are ratios of those sums (NaN without sales). ``repurchase_rate``
    and ``new_customers`` are the run's metrics, taken from ``metrics`` (NaN when absent).
    ``sales_per_rep`` divides sales by the mean filled seats over the window's months: per
    month, the seats of ``reps`` whose status is not ``vacant`` (``active`` and ``ramping``
    count), averaged; a replication without reps rows (a run without an incentive scheme
    records none) takes ``rep_seats``, the team's size, and is NaN without it.

    ``cohort`` (default None: every row) keeps only rows with that ``cohort`` flag. The flag is
    not a subtotal: each lead has exactly one pipeline row key, with ``cohort`` True when it
    arrived in the run's measured window ``[warmup, horizon)`` and False otherwise, and each
    event is booked to the period it happened in (salesboost/panel.py, sim/panel.py,
    sim/recorder.py). So the True and False rows never count the same revenue twice, and the
    sales booked in a calendar window are the sum over both: False rows alone would drop the
    window's own arrivals, True rows alone the orders of leads that arrived in the warm-up.
    ``cohort=True`` with ``window=None`` reproduces the run's ``revenue`` metric instead.
    """
    if rep_seats is not None and (isinstance(rep_seats, bool) or rep_seats <= 0):
        raise ValueError(f"rep_seats must be a positive number of seats (got {rep_seats!r})")
    _require(pipeline, [*KEYS, "period_start", "revenue", "segment", "product", "region"], "pipeline")
    _require(metrics, KEYS, "metrics")
    index = _replications(pipeline, metrics)
    recorded = pd.MultiIndex.from_frame(pipeline[KEYS].drop_duplicates())
    p = in_window(pipeline, window)
    if cohort is not None and "cohort" in p.columns:
        p = p[p["cohort"].astype(bool) == cohort]
    revenue = p["revenue"].astype(float)

    def total(mask: pd.Series | None = None) -> pd.Series:
        rows = p if mask is None else p[mask]
        sums = rows.assign(revenue=revenue[rows.index]).groupby(KEYS)["revenue"].sum()
        out = sums.reindex(index, fill_value=0.0).astype(float)
        return out.where(index.isin(recorded))  # a replication without pipeline rows has no sales figure

    out = pd.DataFrame(index=index)
    out["sales"] = total()
    out["sales_new"] = total(p["segment"] == "new")
    out["new_customer_sales_share"] = _ratio(out["sales_new"], out["sales"])
    for product in PRODUCTS:
        out[f"sales_{product}"] = total(p["product"] == product)
    out["product_B_share"] = _ratio(out["sales_B"], out["sales"])
    for region in REGIONS:
        out[f"sales_{region}"] = total(p["region"] == region)
    table = metrics.set_index(KEYS)
    if table.index.has_duplicates:
        raise ValueError("metrics: more than one row for some (variant, replication)")
    for name in ("repurchase_rate", "new_customers"):
        column = table[name] if name in table.columns else pd.Series(np.nan, index=table.index)
        out[name] = pd.to_numeric(column, errors="coerce").astype(float).reindex(index)
    out["rep_seats"] = _filled_seats(reps, window, index, rep_seats)
    out["sales_per_rep"] = _ratio(out["sales"], out["rep_seats"])
    return out.reset_index()[list(FACT_COLUMNS)]


def p_hit(
    facts: pd.DataFrame,
    targets: Mapping[str, TargetConfig],
    *,
    baseline: str,
    variants: Sequence[str] | None = None,
    confidence: float = 0.95,
    level: float = 0.8,
) -> pd.DataFrame:
    """Per variant (the baseline excepted) and target: the chance the variant's year reaches the target.

    ``last_year`` is the baseline variant's mean of the KPI over its replications: the known
    figure of last year, which fixes the ``goal`` the KPI must reach (``last_year * (1 +
    value)`` for a growth target, ``value`` otherwise). ``p_hit`` is the share of the
    variant's replications (with a finite KPI, ``n``) whose KPI reaches the goal, ``p_low`` and
    ``p_high`` its Wilson interval at ``confidence``; ``hit`` is ``p_hit >= level``. ``mean``
    and ``sd`` are the variant's, ``growth`` is ``mean / last_year - 1`` and ``gap`` the
    shortfall ``(goal - mean) / goal`` (negative: the mean clears the goal).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1) (got {level})")
    _require(facts, KEYS, "facts")
    present = list(pd.unique(facts["variant"]))
    if baseline not in present:
        raise ValueError(f"baseline {baseline!r} is not among the variants: {', '.join(map(str, present))}")
    chosen = [v for v in present if v != baseline] if variants is None else list(variants)
    missing = [v for v in chosen if v not in present]
    if missing:
        raise ValueError(f"variants {missing} are not in facts; present: {', '.join(map(str, present))}")
    rows: list[dict[str, object]] = []
    for name, target in targets.items():
        if target.kpi not in facts.columns:
            raise ValueError(f"target {name!r}: facts have no column {target.kpi!r}")
        base = _finite(facts.loc[facts["variant"] == baseline, target.kpi])
        last_year = float(base.mean()) if base.size else math.nan
        goal = target.goal(last_year)
        for variant in chosen:
            x = _finite(facts.loc[facts["variant"] == variant, target.kpi])
            hits, n = _hits(x, goal)
            low, high = wilson_interval(hits, n, confidence)
            mean = float(x.mean()) if n else math.nan
            share = hits / n if n and math.isfinite(goal) else math.nan
            rows.append(
                {
                    "variant": variant,
                    "target": name,
                    "label": target.label or name,
                    "kpi": target.kpi,
                    "kind": target.kind,
                    "value": float(target.value),
                    "last_year": last_year,
                    "goal": goal,
                    "mean": mean,
                    "sd": float(x.std(ddof=1)) if n > 1 else math.nan,
                    "growth": mean / last_year - 1.0 if last_year else math.nan,
                    "p_hit": share,
                    "p_low": low if math.isfinite(share) else math.nan,
                    "p_high": high if math.isfinite(share) else math.nan,
                    "n": n,
                    "hits": hits,
                    "level": level,
                    "hit": bool(share >= level),
                    "gap": (goal - mean) / goal if goal else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(P_HIT_COLUMNS))


def unit_sales(
    pipeline: pd.DataFrame,
    window: tuple[str, str] | None,
    unit: str,
    *,
    reps: pd.DataFrame | None = None,
    cohort: bool | None = None,
) -> pd.DataFrame:
    """Per variant, replication and unit: the sales in ``window`` (columns variant, replication, ``unit``, sales).

    ``unit`` is ``region``, ``product``, ``segment``, ``team`` or ``rep``. A team is a region's
    reps (the world has one team per region: ``team.reps`` is keyed by region), so team sales
    are the region's. Rep sales come from the ``reps`` panel instead (its ``worker``, a seat,
    and ``revenue``, the revenue credited to the seat, which need not add up to the pipeline's
    sales); ``pipeline`` is not read for them. Rows follow :func:`facts` (``cohort`` None: all
    of them). A unit without sales in a replication gets a 0 row, so every replication has every
    unit of the frame.
    """
    if unit not in DECOMPOSE_UNITS:
        raise ValueError(f"unknown unit {unit!r}; allowed: {', '.join(DECOMPOSE_UNITS)}")
    if unit == "rep":
        if reps is None:
            raise ValueError("rep sales are read from the reps panel: pass reps=")
        _require(reps, [*KEYS, "period_start", "worker", "revenue"], "reps")
        rows, column = in_window(reps, window), "worker"
    else:
        column = "region" if unit == "team" else unit
        _require(pipeline, [*KEYS, "period_start", column, "revenue"], "pipeline")
        rows = in_window(pipeline, window)
        if cohort is not None and "cohort" in rows.columns:
            rows = rows[rows["cohort"].astype(bool) == cohort]
    source = reps if unit == "rep" else pipeline
    assert source is not None  # for the type checker: checked above
    index = pd.MultiIndex.from_frame(source[KEYS].drop_duplicates()).sort_values()
    units = sorted(pd.unique(rows[column].dropna()).tolist())  # the units with rows in the window
    sums = rows.assign(revenue=rows["revenue"].astype(float)).groupby([*KEYS, column])["revenue"].sum()
    full = pd.MultiIndex.from_tuples([(*key, u) for key in index for u in units], names=[*KEYS, unit])
    sums.index = sums.index.set_names([*KEYS, unit])
    out = sums.reindex(full, fill_value=0.0).astype(float).rename("sales").reset_index()
    return out[[*KEYS, unit, "sales"]]


def decompose_target(
    facts_by_unit: pd.DataFrame,
    *,
    unit: str,
    total_growth: float,
    baseline: str,
    variant: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Split the total sales target into unit targets by potential and response; one row per unit.

    Last year (``S0_u``, the potential) is the baseline's mean sales of the unit, ``S0`` their
    total, and the total target ``T = S0 * (1 + total_growth)``. The increment ``T - S0`` goes to
    the units in proportion to their predicted increments ``r_u = S1_u - S0_u`` under
    ``variant`` (``S0_u`` times the unit's predicted growth), negatives counted as 0: the units
    that the variant grows carry the growth. When no unit grows, or the total is a cut, the
    change is shared pro rata (``w_u = S0_u / S0``); ``basis`` says which. The unit targets add
    up to ``T`` exactly (the rounding residual goes to the largest target); ``T`` and ``S0`` are
    in ``attrs["total_target"]`` and ``attrs["last_year_total"]``.

    Per unit: ``last_year``, ``predicted`` (the variant's mean), ``increment``, the ``weight``
    of the increment, ``target`` and ``target_growth``, the ``pro_rata_target`` ``S0_u * (1 +
    total_growth)``, and for each target the share of the variant's replications whose unit
    sales reach it (``p_hit`` and ``pro_rata_p_hit``, with Wilson bounds at ``confidence``).
    """
    _require(facts_by_unit, [*KEYS, unit, "sales"], "facts_by_unit")
    if not (math.isfinite(total_growth) and total_growth > -1):
        raise ValueError(f"total_growth must be > -1 (got {total_growth})")
    wide = facts_by_unit.pivot_table(index=KEYS, columns=unit, values="sales", aggfunc="sum", fill_value=0.0)
    sides = {}
    for role, name in (("baseline", baseline), ("variant", variant)):
        if name not in wide.index.get_level_values("variant"):
            raise ValueError(f"{role} {name!r} has no rows in facts_by_unit")
        sides[role] = wide.xs(name, level="variant").astype(float)
    runs = sides["variant"]
    s0 = sides["baseline"].mean(axis=0)
    s1 = runs.mean(axis=0)
    last_total = math.fsum(s0)
    total = last_total * (1.0 + total_growth)
    delta = total - last_total
    increment = s1 - s0
    positive = increment.clip(lower=0.0)
    if delta >= 0 and positive.sum() > 0:
        weight, basis = positive / positive.sum(), BASIS_RESPONSE
    else:
        even = pd.Series(1.0 / len(s0), index=s0.index)
        weight = s0 / last_total if last_total > 0 else even
        basis = BASIS_CUT if delta < 0 else BASIS_NO_GROWTH
    target = _exact_total((s0 + weight * delta).to_numpy(dtype=float), total)
    pro_rata = (s0 * (1.0 + total_growth)).to_numpy(dtype=float)
    rows = []
    for i, name in enumerate(s0.index):
        values = runs[name].to_numpy(dtype=float)
        hits, n = _hits(values, float(target[i]))
        low, high = wilson_interval(hits, n, confidence)
        pro_hits, _ = _hits(values, float(pro_rata[i]))
        pro_low, pro_high = wilson_interval(pro_hits, n, confidence)
        last = float(s0[name])
        rows.append(
            {
                "dimension": unit,
                "unit": name,
                "last_year": last,
                "predicted": float(s1[name]),
                "increment": float(increment[name]),
                "predicted_growth": float(s1[name]) / last - 1.0 if last > 0 else math.nan,
                "weight": float(weight[name]),
                "target": float(target[i]),
                "target_growth": float(target[i]) / last - 1.0 if last > 0 else math.nan,
                "pro_rata_target": float(pro_rata[i]),
                "p_hit": hits / n if n else math.nan,
                "p_low": low,
                "p_high": high,
                "pro_rata_p_hit": pro_hits / n if n else math.nan,
                "pro_rata_p_low": pro_low,
                "pro_rata_p_high": pro_high,
                "n": n,
                "basis": basis,
            }
        )
    out = pd.DataFrame(rows, columns=list(DECOMPOSITION_COLUMNS))
    out.attrs["total_target"] = total
    out.attrs["last_year_total"] = last_total
    return out


def lever_effects(rows: pd.DataFrame, *, level: float, confidence: float = 0.95) -> pd.DataFrame:
    """Per target and lever: the smallest move of the lever that makes P(hit) reach ``level``.

    ``rows`` has one row per (target, lever, lever_value) with that run's ``p_hit`` and its
    replications ``n``, and the lever's ``current`` value. Of the values whose ``p_hit`` reaches
    ``level`` the one closest to ``current`` is reported (``status`` reached; a move of 0 when
    the current value already does); without one, the value with the highest ``p_hit`` (the
    closest of equals) and the status "not reached in range". ``move`` is ``value - current``,
    ``relative_move`` that over ``current``; ``p_low`` and ``p_high`` are the Wilson bounds of
    the reported ``p_hit``; ``p_hit_current`` is the P(hit) at the current value when it was run.
    """
    _require(rows, ["target", "lever", "lever_value", "p_hit", "n", "current"], "rows")
    out: list[dict[str, object]] = []
    for (target, lever), group in rows.groupby(["target", "lever"], sort=False):
        currents = pd.unique(group["current"].astype(float))
        if len(currents) != 1:
            raise ValueError(f"target {target!r}, lever {lever!r}: more than one current value {list(currents)}")
        current = float(currents[0])
        g = group.assign(
            _distance=(group["lever_value"].astype(float) - current).abs(),
            _p=group["p_hit"].astype(float),
            _value=group["lever_value"].astype(float),
        )
        enough = g[g["_p"] >= level]
        if not enough.empty:
            pick, status = enough.sort_values(["_distance", "_value"], kind="stable").iloc[0], REACHED
        else:
            ranked = g.assign(_p=g["_p"].fillna(-1.0)).sort_values(
                ["_p", "_distance"], ascending=[False, True], kind="stable"
            )
            pick, status = ranked.iloc[0], NOT_REACHED
        p, n = float(pick["p_hit"]), int(pick["n"])
        low, high = wilson_interval(round(p * n), n, confidence) if math.isfinite(p) else (math.nan, math.nan)
        at_current = g.loc[g["_distance"] == 0, "_p"]
        value = float(pick["_value"])
        out.append(
            {
                "target": target,
                "lever": lever,
                "current": current,
                "value": value,
                "move": value - current,
                "relative_move": (value - current) / current if current else math.nan,
                "p_hit": p,
                "p_low": low,
                "p_high": high,
                "n": n,
                "p_hit_current": float(at_current.iloc[0]) if not at_current.empty else math.nan,
                "reached": status == REACHED,
                "status": status,
            }
        )
    return pd.DataFrame(out, columns=list(LEVER_COLUMNS))


def plot_p_hit(table: pd.DataFrame, path: Path, *, level: float | None = None) -> Path:
    """Horizontal bars of P(hit) per target, one colour per variant, Wilson intervals as error bars.

    ``table`` is :func:`p_hit`'s; the vertical line is at ``level`` (default: the table's
    ``level`` column, else 0.8).
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    if level is None:
        level = float(table["level"].iloc[0]) if "level" in table.columns and not table.empty else 0.8
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if table.empty:
        _no_data(ax)
    else:
        targets = list(pd.unique(table["target"]))
        variants = list(pd.unique(table["variant"]))
        labels = table.drop_duplicates("target").set_index("target")["label"].reindex(targets).fillna("")
        height = 0.8 / len(variants)
        y = np.arange(len(targets), dtype=float)
        for i, variant in enumerate(variants):
            t = table[table["variant"] == variant].set_index("target").reindex(targets)
            p = t["p_hit"].to_numpy(dtype=float)
            err = np.nan_to_num(
                np.vstack([p - t["p_low"].to_numpy(dtype=float), t["p_high"].to_numpy(dtype=float) - p]), nan=0.0
            )
            offset = (i - (len(variants) - 1) / 2) * height
            ax.barh(
                y + offset,
                np.nan_to_num(p, nan=0.0),
                height=height * 0.95,
                xerr=np.clip(err, 0.0, None),
                capsize=3,
                color=f"C{i % 10}",
                label=str(variant),
            )
        ax.set_yticks(y, [str(labels[t]) or str(t) for t in targets])
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, title="variant")
    ax.axvline(level, color="black", linestyle="--", linewidth=1.0)
    ax.annotate(
        f"level {level:.0%}",
        (level, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -12),
        textcoords="offset points",
        fontsize=9,
    )
    ax.set_xlim(0.0, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("P(target hit): share of the variant's simulated years reaching the goal (%; bars: Wilson interval)")
    ax.set_ylabel("target")
    ax.set_title("Chance of hitting each of the plan's targets, by variant (goal fixed by last year's mean)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_decomposition(frame: pd.DataFrame, path: Path) -> Path:
    """Per unit: last year, predicted, the unit's target and the pro-rata target; one panel per dimension.

    ``frame`` is :func:`decompose_target`'s (several stacked give several panels); each target
    bar is annotated with its P(hit) under the variant.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import StrMethodFormatter  # noqa: PLC0415

    dimensions = list(pd.unique(frame["dimension"]))[:MAX_PANELS] if not frame.empty else []
    if not dimensions:
        fig, ax = plt.subplots(figsize=FIGSIZE)
        _no_data(ax)
        ax.set_title("Unit sales targets")
        fig.tight_layout()
        return _save(fig, path)
    fig, axes = plt.subplots(len(dimensions), 1, figsize=FIGSIZE, squeeze=False)
    bars = (
        ("last_year", "last year (baseline mean)"),
        ("predicted", "predicted (variant mean)"),
        ("target", "target (potential and response)"),
        ("pro_rata_target", "pro-rata target"),
    )
    width = 0.8 / len(bars)
    for ax, dimension in zip(axes[:, 0], dimensions, strict=True):
        d = frame[frame["dimension"] == dimension]
        x = np.arange(len(d), dtype=float)
        for i, (column, name) in enumerate(bars):
            offset = (i - (len(bars) - 1) / 2) * width
            ax.bar(x + offset, d[column].to_numpy(dtype=float), width=width * 0.95, color=f"C{i}", label=name)
        for xi, (top, p) in enumerate(zip(d["target"], d["p_hit"], strict=True)):
            if math.isfinite(p):
                ax.annotate(
                    f"{p:.0%}",
                    (xi + 0.5 * width, top),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
        ax.set_xticks(x, [str(u) for u in d["unit"]], fontsize=8)
        top = float(np.nanmax(d[[c for c, _ in bars]].to_numpy(dtype=float), initial=0.0))
        ax.set_ylim(0.0, top * 1.25 if top > 0 else 1.0)  # room for the labels and the legend
        ax.set_ylabel(f"sales by {dimension}")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=2)
    fig.suptitle("Unit sales targets: last year, predicted, by potential and response, pro rata (labels: P(hit))")
    fig.tight_layout()
    return _save(fig, path)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} has no column(s) {', '.join(missing)}")


def _replications(*frames: pd.DataFrame) -> pd.MultiIndex:
    """Every (variant, replication) in any of ``frames``, sorted."""
    keys = pd.concat([f[KEYS] for f in frames], ignore_index=True).drop_duplicates()
    return pd.MultiIndex.from_frame(keys.sort_values(KEYS, kind="stable"))


def _filled_seats(
    reps: pd.DataFrame | None, window: tuple[str, str] | None, index: pd.MultiIndex, rep_seats: int | None
) -> pd.Series:
    """Mean filled seats per replication over the window's months; ``rep_seats`` where reps has no rows."""
    fallback = pd.Series(math.nan if rep_seats is None else float(rep_seats), index=index)
    if reps is None or reps.empty:
        return fallback
    _require(reps, [*KEYS, "period_start", "status"], "reps")
    r = in_window(reps, window)
    filled = r.assign(_filled=(r["status"] != VACANT).astype(float))
    per_month = filled.groupby([*KEYS, "period_start"])["_filled"].sum()
    mean = per_month.groupby(level=KEYS).mean().reindex(index)
    return mean.fillna(fallback).astype(float)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


def _finite(values: pd.Series | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def _hits(values: np.ndarray, goal: float) -> tuple[int, int]:
    """Finite values reaching ``goal`` (within :data:`TOLERANCE` of it), and the finite values."""
    x = _finite(values)
    if not math.isfinite(goal):
        return 0, int(x.size)
    return int((x >= goal - TOLERANCE * abs(goal)).sum()), int(x.size)


def _exact_total(targets: np.ndarray, total: float) -> np.ndarray:
    """``targets`` with the largest one moved so that their exact (``fsum``) total is ``total``."""
    out = targets.astype(float).copy()
    if out.size == 0:
        return out
    i = int(np.argmax(out))
    for _ in range(8):
        residual = total - math.fsum(out)
        if residual == 0:
            break
        moved = out[i] + residual
        out[i] = moved if moved != out[i] else np.nextafter(out[i], math.copysign(math.inf, residual))
    return out


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, fontsize=14)


def _save(fig: Figure, path: Path) -> Path:
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, path, dpi=DPI)
