"""Log-binned histograms: a fixed layout so that runs can be merged and quantiles read."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: Lower edge of the first logarithmic bin; values below it share bin 0.
LOW = 1e-4
#: Bins per factor of ten; 40 gives a relative bin width of 5.9%.
BINS_PER_DECADE = 40
#: Decades covered above ``LOW``; larger values share the last bin.
DECADES = 10
#: Number of bins: underflow, the logarithmic bins, overflow.
N_BINS = BINS_PER_DECADE * DECADES + 2

_SCALE = BINS_PER_DECADE / math.log(10)
_LOG_LOW = math.log(LOW)


def bin_index(value: float) -> int:
    """The bin that holds ``value`` (a non-negative number)."""
    if value < LOW:
        return 0
    return min(int((math.log(value) - _LOG_LOW) * _SCALE) + 1, N_BINS - 1)


def bin_edges(index: int) -> tuple[float, float]:
    """Lower and upper edge of bin ``index``."""
    if index == 0:
        return 0.0, LOW
    low = LOW * 10 ** ((index - 1) / BINS_PER_DECADE)
    if index == N_BINS - 1:
        return low, math.inf
    return low, LOW * 10 ** (index / BINS_PER_DECADE)


@dataclass(frozen=True)
class LogHistogram:
    """Counts of observations per logarithmic bin."""

    counts: tuple[int, ...]

    @classmethod
    def empty(cls) -> LogHistogram:
        """A histogram with no observations."""
        return cls((0,) * N_BINS)

    @classmethod
    def of(cls, values: Iterable[float]) -> LogHistogram:
        """The histogram of ``values``."""
        counts = [0] * N_BINS
        for value in values:
            counts[bin_index(value)] += 1
        return cls(tuple(counts))

    @property
    def total(self) -> int:
        """Number of observations."""
        return sum(self.counts)

    def merged(self, *others: LogHistogram) -> LogHistogram:
        """This histogram plus ``others``."""
        counts = list(self.counts)
        for other in others:
            for i, count in enumerate(other.counts):
                counts[i] += count
        return LogHistogram(tuple(counts))

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, interpolated geometrically within its bin (``nan`` if empty)."""
        return bins_quantile(enumerate(self.counts), self.total, q)


def bins_quantile(bins: Iterable[tuple[int, int]], total: int, q: float) -> float:
    """The ``q`` quantile of ``(bin, count)`` pairs in bin order, ``total`` counts in all.

    Interpolated geometrically within its bin (linearly in the first, which starts at 0);
    ``nan`` if ``total`` is 0. Dense histograms and sparse ``{bin: count}`` ones share it.
    """
    if total == 0:
        return math.nan
    target = q * total
    seen = 0
    for i, count in bins:
        if count and seen + count >= target:
            low, high = bin_edges(i)
            frac = (target - seen) / count
            if i == 0:
                return high * frac
            if math.isinf(high):
                return low
            return low * (high / low) ** frac
        seen += count
    return bin_edges(N_BINS - 1)[0]
