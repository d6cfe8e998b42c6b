"""The regularised incomplete gamma function and the gamma quantile, in pure Python.

Written here rather than taken from scipy because the simulation path stays free of scipy
(tests/config/test_layers.py); the tests check both against ``scipy.special``. The series and
the continued fraction are the classical pair (Numerical Recipes, section 6.2): the series below
``x < a + 1``, Lentz's continued fraction above.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-14
_TINY = 1e-300
_MAX_TERMS = 10_000


def gamma_p(a: float, x: float) -> float:
    """P(a, x) = the CDF at ``x`` of a Gamma(a, 1) variable (a > 0, x >= 0)."""
    if not a > 0:
        raise ValueError(f"a: expected a shape > 0, got {a!r}")
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        k = a
        for _ in range(_MAX_TERMS):
            k += 1.0
            term *= x / k
            total += term
            if abs(term) < abs(total) * _EPS:
                return min(1.0, total * math.exp(log_front))
        raise ArithmeticError(f"gamma_p({a}, {x}): the series did not converge")
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            return max(0.0, 1.0 - math.exp(log_front) * h)
    raise ArithmeticError(f"gamma_p({a}, {x}): the continued fraction did not converge")


def gamma_quantile(a: float, u: float) -> float:
    """The ``u`` quantile of a Gamma(a, 1) variable: x with P(a, x) = u (0 < u < 1), by safeguarded Newton."""
    if not 0.0 < u < 1.0:
        raise ValueError(f"u: expected a probability strictly between 0 and 1, got {u!r}")
    # Start: Wilson-Hilferty for a >= 1; for small shapes the lower tail x ~ (u a Gamma(a))^(1/a).
    if a >= 1.0:
        z = NormalDist().inv_cdf(u)
        x = max(a * (1.0 - 1.0 / (9.0 * a) + z / (3.0 * math.sqrt(a))) ** 3, 1e-8)
    else:
        x = math.exp((math.log(u) + math.log(a) + math.lgamma(a)) / a)
        x = min(max(x, 1e-300), a + 10.0)
    low, high = 0.0, math.inf
    for _ in range(200):
        f = gamma_p(a, x) - u
        if f < 0:
            low = x
        else:
            high = x
        density = math.exp((a - 1.0) * math.log(x) - x - math.lgamma(a)) if x > 0 else 0.0
        step = f / density if density > 0 else math.inf
        candidate = x - step
        if not (low < candidate < high) or not math.isfinite(candidate):
            candidate = (low + high) / 2.0 if math.isfinite(high) else max(2.0 * x, x + 1.0)
        if abs(candidate - x) <= 1e-12 * max(1.0, x):
            return candidate
        x = candidate
    return x
