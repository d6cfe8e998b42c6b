"""Arrivals: non-homogeneous Poisson processes, one per source, by thinning.

Each channel's prospects arrive on their own stream, so a variant that changes one channel's
volume leaves the other channels' leads untouched. Thinning (Lewis and Shedler): candidates
come at the channel's peak rate and each is kept with probability rate(t) / peak. It needs
only the rate at an instant, which lets later models make rates depend on the simulated
world (marketing spend, market shocks) where the cumulative intensity is not known ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from salesboost.market import MarketConfig
from sim.calendar import HOURS_PER_DAY
from sim.streams import CHUNK

HOURS_PER_WEEK = 168


def hourly_rates(market: MarketConfig, share: float = 1.0) -> list[float]:
    """Arrival rate (leads per hour) for each hour of the week, Monday 00:00 first, x ``share``."""
    day_total = sum(market.weekday_weights)
    hour_total = sum(market.hour_weights)
    per_week = market.leads_per_week * share
    days, hours = market.weekday_weights, market.hour_weights
    return [per_week * (days[h // 24] / day_total) * (hours[h % 24] / hour_total) for h in range(HOURS_PER_WEEK)]


def thinned_arrivals(
    rates: list[float],
    start_weekday: int,
    unit_exponentials: Callable[[int], np.ndarray],
    uniforms: Callable[[int], np.ndarray],
) -> Iterator[float]:
    """Successive arrival instants (clock hours; clock 0 is 00:00 of a day with ``start_weekday``)."""
    rate = np.asarray(rates, dtype=float)
    peak = float(rate.max())
    if peak <= 0:
        return
    offset = start_weekday * HOURS_PER_DAY
    t = 0.0
    while True:
        candidates = t + np.cumsum(unit_exponentials(CHUNK)) / peak
        t = float(candidates[-1])
        hour = ((candidates + offset) % HOURS_PER_WEEK).astype(np.intp)
        kept = candidates[uniforms(CHUNK) * peak < rate[hour]]
        yield from kept.tolist()


def poisson_times(rate_per_hour: float, end: float, unit_exponentials: Callable[[int], np.ndarray]) -> list[float]:
    """Instants of a homogeneous Poisson process of ``rate_per_hour`` on ``[0, end)``."""
    if rate_per_hour <= 0:
        return []
    times: list[float] = []
    t = 0.0
    while True:
        for gap in unit_exponentials(64).tolist():
            t += gap / rate_per_hour
            if t >= end:
                return times
            times.append(t)
