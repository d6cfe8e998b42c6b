"""A queue that cannot keep up is flagged, not reported as if it were a steady state."""

from __future__ import annotations

from experiments.config import AdaptiveConfig
from experiments.parallel import LocalExecutor
from experiments.report import stability_warnings
from experiments.scheduler import Sweep
from tests.conftest import small_plan


def _outcome(*overrides: str):
    plan = small_plan("experiment.sensitivity.enabled=false", "horizon.days=91", *overrides)
    return Sweep(
        plan.variants,
        seed=plan.experiment.seed,
        replications=3,
        adaptive=AdaptiveConfig(),
        executor=LocalExecutor(),
        store=None,
    ).run()


def test_an_overloaded_approval_window_is_flagged():
    # Without speed-to-lead decay legacy qualifies about half its leads instead of a tenth:
    # far more quotes than its daily approval window can review.
    warnings = stability_warnings(_outcome("behaviour.speed_to_lead.beta=0.0"), None)
    assert any(w.startswith("WARNING legacy:") for w in warnings)
    assert not any(w.startswith("WARNING optimised:") for w in warnings)


def test_the_default_scenario_is_steady():
    assert stability_warnings(_outcome(), None) == []
