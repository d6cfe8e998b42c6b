"""Seeded golden values: exact outputs of fixed runs, pinned to catch unintended changes.

These are not theory. They pin what the model does today for one scenario and seed, so a
refactor that should not change behaviour (performance work, restructuring stages, moving
draws between streams) shows up at once. When a change is *meant* to alter results (a model
fix, a new draw, new defaults in ``conf/``), regenerate the values deliberately and say why
in the commit::

    .venv/bin/python -m tests.regression.regenerate

The scenario's config hash is pinned first, so a failure says whether the inputs (``conf/``
defaults) or the model changed.
"""

from __future__ import annotations

import pytest

import sim
from tests.support import small_scenario

SEED = 20240101
HORIZON = {"days": 56.0, "warmup_days": 14.0, "drain_days": 30.0}


def test_regression_default_legacy_seed():
    scenario = small_scenario("legacy", **HORIZON)
    assert scenario.config_hash() == "95409afe44998298", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1430.0,
        "orders": 61.0,
        "revenue": 913866.7968780064,
        "win_rate": 0.3719512195121951,
        "first_response_hours_mean": 23.835738908082302,
        "quote_approval_hours_mean": 26.86634703393468,
        "contract_cycle_days_mean": 7.106167725286118,
        "lead_to_order_days_mean": 15.01474733005476,
        "rep_utilisation": 0.44759634468979737,
        "open_deals_mean": 34.125482625482626,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {"unqualified": 1266, "declined": 90, "lost_to_competitor": 13, "won": 61, "in_flight": 0}
    assert result.funnel == {
        "leads": 1430,
        "contacted": 1430,
        "qualified": 164,
        "quoted": 163,
        "accepted": 66,
        "signed": 61,
        "ordered": 61,
    }
    assert result.leads_simulated == 2976


def test_regression_default_optimised_seed():
    scenario = small_scenario("optimised", **HORIZON)
    assert scenario.config_hash() == "8a1a203a5e95b1c4", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1430.0,
        "orders": 201.0,
        "revenue": 3103856.0615395876,
        "win_rate": 0.4110429447852761,
        "first_response_hours_mean": 6.337313542376692,
        "quote_approval_hours_mean": 1.7079416203010038,
        "escalation_rate": 0.30426356589147285,
        "contract_cycle_days_mean": 3.2441913582059954,
        "lead_to_order_days_mean": 7.927844183758596,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "unqualified": 941,
        "declined": 257,
        "lost_to_competitor": 31,
        "won": 201,
        "in_flight": 0,
    }
