"""What a simulation run returns, and its plain-data form for storage."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from salesboost.histogram import N_BINS, LogHistogram
from salesboost.panel import PanelFormatError, PanelTable, panels_from_dict, panels_to_dict
from salesboost.scenario import Scenario

#: Terminal states of a lead, plus ``in_flight`` for leads still open at the end.
OUTCOMES: tuple[str, ...] = ("not_contacted", "unqualified", "declined", "lost_to_competitor", "won", "in_flight")

#: Funnel steps, counted over cohort leads.
FUNNEL: tuple[str, ...] = ("leads", "contacted", "qualified", "quoted", "accepted", "signed", "ordered")

#: Version of :meth:`RunResult.to_dict`'s layout; bump it when a field changes.
SCHEMA_VERSION = 2


class ResultFormatError(ValueError):
    """Plain data that is not a RunResult of this schema; the message says where and why."""


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
    panels: dict[str, PanelTable] = field(default_factory=dict)  # the monthly KPI panel by table (pipeline, workers)
    leads_simulated: int = 0  # all leads generated, cohort or not
    sim_end_hours: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The result as strict JSON data; the scenario is named by its config hash."""
        return {
            "schema": SCHEMA_VERSION,
            "config_hash": self.scenario.config_hash(),
            "seed": self.seed,
            "replication": self.replication,
            "metrics": {k: _number(v) for k, v in self.metrics.items()},
            "outcomes": dict(self.outcomes),
            "funnel": dict(self.funnel),
            # Sparse: most of the logarithmic bins are empty.
            "histograms": {
                name: {"bins": len(h.counts), "nonzero": [[i, c] for i, c in enumerate(h.counts) if c]}
                for name, h in self.histograms.items()
            },
            "stages": {s: {k: _number(v) for k, v in values.items()} for s, values in self.stages.items()},
            "panels": panels_to_dict(self.panels),
            "leads_simulated": self.leads_simulated,
            "sim_end_hours": _number(self.sim_end_hours),
            "wall_seconds": _number(self.wall_seconds),
            "cpu_seconds": _number(self.cpu_seconds),
        }

    @classmethod
    def from_dict(cls, data: Any, scenario: Scenario) -> RunResult:
        """Rebuild a result of ``scenario`` from :meth:`to_dict` data; raises ResultFormatError."""
        if not isinstance(data, dict):
            raise ResultFormatError(f"expected an object, got {type(data).__name__}")
        if data.get("schema") != SCHEMA_VERSION:
            raise ResultFormatError(f"schema {data.get('schema')!r}, this version reads {SCHEMA_VERSION}")
        if data.get("config_hash") != scenario.config_hash():
            raise ResultFormatError(
                f"config_hash {data.get('config_hash')!r} is not the scenario's {scenario.config_hash()!r}"
            )
        outcomes = _mapping(data, "outcomes", _count)
        funnel = _mapping(data, "funnel", _count)
        if tuple(outcomes) != OUTCOMES:
            raise ResultFormatError(f"outcomes: keys {list(outcomes)}, expected {list(OUTCOMES)}")
        if tuple(funnel) != FUNNEL:
            raise ResultFormatError(f"funnel: keys {list(funnel)}, expected {list(FUNNEL)}")
        try:
            panels = panels_from_dict(data.get("panels"))
        except PanelFormatError as error:
            raise ResultFormatError(str(error)) from None
        return cls(
            scenario=scenario,
            seed=_integer(data.get("seed"), "seed"),
            replication=_integer(data.get("replication"), "replication"),
            metrics=_mapping(data, "metrics", _float),
            outcomes=outcomes,
            funnel=funnel,
            histograms=_mapping(data, "histograms", _histogram),
            stages=_mapping(data, "stages", lambda v, where: _plain_mapping(v, where, _float)),
            panels=panels,
            leads_simulated=_count(data.get("leads_simulated"), "leads_simulated"),
            sim_end_hours=_float(data.get("sim_end_hours"), "sim_end_hours"),
            wall_seconds=_float(data.get("wall_seconds"), "wall_seconds"),
            cpu_seconds=_float(data.get("cpu_seconds"), "cpu_seconds"),
        )


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _number(value: float) -> float | str:
    """A float as strict JSON: non-finite values become the strings ``nan``, ``inf``, ``-inf``."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _float(value: Any, where: str) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultFormatError(f"{where}: expected a number, got {value!r:.40}")
    return float(value)


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResultFormatError(f"{where}: expected an integer, got {value!r:.40}")
    return value


def _count(value: Any, where: str) -> int:
    number = _integer(value, where)
    if number < 0:
        raise ResultFormatError(f"{where}: expected a count, got {number}")
    return number


def _plain_mapping(value: Any, where: str, item: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResultFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return {str(k): item(v, f"{where}.{k}") for k, v in value.items()}


def _mapping(data: dict[str, Any], key: str, item: Any) -> dict[str, Any]:
    return _plain_mapping(data.get(key), key, item)


def _histogram(value: Any, where: str) -> LogHistogram:
    if not isinstance(value, dict) or value.get("bins") != N_BINS or not isinstance(value.get("nonzero"), list):
        raise ResultFormatError(f"{where}: expected {{'bins': {N_BINS}, 'nonzero': [[bin, count], ...]}}")
    counts = [0] * N_BINS
    for pair in value["nonzero"]:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ResultFormatError(f"{where}: expected [bin, count] pairs, got {pair!r:.40}")
        index, count = _integer(pair[0], where), _count(pair[1], where)
        if not 0 <= index < N_BINS:
            raise ResultFormatError(f"{where}: bin {index} outside 0..{N_BINS - 1}")
        counts[index] = count
    return LogHistogram(tuple(counts))
