"""salesboost.clv's scalar BG/NBD forms agree with analysis.btyd's vectorised scipy forms, and its 2F1 with scipy's."""

from __future__ import annotations

import itertools
import math

import pytest
from scipy import special

from analysis import btyd
from salesboost import clv
from salesboost.accounts import BgNbdPurchase

#: (r, alpha, a, b): CDNOW weekly (Fader, Hardie and Lee 2005) and a second, slower-dropout base.
PARAMETER_SETS = [(0.243, 4.414, 0.793, 2.426), (0.349, 18.1, 0.504, 3.64)]
REL = 1e-8  # scalar vs vectorised: same formula, different float paths

# (x, t_x, T): x = 0 needs t_x = 0; otherwise 0 < t_x <= T, from just after the first purchase to the end.
HISTORIES = [
    (0, 0.0, 0.0),
    (0, 0.0, 39.0),
    (0, 0.0, 78.0),
    (1, 2.0, 39.0),
    (1, 39.0, 39.0),
    (2, 10.5, 52.0),
    (3, 30.0, 30.0),
    (5, 5.0, 78.0),
    (5, 70.0, 78.0),
    (10, 60.0, 70.0),
    (30, 1.0, 100.0),
    (30, 95.0, 100.0),
]
HORIZONS = [0.0, 1.0, 39.0, 52.0, 100.0, 365.0]


def _models(r: float, alpha: float, a: float, b: float) -> tuple[BgNbdPurchase, btyd.BgNbdParams]:
    """The same parameters as the simulation's model (alpha_days) and the analysis' (alpha)."""
    return BgNbdPurchase(r=r, alpha_days=alpha, a=a, b=b), btyd.BgNbdParams(r=r, alpha=alpha, a=a, b=b)


@pytest.mark.parametrize("params", PARAMETER_SETS)
@pytest.mark.parametrize(("x", "t_x", "T"), HISTORIES)
def test_p_alive_matches_analysis(params, x, t_x, T):  # noqa: N803
    """clv.p_alive equals btyd.p_alive for one customer (rel 1e-8, no absolute slack)."""
    model, fitted = _models(*params)
    expected = float(btyd.p_alive(fitted, [x], [t_x], [T])[0])
    assert clv.p_alive(model, x, t_x, T) == pytest.approx(expected, rel=REL, abs=0.0)


@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_p_alive_is_one_without_repeat_purchases(params):
    """A customer with x = 0 cannot have left: P(alive) = 1 exactly, whatever T."""
    model, _ = _models(*params)
    assert [clv.p_alive(model, 0, 0.0, T) for T in (0.0, 10.0, 1000.0)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_p_alive_falls_with_time_since_the_last_purchase(params):
    """With x and T fixed, an earlier last purchase (smaller t_x) means a lower P(alive)."""
    model, _ = _models(*params)
    values = [clv.p_alive(model, 4, t_x, 80.0) for t_x in (80.0, 60.0, 40.0, 20.0, 5.0)]
    assert all(b < a for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("params", PARAMETER_SETS)
@pytest.mark.parametrize(("x", "t_x", "T"), HISTORIES)
@pytest.mark.parametrize("t", HORIZONS)
def test_expected_purchases_matches_analysis(params, x, t_x, T, t):  # noqa: N803
    """clv.expected_purchases equals btyd.conditional_expected_purchases (FHL eq. 10) (rel 1e-8, no abs slack)."""
    model, fitted = _models(*params)
    expected = float(btyd.conditional_expected_purchases(fitted, [x], [t_x], [T], t)[0])
    got = clv.expected_purchases(model, x, t_x, T, t)
    if t == 0.0:
        assert got == 0.0  # nothing is bought in no time
    assert got == pytest.approx(expected, rel=REL, abs=0.0)


@pytest.mark.parametrize("params", PARAMETER_SETS)
def test_expected_purchases_of_a_new_customer_matches_the_unconditional_form(params):
    """With x = 0, T = 0 the conditional expectation is E[X(t)] of a new customer (btyd.expected_purchases)."""
    model, fitted = _models(*params)
    for t in (1.0, 39.0, 365.0):
        expected = float(btyd.expected_purchases(fitted, t))
        assert clv.expected_purchases(model, 0, 0.0, 0.0, t) == pytest.approx(expected, rel=REL, abs=0.0)


def test_expected_purchases_needs_a_not_one():
    """a = 1 makes eq. 10 singular: a ValueError naming 'a'."""
    model = BgNbdPurchase(r=0.3, alpha_days=5.0, a=1.0, b=2.0)
    with pytest.raises(ValueError, match=r"^a:"):
        clv.expected_purchases(model, 1, 1.0, 2.0, 3.0)


# -- Gauss's hypergeometric series ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "c", "z"),
    [
        (1.0, 1.0, 2.0, 0.0),
        (1.0, 1.0, 2.0, 0.5),
        (1.0, 1.0, 2.0, 0.95),
        (0.5, 1.5, 2.5, 0.3),
        (0.243, 2.426, 2.219, 0.9),
        (2.3, 4.1, 3.2, 0.95),
        (10.349, 13.64, 13.144, 0.8),
        (30.243, 32.426, 32.219, 0.95),
        (3.0, 2.0, 7.5, 0.6),
        (0.1, 0.2, 0.3, 0.1),
    ],
)
def test_hyp2f1_matches_scipy(a, b, c, z):
    """The series 2F1(a, b; c; z) for 0 <= z <= 0.95 equals scipy.special.hyp2f1 (rel 1e-9)."""
    assert clv.hyp2f1(a, b, c, z) == pytest.approx(float(special.hyp2f1(a, b, c, z)), rel=1e-9, abs=0.0)


def test_hyp2f1_closed_form():
    """2F1(1, 1; 2; z) = -ln(1 - z) / z (Abramowitz and Stegun 15.1.3) at z = 0.5 (rel 1e-10)."""
    assert clv.hyp2f1(1.0, 1.0, 2.0, 0.5) == pytest.approx(-math.log(0.5) / 0.5, rel=1e-10)


@pytest.mark.parametrize("z", [1.0, 1.0000001, 1.5, 10.0, -0.1])
def test_hyp2f1_outside_the_unit_interval_is_a_value_error(z):
    """The series needs 0 <= z < 1: z >= 1 (and z < 0) raise ValueError naming z."""
    with pytest.raises(ValueError, match=r"^z:"):
        clv.hyp2f1(1.0, 1.0, 2.0, z)
