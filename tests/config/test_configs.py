"""Every config in conf/ composes, type-checks and validates; the schema rejects what it should."""

from __future__ import annotations

import pytest

from experiments.cli import config_groups
from experiments.compose import (
    compose_config,
    compose_variants,
    customers_of,
    experiment_of,
    ray_of,
    scenario_of,
    tracking_of,
)
from experiments.variants import expand
from salesboost import Scenario

GROUPS = sorted(config_groups())
OPTIONS = [(group, option) for group, options in config_groups().items() for option in options]


def test_conf_has_the_documented_groups():
    assert set(GROUPS) >= {"calendar", "market", "team", "pipeline", "behaviour", "experiment", "tracking", "ray"}
    stages = {"assignment", "followup", "quote", "approval", "contract", "erp"}
    assert {f"pipeline/{stage}" for stage in stages} <= set(GROUPS)
    assert {"legacy", "optimised"} <= {o for g, o in OPTIONS if g == "pipeline"}


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_validates(group: str, option: str):
    cfg = compose_config([f"{group}={option}"])
    scenario = scenario_of(cfg)
    assert isinstance(scenario, Scenario)
    experiment = experiment_of(cfg)
    tracking_of(cfg)
    ray_of(cfg)
    customers_of(cfg)
    if group == "experiment" and experiment.kind == "sweep":
        variants = compose_variants(experiment, [f"{group}={option}"])
        assert [v.name for v in variants] == list(expand(experiment))
        assert variants[0].name == experiment.baseline


STAGES = ("assignment", "quote", "approval", "contract", "erp")


def test_default_experiment_is_legacy_vs_optimised_one_stage_at_a_time_and_together():
    experiment = experiment_of(compose_config())
    assert experiment.name == "cycle-time-gains"
    assert experiment.baseline == "legacy"
    assert experiment.replications >= 20
    variants = {v.name: v.scenario.pipeline for v in compose_variants(experiment, [])}
    assert (variants["legacy"].approval.policy, variants["legacy"].contract.policy) == ("window", "paper")
    assert (variants["optimised"].approval.policy, variants["optimised"].contract.policy) == ("online", "esign")
    decomposition = experiment.report.decomposition
    assert decomposition is not None
    assert decomposition.together == "optimised"
    assert set(decomposition.parts) == set(variants) - {"legacy", "optimised"}
    for name in decomposition.parts:  # each part is legacy with exactly one stage switched to optimised's
        changed = [s for s in STAGES if getattr(variants[name], s) != getattr(variants["legacy"], s)]
        assert len(changed) == 1, (name, changed)
        assert getattr(variants[name], changed[0]) == getattr(variants["optimised"], changed[0])


def test_variants_share_everything_but_the_pipeline():
    variants = compose_variants(experiment_of(compose_config()), [])
    legacy = variants[0]
    for other in variants[1:]:
        for section in ("calendar", "market", "accounts", "products", "team", "behaviour", "horizon", "kpi"):
            assert legacy.config[section] == other.config[section], (other.name, section)
        assert legacy.config["pipeline"] != other.config["pipeline"]


def test_user_overrides_apply_to_every_variant_and_variant_overrides_win():
    experiment = experiment_of(compose_config())
    variants = compose_variants(experiment, ["market.leads_per_week=123", "pipeline=optimised"])
    assert {v.scenario.market.leads_per_week for v in variants} == {123.0}
    assert [v.scenario.pipeline.name for v in variants] == ["legacy"] * 6 + ["optimised"]  # one-stage: legacy
    assert [v.scenario.pipeline.name for v in variants] == ["legacy"] * 6 + ["optimised"]


def test_scenario_round_trips_through_plain_data():
    scenario = scenario_of(compose_config(["pipeline=optimised"]))
    again = Scenario.from_dict(scenario.to_dict())
    assert again == scenario
    assert again.config_hash() == scenario.config_hash()
    assert scenario_of(compose_config(["pipeline=legacy"])).config_hash() != scenario.config_hash()


def test_a_single_stage_can_be_swapped():
    legacy = scenario_of(compose_config(["pipeline=legacy"])).pipeline
    swapped = scenario_of(compose_config(["pipeline=legacy", "pipeline/approval=online"])).pipeline
    assert swapped.approval.policy == "online"
    assert (swapped.assignment, swapped.quote, swapped.contract, swapped.erp) == (
        legacy.assignment,
        legacy.quote,
        legacy.contract,
        legacy.erp,
    )


def test_attribution_experiment_switches_one_stage_per_variant():
    experiment = experiment_of(compose_config(["experiment=pipeline_attribution"]))
    variants = {v.name: v.scenario.pipeline for v in compose_variants(experiment, [])}
    legacy = variants.pop("legacy")
    variants.pop("optimised")
    for name, pipeline in variants.items():
        changed = [
            s
            for s in ("assignment", "quote", "approval", "contract", "erp")
            if getattr(pipeline, s) != getattr(legacy, s)
        ]
        assert len(changed) == 1, (name, changed)


def test_grid_points_become_variants_named_by_their_values():
    experiment = experiment_of(compose_config(["experiment=approval_capacity"]))
    variants = compose_variants(experiment, [])
    assert len(variants) == 1 + 4 * 4
    point = {v.name: v for v in variants}["managers=3,escalate_after_hours=1.5"]
    assert point.scenario.team.managers == 3
    assert point.scenario.pipeline.approval.escalate_after_hours == 1.5
    assert point.scenario.pipeline.name == "optimised"  # grid_overrides apply to every point


def test_the_customers_tier_rules_in_conf_are_the_plans():
    # conf/customers/default.yaml spells out the plan's table; the code's defaults are the same rules.
    from salesboost.tiers import TierConfig

    customers = customers_of(compose_config(["experiment=customer_tiers"]))
    assert TierConfig.from_dict(customers.tiers) == TierConfig.plan()
