"""Adaptive replications stop where theory says they should.

For a metric with known standard deviation sigma, a 95% interval of half-width h needs
about n* = (t * sigma / h)^2 replications. Two cases: samples of a known normal law fed to
the stopping rule, and the simulation's cohort lead count, which is Poisson with a known
mean (so its variance is that mean).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from analysis.stopping import decide
from experiments.config import AdaptiveConfig
from experiments.parallel import LocalExecutor
from experiments.scheduler import Sweep
from tests.conftest import small_plan


def _needed(sigma: float, h: float) -> float:
    """Smallest n with t(n-1) * sigma / sqrt(n) <= h (the theoretical stopping point)."""
    from analysis.stats import t_quantile

    n = 2
    while t_quantile(n, 0.95) * sigma / math.sqrt(n) > h:
        n += 1
    return n


def _run_rule(draws: np.ndarray, h: float, min_n: int, max_n: int):
    n = min_n
    while True:
        decision = decide(draws[:n], half_width=h, min_n=min_n, max_n=max_n)
        if decision.stop:
            return decision
        n = decision.next_n


def test_theory_stopping_rule_lands_near_the_theoretical_count():
    sigma, h = 2.0, 0.5
    theory = _needed(sigma, h)  # about 64
    stops = []
    for seed in range(40):
        draws = np.random.default_rng(seed).normal(10.0, sigma, size=400)
        decision = _run_rule(draws, h, min_n=5, max_n=400)
        assert decision.reached
        assert decision.half_width <= h
        stops.append(decision.n)
    assert statistics.median(stops) == pytest.approx(theory, rel=0.15)


def test_stopping_rule_respects_the_bounds():
    draws = np.random.default_rng(0).normal(0.0, 5.0, size=100)
    capped = _run_rule(draws, 0.01, min_n=5, max_n=20)
    assert (capped.n, capped.reached) == (20, False)
    easy = _run_rule(draws, 100.0, min_n=7, max_n=20)
    assert (easy.n, easy.reached) == (7, True)


def test_theory_adaptive_sweep_stops_at_the_poisson_count():
    # The cohort window is days 14..63: 7 whole weeks of new leads, so leads ~ Poisson(7 x weekly
    # rate) when accounts send no repeat requests (new accounts would make the count depend on wins).
    plan = small_plan("experiment.sensitivity.enabled=false", "accounts.repeat_per_year=0")
    mean = plan.variants[0].scenario.market.leads_per_week * 7
    h = 20.0
    theory = _needed(math.sqrt(mean), h)  # about 18
    adaptive = AdaptiveConfig(enabled=True, metric="leads", half_width=h, min_replications=5, max_replications=80)
    outcome = Sweep(
        plan.variants,
        seed=plan.experiment.seed,
        replications=plan.experiment.replications,
        adaptive=adaptive,
        executor=LocalExecutor(),
        store=None,
    ).run()
    for run in outcome.runs.values():
        leads = [r.metrics["leads"] for r in run.ordered()]
        assert run.decision is not None
        assert run.decision.reached
        assert run.decision.half_width <= h
        assert statistics.mean(leads) == pytest.approx(mean, rel=0.05)
        assert len(leads) == run.decision.n
        assert 0.6 * theory <= run.decision.n <= 1.6 * theory
    # Both variants see the same leads (common random numbers), so they stop together.
    assert outcome.runs["legacy"].decision.n == outcome.runs["optimised"].decision.n


def test_adaptive_on_the_paired_difference_extends_the_baseline_and_is_order_independent():
    from tests.integration.test_sweep_engine import ShuffledExecutor

    plan = small_plan("experiment.sensitivity.enabled=false")

    def sweep(executor, target: float, max_n: int = 12):
        adaptive = AdaptiveConfig(
            enabled=True,
            metric="orders",
            half_width=target,
            versus_baseline=True,
            min_replications=4,
            max_replications=max_n,
        )
        return Sweep(
            plan.variants,
            seed=plan.experiment.seed,
            replications=plan.experiment.replications,
            adaptive=adaptive,
            executor=executor,
            store=None,
        ).run()

    # The target is 0.8 x the paired half-width at the minimum of 4 replications, so the difference
    # needs more (about 5 to 8) whatever the engine's numbers; the baseline stops at its maximum.
    first = sweep(LocalExecutor(), target=1e9)
    at_min = [
        first.runs["optimised"].results[r].metrics["orders"] - first.runs["legacy"].results[r].metrics["orders"]
        for r in range(4)
    ]
    target = 0.8 * decide(at_min, half_width=1e9, min_n=4, max_n=4).half_width
    adaptive = AdaptiveConfig(enabled=True, metric="orders", half_width=target, min_replications=4, max_replications=12)
    outcome = sweep(LocalExecutor(), target)
    baseline, variant = outcome.runs["legacy"], outcome.runs["optimised"]
    assert variant.decision.reached
    assert variant.decision.half_width <= target
    assert len(variant.results) > adaptive.min_replications  # the difference needed more than the minimum
    assert set(range(len(variant.results))) <= set(baseline.results)  # every variant replication is paired
    diffs = [variant.results[r].metrics["orders"] - baseline.results[r].metrics["orders"] for r in variant.results]
    assert decide(diffs, half_width=target, min_n=4, max_n=12).stop
    shuffled = sweep(ShuffledExecutor(7), target)
    assert {n: len(r.results) for n, r in shuffled.runs.items()} == {n: len(r.results) for n, r in outcome.runs.items()}
