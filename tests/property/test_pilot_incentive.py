"""A pilot of an incentive scheme in some regions: it starts at a shared period start, and pays only there.

Stated properties over several seeds, against the same world without the pilot (common random
numbers): nothing differs before the first month on or after the pilot's start that begins a
quarter (both schemes settle quarterly); from then on the pilot regions' seats settle under the
pilot's scheme and the control regions' under theirs (commission: exactly 3% of the period's
revenue); and a pilot scheme without regions, without a scheme to compare with, or that pays
nothing, is refused with its key.
"""

from __future__ import annotations

import pytest

from analysis.panel import panel_frame
from salesboost.errors import ConfigError
from salesboost.scenario import Scenario
from sim.runner import run
from tests.support import sections

SEEDS = (1, 2, 3)
SHORT = (
    "horizon.days=300",
    "horizon.warmup_days=14",
    "horizon.drain_days=10",
    "pipeline=optimised",
    "incentive=commission",
)
#: From 15 March: the scorecard pays east's seats from 1 April, the first quarter start after it.
PILOT = ("pilot.regions=[east]", "pilot.start=2024-03-15", "+incentive@pilot.incentive=scorecard")
FIRST_MONTH = "2024-04-01"


def _reps(seed: int, *overrides: str):
    frame = panel_frame([run(Scenario.from_dict(sections(*SHORT, *overrides)), seed)], "reps")
    return frame.sort_values(["period_start", "worker"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_pilot_scheme_pays_the_pilot_regions_from_the_first_shared_period_start(seed):
    base, tried = _reps(seed), _reps(seed, *PILOT)
    before = base["period_start"] < FIRST_MONTH
    assert before.sum() > 0
    assert base[before].equals(tried[before]), "the world differs before the pilot's scheme applies"
    settled = tried[(tried["settled"] > 0) & (tried["period_revenue"] > 0)]
    ratio = settled["payout"] / settled["period_revenue"]
    late = settled["period_start"] >= FIRST_MONTH
    east = settled["region"] == "east"
    assert late.any()
    assert ratio[~east | ~late].to_numpy() == pytest.approx(0.03), "a control seat was not paid its commission"
    assert (abs(ratio[east & late] - 0.03) > 1e-3).all(), "a pilot seat was paid commission after the switch"
    plans = tried.groupby(["region", tried["period_start"] >= FIRST_MONTH])["training_plan"].sum()
    assert plans[("east", True)] > 0, "the scorecard pays for training: east's reps should plan some"
    assert plans[("north", True)] == plans[("south", True)] == 0.0, "commission reps trained"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (("incentive=none", *PILOT), r"pilot\.incentive"),
        (("pilot.start=2024-03-15", "+incentive@pilot.incentive=scorecard"), r"pilot\.incentive"),
        (("pilot.regions=[east]", "pilot.start=2024-03-15", "+incentive@pilot.incentive=none"), r"pilot\.incentive"),
    ],
)
def test_a_pilot_scheme_that_cannot_run_names_its_key(overrides, key):
    with pytest.raises(ConfigError, match=key):
        Scenario.from_dict(sections(*SHORT, *overrides))
