"""One rep with a priority work policy against the non-preemptive priority M/G/1 queue (Cobham).

Two channels of Poisson leads (``hi`` and ``lo``) reach one rep who does nothing else, on a
24/7 calendar, with exponential call times of mean 1 / mu: the M/M/1 set-up of
:func:`tests.support.mmc_sections` with two classes. With the ``priority`` work policy
(channel ranks hi 0, lo 1) a free rep always takes the oldest ``hi`` lead first and never
interrupts a call: the non-preemptive priority queue. Mean waits per class come from the
monthly panel (``first_response_hours`` per channel, cohort rows), weighted by their counts.
"""

from __future__ import annotations

import pytest

import sim
from salesboost import RunResult, Scenario
from tests.support import cobham_waits, mm1_wait, mmc_sections, t_interval
from tests.theory.test_queueing import assert_reference_in_ci

SEED = 20240202
REPLICATIONS = 10
DAYS = 480.0
PRIORITY = {"kind": "priority", "kind_ranks": {}, "channel_ranks": {"hi": 0, "lo": 1}}
# (total arrival rate lambda per hour, share of hi leads, service rate mu per hour)
CASES = {"rho=0.7 hi=30%": (0.7, 0.3, 1.0), "rho=0.6 hi=60%": (0.6, 0.6, 1.0)}


def two_class_scenario(lam: float, hi_share: float, mu: float, policy: dict[str, object]) -> Scenario:
    """M/M/1 at first contact with leads from two channels and the work policy ``policy``."""
    data = mmc_sections(servers=1, arrival_rate=lam, service_mean=1.0 / mu, days=DAYS, warmup_days=5.0)
    data["market"]["channels"] = {
        "hi": {"share": hi_share, "qualify_prob": 0.0},
        "lo": {"share": 1.0 - hi_share, "qualify_prob": 0.0},
    }
    data["team"]["work_policy"] = policy
    return Scenario.from_dict(data)


def class_waits(result: RunResult) -> dict[str, float]:
    """Mean first-response wait per channel of the cohort's leads, from the monthly panel."""
    columns = result.panels["pipeline"].columns
    n: dict[str, int] = {}
    total: dict[str, float] = {}
    rows = zip(
        columns["channel"],
        columns["cohort"],
        columns["first_response_hours_n"],
        columns["first_response_hours_mean"],
        strict=True,
    )
    for channel, cohort, count, mean in rows:
        if cohort and count:
            n[channel] = n.get(channel, 0) + count
            total[channel] = total.get(channel, 0.0) + count * mean
    return {channel: total[channel] / n[channel] for channel in n}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request) -> tuple[tuple[float, float, float], list[dict[str, float]], list[dict[str, float]], list[RunResult]]:
    lam, share, mu = CASES[request.param]
    priority = [sim.run(two_class_scenario(lam, share, mu, PRIORITY), SEED, r) for r in range(REPLICATIONS)]
    fifo_scenario = two_class_scenario(lam, share, mu, {"kind": "fifo"})
    fifo = [class_waits(sim.run(fifo_scenario, SEED, r)) for r in range(REPLICATIONS)]
    return (lam, share, mu), [class_waits(r) for r in priority], fifo, priority


def test_reference_cobham_conserves_work():
    # Kleinrock's conservation law: the load-weighted mean wait does not depend on the order of service.
    lam, share, mu = 0.7, 0.3, 1.0
    hi, lo = cobham_waits([lam * share, lam * (1 - share)], [1 / mu, 1 / mu], [2 / mu**2, 2 / mu**2])
    assert share * hi + (1 - share) * lo == pytest.approx(mm1_wait(lam, mu))
    assert hi == pytest.approx(0.7 / (1 - 0.21))  # W0 / (1 - rho_hi), W0 = lambda E[S^2] / 2 = rho / mu


def test_theory_priority_waits_match_cobham(case):
    (lam, share, mu), priority, _, _ = case
    hi, lo = cobham_waits([lam * share, lam * (1 - share)], [1 / mu, 1 / mu], [2 / mu**2, 2 / mu**2])
    assert_reference_in_ci([w["hi"] for w in priority], hi)
    assert_reference_in_ci([w["lo"] for w in priority], lo)


def test_theory_priority_keeps_the_overall_mean_wait(case):
    # The rep's order of work moves waiting between classes but not its total (the M/M/1 mean wait).
    (lam, _, mu), _, _, runs = case
    assert_reference_in_ci([r.metrics["first_response_hours_mean"] for r in runs], mm1_wait(lam, mu))


def test_theory_fifo_gives_both_classes_the_mm1_wait(case):
    (lam, _, mu), _, fifo, _ = case
    for channel in ("hi", "lo"):
        assert_reference_in_ci([w[channel] for w in fifo], mm1_wait(lam, mu))
    # Paired by replication (the same arrivals): the difference between the classes is 0.
    _, low, high = t_interval([w["hi"] - w["lo"] for w in fifo])
    assert low <= 0.0 <= high


def test_theory_priority_separates_the_classes(case):
    # Power check: the hi-lo difference is far from 0 and the hi class beats FIFO in every replication.
    _, priority, fifo, _ = case
    assert all(p["hi"] < f["hi"] < p["lo"] for p, f in zip(priority, fifo, strict=True))
