"""Dist validation (ConfigError naming the key) and samplers against the analytic mean and variance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from salesboost import ConfigError, Dist, Scenario
from sim.streams import Streams, vector_draw
from tests.support import sections

# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"dist": "weibull", "mean": 1.0}, "dist"),
        ({"dist": "exponential"}, "mean"),
        ({"dist": "exponential", "mean": -1.0}, "mean"),
        ({"dist": "exponential", "mean": 0.0}, "mean"),
        ({"dist": "exponential", "mean": math.inf}, "mean"),
        ({"dist": "exponential", "mean": math.nan}, "mean"),
        ({"dist": "exponential", "mean": 1.0, "cv": 0.5}, "cv"),  # a parameter the family does not take
        ({"dist": "exponential", "mean": 1.0, "values": [1.0]}, "values"),
        ({"dist": "lognormal", "mean": 1.0}, "cv"),
        ({"dist": "lognormal", "cv": 0.5}, "mean"),
        ({"dist": "lognormal", "mean": -2.0, "cv": 0.5}, "mean"),
        ({"dist": "lognormal", "mean": 2.0, "cv": 0.0}, "cv"),
        ({"dist": "lognormal", "mean": 2.0, "cv": -0.5}, "cv"),
        ({"dist": "gamma", "mean": 0.0, "cv": 0.5}, "mean"),
        ({"dist": "gamma", "mean": 2.0, "cv": 0.0}, "cv"),
        ({"dist": "gamma", "mean": 2.0}, "cv"),
        ({"dist": "uniform", "low": 1.0}, "high"),
        ({"dist": "uniform", "low": 3.0, "high": 2.0}, "high"),
        ({"dist": "uniform", "low": 2.0, "high": 2.0}, "high"),
        ({"dist": "uniform", "low": -1.0, "high": 2.0}, "low"),
        ({"dist": "uniform", "low": 1.0, "high": 2.0, "mean": 1.5}, "mean"),
        ({"dist": "triangular", "low": 1.0, "high": 3.0}, "mode"),
        ({"dist": "triangular", "low": 1.0, "mode": 4.0, "high": 3.0}, "mode"),
        ({"dist": "triangular", "low": 1.0, "mode": 0.5, "high": 3.0}, "mode"),
        ({"dist": "triangular", "low": 3.0, "mode": 3.0, "high": 1.0}, "high"),
        ({"dist": "fixed"}, "mean"),
        ({"dist": "fixed", "mean": -0.5}, "mean"),
        ({"dist": "empirical"}, "values"),
        ({"dist": "empirical", "values": [1.0, -2.0]}, "values"),
        ({"dist": "empirical", "values": [1.0, math.inf]}, "values"),
        ({"dist": "empirical", "values": [1.0], "mean": 1.0}, "mean"),
    ],
)
def test_invalid_dist_raises_config_error_with_key(params, key):
    with pytest.raises(ConfigError) as info:
        Dist(**params)
    assert info.value.key == key


@pytest.mark.parametrize(
    "params",
    [
        {"dist": "exponential", "mean": 0.5},
        {"dist": "lognormal", "mean": 3.0, "cv": 0.5},
        {"dist": "gamma", "mean": 3.0, "cv": 2.0},
        {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0},  # mode at a bound
        {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 1.0},
        {"dist": "uniform", "low": 0.0, "high": 1.0},
        {"dist": "fixed", "mean": 0.0},
        {"dist": "empirical", "values": [0.0, 1.0, 1.0]},
    ],
)
def test_valid_dist_builds(params):
    assert Dist(**params).dist == params["dist"]


def test_invalid_dist_in_a_scenario_names_the_full_key():
    data = sections("pipeline=legacy")
    data["pipeline"]["followup"]["contact_hours"] = {"dist": "lognormal", "mean": 0.33, "cv": 0.0}
    with pytest.raises(ConfigError) as info:
        Scenario.from_dict(data)
    assert info.value.key == "pipeline.followup.contact_hours.cv"


# -- sample moments vs analytic moments ----------------------------------------------------------

N = 100_000
# |sample - expected| is allowed Z standard errors. The draws are seeded, so the test is
# deterministic; Z = 5 makes a false alarm for a new seed about a 1-in-a-million event.
Z = 5.0

FAMILIES = [
    Dist(dist="exponential", mean=2.0),
    Dist(dist="lognormal", mean=3.0, cv=0.5),
    Dist(dist="lognormal", mean=12000.0, cv=1.0),
    Dist(dist="gamma", mean=3.0, cv=0.7),
    Dist(dist="gamma", mean=1.5, cv=2.0),
    Dist(dist="triangular", low=1.0, mode=2.0, high=5.0),
    Dist(dist="uniform", low=1.0, high=4.0),
    Dist(dist="empirical", values=[1.0, 2.0, 2.0, 7.0]),
]


@pytest.mark.parametrize("dist", FAMILIES, ids=lambda d: f"{d.dist}-{d.expected:g}")
def test_sample_moments_match_expected_and_variance(dist):
    x = vector_draw(dist, Streams(20240101).generator("test.moments"))(N)
    assert x.shape == (N,)
    assert np.all(x >= 0)
    mean, var = float(x.mean()), float(x.var(ddof=1))
    # Standard error of the mean from the analytic variance; of the variance from the
    # sample fourth central moment, se(s^2) ~ sqrt((m4 - s^4) / n).
    se_mean = math.sqrt(dist.variance / N)
    m4 = float(np.mean((x - mean) ** 4))
    se_var = math.sqrt(max(m4 - var * var, 0.0) / N)
    assert abs(mean - dist.expected) <= Z * se_mean
    assert abs(var - dist.variance) <= Z * se_var


def test_fixed_always_returns_its_mean():
    x = vector_draw(Dist(dist="fixed", mean=2.5), Streams(1).generator("test"))(1000)
    assert np.all(x == 2.5)
    assert Dist(dist="fixed", mean=2.5).variance == 0.0


def test_uniform_and_triangular_stay_within_bounds():
    rng = Streams(1).generator("test")
    u = vector_draw(Dist(dist="uniform", low=1.0, high=4.0), rng)(10_000)
    t = vector_draw(Dist(dist="triangular", low=1.0, mode=2.0, high=5.0), rng)(10_000)
    assert u.min() >= 1.0
    assert u.max() < 4.0
    assert t.min() >= 1.0
    assert t.max() <= 5.0


def test_empirical_only_returns_listed_values():
    x = vector_draw(Dist(dist="empirical", values=[1.0, 2.0, 7.0]), Streams(1).generator("test"))(1000)
    assert set(np.unique(x).tolist()) == {1.0, 2.0, 7.0}


@pytest.mark.parametrize(
    ("dist", "expected", "variance"),
    [
        (Dist(dist="exponential", mean=2.0), 2.0, 4.0),
        (Dist(dist="lognormal", mean=3.0, cv=0.5), 3.0, 2.25),
        (Dist(dist="uniform", low=1.0, high=4.0), 2.5, 0.75),
        (Dist(dist="triangular", low=1.0, mode=2.0, high=6.0), 3.0, (1 + 36 + 4 - 6 - 2 - 12) / 18),
        (Dist(dist="empirical", values=[1.0, 3.0]), 2.0, 1.0),
    ],
)
def test_analytic_moments(dist, expected, variance):
    assert dist.expected == pytest.approx(expected)
    assert dist.variance == pytest.approx(variance)
