"""Domain rules as pure functions."""

from __future__ import annotations

import math

#: Upper bound on repeated rounds drawn by :func:`geometric_rounds`.
MAX_ROUNDS = 50


def speed_to_lead_multiplier(response_hours: float, t0_hours: float, beta: float, floor: float) -> float:
    """Multiplier on the qualification probability for a first response after ``response_hours``.

    ``1`` up to ``t0_hours``, then ``(t / t0) ** -beta``, never below ``floor``
    (docs/model.md, speed-to-lead).
    """
    if response_hours <= t0_hours:
        return 1.0
    return max(floor, (response_hours / t0_hours) ** -beta)


def survival(hazard_per_day: float, days: float) -> float:
    """P(a deal open for ``days`` is not lost) under a constant daily loss hazard."""
    return math.exp(-hazard_per_day * days)


def geometric_rounds(u: float, prob: float) -> int:
    """Number of repeats (0, 1, ...) when each round repeats with ``prob``, from one uniform ``u``.

    ``P(rounds >= k) = prob ** k``; the same ``u`` gives more rounds for a larger ``prob``,
    which keeps variants that differ only in ``prob`` paired.
    """
    if prob <= 0.0:
        return 0
    # u can be exactly 0 with probability 2**-53; the cap keeps that case finite.
    return min(int(math.log(max(u, 1e-300)) / math.log(prob)), MAX_ROUNDS)


def attempts_to_reach(u: float, contact_prob: float) -> int:
    """The call attempt (1, 2, ...) that first reaches a lead, from one uniform ``u``.

    Each attempt reaches the lead with ``contact_prob``; the same ``u`` needs more attempts
    for a smaller ``contact_prob``, which keeps variants paired.
    """
    if contact_prob >= 1.0:
        return 1
    return 1 + geometric_rounds(u, 1.0 - contact_prob)
