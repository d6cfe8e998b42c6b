"""The customer base: accounts that exist beyond one lead and come back to buy again.

Purchase dynamics are deliberately simple here (a constant repeat rate per account); the
customer model replaces them on this seam.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class AccountsConfig:
    """Existing accounts at the start, their repeat purchases and the service work they need."""

    initial: int  # accounts at clock 0, spread over regions by market.regions
    repeat_per_year: float  # repeat-purchase leads per account per year (Poisson)
    qualify_prob: float  # P(a repeat request becomes an opportunity) if answered within speed_to_lead.t0
    service_hours_per_month: float  # rep service work per account per month (reviews, issues, visits)
    service_task_hours: Dist  # length of one service task; tasks come at the monthly rate / mean length
    tags: dict[str, float] = field(default_factory=dict)  # tag -> share of accounts carrying it

    def __post_init__(self) -> None:
        if self.initial < 0:
            raise ConfigError("initial", f"must be >= 0 (got {self.initial})")
        checks.non_negative("repeat_per_year", self.repeat_per_year)
        checks.probability("qualify_prob", self.qualify_prob)
        checks.non_negative("service_hours_per_month", self.service_hours_per_month)
        for tag, share in self.tags.items():
            checks.probability(f"tags.{tag}", share)
