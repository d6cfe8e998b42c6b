"""The win-back and change-incentives playbooks: they act only after their alarm, and do what they say.

Stated properties over several seeds, each world against its twin without the playbook
(common random numbers): nothing differs before the playbook switches on; a win-back call
follows a deal an existing account lost to the competitor and brings the customer back with
the playbook's probability; a change of scheme waits for the first month that starts a
settlement period of both schemes, and the books up to it are the old scheme's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pytest

from analysis.panel import panel_frame
from salesboost.errors import ConfigError
from salesboost.indicators import FACT_COLUMNS
from salesboost.results import RunResult
from salesboost.scenario import Scenario
from sim.agents.risk_desk import RiskDesk
from sim.calendar import HOURS_PER_DAY
from sim.runner import run
from tests.support import sections

SEEDS = (1, 2, 3)
START = dt.date(2024, 1, 1)
SHORT = (
    "horizon.days=240",
    "horizon.warmup_days=14",
    "horizon.drain_days=10",
    "pipeline=optimised",
    "incentive=commission",
)
PRICE_CUT = "risk.shocks=[{kind: competitor_price_cut, start: '2024-03-01', size: 0.3}]"
#: The competitor's share above 0.36: 4 sd above a calm month, crossed in April by the price cut's ramp.
SHARE_RULE = "+risk.rules.share_jump={indicator: competitor_share, chart: threshold, limit: 0.36, side: above}"
WIN_BACK = "risk.playbooks=[{response: win_back, alarm: share_jump, size: 0.4}]"
SCORECARD = "+incentive@risk.schemes.scorecard=scorecard"
CHANGE = "risk.playbooks=[{response: change_incentives, alarm: share_jump, scheme: scorecard}]"


@pytest.fixture
def desks() -> Iterator[list[RiskDesk]]:
    """The risk desk of every run made in the test, in order."""
    seen: list[RiskDesk] = []
    original = RiskDesk.start

    def keep(desk: RiskDesk) -> None:
        seen.append(desk)
        original(desk)

    RiskDesk.start = keep  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        RiskDesk.start = original  # type: ignore[method-assign]


def _run(seed: int, *overrides: str) -> RunResult:
    return run(Scenario.from_dict(sections(*SHORT, SHARE_RULE, PRICE_CUT, *overrides)), seed)


def _market(result: RunResult):
    frame = panel_frame([result], "market")
    return frame[frame["team"] == "all"].sort_values("period_start").reset_index(drop=True)


def _day(hours: float) -> str:
    return (START + dt.timedelta(days=int(hours // HOURS_PER_DAY))).isoformat()


def test_win_back_calls_follow_lost_deals_after_the_alarm_and_bring_back_the_stated_share(desks):
    calls = back = 0
    for seed in SEEDS:
        twin = _run(seed)
        tried = _run(seed, WIN_BACK)
        (on,) = desks[-1].on_at
        assert on is not None, "the price cut never raised the rule"
        a, b = _market(twin), _market(tried)
        before = a["period_start"] < _day(on)
        assert before.sum() >= 3
        columns = [c for c in FACT_COLUMNS if c != "playbooks_on"]
        assert a.loc[before, columns].equals(b.loc[before, columns]), "the world differs before the playbook is on"
        assert (b.loc[before, ["winback_calls", "won_back"]] == 0).all().all(), "calls before the alarm"
        after = b[~before]
        assert after["winback_calls"].sum() <= after["deals_lost"].sum(), "more calls than lost deals"
        assert after["winback_calls"].sum() > 0
        calls += int(after["winback_calls"].sum())
        back += int(after["won_back"].sum())
    share, sd = back / calls, math.sqrt(0.4 * 0.6 / calls)
    assert abs(share - 0.4) < 3.5 * sd, f"{back} of {calls} calls won the customer back (size 0.4)"


def test_a_change_of_scheme_waits_for_a_shared_period_start_and_keeps_the_books_before_it(desks):
    for seed in SEEDS:
        twin = _run(seed, SCORECARD)
        tried = _run(seed, SCORECARD, CHANGE)
        desk = desks[-1]
        (on,) = desk.on_at
        assert on is not None
        switched = desk._world.incentive.switched_at
        assert switched is not None, "the scheme never changed"
        day = START + dt.timedelta(days=int(switched // HOURS_PER_DAY))
        assert switched >= on
        assert day.day == 1
        assert day.month in (1, 4, 7, 10), "a quarterly scheme changed mid-quarter"
        assert (switched - on) / HOURS_PER_DAY < 92, "waited past the first quarter start"
        a, b = panel_frame([twin], "reps"), panel_frame([tried], "reps")
        keys = ["period_start", "worker"]
        a, b = a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
        early = a["period_start"] < day.isoformat()
        assert early.sum() > 0
        assert a[early].equals(b[early]), "the reps' books differ before the change"
        plans = ["prospecting_plan", "accounts_plan", "training_plan"]  # what the scheme pays for, week by week
        assert not a.loc[~early, plans].equals(b.loc[~early, plans]), "the reps plan as before under the new scheme"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ((CHANGE,), r"risk\.playbooks\[0\]\.scheme"),
        (("incentive=none", SCORECARD, CHANGE), r"risk\.playbooks\[0\]\.response"),
        (("risk.playbooks=[{response: win_back, alarm: share_jump}]",), r"risk\.playbooks\[0\]\.size"),
        (("risk.playbooks=[{response: change_incentives, alarm: share_jump}]",), r"risk\.playbooks\[0\]\.scheme"),
        (("+incentive@risk.schemes.flat=none",), r"risk\.schemes\.flat"),
    ],
)
def test_bad_playbooks_name_their_key(overrides, key):
    with pytest.raises(ConfigError, match=key):
        Scenario.from_dict(sections(*SHORT, SHARE_RULE, *overrides))
