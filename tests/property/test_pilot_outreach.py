"""A pilot of a marketing strategy in some regions: its touches, its budget, and what stays the world's.

Stated properties over several seeds: with no outreach in the controls and a tiered strategy
in east from 1 April, every touch is on an east account from the first period that starts in
the pilot, and nothing before it differs from the world without the pilot; with a budget on
both sides, each side spends at most its regions' share of the seats of its own budget each
period; a pilot strategy that changes how accounts are tiered or answer touches is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest

from analysis.panel import panel_frame
from salesboost.errors import ConfigError
from salesboost.scenario import Scenario
from sim.agents.marketing import MarketingDesk
from sim.calendar import HOURS_PER_DAY
from sim.runner import run
from tests.support import sections

SEEDS = (1, 2, 3)
WORLD = (
    "horizon.days=200",
    "horizon.warmup_days=14",
    "horizon.drain_days=10",
    "pipeline=optimised",
    "accounts.initial=400",
    "accounts.purchase.model=bgnbd",
)
START = "2024-04-01"  # a month start: the monthly panel's first period in the pilot
START_HOURS = 91 * HOURS_PER_DAY  # days from 1 January 2024
PILOT = ("pilot.regions=[east]", f"pilot.start={START}", "+outreach@pilot.outreach=default")
TIERED = (
    "pilot.outreach.strategy=tiered",
    "pilot.outreach.budget_per_month=3000",
    "pilot.outreach.rep_hours_per_month=80",
)
UNIFORM = ("outreach.strategy=uniform", "outreach.budget_per_month=1500", "outreach.rep_hours_per_month=40")


@pytest.fixture
def touches() -> Iterator[list[tuple[str, float, float]]]:
    """(account region, clock hour, money) of every touch made in the test's runs."""
    seen: list[tuple[str, float, float]] = []
    original = MarketingDesk._touch

    def record(desk, account, name, channel, config, now):  # noqa: PLR0917 - the method's signature
        seen.append((account.region, now, config.money_per_touch(channel)))
        original(desk, account, name, channel, config, now)

    MarketingDesk._touch = record  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        MarketingDesk._touch = original  # type: ignore[method-assign]


def _pipeline(result):
    frame = panel_frame([result], "pipeline")
    keys = ["period_start", "region", "channel", "segment", "product"]
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_pilot_strategy_touches_only_its_regions_accounts_from_its_first_period(seed, touches):
    base = run(Scenario.from_dict(sections(*WORLD)), seed)
    assert not touches, "the controls' strategy is off: nothing should be touched"
    tried = run(Scenario.from_dict(sections(*WORLD, *PILOT, *TIERED)), seed)
    assert touches, "the pilot strategy made no touch"
    assert {region for region, _, _ in touches} == {"east"}
    assert min(t for _, t, _ in touches) >= START_HOURS
    a, b = _pipeline(base), _pipeline(tried)
    a, b = (f[f["period_start"] < START].reset_index(drop=True) for f in (a, b))
    assert len(a) > 0
    assert a.equals(b), "the world differs before the pilot"


@pytest.mark.parametrize("seed", SEEDS)
def test_each_side_spends_at_most_its_seats_share_of_its_own_budget(seed, touches):
    scenario = Scenario.from_dict(sections(*WORLD, *UNIFORM, *PILOT, *TIERED))
    seats = scenario.team.reps
    east = seats["east"] / sum(seats.values())
    run(scenario, seed)
    spent: dict[tuple[bool, int], float] = defaultdict(float)
    for region, t, money in touches:
        if t >= START_HOURS:
            month = int((t - START_HOURS) // (30 * HOURS_PER_DAY))  # a rough month index: checked against the cap
            spent[(region == "east", month)] += money
    assert spent, "no touch after the start"
    # A 31-day month read as 30 days can hold a day of the next: allow that day's share.
    slack = 1.0 + 2.0 / 30.0
    for (inside, _month), money in spent.items():
        cap = 3000.0 * east if inside else 1500.0 * (1.0 - east)
        assert money <= cap * slack, f"{'pilot' if inside else 'controls'} spent {money:.0f} > {cap:.0f}"
    assert any(inside for inside, _ in spent)
    assert any(not inside for inside, _ in spent)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (("pilot.outreach.history_order_share=0.9",), r"pilot\.outreach\.history_order_share"),
        (("pilot.outreach.effects.lift=3.0",), r"pilot\.outreach\.effects"),
    ],
)
def test_a_pilot_strategy_cannot_change_the_world_it_acts_in(overrides, key):
    with pytest.raises(ConfigError, match=key):
        Scenario.from_dict(sections(*WORLD, *PILOT, *TIERED, *overrides))


def test_a_pilot_strategy_needs_regions():
    with pytest.raises(ConfigError, match=r"pilot\.outreach"):
        Scenario.from_dict(sections(*WORLD, f"pilot.start={START}", "+outreach@pilot.outreach=default"))
