"""The rep's brain: how much discretionary work of each kind a rep plans under a scheme.

The closed-form multitask model of domain.md section 2 (Holmstrom and Milgrom; Basu et al.):
a rep expects each hour a day of work kind k to add ``K[k][m]`` units of metric m over the
rest of the period, the scheme pays ``pi[m]`` per unit at the margin, and effort costs
``c e^2 / 2`` a day, so the rep plans ``e_k = max(0, sum_m pi[m] K[k][m]) / c`` hours a day,
scaled down to the hours that are free. The marginal pay of revenue carries the quota
threshold: a lump-sum bonus pays ``bonus x density`` of the period's revenue at the quota,
so it is highest near the quota and small far below it or once it is secured; above a cap
nothing pays. Present bias discounts pay settled after the current month; a rep who foresees
a ratchet counts a share of the next quota's rise against revenue above quota. Unpaid work
gets no effort: that is the point the study tests (a revenue-only scheme starves follow-up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

from salesboost.incentive import COUNT_METRICS, FLOOR_SIDES, IncentiveConfig, Payout, PeriodKpis, payout
from salesboost.reps import ResponseConfig

#: Kinds of discretionary work a rep plans hours of.
EFFORT_KINDS: tuple[str, ...] = ("prospecting", "accounts", "training")
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Outlook:
    """What a rep knows when planning the rest of a settlement period.

    ``revenue_expected`` is the further revenue expected without discretionary work (deals in
    flight, inbound leads); ``metrics`` and ``gates`` hold the expected end-of-period values of
    the scorecard's and the floors' metrics with their standard deviations; ``months_to_pay``
    counts the month ends between now and settlement (0: paid at the end of this month).
    """

    revenue_to_date: float
    revenue_expected: float
    quota: float
    days_left: float
    months_to_pay: int
    free_hours: float
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)
    gates: dict[str, tuple[float, float]] = field(default_factory=dict)
    employed_share: float = 1.0
    period_days: float = 0.0  # working days in the whole period (0: days_left, all of it is ahead)


@dataclass(frozen=True)
class EffortPlan:
    """Planned hours a working day per kind, and the marginal pay behind them.

    ``prices`` is the marginal pay per unit of each metric (``revenue`` per currency unit, the
    gated metrics per unit of rate) after present bias: the work policy prices pipeline tasks
    with them, so the rep's choice of what to do next follows the same scheme.
    """

    hours: dict[str, float]
    marginal: dict[str, float]
    prices: dict[str, float]
    p_quota: float


def discount(config: ResponseConfig, months_to_pay: int) -> float:
    """Weight now of pay settled ``months_to_pay`` month ends from now (beta-delta; 1 this month)."""
    if months_to_pay <= 0:
        return 1.0
    return config.present_bias * config.monthly_discount**months_to_pay


def revenue_price(scheme: IncentiveConfig, config: ResponseConfig, outlook: Outlook) -> tuple[float, float]:
    """Marginal pay per unit of revenue at the expected end-of-period revenue, and P(reaching quota).

    Revenue at period end is taken as normal around its expectation with sd ``revenue_cv``
    times the expectation, shrinking with the square root of the share of the period left
    (domain.md section 2: sigma sqrt(T_r)); the bonus term is bonus x its density at the quota.
    """
    share = outlook.employed_share
    quota = outlook.quota * share
    expected = outlook.revenue_to_date + outlook.revenue_expected
    sd = max(config.revenue_cv * max(expected, quota * 0.25) * _spread_left(outlook), 1e-9)
    p_hit = 0.0
    against_quota = 0.0  # the pay that depends on the quota (a commission does not)
    if quota > 0:
        z = (expected - quota) / sd
        p_hit = _NORMAL.cdf(z)
        against_quota += scheme.accelerator_rate * p_hit
        against_quota += scheme.quota_bonus * share * _NORMAL.pdf(z) / sd
        item = scheme.scorecard.get("revenue_attainment")
        if item is not None:
            below_cap = _NORMAL.cdf((scheme.score_cap * quota - expected) / sd)
            against_quota += scheme.target_pay * share * item.weight / 100.0 / quota * below_cap
        # revenue above quota raises the next quota by ratchet_up per unit, which costs about as
        # much quota-based pay next period as it earns now: a foresighted rep nets it out above quota
        against_quota *= 1.0 - config.ratchet_foresight * scheme.ratchet_up * p_hit
    return scheme.commission_rate + against_quota, p_hit


def metric_prices(scheme: IncentiveConfig, outlook: Outlook) -> dict[str, float]:
    """Marginal pay per unit of each scorecard metric other than revenue (0 once its cap is reached)."""
    share = outlook.employed_share
    prices: dict[str, float] = {}
    for name, item in scheme.scorecard.items():
        if name == "revenue_attainment":
            continue
        target = item.target * (share if name in COUNT_METRICS else 1.0)
        mean, sd = outlook.metrics.get(name, (0.0, 0.0))
        below_cap = (
            _NORMAL.cdf((scheme.score_cap * target - mean) / sd) if sd > 0 else float(mean < scheme.score_cap * target)
        )
        prices[name] = scheme.target_pay * share * item.weight / 100.0 / target * below_cap
    return prices


def _spread_left(outlook: Outlook) -> float:
    """sqrt(share of the period still ahead): how the spread of period revenue shrinks (sigma sqrt(T_r))."""
    period = outlook.period_days if outlook.period_days > 0 else outlook.days_left
    return math.sqrt(min(1.0, outlook.days_left / period)) if period > 0 else 1.0


def _expected(scheme: IncentiveConfig, outlook: Outlook) -> Payout:
    """The period's pay at the expected end-of-period figures (floors passed)."""
    metrics = {name: mean for name, (mean, _sd) in outlook.metrics.items()}
    kpis = PeriodKpis(
        revenue=outlook.revenue_to_date + outlook.revenue_expected,
        quota=outlook.quota,
        employed_share=outlook.employed_share,
        metrics=metrics,
    )
    return payout(scheme, kpis)


def gate_prices(scheme: IncentiveConfig, outlook: Outlook, pay: float) -> dict[str, float]:
    """Shadow price per unit of each gated metric: the pay at stake times the density of missing the gate.

    Positive for timeliness (more is safer), negative for the complaint rate (less is safer).
    """
    prices: dict[str, float] = {}
    for name, gate in scheme.floors.items():
        mean, sd = outlook.gates.get(name, (math.nan, 0.0))
        if math.isnan(mean) or sd <= 0:
            prices[name] = 0.0
            continue
        density = _NORMAL.pdf((gate.limit - mean) / sd) / sd
        sign = 1.0 if FLOOR_SIDES[name] == "min" else -1.0
        prices[name] = sign * gate.cut * pay * density
    return prices


def plan_effort(
    scheme: IncentiveConfig,
    config: ResponseConfig,
    outlook: Outlook,
    returns: dict[str, dict[str, float]],
) -> EffortPlan:
    """The hours a day a rep plans for each kind of discretionary work over the rest of the period.

    ``returns[kind][metric]`` is what one hour of ``kind`` adds to ``metric`` by period end
    (revenue in currency, counts, or shares). The rep sets each kind where its marginal pay
    meets its marginal cost, then scales all down together if they exceed the free hours.
    """
    weight = discount(config, outlook.months_to_pay)
    rev_price, p_hit = revenue_price(scheme, config, outlook)
    prices = {"revenue": rev_price, **metric_prices(scheme, outlook)}
    expected = _expected(scheme, outlook)
    prices.update(gate_prices(scheme, outlook, expected.total))
    cap = scheme.cap
    if cap is not None:
        revenue = outlook.revenue_to_date + outlook.revenue_expected
        sd = max(rev_price * config.revenue_cv * revenue * _spread_left(outlook), 1e-9)
        uncapped = _NORMAL.cdf((cap * outlook.employed_share - expected.gross) / sd)
        prices = {name: p * uncapped if name in ("revenue", *scheme.scorecard) else p for name, p in prices.items()}
    prices = {name: p * weight for name, p in prices.items()}
    marginal = {
        kind: sum(prices.get(metric, 0.0) * amount for metric, amount in returns.get(kind, {}).items())
        for kind in EFFORT_KINDS
    }
    hours = {kind: max(0.0, value) / config.effort_cost for kind, value in marginal.items()}
    total = sum(hours.values())
    if total > outlook.free_hours:
        scale = max(0.0, outlook.free_hours) / total
        hours = {kind: h * scale for kind, h in hours.items()}
    return EffortPlan(hours=hours, marginal=marginal, prices=prices, p_quota=p_hit)


def timing_move(
    scheme: IncentiveConfig, config: ResponseConfig, revenue_to_date: float, quota: float, days_left: float
) -> str | None:
    """``"pull"``, ``"push"`` or None: the timing game a rep plays this close to the period's end.

    Short of a lump at quota by less than ``pull_gap`` of it: pull deals forward. Past the
    quota with a bonus secured and no accelerator, or past the cap: push deals into the next
    period, where they count towards the next threshold (domain.md section 2, Oyer; Larkin).
    """
    if days_left > config.timing_window_days or quota <= 0:
        return None
    threshold_pay = scheme.quota_bonus > 0 or scheme.accelerator_rate > 0
    if threshold_pay and quota * (1.0 - config.pull_gap) <= revenue_to_date < quota:
        return "pull"
    capped = scheme.cap is not None and payout(scheme, PeriodKpis(revenue=revenue_to_date, quota=quota)).capped
    secured = scheme.quota_bonus > 0 and scheme.accelerator_rate == 0 and revenue_to_date >= quota
    if capped or secured:
        return "push"
    return None
