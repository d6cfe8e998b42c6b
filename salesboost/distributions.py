"""Named distributions for durations and values, validated on construction.

A :class:`Dist` is plain data (so Hydra can type-check it); ``sim`` turns it into a sampler.
Every family is parametrised by quantities people can state: a mean and a coefficient of
variation (cv = sd / mean), or bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from salesboost.errors import ConfigError

#: Families and the parameters each one needs.
DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "exponential": ("mean",),
    "lognormal": ("mean", "cv"),
    "gamma": ("mean", "cv"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "fixed": ("mean",),
    "empirical": ("values",),
}


@dataclass(kw_only=True)
class Dist:
    """A non-negative distribution, e.g. ``Dist(dist="lognormal", mean=3.0, cv=0.5)``.

    ``fixed`` always returns ``mean``; ``empirical`` resamples ``values`` with equal weights.
    """

    dist: str
    mean: float | None = None
    cv: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    values: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.dist not in DIST_PARAMS:
            raise ConfigError("dist", f"unknown distribution {self.dist!r}; allowed: {', '.join(DIST_PARAMS)}")
        needed = DIST_PARAMS[self.dist]
        for name in ("mean", "cv", "low", "mode", "high"):
            value = getattr(self, name)
            if name in needed:
                if value is None:
                    raise ConfigError(name, f"required for a {self.dist} distribution")
                if not math.isfinite(value):
                    raise ConfigError(name, f"must be a finite number (got {value})")
            elif value is not None:
                raise ConfigError(name, f"not used by a {self.dist} distribution; it takes {', '.join(needed)}")
        if self.values and self.dist != "empirical":
            raise ConfigError("values", f"only used by an empirical distribution, not {self.dist}")
        self._check_ranges()

    def _check_ranges(self) -> None:
        kind = self.dist
        if kind in ("exponential", "lognormal", "gamma") and not (self.mean and self.mean > 0):
            raise ConfigError("mean", f"must be > 0 (got {self.mean})")
        if kind == "fixed" and self.mean is not None and self.mean < 0:
            raise ConfigError("mean", f"must be >= 0 (got {self.mean})")
        if kind in ("lognormal", "gamma") and not (self.cv and self.cv > 0):
            raise ConfigError("cv", f"must be > 0 (got {self.cv})")
        if kind in ("uniform", "triangular"):
            low, high = self.low, self.high
            assert low is not None
            assert high is not None
            if low < 0:
                raise ConfigError("low", f"must be >= 0 (got {low})")
            if high <= low:
                raise ConfigError("high", f"must be > low ({low}) (got {high})")
            if kind == "triangular" and not (low <= (self.mode or 0.0) <= high):
                raise ConfigError("mode", f"must lie in [low, high] = [{low}, {high}] (got {self.mode})")
        if kind == "empirical":
            if not self.values:
                raise ConfigError("values", "an empirical distribution needs at least one value")
            bad = [v for v in self.values if not (math.isfinite(v) and v >= 0)]
            if bad:
                raise ConfigError("values", f"must all be finite and >= 0 (got {bad[0]})")

    @property
    def expected(self) -> float:
        """The distribution's mean."""
        if self.dist in ("exponential", "lognormal", "gamma", "fixed"):
            return float(self.mean or 0.0)
        if self.dist == "uniform":
            return (float(self.low or 0.0) + float(self.high or 0.0)) / 2
        if self.dist == "triangular":
            return (float(self.low or 0.0) + float(self.mode or 0.0) + float(self.high or 0.0)) / 3
        return math.fsum(self.values) / len(self.values)

    @property
    def variance(self) -> float:
        """The distribution's variance."""
        mean = self.expected
        if self.dist == "exponential":
            return mean * mean
        if self.dist in ("lognormal", "gamma"):
            return (mean * float(self.cv or 0.0)) ** 2
        if self.dist == "fixed":
            return 0.0
        if self.dist == "uniform":
            return (float(self.high or 0.0) - float(self.low or 0.0)) ** 2 / 12
        if self.dist == "triangular":
            a, c, b = float(self.low or 0.0), float(self.mode or 0.0), float(self.high or 0.0)
            return (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return math.fsum((v - mean) ** 2 for v in self.values) / len(self.values)
