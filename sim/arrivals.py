"""Lead arrivals: a non-homogeneous Poisson process, piecewise constant by hour of week.

Arrival ``i`` happens where the cumulative intensity reaches the sum of ``i`` unit
exponentials; the intensity is inverted for a chunk of arrivals at once with numpy. Each
arrival consumes one draw whatever the rates, so variants with the same market see
identical arrivals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from salesboost.market import MarketConfig
from sim.streams import CHUNK

HOURS_PER_WEEK = 168


def hourly_rates(market: MarketConfig) -> list[float]:
    """Arrival rate (leads per hour) for each hour of the week, Monday 00:00 first."""
    day_total = sum(market.weekday_weights)
    hour_total = sum(market.hour_weights)
    per_week = market.leads_per_week
    days, hours = market.weekday_weights, market.hour_weights
    return [per_week * (days[h // 24] / day_total) * (hours[h % 24] / hour_total) for h in range(HOURS_PER_WEEK)]


def arrival_times(
    rates: list[float], start_weekday: int, unit_exponentials: Callable[[int], np.ndarray]
) -> Iterator[float]:
    """Successive arrival instants (clock hours; clock 0 is 00:00 of a day with ``start_weekday``)."""
    rate = np.asarray(rates, dtype=float)
    cumulative = np.concatenate(([0.0], np.cumsum(rate)))  # at each hour boundary of the week
    per_week = cumulative[-1]
    offset = start_weekday * 24.0  # clock 0 in week time
    reached = float(np.interp(offset, np.arange(HOURS_PER_WEEK + 1), cumulative))  # intensity before clock 0
    while True:
        targets = reached + np.cumsum(unit_exponentials(CHUNK))
        reached = float(targets[-1])
        weeks = np.floor(targets / per_week)
        rest = targets - weeks * per_week
        # The last hour whose cumulative intensity is <= rest has a positive rate.
        hour = np.searchsorted(cumulative, rest, side="right") - 1
        hour = np.minimum(hour, HOURS_PER_WEEK - 1)
        week_time = weeks * HOURS_PER_WEEK + hour + (rest - cumulative[hour]) / rate[hour]
        yield from (week_time - offset).tolist()
