"""When to stop adding replications: a sequential rule on the confidence interval's half-width.

After ``n`` replications with sample standard deviation ``s``, the 95% half-width is
``t(n-1) * s / sqrt(n)``. If it is above the target ``h``, the rule asks for enough
replications to reach it on the current estimate: the smallest ``n'`` with
``t(n'-1) * s / sqrt(n') <= h``, within the minimum and maximum. The decision depends only
on the values, so it is the same whatever order the replications finished in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.stats import t_quantile


@dataclass(frozen=True)
class StoppingDecision:
    """What to do after looking at ``n`` replications."""

    n: int
    half_width: float
    target: float
    reached: bool  # the interval is narrow enough
    next_n: int  # replications wanted in total; == n means stop

    @property
    def stop(self) -> bool:
        """No more replications."""
        return self.next_n <= self.n


def decide(
    values: Sequence[float],
    *,
    half_width: float,
    relative: bool = False,
    min_n: int = 5,
    max_n: int = 50,
    confidence: float = 0.95,
) -> StoppingDecision:
    """Whether ``values`` (one per replication, in replication order) pin the mean down enough.

    With ``relative``, the target is ``half_width * |mean|``. Non-finite values count as
    missing; if too few finite values remain, more replications are asked for.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    finite = x[np.isfinite(x)]
    if finite.size < 2:
        return StoppingDecision(n, math.inf, half_width, False, n if n >= max_n else min(max_n, max(min_n, n + 2)))
    sd = float(finite.std(ddof=1))
    achieved = t_quantile(finite.size, confidence) * sd / math.sqrt(finite.size)
    target = half_width * abs(float(finite.mean())) if relative else half_width
    if n >= min_n and achieved <= target:
        return StoppingDecision(n, achieved, target, True, n)
    if n >= max_n:
        return StoppingDecision(n, achieved, target, False, n)
    next_n = min(max_n, max(min_n, _needed(sd, target, confidence, max_n), n + 1))
    return StoppingDecision(n, achieved, target, False, next_n)


def _needed(sd: float, target: float, confidence: float, cap: int) -> int:
    """Smallest n whose interval ``t(n-1) * sd / sqrt(n)`` reaches ``target`` on this sd (at most ``cap``)."""
    if target <= 0:
        return cap
    n = max(2, math.ceil((1.96 * sd / target) ** 2))  # the normal approximation is a lower bound
    while n < cap and t_quantile(n, confidence) * sd / math.sqrt(n) > target:
        n += 1
    return n
