"""Incentive scheme validation: each bad value gives one ConfigError naming its dotted key and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from salesboost.build import build
from salesboost.errors import ConfigError
from salesboost.incentive import FloorConfig, IncentiveConfig, ScoreItem

ITEM = {"block": "performance", "weight": 100, "target": 10}


def error_of(data: dict[str, Any], path: str = "") -> ConfigError:
    """The ConfigError that building ``data`` raises, checked to be one 'key: problem' line."""
    with pytest.raises(ConfigError) as info:
        build(IncentiveConfig, data, path)
    error = info.value
    text = str(error)
    assert "\n" not in text
    assert text == f"{error.key}: {error.problem}"
    return error


def test_a_valid_plan_scheme_builds():
    """A full scheme builds with typed scorecard items and floors; ``cap: null`` is no cap."""
    plan = build(
        IncentiveConfig,
        {
            "name": "plan",
            "period": "quarter",
            "quota_per_month": 50_000,
            "commission_rate": 0.03,
            "accelerator_rate": 0.02,
            "quota_bonus": 1_000,
            "target_pay": 6_000,
            "scorecard": {
                "revenue_attainment": {"block": "performance", "weight": 20, "target": 1.0},
                "new_customers": {"block": "performance", "weight": 20, "target": 6},
                "high_value_share": {"block": "customer_value", "weight": 10, "target": 0.3},
                "repurchase_rate": {"block": "customer_value", "weight": 10, "target": 0.4},
                "satisfaction": {"block": "customer_value", "weight": 10, "target": 4},
                "training_score": {"block": "capability", "weight": 10, "target": 80},
                "data_use": {"block": "capability", "weight": 10, "target": 0.5},
                "team_attainment": {"block": "team", "weight": 5, "target": 1},
                "collaboration": {"block": "team", "weight": 5, "target": 4},
            },
            "cap": None,
            "floors": {"complaint_rate": {"limit": 0.05, "cut": 0.5}, "timeliness": {"limit": 0.9, "cut": 0.5}},
            "floor_exit_after": 2,
            "ratchet_up": 0.3,
            "ratchet_down": 0.1,
            "leaver_forfeits": False,
        },
    )
    assert plan.active
    assert plan.cap is None
    assert all(isinstance(item, ScoreItem) for item in plan.scorecard.values())
    assert all(isinstance(gate, FloorConfig) for gate in plan.floors.values())
    assert plan.scorecard["new_customers"].weight == 20.0  # ints become floats
    assert plan.period_quota() == 150_000  # 50_000 * 3


def test_unknown_scorecard_metric_names_it_and_lists_the_metrics():
    """A metric the scorecard cannot score is reported at scorecard.<name> with the allowed metrics."""
    error = error_of({"target_pay": 1_000, "scorecard": {"revenue": ITEM}})
    assert error.key == "scorecard.revenue"
    assert "allowed" in error.problem
    assert "revenue_attainment" in error.problem
    assert "collaboration" in error.problem


def test_weights_must_add_up_to_100():
    """Scorecard weights of 60 + 30 = 90 are rejected at ``scorecard``, saying 100 and what they sum to."""
    error = error_of(
        {
            "target_pay": 1_000,
            "scorecard": {
                "new_customers": {"block": "performance", "weight": 60, "target": 10},
                "satisfaction": {"block": "customer_value", "weight": 30, "target": 4},
            },
        }
    )
    assert error.key == "scorecard"
    assert "100" in error.problem
    assert "90" in error.problem


@pytest.mark.parametrize("target_pay", [None, 0])
def test_scorecard_needs_target_pay(target_pay):
    """A scorecard without (or with zero) target_pay is rejected at ``target_pay``."""
    data: dict[str, Any] = {"scorecard": {"new_customers": ITEM}}
    if target_pay is not None:
        data["target_pay"] = target_pay
    error = error_of(data)
    assert error.key == "target_pay"
    assert "> 0" in error.problem
    assert "scorecard" in error.problem


def test_unknown_floor_names_it_and_lists_the_floors():
    """A floor on a metric that has none is reported at floors.<name> with the allowed floors."""
    error = error_of({"floors": {"returns": {"limit": 0.1, "cut": 0.5}}})
    assert error.key == "floors.returns"
    assert "allowed" in error.problem
    assert "complaint_rate" in error.problem
    assert "timeliness" in error.problem


def test_bad_period_lists_the_periods():
    """A period other than month, quarter, year is rejected at ``period``."""
    error = error_of({"period": "week"})
    assert error.key == "period"
    assert "'week'" in error.problem
    assert "month, quarter, year" in error.problem


@pytest.mark.parametrize("key", ["commission_rate", "accelerator_rate", "quota_bonus", "target_pay", "quota_per_month"])
def test_negative_amounts_are_rejected(key):
    """Rates, amounts and quotas must be >= 0; the error names the field."""
    error = error_of({"quota_per_month": 1_000, key: -0.01})
    assert error.key == key
    assert ">= 0" in error.problem


def test_commission_above_one_is_rejected():
    """A commission rate above 1 (more than the revenue) is rejected at ``commission_rate``, saying [0, 1]."""
    error = error_of({"commission_rate": 1.5})
    assert error.key == "commission_rate"
    assert "[0, 1]" in error.problem


def test_commission_of_exactly_one_is_allowed():
    """A rate of 1 (all revenue) is the upper bound and builds."""
    assert build(IncentiveConfig, {"commission_rate": 1.0}).commission_rate == 1.0


def test_accelerator_above_one_names_accelerator_rate():
    """An accelerator rate above 1 is reported at ``accelerator_rate`` (the offending key), saying [0, 1]."""
    error = error_of({"quota_per_month": 1_000, "accelerator_rate": 1.5})
    assert "[0, 1]" in error.problem
    assert error.key == "accelerator_rate"


@pytest.mark.parametrize(
    "data",
    [
        {"accelerator_rate": 0.1},
        {"quota_bonus": 1_000},
        {
            "target_pay": 1_000,
            "scorecard": {"revenue_attainment": {"block": "performance", "weight": 100, "target": 1}},
        },
    ],
    ids=["accelerator", "quota_bonus", "revenue_attainment"],
)
def test_quota_using_scheme_needs_a_quota(data):
    """Accelerator, quota bonus or a revenue-attainment score without quota_per_month is rejected at that key."""
    error = error_of(data)
    assert error.key == "quota_per_month"
    assert "> 0" in error.problem
    assert "quota" in error.problem


def test_commission_only_scheme_needs_no_quota():
    """Commission, and a scorecard without revenue attainment, do not need a quota."""
    plan = build(IncentiveConfig, {"commission_rate": 0.05, "target_pay": 1_000, "scorecard": {"new_customers": ITEM}})
    assert plan.quota_per_month == 0.0


def test_negative_floor_exit_after_is_rejected():
    """floor_exit_after counts periods: -1 is rejected, saying >= 0."""
    error = error_of({"floor_exit_after": -1})
    assert error.key == "floor_exit_after"
    assert ">= 0" in error.problem


@pytest.mark.parametrize("key", ["ratchet_up", "ratchet_down"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_ratchet_outside_unit_interval_is_rejected(key, value):
    """Ratchets are shares in [0, 1]."""
    error = error_of({key: value})
    assert error.key == key
    assert "[0, 1]" in error.problem


def test_unknown_top_level_key_is_named_with_the_allowed_keys():
    """A key IncentiveConfig does not have is reported by build, with the fields it does have."""
    error = error_of({"bonus": 1_000})
    assert error.key == "bonus"
    assert "unknown key" in error.problem
    assert "quota_bonus" in error.problem
    assert "commission_rate" in error.problem


def test_errors_carry_the_path_of_the_enclosing_config():
    """Built under a prefix, the error key is the full dotted path."""
    error = error_of({"period": "week"}, "scenario.incentive")
    assert error.key == "scenario.incentive.period"


@pytest.mark.parametrize(
    ("data", "key", "allowed"),
    [
        (
            {"target_pay": 1_000, "scorecard": {"new_customers": {"block": "sales", "weight": 100, "target": 1}}},
            "scorecard.new_customers.block",
            "performance, customer_value, capability, team",
        ),
        (
            {"target_pay": 1_000, "scorecard": {"new_customers": {"block": "performance", "weight": 100, "target": 0}}},
            "scorecard.new_customers.target",
            "> 0",
        ),
        (
            {"target_pay": 1_000, "scorecard": {"new_customers": {**ITEM, "cap": 2}}},
            "scorecard.new_customers.cap",
            "block, target, weight",
        ),
        ({"floors": {"timeliness": {"limit": 0.9, "cut": 1.5}}}, "floors.timeliness.cut", "[0, 1]"),
        ({"floors": {"complaint_rate": {"limit": -0.1, "cut": 0.5}}}, "floors.complaint_rate.limit", ">= 0"),
        ({"cap": -1}, "cap", ">= 0"),
        ({"score_cap": 0}, "score_cap", "> 0"),
    ],
    ids=["block", "target", "item_key", "cut", "limit", "cap", "score_cap"],
)
def test_nested_values_are_named_by_their_dotted_key(data, key, allowed):
    """Bad scorecard items and floors name the full dotted key and what is allowed."""
    error = error_of(data)
    assert error.key == key
    assert allowed in error.problem
