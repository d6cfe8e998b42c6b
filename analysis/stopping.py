"""When to stop adding replications: a sequential rule on the confidence interval's half-width.

After ``n`` replications with sample standard deviation ``s``, the 95% half-width is
``t(n-1) * s / sqrt(n)``. If it is above the target ``h``, the rule asks for enough
replications to reach it on the current estimate, ``n' = ceil((t * s / h) ** 2)``, within
the minimum and maximum. The decision depends only on the values, so it is the same
whatever order the replications finished in.
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
    t = t_quantile(finite.size, confidence)
    achieved = t * sd / math.sqrt(finite.size)
    target = half_width * abs(float(finite.mean())) if relative else half_width
    if n >= min_n and achieved <= target:
        return StoppingDecision(n, achieved, target, True, n)
    if n >= max_n:
        return StoppingDecision(n, achieved, target, False, n)
    wanted = math.ceil((t * sd / target) ** 2) if target > 0 else max_n
    next_n = min(max_n, max(min_n, wanted, n + 1))
    return StoppingDecision(n, achieved, target, False, next_n)
