"""The scenario: everything one simulation run needs, checked as a whole."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from salesboost import checks
from salesboost.accounts import AccountsConfig
from salesboost.behaviour import BehaviourConfig
from salesboost.build import build, stable_hash, to_dict
from salesboost.calendar import CalendarConfig
from salesboost.errors import ConfigError
from salesboost.incentive import IncentiveConfig
from salesboost.market import MarketConfig
from salesboost.outreach import OutreachConfig
from salesboost.pilot import PilotConfig
from salesboost.pipeline import PipelineConfig, ReviewWindows
from salesboost.products import ProductConfig
from salesboost.reps import RepsConfig
from salesboost.risk import RiskConfig
from salesboost.team import EconomicsConfig, TeamConfig


@dataclass(kw_only=True)
class HorizonConfig:
    """Run length: leads arriving in ``[warmup_days, days)`` form the measured cohort.

    Leads keep arriving during ``drain_days`` after the horizon, so the cohort finishes
    under a realistic load; cohort leads still open at the very end count as in flight.
    """

    days: float
    warmup_days: float
    drain_days: float

    def __post_init__(self) -> None:
        checks.positive("days", self.days)
        checks.non_negative("warmup_days", self.warmup_days)
        checks.non_negative("drain_days", self.drain_days)
        if self.warmup_days >= self.days:
            raise ConfigError("warmup_days", f"must be shorter than days ({self.days:g}) (got {self.warmup_days:g})")


@dataclass(kw_only=True)
class KpiConfig:
    """Definitions behind the service-level KPIs, the same for every variant."""

    approval_sla_hours: float  # an approval slower than this breaches the SLA
    response_sla_business_hours: float  # first contact within this many working hours is timely
    wip_sample_hours: float  # mean gap between Poisson-timed samples of work in progress
    panel_period: str = "month"  # periods of the KPI panel: month | week (ISO weeks)

    def __post_init__(self) -> None:
        checks.one_of("panel_period", self.panel_period, ("month", "week"))
        checks.positive("approval_sla_hours", self.approval_sla_hours)
        checks.positive("response_sla_business_hours", self.response_sla_business_hours)
        checks.positive("wip_sample_hours", self.wip_sample_hours)


@dataclass(kw_only=True)
class Scenario:
    """A complete, validated description of one simulated world."""

    calendar: CalendarConfig
    market: MarketConfig
    accounts: AccountsConfig
    products: dict[str, ProductConfig]
    team: TeamConfig
    pipeline: PipelineConfig
    behaviour: BehaviourConfig
    horizon: HorizonConfig
    kpi: KpiConfig
    economics: EconomicsConfig
    outreach: OutreachConfig = field(default_factory=OutreachConfig)
    reps: RepsConfig = field(default_factory=RepsConfig)
    incentive: IncentiveConfig = field(default_factory=IncentiveConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    pilot: PilotConfig = field(default_factory=PilotConfig)

    def __post_init__(self) -> None:
        checks.shares("products", {k: p.share for k, p in self.products.items()})
        regions = self.market.regions
        for region in self.team.reps:
            if region not in regions:
                raise ConfigError(f"team.reps.{region}", f"unknown region; market.regions has {', '.join(regions)}")
        for region, share in regions.items():
            if share > 0 and self.team.reps.get(region, 0) < 1:
                raise ConfigError(
                    f"team.reps.{region}",
                    f"region {region!r} receives {share:.0%} of leads but has no reps; give it at least 1 rep",
                )
        for i, region in enumerate(self.pilot.regions):
            if region not in regions:
                raise ConfigError(
                    f"pilot.regions[{i}]", f"unknown region {region!r}; market.regions has {', '.join(regions)}"
                )
        self._check_pilot_pipeline()
        self._check_pilot_outreach()
        if self.pilot.incentive is not None and not self.incentive.active:
            raise ConfigError(
                "pilot.incentive",
                "a pilot scheme needs a scheme in the control regions to compare with: set incentive=",
            )
        self._check_shock_dates()
        for i, shock in enumerate(self.risk.shocks):
            if shock.kind == "key_reps_leave" and not self.incentive.active:
                raise ConfigError(
                    f"risk.shocks[{i}].kind",
                    "key_reps_leave needs an incentive scheme (its staffing desk): set incentive=",
                )
        for i, playbook in enumerate(self.risk.playbooks):
            if playbook.response in ("talent_pool", "change_incentives") and not self.incentive.active:
                needs = "its staffing desk" if playbook.response == "talent_pool" else "one to change from"
                raise ConfigError(
                    f"risk.playbooks[{i}].response", f"{playbook.response} needs an incentive scheme ({needs})"
                )
            if playbook.response == "product_mix" and not {"A", "B"} <= set(self.products):
                raise ConfigError(f"risk.playbooks[{i}].response", "product_mix needs products A and B")

    def _check_shock_dates(self) -> None:
        """Every shock starts inside the horizon: on a day in ``[calendar.start_date, + horizon.days)``."""
        first = self.calendar.start()
        for i, shock in enumerate(self.risk.shocks):
            day = (checks.iso_date(f"risk.shocks[{i}].start", shock.start) - first).days
            if not 0 <= day < self.horizon.days:
                try:
                    last = str(first + dt.timedelta(days=math.ceil(self.horizon.days) - 1))
                except OverflowError:  # a horizon beyond the calendar's year 9999
                    last = "the horizon's last day"
                raise ConfigError(
                    f"risk.shocks[{i}].start",
                    f"{shock.start} is outside the horizon; allowed: {first} to {last} "
                    f"(calendar.start_date and horizon.days={self.horizon.days:g})",
                )

    def _check_pilot_pipeline(self) -> None:
        """The pilot's pipeline must be able to share the world's managers with the scenario's.

        Managers keep one review schedule: when both pipelines review quotes in windows, the
        windows and their budget must be the same (docs/pilots.md, resources).
        """
        pilot = self.pilot.pipeline
        if pilot is None:
            return
        base, own = self.pipeline.approval, pilot.approval
        if not (isinstance(base.mechanism, ReviewWindows) and isinstance(own.mechanism, ReviewWindows)):
            return
        same = {
            "windows": base.mechanism.times == own.mechanism.times,
            "window_hours": base.mechanism.budget_hours == own.mechanism.budget_hours,
        }
        for key, equal in same.items():
            if not equal:
                raise ConfigError(
                    f"pilot.pipeline.approval.{key}",
                    f"must equal pipeline.approval.{key} ({getattr(base, key)}) when both pipelines review "
                    f"in windows (got {getattr(own, key)}): the managers keep one review schedule",
                )

    def _check_pilot_outreach(self) -> None:
        """A pilot strategy chooses touches; how accounts are tiered and answer touches is the world's, shared."""
        pilot = self.pilot.outreach
        if pilot is None:
            return
        for key in ("tiers", "effects", "history_order_share"):
            if getattr(pilot, key) != getattr(self.outreach, key):
                raise ConfigError(
                    f"pilot.outreach.{key}",
                    f"must equal outreach.{key}: the tiers and the accounts' response to touches are one world's",
                )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Build and validate a scenario from plain data (e.g. a resolved Hydra config)."""
        return build(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data."""
        return to_dict(self)

    def config_hash(self) -> str:
        """A short, stable hash of the scenario's values."""
        return stable_hash(self.to_dict())


#: Top-level sections of a scenario, in the order they appear in configs.
SCENARIO_SECTIONS: tuple[str, ...] = (
    "calendar",
    "market",
    "accounts",
    "products",
    "team",
    "pipeline",
    "behaviour",
    "horizon",
    "kpi",
    "economics",
    "outreach",
    "reps",
    "incentive",
    "risk",
    "pilot",
)
