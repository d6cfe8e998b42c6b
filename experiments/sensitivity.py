"""One-at-a-time sensitivity: how a variant and its uplift move over the documented ranges.

Each parameter of ``ranges`` is set to its low and then its high end, for the chosen variant
and the baseline alike (the parameters are shared: behaviour, customers), everything else
as configured. The replications are 0..k-1 of the experiment's seed, so every level is
paired with the same random numbers as the default.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.stats import mean_interval, paired_uplift
from experiments.variants import Variant
from salesboost.errors import ConfigError
from salesboost.results import RunResult
from salesboost.scenario import Scenario

LEVELS = ("low", "high")
#: Share of cohort leads still open at the end: above a percent or so, a queue did not keep up.
IN_FLIGHT = "in_flight_share"


def _in_flight_share(result: RunResult) -> float:
    leads = result.metrics.get("leads", 0.0)
    return result.metrics.get("in_flight", 0.0) / leads if leads else 0.0


@dataclass(frozen=True)
class Probe:
    """One sensitivity run set: a variant with one parameter moved to one end of its range."""

    parameter: str
    level: str
    value: float
    role: str  # "variant" or "baseline"
    variant: Variant


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``dotted`` = ``"a.b.c"``."""
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(dotted, "no such key in the scenario")
        node = node[key]
    if not isinstance(node, dict) or leaf not in node:
        raise ConfigError(dotted, "no such key in the scenario")
    node[leaf] = value


def get_path(data: Mapping[str, Any], dotted: str) -> Any:
    """``data[a][b][c]`` for ``dotted`` = ``"a.b.c"``."""
    node: Any = data
    for key in dotted.split("."):
        node = node[key]
    return node


def idle(key: str, variant: Variant) -> bool:
    """Whether ``key`` cannot move ``variant``.

    A key the variant's config does not have or leaves unset (a courier under e-signature), outreach
    off, reps without a scheme, risk without playbooks, a stage policy's running cost under
    another policy, and a purchase or spend model's parameters under another model. Without
    listed parameters the sensitivity moves every range except those idle for both the variant
    and the baseline, so a study does not spend runs on ranges that cannot move it.
    """
    if not has_path(variant.config, key):
        return True
    scenario = variant.scenario
    if key.startswith("outreach."):
        return scenario.outreach.strategy == "off"
    if key.startswith(("reps.", "incentive.")):
        return not scenario.incentive.active
    if key.startswith("risk."):  # the market series and core accounts only move what alarms switch on
        return not scenario.risk.playbooks
    if key.startswith("economics.running_costs."):
        stage, policy = key.split(".")[2:4]
        pilot = scenario.pilot.pipeline
        pipelines = [scenario.pipeline] if pilot is None else [scenario.pipeline, pilot]
        return all(p.options().get(stage) != policy for p in pipelines)
    if key.startswith("accounts.purchase.") and key != "accounts.purchase.model":
        return scenario.accounts.purchase.model != "bgnbd"
    if key.startswith("accounts.spend.") and key != "accounts.spend.model":
        return scenario.accounts.spend.model != "gamma_gamma"
    return False


def like(current: Any, value: float) -> Any:
    """``value`` as an int where the parameter is one (ranges are floats: a count of accounts)."""
    if isinstance(current, int) and not isinstance(current, bool) and float(value).is_integer():
        return int(value)
    return value


def has_path(data: Mapping[str, Any], dotted: str) -> bool:
    """Whether ``data`` has the nested key ``dotted`` with a value (``None`` is no value: unused)."""
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return node is not None


def probes(
    target: Variant, baseline: Variant, ranges: Mapping[str, Sequence[float]], parameters: Sequence[str]
) -> list[Probe]:
    """The scenarios to run: each parameter at each end, for the variant and the baseline.

    A side the parameter is idle for (:func:`idle`) keeps its unmoved variant, run once whatever
    the number of levels (the caller runs each distinct variant once).
    """
    keys = list(parameters) or [k for k in ranges if not (idle(k, target) and idle(k, baseline))]
    out = []
    for key in keys:
        if key not in ranges:
            raise ConfigError("experiment.sensitivity.parameters", f"{key!r} has no range; ranges: {', '.join(ranges)}")
        if parameters and not (has_path(target.config, key) or has_path(baseline.config, key)):
            raise ConfigError("experiment.sensitivity.parameters", f"{key!r} is not a key of the scenario")
        for level, value in zip(LEVELS, _ends(key, ranges[key]), strict=True):
            for role, variant in (("variant", target), ("baseline", baseline)):
                if idle(key, variant):  # the key cannot move it: its own runs stand for every level
                    out.append(Probe(key, level, float(value), role, variant))
                    continue
                data = copy.deepcopy(variant.config)
                set_path(data, key, like(get_path(data, key), value))
                try:
                    scenario = Scenario.from_dict(data)
                except ConfigError as error:
                    raise ConfigError(
                        f"ranges.{key}",
                        f"its {level} end {value:g} is not a valid value ({error}; in variant {variant.name!r})",
                    ) from None
                name = f"{variant.name}|{key}={value}"
                moved = Variant(name, (*variant.overrides, f"{key}={value}"), data, scenario)
                out.append(Probe(key, level, float(value), role, moved))
    return out


def _ends(key: str, ends: Sequence[float]) -> Sequence[float]:
    """``ends`` if it is a range ``[low, high]`` of two finite numbers, low <= high."""
    if len(ends) != len(LEVELS) or not all(math.isfinite(x) for x in ends) or ends[0] > ends[1]:
        raise ConfigError(f"ranges.{key}", f"needs [low, high]: two finite numbers with low <= high (got {list(ends)})")
    return ends


def check_ranges(
    targets: Sequence[Variant], baseline: Variant, ranges: Mapping[str, Sequence[float]], parameters: Sequence[str]
) -> None:
    """Build every probe scenario the sensitivity may run for any of ``targets`` against ``baseline``.

    A range that is not ``[low, high]`` or whose end is not a valid value of its key stops here,
    before anything runs.
    """
    for target in targets:
        probes(target, baseline, ranges, parameters)


def sensitivity_table(
    target: Variant,
    baseline: Variant,
    *,
    default: tuple[Sequence[RunResult], Sequence[RunResult]],
    runs: Mapping[str, Sequence[RunResult]],
    all_probes: Sequence[Probe],
    metrics: Sequence[str],
) -> pd.DataFrame:
    """Rows (parameter, level, value, variant, metric, mean, ci_low, ci_high) for the tornado charts.

    ``default`` holds the variant's and the ``baseline``'s replications 0..k-1 at the configured
    values (a parameter only the baseline has takes its configured value from it); ``runs`` the
    results of each probe by its variant name. For each metric ``m`` the table has ``m`` (the
    variant's mean) and ``m_uplift`` (its paired uplift on the baseline), and
    ``in_flight_share`` / ``baseline_in_flight_share``, the share of the variant's and the
    baseline's cohort still open at the end (baseline: the variant it is compared with).
    """
    rows = []
    pairs: dict[tuple[str, str], dict[str, Sequence[RunResult]]] = {}
    values: dict[tuple[str, str], float] = {}
    for probe in all_probes:
        pairs.setdefault((probe.parameter, probe.level), {})[probe.role] = runs.get(probe.variant.name, [])
        values[(probe.parameter, probe.level)] = probe.value
    for (parameter, level), sides in pairs.items():
        for role, metric in (("variant", IN_FLIGHT), ("baseline", f"baseline_{IN_FLIGHT}")):
            share = mean_interval([_in_flight_share(r) for r in sides[role]])
            rows.append(
                {
                    "parameter": parameter,
                    "level": level,
                    "value": values[(parameter, level)],
                    "variant": target.name,
                    "metric": metric,
                    "mean": share.value,
                    "ci_low": share.ci_low,
                    "ci_high": share.ci_high,
                }
            )
        where = {"parameter": parameter, "level": level, "value": values[(parameter, level)], "variant": target.name}
        rows += _rows(where, sides["variant"], sides["baseline"], metrics)
        if level == LEVELS[0]:
            configured = target.config if has_path(target.config, parameter) else baseline.config
            current = float(get_path(configured, parameter)) if has_path(configured, parameter) else math.nan
            rows += _rows({**where, "level": "default", "value": current}, default[0], default[1], metrics)
    return pd.DataFrame(rows)


def _rows(
    where: dict[str, Any], mine: Sequence[RunResult], base: Sequence[RunResult], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows for one level: ``where`` holds parameter, level, value and variant."""
    out = []
    for metric in metrics:
        own = [r.metrics[metric] for r in mine]
        est = mean_interval(own)
        up = paired_uplift(own, [r.metrics[metric] for r in base])
        for name, value in ((metric, est), (f"{metric}_uplift", up)):
            out.append({**where, "metric": name, "mean": value.value, "ci_low": value.ci_low, "ci_high": value.ci_high})
    return out
