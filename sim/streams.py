"""Named random streams: one independent generator per (replication, stream name).

``SeedSequence(seed, spawn_key=(replication, crc32(name)))`` keys each stream by name, so
adding a stream never shifts another, and every variant of an experiment sees the same
numbers in the same stream: common random numbers.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np

from salesboost.distributions import Dist

#: Values drawn per refill; large enough to amortise numpy's call cost.
CHUNK = 1024

VectorDraw = Callable[[int], np.ndarray]


def stream_key(name: str) -> int:
    """The stable integer that keys stream ``name``."""
    return zlib.crc32(name.encode())


class Streams:
    """The random streams of one replication."""

    __slots__ = ("_generators", "replication", "seed")

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = seed
        self.replication = replication
        self._generators: dict[str, np.random.Generator] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator of stream ``name`` (created on first use)."""
        rng = self._generators.get(name)
        if rng is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_key(name)))
            rng = self._generators[name] = np.random.Generator(np.random.PCG64(sequence))
        return rng

    def sampler(self, name: str, dist: Dist) -> Sampler:
        """Draw one value of ``dist`` at a time from stream ``name``."""
        return Sampler(vector_draw(dist, self.generator(name)))

    def sampler_exponential(self, name: str) -> Sampler:
        """Draw unit exponentials one at a time from stream ``name``."""
        return Sampler(self.generator(name).standard_exponential)

    def uniforms(self, name: str) -> Sampler:
        """Draw uniforms on ``[0, 1)`` one at a time from stream ``name``."""
        return Sampler(self.generator(name).random)


class Sampler:
    """Hands out values one by one from vectorised draws of ``CHUNK`` values."""

    __slots__ = ("_buffer", "_draw", "_index")

    def __init__(self, draw: VectorDraw) -> None:
        self._draw = draw
        self._buffer: list[float] = []
        self._index = 0

    def __call__(self) -> float:
        """The next value."""
        i = self._index
        if i >= len(self._buffer):
            self._buffer = self._draw(CHUNK).tolist()
            i = 0
        self._index = i + 1
        return self._buffer[i]


def vector_draw(dist: Dist, rng: np.random.Generator) -> VectorDraw:
    """A function ``n -> n values of dist`` drawing from ``rng``."""
    kind = dist.dist
    if kind == "exponential":
        mean = float(dist.mean or 0.0)
        return lambda n: rng.exponential(mean, n)
    if kind == "lognormal":
        sigma = math.sqrt(math.log1p(float(dist.cv or 0.0) ** 2))
        mu = math.log(float(dist.mean or 0.0)) - sigma * sigma / 2
        return lambda n: rng.lognormal(mu, sigma, n)
    if kind == "gamma":
        shape = 1.0 / float(dist.cv or 0.0) ** 2
        scale = float(dist.mean or 0.0) / shape
        return lambda n: rng.gamma(shape, scale, n)
    if kind == "triangular":
        low, mode, high = float(dist.low or 0.0), float(dist.mode or 0.0), float(dist.high or 0.0)
        return lambda n: rng.triangular(low, mode, high, n)
    if kind == "uniform":
        low, high = float(dist.low or 0.0), float(dist.high or 0.0)
        return lambda n: rng.uniform(low, high, n)
    if kind == "fixed":
        value = float(dist.mean or 0.0)
        return lambda n: np.full(n, value)
    if kind == "empirical":
        values = np.asarray(dist.values, dtype=float)
        return lambda n: rng.choice(values, n)
    raise ValueError(f"unknown distribution {kind!r}")  # Dist validation makes this unreachable
