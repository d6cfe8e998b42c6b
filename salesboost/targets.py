"""SMART sales targets as configuration: which KPI, read how, against which value.

A target is "at least": a ``growth`` target wants ``kpi / last_year - 1 >= value`` (last year
is the baseline variant's figure), a ``share`` target wants a KPI that is itself a share to
reach ``value``, a ``level`` target wants the KPI to reach ``value`` as it stands.
:data:`PLAN_TARGETS` are the strategy team's nine for the year; :class:`TargetsConfig` adds
the probability a target should be hit with, the levers to search for the missed ones and
the units the total sales target is split into. :mod:`analysis.targets` reads them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from salesboost import checks
from salesboost.errors import ConfigError

#: The KPIs a target can name, each with its definition (read by :func:`analysis.targets.facts`).
TARGET_KPIS: dict[str, str] = {
    "sales": "revenue booked in the measured window",
    "sales_new": "revenue from new customers (segment 'new') in the window",
    "new_customer_sales_share": "sales_new / sales",
    "sales_A": "revenue of product A in the window",
    "sales_B": "revenue of product B in the window",
    "product_B_share": "sales_B / sales",
    "sales_east": "revenue of region east in the window",
    "sales_south": "revenue of region south in the window",
    "sales_north": "revenue of region north in the window",
    "repurchase_rate": "share of accounts that had bought before the window and buy in it (the run's metric)",
    "new_customers": "accounts won in the window: a prospect's first order booked (the run's metric)",
    "sales_per_rep": "sales / mean filled rep seats over the window's months",
}
#: KPIs that are shares in [0, 1]: the ones a ``share`` target can name.
RATIO_KPIS: frozenset[str] = frozenset(("new_customer_sales_share", "product_B_share", "repurchase_rate"))
#: How a target reads its KPI: relative to last year, as a share, or as a level.
TARGET_KINDS: tuple[str, ...] = ("growth", "share", "level")
#: Units the total sales target can be split into; a team is a region's reps (one team per region).
DECOMPOSE_UNITS: tuple[str, ...] = ("region", "product", "segment", "team", "rep")


@dataclass(kw_only=True)
class TargetConfig:
    """One target: ``kpi`` (a :data:`TARGET_KPIS` name) read as ``kind`` must reach ``value``.

    ``growth``: ``kpi / last_year - 1 >= value`` (``value > -1``); ``share``: a share KPI
    (:data:`RATIO_KPIS`) ``>= value`` in [0, 1]; ``level``: ``kpi >= value`` (in [0, 1] for a
    share KPI, ``>= 0`` otherwise). ``label`` is the plan's wording.
    """

    kpi: str
    kind: str
    value: float
    label: str = ""

    def __post_init__(self) -> None:
        checks.one_of("kpi", self.kpi, TARGET_KPIS)
        checks.one_of("kind", self.kind, TARGET_KINDS)
        if isinstance(self.value, bool) or not isinstance(self.value, int | float) or not math.isfinite(self.value):
            raise ConfigError("value", f"expected a finite number (got {self.value!r})")
        if not isinstance(self.label, str):
            raise ConfigError("label", f"expected text (got {self.label!r})")
        ratio = self.kpi in RATIO_KPIS
        if self.kind == "growth":
            if self.value <= -1:
                raise ConfigError("value", f"a growth target must be > -1 (-100%) (got {self.value})")
        elif self.kind == "share" and not ratio:
            raise ConfigError("kind", f"'share' needs a KPI that is a share ({', '.join(sorted(RATIO_KPIS))})")
        elif ratio:
            checks.probability("value", self.value)
        else:
            checks.non_negative("value", self.value)

    def goal(self, last_year: float) -> float:
        """The value the KPI must reach, given last year's figure (used by growth targets only)."""
        return last_year * (1.0 + self.value) if self.kind == "growth" else float(self.value)


#: The plan's SMART targets for the year, in its order.
PLAN_TARGETS: dict[str, TargetConfig] = {
    "sales": TargetConfig(kpi="sales", kind="growth", value=0.30, label="sales +30% on last year"),
    "new_customer_share": TargetConfig(
        kpi="new_customer_sales_share", kind="share", value=0.40, label="new customers 40% of sales"
    ),
    "product_A": TargetConfig(kpi="sales_A", kind="growth", value=0.25, label="product A +25%"),
    "product_B_share": TargetConfig(kpi="product_B_share", kind="share", value=0.15, label="product B at 15% of sales"),
    "east": TargetConfig(kpi="sales_east", kind="growth", value=0.35, label="East +35%"),
    "south": TargetConfig(kpi="sales_south", kind="growth", value=0.28, label="South +28%"),
    "repurchase_rate": TargetConfig(kpi="repurchase_rate", kind="level", value=0.60, label="repurchase rate 60%"),
    "new_customers": TargetConfig(kpi="new_customers", kind="growth", value=0.50, label="new-customer count +50%"),
    "sales_per_rep": TargetConfig(kpi="sales_per_rep", kind="growth", value=0.20, label="sales per rep +20%"),
}


@dataclass(kw_only=True)
class TargetsConfig:
    """The targets, the probability each should be hit with, the lever search and the decomposition.

    ``level`` flags a target as missed when its P(hit) is below it and is what the lever
    search aims for; ``levers`` are dotted config keys the search moves for missed targets,
    ``lever_steps`` values each with ``lever_replications`` replications per value;
    ``decompose`` lists the units the total sales target is split into.
    """

    targets: dict[str, TargetConfig]
    level: float = 0.8
    levers: list[str] = field(default_factory=list)
    lever_steps: int = 3
    lever_replications: int = 4
    decompose: list[str] = field(default_factory=lambda: list(DECOMPOSE_UNITS))

    def __post_init__(self) -> None:
        if not isinstance(self.targets, Mapping) or not self.targets:
            raise ConfigError("targets", "needs at least one target: name -> {kpi, kind, value, label}")
        for name, target in self.targets.items():
            if not isinstance(name, str) or not name:
                raise ConfigError("targets", f"target names must be non-empty text (got {name!r})")
            if not isinstance(target, TargetConfig):
                raise ConfigError(f"targets.{name}", f"expected a TargetConfig (got {type(target).__name__})")
        if not (isinstance(self.level, int | float) and 0.0 < self.level < 1.0):
            raise ConfigError("level", f"must be a probability in (0, 1) (got {self.level!r})")
        for key, least in (("lever_steps", 2), ("lever_replications", 2)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(key, f"must be a whole number >= {least} (got {value!r})")
        for i, lever in enumerate(self.levers):
            if not isinstance(lever, str) or not lever or any(not part for part in lever.split(".")):
                raise ConfigError(f"levers[{i}]", f"expected a dotted config key like 'team.reps.east' (got {lever!r})")
        if len(set(self.levers)) != len(self.levers):
            raise ConfigError("levers", "each lever may be listed once")
        for i, unit in enumerate(self.decompose):
            checks.one_of(f"decompose[{i}]", unit, DECOMPOSE_UNITS)
        if len(set(self.decompose)) != len(self.decompose):
            raise ConfigError("decompose", "each unit may be listed once")


#: Field names of a target's plain data, and of the section's.
TARGET_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TargetConfig))
SECTION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TargetsConfig))


def target_from_dict(name: str, data: Mapping[str, Any], key: str = "targets") -> TargetConfig:
    """One target from plain data ``{kpi, kind, value, label}``; errors are keyed ``<key>.<name>.<field>``."""
    where = f"{key}.{name}" if key else name
    if not isinstance(data, Mapping):
        raise ConfigError(where, f"expected a mapping of {', '.join(TARGET_FIELDS)} (got {data!r})")
    for field_name in data:
        if field_name not in TARGET_FIELDS:
            raise ConfigError(f"{where}.{field_name}", f"unknown field; allowed: {', '.join(TARGET_FIELDS)}")
    for required in ("kpi", "kind", "value"):
        if required not in data:
            raise ConfigError(f"{where}.{required}", "required")
    try:
        return TargetConfig(**data)
    except ConfigError as error:
        raise error.under(where) from None


def targets_from_dict(data: Mapping[str, Any], key: str = "targets") -> TargetsConfig:
    """The targets section from plain data (YAML); missing fields take their defaults.

    ``data`` holds the :class:`TargetsConfig` fields; the targets sit under its field ``key``
    (``targets``) as name -> ``{kpi, kind, value, label}``, and a missing, null or empty
    mapping there means the plan's (:data:`PLAN_TARGETS`). Errors are keyed relative to
    ``data``: ``targets.<name>.<field>`` for a target, ``level`` or ``decompose[1]`` for the
    section's own fields (prefix them with :meth:`ConfigError.under`).
    """
    if not isinstance(data, Mapping):
        raise ConfigError("", f"expected a mapping of {', '.join(SECTION_FIELDS)} (got {data!r})")
    allowed = [key, *(f for f in SECTION_FIELDS if f != "targets")]
    for name in data:
        if name not in allowed:
            raise ConfigError(str(name), f"unknown field; allowed: {', '.join(allowed)}")
    raw = data.get(key)
    if raw is None or (isinstance(raw, Mapping) and not raw):
        targets = dict(PLAN_TARGETS)
    elif not isinstance(raw, Mapping):
        raise ConfigError(key, f"expected a mapping of target name -> {{kpi, kind, value, label}} (got {raw!r})")
    else:
        targets = {str(name): target_from_dict(str(name), spec, key) for name, spec in raw.items()}
    rest = {name: value for name, value in data.items() if name != key}
    for name in ("levers", "decompose"):
        value = rest.get(name)
        if value is not None and (isinstance(value, str | bytes) or not isinstance(value, list | tuple)):
            raise ConfigError(name, f"expected a list (got {value!r})")
        if value is not None:
            rest[name] = list(value)
    try:
        return TargetsConfig(targets=targets, **rest)
    except ConfigError as error:
        if error.key.startswith("targets") and key != "targets":
            raise ConfigError(key + error.key.removeprefix("targets"), error.problem) from None
        raise
