"""``pilot``: composing a pilot pipeline from Hydra, and the one error each bad input gives."""

from __future__ import annotations

import pytest

from experiments.compose import compose_config, scenario_sections
from salesboost.errors import ConfigError
from salesboost.pilot import PilotConfig
from salesboost.scenario import Scenario
from tests.support import sections

PILOT = ("pilot.regions=[east]", "pilot.start=2024-08-26")


def test_a_pipeline_variant_composes_as_the_pilot_pipeline():
    cfg = compose_config(["+pipeline@pilot.pipeline=optimised", *PILOT])
    scenario = Scenario.from_dict(scenario_sections(cfg))
    assert scenario.pipeline.name == "legacy"
    assert scenario.pilot.pipeline is not None
    assert scenario.pilot.pipeline.name == "optimised"
    assert scenario.pilot.pipeline.approval.policy == "online"
    assert scenario.pilot.active  # a pipeline without lifts is a policy too
    assert not PilotConfig(regions=["east"], start="2024-08-26").active
    assert Scenario.from_dict(sections()).pilot.pipeline is None  # no pilot: the default


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        (
            ("pilot.regions=[west]", "pilot.start=2024-08-26", "+pipeline@pilot.pipeline=optimised"),
            "pilot.regions[0]",
            "market.regions",
        ),
        (("pilot.regions=[east]", "+pipeline@pilot.pipeline=optimised"), "pilot.start", "start date"),
        (("+pipeline@pilot.pipeline=optimised",), "pilot.pipeline", "pilot regions"),
    ],
)
def test_bad_pilot_input_gives_one_error_naming_the_key(overrides, key, says):
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(sections(*overrides))
    assert caught.value.key == key
    assert says in caught.value.problem


@pytest.mark.parametrize(("key", "value"), [("windows", ["11:00"]), ("window_hours", 3.0)])
def test_two_window_schedules_cannot_share_the_managers(key, value):
    data = sections("+pipeline@pilot.pipeline=legacy", *PILOT)
    data["pilot"]["pipeline"]["approval"][key] = value
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(data)
    assert caught.value.key == f"pilot.pipeline.approval.{key}"
    assert "one review schedule" in caught.value.problem


def test_a_bad_value_inside_the_pilot_pipeline_names_its_full_key():
    data = sections("+pipeline@pilot.pipeline=optimised", *PILOT)
    data["pilot"]["pipeline"]["quote"]["rework_prob"] = 1.5
    with pytest.raises(ConfigError) as caught:
        Scenario.from_dict(data)
    assert caught.value.key == "pilot.pipeline.quote.rework_prob"
