"""Risk: the market's series, shocks that hit the world on a date, and playbooks that answer alarms.

The market series (industry growth, the main competitor's share) exist so that the plan's
market indicators have something to read. A shock changes the world from its start date;
a playbook is one of the plan's responses, switched on the month its alarm first fires
(rules: :mod:`salesboost.warnings`, indicators: :mod:`salesboost.indicators`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salesboost import checks
from salesboost.errors import ConfigError
from salesboost.incentive import IncentiveConfig

#: What a shock does to the world (the size's meaning is in :class:`ShockConfig`).
SHOCK_KINDS: tuple[str, ...] = ("demand_fall", "competitor_price_cut", "key_reps_leave", "complaints_surge")
#: The plan's responses the simulation models (what each changes is in :class:`PlaybookConfig`).
RESPONSES: tuple[str, ...] = (
    "talent_pool",
    "diversify",
    "product_mix",
    "core_visits",
    "success_manager",
    "change_incentives",
    "win_back",
)


@dataclass(kw_only=True)
class MarketSeriesConfig:
    """Monthly industry growth (AR(1) around a trend) and the competitor's share (AR(1) around a level)."""

    growth_mean: float = 0.005  # industry sales growth per month, relative
    growth_sd: float = 0.01  # sd of the monthly innovation
    growth_ar: float = 0.5  # persistence of deviations from the trend
    competitor_share: float = 0.30  # the main competitor's share of the market
    share_sd: float = 0.01  # sd of the monthly innovation, share points
    share_ar: float = 0.7

    def __post_init__(self) -> None:
        checks.non_negative("growth_sd", self.growth_sd)
        checks.non_negative("share_sd", self.share_sd)
        checks.probability("competitor_share", self.competitor_share, below_one=True)
        for key in ("growth_ar", "share_ar"):
            value = getattr(self, key)
            if not 0.0 <= value < 1.0:
                raise ConfigError(key, f"must be in [0, 1) for a stationary series (got {value:g})")
        if not -0.5 < self.growth_mean < 0.5:
            raise ConfigError("growth_mean", f"must be a monthly rate in (-0.5, 0.5) (got {self.growth_mean:g})")


@dataclass(kw_only=True)
class ShockConfig:
    """A market shock from ``start`` on.

    ``size`` by kind: ``demand_fall`` the share of new prospects' demand lost (ramped in over
    ``months``; industry growth falls by size / months a month meanwhile);
    ``competitor_price_cut`` the competitor's relative price cut (its share rises by
    ``share_response`` x size, the deal loss hazard by ``hazard_response`` x size and accounts'
    dropout by ``dropout_response`` x size, relative); ``key_reps_leave`` how many reps leave
    on the day (the most able first; needs an incentive scheme, which runs the staffing desk);
    ``complaints_surge`` the relative rise of every complaint probability.
    """

    kind: str
    start: str  # ISO date
    size: float
    months: int = 3  # ramp of a demand fall or a competitor's share gain
    share_response: float = 0.5
    hazard_response: float = 3.0
    dropout_response: float = 2.0

    def __post_init__(self) -> None:
        checks.one_of("kind", self.kind, SHOCK_KINDS)
        checks.iso_date("start", self.start)
        if self.months < 1:
            raise ConfigError("months", f"must be >= 1 (got {self.months})")
        if self.kind == "demand_fall" and not 0.0 < self.size < 1.0:
            raise ConfigError("size", f"a demand fall is a share of demand lost, in (0, 1) (got {self.size:g})")
        if self.kind == "key_reps_leave" and (self.size < 1 or self.size != int(self.size)):
            raise ConfigError("size", f"key_reps_leave needs a whole number of reps >= 1 (got {self.size:g})")
        if self.kind in ("competitor_price_cut", "complaints_surge") and not self.size > 0:
            raise ConfigError("size", f"must be > 0 (got {self.size:g})")
        for key in ("share_response", "hazard_response", "dropout_response"):
            checks.non_negative(key, getattr(self, key))


@dataclass(kw_only=True)
class PlaybookConfig:
    """One of the plan's responses, on from the month its ``alarm`` first fires, at ``cost_per_month``.

    ``size`` by response: ``talent_pool`` backups added per region (and every empty seat is
    filled from the pool at once); ``diversify`` extra new-prospect demand from a new segment,
    relative; ``product_mix`` the share of new leads moved to product B, in share points;
    ``core_visits`` the relative cut of core accounts' dropout (quarterly visits);
    ``success_manager`` the relative cut of every account's dropout; ``win_back`` P(a call
    brings back a customer whose deal went to the competitor). ``change_incentives`` has no
    size: it switches the reps to ``scheme`` (a name in ``risk.schemes``) from the first month
    that starts a settlement period of both schemes. A ``win_back`` call takes ``call_hours``
    of the account owner's time and lapses if not made within ``within_days``.
    """

    response: str
    alarm: str  # a rule of risk.rules, or of salesboost.warnings' PLAN_RULES / CHART_RULES
    size: float = 0.0
    cost_per_month: float = 0.0
    scheme: str | None = None  # change_incentives: the scheme switched to (a key of risk.schemes)
    call_hours: float = 0.5  # win_back: the owner's time per call
    within_days: float = 3.0  # win_back: the call lapses after this (the plan: within 3 days)

    def __post_init__(self) -> None:
        checks.one_of("response", self.response, RESPONSES)
        checks.non_negative("cost_per_month", self.cost_per_month)
        if not self.alarm.strip():
            raise ConfigError("alarm", "name the warning rule that switches this playbook on")
        if (
            self.response in ("core_visits", "success_manager", "product_mix", "win_back")
            and not 0.0 < self.size <= 1.0
        ):
            raise ConfigError("size", f"{self.response} needs a size in (0, 1] (got {self.size:g})")
        if self.response in ("talent_pool", "diversify") and not self.size > 0:
            raise ConfigError("size", f"must be > 0 (got {self.size:g})")
        if self.response == "change_incentives" and not self.scheme:
            raise ConfigError("scheme", "change_incentives needs the scheme to switch to (a key of risk.schemes)")
        if self.response == "win_back":
            checks.positive("call_hours", self.call_hours)
            checks.positive("within_days", self.within_days)


@dataclass(kw_only=True)
class RiskConfig:
    """Market series, shocks, extra warning rules and playbooks of one world."""

    market: MarketSeriesConfig = field(default_factory=MarketSeriesConfig)
    shocks: list[ShockConfig] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)  # name -> rule (salesboost.warnings.rule_from_dict)
    playbooks: list[PlaybookConfig] = field(default_factory=list)
    schemes: dict[str, IncentiveConfig] = field(default_factory=dict)  # what change_incentives can switch to
    core_share: float = 0.2  # core accounts: this top share of accounts by spend at the start
    quota_per_month: float = 370_000.0  # a seat's monthly sales target for attainment (no scheme: last year's sales)

    def __post_init__(self) -> None:
        checks.probability("core_share", self.core_share)
        checks.positive("quota_per_month", self.quota_per_month)
        from salesboost.indicators import INDICATORS  # noqa: PLC0415
        from salesboost.warnings import CHART_RULES, PLAN_RULES, rule_from_dict  # noqa: PLC0415 - a cycle otherwise

        for name, data in self.rules.items():
            rule = rule_from_dict(f"rules.{name}", data)
            if rule.indicator not in INDICATORS:
                raise ConfigError(
                    f"rules.{name}.indicator",
                    f"unknown indicator {rule.indicator!r}; indicators: {', '.join(INDICATORS)}",
                )
        known = {*PLAN_RULES, *CHART_RULES, *self.rules}
        for i, playbook in enumerate(self.playbooks):
            if playbook.alarm not in known:
                raise ConfigError(
                    f"playbooks[{i}].alarm", f"unknown rule {playbook.alarm!r}; rules: {', '.join(sorted(known))}"
                )
            if playbook.scheme is not None and playbook.scheme not in self.schemes:
                named = ", ".join(sorted(self.schemes)) or "none: add one with +incentive@risk.schemes.NAME=FILE"
                raise ConfigError(
                    f"playbooks[{i}].scheme", f"unknown scheme {playbook.scheme!r}; risk.schemes: {named}"
                )
        for name, scheme in self.schemes.items():
            if not scheme.active:
                raise ConfigError(
                    f"schemes.{name}", "a scheme to switch to must pay for something (not incentive=none)"
                )

    def rule(self, name: str) -> Any:
        """The rule ``name`` (a user's rule before the catalogue's)."""
        from salesboost.warnings import CHART_RULES, PLAN_RULES, rule_from_dict  # noqa: PLC0415

        if name in self.rules:
            return rule_from_dict(f"risk.rules.{name}", self.rules[name])
        return {**PLAN_RULES, **CHART_RULES}[name]

    @property
    def monitored(self) -> bool:
        """Whether the world watches alarms (a playbook waits for one)."""
        return bool(self.playbooks)
