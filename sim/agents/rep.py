"""Reps: calendars with meetings and absences, a persistent ability, and the day's own work.

Each rep's calendar is the organisation's minus the daily internal meetings and minus the
rep's days off (sick days at random, leave in blocks), all drawn from the rep's own streams,
so a rep has the same days off and the same ability in every variant. Each working morning
the rep plans the admin, training and account service work of the day as tasks; the work
policy fits them in with the pipeline work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from salesboost.team import RepTimeConfig
from sim.calendar import Calendar, Intervals
from sim.streams import Streams


class RepState:
    """What a rep is and has done: ability, tenure and ramp (filled in by the incentive model), period-to-date KPIs."""

    __slots__ = (
        "ability",
        "accounts",
        "days_off",
        "gain",
        "hired",
        "owned",
        "period",
        "prices",
        "ptd_contacts",
        "ptd_revenue",
        "ptd_wins",
        "ramp",
        "slot",
        "tenure_days",
        "timing",
        "vacant",
        "vacant_days",
    )

    def __init__(self, ability: float, days_off: frozenset[int]) -> None:
        self.ability = ability
        self.days_off = days_off
        self.tenure_days = 365.0
        self.ramp = 1.0  # share of full productivity (new hires ramp up; the staffing desk sets it)
        self.gain = 0.0  # rise of log productivity from training, decaying (the staffing desk)
        self.hired = -3 * 365.0 * 24.0  # clock hour the person in this seat started (an incumbent: 3 years ago)
        self.vacant = False  # the seat is empty (the rep left, nobody hired yet)
        self.vacant_days: set[int] = set()  # days the seat was empty (not available time)
        self.accounts = 0  # accounts owned
        self.owned: list[Any] = []  # the accounts themselves (the scheme's account metrics and development calls)
        self.prices: Any = (
            None  # what the rep's scheme pays at the margin (sim.decisions.effort.Prices); None: no scheme
        )
        self.timing: str | None = None  # the timing game the rep plays now: "pull", "push" or None
        self.slot = 0  # index in the world's reps
        self.period = -1
        self.ptd_contacts = 0  # period-to-date KPIs (the month so far), reset when a month starts
        self.ptd_wins = 0
        self.ptd_revenue = 0.0

    def start_period(self, period: int) -> None:
        """A new month ``period`` starts: the period-to-date KPIs start from zero."""
        if period != self.period:
            self.period = period
            self.ptd_contacts = self.ptd_wins = 0
            self.ptd_revenue = 0.0


def rep_state(worker: Any) -> RepState:
    """The :class:`RepState` of a rep's worker (its ``state``)."""
    state = worker.state
    assert isinstance(state, RepState)
    return state


def subtract(intervals: Intervals, blocks: Intervals) -> Intervals:
    """``intervals`` with every block taken out."""
    out = list(intervals)
    for b0, b1 in blocks:
        cut: list[tuple[float, float]] = []
        for a0, a1 in out:
            if b1 <= a0 or b0 >= a1:
                cut.append((a0, a1))
                continue
            if a0 < b0:
                cut.append((a0, b0))
            if b1 < a1:
                cut.append((b1, a1))
        out = cut
    return tuple(out)


def days_off(
    config: RepTimeConfig,
    organisation: Calendar,
    rng_sick: np.random.Generator,
    rng_leave: np.random.Generator,
    days: int,
) -> frozenset[int]:
    """Working days a rep is away: sick days at random and leave in blocks of working days."""
    workdays = [d for d in range(days) if organisation.is_workday(d)]
    if not workdays:
        return frozenset()
    per_year = max(1.0, len(workdays) * 365.25 / days)
    sick_prob = min(1.0, config.sick_days_per_year / per_year)
    off = {d for d, u in zip(workdays, rng_sick.random(len(workdays)).tolist(), strict=True) if u < sick_prob}
    blocks_per_day = config.leave_days_per_year / config.leave_block_days / per_year
    starts = rng_leave.random(len(workdays)).tolist()
    for i, u in enumerate(starts):
        if u < blocks_per_day:
            off.update(workdays[i : i + config.leave_block_days])
    return frozenset(off)


def ability(cv: float, rng: np.random.Generator) -> float:
    """A persistent productivity multiplier with mean 1 and the given spread (lognormal)."""
    if cv <= 0:
        return 1.0
    sigma = math.sqrt(math.log1p(cv * cv))
    return float(rng.lognormal(-sigma * sigma / 2, sigma))


def meeting_hours(config: RepTimeConfig) -> float:
    """Hours of internal meetings on a working day."""
    return sum(b - a for a, b in config.meeting_intervals)


def rep_streams(
    streams: Streams, name: str
) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator, np.random.Generator]:
    """A rep's own streams: ability, sick days, leave, daily work."""
    return (
        streams.generator(f"rep.{name}.ability"),
        streams.generator(f"rep.{name}.sick"),
        streams.generator(f"rep.{name}.leave"),
        streams.generator(f"rep.{name}.daily"),
    )
