"""Variants of an experiment: the explicit override lists plus every point of the grid."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from experiments.config import ExperimentConfig
from salesboost.errors import ConfigError
from salesboost.scenario import Scenario


@dataclass(frozen=True)
class Variant:
    """A variant of an experiment: its name, overrides, resolved config and scenario."""

    name: str
    overrides: tuple[str, ...]
    config: dict[str, Any]  # resolved scenario sections, plain data
    scenario: Scenario


def override_value(value: Any) -> str:
    """``value`` written the way Hydra's override grammar reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{value:.1f}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    return str(value)


def _labels(keys: list[str]) -> dict[str, str]:
    """Short labels for grid keys: the last dotted part, or the full key where that is ambiguous."""
    last = {k: k.replace("/", ".").rsplit(".", 1)[-1] for k in keys}
    counts: dict[str, int] = {}
    for label in last.values():
        counts[label] = counts.get(label, 0) + 1
    return {k: last[k] if counts[last[k]] == 1 else k for k in keys}


def grid_points(experiment: ExperimentConfig) -> dict[str, dict[str, Any]]:
    """Each grid point's name and its parameter values, in grid order."""
    keys = list(experiment.grid)
    if not keys:
        return {}
    labels = _labels(keys)
    points = {}
    for combo in itertools.product(*(experiment.grid[k] for k in keys)):
        name = ",".join(f"{labels[k]}={override_value(v)}" for k, v in zip(keys, combo, strict=True))
        points[name] = dict(zip(keys, combo, strict=True))
    return points


def expand(experiment: ExperimentConfig) -> dict[str, list[str]]:
    """Every variant's override list: the explicit ones, then one per grid point."""
    variants = {name: list(overrides) for name, overrides in experiment.variants.items()}
    for name, values in grid_points(experiment).items():
        if name in variants:
            raise ConfigError("experiment.grid", f"grid point {name!r} has the name of an explicit variant")
        variants[name] = [*experiment.grid_overrides, *(f"{k}={override_value(v)}" for k, v in values.items())]
    if experiment.baseline not in variants:
        shown = list(variants)[:8] + (["..."] if len(variants) > 8 else [])
        raise ConfigError(
            "experiment.baseline", f"unknown variant {experiment.baseline!r}; variants: {', '.join(shown)}"
        )
    # The baseline first: the others are compared with it as soon as their replications are in.
    return {experiment.baseline: variants[experiment.baseline]} | {
        k: v for k, v in variants.items() if k != experiment.baseline
    }
