"""The typed schema of the whole app config: a scenario plus experiment, tracking and Ray.

Registered with Hydra's ConfigStore as ``base_config`` so that every YAML file and every
command-line override is type-checked while Hydra composes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError
from salesboost.scenario import Scenario

EVENT_LOG_FORMATS = ("none", "csv", "parquet")


@dataclass(kw_only=True)
class ExperimentConfig:
    """A study: named variants (lists of Hydra overrides) compared against a baseline."""

    name: str  # the MLflow experiment
    baseline: str  # the variant the others are compared with
    variants: dict[str, list[str]]  # variant name -> overrides applied on top of the config
    replications: int
    seed: int  # root seed; replication r of every variant uses (seed, r)
    event_log: str = "none"  # none | csv | parquet: write each run's activity log
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("name", "must not be empty")
        if not self.variants:
            raise ConfigError("variants", "needs at least one variant")
        if self.baseline not in self.variants:
            raise ConfigError("baseline", f"unknown variant {self.baseline!r}; variants: {', '.join(self.variants)}")
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
class AppConfig(Scenario):
    """Everything ``salesboost`` reads: the scenario sections plus the lab's settings."""

    experiment: ExperimentConfig
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    ray: RayConfig = field(default_factory=RayConfig)
