"""Outreach to existing accounts: channels per tier, their response, cost and side effects, as config.

Each period (a panel month) every account is tiered by the plan's RFM rules
(:mod:`salesboost.tiers`) and the strategy plans touches under a money budget and a cap on rep
hours: ``off`` (none), ``uniform`` (the same channels for every account, no tiers), ``tiered``
(the plan's channels per tier) or ``uplift`` (the touches with the highest expected gain per
cost, whatever the tier). The response to the n-th touch of one channel in a period follows
domain.md section 5: after n touches an account has responded with probability
``p_tier x g(n) x u_pers``, where the saturation ``g(n) = (1 - e^(-kappa n)) / (1 - e^(-kappa))``
and ``u_pers`` is the personalisation uplift, worn out by earlier personalised touches. A
response acts on the account's latent purchase process (:class:`OutreachEffects`). The rules
below are the ones the simulation runs (:mod:`sim.outreach`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from salesboost import checks
from salesboost.errors import ConfigError
from salesboost.tiers import TierConfig

#: How touches are chosen: none, the same for everyone, the plan's per tier, or by expected uplift.
STRATEGIES: tuple[str, ...] = ("off", "uniform", "tiered", "uplift")


@dataclass(kw_only=True)
class ChannelConfig:
    """One contact channel: what a touch costs, how tiers respond, and what it risks."""

    cost: float  # money per touch (fees, printed material, travel)
    rep_minutes: float = 0.0  # the owner rep's time per touch (phone, visit): taken from selling
    ops_minutes: float = 0.0  # operations staff time per touch (writing, posting, replying): paid from the budget
    response: dict[str, float]  # P(response to a first touch in a period) by tier; key "default" for the others
    saturation: float = 0.7  # kappa: the n-th touch in a period adds e^(-kappa (n-1)) of the first one's effect
    opt_out: float = 0.0  # P(the account opts out of this channel) per touch
    complaint: float = 0.0  # P(the account complains) per touch
    conversion: float = 0.0  # P(a response from a live account is a purchase request at once)
    cadence_days: float = 30.0  # at most one touch per account this often
    service: bool = False  # a completed touch is service: it lowers the account's dropout for a while
    offer: float = 0.0  # a win-back offer: the discount on the next order (share of its value); 0 = none
    personalised: bool = False  # content personalised by tag (personalisation uplift applies)

    def __post_init__(self) -> None:
        checks.non_negative("cost", self.cost)
        checks.non_negative("rep_minutes", self.rep_minutes)
        checks.non_negative("ops_minutes", self.ops_minutes)
        checks.non_negative("saturation", self.saturation)
        for key in ("opt_out", "complaint", "conversion", "offer"):
            checks.probability(key, getattr(self, key))
        checks.positive("cadence_days", self.cadence_days)
        if not self.response:
            raise ConfigError("response", "expected a response probability per tier (or a 'default')")
        for tier, p in self.response.items():
            checks.probability(f"response.{tier}", p)

    def response_of(self, tier: str) -> float:
        """P(response to a first touch in a period) of an account in ``tier``."""
        p = self.response.get(tier)
        if p is None:
            p = self.response.get("default")
        if p is None:
            raise KeyError(tier)
        return p

    def touches_per_period(self, period_days: float) -> int:
        """Touches one account can get in a period of ``period_days`` at this cadence (at least 1)."""
        return max(1, int(period_days // self.cadence_days))


@dataclass(kw_only=True)
class OutreachEffects:
    """What a response does to the account's latent purchase process (domain.md section 4, recipe step 4)."""

    lift: float = 1.5  # purchase-rate multiplier while lifted (superposed extra requests)
    lift_days: float = 30.0  # how long a response lifts the rate
    service_dropout_cut: float = 0.3  # a service touch cuts P(leaving after a purchase) by this share ...
    service_days: float = 90.0  # ... for this long
    revive_prob: float = 0.15  # P(an offer's response brings back an account that had left)
    personalisation: float = 1.10  # uplift of personalised content on the response probability
    wear_out: float = 0.8  # each earlier personalised touch keeps this share of the uplift (novelty decay)

    def __post_init__(self) -> None:
        if not self.lift >= 1.0:
            raise ConfigError("lift", f"must be >= 1 (a response does not lower the rate) (got {self.lift})")
        checks.non_negative("lift_days", self.lift_days)
        checks.probability("service_dropout_cut", self.service_dropout_cut)
        checks.non_negative("service_days", self.service_days)
        checks.probability("revive_prob", self.revive_prob)
        if not self.personalisation >= 1.0:
            raise ConfigError("personalisation", f"must be >= 1 (got {self.personalisation})")
        checks.probability("wear_out", self.wear_out)


@dataclass(kw_only=True)
class OutreachConfig:
    """The strategy, its budget and rep hours per period, the channels, the plan per tier and the effects."""

    strategy: str = "off"
    budget_per_month: float = 0.0  # money for touch fees per period (same for every strategy in a study)
    rep_hours_per_month: float = 0.0  # rep hours for phone calls and visits per period, whole team
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    plan: dict[str, dict[str, float]] = field(default_factory=dict)  # tiered: tier -> channel -> min M rank
    uniform: dict[str, float] = field(default_factory=dict)  # uniform: channel -> min M rank, every account
    effects: OutreachEffects = field(default_factory=OutreachEffects)
    tiers: dict[str, Any] = field(default_factory=dict)  # the tier rules (customers.tiers), parsed below
    history_order_share: float = 0.5  # P(a purchase before clock 0 became an order): the accounts' history
    response_scale: float = 1.0  # multiplies every channel's response probabilities (the sensitivity's lever)
    saturation_scale: float = 1.0  # multiplies every channel's saturation kappa (the sensitivity's lever)
    complaint_penalty: float = 500.0  # uplift: the money a complaint is weighed at against the gain (not booked)
    ops_cost_per_hour: float = 37.5  # loaded cost of an hour of the operations staff who run the digital channels

    def __post_init__(self) -> None:
        checks.one_of("strategy", self.strategy, STRATEGIES)
        sizes = (
            "budget_per_month",
            "rep_hours_per_month",
            "response_scale",
            "saturation_scale",
            "complaint_penalty",
            "ops_cost_per_hour",
        )
        for key in sizes:
            checks.non_negative(key, getattr(self, key))
        checks.probability("history_order_share", self.history_order_share)
        self.tier_config = TierConfig.from_dict(self.tiers, "tiers")
        tiers = set(self.tier_config.tiers)
        for name, channel in self.channels.items():
            missing = [
                t for t in self.tier_config.tiers if t not in channel.response and "default" not in channel.response
            ]
            if missing:
                raise ConfigError(f"channels.{name}.response", f"no probability for tier {missing[0]!r} (or 'default')")
        for tier, entries in self.plan.items():
            if tier not in tiers:
                raise ConfigError(f"plan.{tier}", f"unknown tier; tiers are {', '.join(self.tier_config.tiers)}")
            self._check_entries(f"plan.{tier}", entries)
        self._check_entries("uniform", self.uniform)
        if self.strategy == "tiered" and not self.plan:
            raise ConfigError("plan", "strategy tiered needs channels per tier")
        if self.strategy == "uniform" and not self.uniform:
            raise ConfigError("uniform", "strategy uniform needs its channels")
        if self.strategy == "uplift" and not self.channels:
            raise ConfigError("channels", "strategy uplift needs channels to choose from")

    def money_per_touch(self, channel: ChannelConfig) -> float:
        """What one touch costs the budget: its fee plus the operations staff's time at their hourly cost."""
        return channel.cost + channel.ops_minutes / 60.0 * self.ops_cost_per_hour

    def response(self, channel: ChannelConfig, tier: str) -> float:
        """P(response to a first touch in a period) by ``channel`` of an account in ``tier``, scaled."""
        return min(1.0, self.response_scale * channel.response_of(tier))

    def kappa(self, channel: ChannelConfig) -> float:
        """The saturation kappa of ``channel``, scaled."""
        return self.saturation_scale * channel.saturation

    def _check_entries(self, where: str, entries: dict[str, float]) -> None:
        for channel, rank in entries.items():
            if channel not in self.channels:
                raise ConfigError(f"{where}.{channel}", f"unknown channel; channels are {', '.join(self.channels)}")
            checks.probability(f"{where}.{channel}", rank)


# -- the response rules ---------------------------------------------------------------------------------------


def saturation(n: int, kappa: float) -> float:
    """g(n) = (1 - e^(-kappa n)) / (1 - e^(-kappa)): the cumulative effect of n touches, g(1) = 1; n with kappa = 0."""
    if n <= 0:
        return 0.0
    if kappa == 0:
        return float(n)
    return -math.expm1(-kappa * n) / -math.expm1(-kappa)


def cumulative_response(p: float, n: int, kappa: float, uplift: float = 1.0) -> float:
    """P(responded within n touches of a period) = min(1, p x g(n) x uplift)."""
    return min(1.0, p * saturation(n, kappa) * uplift)


def touch_response(p: float, n: int, kappa: float, uplift: float = 1.0) -> float:
    """P(response to touch n | no response to touches 1..n-1), so n touches add up to :func:`cumulative_response`."""
    before = cumulative_response(p, n - 1, kappa, uplift)
    if before >= 1.0:
        return 1.0
    return (cumulative_response(p, n, kappa, uplift) - before) / (1.0 - before)


def personalisation_uplift(uplift: float, wear_out: float, earlier: int) -> float:
    """The uplift of a personalised touch after ``earlier`` personalised ones: 1 + (u - 1) x wear_out^earlier."""
    return 1.0 + (uplift - 1.0) * wear_out**earlier


def content_uplift(channel: ChannelConfig, effects: OutreachEffects, tags: frozenset[str], earlier: int) -> float:
    """The uplift of a touch's content: personalised by tag on a personalised channel, else 1.

    An account without tags gets generic content (there is nothing to personalise it by).
    """
    if not (channel.personalised and tags):
        return 1.0
    return personalisation_uplift(effects.personalisation, effects.wear_out, earlier)


def touch_cost(channel: ChannelConfig, rep_cost_per_hour: float, ops_cost_per_hour: float = 0.0) -> float:
    """The full cost of one touch: its fee plus the rep's and the operations staff's time at their hourly rates."""
    return (
        channel.cost + channel.rep_minutes / 60.0 * rep_cost_per_hour + channel.ops_minutes / 60.0 * ops_cost_per_hour
    )
