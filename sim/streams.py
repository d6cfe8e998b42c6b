"""Named random streams: one independent generator per (replication, stream name).

``SeedSequence(seed, spawn_key=(replication, crc32(name)))`` keys each stream by name, so
adding a stream never shifts another, and every variant of an experiment sees the same
numbers in the same stream: common random numbers.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

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

    def seat_streams(self, reps: Sequence[Any], purpose: str) -> list[np.random.Generator]:
        """Per rep's seat, in order, the stream ``rep.<name>.<purpose>``."""
        return [self.generator(f"rep.{rep.name}.{purpose}") for rep in reps]

    def entity(self, name: str) -> np.random.Generator:
        """A new generator for entity ``name`` (an account), not kept here.

        Seeded from ``(seed, replication, stream_key(name))``; the caller holds it for as long
        as the entity lives, so the streams of many short-lived entities do not pile up.
        """
        sequence = np.random.SeedSequence((self.seed, self.replication, stream_key(name)))
        return np.random.Generator(np.random.PCG64(sequence))

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


def numpy_parameters(dist: Dist) -> tuple[str, tuple[float, ...]]:
    """The ``numpy.random.Generator`` method that draws ``dist``, and its leading arguments.

    The one place a Dist's mean and cv become a family's own parameters (also used for the
    quantile functions of :mod:`sim.inversion`).
    """
    kind = dist.dist
    if kind == "exponential":
        return "exponential", (float(dist.mean or 0.0),)
    if kind == "lognormal":
        sigma = math.sqrt(math.log1p(float(dist.cv or 0.0) ** 2))
        return "lognormal", (math.log(float(dist.mean or 0.0)) - sigma * sigma / 2, sigma)
    if kind == "gamma":
        shape = 1.0 / float(dist.cv or 0.0) ** 2
        return "gamma", (shape, float(dist.mean or 0.0) / shape)
    if kind == "triangular":
        return "triangular", (float(dist.low or 0.0), float(dist.mode or 0.0), float(dist.high or 0.0))
    if kind == "uniform":
        return "uniform", (float(dist.low or 0.0), float(dist.high or 0.0))
    raise ValueError(f"unknown distribution {kind!r}")  # Dist validation makes this unreachable


def vector_draw(dist: Dist, rng: np.random.Generator) -> VectorDraw:
    """A function ``n -> n values of dist`` drawing from ``rng``."""
    if dist.dist == "fixed":
        value = float(dist.mean or 0.0)
        return lambda n: np.full(n, value)
    if dist.dist == "empirical":
        values = np.asarray(dist.values, dtype=float)
        return lambda n: rng.choice(values, n)
    name, args = numpy_parameters(dist)
    method = getattr(rng, name)
    return lambda n: method(*args, n)
