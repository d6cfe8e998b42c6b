"""Regional pilot design: the power closed form, a panel simulator, and scoring rules over simulated pilots.

domain.md section 6: with one treated region, 1-2 weeks and ~200 leads a week, the plan's
"+20% conversion -> roll out" rule passes a null pilot about a quarter of the time, passes a
real +10% about a third of the time, and the pilots that pass exaggerate the lift several-fold.
This module holds the pieces that quantify that for a design:

* :func:`closed_form_se`, :func:`closed_form_pass_prob`, :func:`mde80`: the normal
  approximation ``SE = sqrt[(1-p)/(p n_T) + (1-p)/(p n_C) + tau^2 (1 + 1/k) / w]``.
* :func:`estimate_tau`: region-week relative noise beyond binomial, from history.
* :func:`simulate_panel`: a unit x week panel with binomial, region-week and unit-level noise and
  an optional true effect, for tests and the study's analytic cross-check.
* :func:`evaluate` and :func:`recommend`: false-positive rate, power, exaggeration (type M),
  P(real | pass) and the expected value of each rule and design over simulated pilots.
* :func:`verdict_rates`: how often each rule rolls out a real policy (one whose effect the
  simulator measures but nobody injects), with the effect it really had.
* :func:`plot_operating_characteristics`.

The rules themselves (:data:`RULES`) live in :mod:`analysis.pilot_estimators` and are
re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from analysis.pilot_estimators import (
    RULES,
    Estimate,
    PilotDesign,
    cuped_did,
    did_placebo,
    plan_rule,
    pre_post,
    synthetic_control,
)
from analysis.stats import wilson_interval

__all__ = [
    "RULES",
    "Estimate",
    "PilotDesign",
    "apply_rules",
    "closed_form_pass_prob",
    "closed_form_se",
    "cuped_did",
    "did_placebo",
    "estimate_tau",
    "evaluate",
    "mde80",
    "plan_rule",
    "plot_operating_characteristics",
    "pre_post",
    "recommend",
    "simulate_panel",
    "synthetic_control",
    "verdict_rates",
]

DPI = 110
_DIGITS = 10  # true effects are matched after rounding to this many decimals


def closed_form_se(p: float, n_t: float, n_c: float, tau: float, weeks: float, k: float) -> float:  # noqa: PLR0917 (the formula's order)
    """Normal-approximation SE of the relative lift ``c_T / c_C - 1`` (domain.md section 6).

    ``sqrt[(1-p)/(p n_T) + (1-p)/(p n_C) + tau^2 (1 + 1/k) / w]``: ``n_T``, ``n_C`` are total
    leads over the pilot weeks, ``tau`` the region-week relative noise, ``k`` the control/treated
    size ratio and ``w`` the pilot weeks.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1) (got {p:g})")
    if n_t <= 0 or n_c <= 0 or weeks <= 0 or k <= 0 or tau < 0:
        raise ValueError(f"need n_t, n_c, weeks, k > 0 and tau >= 0 (got {n_t:g}, {n_c:g}, {weeks:g}, {k:g}, {tau:g})")
    binomial = (1 - p) / (p * n_t) + (1 - p) / (p * n_c)
    return math.sqrt(binomial + tau**2 * (1 + 1 / k) / weeks)


def closed_form_pass_prob(threshold: float, true_lift: float, se: float) -> float:
    """P(estimated lift >= threshold) when it is normal around ``true_lift`` with ``se``: ``1 - Phi((t - l) / se)``."""
    if se <= 0:
        raise ValueError(f"se must be > 0 (got {se:g})")
    return float(1 - ndtr((threshold - true_lift) / se))


def mde80(se: float) -> float:
    """Minimum detectable effect at 80% power and two-sided alpha = 0.05: ``(1.96 + 0.84) * se = 2.8 * se``."""
    return 2.8 * se


def estimate_tau(panel: pd.DataFrame) -> float:
    """Region-week relative noise beyond binomial, by the method of moments on each unit's weeks.

    Per unit u with pooled conversion ``c_u = sum(conv) / sum(leads) = sum(conv) / N_u``, the
    relative deviation of week w is ``r = c_uw / c_u - 1``. Its expected square is
    ``(1 - c_u) / c_u * (1/n_uw - 1/N_u) + tau^2 * g_uw`` with ``g_uw = 1 - 2 n_uw/N_u +
    sum_v n_uv^2 / N_u^2`` (both terms account for ``c_u`` being estimated from the same weeks; g
    is ``1 - 1/W`` with equal weeks). So ``tau^2 = sum n (r^2 - binomial) / sum n g``, weeks
    weighted by their leads, floored at 0; returns ``sqrt(tau^2)``. Feed it history without a
    pilot: a real effect, a trend or a shock common to all units count as noise here (a common
    shock cancels in a treated-vs-control comparison, so this is then an upper bound).
    """
    missing = {"unit", "leads", "conversions"} - set(panel.columns)
    if missing:
        raise ValueError(f"panel lacks columns {sorted(missing)}")
    num = den = 0.0
    for _, unit in panel.groupby("unit", sort=False):
        n = unit["leads"].to_numpy(dtype=float)
        c = unit["conversions"].to_numpy(dtype=float)
        keep = n > 0
        n, c = n[keep], c[keep]
        total = n.sum()
        if n.size < 2 or total <= 0 or c.sum() <= 0 or c.sum() >= total:
            continue
        base = c.sum() / total
        r = (c / n) / base - 1
        binomial = (1 - base) / base * (1 / n - 1 / total)
        g = 1 - 2 * n / total + float(np.sum(n**2)) / total**2
        num += float(np.sum(n * (r**2 - binomial)))
        den += float(np.sum(n * g))
    if den <= 0:
        return math.nan
    return math.sqrt(max(0.0, num / den))


def simulate_panel(  # noqa: PLR0917 (the study's cross-check calls it positionally)
    units: Sequence[str],
    weeks: int,
    leads_per_week: float | Mapping[str, float],
    p: float,
    tau: float,
    rng: np.random.Generator,
    *,
    effect: float = 0.0,
    design: PilotDesign | None = None,
    unit_sd: float = 0.0,
    fixed_leads: bool = False,
) -> pd.DataFrame:
    """A unit x week panel: leads ~ Poisson(leads_per_week) (or the rounded mean with ``fixed_leads``).

    P(convert) in unit u, week w is ``p (1 + a_u)(1 + e_uw)``, ``a_u ~ N(0, unit_sd)`` (a
    persistent level), ``e_uw ~ N(0, tau)`` (region-week noise), clipped to [0, 1], and
    multiplied by ``1 + effect`` (then clipped again) in ``design``'s treated units during its
    pilot weeks; conversions ~ Binomial(leads, P). Draw order: levels, noise, leads, conversions.
    """
    names = [str(u) for u in units]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"units must be distinct and at least one (got {names})")
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1 (got {weeks})")
    if not 0 <= p <= 1 or tau < 0 or unit_sd < 0:
        raise ValueError(f"need 0 <= p <= 1, tau >= 0, unit_sd >= 0 (got {p:g}, {tau:g}, {unit_sd:g})")
    if effect != 0 and design is None:
        raise ValueError("a non-zero effect needs a design (which units, which weeks)")
    if isinstance(leads_per_week, Mapping):
        absent = [u for u in names if u not in leads_per_week]
        if absent:
            raise ValueError(f"leads_per_week has no entry for units {absent}")
        mean = np.array([float(leads_per_week[u]) for u in names])
    else:
        mean = np.full(len(names), float(leads_per_week))
    if np.any(mean < 0):
        raise ValueError("leads_per_week must be >= 0")
    level = 1 + rng.normal(0.0, unit_sd, size=(len(names), 1)) if unit_sd > 0 else np.ones((len(names), 1))
    noise = 1 + rng.normal(0.0, tau, size=(len(names), weeks)) if tau > 0 else np.ones((len(names), weeks))
    prob = np.clip(p * level * noise, 0.0, 1.0)
    if design is not None:
        absent = sorted(set(design.treated) - set(names))
        if absent:
            raise ValueError(f"design treats units {absent} that are not simulated")
        rows = [names.index(u) for u in design.treated]
        prob[rows, design.start : design.end] = np.clip(prob[rows, design.start : design.end] * (1 + effect), 0, 1)
    mean_grid = np.broadcast_to(mean[:, None], prob.shape)
    leads = np.rint(mean_grid).astype(np.int64) if fixed_leads else rng.poisson(mean_grid)
    conversions = rng.binomial(leads, prob)
    return pd.DataFrame(
        {
            "unit": np.repeat(names, weeks),
            "week": np.tile(np.arange(weeks), len(names)),
            "leads": leads.ravel(),
            "conversions": conversions.ravel(),
        }
    )


def apply_rules(
    panel: pd.DataFrame,
    design: PilotDesign,
    *,
    alpha: float = 0.05,
    threshold: float = 0.20,
    rules: Sequence[str] | None = None,
) -> list[Estimate]:
    """Every rule in :data:`RULES` (or ``rules``) on one pilot; ``threshold`` goes to the plan's rule only."""
    chosen = list(RULES) if rules is None else list(rules)
    unknown = [r for r in chosen if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rules {unknown} (known: {list(RULES)})")
    return [
        RULES[r](panel, design, alpha=alpha, threshold=threshold)
        if r == "plan_rule"
        else RULES[r](panel, design, alpha=alpha)
        for r in chosen
    ]


def evaluate(
    pilots: pd.DataFrame,
    *,
    prior: Mapping[float, float] | None = None,
    value_per_lift: float = 1.0,
    rollout_cost: float = 0.0,
    pilot_cost: float | Mapping[tuple, float] = 0.0,
    design_columns: Sequence[str] = ("weeks", "treated_units"),
    realised: str | None = None,
) -> pd.DataFrame:
    """Operating characteristics of each (rule, design) over simulated pilots, one row each.

    ``pilots`` has one row per simulated pilot and rule: ``rule``, the ``design_columns``,
    ``true_effect``, ``lift``, ``passed``, ``applicable``. Per group, with ``P(e) = P(pass |
    true effect e)`` (the pass rate among its pilots with that effect):

    * ``false_positive_rate`` = P(0), with the Wilson 95% interval ``fpr_low``/``fpr_high`` over
      ``n_null`` null pilots; ``power`` = P at the smallest positive effect, ``power_at_<e>`` for
      each positive effect; ``harm_pass_rate`` = pass rate over all negative-effect pilots.
    * ``type_m`` = median of ``lift / true_effect`` over passing pilots with a positive effect
      (exaggeration, Gelman & Carlin 2014); ``type_s`` = share of those with ``lift < 0``.
    * With the prior ``pi`` (effect -> weight, normalised; default: the group's empirical
      frequencies of the true effects): ``p_real_given_pass = sum_{e>0} pi(e) P(e) / sum_e pi(e)
      P(e)`` and ``expected_value = sum_e pi(e) P(e) (e * value_per_lift - rollout_cost) -
      pilot_cost(design)``, where ``pilot_cost`` is a number or a mapping from the tuple of the
      design's values (in ``design_columns`` order) to its cost. NaN when the prior puts weight
      on an effect the group has no pilots for.

    ``realised`` names a column holding each pilot's realised true effect (what the simulator
    measured against the same world without the policy, where the nominal ``true_effect`` only
    labels the group): type M divides by it and the expected value uses, per nominal effect e,
    the mean over its pilots of ``passed * (realised * value_per_lift - rollout_cost)``.

    Groups with any inapplicable pilot get NaN metrics and ``applicable = False``.
    """
    design_columns = list(design_columns)
    needed = {"rule", "true_effect", "lift", "passed", "applicable", *design_columns}
    missing = needed - set(pilots.columns)
    if missing:
        raise ValueError(f"pilots lacks columns {sorted(missing)}")
    weights = _normalised(prior) if prior is not None else None
    frame = pilots.assign(_effect=pilots["true_effect"].astype(float).round(_DIGITS))
    frame["_truth"] = frame[realised].astype(float) if realised is not None else frame["_effect"]
    positive = sorted(e for e in frame["_effect"].unique() if e > 0)
    rows = []
    for key, group in frame.groupby(["rule", *design_columns], sort=True):
        keys = key if isinstance(key, tuple) else (key,)
        design = tuple(keys[1:])
        row: dict[str, object] = dict(zip(["rule", *design_columns], keys, strict=True))
        row.update(_characteristics(group, positive))
        applicable = bool(group["applicable"].astype(bool).all())
        if applicable:
            rates = group.groupby("_effect")["passed"].mean().astype(float).to_dict()
            gains = (
                group.assign(_gain=group["passed"].astype(float) * (group["_truth"] * value_per_lift - rollout_cost))
                .groupby("_effect")["_gain"]
                .mean()
                .astype(float)
                .to_dict()
            )
            pi = weights if weights is not None else group["_effect"].value_counts(normalize=True).to_dict()
            cost = _design_cost(pilot_cost, design) if isinstance(pilot_cost, Mapping) else float(pilot_cost)
            row.update(_value(rates, gains, pi, cost))
        else:
            row.update(dict.fromkeys(_METRICS + [_power_column(e) for e in positive], math.nan))
        row["applicable"] = applicable
        rows.append(row)
    columns = [
        "rule",
        *design_columns,
        "n_pilots",
        "n_null",
        *_METRICS[:4],
        *(_power_column(e) for e in positive),
        *_METRICS[4:],
        "applicable",
    ]
    return pd.DataFrame(rows, columns=columns)


_METRICS = [
    "false_positive_rate",
    "fpr_low",
    "fpr_high",
    "power",
    "harm_pass_rate",
    "type_m",
    "type_s",
    "p_real_given_pass",
    "expected_value",
]


def _power_column(effect: float) -> str:
    return f"power_at_{effect:g}"


def _characteristics(group: pd.DataFrame, positive: list[float]) -> dict[str, object]:
    effect = group["_effect"].to_numpy(dtype=float)
    passed = group["passed"].to_numpy(dtype=bool)
    lift = group["lift"].to_numpy(dtype=float)
    truth = group["_truth"].to_numpy(dtype=float)
    null = effect == 0
    out: dict[str, object] = {"n_pilots": len(group), "n_null": int(null.sum())}
    n_null, fp = int(null.sum()), int(passed[null].sum())
    out["false_positive_rate"] = fp / n_null if n_null else math.nan
    out["fpr_low"], out["fpr_high"] = wilson_interval(fp, n_null)
    present = [e for e in positive if np.any(effect == e)]
    out["power"] = float(passed[effect == present[0]].mean()) if present else math.nan
    for e in positive:
        at = effect == e
        out[_power_column(e)] = float(passed[at].mean()) if at.any() else math.nan
    harm = effect < 0
    out["harm_pass_rate"] = float(passed[harm].mean()) if harm.any() else math.nan
    win = passed & (effect > 0) & (truth > 0) & np.isfinite(lift)
    out["type_m"] = float(np.median(lift[win] / truth[win])) if win.any() else math.nan
    out["type_s"] = float(np.mean(lift[win] < 0)) if win.any() else math.nan
    return out


def _value(
    rates: Mapping[float, float], gains: Mapping[float, float], prior: Mapping[float, float], cost: float
) -> dict[str, float]:
    """P(real | pass) and the expected value; ``gains[e]`` = mean of passed x (effect x value - rollout cost)."""
    if any(w > 0 and e not in rates for e, w in prior.items()):
        return {"p_real_given_pass": math.nan, "expected_value": math.nan}
    terms = {e: w * rates.get(e, 0.0) for e, w in prior.items()}
    total = sum(terms.values())
    real = sum(t for e, t in terms.items() if e > 0)
    value = sum(w * gains.get(e, 0.0) for e, w in prior.items()) - cost
    return {"p_real_given_pass": real / total if total > 0 else math.nan, "expected_value": value}


def _normalised(prior: Mapping[float, float]) -> dict[float, float]:
    weights = {round(float(e), _DIGITS): float(w) for e, w in prior.items()}
    if any(w < 0 or not math.isfinite(w) for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"prior weights must be finite, >= 0 and not all 0 (got {dict(prior)})")
    total = sum(weights.values())
    return {e: w / total for e, w in weights.items()}


def _design_cost(costs: Mapping[tuple, float], design: tuple) -> float:
    if design not in costs:
        raise ValueError(f"pilot_cost has no entry for design {design} (has {list(costs)})")
    return float(costs[design])


def verdict_rates(pilots: pd.DataFrame, *, by: Sequence[str] = ("variant", "design", "rule", "weeks")) -> pd.DataFrame:
    """Per group of simulated pilots of a real policy: how often the rule rolls it out, and its true effect.

    ``pilots`` has one row per pilot and rule (``passed``, ``applicable``, ``lift``,
    ``realised_effect`` and the ``by`` columns). Per group: ``n_pilots``, ``pass_rate`` with its
    Wilson 95% interval (``pass_low``, ``pass_high``), the median estimated ``lift``, and the
    mean, 10th and 90th percentile of the realised effect over the group's pilots
    (``realised_mean``, ``realised_p10``, ``realised_p90``). NaN rates where the rule is not
    applicable to the design.
    """
    by = list(by)
    missing = {"passed", "applicable", "lift", "realised_effect", *by} - set(pilots.columns)
    if missing:
        raise ValueError(f"pilots lacks columns {sorted(missing)}")
    rows = []
    for key, group in pilots.groupby(by, sort=False):
        keys = key if isinstance(key, tuple) else (key,)
        row: dict[str, object] = dict(zip(by, keys, strict=True))
        realised = group["realised_effect"].to_numpy(dtype=float)
        applicable = bool(group["applicable"].astype(bool).all())
        n, passed = len(group), int(group["passed"].astype(bool).sum())
        low, high = wilson_interval(passed, n) if applicable else (math.nan, math.nan)
        row.update(
            n_pilots=n,
            pass_rate=passed / n if applicable and n else math.nan,
            pass_low=low,
            pass_high=high,
            lift_median=float(np.nanmedian(group["lift"].to_numpy(dtype=float))) if applicable else math.nan,
            realised_mean=float(np.nanmean(realised)) if np.isfinite(realised).any() else math.nan,
            realised_p10=float(np.nanpercentile(realised, 10)) if np.isfinite(realised).any() else math.nan,
            realised_p90=float(np.nanpercentile(realised, 90)) if np.isfinite(realised).any() else math.nan,
            applicable=applicable,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def recommend(table: pd.DataFrame, *, max_fpr: float = 0.10) -> pd.Series | None:
    """The applicable (rule, design) row of :func:`evaluate` with the highest expected value and FPR <= ``max_fpr``."""
    ok = (
        table["applicable"].astype(bool)
        & (table["false_positive_rate"] <= max_fpr)
        & np.isfinite(table["expected_value"].astype(float))
    )
    if not ok.any():
        return None
    return table.loc[table.loc[ok, "expected_value"].astype(float).idxmax()]


def plot_operating_characteristics(
    table: pd.DataFrame,
    path: Path,
    *,
    alpha: float = 0.05,
    weeks_column: str = "weeks",
    line_column: str = "treated_units",
) -> Path:
    """Per rule, false-positive rate and power against pilot weeks, one line per ``line_column`` value.

    ``table`` is :func:`evaluate` output. The FPR panel carries the ``alpha`` line. The PNG is
    written to a ``.part`` name and then moved onto ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    rules = list(dict.fromkeys(table["rule"])) or ["(no rules)"]
    fig = Figure(figsize=(10.0, 2.6 * len(rules) + 0.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rules), 2, squeeze=False, sharex=True)
    for (ax_fpr, ax_power), rule in zip(axes, rules, strict=True):
        block = table[table["rule"] == rule].sort_values(weeks_column) if "rule" in table else table.iloc[:0]
        lines = block.groupby(line_column, sort=True) if line_column in block else [("all", block)]
        for i, (value, line) in enumerate(lines if len(block) else []):
            x = line[weeks_column].to_numpy(dtype=float)
            label = f"{line_column} = {value}"
            ax_fpr.plot(x, line["false_positive_rate"].to_numpy(dtype=float), marker="o", color=f"C{i}", label=label)
            ax_power.plot(x, line["power"].to_numpy(dtype=float), marker="o", color=f"C{i}", label=label)
        inapplicable = len(block) > 0 and not block["applicable"].astype(bool).any()
        suffix = " (not applicable)" if inapplicable else ""
        ax_fpr.axhline(alpha, color="black", linestyle="--", linewidth=1.0, label=f"{alpha:.0%}")
        ax_fpr.set_title(f"{rule}: false-positive rate{suffix}", fontsize=10)
        ax_power.set_title(f"{rule}: power (smallest positive effect){suffix}", fontsize=10)
        for ax in (ax_fpr, ax_power):
            if len(block):
                ax.set_xticks(sorted(set(block[weeks_column].astype(float))))
            ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="upper left")
    for ax in axes[-1]:
        ax.set_xlabel("pilot weeks")
    fig.suptitle("Pilot rules: operating characteristics by pilot length", fontsize=11)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.97))
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, Path(path), dpi=DPI)
