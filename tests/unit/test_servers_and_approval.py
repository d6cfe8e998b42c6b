"""FIFO workers on calendars, worker pools, and the two approval desks, with fixed-value samplers."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from salesboost import ApprovalConfig, CalendarConfig, Dist
from sim.approval import OnlineApproval, WindowApproval
from sim.calendar import Calendar
from sim.servers import FifoServer, ServerPool

DAY = 24.0


def at(day: int, hour: float) -> float:
    return day * DAY + hour


def office(holidays: tuple[int, ...] = (), intervals: tuple[tuple[float, float], ...] = ((9.0, 12.0), (13.0, 18.0))):
    """Mon-Fri calendar from Monday clock 0 with the given intervals and day-number holidays."""
    return Calendar(start_weekday=0, workdays=range(5), intervals=intervals, holidays=holidays)


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def log() -> list[tuple[Any, ...]]:
    return []


# -- FifoServer --------------------------------------------------------------------------------


def test_fifo_server_event_order_on_a_calendar(env, log):
    server = FifoServer("rep", office())

    def task(name: str, arrive: float, work: float) -> Generator[Any, Any, None]:
        yield env.timeout(arrive)
        start, end = server.schedule(env.now, work)
        yield env.timeout(end - env.now)
        log.append((name, start, end, env.now))

    env.process(task("a", at(0, 8.0), 2.0))  # waits for opening
    env.process(task("b", at(0, 9.5), 2.0))  # waits for a, then works across lunch
    env.process(task("c", at(0, 17.5), 1.0))  # free server, work continues next morning
    env.process(task("d", at(4, 17.0), 2.0))  # Friday, continues Monday
    env.run()
    assert log == [
        ("a", at(0, 9.0), at(0, 11.0), at(0, 11.0)),
        ("b", at(0, 11.0), at(0, 14.0), at(0, 14.0)),
        ("c", at(0, 17.5), at(1, 9.5), at(1, 9.5)),
        ("d", at(4, 17.0), at(7, 10.0), at(7, 10.0)),
    ]
    assert server.free_at == at(7, 10.0)


def test_fifo_server_books_in_request_order_not_arrival_order():
    # Tasks are served in the order they are booked; a later-booked task with an earlier
    # ready time waits behind the earlier booking (no overtaking).
    server = FifoServer("rep", Calendar.always_open())
    assert server.schedule(10.0, 1.0) == (10.0, 11.0)
    assert server.schedule(5.0, 1.0) == (11.0, 12.0)


@settings(max_examples=100, deadline=None)
@given(
    gaps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=30),
    works=st.lists(st.floats(0.0, 5.0), min_size=30, max_size=30),
)
def test_fifo_server_follows_the_lindley_recursion(gaps, works):
    # Waiting time W_{n+1} = max(0, W_n + S_n - A_{n+1}) on a 24/7 calendar.
    server = FifoServer("rep", Calendar.always_open())
    t, wait, prev_work = 0.0, 0.0, 0.0
    for i, gap in enumerate(gaps):
        t += gap
        if i:
            wait = max(0.0, wait + prev_work - gap)
        start, end = server.schedule(t, works[i])
        assert start - t == pytest.approx(wait, abs=1e-9)
        assert end == pytest.approx(start + works[i])
        prev_work = works[i]


# -- ServerPool --------------------------------------------------------------------------------


def _pool(n: int, *, least_loaded: bool) -> ServerPool:
    return ServerPool([FifoServer(f"s{i}", Calendar.always_open()) for i in range(n)], least_loaded=least_loaded)


def test_round_robin_cycles_whatever_the_load():
    pool = _pool(3, least_loaded=False)
    pool.servers[1].free_at = 100.0
    assert [pool.pick().name for _ in range(7)] == ["s0", "s1", "s2", "s0", "s1", "s2", "s0"]


def test_least_loaded_picks_the_earliest_free():
    pool = _pool(3, least_loaded=True)
    for server, free_at in zip(pool.servers, (5.0, 2.0, 7.0), strict=True):
        server.free_at = free_at
    assert pool.pick().name == "s1"
    pool.servers[1].schedule(0.0, 10.0)  # s1 now free at 12
    assert pool.pick().name == "s0"


def test_least_loaded_ties_go_to_the_first():
    pool = _pool(3, least_loaded=True)
    assert pool.pick().name == "s0"
    pool.servers[0].free_at = 1.0
    assert pool.pick().name == "s1"


def test_least_loaded_pool_is_one_fifo_queue():
    # Three workers, six unit tasks arriving at 0: two waves, each task starts as soon as any worker is free.
    pool = _pool(3, least_loaded=True)
    starts = [pool.pick().schedule(0.0, 1.0)[0] for _ in range(6)]
    assert starts == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_empty_pool_raises():
    with pytest.raises(ValueError, match="at least one server"):
        ServerPool([], least_loaded=True)


# -- WindowApproval ------------------------------------------------------------------------------


def window_desk(managers: list[Calendar], review: float = 0.5, budget: float = 1.0) -> WindowApproval:
    config = ApprovalConfig(
        policy="window", review_hours=Dist(dist="fixed", mean=review), windows=["15:30"], window_hours=budget
    )
    return WindowApproval(config, office(), managers, lambda: review, (15.5,))


def test_window_quotes_before_the_window_are_decided_at_window_plus_cumulative_review():
    desk = window_desk([office()])
    assert desk.decide(at(0, 10.0)) == (at(0, 15.5), at(0, 16.0), 0, False)
    assert desk.decide(at(0, 11.0)) == (at(0, 16.0), at(0, 16.5), 0, False)


def test_window_budget_overflow_moves_to_the_next_window():
    desk = window_desk([office()], review=0.5, budget=1.0)
    desk.decide(at(0, 10.0))
    desk.decide(at(0, 11.0))  # the budget of 1 h is used up
    assert desk.decide(at(0, 12.0)) == (at(1, 15.5), at(1, 16.0), 0, False)
    # A later quote submitted before today's window cannot overtake: it queues behind, tomorrow.
    assert desk.decide(at(0, 14.0)) == (at(1, 16.0), at(1, 16.5), 0, False)


def test_window_review_starts_while_any_budget_is_left():
    desk = window_desk([office()], review=0.6, budget=1.0)
    assert desk.decide(at(0, 10.0))[1] == pytest.approx(at(0, 16.1))
    assert desk.decide(at(0, 10.0))[1] == pytest.approx(at(0, 16.7))  # starts at 0.6 < 1.0 used
    assert desk.decide(at(0, 10.0))[0] == pytest.approx(at(1, 15.5))


def test_window_managers_share_the_tray():
    desk = window_desk([office(), office()])
    assert desk.decide(at(0, 10.0)) == (at(0, 15.5), at(0, 16.0), 0, False)
    assert desk.decide(at(0, 10.0)) == (at(0, 15.5), at(0, 16.0), 1, False)
    assert desk.decide(at(0, 10.0)) == (at(0, 16.0), at(0, 16.5), 0, False)


def test_window_away_manager_skips():
    desk = window_desk([office(holidays=(0,)), office()])
    assert desk.decide(at(0, 10.0)) == (at(0, 15.5), at(0, 16.0), 1, False)
    assert desk.decide(at(0, 10.0)) == (at(0, 16.0), at(0, 16.5), 1, False)
    assert desk.decide(at(0, 10.0)) == (at(1, 15.5), at(1, 16.0), 0, False)


def test_window_all_managers_away_waits_for_the_next_working_day():
    desk = window_desk([office(holidays=(0, 1)), office(holidays=(0,))])
    assert desk.decide(at(0, 10.0)) == (at(1, 15.5), at(1, 16.0), 1, False)


def test_window_quote_after_the_window_waits_for_the_next_working_day():
    desk = window_desk([office()])
    assert desk.decide(at(0, 16.0)) == (at(1, 15.5), at(1, 16.0), 0, False)
    desk = window_desk([office()])
    assert desk.decide(at(4, 16.0)) == (at(7, 15.5), at(7, 16.0), 0, False)  # Friday -> Monday
    desk = window_desk([office()])
    assert desk.decide(at(5, 10.0)) == (at(7, 15.5), at(7, 16.0), 0, False)  # Saturday -> Monday


# -- OnlineApproval ----------------------------------------------------------------------------

ONLINE = ((8.0, 21.0),)


def online_desk(
    managers: list[Calendar],
    *,
    gap: float = 2.0,
    escalate_after: float = 1.5,
    review: float = 0.25,
    response: float = 0.5,
) -> OnlineApproval:
    config = ApprovalConfig(
        policy="online",
        review_hours=Dist(dist="fixed", mean=review),
        online_hours=["08:00-21:00"],
        check_interval_hours=gap,
        escalate_after_hours=escalate_after,
        escalation_response_hours=Dist(dist="fixed", mean=response),
        away_reachable_prob=0.0,
    )
    return OnlineApproval(config, managers, [lambda: gap] * len(managers), lambda: review, lambda: response)


def test_online_decided_at_first_check_before_escalation():
    # Checks every 2 working hours from 08:00: 10:00, 12:00, ...
    desk = online_desk([office(intervals=ONLINE)])
    assert desk.decide(at(0, 9.0)) == (at(0, 10.0), at(0, 10.25), 0, False)


def test_online_check_exactly_at_escalation_time_is_not_escalated():
    desk = online_desk([office(intervals=ONLINE)], escalate_after=1.0)
    assert desk.decide(at(0, 9.0)) == (at(0, 10.0), at(0, 10.25), 0, False)


def test_online_one_check_clears_several_requests_one_after_another():
    desk = online_desk([office(intervals=ONLINE)])
    assert desk.decide(at(0, 9.0))[:2] == (at(0, 10.0), at(0, 10.25))
    assert desk.decide(at(0, 9.5))[:2] == (at(0, 10.25), at(0, 10.5))


def test_online_escalated_when_no_check_before_the_deadline():
    desk = online_desk([office(intervals=ONLINE)])
    # Submitted 10:06, next check 12:00 > escalation at 11:36: answered at 11:36 + 0.5 response.
    start, decided, manager, escalated = desk.decide(at(0, 10.1))
    assert escalated
    assert manager == 0
    assert start == pytest.approx(at(0, 11.6 + 0.5))
    assert decided == pytest.approx(at(0, 11.6 + 0.5 + 0.25))


def test_online_escalation_waits_for_the_first_available_manager():
    # Submitted Monday 20:30: escalation at 22:00 is outside online hours. Manager 0 is away
    # on Tuesday, so manager 1 answers at Tuesday 08:00 + response, then reviews.
    desk = online_desk([office(holidays=(1,), intervals=ONLINE), office(intervals=ONLINE)])
    start, decided, manager, escalated = desk.decide(at(0, 20.5))
    assert escalated
    assert manager == 1
    assert start == pytest.approx(at(1, 8.0 + 0.5))
    assert decided == pytest.approx(at(1, 8.0 + 0.5 + 0.25))


def test_online_first_check_across_managers():
    # Manager 0 checks at 10:00, 12:00, ...; manager 1 every 3 h: 11:00, 14:00, ... Submitted
    # 10:30: manager 1's 11:00 check comes first and is before escalation at 12:00.
    managers = [office(intervals=ONLINE), office(intervals=ONLINE)]
    config = ApprovalConfig(
        policy="online",
        review_hours=Dist(dist="fixed", mean=0.25),
        online_hours=["08:00-21:00"],
        check_interval_hours=2.0,
        escalate_after_hours=1.5,
        escalation_response_hours=Dist(dist="fixed", mean=0.5),
        away_reachable_prob=0.0,
    )
    desk = OnlineApproval(config, managers, [lambda: 2.0, lambda: 3.0], lambda: 0.25, lambda: 0.5)
    assert desk.decide(at(0, 10.5)) == (at(0, 11.0), at(0, 11.25), 1, False)


def test_calendar_config_round_trip_for_approval_calendars():
    # The world builds manager calendars from the organisation config with other hours and days off.
    config = CalendarConfig(
        start_date="2024-01-01", workdays=["mon", "tue", "wed", "thu", "fri"], hours=["09:00-18:00"]
    )
    cal = Calendar.from_config(config, intervals=ONLINE, extra_holidays=[1])
    assert cal.next_working_instant(at(0, 21.0)) == at(2, 8.0)
