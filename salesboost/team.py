"""The sales organisation: reps per region, approving managers, sales operations."""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class TeamConfig:
    """Headcount per role and how often managers are away."""

    reps: dict[str, int]  # reps per region
    managers: int  # managers who approve quotes and countersign contracts
    sales_ops: int  # staff who enter orders into the ERP
    manager_away_prob: float  # P(a manager is away on a given working day)

    def __post_init__(self) -> None:
        for region, count in self.reps.items():
            if count < 0:
                raise ConfigError(f"reps.{region}", f"must be >= 0 (got {count})")
        if self.managers < 1:
            raise ConfigError("managers", f"must be >= 1 (got {self.managers})")
        if self.sales_ops < 1:
            raise ConfigError("sales_ops", f"must be >= 1 (got {self.sales_ops})")
        checks.probability("manager_away_prob", self.manager_away_prob, below_one=True)


@dataclass(kw_only=True)
class EconomicsConfig:
    """Costs and margin that turn volumes into money (placeholders: set them from your P&L)."""

    rep_cost_per_week: float  # loaded cost of one rep
    manager_cost_per_week: float
    sales_ops_cost_per_week: float
    gross_margin: float  # share of revenue left after the cost of goods sold

    def __post_init__(self) -> None:
        checks.non_negative("rep_cost_per_week", self.rep_cost_per_week)
        checks.non_negative("manager_cost_per_week", self.manager_cost_per_week)
        checks.non_negative("sales_ops_cost_per_week", self.sales_ops_cost_per_week)
        checks.probability("gross_margin", self.gross_margin)

    def team_cost(self, team: TeamConfig, weeks: float) -> float:
        """Cost of ``team`` over ``weeks``."""
        weekly = (
            sum(team.reps.values()) * self.rep_cost_per_week
            + team.managers * self.manager_cost_per_week
            + team.sales_ops * self.sales_ops_cost_per_week
        )
        return weekly * weeks
