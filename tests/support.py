"""Shared helpers for the unit, theory, property and regression tests.

Scenarios are composed from ``conf/`` (the same path users take) and then edited as plain
dicts, because Hydra merges dict overrides given on the command line instead of replacing them.
Reference formulas for the theory tests live here with their sources.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from scipy import stats

from experiments.compose import compose_config, scenario_sections
from salesboost import Scenario

HOURS_PER_WEEK = 168.0


@cache
def _sections(overrides: tuple[str, ...]) -> dict[str, Any]:
    return scenario_sections(compose_config(list(overrides)))


def sections(*overrides: str) -> dict[str, Any]:
    """The scenario sections of ``conf/config.yaml`` composed with ``overrides``, as a fresh plain dict."""
    return copy.deepcopy(_sections(tuple(overrides)))


def apply_tweaks(data: dict[str, Any], tweaks: dict[str, Any]) -> dict[str, Any]:
    """Set nested values in ``data``: ``market__leads_per_week=100`` sets ``data["market"]["leads_per_week"]``."""
    for key, value in tweaks.items():
        *parents, leaf = key.split("__")
        node = data
        for part in parents:
            node = node[part]
        node[leaf] = value
    return data


def small_scenario(
    pipeline: str = "legacy",
    days: float = 42.0,
    warmup_days: float = 7.0,
    drain_days: float = 30.0,
    calendar: str = "business_week",
    **tweaks: Any,
) -> Scenario:
    """A default scenario of ``pipeline`` with a short horizon; ``tweaks`` use ``section__key=value``."""
    data = sections(f"pipeline={pipeline}", f"calendar={calendar}")
    data["horizon"] = {"days": days, "warmup_days": warmup_days, "drain_days": drain_days}
    return Scenario.from_dict(apply_tweaks(data, tweaks))


def mmc_sections(
    servers: int,
    arrival_rate: float,
    service_mean: float,
    days: float,
    warmup_days: float,
    *,
    drain_days: float = 3.0,
) -> dict[str, Any]:
    """Plain sections of an M/M/c queue at first contact (see :func:`mmc_scenario`)."""
    data = sections("pipeline=optimised", "calendar=always_open")
    market = data["market"]
    market["leads_per_week"] = arrival_rate * HOURS_PER_WEEK
    market["weekday_weights"] = [1.0] * 7
    market["hour_weights"] = [1.0] * 24
    market["regions"] = {"north": 1.0}
    market["channels"] = {"web": {"share": 1.0, "qualify_prob": 0.0}}
    team = data["team"]
    team["reps"] = {"north": servers}
    team["rep_time"].update(
        meetings=[],
        admin_hours_per_day=0.0,
        training_hours_per_week=0.0,
        sick_days_per_year=0.0,
        leave_days_per_year=0.0,
        ability_cv=0.0,
    )
    team["work_policy"] = {"kind": "fifo"}
    data["accounts"]["initial"] = 0
    data["behaviour"]["contact_prob"] = 1.0
    pipeline = data["pipeline"]
    pipeline["assignment"] = {"policy": "immediate", "rule": "pooled"}
    pipeline["followup"]["contact_hours"] = {"dist": "exponential", "mean": service_mean}
    pipeline["followup"]["max_attempts"] = 1
    data["horizon"] = {"days": days, "warmup_days": warmup_days, "drain_days": drain_days}
    return data


def mmc_scenario(*args: Any, **kwargs: Any) -> Scenario:
    """An M/M/c queue: Poisson leads (``arrival_rate`` per hour) served by ``servers`` reps.

    One region, a 24/7 calendar and flat weekday/hour weights make arrivals homogeneous
    Poisson; CRM assignment to the region's pool (any free rep takes the next lead) makes
    the reps one FIFO queue; the rep agents do nothing else (no meetings, admin, training,
    absences or accounts; ability 1); the first call always reaches the lead and takes an
    exponential time of mean ``service_mean`` hours; qualification probability 0 ends every
    lead after its first contact. ``first_response_hours_mean`` is then the mean wait in
    queue, Wq. Takes the arguments of :func:`mmc_sections`.
    """
    return Scenario.from_dict(mmc_sections(*args, **kwargs))


def erlang_c_probability(offered_load: float, servers: int) -> float:
    """Erlang C: P(an arrival waits) in M/M/c with offered load ``a = lambda / mu < c``.

    ``C(c, a) = (a^c / c!) * c / (c - a) / (sum_{k=0}^{c-1} a^k / k! + (a^c / c!) * c / (c - a))``
    (Gross, Shortle, Thompson and Harris, *Fundamentals of Queueing Theory*, 4th ed., Wiley
    2008, section 2.3, the M/M/c queue).
    """
    a, c = offered_load, servers
    if not 0 <= a < c:
        raise ValueError(f"needs 0 <= a < c for a stable queue (got a={a}, c={c})")
    tail = a**c / math.factorial(c) * c / (c - a)
    head = math.fsum(a**k / math.factorial(k) for k in range(c))
    return tail / (head + tail)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c: ``Wq = C(c, lambda / mu) / (c * mu - lambda)``.

    Same source as :func:`erlang_c_probability` (Gross et al., section 2.3). For ``c = 1``
    it reduces to the M/M/1 result ``Wq = rho / (mu - lambda)`` with ``rho = lambda / mu``.
    """
    return erlang_c_probability(lam / mu, c) / (c * mu - lam)


def mm1_wait(lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/1: ``Wq = rho / (mu - lambda)`` (Gross et al., section 2.2)."""
    rho = lam / mu
    if not 0 <= rho < 1:
        raise ValueError(f"needs rho < 1 (got {rho})")
    return rho / (mu - lam)


def cobham_waits(rates: Sequence[float], means: Sequence[float], second_moments: Sequence[float]) -> list[float]:
    """Mean wait in queue per class of the non-preemptive priority M/G/1 queue, class 0 served first.

    ``W_k = W0 / ((1 - s_{k-1}) (1 - s_k))`` with ``s_k = sum_{i<=k} lambda_i E[S_i]`` and
    ``W0 = sum_i lambda_i E[S_i^2] / 2``, the mean residual work found by an arrival (Cobham,
    "Priority assignment in waiting line problems", Operations Research 2(1), 1954; Kleinrock,
    *Queueing Systems* vol. 2, Wiley 1976, section 3.6). Needs ``sum_i lambda_i E[S_i] < 1``.
    """
    loads = [lam * m for lam, m in zip(rates, means, strict=True)]
    if sum(loads) >= 1:
        raise ValueError(f"needs a total load below 1 (got {sum(loads)})")
    w0 = math.fsum(lam * m2 for lam, m2 in zip(rates, second_moments, strict=True)) / 2
    waits = []
    before = 0.0
    for load in loads:
        waits.append(w0 / ((1 - before) * (1 - before - load)))
        before += load
    return waits


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Sample mean and the two-sided Student-t ``level`` confidence interval ``(mean, low, high)``."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        raise ValueError("needs at least two values")
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half
