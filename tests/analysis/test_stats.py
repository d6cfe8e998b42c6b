"""Replication statistics against theory: interval formulas, coverage, and the value of pairing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.stats import mean_interval, paired_difference, paired_uplift, welch_difference


def test_mean_interval_matches_the_student_t_formula():
    x = np.array([3.1, 2.4, 5.0, 4.2, 3.3, 2.9])
    est = mean_interval(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert est.value == pytest.approx(x.mean())
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high))
    assert est.n == 6


def test_nan_values_are_dropped_and_tiny_samples_have_no_interval():
    assert mean_interval([1.0, math.nan, 3.0]).n == 2
    assert math.isnan(mean_interval([2.0]).ci_low)
    assert math.isnan(mean_interval([]).value)


def test_theory_mean_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    trials = 4000
    samples = rng.normal(10.0, 3.0, size=(trials, 8))
    covered = sum(e.ci_low <= 10.0 <= e.ci_high for e in map(mean_interval, samples))
    # Binomial(4000, 0.95): sd 0.0034, so +-0.012 is about 3.5 sd.
    assert covered / trials == pytest.approx(0.95, abs=0.012)


def test_theory_paired_uplift_covers_the_true_ratio():
    rng = np.random.default_rng(2)
    true_uplift = 0.25
    covered = 0
    trials = 3000
    for _ in range(trials):
        base = rng.gamma(9.0, 10.0, size=12)  # mean 90
        variant = base * (1 + true_uplift) + rng.normal(0.0, 6.0, size=12)
        est = paired_uplift(variant, base)
        covered += est.ci_low <= true_uplift <= est.ci_high
    assert covered / trials == pytest.approx(0.95, abs=0.02)


def test_paired_uplift_is_the_ratio_of_means():
    v = np.array([12.0, 15.0, 11.0])
    b = np.array([10.0, 12.0, 10.0])
    assert paired_uplift(v, b).value == pytest.approx(v.mean() / b.mean() - 1)
    assert paired_difference(v, b).value == pytest.approx((v - b).mean())


def test_pairs_with_a_nan_on_either_side_are_dropped():
    v = [1.0, 2.0, math.nan, 4.0]
    b = [1.5, math.nan, 3.0, 3.5]
    assert paired_difference(v, b).n == 2


def test_unequal_pairs_are_an_error():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


def test_welch_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(5, 1, 9), rng.normal(4, 2, 14)
    est = welch_difference(a, b)
    res = stats.ttest_ind(a, b, equal_var=False)
    low, high = res.confidence_interval(0.95)
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high))
