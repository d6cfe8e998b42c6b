"""Every end of every documented range runs: the default study's sensitivity probes, one short replication each.

The end-to-end tests run the sensitivity over a few keys only (it is most of their time);
this runs every probe scenario the default study's sensitivity builds, in process, and checks
that each one simulates leads and gives finite headline metrics, so a range end that breaks
the model is caught here.
"""

from __future__ import annotations

import math

import pytest

import sim
from experiments.sensitivity import probes
from tests.conftest import small_plan

HEADLINES = ("orders", "revenue", "net_profit", "quote_approval_hours_mean", "rep_utilisation")


@pytest.fixture(scope="module")
def default_plan():
    return small_plan()


@pytest.fixture(scope="module")
def default_probes(default_plan):
    settings = default_plan.experiment.sensitivity
    assert settings.enabled
    assert not settings.parameters  # the default study varies every key
    target = next(v for v in default_plan.variants if v.name == settings.variant)
    return probes(target, default_plan.variants[0], default_plan.ranges, settings.parameters)


def test_the_default_sensitivity_varies_the_documented_ranges(default_plan, default_probes):
    varied = {p.parameter for p in default_probes}
    assert varied <= set(default_plan.ranges)
    assert len(varied) >= 30  # the default study's keys (39 when written); the rest are idle for it


def test_every_range_end_simulates_and_gives_finite_headlines(default_probes):
    moved = {p.variant.name: p for p in default_probes if "|" in p.variant.name}  # one run per distinct scenario
    assert moved
    failures = []
    for name, probe in sorted(moved.items()):
        result = sim.run(probe.variant.scenario, 7, 0)
        bad = [k for k in HEADLINES if not math.isfinite(result.metrics[k])]
        if result.leads_simulated == 0 or bad:
            failures.append((name, result.leads_simulated, bad))
    assert failures == []
