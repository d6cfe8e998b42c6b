"""Common random numbers make paired comparisons sharper than unpaired ones."""

from __future__ import annotations

import pytest

from analysis.stats import paired_difference, paired_uplift, welch_difference
from experiments.compose import compose_config, scenario_of
from sim import run

OVERRIDES = ["horizon.days=91", "horizon.warmup_days=14", "horizon.drain_days=30"]


@pytest.fixture(scope="module")
def paired_runs() -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for pipeline in ("legacy", "optimised"):
        scenario = scenario_of(compose_config([f"pipeline={pipeline}", *OVERRIDES]))
        results = [run(scenario, seed=99, replication=r) for r in range(8)]
        out[pipeline] = {m: [r.metrics[m] for r in results] for m in results[0].metrics}
    return out


@pytest.mark.parametrize("metric", ["orders", "revenue", "lead_to_order_days_mean", "first_response_hours_mean"])
def test_paired_interval_is_narrower_than_unpaired(paired_runs, metric):
    v, b = paired_runs["optimised"][metric], paired_runs["legacy"][metric]
    paired = paired_difference(v, b)
    unpaired = welch_difference(v, b)
    assert paired.value == pytest.approx(unpaired.value)
    assert paired.half_width < unpaired.half_width


def test_paired_uplift_of_revenue_has_a_finite_interval(paired_runs):
    est = paired_uplift(paired_runs["optimised"]["revenue"], paired_runs["legacy"]["revenue"])
    assert est.ci_low < est.value < est.ci_high
