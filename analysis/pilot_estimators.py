"""Decision rules for a regional pilot: the plan's +20% rule and four estimators with honest inference.

Every rule reads one unit x week panel (columns ``unit``, ``week`` = 0..W-1, ``leads``,
``conversions``; one row per unit and week) and a :class:`PilotDesign`, and returns an
:class:`Estimate`: a relative lift and whether the rule says "roll out" (domain.md section 6).

* ``plan_rule``: the plan as written, treated vs control conversion over the pilot weeks, roll
  out at +20%. No inference at all.
* ``pre_post``: the treated units against their own pre-period, one-sided two-proportion z-test
  (ignores anything that moves every unit, and region-week noise).
* ``did_placebo``: difference in differences of weekly conversion rates with placebo inference
  in time and space (Bertrand, Duflo & Mullainathan 2004): clustered standard errors with one
  treated region are not valid, a rank among placebo pilots is.
* ``cuped_did``: the post-period difference adjusted by theta times the pre-period difference
  (Deng et al. 2013), theta from the placebo windows; DiD is theta = 1, post-only theta = 0.
* ``synthetic_control``: Abadie, Diamond & Hainmueller (2010), convex donor weights fitted on the
  pre-period, in-space placebo p-value on the post/pre RMSPE ratio.

Weeks index the panel; the pilot runs over ``[start, start + weeks)`` and the estimators'
pre-period is ``[start - pre_weeks, start)``. Placebo windows in time start inside that
pre-period and take their own pre-period of ``pre_weeks`` weeks before them where the panel has
them (fewer near week 0), so they may read history older than the real pre-period.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import ndtr

#: Placebo pilots in space are drawn from at most this many control subsets (the first ones).
MAX_SPACE_PLACEBOS = 200
_EPS = 1e-12


@dataclass(frozen=True)
class PilotDesign:
    """Which units get the policy, from which week, for how long, and how much history the estimators use."""

    treated: tuple[str, ...]
    start: int  # first pilot week (a panel week index)
    weeks: int  # pilot length in weeks
    pre_weeks: int  # the pre-period [start - pre_weeks, start); 0: rules that need one are inapplicable

    def __post_init__(self) -> None:
        if not self.treated or len(set(self.treated)) != len(self.treated):
            raise ValueError(f"treated needs distinct unit names, at least one (got {self.treated!r})")
        if not all(isinstance(u, str) and u for u in self.treated):
            raise ValueError(f"treated units must be non-empty strings (got {self.treated!r})")
        if self.weeks < 1:
            raise ValueError(f"weeks must be >= 1 (got {self.weeks})")
        if self.pre_weeks < 0:
            raise ValueError(f"pre_weeks must be >= 0 (got {self.pre_weeks})")
        if self.start < self.pre_weeks:
            raise ValueError(
                f"start must be >= pre_weeks so the pre-period is in the panel (got {self.start} < {self.pre_weeks})"
            )

    @property
    def end(self) -> int:
        """One past the last pilot week."""
        return self.start + self.weeks


@dataclass(frozen=True)
class Estimate:
    """One rule's reading of one pilot."""

    rule: str
    lift: float  # estimated relative lift; NaN if not applicable
    passed: bool  # the rule says "roll out"
    p_value: float | None
    applicable: bool = True
    note: str = ""


@dataclass(frozen=True)
class _Panel:
    units: tuple[str, ...]
    leads: np.ndarray  # units x weeks
    conversions: np.ndarray

    @property
    def n_weeks(self) -> int:
        return int(self.leads.shape[1])

    def rates(self, rows: tuple[int, ...] | list[int]) -> np.ndarray:
        """Pooled weekly conversion of ``rows`` (NaN in weeks without leads)."""
        n = self.leads[list(rows)].sum(axis=0)
        c = self.conversions[list(rows)].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, c / np.where(n > 0, n, 1), np.nan)


def _panel(panel: pd.DataFrame, design: PilotDesign) -> tuple[_Panel, list[int], list[int]]:
    """Panel as unit x week arrays, checked against ``design``: (arrays, treated rows, control rows)."""
    missing = {"unit", "week", "leads", "conversions"} - set(panel.columns)
    if missing:
        raise ValueError(f"panel lacks columns {sorted(missing)} (needs unit, week, leads, conversions)")
    if panel.empty:
        raise ValueError("panel is empty")
    names, codes = np.unique(panel["unit"].to_numpy().astype(str), return_inverse=True)
    week = panel["week"].to_numpy()
    leads = panel["leads"].to_numpy(dtype=float)
    conv = panel["conversions"].to_numpy(dtype=float)
    if not np.all(np.isfinite(leads)) or not np.all(np.isfinite(conv)):
        raise ValueError("panel leads and conversions must be finite")
    if np.any(leads < 0) or np.any(conv < 0) or np.any(conv > leads):
        raise ValueError("panel needs 0 <= conversions <= leads in every row")
    if not np.all(np.equal(np.mod(week, 1), 0)) or week.min() != 0:
        raise ValueError("panel weeks must be integers starting at 0")
    n_units, n_weeks = len(names), int(week.max()) + 1
    cell = codes * n_weeks + week.astype(np.int64)
    if len(panel) != n_units * n_weeks or np.unique(cell).size != len(panel):
        raise ValueError("panel needs exactly one row per unit and week (weeks 0..W-1 consecutive)")
    arrays = np.zeros((2, n_units * n_weeks))
    arrays[0, cell], arrays[1, cell] = leads, conv
    units = tuple(str(u) for u in names)
    data = _Panel(units, arrays[0].reshape(n_units, n_weeks), arrays[1].reshape(n_units, n_weeks))
    unknown = sorted(set(design.treated) - set(units))
    if unknown:
        raise ValueError(f"treated units {unknown} are not in the panel (units: {list(units)})")
    treated = [units.index(u) for u in design.treated]
    controls = [i for i in range(n_units) if i not in treated]
    if not controls:
        raise ValueError("the panel has no control unit: every unit is treated")
    if design.end > n_weeks:
        raise ValueError(f"the pilot runs to week {design.end - 1} but the panel ends at week {n_weeks - 1}")
    return data, treated, controls


def _inapplicable(rule: str, note: str) -> Estimate:
    return Estimate(rule, math.nan, False, None, applicable=False, note=note)


def _pooled(data: _Panel, rows: list[int], lo: int, hi: int) -> tuple[float, float]:
    """Total (conversions, leads) of ``rows`` over weeks ``[lo, hi)``."""
    return float(data.conversions[rows, lo:hi].sum()), float(data.leads[rows, lo:hi].sum())


def plan_rule(panel: pd.DataFrame, design: PilotDesign, *, alpha: float = 0.05, threshold: float = 0.20) -> Estimate:
    """The plan's rule verbatim: treated conversion over the pilot weeks vs the controls' over the same weeks.

    ``lift = c_T / c_C - 1``; roll out when ``lift >= threshold`` (to 1e-9). ``alpha`` is accepted for a
    common signature and unused: the rule has no inference.
    """
    del alpha
    data, treated, controls = _panel(panel, design)
    conv_t, n_t = _pooled(data, treated, design.start, design.end)
    conv_c, n_c = _pooled(data, controls, design.start, design.end)
    if n_t == 0 or n_c == 0:
        return _inapplicable("plan_rule", "no leads in the treated or control units during the pilot")
    c_t, c_c = conv_t / n_t, conv_c / n_c
    if c_c == 0:
        lift = math.inf if c_t > 0 else math.nan
    else:
        lift = c_t / c_c - 1
    passed = bool(lift >= threshold - 1e-9)  # 12% vs 10% is +20%, whatever the float rounding
    return Estimate("plan_rule", lift, passed, None, note=f"c_T={c_t:.4f}, c_C={c_c:.4f}")


def pre_post(panel: pd.DataFrame, design: PilotDesign, *, alpha: float = 0.05) -> Estimate:
    """The treated units' pilot weeks against their own pre-period: one-sided two-proportion z-test.

    ``lift = c_post / c_pre - 1``; roll out when ``p < alpha`` and the lift is positive. The test
    treats leads as independent, so region-week noise and anything that moves all units
    (season, a market shock) count as the policy's effect.
    """
    data, treated, _ = _panel(panel, design)
    if design.pre_weeks < 1:
        return _inapplicable("pre_post", "needs a pre-period (pre_weeks >= 1)")
    conv_post, n_post = _pooled(data, treated, design.start, design.end)
    conv_pre, n_pre = _pooled(data, treated, design.start - design.pre_weeks, design.start)
    if n_post == 0 or n_pre == 0:
        return _inapplicable("pre_post", "no treated leads in the pre-period or the pilot")
    c_post, c_pre = conv_post / n_post, conv_pre / n_pre
    pooled = (conv_post + conv_pre) / (n_post + n_pre)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_post + 1 / n_pre))
    if c_pre == 0 or se == 0:
        lift = math.inf if c_post > c_pre else math.nan
        p = 0.0 if c_post > c_pre else 1.0
    else:
        lift = c_post / c_pre - 1
        p = float(1 - ndtr((c_post - c_pre) / se))
    return Estimate("pre_post", lift, bool(p < alpha and lift > 0), p, note=f"c_pre={c_pre:.4f}, c_post={c_post:.4f}")


#: A placebo or real pilot: (treated rows, control rows, first pilot week, first pre-period week).
_Window = tuple[tuple[int, ...], tuple[int, ...], int, int]


def _did_parts(data: _Panel, window: _Window, weeks: int) -> tuple[float, float]:
    """(post difference, pre difference) of weekly rates, both relative to the treated pre-period mean."""
    treated, controls, start, pre_start = window
    t, c = data.rates(treated), data.rates(controls)
    post, pre = slice(start, start + weeks), slice(pre_start, start)
    with np.errstate(invalid="ignore"):
        t_post, t_pre, c_post, c_pre = (_nanmean(x[s]) for x in (t, c) for s in (post, pre))
    if not (math.isfinite(t_pre) and t_pre > 0):
        return math.nan, math.nan
    return (t_post - c_post) / t_pre, (t_pre - c_pre) / t_pre


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _placebo_windows(design: PilotDesign, treated: list[int], controls: list[int]) -> list[_Window]:
    """Placebo pilots of the same length: fake starts in the history before the pilot, then each control as treated.

    A fake pilot ends before the real one starts and has its own pre-period of ``pre_weeks``
    where the history allows (Bertrand, Duflo & Mullainathan's placebo laws): the longer the
    history, the more placebos and the smaller the p-value a pilot can reach.
    """
    t, c = tuple(treated), tuple(controls)
    windows: list[_Window] = [
        (t, c, s, max(0, s - design.pre_weeks))
        for s in range(max(1, min(design.pre_weeks, design.start - design.pre_weeks)), design.start - design.weeks + 1)
    ]
    if len(controls) >= 2:
        size = min(len(treated), len(controls) - 1)
        for fake in itertools.islice(itertools.combinations(controls, size), MAX_SPACE_PLACEBOS):
            rest = tuple(i for i in controls if i not in fake)
            windows.append((fake, rest, design.start, design.start - design.pre_weeks))
    return windows


def _placebo_parts(
    rule: str, panel: pd.DataFrame, design: PilotDesign, alpha: float
) -> tuple[tuple[float, float], np.ndarray] | Estimate:
    """Observed (y, x) and the placebos' (N x 2), or an inapplicable Estimate saying why."""
    data, treated, controls = _panel(panel, design)
    if design.pre_weeks < 1:
        return _inapplicable(rule, "needs a pre-period (pre_weeks >= 1)")
    observed = _did_parts(
        data, (tuple(treated), tuple(controls), design.start, design.start - design.pre_weeks), design.weeks
    )
    parts = np.array([_did_parts(data, w, design.weeks) for w in _placebo_windows(design, treated, controls)])
    parts = parts.reshape(-1, 2)
    parts = parts[np.all(np.isfinite(parts), axis=1)]
    n = len(parts)
    if (n + 1) * alpha < 1 - 1e-9:
        needed = math.ceil(1 / alpha - 1e-9) - 1
        return _inapplicable(rule, f"{n} placebo pilots: p >= 1/{n + 1} > alpha={alpha:g} (needs >= {needed})")
    if not all(math.isfinite(v) for v in observed):
        return _inapplicable(rule, "no treated conversions (or leads) in the pre-period")
    return observed, parts


def _rank_p(observed: float, placebos: np.ndarray) -> float:
    return float((1 + np.count_nonzero(placebos >= observed - _EPS)) / (1 + placebos.size))


def did_placebo(panel: pd.DataFrame, design: PilotDesign, *, alpha: float = 0.05) -> Estimate:
    """Relative DiD of weekly conversion rates, ``((T_post - T_pre) - (C_post - C_pre)) / T_pre``, placebo p.

    Placebo pilots of the same length: fake starts in the pre-period (each with ``pre_weeks``
    weeks before it where the panel has them) and, with two or more controls, each control (or
    subset of controls as large as the treated group) as the treated unit against the others.
    ``p = (1 + #{placebo >= observed}) / (1 + N)``; roll out when ``p <= alpha`` and the lift is
    positive. Inapplicable when ``N + 1 < 1 / alpha`` (p could never reach ``alpha``).
    """
    parts = _placebo_parts("did_placebo", panel, design, alpha)
    if isinstance(parts, Estimate):
        return parts
    (y, x), placebos = parts
    lift = y - x
    p = _rank_p(lift, placebos[:, 0] - placebos[:, 1])
    return Estimate("did_placebo", lift, bool(p <= alpha + _EPS and lift > 0), p, note=f"{len(placebos)} placebos")


def cuped_did(panel: pd.DataFrame, design: PilotDesign, *, alpha: float = 0.05) -> Estimate:
    """CUPED on the DiD: ``(y - theta * x)``, y and x the post and pre T - C differences relative to T_pre.

    ``theta = sum(x_j y_j) / sum(x_j^2)`` over the placebo pilots (moments about 0, the mean of
    a difference between untreated units), clipped to [0, 1]: 1 is the DiD, 0 the post-only
    difference. A persistent level gap L between the units gives ``theta ~ L^2 / (L^2 + var
    x)``, the weight that minimises the error; a pre-period noisier than the gap is shrunk. The
    same placebos, with the same theta, give the p-value as in :func:`did_placebo`.
    """
    parts = _placebo_parts("cuped_did", panel, design, alpha)
    if isinstance(parts, Estimate):
        return parts
    (y, x), placebos = parts
    sxx = float(np.sum(placebos[:, 1] ** 2))
    theta = 1.0 if sxx <= 0 else min(1.0, max(0.0, float(np.sum(placebos[:, 0] * placebos[:, 1])) / sxx))
    lift = y - theta * x
    p = _rank_p(lift, placebos[:, 0] - theta * placebos[:, 1])
    note = f"theta={theta:.3f}, {len(placebos)} placebos"
    return Estimate("cuped_did", lift, bool(p <= alpha + _EPS and lift > 0), p, note=note)


def _synthetic(target: np.ndarray, donors: np.ndarray, pre: slice, post: slice) -> tuple[float, float]:
    """(relative post gap, post/pre RMSPE ratio) of ``target`` against its synthetic from ``donors`` (weeks x J)."""
    keep = np.isfinite(target[pre]) & np.all(np.isfinite(donors[pre]), axis=1)
    a, b = donors[pre][keep], target[pre][keep]
    if b.size == 0:
        return math.nan, math.nan
    scale = 1e3 * max(1.0, float(np.abs(a).max(initial=0.0)))  # sum-to-one as a heavily weighted extra row
    w, _ = nnls(np.vstack([a, np.full(a.shape[1], scale)]), np.append(b, scale))
    if w.sum() <= 0:
        return math.nan, math.nan
    w = w / w.sum()
    synth = donors @ w
    gap_pre, gap_post = (target - synth)[pre][keep], (target - synth)[post]
    gap_post = gap_post[np.isfinite(gap_post)]
    base = float(np.nanmean(synth[post]))
    if gap_post.size == 0 or not base > 0:
        return math.nan, math.nan
    rmspe_pre = math.sqrt(float(np.mean(gap_pre**2)))
    rmspe_post = math.sqrt(float(np.mean(gap_post**2)))
    return float(gap_post.mean()) / base, rmspe_post / max(rmspe_pre, _EPS)


def synthetic_control(
    panel: pd.DataFrame, design: PilotDesign, *, alpha: float = 0.05, min_donors: int | None = None
) -> Estimate:
    """Synthetic control: convex donor weights (w >= 0, sum 1) fitted to the treated pre-period weekly rates.

    The treated units are pooled into one series (lead-weighted weekly conversion); donors are
    the control units. ``lift`` = mean post gap / mean post synthetic. p = rank of the treated
    post/pre RMSPE ratio among it and every donor's placebo (each donor against the others) =
    ``(1 + #{placebo >= observed}) / (J + 1)``; roll out when ``p <= alpha`` and the lift is
    positive. Inapplicable with fewer than ``min_donors`` donors (default ``ceil(1/alpha) - 1``:
    19 at alpha = 0.05, where p could first reach alpha). Weights by NNLS with the sum-to-one
    constraint as a heavily weighted extra equation, then renormalised.
    """
    data, treated, controls = _panel(panel, design)
    needed = math.ceil(1 / alpha - 1e-9) - 1 if min_donors is None else min_donors
    if len(controls) < needed:
        return _inapplicable("synthetic_control", f"needs >= {needed} donors for p <= {alpha:g} (has {len(controls)})")
    if design.pre_weeks < 1:
        return _inapplicable("synthetic_control", "needs a pre-period (pre_weeks >= 1)")
    pre, post = slice(design.start - design.pre_weeks, design.start), slice(design.start, design.end)
    donors = np.column_stack([data.rates([i]) for i in controls])
    lift, ratio = _synthetic(data.rates(treated), donors, pre, post)
    if not (math.isfinite(lift) and math.isfinite(ratio)):
        return _inapplicable("synthetic_control", "no usable treated pre-period or post-period rates")
    placebos = []
    for j in range(donors.shape[1]):
        others = np.delete(donors, j, axis=1)
        placebos.append(_synthetic(donors[:, j], others, pre, post)[1] if others.shape[1] else math.nan)
    ratios = np.array(placebos)
    ratios = ratios[np.isfinite(ratios)]
    p = _rank_p(ratio, ratios)
    note = f"{len(controls)} donors, RMSPE ratio {ratio:.2f}"
    return Estimate("synthetic_control", lift, bool(p <= alpha + _EPS and lift > 0), p, note=note)


RULES: dict[str, Callable[..., Estimate]] = {
    "plan_rule": plan_rule,
    "pre_post": pre_post,
    "did_placebo": did_placebo,
    "cuped_did": cuped_did,
    "synthetic_control": synthetic_control,
}
