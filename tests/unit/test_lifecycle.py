"""The lifecycle rules of salesboost.lifecycle: ramp, base hazard, exit odds, exams, training gains and decay."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from salesboost.build import build
from salesboost.lifecycle import (
    decayed,
    exam_score,
    exit_probability,
    monthly_base_hazard,
    passes,
    programme_gain,
    ramp,
)
from salesboost.reps import LifecycleConfig

#: Draws of (skill, noise) for the exam checks, and the fixed seed they come from.
DRAWS = 20_000
SEED = 20_240_611


def lifecycle(**data: Any) -> LifecycleConfig:
    """A lifecycle config built through the config boundary (defaults unless overridden)."""
    return build(LifecycleConfig, data)


# -- ramp ----------------------------------------------------------------------------------------------------


def test_ramp_starts_at_ramp_start():
    """A new hire (tenure 0, or a negative tenure) works at ramp_start (0.15), not at 0."""
    config = lifecycle()
    assert ramp(config, 0.0) == 0.15
    assert ramp(config, -2.0) == 0.15


def test_linear_ramp_is_half_way_at_half_the_ramp():
    """With kappa 1 and R 6 the ramp is t / R: 0.5 at 3 months, 5/6 at 5 months (rel 1e-12)."""
    config = lifecycle()
    assert ramp(config, 3.0) == pytest.approx(0.5, rel=1e-12)
    assert ramp(config, 5.0) == pytest.approx(5.0 / 6.0, rel=1e-12)


def test_ramp_never_falls_below_ramp_start():
    """Early on t / R is below ramp_start (0.5 / 6 < 0.15); the ramp is ramp_start there and never below it."""
    config = lifecycle()
    assert ramp(config, 0.5) == 0.15
    values = [ramp(config, t) for t in np.linspace(0.0, 12.0, 241)]
    assert min(values) == 0.15
    assert all(b >= a for a, b in itertools.pairwise(values))


def test_ramp_is_full_at_and_after_the_ramp():
    """At R months and after, productivity is 1 exactly."""
    config = lifecycle()
    for t in (6.0, 6.01, 12.0, 240.0):
        assert ramp(config, t) == 1.0


@pytest.mark.parametrize("t", [2.5, 3.0, 4.0, 5.5])
def test_quadratic_ramp(t):
    """With kappa 2 the ramp is (t / R)^2 once that is above ramp_start (rel 1e-12)."""
    config = lifecycle(ramp_shape=2.0)
    assert (t / 6.0) ** 2 > 0.15
    assert ramp(config, t) == pytest.approx((t / 6.0) ** 2, rel=1e-12)


def test_quadratic_ramp_floors_at_ramp_start():
    """With kappa 2, (2 / 6)^2 = 1/9 < 0.15: the ramp is ramp_start."""
    assert ramp(lifecycle(ramp_shape=2.0), 2.0) == 0.15


# -- base hazard ---------------------------------------------------------------------------------------------


def test_monthly_base_hazard_of_27_percent_a_year():
    """1 - 0.73^(1/12) = 0.025885 (hand: exp(ln 0.73 / 12) = exp(-0.0262259) = 0.974115); domain.md: 2.6% a month."""
    h = monthly_base_hazard(0.27)
    assert h == pytest.approx(0.025885, abs=5e-7)
    assert h == pytest.approx(1.0 - 0.73 ** (1.0 / 12.0), rel=1e-12)
    assert h == pytest.approx(0.026, abs=0.0005)


@pytest.mark.parametrize("annual", [0.15, 0.27, 0.49, 0.55])
def test_twelve_months_of_the_hazard_compound_to_the_annual_rate(annual):
    """Surviving 12 months at the monthly hazard leaves 1 - annual (abs 1e-12)."""
    h = monthly_base_hazard(annual)
    assert 1.0 - (1.0 - h) ** 12 == pytest.approx(annual, abs=1e-12)


# -- exit probability ----------------------------------------------------------------------------------------

SETTLED = {"attainment": 1.0, "bonus_cut": False, "tenure_months": 24.0}


def odds(p: float) -> float:
    """p / (1 - p)."""
    return p / (1.0 - p)


def test_exit_probability_without_risk_factors_is_the_base_hazard():
    """At quota, no bonus cut, past short tenure: the exit probability is the base monthly hazard (rel 1e-12)."""
    config = lifecycle()
    assert exit_probability(config, **SETTLED) == pytest.approx(monthly_base_hazard(0.27), rel=1e-12)


def test_exit_probability_multiplies_the_odds_by_hand():
    """Low attainment doubles the odds: 0.0265728 x 2 = 0.0531456, p = 0.0531456 / 1.0531456 = 0.0504637 (abs 1e-7)."""
    config = lifecycle()
    base = exit_probability(config, **SETTLED)
    assert odds(base) == pytest.approx(0.0265728, abs=1e-7)
    low = exit_probability(config, attainment=0.5, bonus_cut=False, tenure_months=24.0)
    assert low == pytest.approx(0.0504637, abs=1e-7)


@pytest.mark.parametrize(
    ("attainment", "bonus_cut", "tenure_months", "ratio"),
    [
        (0.5, False, 24.0, 2.0),
        (1.0, True, 24.0, 1.5),
        (1.0, False, 3.0, 1.5),
        (0.5, True, 24.0, 3.0),
        (0.5, True, 3.0, 4.5),
        (0.7, False, 12.0, 1.0),  # at theta and at short_tenure_months: neither applies (strict <)
        (0.69, False, 11.9, 3.0),
    ],
)
def test_each_odds_ratio_multiplies_the_odds(attainment, bonus_cut, tenure_months, ratio):
    """The odds of leaving are the base odds times each odds ratio that applies (2, 1.5, 1.5; rel 1e-12)."""
    config = lifecycle()
    base = exit_probability(config, **SETTLED)
    p = exit_probability(config, attainment=attainment, bonus_cut=bonus_cut, tenure_months=tenure_months)
    assert odds(p) == pytest.approx(odds(base) * ratio, rel=1e-12)


def test_nan_attainment_is_not_low():
    """NaN attainment (no quota) does not raise the odds: the same as at quota (exact)."""
    config = lifecycle()
    assert exit_probability(config, attainment=math.nan, bonus_cut=False, tenure_months=24.0) == exit_probability(
        config, **SETTLED
    )


# -- exams ---------------------------------------------------------------------------------------------------


def exam_draws(config: LifecycleConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latent skill z and a product and a role-play score per hire, from the fixed seed."""
    rng = np.random.default_rng(SEED)
    skill = rng.standard_normal(DRAWS)
    noise = rng.standard_normal((DRAWS, 2))
    product = np.array([exam_score(config, z, e) for z, e in zip(skill, noise[:, 0], strict=True)])
    roleplay = np.array([exam_score(config, z, e) for z, e in zip(skill, noise[:, 1], strict=True)])
    return skill, product, roleplay


@pytest.mark.parametrize("validity", [0.2, 0.4, 0.6])
def test_exam_score_correlates_with_skill_at_its_validity(validity):
    """Over 20,000 hires corr(score, skill) is within 0.02 of exam_validity; mean and sd within 1% of config."""
    config = lifecycle(exam_validity=validity)
    skill, product, _ = exam_draws(config)
    r = float(np.corrcoef(product, skill)[0, 1])
    assert r == pytest.approx(validity, abs=0.02)
    assert float(product.mean()) == pytest.approx(config.exam_mean, rel=0.01)
    assert float(product.std(ddof=1)) == pytest.approx(config.exam_sd, rel=0.01)


def test_exam_score_by_hand():
    """mean + sd (r z + sqrt(1 - r^2) e): z 1, e -0.5, r 0.6 gives 92 + 6 (0.6 - 0.4) = 93.2 (rel 1e-12)."""
    assert exam_score(lifecycle(exam_validity=0.6), 1.0, -0.5) == pytest.approx(93.2, rel=1e-12)


def error_rates(config: LifecycleConfig) -> tuple[float, float]:
    """Share of below-average hires who pass, and of above-average hires who fail, over the fixed draws."""
    skill, product, roleplay = exam_draws(config)
    ok = np.array([passes(config, p, q) for p, q in zip(product, roleplay, strict=True)])
    return float(ok[skill < 0].mean()), float((~ok[skill > 0]).mean())


def test_exams_misclassify_hires():
    """With the default config some below-average hires pass and some above-average hires fail."""
    false_pass, false_fail = error_rates(lifecycle())
    assert false_pass > 0.0, f"below-average hires passing: {false_pass:.3f}"
    assert false_fail > 0.0, f"above-average hires failing: {false_fail:.3f}"


def test_higher_validity_lowers_both_error_rates():
    """Validity 0.2 -> 0.4 -> 0.6 lowers both the false-pass and the false-fail share, by > 0.02 each step."""
    rates = [error_rates(lifecycle(exam_validity=r)) for r in (0.2, 0.4, 0.6)]
    for (pass_lo, fail_lo), (pass_hi, fail_hi) in itertools.pairwise(rates):
        assert pass_hi < pass_lo - 0.02, f"false passes {rates}"
        assert fail_hi < fail_lo - 0.02, f"false fails {rates}"


def test_passing_needs_both_marks():
    """A hire passes with product >= 90 and role-play >= 85, both inclusive; missing either fails."""
    config = lifecycle()
    assert passes(config, 90.0, 85.0)
    assert not passes(config, 89.99, 99.0)
    assert not passes(config, 99.0, 84.99)


# -- training gains and decay --------------------------------------------------------------------------------


@pytest.mark.parametrize("half_life", [6.0, 9.0, 12.0])
def test_gain_halves_each_half_life(half_life):
    """A gain is half after one half-life and a quarter after two (rel 1e-12); nothing decays at 0 months."""
    assert decayed(0.2, half_life, half_life) == pytest.approx(0.1, rel=1e-12)
    assert decayed(0.2, 2 * half_life, half_life) == pytest.approx(0.05, rel=1e-12)
    assert decayed(0.2, 0.0, half_life) == 0.2
    assert decayed(0.2, -3.0, half_life) == 0.2


@pytest.mark.parametrize(("sd", "hours"), [(0.4, 16.0), (0.4, 8.0), (0.25, 40.0), (0.3, 0.0)])
def test_programme_gain_is_d_sd_per_programme(sd, hours):
    """programme_gain = training_effect x sd x hours / programme_hours exactly (0.25 x sd x hours / 16)."""
    assert programme_gain(lifecycle(), sd, hours) == 0.25 * sd * hours / 16.0
