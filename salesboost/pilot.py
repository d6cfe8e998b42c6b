"""Pilots: a policy tried in some regions from a start date, the other regions as controls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError
from salesboost.incentive import IncentiveConfig
from salesboost.outreach import OutreachConfig
from salesboost.pipeline import PipelineConfig


@dataclass(kw_only=True)
class PilotConfig:
    """A policy tried in some regions from a start date, the others as controls.

    The policy is a lead-level effect, a pipeline variant, or both. The effect is the world's
    own lever: a relative lift of P(qualified) and of P(quote accepted) for leads that arrive
    in a pilot region on or after ``start``, so the simulation knows the true effect a pilot
    tries to measure. ``pipeline`` (e.g. ``+pipeline@pilot.pipeline=optimised``) is the
    pipeline those same leads run through: a cohort rule, a lead keeps the pipeline it arrived
    under (docs/pilots.md says which resources the two pipelines share). ``incentive`` (e.g.
    ``+incentive@pilot.incentive=scorecard``) is the scheme the pilot regions' seats are paid by
    from the first month on or after ``start`` that begins a settlement period of both schemes.
    ``outreach`` (e.g. ``+outreach@pilot.outreach=...``) is the marketing strategy for the pilot
    regions' accounts from the first panel period that starts on or after ``start``.
    """

    regions: list[str] = field(default_factory=list)  # empty: no pilot
    start: str | None = None  # ISO date
    qualify_lift: float = 0.0
    accept_lift: float = 0.0
    pipeline: PipelineConfig | None = None  # None: the pilot regions keep the scenario's pipeline
    incentive: IncentiveConfig | None = None  # None: the pilot regions' reps keep the scenario's scheme
    outreach: OutreachConfig | None = None  # None: the pilot regions' accounts keep the scenario's strategy

    def __post_init__(self) -> None:
        if self.start is not None:
            checks.iso_date("start", self.start)
        if self.regions and self.start is None:
            raise ConfigError("start", "a pilot in some regions needs a start date (YYYY-MM-DD)")
        if self.pipeline is not None and not self.regions:
            raise ConfigError("pipeline", "a pilot pipeline needs pilot regions (pilot.regions=[...]) and a start")
        if self.incentive is not None and not self.regions:
            raise ConfigError("incentive", "a pilot scheme needs pilot regions (pilot.regions=[...]) and a start")
        if self.outreach is not None and not self.regions:
            raise ConfigError("outreach", "a pilot strategy needs pilot regions (pilot.regions=[...]) and a start")
        if self.incentive is not None and not self.incentive.active:
            raise ConfigError("incentive", "a pilot scheme must pay for something (not none)")
        for key in ("qualify_lift", "accept_lift"):
            if not getattr(self, key) > -1.0:
                raise ConfigError(key, f"a relative lift must be > -1 (got {getattr(self, key):g})")
        if len(set(self.regions)) != len(self.regions):
            raise ConfigError("regions", "names a region twice")

    @property
    def active(self) -> bool:
        """Whether some regions run the pilot (a lift or a pipeline of their own)."""
        changes = self.qualify_lift != 0.0 or self.accept_lift != 0.0
        changes = changes or any(policy is not None for policy in (self.pipeline, self.incentive, self.outreach))
        return bool(self.regions) and changes

    def start_day(self, calendar_start: dt.date) -> int:
        """Days from ``calendar_start`` to the pilot's start (0 without a start)."""
        if self.start is None:
            return 0
        return (dt.date.fromisoformat(self.start) - calendar_start).days
