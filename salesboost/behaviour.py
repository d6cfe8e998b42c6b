"""Behavioural response parameters: how delays change outcomes.

Defaults, ranges and sources are in docs/model.md; they are judgment calls on thin
evidence, so every one is a config value to sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class SpeedToLeadConfig:
    """Qualification decays with first-response time: m(t) = max(floor, (t / t0) ** -beta)."""

    t0_hours: float  # response time below which there is no decay
    beta: float  # decay exponent
    floor: float  # smallest multiplier, however late the response

    def __post_init__(self) -> None:
        checks.positive("t0_hours", self.t0_hours)
        checks.non_negative("beta", self.beta)
        checks.probability("floor", self.floor)


@dataclass(kw_only=True)
class BehaviourConfig:
    """Customer and market responses to the pipeline's speed."""

    speed_to_lead: SpeedToLeadConfig
    loss_hazard_per_day: float  # daily hazard that an open deal goes to a competitor
    contact_prob: float  # P(one call attempt reaches a new lead)

    def __post_init__(self) -> None:
        checks.non_negative("loss_hazard_per_day", self.loss_hazard_per_day)
        checks.probability("contact_prob", self.contact_prob)
        if self.contact_prob <= 0:
            raise ConfigError("contact_prob", "must be > 0: a lead no attempt can reach never enters the pipeline")
