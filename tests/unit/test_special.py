"""The pure-Python incomplete gamma function and gamma quantile against scipy.special."""

from __future__ import annotations

import pytest
from scipy.special import gammainc, gammaincinv

from salesboost.special import gamma_p, gamma_quantile

SHAPES = [0.05, 0.2, 0.349, 0.8, 1.0, 2.5, 3.74, 10.0, 50.0]


@pytest.mark.parametrize("a", SHAPES)
@pytest.mark.parametrize("x", [0.0, 1e-6, 0.01, 0.3, 1.0, 2.0, 5.0, 20.0, 80.0])
def test_gamma_p_matches_scipy(a, x):
    assert gamma_p(a, x) == pytest.approx(float(gammainc(a, x)), abs=1e-13)


@pytest.mark.parametrize("a", SHAPES)
@pytest.mark.parametrize("u", [1e-9, 1e-4, 0.01, 0.2, 0.5, 0.8, 0.99, 0.999999])
def test_gamma_quantile_matches_scipy(a, u):
    assert gamma_quantile(a, u) == pytest.approx(float(gammaincinv(a, u)), rel=1e-9)


@pytest.mark.parametrize("u", [0.0, 1.0, -0.1, 1.5])
def test_gamma_quantile_needs_an_open_probability(u):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        gamma_quantile(2.0, u)


def test_gamma_p_needs_a_positive_shape():
    with pytest.raises(ValueError, match="shape > 0"):
        gamma_p(0.0, 1.0)
