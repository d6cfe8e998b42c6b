"""An entity's rows of draws by inversion: a fixed number of uniforms per row, whatever the distributions.

An account draws the values of each of its requests from its own generator. Drawing them
with numpy's samplers would let the number of raw numbers a value consumes depend on its
distribution (ziggurat and rejection methods), so a variant that changes one distribution
(manual quotes against templates) would shift every later value of the account and lose the
pairing between variants. Here every row consumes exactly one uniform per column, and each
column is a function of its own uniform only: its distribution's quantile function where
that has a closed form or a fast one in the standard library, else a draw of numpy's sampler
from a generator seeded by the uniform (gamma). A changed distribution changes its own column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

from salesboost.distributions import Dist
from sim.streams import numpy_parameters

#: ``value(u) -> float``: one column's value from its uniform on ``[0, 1)``.
Inverse = Callable[[float], float]

_TINY = 2.0**-53  # the smallest uniform above 0 (a normal quantile needs 0 < u < 1)
_SEED_SCALE = float(2**63)
_normal_quantile = NormalDist().inv_cdf


def inverse(dist: Dist) -> Inverse:
    """The function that turns a uniform into a value of ``dist`` (its quantile function where cheap)."""
    kind = dist.dist
    if kind in ("fixed", "empirical"):
        return _discrete(dist)
    _, params = numpy_parameters(dist)  # the parameters numpy's sampler would use
    if kind == "exponential":
        (mean,) = params
        return lambda u: -mean * math.log1p(-u)
    if kind == "lognormal":
        mu, sigma = params
        return lambda u: math.exp(mu + sigma * _normal_quantile(u if u > 0.0 else _TINY))
    if kind == "gamma":
        # No quantile function without scipy (too heavy for the simulation): one sampler draw from a
        # generator seeded by the uniform, so the value still depends on this uniform alone.
        shape, scale = params
        return lambda u: float(np.random.default_rng(int(u * _SEED_SCALE)).gamma(shape, scale))
    if kind == "triangular":
        low, mode, high = params
        span = high - low
        split = (mode - low) / span if span > 0 else 0.0
        return lambda u: (
            low + math.sqrt(u * span * (mode - low))
            if u < split
            else high - math.sqrt((1.0 - u) * span * (high - mode))
        )
    low, high = params  # uniform
    return lambda u: low + u * (high - low)


def _discrete(dist: Dist) -> Inverse:
    kind = dist.dist
    if kind == "fixed":
        value = float(dist.mean or 0.0)
        return lambda _u: value
    if kind == "empirical":
        values = [float(v) for v in dist.values or ()]
        return lambda u: values[min(int(u * len(values)), len(values) - 1)]
    raise ValueError(f"not a discrete distribution: {kind!r}")


def _zero(_u: float) -> float:
    return 0.0


def _same(u: float) -> float:
    return u


class InvertedRows:
    """Rows whose column ``i`` is a value of ``columns[i]`` made from the row's ``i``-th uniform.

    A column given as ``None`` is always 0 (a draw the scenario has no use for), ``"uniform"``
    the uniform itself.
    """

    __slots__ = ("_transforms", "_width")

    def __init__(self, columns: Sequence[Dist | str | None]) -> None:
        inverses: list[Inverse] = []
        for i, column in enumerate(columns):
            if column is None:
                inverses.append(_zero)
            elif isinstance(column, Dist):
                inverses.append(inverse(column))
            elif column == "uniform":
                inverses.append(_same)
            else:
                raise ValueError(f"column {i}: expected a Dist, 'uniform' or None, got {column!r}")
        # The columns that are not the uniform itself: a row transforms only those.
        self._transforms = tuple((i, f) for i, f in enumerate(inverses) if f is not _same)
        self._width = len(columns)

    def row(self, rng: np.random.Generator) -> tuple[float, ...]:
        """The next row from ``rng``: exactly one uniform per column."""
        values = rng.random(self._width).tolist()
        for i, f in self._transforms:
            values[i] = f(values[i])
        return tuple(values)
