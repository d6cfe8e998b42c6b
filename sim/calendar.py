"""Working calendars: map the clock (hours since 00:00 of the start date) to working time.

A calendar answers three questions fast, because stages ask them for every lead:
the next working instant, when a given amount of work ends, and how many working hours
lie between two instants. Durations stated as work time go through a calendar; elapsed
durations do not. A day's working intervals are the weekly ones shifted to it, or none; only
whether a day is a working day is kept, one byte per day.
"""

from __future__ import annotations

from collections.abc import Iterable

from salesboost.calendar import CalendarConfig

HOURS_PER_DAY = 24.0
_NONE: tuple[tuple[float, float], ...] = ()

Intervals = tuple[tuple[float, float], ...]


class Calendar:
    """Weekly working intervals with holidays and extra working days.

    ``intervals`` are ``(start, end)`` hours after midnight of each working day;
    ``holidays`` and ``extra_workdays`` are clock day numbers (day 0 holds clock 0).
    """

    __slots__ = (
        "_always",
        "_day_hours",
        "_extra",
        "_flags",
        "_holidays",
        "_intervals",
        "_start_weekday",
        "_workdays",
    )

    def __init__(
        self,
        *,
        start_weekday: int,
        workdays: Iterable[int],
        intervals: Iterable[tuple[float, float]],
        holidays: Iterable[int] = (),
        extra_workdays: Iterable[int] = (),
    ) -> None:
        self._start_weekday = start_weekday
        self._workdays = frozenset(workdays)
        self._intervals: Intervals = tuple(sorted(intervals))
        self._holidays = frozenset(holidays)
        self._extra = frozenset(extra_workdays)
        # A weekday with work guarantees that every search below ends.
        if not self._intervals or not self._workdays:
            raise ValueError("a calendar needs at least one working weekday and one working interval")
        self._always = len(self._workdays) == 7 and not self._holidays and self._intervals == ((0.0, HOURS_PER_DAY),)
        self._day_hours = sum(b - a for a, b in self._intervals)
        # is_workday per clock day, filled in as the clock reaches a day: the hot searches below
        # index it instead of calling is_workday (one byte per day, so memory stays small).
        self._flags = bytearray()

    @classmethod
    def always_open(cls) -> Calendar:
        """A 24/7 calendar: working time equals elapsed time."""
        return cls(start_weekday=0, workdays=range(7), intervals=[(0.0, HOURS_PER_DAY)])

    @classmethod
    def from_config(
        cls,
        config: CalendarConfig,
        *,
        intervals: Iterable[tuple[float, float]] | None = None,
        extra_holidays: Iterable[int] = (),
    ) -> Calendar:
        """The calendar of ``config``, optionally with other hours or added days off.

        An added day off (a person's sick day or leave) wins over the organisation's make-up
        working days: whoever is away on a make-up day does not work it.
        """
        days_off = frozenset(extra_holidays)
        return cls(
            start_weekday=config.start().weekday(),
            workdays=config.weekday_set(),
            intervals=config.intervals() if intervals is None else intervals,
            holidays=config.day_indices(config.holidays) | days_off,
            extra_workdays=config.day_indices(config.extra_workdays) - days_off,
        )

    def is_workday(self, day: int) -> bool:
        """Whether clock day ``day`` has working hours."""
        if day in self._extra:
            return True
        return (self._start_weekday + day) % 7 in self._workdays and day not in self._holidays

    def _workday(self, day: int) -> bool:
        """``is_workday(day)``, extending the flags to a week past ``day`` (days before clock 0 are not kept)."""
        if day < 0:
            return self.is_workday(day)
        flags = self._flags
        flags.extend(self.is_workday(d) for d in range(len(flags), day + 8))
        return bool(flags[day])

    def day_intervals(self, day: int) -> Intervals:
        """Working intervals of clock day ``day``, in hours after its midnight."""
        return self._intervals if self.is_workday(day) else _NONE

    def is_working(self, t: float) -> bool:
        """Whether instant ``t`` lies inside working time."""
        day = int(t // HOURS_PER_DAY)
        if not self.is_workday(day):
            return False
        hour = t - day * HOURS_PER_DAY
        return any(a <= hour < b for a, b in self._intervals)

    def next_working_instant(self, t: float) -> float:
        """The first instant at or after ``t`` that is working time."""
        if self._always:
            return t
        day = int(t // HOURS_PER_DAY)
        intervals = self._intervals
        flags = self._flags
        while True:
            if flags[day] if 0 <= day < len(flags) else self._workday(day):
                base = day * HOURS_PER_DAY
                for start, stop in intervals:
                    if t < base + stop:
                        a = base + start
                        return t if t > a else a
            day += 1

    def add_working_time(self, t: float, work: float) -> float:
        """The instant at which ``work`` working hours, started at ``t`` or later, are done."""
        if self._always:
            return t + work
        day = int(t // HOURS_PER_DAY)
        intervals = self._intervals
        flags = self._flags
        while True:
            if flags[day] if 0 <= day < len(flags) else self._workday(day):
                base = day * HOURS_PER_DAY
                for start, stop in intervals:
                    b = base + stop
                    if t < b:
                        a = base + start
                        t = max(t, a)
                        if work <= b - t:
                            return t + work
                        work -= b - t
                        t = b
            day += 1

    def working_hours_between(self, t0: float, t1: float) -> float:
        """Working hours in ``[t0, t1]`` (0 if ``t1 <= t0``)."""
        if t1 <= t0:
            return 0.0
        if self._always:
            return t1 - t0
        first, last = int(t0 // HOURS_PER_DAY), int(t1 // HOURS_PER_DAY)
        total = 0.0
        for day in range(first, last + 1):
            if not self.is_workday(day):
                continue
            base = day * HOURS_PER_DAY
            if t0 <= base and base + HOURS_PER_DAY <= t1:
                total += self._day_hours
                continue
            for a, b in self._intervals:
                lo, hi = max(t0, base + a), min(t1, base + b)
                if hi > lo:
                    total += hi - lo
        return total

    def next_daily_instant(self, t: float, times: tuple[float, ...]) -> float:
        """The first instant at or after ``t`` at one of ``times`` (hours) on a working day."""
        day = int(t // HOURS_PER_DAY)
        while True:
            if self.is_workday(day):
                base = day * HOURS_PER_DAY
                for hour in times:
                    if base + hour >= t:
                        return base + hour
            day += 1
