"""Small validators shared by the config dataclasses; each raises ConfigError naming the field."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable

from salesboost.errors import ConfigError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def probability(key: str, value: float, *, below_one: bool = False) -> None:
    """Require ``0 <= value <= 1`` (or ``< 1`` with ``below_one``)."""
    upper_ok = value < 1 if below_one else value <= 1
    if not (math.isfinite(value) and value >= 0 and upper_ok):
        allowed = "[0, 1)" if below_one else "[0, 1]"
        raise ConfigError(key, f"must be a probability in {allowed} (got {value})")


def positive(key: str, value: float) -> None:
    """Require a finite ``value > 0``."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(key, f"must be > 0 (got {value})")


def non_negative(key: str, value: float) -> None:
    """Require a finite ``value >= 0``."""
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(key, f"must be >= 0 (got {value})")


def shares(key: str, values: dict[str, float]) -> None:
    """Require a non-empty mapping of non-negative shares that sum to 1."""
    if not values:
        raise ConfigError(key, "needs at least one entry")
    for name, value in values.items():
        non_negative(f"{key}.{name}", value)
    total = math.fsum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(key, f"shares must sum to 1 (got {total:g})")


def weights(key: str, values: Iterable[float], length: int) -> None:
    """Require ``length`` non-negative weights with a positive sum."""
    values = list(values)
    if len(values) != length:
        raise ConfigError(key, f"needs exactly {length} weights (got {len(values)})")
    for i, value in enumerate(values):
        non_negative(f"{key}[{i}]", value)
    if math.fsum(values) <= 0:
        raise ConfigError(key, "weights must not all be zero")


def clock_time(key: str, text: str) -> float:
    """Parse ``"HH:MM"`` (00:00 to 24:00) into hours after midnight."""
    try:
        hours, minutes = text.split(":")
        value = int(hours) + int(minutes) / 60
        ok = len(minutes) == 2 and 0 <= int(minutes) < 60 and 0 <= value <= 24
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(key, f"expected a time of day 'HH:MM' between 00:00 and 24:00 (got {text!r})")
    return value


def clock_times(key: str, texts: list[str]) -> tuple[float, ...]:
    """Parse a non-empty list of ``"HH:MM"`` into sorted, distinct hours (before 24:00)."""
    if not texts:
        raise ConfigError(key, "needs at least one time of day 'HH:MM'")
    times = sorted({clock_time(f"{key}[{i}]", t) for i, t in enumerate(texts)})
    if times[-1] >= 24:
        raise ConfigError(key, "times of day must be before 24:00")
    return tuple(times)


def intervals(key: str, texts: list[str]) -> tuple[tuple[float, float], ...]:
    """Parse ``["09:00-12:00", ...]`` into ascending, non-overlapping ``(start, end)`` hours."""
    if not texts:
        raise ConfigError(key, "needs at least one working interval 'HH:MM-HH:MM'")
    parsed = []
    for i, text in enumerate(texts):
        parts = text.split("-")
        if len(parts) != 2:
            raise ConfigError(f"{key}[{i}]", f"expected 'HH:MM-HH:MM' (got {text!r})")
        start, end = (clock_time(f"{key}[{i}]", p.strip()) for p in parts)
        if end <= start:
            raise ConfigError(f"{key}[{i}]", f"interval must end after it starts (got {text!r})")
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in itertools.pairwise(parsed):
        if start < end:
            raise ConfigError(key, "working intervals must not overlap")
    return tuple(parsed)


def weekdays(key: str, names: list[str]) -> frozenset[int]:
    """Parse weekday names (``mon`` .. ``sun``) into indices, Monday = 0."""
    out = set()
    for i, name in enumerate(names):
        if name not in WEEKDAYS:
            raise ConfigError(f"{key}[{i}]", f"unknown weekday {name!r}; allowed: {', '.join(WEEKDAYS)}")
        out.add(WEEKDAYS.index(name))
    return frozenset(out)


def iso_date(key: str, text: str) -> dt.date:
    """Parse an ISO date ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(key, f"expected an ISO date 'YYYY-MM-DD' (got {text!r})") from None


def one_of(key: str, value: str, allowed: Iterable[str]) -> None:
    """Require ``value`` to be one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(key, f"unknown value {value!r}; allowed: {', '.join(allowed)}")
