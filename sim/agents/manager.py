"""Managers: calendars with away days, duties that fill their day, and review windows.

A manager who is away is either out of reach (a day off in the calendar) or, with online
approval, travelling and answering on mobile (a working day without duties). Each office
day the manager plans ``duties_share`` of the day as blocks of duties; approvals,
escalations and countersignatures fit between the blocks (:mod:`sim.decisions.approvals`).
With a pilot pipeline, the managers keep the scenario's pipeline's calendar and serve the
pilot's requests in it (docs/pilots.md).
"""

from __future__ import annotations

import numpy as np

from sim.calendar import Calendar


def away_days(
    organisation: Calendar,
    *,
    away_prob: float,
    rng_away: np.random.Generator,
    rng_reachable: np.random.Generator,
    reachable_prob: float,
    days: int,
) -> tuple[frozenset[int], frozenset[int]]:
    """(days out of reach, days away but answering on mobile), from the manager's own streams.

    Both streams are drawn for every day whatever the policy, so the away days are the same
    in every variant.
    """
    away = rng_away.random(days) < away_prob
    reachable = rng_reachable.random(days) < reachable_prob
    out = frozenset(int(d) for d in (away & ~reachable).nonzero()[0] if organisation.is_workday(int(d)))
    mobile = frozenset(int(d) for d in (away & reachable).nonzero()[0] if organisation.is_workday(int(d)))
    return out, mobile
