"""Which probes the sensitivity analysis runs: a key moves only the variants it can move."""

from __future__ import annotations

import pytest

from experiments.compose import compose_config, compose_variants, experiment_of
from experiments.sensitivity import idle, probes
from experiments.variants import Variant
from salesboost.errors import ConfigError


@pytest.fixture(scope="module")
def default_study() -> dict[str, Variant]:
    return {v.name: v for v in compose_variants(experiment_of(compose_config([])), [])}


def test_a_running_cost_moves_only_the_variant_that_runs_the_policy(default_study):
    legacy, optimised = default_study["legacy"], default_study["optimised"]
    key = "economics.running_costs.contract.esign.per_seat_month"
    assert idle(key, legacy)
    assert not idle(key, optimised)
    assert not idle(key, default_study["esign"])
    assert idle(key, default_study["quote_templates"])


def test_a_key_a_variant_leaves_unset_is_idle_for_it(default_study):
    key = "pipeline.contract.courier_days.mean"  # a paper contract's courier; e-signature has none
    assert not idle(key, default_study["legacy"])
    assert idle(key, default_study["optimised"])


def test_purchase_and_spend_model_parameters_are_idle_under_another_model(default_study):
    legacy = default_study["legacy"]
    assert legacy.scenario.accounts.spend.model == "segment"
    assert idle("accounts.spend.q", legacy)
    assert idle("accounts.purchase.r", legacy) == (legacy.scenario.accounts.purchase.model != "bgnbd")
    assert not idle("accounts.repeat_per_year", legacy)


def test_an_idle_side_keeps_its_configured_variant_and_a_moved_one_gets_the_value(default_study):
    legacy, optimised = default_study["legacy"], default_study["optimised"]
    ranges = {
        "economics.running_costs.contract.esign.per_seat_month": [25.0, 65.0],
        "accounts.initial": [1200.0, 2000.0],
    }
    found = {(p.parameter, p.level, p.role): p.variant for p in probes(optimised, legacy, ranges, [])}
    assert found[("economics.running_costs.contract.esign.per_seat_month", "low", "baseline")] is legacy
    moved = found[("economics.running_costs.contract.esign.per_seat_month", "high", "variant")]
    assert moved.scenario.economics.running_costs["contract"]["esign"].per_seat_month == 65.0
    # ranges are floats; a count parameter gets an int, so the scenario's validation accepts it
    assert found[("accounts.initial", "low", "baseline")].scenario.accounts.initial == 1200


def test_a_listed_key_that_neither_variant_has_is_an_error(default_study):
    legacy, optimised = default_study["legacy"], default_study["optimised"]
    ranges = {"pipeline.contract.courier_days.mean": [0.2, 0.9]}
    with pytest.raises(ConfigError, match="not a key of the scenario"):
        probes(default_study["esign"], optimised, ranges, ["pipeline.contract.courier_days.mean"])
    assert probes(optimised, legacy, ranges, ["pipeline.contract.courier_days.mean"])  # the baseline has it
