"""What a simulation run returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost.histogram import LogHistogram
from salesboost.scenario import Scenario

#: Terminal states of a lead, plus ``in_flight`` for leads still open at the end.
OUTCOMES: tuple[str, ...] = ("unqualified", "declined", "lost_to_competitor", "won", "in_flight")

#: Funnel steps, counted over cohort leads.
FUNNEL: tuple[str, ...] = ("leads", "contacted", "qualified", "quoted", "accepted", "signed", "ordered")


@dataclass(frozen=True)
class RunResult:
    """One replication of one scenario: its KPIs, outcome counts and distributions."""

    scenario: Scenario
    seed: int
    replication: int
    metrics: dict[str, float]
    outcomes: dict[str, int]  # cohort leads per terminal state (OUTCOMES)
    funnel: dict[str, int]  # cohort leads reaching each step (FUNNEL)
    histograms: dict[str, LogHistogram]  # per-observation distributions, e.g. approval hours
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # per-stage flow statistics
    leads_simulated: int = 0  # all leads generated, cohort or not
    sim_end_hours: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
