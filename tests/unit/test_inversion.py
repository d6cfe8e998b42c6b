"""Rows by inversion: each family's quantile function, one uniform per column, pairing across a changed column."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salesboost import Dist
from sim.inversion import InvertedRows, inverse

FAMILIES = [
    (Dist(dist="exponential", mean=2.0), stats.expon(scale=2.0)),
    (Dist(dist="lognormal", mean=3.0, cv=0.5), stats.lognorm(s=np.sqrt(np.log1p(0.25)), scale=3.0 / np.sqrt(1.25))),
    (Dist(dist="gamma", mean=1.5, cv=0.8), stats.gamma(a=1 / 0.64, scale=1.5 * 0.64)),
    (Dist(dist="triangular", low=1.0, mode=2.0, high=5.0), stats.triang(c=0.25, loc=1.0, scale=4.0)),
    (Dist(dist="uniform", low=1.0, high=4.0), stats.uniform(loc=1.0, scale=3.0)),
]


@pytest.mark.parametrize(("dist", "reference"), FAMILIES, ids=[d.dist for d, _ in FAMILIES])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantile_function_draws_follow_the_distribution(dist, reference, seed):
    # Kolmogorov-Smirnov against scipy's distribution of the same parameters, and the Dist's own moments.
    f = inverse(dist)
    x = np.array([f(u) for u in np.random.default_rng(seed).random(20_000).tolist()])
    assert stats.kstest(x, reference.cdf).pvalue > 0.001
    assert x.mean() == pytest.approx(dist.expected, rel=0.03)


def test_fixed_and_empirical_quantiles():
    u = np.random.default_rng(4).random(30_000).tolist()
    fixed, empirical = inverse(Dist(dist="fixed", mean=2.5)), inverse(Dist(dist="empirical", values=[1.0, 2.0, 7.0]))
    assert all(fixed(v) == 2.5 for v in u)
    x = np.array([empirical(v) for v in u])
    assert set(np.unique(x)) == {1.0, 2.0, 7.0}
    assert np.bincount(x.astype(int))[[1, 2, 7]] / len(x) == pytest.approx([1 / 3] * 3, abs=0.01)


def test_a_row_uses_exactly_one_uniform_per_column():
    columns = [Dist(dist="gamma", mean=1.0, cv=2.0), None, "uniform", Dist(dist="lognormal", mean=1.0, cv=1.0)]
    rows = InvertedRows(columns)
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(50):
        rows.row(rng)
    twin.random(50 * len(columns))
    assert rng.random() == twin.random()  # both generators are at the same place


def test_changing_one_columns_distribution_leaves_the_other_columns_unchanged():
    a = InvertedRows([Dist(dist="lognormal", mean=3.0, cv=0.5), "uniform", Dist(dist="exponential", mean=1.0)])
    b = InvertedRows([Dist(dist="gamma", mean=1.0, cv=1.5), "uniform", Dist(dist="exponential", mean=1.0)])
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(20):
        row_a, row_b = a.row(rng_a), b.row(rng_b)
        assert row_a[1:] == row_b[1:]
        assert row_a[0] != row_b[0]


def test_a_normal_quantile_at_zero_is_finite():
    assert np.isfinite(inverse(Dist(dist="lognormal", mean=1.0, cv=0.5))(0.0))


def test_none_columns_are_zero_and_uniform_columns_are_the_uniforms():
    rows = InvertedRows([None, "uniform"])
    rng = np.random.default_rng(3)
    zero, u = rows.row(rng)
    assert zero == 0.0
    assert u == np.random.default_rng(3).random(2)[1]
