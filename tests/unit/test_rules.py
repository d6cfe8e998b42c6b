"""Domain rules: speed-to-lead decay, geometric repeat rounds, survival under a loss hazard."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesboost.rules import MAX_ROUNDS, geometric_rounds, speed_to_lead_multiplier, survival

# -- speed to lead -------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.0, 0.01, 0.0833, 0.5])
def test_speed_to_lead_is_one_up_to_t0(t):
    assert speed_to_lead_multiplier(t, t0_hours=0.5, beta=0.5, floor=0.2) == 1.0


@pytest.mark.parametrize(("t", "expected"), [(1.0, 2**-0.5), (2.0, 0.5), (3.0, 6**-0.5)])
def test_speed_to_lead_power_decay(t, expected):
    assert speed_to_lead_multiplier(t, t0_hours=0.5, beta=0.5, floor=0.1) == pytest.approx(expected)


def test_speed_to_lead_floor():
    # (100 / 0.5) ** -0.5 = 0.0707 < floor
    assert speed_to_lead_multiplier(100.0, t0_hours=0.5, beta=0.5, floor=0.2) == 0.2
    assert speed_to_lead_multiplier(1e9, t0_hours=0.5, beta=1.7, floor=0.02) == 0.02


def test_speed_to_lead_without_decay():
    assert speed_to_lead_multiplier(1000.0, t0_hours=0.5, beta=0.0, floor=0.2) == 1.0


@settings(max_examples=100, deadline=None)
@given(
    t1=st.floats(0.0, 1e4),
    t2=st.floats(0.0, 1e4),
    t0=st.floats(0.01, 10.0),
    beta=st.floats(0.0, 2.0),
    floor=st.floats(0.0, 1.0),
)
def test_speed_to_lead_is_non_increasing_and_bounded(t1, t2, t0, beta, floor):
    lo, hi = sorted((t1, t2))
    m_lo = speed_to_lead_multiplier(lo, t0, beta, floor)
    m_hi = speed_to_lead_multiplier(hi, t0, beta, floor)
    assert m_hi <= m_lo
    assert min(floor, 1.0) <= m_hi <= 1.0


# -- geometric rounds ------------------------------------------------------------------------------


@pytest.mark.parametrize("u", [0.0, 1e-12, 0.3, 0.999999])
def test_geometric_rounds_zero_probability_gives_zero(u):
    assert geometric_rounds(u, 0.0) == 0


@pytest.mark.parametrize("prob", [0.05, 0.25, 0.5, 0.9])
def test_geometric_rounds_tail_on_a_uniform_grid(prob):
    # rounds >= k exactly when u <= prob ** k, so on an even grid of N uniforms the share
    # with rounds >= k is prob ** k to within 1 / N.
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    rounds = np.array([geometric_rounds(x, prob) for x in u.tolist()])
    for k in range(1, 8):
        assert np.mean(rounds >= k) == pytest.approx(prob**k, abs=2.0 / n)


@pytest.mark.parametrize("prob", [0.25, 0.6])
def test_geometric_rounds_tail_on_random_uniforms(prob):
    n = 100_000
    u = np.random.default_rng(7).random(n)
    rounds = np.array([geometric_rounds(x, prob) for x in u.tolist()])
    for k in range(6):
        p = prob**k
        se = math.sqrt(p * (1 - p) / n)
        assert abs(np.mean(rounds >= k) - p) <= 5 * se + 1e-12
    # Mean of a geometric count of repeats: prob / (1 - prob).
    assert rounds.mean() == pytest.approx(prob / (1 - prob), rel=0.03)


def test_geometric_rounds_is_capped_for_u_zero():
    assert geometric_rounds(0.0, 0.5) == MAX_ROUNDS


@settings(max_examples=100, deadline=None)
@given(u=st.floats(0.0, 1.0, exclude_max=True), p1=st.floats(0.0, 0.99), p2=st.floats(0.0, 0.99))
def test_geometric_rounds_is_monotone_in_probability(u, p1, p2):
    # The same uniform gives at least as many rounds for a larger probability (paired variants).
    lo, hi = sorted((p1, p2))
    assert 0 <= geometric_rounds(u, lo) <= geometric_rounds(u, hi) <= MAX_ROUNDS


# -- survival ------------------------------------------------------------------------------------


def test_survival():
    assert survival(0.0, 100.0) == 1.0
    assert survival(0.01, 10.0) == pytest.approx(math.exp(-0.1))
    assert survival(0.5, 2.0) == pytest.approx(math.exp(-1.0))
