"""Pilots: a policy tried in some regions from a start date, the other regions as controls."""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class PilotConfig:
    """A policy tried in some regions from a start date, the others as controls.

    The policy's effect is the world's own lever: a relative lift of P(qualified) and of
    P(quote accepted) for leads that arrive in a pilot region on or after ``start``, so the
    simulation knows the true effect a pilot tries to measure.
    """

    regions: list[str] = field(default_factory=list)  # empty: no pilot
    start: str | None = None  # ISO date
    qualify_lift: float = 0.0
    accept_lift: float = 0.0

    def __post_init__(self) -> None:
        if self.start is not None:
            checks.iso_date("start", self.start)
        if self.regions and self.start is None:
            raise ConfigError("start", "a pilot in some regions needs a start date (YYYY-MM-DD)")
        for key in ("qualify_lift", "accept_lift"):
            if not getattr(self, key) > -1.0:
                raise ConfigError(key, f"a relative lift must be > -1 (got {getattr(self, key):g})")
        if len(set(self.regions)) != len(self.regions):
            raise ConfigError("regions", "names a region twice")

    @property
    def active(self) -> bool:
        """Whether some regions run the pilot."""
        return bool(self.regions) and (self.qualify_lift != 0.0 or self.accept_lift != 0.0)
