"""A rep's working life as rules: ramp, training gains and their decay, exams, and the hazard of leaving.

Pure functions of the :class:`~salesboost.reps.LifecycleConfig` and a rep's state; the
simulation's staffing desk (:mod:`sim.agents.staffing`) applies them, the tests check them.
"""

from __future__ import annotations

import math

from salesboost.reps import LifecycleConfig


def ramp(config: LifecycleConfig, tenure_months: float) -> float:
    """Share of full productivity after ``tenure_months``: max(start, min(1, (t / R)^kappa))."""
    if tenure_months >= config.ramp_months:
        return 1.0
    grown = (max(0.0, tenure_months) / config.ramp_months) ** config.ramp_shape
    return max(config.ramp_start, min(1.0, grown))


def monthly_base_hazard(annual: float) -> float:
    """The monthly exit probability of an annual rate: 1 - (1 - A)^(1/12)."""
    return 1.0 - (1.0 - annual) ** (1.0 / 12.0)


def exit_probability(config: LifecycleConfig, *, attainment: float, bonus_cut: bool, tenure_months: float) -> float:
    """P(a rep leaves in a month): the base hazard's odds times the odds ratios that apply.

    logit h = logit h0 + ln OR_low 1[attainment < theta] + ln OR_cut 1[bonus cut] + ln OR_new 1[tenure short]
    (domain.md section 3); NaN attainment (no quota) is not low.
    """
    h0 = monthly_base_hazard(config.attrition_per_year)
    odds = h0 / (1.0 - h0)
    if not math.isnan(attainment) and attainment < config.low_attainment:
        odds *= config.low_attainment_odds
    if bonus_cut:
        odds *= config.bonus_cut_odds
    if tenure_months < config.short_tenure_months:
        odds *= config.short_tenure_odds
    return odds / (1.0 + odds)


def exam_score(config: LifecycleConfig, skill_z: float, noise_z: float) -> float:
    """An exam score: mean + sd (r z_skill + sqrt(1 - r^2) z_noise), a noisy measure of latent skill."""
    r = config.exam_validity
    return config.exam_mean + config.exam_sd * (r * skill_z + math.sqrt(1.0 - r * r) * noise_z)


def passes(config: LifecycleConfig, product: float, roleplay: float) -> bool:
    """Whether a new hire passes: product exam >= its mark and role-play >= its mark."""
    return product >= config.product_pass and roleplay >= config.roleplay_pass


def decayed(gain: float, months: float, half_life_months: float) -> float:
    """What is left of a training gain after ``months``: gain x 0.5^(months / half-life)."""
    return gain * 0.5 ** (max(0.0, months) / half_life_months)


def programme_gain(config: LifecycleConfig, ability_sd: float, hours: float) -> float:
    """Rise in log productivity from ``hours`` of training: d x sd(log ability) per programme of hours."""
    return config.training_effect * ability_sd * hours / config.programme_hours
