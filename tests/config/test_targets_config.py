"""SMART target validation: each bad value gives one ConfigError naming its dotted key and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from salesboost.errors import ConfigError
from salesboost.targets import (
    DECOMPOSE_UNITS,
    PLAN_TARGETS,
    RATIO_KPIS,
    TARGET_KPIS,
    TargetConfig,
    TargetsConfig,
    targets_from_dict,
)

EAST = {"kpi": "sales_east", "kind": "growth", "value": 0.35, "label": "East +35%"}


def error_of(data: dict[str, Any]) -> ConfigError:
    """The ConfigError that parsing ``data`` raises, checked to be one 'key: problem' line."""
    with pytest.raises(ConfigError) as info:
        targets_from_dict(data)
    error = info.value
    text = str(error)
    assert "\n" not in text
    assert text == f"{error.key}: {error.problem}"
    return error


def test_the_plans_nine_targets_are_valid_and_read_as_the_plan_says():
    assert len(PLAN_TARGETS) == 9
    read = {t.kpi: (t.kind, t.value) for t in PLAN_TARGETS.values()}
    assert read == {
        "sales": ("growth", 0.30),
        "new_customer_sales_share": ("share", 0.40),
        "sales_A": ("growth", 0.25),
        "product_B_share": ("share", 0.15),
        "sales_east": ("growth", 0.35),
        "sales_south": ("growth", 0.28),
        "repurchase_rate": ("level", 0.60),
        "new_customers": ("growth", 0.50),
        "sales_per_rep": ("growth", 0.20),
    }
    assert all(t.label for t in PLAN_TARGETS.values())
    config = TargetsConfig(targets=dict(PLAN_TARGETS))
    assert (config.level, config.levers, config.lever_steps, config.lever_replications) == (0.8, [], 3, 4)
    assert config.decompose == list(DECOMPOSE_UNITS)
    assert set(TARGET_KPIS) >= RATIO_KPIS
    assert all(TARGET_KPIS[k] for k in TARGET_KPIS)


def test_an_empty_or_missing_targets_mapping_is_the_plans():
    assert targets_from_dict({}).targets == PLAN_TARGETS
    assert targets_from_dict({"targets": {}, "level": 0.9}).level == 0.9


def test_a_full_section_parses_into_typed_targets():
    config = targets_from_dict(
        {
            "targets": {"east": EAST, "repeat": {"kpi": "repurchase_rate", "kind": "level", "value": 0.6}},
            "level": 0.75,
            "levers": ["market.leads_per_week", "team.reps.east"],
            "lever_steps": 4,
            "lever_replications": 6,
            "decompose": ["region", "rep"],
        }
    )
    assert config.targets["east"] == TargetConfig(**EAST)
    assert config.targets["repeat"].label == ""
    assert config.levers == ["market.leads_per_week", "team.reps.east"]
    assert (config.level, config.lever_steps, config.lever_replications, config.decompose) == (
        0.75,
        4,
        6,
        ["region", "rep"],
    )


def test_goal_is_last_year_times_growth_or_the_value():
    assert PLAN_TARGETS["sales"].goal(1000.0) == pytest.approx(1300.0)
    assert PLAN_TARGETS["repurchase_rate"].goal(0.5) == 0.6


@pytest.mark.parametrize(
    ("target", "key", "words"),
    [
        ({**EAST, "kpi": "sales_west"}, "targets.east.kpi", "allowed: sales, sales_new"),
        ({**EAST, "kind": "at_least"}, "targets.east.kind", "allowed: growth, share, level"),
        ({"kpi": "product_B_share", "kind": "share", "value": 1.5}, "targets.east.value", "[0, 1]"),
        ({"kpi": "repurchase_rate", "kind": "level", "value": -0.1}, "targets.east.value", "[0, 1]"),
        ({"kpi": "sales", "kind": "share", "value": 0.4}, "targets.east.kind", "a KPI that is a share"),
        ({**EAST, "value": -1.0}, "targets.east.value", "> -1"),
        ({**EAST, "value": "a lot"}, "targets.east.value", "finite number"),
        ({"kpi": "sales", "kind": "level", "value": -5}, "targets.east.value", ">= 0"),
        ({**EAST, "direction": "up"}, "targets.east.direction", "unknown field; allowed: kpi, kind, value, label"),
        ({"kpi": "sales", "kind": "growth"}, "targets.east.value", "required"),
    ],
)
def test_a_bad_target_names_its_key(target, key, words):
    error = error_of({"targets": {"east": target}})
    assert error.key == key
    assert words in error.problem


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"level": 1.0}, "level", "(0, 1)"),
        ({"level": 0}, "level", "(0, 1)"),
        ({"lever_steps": 1}, "lever_steps", ">= 2"),
        ({"lever_replications": 1}, "lever_replications", ">= 2"),
        ({"decompose": ["region", "country"]}, "decompose[1]", "allowed: region, product, segment, team, rep"),
        ({"decompose": ["region", "region"]}, "decompose", "once"),
        ({"levers": ["team..east"]}, "levers[0]", "dotted config key"),
        ({"levers": "team.reps.east"}, "levers", "expected a list"),
        ({"targets": [EAST]}, "targets", "mapping of target name"),
        ({"confidence": 0.9}, "confidence", "unknown field; allowed: targets, level, levers"),
    ],
)
def test_a_bad_section_field_names_its_key(section, key, words):
    error = error_of(section)
    assert error.key == key
    assert words in error.problem


def test_errors_can_be_placed_under_the_sections_path():
    error = error_of({"targets": {"east": {**EAST, "kind": "more"}}})
    assert str(error.under("experiment.targets")).startswith("experiment.targets.targets.east.kind: ")


def test_the_constructor_validates_too():
    with pytest.raises(ConfigError, match=r"^kpi: unknown value 'profit'; allowed: sales"):
        TargetConfig(kpi="profit", kind="growth", value=0.1)
    with pytest.raises(ConfigError, match=r"^targets: needs at least one target"):
        TargetsConfig(targets={})
