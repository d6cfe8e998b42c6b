"""Working calendars as configuration: working days, hours of work, holidays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class CalendarConfig:
    """The organisation's working time; the simulation clock starts at 00:00 of ``start_date``."""

    start_date: str
    workdays: list[str]
    hours: list[str]
    holidays: list[str] = field(default_factory=list)
    extra_workdays: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start()
        if not self.workdays:
            raise ConfigError("workdays", "needs at least one working weekday (mon..sun)")
        checks.weekdays("workdays", self.workdays)
        checks.intervals("hours", self.hours)
        for name in ("holidays", "extra_workdays"):
            for i, text in enumerate(getattr(self, name)):
                checks.iso_date(f"{name}[{i}]", text)

    def start(self) -> dt.date:
        """The date of clock zero."""
        return checks.iso_date("start_date", self.start_date)

    def weekday_set(self) -> frozenset[int]:
        """Working weekdays, Monday = 0."""
        return checks.weekdays("workdays", self.workdays)

    def intervals(self) -> tuple[tuple[float, float], ...]:
        """Working intervals of a working day in hours after midnight."""
        return checks.intervals("hours", self.hours)

    def day_indices(self, dates: list[str]) -> frozenset[int]:
        """Clock day numbers (0 = ``start_date``) of ISO ``dates``."""
        start = self.start()
        return frozenset((dt.date.fromisoformat(d) - start).days for d in dates)
