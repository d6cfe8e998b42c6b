"""Settings of the studies that analyse a sweep further: targets, pilot design, early warning.

Each is a section of ``experiment`` that is off unless the study's experiment file sets it;
the sweep runs as usual and the study's analysis reads its results (experiments/studies.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class TargetsStudyConfig:
    """The plan's SMART targets: P(hit) per target and variant, decomposition, and a lever search."""

    enabled: bool = False
    targets: dict[str, Any] = field(default_factory=dict)  # name -> {kpi, kind, value, label}; {}: the plan's
    level: float = 0.8  # a target counts as hit with at least this probability
    levers: dict[str, list[float]] = field(default_factory=dict)  # decision key -> [from, to] the search moves
    lever_steps: int = 3  # values per lever, from the current value to the end of its range
    lever_replications: int = 4
    lever_variant: str = ""  # the variant whose missed targets the search works on ("": the first non-baseline)
    decompose: list[str] = field(default_factory=lambda: ["region", "product", "segment", "team", "rep"])
    drill_down: list[str] = field(default_factory=lambda: ["segment", "product", "region", "channel", "tier", "period"])

    def __post_init__(self) -> None:
        if not 0.0 < self.level < 1.0:
            raise ConfigError("level", f"must be a probability in (0, 1) (got {self.level:g})")
        if self.lever_steps < 2:
            raise ConfigError("lever_steps", f"must be >= 2 (got {self.lever_steps})")
        if self.lever_replications < 2:
            raise ConfigError("lever_replications", f"must be >= 2 (got {self.lever_replications})")
        for key, span in self.levers.items():
            if len(span) != 2 or span[0] == span[1]:
                raise ConfigError(f"levers.{key}", f"needs [from, to], two different values (got {span})")
        for i, unit in enumerate(self.decompose):
            checks.one_of(f"decompose[{i}]", unit, ("region", "product", "segment", "team", "rep"))


@dataclass(kw_only=True)
class PilotStudyConfig:
    """Simulated pilots: every rule scored against the true effect the variants inject."""

    enabled: bool = False
    null_variant: str = ""  # the variant without an effect (no pilot): its runs give the null pilots
    lengths_weeks: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    pre_weeks: int = 8  # the estimators' pre-period, weeks before the start
    threshold: float = 0.20  # the plan's rule: roll out at +20% conversion
    alpha: float = 0.05
    max_fpr: float = 0.10  # a design is recommended only at or below this false-positive rate
    prior: dict[str, float] = field(default_factory=dict)  # true effect -> prior weight; {}: the grid's effects equally
    value_share: float = 1.0  # a +x% conversion raises annual gross profit by value_share * x (judgment)
    rollout_cost: float = 50_000.0  # one-off cost of rolling a policy out (placeholder)
    pilot_cost_per_region_week: float = 2_000.0  # placeholder

    def __post_init__(self) -> None:
        if not self.lengths_weeks or any(w < 1 for w in self.lengths_weeks):
            raise ConfigError("lengths_weeks", f"needs pilot lengths >= 1 week (got {self.lengths_weeks})")
        if self.pre_weeks < 2:
            raise ConfigError("pre_weeks", f"must be >= 2 (got {self.pre_weeks})")
        checks.probability("alpha", self.alpha)
        checks.probability("max_fpr", self.max_fpr)
        checks.non_negative("rollout_cost", self.rollout_cost)
        checks.non_negative("pilot_cost_per_region_week", self.pilot_cost_per_region_week)
        for key, weight in self.prior.items():
            try:
                float(key)
            except ValueError:
                raise ConfigError(f"prior.{key}", "keys are true effects (relative lifts, e.g. 0.1)") from None
            checks.non_negative(f"prior.{key}", weight)


@dataclass(kw_only=True)
class WarningStudyConfig:
    """Warning rules scored on shocked and calm worlds, and what each playbook recovers."""

    enabled: bool = False
    calm_variant: str = ""  # no shock: its alarms are false alarms ("": the baseline)
    rules: list[str] = field(default_factory=list)  # rules to score; []: the plan's and the charts' catalogue
    detect_within_months: int = 6  # an alarm later than this after a shock's start counts as missed
    responses: dict[str, str] = field(default_factory=dict)  # playbook variant -> the shocked variant it answers

    def __post_init__(self) -> None:
        if self.detect_within_months < 1:
            raise ConfigError("detect_within_months", f"must be >= 1 (got {self.detect_within_months})")
