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
    assert scenario.config_hash() == "acf3f4888ad78d2a", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1097.0,
        "orders": 159.0,
        "revenue": 2827685.268546073,
        "win_rate": 0.8153846153846154,
        "first_response_hours_mean": 51.950445333110146,
        "quote_approval_hours_mean": 18.571054950803774,
        "contract_cycle_days_mean": 7.672538263859571,
        "lead_to_order_days_mean": 16.965914165137733,
        "rep_utilisation": 0.903980159576094,
        "open_deals_mean": 43.955598455598455,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 39,
        "unqualified": 861,
        "declined": 16,
        "lost_to_competitor": 20,
        "won": 159,
        "in_flight": 2,
    }
    assert result.funnel == {
        "leads": 1097,
        "contacted": 1058,
        "qualified": 197,
        "quoted": 188,
        "accepted": 170,
        "signed": 159,
        "ordered": 159,
    }
    assert result.leads_simulated == 2255


def test_regression_default_optimised_seed():
    scenario = small_scenario("optimised", **HORIZON)
    assert scenario.config_hash() == "8d212ccc1c9a5a1a", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1108.0,
        "orders": 253.0,
        "revenue": 4022586.1283045523,
        "win_rate": 0.8754325259515571,
        "first_response_hours_mean": 13.205883362141321,
        "quote_approval_hours_mean": 0.58505655639853,
        "escalation_rate": 0.023333333333333334,
        "contract_cycle_days_mean": 3.6046937461780857,
        "lead_to_order_days_mean": 5.302939117891274,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 39,
        "unqualified": 780,
        "declined": 22,
        "lost_to_competitor": 14,
        "won": 253,
        "in_flight": 0,
    }
