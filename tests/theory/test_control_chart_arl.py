"""The warning charts' run lengths against published ARLs, by Monte Carlo on N(0, 1) series.

Published values (domain.md section 7):

- Shewhart individuals chart at +-3 sd: ARL0 = 1 / (2 (1 - Phi(3))) = 370.4.
- EWMA with asymptotic limits, (lam, L) = (0.05, 2.615), (0.10, 2.814), (0.20, 2.962): ARL0 ~500
  (Lucas & Saccucci 1990, Technometrics 32(1); Montgomery, Introduction to Statistical Quality
  Control, Table 9.11).
- Tabular CUSUM, k = 0.5: ARL0 168 (h = 4) and 465 (h = 5); 8.38 and 10.4 at a 1 sd shift
  (Montgomery, Table 9.3). The in-control values are the two-sided scheme's (S+ and S- run
  together): a one-sided CUSUM alarms half as often, ARL0 = 2 x 168 and 2 x 465 (a Nystrom solution
  of Page's integral equation gives 335.4 and 930.9, used here). domain.md files 168 / 465 next to
  the one-sided S+; that reading is wrong, and this file tests both. At a 1 sd shift the side
  facing away from it hardly ever alarms first, so one- and two-sided shifted ARLs coincide.

Monte Carlo: ``RUNS`` = 6,000 run lengths per case, run ``r`` drawn from
``default_rng([seed, r])``. An in-control run length is close to geometric, sd ~ its mean, so the
standard error is ~ARL / sqrt(6000) = 1.3% of the target (asserted <= 3% per case; the shifted
ARLs' is ~0.5%). Each case must lie within 10% of the published value and, tighter, within
4 standard errors plus 1% (the published figures' rounding). Each run stops at
``CAP_MULTIPLE`` x the target (the chance a correct chart runs that long is ~e^-20); a capped run
counts at the cap, so a broken chart fails the test instead of looping. The whole file takes
~10 s on one core.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from salesboost.warnings import Cusum, Detector, Ewma, PChart, Shewhart, run_length

RUNS = 6_000
TOLERANCE = 0.10
CAP_MULTIPLE = 20
MAX_SE_SHARE = 0.03
ROUNDING = 0.01


def _normals(rng: np.random.Generator, shift: float, cap: int, chunk: int) -> Iterator[float]:
    left = cap
    while left > 0:
        size = min(chunk, left)
        yield from (rng.standard_normal(size) + shift).tolist()
        left -= size


def run_lengths(detector: Detector, *, seed: int, target: float, shift: float = 0.0, runs: int = RUNS) -> np.ndarray:
    """Run lengths of ``detector`` (reset before each run) on ``runs`` seeded N(shift, 1) series."""
    cap = int(CAP_MULTIPLE * target)
    chunk = min(4096, max(32, int(2 * target)))
    out = np.empty(runs)
    for r in range(runs):
        values = _normals(np.random.default_rng([seed, r]), shift, cap, chunk)
        length = run_length(detector, values)
        out[r] = cap if length is None else length
    return out


#: name -> (detector factory, shift in sds, published ARL, seed)
CASES: dict[str, tuple[Callable[[], Detector], float, float, int]] = {
    "shewhart L=3": (lambda: Shewhart(0.0, 1.0, 3.0), 0.0, 370.4, 101),
    "ewma lam=0.05 L=2.615": (lambda: Ewma(0.0, 1.0, 0.05, 2.615, limits="asymptotic"), 0.0, 500.0, 102),
    "ewma lam=0.10 L=2.814": (lambda: Ewma(0.0, 1.0, 0.10, 2.814, limits="asymptotic"), 0.0, 500.0, 103),
    "ewma lam=0.20 L=2.962": (lambda: Ewma(0.0, 1.0, 0.20, 2.962, limits="asymptotic"), 0.0, 500.0, 104),
    "cusum h=4 two-sided": (lambda: Cusum(0.0, 1.0, 0.5, 4.0, "both"), 0.0, 168.0, 105),
    "cusum h=5 two-sided": (lambda: Cusum(0.0, 1.0, 0.5, 5.0, "both"), 0.0, 465.0, 106),
    "cusum h=4 one-sided": (lambda: Cusum(0.0, 1.0, 0.5, 4.0, "upper"), 0.0, 335.4, 107),
    "cusum h=5 one-sided": (lambda: Cusum(0.0, 1.0, 0.5, 5.0, "lower"), 0.0, 930.9, 108),
    "cusum h=4 +1 sd shift": (lambda: Cusum(0.0, 1.0, 0.5, 4.0, "upper"), 1.0, 8.38, 109),
    "cusum h=5 -1 sd shift": (lambda: Cusum(0.0, 1.0, 0.5, 5.0, "lower"), -1.0, 10.4, 110),
    "cusum h=5 two-sided +1 sd shift": (lambda: Cusum(0.0, 1.0, 0.5, 5.0, "both"), 1.0, 10.4, 111),
}


@pytest.mark.parametrize("name", list(CASES))
def test_theory_arl_matches_published(name: str) -> None:
    make, shift, published, seed = CASES[name]
    lengths = run_lengths(make(), seed=seed, target=published, shift=shift)
    mean = float(lengths.mean())
    se = float(lengths.std(ddof=1)) / math.sqrt(len(lengths))
    assert se <= MAX_SE_SHARE * published, f"{name}: standard error {se:.3g} too large for the check"
    assert abs(mean - published) <= TOLERANCE * published, f"{name}: ARL {mean:.1f} (se {se:.2g}) vs {published}"
    assert abs(mean - published) <= 4 * se + ROUNDING * published, (
        f"{name}: ARL {mean:.1f} is more than 4 standard errors ({se:.2g}) from {published}"
    )


def test_theory_exact_ewma_limits_alarm_sooner() -> None:
    """On the same series, start-up (exact) limits lie inside the asymptotic ones: never a later first alarm."""
    runs = 1_000
    exact = run_lengths(Ewma(0.0, 1.0, 0.10, 2.814), seed=201, target=500.0, runs=runs)
    asymptotic = run_lengths(Ewma(0.0, 1.0, 0.10, 2.814, limits="asymptotic"), seed=201, target=500.0, runs=runs)
    assert np.all(exact <= asymptotic)
    assert exact.mean() < asymptotic.mean()
    assert np.count_nonzero(exact < asymptotic) > 0


# (trials n, in-control p0): rare complaints to common ones, n up to 5,000.
PCHART_CASES = ((50, 0.02), (200, 0.01), (1_000, 0.02), (5_000, 0.005), (5_000, 0.03), (300, 0.1))
PCHART_DRAWS = 50_000  # per case: 300,000 in all


def test_theory_exact_pchart_false_alarm_rate_at_most_nominal() -> None:
    """Exact binomial p-chart: one-sided false-alarm rate <= 1 - Phi(3) = 0.00135 (+ 3 MC standard errors).

    The tail test is exact, so the rate is at most the nominal one for every (n, p0); with
    300,000 in-control counts the standard error at 0.00135 is 6.7e-5.
    """
    nominal = 0.5 * math.erfc(3.0 / math.sqrt(2.0))
    rng = np.random.default_rng(301)
    signals = draws = 0
    for n, p0 in PCHART_CASES:
        chart = PChart(p0, 3.0, "upper", exact=True)
        counts = rng.binomial(n, p0, PCHART_DRAWS).tolist()
        here = sum(chart.update(c, n) for c in counts)
        se_case = math.sqrt(nominal / PCHART_DRAWS)
        assert here / PCHART_DRAWS <= nominal + 4 * se_case, f"n={n} p0={p0}: rate {here / PCHART_DRAWS:.5f}"
        signals += here
        draws += PCHART_DRAWS
    se = math.sqrt(nominal * (1 - nominal) / draws)
    assert signals / draws <= nominal + 3 * se


def test_theory_normal_pchart_on_rare_counts_alarms_too_often() -> None:
    """Normal limits on rare counts (n=200, p0=1%) alarm several times the nominal 0.00135: why exact exists."""
    rng = np.random.default_rng(302)
    counts = rng.binomial(200, 0.01, PCHART_DRAWS).tolist()
    normal = PChart(0.01, 3.0, "upper")
    exact = PChart(0.01, 3.0, "upper", exact=True)
    normal_rate = sum(normal.update(c, 200) for c in counts) / PCHART_DRAWS
    exact_rate = sum(exact.update(c, 200) for c in counts) / PCHART_DRAWS
    assert normal_rate > 2.5 * 0.00135  # P(X >= 7 | 200, 0.01) = 0.0045
    assert exact_rate < normal_rate
