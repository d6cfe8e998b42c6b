"""The typed schema of the whole app config: a scenario plus experiment, tracking and Ray.

Registered with Hydra's ConfigStore as ``base_config`` so that every YAML file and every
command-line override is type-checked while Hydra composes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from experiments.study_config import PilotStudyConfig, TargetsStudyConfig, WarningStudyConfig
from salesboost import checks
from salesboost.errors import ConfigError
from salesboost.metrics import HEADLINE_METRICS, METRIC_NAMES
from salesboost.scenario import Scenario

EVENT_LOG_FORMATS = ("none", "csv", "parquet")
#: What an experiment does: compare simulated variants, or read a company's customers into tiers.
EXPERIMENT_KINDS = ("sweep", "customer_tiers")


@dataclass(kw_only=True)
class AdaptiveConfig:
    """Add replications per variant until a confidence interval is narrow enough."""

    enabled: bool = False
    metric: str = "win_rate"
    half_width: float = 0.01  # target half-width of the 95% interval
    relative: bool = False  # half_width as a share of |mean| (of the difference, if versus_baseline)
    versus_baseline: bool = False  # the interval of the paired difference to the baseline
    min_replications: int = 5
    max_replications: int = 50

    def __post_init__(self) -> None:
        if self.metric not in METRIC_NAMES:
            raise ConfigError("metric", f"unknown metric {self.metric!r}; allowed: {', '.join(METRIC_NAMES)}")
        checks.positive("half_width", self.half_width)
        if self.min_replications < 2:
            raise ConfigError("min_replications", f"must be >= 2 (got {self.min_replications})")
        if self.max_replications < self.min_replications:
            raise ConfigError(
                "max_replications",
                f"must be >= min_replications ({self.min_replications}) (got {self.max_replications})",
            )


@dataclass(kw_only=True)
class BoundConfig:
    """A risk constraint on a metric: its whole 95% interval must lie within [min, max]."""

    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ConfigError("", "a constraint needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigError("max", f"must be >= min ({self.min}) (got {self.max})")


@dataclass(kw_only=True)
class TradeoffConfig:
    """Two metrics to draw against each other, with the direction that is better for each."""

    x: str = "team_cost"
    y: str = "win_rate"
    x_better: int = -1  # -1: lower is better, +1: higher is better
    y_better: int = 1


@dataclass(kw_only=True)
class DecompositionConfig:
    """A policy made of parts: each ``parts`` variant changes one part of the baseline, ``together`` all."""

    together: str
    parts: list[str]
    metrics: list[str] = field(default_factory=lambda: ["revenue", "net_profit", "orders"])

    def __post_init__(self) -> None:
        if not self.parts:
            raise ConfigError("parts", "needs at least one variant")
        for i, name in enumerate(self.metrics):
            if name not in METRIC_NAMES:
                raise ConfigError(f"metrics[{i}]", f"unknown metric {name!r}; allowed: {', '.join(METRIC_NAMES)}")


@dataclass(kw_only=True)
class ReportConfig:
    """What the comparison reports: headline metrics, the best variant, the trade-off."""

    metrics: list[str] = field(default_factory=lambda: list(HEADLINE_METRICS))
    objective: str = "revenue"
    maximize: bool = True
    constraints: dict[str, BoundConfig] = field(default_factory=dict)
    tradeoff: TradeoffConfig | None = None
    decomposition: DecompositionConfig | None = None  # where the change of ``together`` comes from
    groups: dict[str, list[str]] = field(default_factory=dict)  # name -> variants: the best within each

    def __post_init__(self) -> None:
        for i, name in enumerate(self.metrics):
            if name not in METRIC_NAMES:
                raise ConfigError(f"metrics[{i}]", f"unknown metric {name!r}; allowed: {', '.join(METRIC_NAMES)}")
        for key in (self.objective, *self.constraints):
            if key not in METRIC_NAMES:
                raise ConfigError(
                    "objective" if key == self.objective else f"constraints.{key}",
                    f"unknown metric {key!r}; allowed: {', '.join(METRIC_NAMES)}",
                )
        if self.tradeoff is not None:
            for axis in ("x", "y"):
                name = getattr(self.tradeoff, axis)
                if name not in METRIC_NAMES:
                    raise ConfigError(
                        f"tradeoff.{axis}", f"unknown metric {name!r}; allowed: {', '.join(METRIC_NAMES)}"
                    )


@dataclass(kw_only=True)
class SensitivityConfig:
    """One-at-a-time sensitivity of a variant (and its uplift) over the documented parameter ranges."""

    enabled: bool = False
    replications: int = 5
    variant: str = "best"  # "best": the report's best variant; or a variant name
    metrics: list[str] = field(default_factory=lambda: ["revenue", "win_rate"])
    parameters: list[str] = field(default_factory=list)  # keys of `ranges` to vary; empty: all of them

    def __post_init__(self) -> None:
        if self.replications < 2:
            raise ConfigError("replications", f"must be >= 2 (got {self.replications})")
        for i, name in enumerate(self.metrics):
            if name not in METRIC_NAMES:
                raise ConfigError(f"metrics[{i}]", f"unknown metric {name!r}; allowed: {', '.join(METRIC_NAMES)}")


@dataclass(kw_only=True)
class ExperimentConfig:
    """A study: variants (override lists and/or a grid) compared against a baseline."""

    name: str  # the MLflow experiment
    baseline: str = ""  # the variant the others are compared with (a sweep)
    kind: str = "sweep"  # sweep | customer_tiers (see EXPERIMENT_KINDS)
    variants: dict[str, list[str]] = field(default_factory=dict)  # name -> overrides on top of the config
    grid: dict[str, list[Any]] = field(default_factory=dict)  # key -> values; every combination is a variant
    grid_overrides: list[str] = field(default_factory=list)  # overrides shared by every grid variant
    replications: int = 20
    seed: int = 20240101  # root seed; replication r of every variant uses (seed, r)
    event_log: str = "none"  # none | csv | parquet: write each run's activity log
    description: str = ""
    caveats: list[str] = field(default_factory=list)  # study notes shown in report.html (known model limits)
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    targets: TargetsStudyConfig = field(default_factory=TargetsStudyConfig)
    pilot_design: PilotStudyConfig = field(default_factory=PilotStudyConfig)
    early_warning: WarningStudyConfig = field(default_factory=WarningStudyConfig)
    cache: bool = True  # reuse finished replications (resume; same config + seed + model code)
    cache_dir: str | None = None  # null: .salesboost/results at the repository root

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("name", "must not be empty")
        checks.one_of("kind", self.kind, EXPERIMENT_KINDS)
        if self.kind != "sweep":
            return  # the sweep's settings below do not apply
        if not self.variants and not self.grid:
            raise ConfigError("variants", "needs at least one variant or a grid")
        if not self.baseline:
            raise ConfigError("baseline", "name the variant the others are compared with")
        for key, values in self.grid.items():
            if not values:
                raise ConfigError(f"grid.{key}", "needs at least one value")
        if self.replications < 2:
            raise ConfigError("replications", f"must be >= 2 for confidence intervals (got {self.replications})")
        if self.seed < 0:
            raise ConfigError("seed", f"must be >= 0 (got {self.seed})")
        checks.one_of("event_log", self.event_log, EVENT_LOG_FORMATS)


@dataclass(kw_only=True)
class TrackingConfig:
    """Where results are recorded."""

    enabled: bool = True
    uri: str | None = None  # null: sqlite file mlflow.db at the repository root


@dataclass(kw_only=True)
class RayConfig:
    """Where simulations run."""

    address: str | None = None  # null: a private local Ray; "auto" or "host:port": a cluster
    num_cpus: int | None = None  # local Ray only; null: every CPU of the machine

    def __post_init__(self) -> None:
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ConfigError("num_cpus", f"must be >= 1 or null (got {self.num_cpus})")


@dataclass(kw_only=True)
class ColumnsConfig:
    """Column names of a transactions file."""

    customer: str = "customer_id"
    date: str = "date"
    amount: str | None = None  # null: the file has no amounts (no monetary value, no spend model)


@dataclass(kw_only=True)
class CustomersConfig:
    """A company's own customers: its transactions file, the snapshot date and the tier rules."""

    transactions: str | None = None  # a CSV or Parquet file, one row per transaction
    as_of: str | None = None  # YYYY-MM-DD: the snapshot; later transactions are the held-out period
    columns: ColumnsConfig = field(default_factory=ColumnsConfig)
    holdout_days: int | None = None  # length of the held-out period after as_of; null: all later data
    tiers: dict[str, Any] = field(default_factory=dict)  # the tier rules (parsed by salesboost.tiers)
    # The simulated accounts' purchase model in a sweep: as configured (accounts.purchase), or
    # fitted: the BG/NBD fitted to `transactions` up to `as_of` (the fit customer_tiers reports).
    base: str = "configured"

    def __post_init__(self) -> None:
        checks.one_of("base", self.base, ("configured", "fitted"))
        if self.holdout_days is not None:
            checks.positive("holdout_days", self.holdout_days)


@dataclass(kw_only=True)
class AppConfig(Scenario):
    """Everything ``salesboost`` reads: the scenario sections plus the lab's settings."""

    experiment: ExperimentConfig
    ranges: dict[str, list[float]] = field(default_factory=dict)  # plausible [low, high] per dotted key
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    customers: CustomersConfig = field(default_factory=CustomersConfig)
