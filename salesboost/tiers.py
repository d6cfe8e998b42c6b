"""The plan's RFM + tag tiers: rules as typed config, an explicit precedence, a residual tier and the gaps.

The plan's table (R = days since the last order, F = orders in the trailing window, M = percentile
rank of spend in that window):

    high_value  R <= 30, F >= 12 (monthly), M top 20%            core_decision_maker, price_insensitive
    potential   R <= 60, F >= 4 (quarterly), M middle 20%-80%    interested_in_upgrades, planning_to_expand
    dormant     R >= 90, F <= 2 (half-yearly)                    dissatisfied_with_service, moved_to_competitor
    low_value   R >= 180, F <= 1 (yearly), M bottom 20%          small_volume, price_sensitive

Bounds on R and F are inclusive at both ends, as the table's "<=" and ">=" read. Rank bounds are
half-open, ``monetary_min_rank <= rank < monetary_max_rank``, so that "top 20%" is rank >= 0.8, "bottom
20%" is rank < 0.2 and "middle" is 0.2 <= rank < 0.8: the three M bands then partition [0, 1).

The rules overlap (dormant contains low_value; without amounts, potential contains high_value) and
leave gaps (../shared/reference/domain.md section 0). A customer takes the first matching rule in
``precedence``, else the residual tier; every matching rule and, for an unmatched customer, the gap it
falls in are kept, so a summary can count overlaps and gaps. Pure Python (the simulation uses it too).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from salesboost.errors import ConfigError

#: Gap labels (domain.md section 0), for a customer no rule matches. The descriptions give the plan's
#: default thresholds; the bounds used (GapBounds) follow the configured rules.
GAPS: dict[str, str] = {
    "a_recency_between": "R 61-89 days: past potential's recency, short of dormant's",
    "b_recent_infrequent": "R <= 60 with F below quarterly (< 4)",
    "c_recent_top_spend": "R <= 60, F >= quarterly, M in the top 20% but not high value (R <= 30 and F >= 12)",
    "d_recent_bottom_spend": "R <= 60, F >= quarterly, M in the bottom 20%",
    "e_lapsed_frequent": "R >= 90 with F above half-yearly (> 2)",
    "other": "unmatched and in none of the five gaps (only with thresholds other than the plan's)",
}
_BOUNDS = ("recency_min_days", "recency_max_days", "frequency_min", "frequency_max")
_RANKS = ("monetary_min_rank", "monetary_max_rank")


def _share(count: int, total: int) -> float:
    return count / total if total else math.nan


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_number(key: str, value: Any, upper: float | None) -> None:
    """Require None or a finite number >= 0 (and <= ``upper``)."""
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    if ok and upper is not None:
        ok = value <= upper
    if not ok:
        allowed = "a number >= 0" if upper is None else f"a rank in [0, {upper:g}]"
        raise ConfigError(key, f"expected {allowed}, got {value!r}")


@dataclass(frozen=True)
class TierRule:
    """One tier's conditions; ``None`` means no bound. R and F bounds inclusive, rank bounds half-open."""

    name: str
    recency_min_days: float | None = None
    recency_max_days: float | None = None
    frequency_min: float | None = None
    frequency_max: float | None = None
    monetary_min_rank: float | None = None  # rank >= this
    monetary_max_rank: float | None = None  # rank < this
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("name", f"expected a non-empty name, got {self.name!r}")
        for key in _BOUNDS:
            _check_number(key, getattr(self, key), upper=None)
        for key in _RANKS:
            _check_number(key, getattr(self, key), upper=1.0)
        for low, high in (_BOUNDS[:2], _BOUNDS[2:]):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ConfigError(high, f"expected a number >= {low} ({lo}), got {hi!r}")
        lo, hi = self.monetary_min_rank, self.monetary_max_rank
        if lo is not None and hi is not None and lo >= hi:
            raise ConfigError("monetary_max_rank", f"expected a rank > monetary_min_rank ({lo}), got {hi!r}")
        for i, tag in enumerate(self.tags):
            if not isinstance(tag, str) or not tag:
                raise ConfigError(f"tags[{i}]", f"expected a non-empty string, got {tag!r}")

    @property
    def uses_monetary(self) -> bool:
        """Whether the rule has an M condition."""
        return self.monetary_min_rank is not None or self.monetary_max_rank is not None

    def matches(self, recency_days: float, frequency: float, rank: float | None) -> bool:
        """Whether a customer meets every condition; ``rank=None`` skips the M conditions (no amounts)."""
        # Short-circuit in this order: the simulation asks it of every account every month.
        return (
            (self.recency_min_days is None or recency_days >= self.recency_min_days)
            and (self.recency_max_days is None or recency_days <= self.recency_max_days)
            and (self.frequency_min is None or frequency >= self.frequency_min)
            and (self.frequency_max is None or frequency <= self.frequency_max)
            and (rank is None or self.monetary_min_rank is None or rank >= self.monetary_min_rank)
            and (rank is None or self.monetary_max_rank is None or rank < self.monetary_max_rank)
        )

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any], where: str = "") -> TierRule:
        """Build a rule from a plain mapping (YAML); errors name ``where.<key>``."""
        if not isinstance(d, Mapping):
            raise ConfigError(where, f"expected a mapping of rule conditions, got {d!r}")
        allowed = [f.name for f in fields(cls) if f.name != "name"]
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            raise ConfigError(_join(where, str(unknown[0])), f"unknown key; allowed: {', '.join(allowed)}")
        tags = d.get("tags", ())
        if isinstance(tags, str) or not isinstance(tags, Iterable):
            raise ConfigError(_join(where, "tags"), f"expected a list of tags, got {tags!r}")
        values = {key: d.get(key) for key in (*_BOUNDS, *_RANKS)}
        try:
            return cls(name, **values, tags=tuple(tags))
        except ConfigError as err:
            raise err.under(where) from None


# Precedence (why this order): the narrower rule first where two overlap. high_value before potential
# (without amounts high_value lies inside potential); low_value before dormant, because with the plan's
# thresholds low_value (R >= 180, F <= 1, M bottom 20%) lies inside dormant (R >= 90, F <= 2): in the
# table's order low_value could never hold anyone. Dormant then keeps the lapsed customers who are not
# low spenders, the ones a win-back offer is for (the plan's dormant channels).
PLAN_RULES: tuple[TierRule, ...] = (
    TierRule(
        "high_value",
        recency_max_days=30,
        frequency_min=12,
        monetary_min_rank=0.8,
        tags=("core_decision_maker", "price_insensitive"),
    ),
    TierRule(
        "potential",
        recency_max_days=60,
        frequency_min=4,
        monetary_min_rank=0.2,
        monetary_max_rank=0.8,
        tags=("interested_in_upgrades", "planning_to_expand"),
    ),
    TierRule(
        "dormant",
        recency_min_days=90,
        frequency_max=2,
        tags=("dissatisfied_with_service", "moved_to_competitor"),
    ),
    TierRule(
        "low_value",
        recency_min_days=180,
        frequency_max=1,
        monetary_max_rank=0.2,
        tags=("small_volume", "price_sensitive"),
    ),
)
PLAN_PRECEDENCE: tuple[str, ...] = ("high_value", "potential", "low_value", "dormant")


@dataclass(frozen=True)
class TierConfig:
    """The rules, the trailing window for F and M, the precedence (every rule once) and the residual tier."""

    window_days: int = 365
    rules: tuple[TierRule, ...] = PLAN_RULES
    precedence: tuple[str, ...] = PLAN_PRECEDENCE
    residual: str = "maintain"

    def __post_init__(self) -> None:
        if isinstance(self.window_days, bool) or not isinstance(self.window_days, int) or self.window_days < 1:
            raise ConfigError("window_days", f"expected a whole number of days >= 1, got {self.window_days!r}")
        names = [rule.name for rule in self.rules]
        if not names:
            raise ConfigError("rules", "expected at least one rule")
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ConfigError("rules", f"rule {duplicate!r} is defined twice")
        for i, name in enumerate(self.precedence):
            if name not in names:
                raise ConfigError(f"precedence[{i}]", f"expected one of the rules ({', '.join(names)}), got {name!r}")
        if len(set(self.precedence)) != len(self.precedence) or set(self.precedence) != set(names):
            raise ConfigError("precedence", f"expected every rule exactly once ({', '.join(names)})")
        if not isinstance(self.residual, str) or not self.residual or self.residual in names:
            raise ConfigError("residual", f"expected a tier name that is not a rule, got {self.residual!r}")

    @classmethod
    def plan(cls) -> TierConfig:
        """The plan's table with the default precedence and a ``maintain`` residual tier."""
        return cls()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "customers.tiers") -> TierConfig:
        """Parse a plain mapping (keys window_days, rules, precedence, residual); missing keys take the plan's.

        ``rules`` maps a name to its conditions and replaces the plan's rules as a whole; without a
        ``precedence`` the rules then apply in the order given.
        """
        if not isinstance(d, Mapping):
            raise ConfigError(where, f"expected a mapping, got {d!r}")
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            raise ConfigError(_join(where, str(unknown[0])), f"unknown key; allowed: {', '.join(allowed)}")
        rules, precedence = PLAN_RULES, PLAN_PRECEDENCE
        if d.get("rules") is not None:
            raw = d["rules"]
            if not isinstance(raw, Mapping):
                raise ConfigError(_join(where, "rules"), f"expected a mapping of rule name to conditions, got {raw!r}")
            rules = tuple(TierRule.from_dict(str(n), r, _join(where, f"rules.{n}")) for n, r in raw.items())
            precedence = tuple(rule.name for rule in rules)
        if d.get("precedence") is not None:
            raw = d["precedence"]
            if isinstance(raw, str) or not isinstance(raw, Iterable):
                raise ConfigError(_join(where, "precedence"), f"expected a list of rule names, got {raw!r}")
            precedence = tuple(raw)
        try:
            return cls(
                window_days=d.get("window_days", 365),
                rules=rules,
                precedence=precedence,
                residual=d.get("residual", "maintain"),
            )
        except ConfigError as err:
            raise err.under(where) from None

    @functools.cached_property
    def ordered_rules(self) -> tuple[TierRule, ...]:
        """The rules in precedence order (looked up once per config: the simulation asks every month)."""
        return tuple(self.rule(name) for name in self.precedence)

    def tier_of(self, recency_days: float, frequency: float, rank: float | None) -> str:
        """The tier :func:`classify` assigns (first matching rule, else the residual), without its report.

        For many customers at once (the simulation's monthly snapshot): no validation, and the
        precedence-ordered rules are looked up once per config.
        """
        for rule in self.ordered_rules:
            if rule.matches(recency_days, frequency, rank):
                return rule.name
        return self.residual

    @property
    def tiers(self) -> tuple[str, ...]:
        """Every tier a customer can get: the rules in precedence order, then the residual."""
        return (*self.precedence, self.residual)

    def rule(self, name: str) -> TierRule:
        """The rule called ``name``."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


@dataclass(frozen=True)
class GapBounds:
    """The thresholds the five gaps are cut at, read from the configured rules.

    recent_max_days and regular_min from ``potential``, lapsed_min_days and lapsed_max from
    ``dormant``, top_rank from ``high_value``, bottom_rank from ``low_value``; a rule or bound that is
    not configured keeps the plan's value (60, 4, 90, 2, 0.8, 0.2).
    """

    recent_max_days: float = 60
    regular_min: float = 4
    lapsed_min_days: float = 90
    lapsed_max: float = 2
    top_rank: float = 0.8
    bottom_rank: float = 0.2

    @classmethod
    def of(cls, config: TierConfig) -> GapBounds:
        """The bounds of ``config``'s rules, by the plan's rule names."""
        sources = {
            "recent_max_days": ("potential", "recency_max_days"),
            "regular_min": ("potential", "frequency_min"),
            "lapsed_min_days": ("dormant", "recency_min_days"),
            "lapsed_max": ("dormant", "frequency_max"),
            "top_rank": ("high_value", "monetary_min_rank"),
            "bottom_rank": ("low_value", "monetary_max_rank"),
        }
        names = {rule.name: rule for rule in config.rules}
        values: dict[str, float] = {}
        for key, (rule_name, bound) in sources.items():
            value = getattr(names[rule_name], bound) if rule_name in names else None
            if value is not None:
                values[key] = value
        return cls(**values)

    def gap(self, recency_days: float, frequency: float, rank: float | None) -> str:
        """The gap label of a customer no rule matched (``rank=None``: amounts unknown)."""
        if self.recent_max_days < recency_days < self.lapsed_min_days:
            return "a_recency_between"
        if recency_days <= self.recent_max_days:
            if frequency < self.regular_min:
                return "b_recent_infrequent"
            if rank is not None and rank >= self.top_rank:
                return "c_recent_top_spend"
            if rank is not None and rank < self.bottom_rank:
                return "d_recent_bottom_spend"
        elif recency_days >= self.lapsed_min_days and frequency > self.lapsed_max:
            return "e_lapsed_frequent"
        return "other"


@dataclass(frozen=True)
class Classification:
    """One customer's tier, every rule it meets (precedence order) and, if none, its gap."""

    tier: str
    matched: tuple[str, ...]
    gap: str | None  # None when a rule matched
    monetary_known: bool  # False: the M conditions were not applied


def classify(
    recency_days: float,
    frequency: float,
    rank: float | None,
    config: TierConfig,
    *,
    monetary_known: bool = True,
    gaps: GapBounds | None = None,
) -> Classification:
    """Assign the first rule in ``config.precedence`` that the customer meets, else the residual tier.

    ``rank`` is the customer's monetary percentile rank (``monetary_rank``); with
    ``monetary_known=False`` it is ignored and no M condition is applied. ``gaps`` defaults to
    ``GapBounds.of(config)`` (pass it when classifying many customers).
    """
    if not (math.isfinite(recency_days) and recency_days >= 0):
        raise ValueError(f"recency_days: expected a number of days >= 0, got {recency_days!r}")
    if not (math.isfinite(frequency) and frequency >= 0):
        raise ValueError(f"frequency: expected a count >= 0, got {frequency!r}")
    used: float | None = None
    if monetary_known:
        if rank is None or not (0 <= rank <= 1):
            raise ValueError(f"rank: expected a percentile rank in [0, 1] (or monetary_known=False), got {rank!r}")
        used = rank
    matched = tuple(rule.name for rule in config.ordered_rules if rule.matches(recency_days, frequency, used))
    if matched:
        return Classification(matched[0], matched, None, monetary_known)
    gap = (gaps or GapBounds.of(config)).gap(recency_days, frequency, used)
    return Classification(config.residual, (), gap, monetary_known)


def monetary_rank(values: Sequence[float] | np.ndarray) -> list[float]:
    """Percentile ranks in [0, 1): the share of customers who spent strictly less.

    rank_i = #{v_j < v_i} / n. Without ties the ranks are 0, 1/n, ..., (n-1)/n, so "rank >= 0.8"
    picks the top 20% and "rank < 0.2" the bottom 20% (up to rounding of 0.2 n); tied customers
    share a rank and therefore a tier. Ties take the lowest rank of their block, not the average:
    a base where most customers spent nothing in the window (a lapsed majority) would otherwise
    put every one of them at the block's middle rank, in the "middle" M band, and none in the
    bottom 20% (the low-value tier could never fill). Nobody spent less than nothing.
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"values: expected a one-dimensional sequence, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("values: expected finite amounts (no NaN or inf); classify with monetary_known=False instead")
    n = len(array)
    if n == 0:
        return []
    _, inverse, counts = np.unique(array, return_inverse=True, return_counts=True)
    below = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return [float(r) for r in (below / n)[inverse]]


@dataclass(frozen=True)
class TierSummary:
    """Counts, shares and revenue shares per tier; gap counts; customers meeting each rule and each pair."""

    total: int
    counts: dict[str, int]
    shares: dict[str, float]
    revenue_shares: dict[str, float] | None  # None without revenue; NaN if the total revenue is 0
    gap_counts: dict[str, int]
    rule_counts: dict[str, int]  # customers meeting the rule, whatever their tier
    overlap_counts: dict[tuple[str, str], int]  # customers meeting both rules of the pair
    monetary_known: bool

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (kind, name, count, share, revenue_share) for a summary table or CSV."""
        out: list[dict[str, Any]] = [
            {
                "kind": "tier",
                "name": tier,
                "count": count,
                "share": self.shares[tier],
                "revenue_share": None if self.revenue_shares is None else self.revenue_shares[tier],
            }
            for tier, count in self.counts.items()
        ]
        for kind, counts in (("gap", self.gap_counts), ("rule", self.rule_counts)):
            out += [
                {"kind": kind, "name": name, "count": count, "share": _share(count, self.total)}
                for name, count in counts.items()
            ]
        out += [
            {"kind": "overlap", "name": f"{a}&{b}", "count": count, "share": _share(count, self.total)}
            for (a, b), count in self.overlap_counts.items()
        ]
        for row in out:
            row.setdefault("revenue_share", None)
        return out


def summarise(
    classifications: Sequence[Classification],
    revenue: Sequence[float] | None = None,
    *,
    config: TierConfig | None = None,
) -> TierSummary:
    """Summarise classifications; ``revenue`` (one amount per customer) gives each tier's revenue share.

    With ``config`` every tier and rule pair is listed, zeros included; without it, those that occur.
    """
    known = {c.monetary_known for c in classifications}
    if len(known) > 1:
        raise ValueError("classifications: mixed monetary_known; classify every customer the same way")
    if config is not None:
        tiers, rules = list(config.tiers), list(config.precedence)
    else:
        tiers = list(dict.fromkeys(c.tier for c in classifications))
        rules = list(dict.fromkeys(name for c in classifications for name in c.matched))
    total = len(classifications)
    counts = dict.fromkeys(tiers, 0)
    gap_counts = dict.fromkeys(GAPS, 0)
    rule_counts = dict.fromkeys(rules, 0)
    overlaps = dict.fromkeys(itertools.combinations(rules, 2), 0)
    for c in classifications:
        if c.tier not in counts:
            raise ValueError(f"classifications: tier {c.tier!r} is not a tier of the config ({', '.join(tiers)})")
        counts[c.tier] += 1
        if c.gap is not None:
            gap_counts[c.gap] += 1
        for name in c.matched:
            rule_counts[name] += 1
        for pair in itertools.combinations(sorted(c.matched, key=rules.index), 2):
            overlaps[pair] += 1
    revenue_shares = None
    if revenue is not None:
        amounts = [float(v) for v in revenue]
        if len(amounts) != total:
            raise ValueError(f"revenue: expected one amount per classification ({total}), got {len(amounts)}")
        if not all(math.isfinite(v) for v in amounts):
            raise ValueError("revenue: expected finite amounts (no NaN); pass revenue=None when amounts are unknown")
        by_tier = dict.fromkeys(tiers, 0.0)
        for c, amount in zip(classifications, amounts, strict=True):
            by_tier[c.tier] += amount
        grand = math.fsum(amounts)
        revenue_shares = {tier: (value / grand if grand else math.nan) for tier, value in by_tier.items()}
    return TierSummary(
        total=total,
        counts=counts,
        shares={tier: _share(count, total) for tier, count in counts.items()},
        revenue_shares=revenue_shares,
        gap_counts=gap_counts,
        rule_counts=rule_counts,
        overlap_counts=overlaps,
        monetary_known=known != {False},
    )


__all__ = [
    "GAPS",
    "PLAN_PRECEDENCE",
    "PLAN_RULES",
    "Classification",
    "GapBounds",
    "TierConfig",
    "TierRule",
    "TierSummary",
    "classify",
    "monetary_rank",
    "summarise",
]
