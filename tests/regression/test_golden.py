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
    assert scenario.config_hash() == "14004735d59ec0eb", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1470.0,
        "orders": 42.0,
        "revenue": 648411.5688169178,
        "win_rate": 0.25149700598802394,
        "first_response_hours_mean": 41.13473008551824,
        "quote_approval_hours_mean": 21.007578320683006,
        "contract_cycle_days_mean": 6.572821553797501,
        "lead_to_order_days_mean": 17.772304162478587,
        "rep_utilisation": 0.8894471175256645,
        "open_deals_mean": 36.32239382239382,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 83,
        "unqualified": 1217,
        "declined": 105,
        "lost_to_competitor": 20,
        "won": 42,
        "in_flight": 3,
    }
    assert result.funnel == {
        "leads": 1470,
        "contacted": 1387,
        "qualified": 170,
        "quoted": 162,
        "accepted": 47,
        "signed": 43,
        "ordered": 42,
    }
    assert result.leads_simulated == 2943


def test_regression_default_optimised_seed():
    scenario = small_scenario("optimised", **HORIZON)
    assert scenario.config_hash() == "c4c2a8d156ee1e16", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1474.0,
        "orders": 79.0,
        "revenue": 1245653.5231328204,
        "win_rate": 0.30739299610894943,
        "first_response_hours_mean": 11.132392564118572,
        "quote_approval_hours_mean": 0.47884227874638224,
        "escalation_rate": 0.014652014652014652,
        "contract_cycle_days_mean": 2.9843668616413104,
        "lead_to_order_days_mean": 9.781253667075633,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 83,
        "unqualified": 1133,
        "declined": 149,
        "lost_to_competitor": 29,
        "won": 79,
        "in_flight": 1,
    }
