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
    assert scenario.config_hash() == "b5c7ec887d9dfede", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1090.0,
        "orders": 161.0,
        "revenue": 2784215.6682498725,
        "win_rate": 0.8131313131313131,
        "first_response_hours_mean": 46.12618991445455,
        "quote_approval_hours_mean": 25.82276270003202,
        "contract_cycle_days_mean": 7.414906857457771,
        "lead_to_order_days_mean": 16.161604952616162,
        "rep_utilisation": 0.9197603597929594,
        "open_deals_mean": 43.16795366795367,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 39,
        "unqualified": 852,
        "declined": 21,
        "lost_to_competitor": 16,
        "won": 161,
        "in_flight": 1,
    }
    assert result.funnel == {
        "leads": 1090,
        "contacted": 1051,
        "qualified": 199,
        "quoted": 189,
        "accepted": 167,
        "signed": 161,
        "ordered": 161,
    }
    assert result.leads_simulated == 2252


def test_regression_default_optimised_seed():
    scenario = small_scenario("optimised", **HORIZON)
    assert scenario.config_hash() == "3aad82d899e18397", "conf/ defaults changed: regenerate the golden values"
    result = sim.run(scenario, SEED, 0)
    golden = {
        "leads": 1110.0,
        "orders": 251.0,
        "revenue": 4110033.35844646,
        "win_rate": 0.8537414965986394,
        "first_response_hours_mean": 12.830988350516034,
        "quote_approval_hours_mean": 0.6720289970659374,
        "escalation_rate": 0.025974025974025976,
        "contract_cycle_days_mean": 3.5559491197380915,
        "lead_to_order_days_mean": 5.205635891912982,
    }
    assert {k: result.metrics[k] for k in golden} == pytest.approx(golden, rel=1e-9)
    assert result.outcomes == {
        "not_contacted": 39,
        "unqualified": 777,
        "declined": 29,
        "lost_to_competitor": 14,
        "won": 251,
        "in_flight": 0,
    }
