"""What a reader must know before trusting a figure: calibrated inputs, sensitivity, run length.

A figure is *calibrated* when the model's inputs were set so that it matches a figure of the
plan or of observed data (docs/calibration.md): it reproduces an input and is no evidence for
the plan. Every
other figure is a *prediction* of the modelled mechanisms. Which figures are calibrated is
derived from each variant's resolved config: the calibration holds while every setting it
rests on equals the shipped config file it was made with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from analysis.stats import spread
from experiments.paths import CONF_DIR

#: Where the calibration is documented.
CALIBRATION_SOURCE = "docs/calibration.md"

#: The run length the calibration and the README's figures use (conf/config.yaml).
DOCUMENTED_HORIZON_DAYS = 182.0


@dataclass(frozen=True)
class Calibration:
    """A KPI matched to a plan figure by setting inputs, valid while ``inputs`` are unchanged."""

    metric: str
    target: str  # the plan figure it was matched to, in words
    inputs: Mapping[str, str]  # config section (dotted) -> shipped file under conf/ it must equal

    def holds(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` (a variant's resolved scenario sections) keeps every calibrated input."""
        return not self.changed(config)

    def changed(self, config: Mapping[str, Any]) -> list[str]:
        """The dotted keys where ``config`` departs from the shipped files (empty: calibrated)."""
        out: list[str] = []
        for section, file in self.inputs.items():
            node: Any = config
            for part in section.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            out += _departures(_shipped(file), node, section)
        return out


#: What the legacy pipeline's queues rest on: the shipped file of each section. The legacy
#: approval time and contract cycle depend on the reps' and managers' load (a contract waits
#: for its rep's time), so they are calibrated only while all of these are unchanged.
_LEGACY_LOAD = {
    "calendar": "calendar/business_week.yaml",
    "market": "market/baseline.yaml",
    "accounts": "accounts/baseline.yaml",
    "products": "products/ab.yaml",
    "team": "team/baseline.yaml",
    "behaviour": "behaviour/default.yaml",
    "pipeline.assignment": "pipeline/assignment/daily_batch.yaml",
    "pipeline.followup": "pipeline/followup/call.yaml",
    "pipeline.quote": "pipeline/quote/manual.yaml",
    "pipeline.approval": "pipeline/approval/window.yaml",
    "pipeline.contract": "pipeline/contract/paper.yaml",
    "pipeline.erp": "pipeline/erp/daily_batch.yaml",
}

#: The calibrations of the shipped model (docs/calibration.md). Every optimised figure is a
#: prediction: nothing of the optimised pipeline was set to match a target.
CALIBRATIONS: tuple[Calibration, ...] = (
    Calibration("quote_approval_hours_mean", "the plan's current approval time of about 24 h", _LEGACY_LOAD),
    Calibration("contract_cycle_days_mean", "the plan's current contract cycle of about 7 days", _LEGACY_LOAD),
)


def calibration_of(config: Mapping[str, Any], metric: str) -> Calibration | None:
    """The calibration ``metric`` rests on in a variant with ``config``, or None (a prediction)."""
    for calibration in CALIBRATIONS:
        if calibration.metric == metric and calibration.holds(config):
            return calibration
    return None


@cache
def _shipped(file: str) -> Any:
    """A shipped config file as plain data, without its Hydra ``defaults`` list."""
    data = OmegaConf.to_container(OmegaConf.load(Path(CONF_DIR) / file), resolve=True)
    if isinstance(data, dict):
        data.pop("defaults", None)
    return data


def _departures(reference: Any, actual: Any, where: str) -> list[str]:
    """Keys below ``where`` whose value in ``actual`` differs from ``reference`` (extra keys are fine)."""
    if isinstance(reference, Mapping):
        if not isinstance(actual, Mapping):
            return [where]
        return [d for k, v in reference.items() for d in _departures(v, actual.get(k), f"{where}.{k}")]
    if isinstance(reference, list):
        same = isinstance(actual, list) and len(actual) == len(reference)
        return (
            []
            if same and not any(_departures(r, a, where) for r, a in zip(reference, actual, strict=True))
            else [where]
        )
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        ok = isinstance(actual, (int, float)) and not isinstance(actual, bool) and math.isclose(reference, actual)
        return [] if ok else [where]
    return [] if reference == actual else [where]


# --- sensitivity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Swing:
    """How far one parameter, at either end of its range, moves a sensitivity metric."""

    parameter: str
    low_value: float
    high_value: float
    default_value: float
    low: float  # the metric's mean at the low end
    default: float
    high: float
    low_ci: tuple[float, float]
    high_ci: tuple[float, float]

    @property
    def width(self) -> float:
        """The range spanned by the low, configured and high means that ran (the tornado's order)."""
        return spread((self.low, self.default, self.high))


def sensitivity_metric(sensitivity: pd.DataFrame, objective: str) -> str | None:
    """The metric of the sensitivity table that answers the study: the objective's uplift if present."""
    metrics = list(dict.fromkeys(sensitivity["metric"])) if not sensitivity.empty else []
    for name in (f"{objective}_uplift", *(m for m in metrics if m.endswith("_uplift")), objective):
        if name in metrics:
            return name
    return None


def swings(sensitivity: pd.DataFrame, metric: str) -> list[Swing]:
    """Each parameter's swing of ``metric``, widest first (ties by name)."""
    rows = sensitivity[sensitivity["metric"] == metric]
    out = []
    for parameter, group in rows.groupby("parameter", sort=False):
        levels = group.drop_duplicates("level").set_index("level")
        if not {"low", "high"} <= set(levels.index):
            continue
        default = levels.loc["default"] if "default" in levels.index else None
        low, high = levels.loc["low"], levels.loc["high"]
        out.append(
            Swing(
                parameter=str(parameter),
                low_value=float(low["value"]),
                high_value=float(high["value"]),
                default_value=float(default["value"]) if default is not None else math.nan,
                low=float(low["mean"]),
                default=float(default["mean"]) if default is not None else math.nan,
                high=float(high["mean"]),
                low_ci=(float(low["ci_low"]), float(low["ci_high"])),
                high_ci=(float(high["ci_low"]), float(high["ci_high"])),
            )
        )
    return sorted(out, key=lambda s: (-s.width, s.parameter))


def sign_changes(items: Sequence[Swing]) -> list[str]:
    """Parameters at one end of whose range the metric's mean has the other sign than at its default."""
    out = []
    for s in items:
        if not math.isfinite(s.default) or s.default == 0:
            continue
        if any(math.isfinite(v) and v * s.default <= 0 for v in (s.low, s.high)):
            out.append(s.parameter)
    return out
