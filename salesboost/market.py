"""The market: lead volume and timing, regions, source channels, customer segments."""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError

#: Customer segments: prospects from the channels, and existing accounts.
SEGMENTS: tuple[str, ...] = ("new", "existing")


@dataclass(kw_only=True)
class ChannelConfig:
    """A lead source channel: its share of leads and how well its leads qualify."""

    share: float
    qualify_prob: float  # P(qualified) if first contact comes within speed_to_lead.t0_hours

    def __post_init__(self) -> None:
        checks.probability("share", self.share)
        checks.probability("qualify_prob", self.qualify_prob)


@dataclass(kw_only=True)
class SegmentConfig:
    """A customer segment: ``new`` (prospects from the channels) or ``existing`` (accounts)."""

    accept_prob: float  # P(customer accepts a quote it receives)
    deal_size: Dist  # order value of product A, currency units (products scale it)

    def __post_init__(self) -> None:
        checks.probability("accept_prob", self.accept_prob)


@dataclass(kw_only=True)
class MarketConfig:
    """Where new leads come from and how customers respond.

    ``leads_per_week`` counts leads from new prospects, over all channels; existing accounts
    send their own repeat requests (``accounts``).
    """

    leads_per_week: float
    weekday_weights: list[float]  # Mon..Sun, relative arrival intensity
    hour_weights: list[float]  # 00..23, relative arrival intensity within a day
    regions: dict[str, float]  # share of leads per region
    channels: dict[str, ChannelConfig]
    segments: dict[str, SegmentConfig]
    decision_days: Dist  # customer's time to decide on a quote, elapsed days

    def __post_init__(self) -> None:
        checks.positive("leads_per_week", self.leads_per_week)
        checks.weights("weekday_weights", self.weekday_weights, 7)
        checks.weights("hour_weights", self.hour_weights, 24)
        checks.shares("regions", self.regions)
        checks.shares("channels", {k: c.share for k, c in self.channels.items()})
        if set(self.segments) != set(SEGMENTS):
            raise ConfigError(
                "segments", f"needs exactly the segments {', '.join(SEGMENTS)} (got {', '.join(self.segments)})"
            )
        if not self.channels:
            raise ConfigError("channels", "needs at least one channel")
