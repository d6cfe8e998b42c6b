"""Incentive schemes as configuration, and what a scheme pays a rep for a period.

A scheme combines the parts a compensation plan is built from: a commission on revenue, an
accelerator above quota, a lump-sum quota bonus, a weighted scorecard (the plan's 40/30/20/10),
a cap, floors that cut the pay when a gated metric is missed, the settlement period, and
quota ratcheting. :func:`payout` is the arithmetic the simulation settles with; the reps'
effort model (:mod:`salesboost.effort`) prices effort with the same terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError

#: How often a scheme settles: the months in each period.
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Scorecard blocks of the plan, in its order.
BLOCKS: tuple[str, ...] = ("performance", "customer_value", "capability", "team")
#: Metrics a scorecard can score, each higher-is-better; ``revenue_attainment`` is revenue / quota.
SCORECARD_METRICS: tuple[str, ...] = (
    "revenue_attainment",
    "new_customers",
    "high_value_share",
    "repurchase_rate",
    "satisfaction",
    "training_score",
    "data_use",
    "team_attainment",
    "collaboration",
)
#: Scorecard metrics that are counts over the period: their targets shrink with a partial period.
COUNT_METRICS: frozenset[str] = frozenset(("new_customers",))
#: Gated metrics and which side of the limit passes: complaints at most, timeliness at least.
FLOOR_SIDES: dict[str, str] = {"complaint_rate": "max", "timeliness": "min"}


def starts_period(calendar_month: int, *schemes: IncentiveConfig) -> bool:
    """Whether a month (1-12) starts a settlement period of every scheme (periods align with the year)."""
    return all((calendar_month - 1) % scheme.months == 0 for scheme in schemes)


@dataclass(kw_only=True)
class ScoreItem:
    """One scorecard line: its block, its weight (points of 100) and the value that scores in full."""

    block: str
    weight: float
    target: float

    def __post_init__(self) -> None:
        checks.one_of("block", self.block, BLOCKS)
        checks.non_negative("weight", self.weight)
        checks.positive("target", self.target)


@dataclass(kw_only=True)
class FloorConfig:
    """A gate: missing ``limit`` cuts the period's pay by the share ``cut``."""

    limit: float
    cut: float

    def __post_init__(self) -> None:
        checks.non_negative("limit", self.limit)
        checks.probability("cut", self.cut)


@dataclass(kw_only=True)
class IncentiveConfig:
    """A scheme: what it pays for, when, and with which caps, floors and quota rules.

    Amounts are per rep per settlement period at a full period's employment; quotas are
    revenue per rep per month. ``name: none`` is no scheme: reps follow the team's work
    policy and no pay is settled (the calibrated world).
    """

    name: str = "none"
    period: str = "quarter"  # month | quarter | year
    quota_per_month: float = 0.0  # revenue quota per rep and month
    commission_rate: float = 0.0  # share of revenue paid
    accelerator_rate: float = 0.0  # extra share of the revenue above quota
    quota_bonus: float = 0.0  # lump sum when revenue reaches quota
    target_pay: float = 0.0  # scorecard pay at 100 points
    scorecard: dict[str, ScoreItem] = field(default_factory=dict)
    score_cap: float = 1.2  # a metric scores at most this multiple of its target
    cap: float | None = None  # most a rep can earn in a period (null: no cap)
    floors: dict[str, FloorConfig] = field(default_factory=dict)
    floor_exit_after: int = 0  # consecutive periods with a missed floor before the rep is let go (0: never)
    ratchet_up: float = 0.0  # next quota = Q + up (S - Q)+ - down (Q - S)+, per period
    ratchet_down: float = 0.0
    leaver_forfeits: bool = True  # a rep who leaves mid-period keeps commission, loses bonus and scorecard

    def __post_init__(self) -> None:
        checks.one_of("period", self.period, tuple(PERIOD_MONTHS))
        for key in ("quota_per_month", "quota_bonus", "target_pay"):
            checks.non_negative(key, getattr(self, key))
        for key in ("commission_rate", "accelerator_rate"):
            value = getattr(self, key)
            if not 0 <= value <= 1:
                raise ConfigError(key, f"must be a share of revenue in [0, 1], >= 0 (got {value})")
        for name in self.scorecard:
            if name not in SCORECARD_METRICS:
                raise ConfigError(f"scorecard.{name}", f"unknown metric; allowed: {', '.join(SCORECARD_METRICS)}")
        if self.scorecard:
            total = sum(item.weight for item in self.scorecard.values())
            if abs(total - 100.0) > 1e-6:
                raise ConfigError("scorecard", f"weights must add up to 100 points (got {total:g})")
            if self.target_pay <= 0:
                raise ConfigError("target_pay", "must be > 0 when the scheme has a scorecard")
        checks.positive("score_cap", self.score_cap)
        if self.cap is not None:
            checks.non_negative("cap", self.cap)
        for name in self.floors:
            if name not in FLOOR_SIDES:
                raise ConfigError(f"floors.{name}", f"unknown floor; allowed: {', '.join(FLOOR_SIDES)}")
        if self.floor_exit_after < 0:
            raise ConfigError("floor_exit_after", f"must be >= 0 (got {self.floor_exit_after})")
        checks.probability("ratchet_up", self.ratchet_up)
        checks.probability("ratchet_down", self.ratchet_down)
        uses_quota = self.accelerator_rate > 0 or self.quota_bonus > 0 or "revenue_attainment" in self.scorecard
        if uses_quota and self.quota_per_month <= 0:
            raise ConfigError("quota_per_month", "must be > 0 when the scheme pays against a quota")

    @property
    def active(self) -> bool:
        """Whether there is a scheme (reps respond to it and pay is settled)."""
        return self.name != "none"

    @property
    def months(self) -> int:
        """Months in a settlement period."""
        return PERIOD_MONTHS[self.period]

    def period_quota(self, quota_per_month: float | None = None) -> float:
        """A full period's revenue quota at ``quota_per_month`` (default: the scheme's)."""
        monthly = self.quota_per_month if quota_per_month is None else quota_per_month
        return monthly * self.months


@dataclass(frozen=True)
class PeriodKpis:
    """One rep's figures for one settlement period, as the scheme reads them.

    ``quota`` is the full period's quota; ``employed_share`` the share of the period the rep
    was in post (a partial period prorates quota, targets, bonus and cap). ``metrics`` holds
    the scorecard's metrics (revenue attainment is computed here), ``gates`` the floors'
    metrics; a missing or NaN value scores nothing and misses no floor.
    """

    revenue: float
    quota: float
    employed_share: float = 1.0
    metrics: dict[str, float] = field(default_factory=dict)
    gates: dict[str, float] = field(default_factory=dict)
    left: bool = False


@dataclass(frozen=True)
class Payout:
    """What a scheme pays for a period, part by part; ``total`` is what the rep is paid."""

    commission: float
    accelerator: float
    bonus: float
    scorecard: float
    gross: float
    capped: bool
    floors_missed: tuple[str, ...]
    floor_cut: float  # share of the capped pay taken away by missed floors
    total: float
    attainment: float  # revenue / prorated quota (NaN without a quota)


def attainment(revenue: float, quota: float, employed_share: float = 1.0) -> float:
    """Revenue over the prorated quota; NaN when there is no quota."""
    q = quota * employed_share
    return revenue / q if q > 0 else math.nan


def floor_missed(side: str, limit: float, value: float) -> bool:
    """Whether ``value`` misses a floor (``side`` max: above ``limit``; min: below it); NaN never misses."""
    if math.isnan(value):
        return False
    return value > limit if side == "max" else value < limit


def payout(scheme: IncentiveConfig, kpis: PeriodKpis) -> Payout:
    """The pay of one rep for one period under ``scheme``.

    Commission on all revenue, plus the accelerator on revenue above the prorated quota, plus
    the prorated quota bonus when revenue reaches it, plus the scorecard's points times the
    prorated target pay; the sum is capped at the prorated cap, then each missed floor cuts
    what is left by its share (cuts compound). A leaver who forfeits keeps commission and
    accelerator only.
    """
    share = kpis.employed_share
    if not 0 < share <= 1:
        raise ValueError(f"employed_share must be in (0, 1] (got {share})")
    quota = kpis.quota * share
    revenue = kpis.revenue
    attained = attainment(revenue, kpis.quota, share)
    commission = scheme.commission_rate * revenue
    accelerator = scheme.accelerator_rate * max(0.0, revenue - quota) if quota > 0 else 0.0
    bonus = scheme.quota_bonus * share if quota > 0 and revenue >= quota else 0.0
    points = 0.0
    for name, item in scheme.scorecard.items():
        value = attained if name == "revenue_attainment" else kpis.metrics.get(name, math.nan)
        if math.isnan(value):
            continue
        target = item.target * (share if name in COUNT_METRICS else 1.0)
        points += item.weight * min(scheme.score_cap, max(0.0, value) / target)
    scorecard = scheme.target_pay * share * points / 100.0
    if kpis.left and scheme.leaver_forfeits:
        bonus = scorecard = 0.0
    gross = commission + accelerator + bonus + scorecard
    capped = False
    pay = gross
    if scheme.cap is not None and gross > scheme.cap * share:
        pay, capped = scheme.cap * share, True
    missed = tuple(
        name
        for name, gate in scheme.floors.items()
        if floor_missed(FLOOR_SIDES[name], gate.limit, kpis.gates.get(name, math.nan))
    )
    kept = 1.0
    for name in missed:
        kept *= 1.0 - scheme.floors[name].cut
    return Payout(
        commission=commission,
        accelerator=accelerator,
        bonus=bonus,
        scorecard=scorecard,
        gross=gross,
        capped=capped,
        floors_missed=missed,
        floor_cut=1.0 - kept,
        total=pay * kept,
        attainment=attained,
    )


def next_quota(scheme: IncentiveConfig, quota: float, revenue: float) -> float:
    """The next period's quota after a ratchet: Q + up (S - Q)+ - down (Q - S)+ (Leone, Misra & Zimmerman)."""
    return quota + scheme.ratchet_up * max(0.0, revenue - quota) - scheme.ratchet_down * max(0.0, quota - revenue)
