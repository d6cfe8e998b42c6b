"""Replication statistics: means with t confidence intervals, paired and unpaired comparisons.

Replications are independent, so a variant's mean over replications has a Student-t
interval. Variants of one experiment share random numbers replication by replication
(common random numbers), so the difference to the baseline is estimated from paired
differences; the relative uplift ``mean(variant) / mean(baseline) - 1`` gets a
delta-method interval from the same pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri, stdtrit


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and confidence interval."""

    n: int
    value: float
    sd: float  # standard deviation of the underlying values (per replication or per pair)
    se: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        """Half the width of the confidence interval."""
        return (self.ci_high - self.ci_low) / 2


_NAN = Estimate(0, math.nan, math.nan, math.nan, math.nan, math.nan)


def t_quantile(n: int, confidence: float) -> float:
    """Two-sided Student-t quantile for ``n`` observations."""
    return float(stdtrit(n - 1, 0.5 + confidence / 2))


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean of ``values`` (NaNs dropped) with a t confidence interval."""
    x = _finite(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return _NAN
    mean = float(x.mean())
    if n == 1:
        return Estimate(1, mean, math.nan, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    se = sd / math.sqrt(n)
    h = t_quantile(n, confidence) * se
    return Estimate(n, mean, sd, se, mean - h, mean + h)


def paired_difference(variant: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean of ``variant[i] - baseline[i]`` over pairs where both are finite."""
    v, b = _pairs(variant, baseline)
    return mean_interval(v - b, confidence)


def paired_uplift(variant: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Relative uplift ``mean(v) / mean(b) - 1`` from paired replications (delta method).

    The ratio's standard error is that of the residuals ``(v - b) - r * b`` divided by
    ``mean(b)``: the linearisation of a ratio of means, using the pairing.
    """
    v, b = _pairs(variant, baseline)
    n = v.size
    base = float(b.mean()) if n else math.nan
    if n < 2 or base == 0 or not math.isfinite(base):
        return _NAN
    d = v - b
    ratio = float(d.mean()) / base
    residual = d - ratio * b
    sd = float(residual.std(ddof=1)) / abs(base)
    se = sd / math.sqrt(n)
    h = t_quantile(n, confidence) * se
    return Estimate(n, ratio, sd, se, ratio - h, ratio + h)


def welch_difference(variant: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Difference of means of two independent samples, with Welch's interval."""
    v = _finite(np.asarray(variant, dtype=float))
    b = _finite(np.asarray(baseline, dtype=float))
    if v.size < 2 or b.size < 2:
        return _NAN
    var_v, var_b = v.var(ddof=1) / v.size, b.var(ddof=1) / b.size
    se = math.sqrt(var_v + var_b)
    diff = float(v.mean() - b.mean())
    if se == 0:
        return Estimate(min(v.size, b.size), diff, 0.0, 0.0, diff, diff)
    dof = (var_v + var_b) ** 2 / (var_v**2 / (v.size - 1) + var_b**2 / (b.size - 1))
    h = float(stdtrit(dof, 0.5 + confidence / 2)) * se
    return Estimate(min(v.size, b.size), diff, math.nan, se, diff - h, diff + h)


def spread(values: Sequence[float]) -> float:
    """The range spanned by the finite ``values`` (0 with fewer than two).

    A sensitivity swing: the spread of a parameter's low, configured and high means, so a
    parameter whose two ends both lie on one side of the configured mean still swings, and
    an end that did not run (NaN) leaves the swing to the ends that did.
    """
    finite = [float(v) for v in values if math.isfinite(v)]
    return max(finite) - min(finite) if len(finite) > 1 else 0.0


def _finite(x: np.ndarray) -> np.ndarray:
    return x[np.isfinite(x)]


def _pairs(variant: Sequence[float], baseline: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(variant, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if v.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths (got {v.size} and {b.size})")
    keep = np.isfinite(v) & np.isfinite(b)
    return v[keep], b[keep]


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (NaNs when ``n`` is 0).

    Written out (four lines) rather than importing statsmodels for it: scipy is already here.
    """
    if n <= 0:
        return math.nan, math.nan
    z = float(ndtri(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
