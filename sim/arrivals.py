"""Lead arrivals: a non-homogeneous Poisson process, piecewise constant by hour of week."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from salesboost.market import MarketConfig

HOURS_PER_WEEK = 168


def hourly_rates(market: MarketConfig) -> list[float]:
    """Arrival rate (leads per hour) for each hour of the week, Monday 00:00 first."""
    day_total = sum(market.weekday_weights)
    hour_total = sum(market.hour_weights)
    return [
        market.leads_per_week
        * (market.weekday_weights[h // 24] / day_total)
        * (market.hour_weights[h % 24] / hour_total)
        for h in range(HOURS_PER_WEEK)
    ]


def arrival_times(rates: list[float], start_weekday: int, unit_exponential: Callable[[], float]) -> Iterator[float]:
    """Successive arrival instants (clock hours) by inverting the cumulative intensity.

    Each arrival consumes one unit-exponential draw, so the number of draws does not depend
    on the rates: variants with the same market see identical arrivals.
    """
    offset = start_weekday * 24
    t = 0.0
    while True:
        need = unit_exponential()
        while True:
            hour = int(t)
            rate = rates[(hour + offset) % HOURS_PER_WEEK]
            slot_end = hour + 1.0
            capacity = rate * (slot_end - t)
            if capacity > 0.0 and need <= capacity:
                t += need / rate
                break
            need -= capacity
            t = slot_end
        yield t
