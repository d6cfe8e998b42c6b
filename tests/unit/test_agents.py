"""Agents on toy calendars: a worker's task loop, the reps' work policies, the managers' pick rule.

Times are clock hours from Monday 00:00. Task lengths are fixed, so every start and end is
known exactly.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy

import sim
from salesboost import Scenario
from salesboost.rules import attempts_to_reach, speed_to_lead_multiplier
from salesboost.work import TASK_KINDS, ExpectedValue, Fifo, OldestFirst, Priority
from sim.agents.worker import SharedQueue, Worker
from sim.calendar import Calendar
from sim.decisions.approvals import ManagerState, pick_clerk_task, pick_manager_task
from sim.decisions.work import pick_fifo, pipeline_value, work_policy
from sim.tasks import ACCOUNT, ADMIN, APPROVAL, COUNTERSIGN, DUTIES, ESCALATION, FIRST_CONTACT, QUOTE, Task
from tests.support import mmc_sections

DAY = 24.0


def at(day: int, hour: float) -> float:
    return day * DAY + hour


def office() -> Calendar:
    """Mon-Fri, 09:00-12:00 and 13:00-17:00, from a Monday."""
    return Calendar(start_weekday=0, workdays=range(5), intervals=((9.0, 12.0), (13.0, 17.0)))


class Log:
    """Records what workers did and skipped: (worker, task name, start, end, work hours)."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.done: list[tuple[str, str, float, float, float]] = []
        self.skipped: list[str] = []

    def on_work(self, worker: Worker, task: Task, start: float, hours: float) -> None:
        self.done.append((worker.name, task.lead.name, start, self.env.now, hours))

    def on_skip(self, _worker: Worker, task: Task) -> None:
        self.skipped.append(task.lead.name)


_order = iter(range(10**9))


def task(name: str, hours: float, kind: int = FIRST_CONTACT, *, since: float = 0.0, **lead: Any) -> Task:
    """A task for a stand-in lead called ``name`` (the lead's fields as keywords)."""
    lead.setdefault("channel", "web")
    lead.setdefault("account", None)  # a prospect, not an account's request
    return Task(kind, hours, SimpleNamespace(name=name, **lead), None, since=since, order=next(_order))


def worker(env: simpy.Environment, log: Log, *, name: str = "rep", pick=pick_fifo, calendar=None, **kw: Any) -> Worker:
    return Worker(
        env,
        name,
        role="rep",
        region="north",
        calendar=calendar or office(),
        pick=pick,
        on_work=log.on_work,
        on_skip=log.on_skip,
        **kw,
    )


def submit_at(env: simpy.Environment, t: float, target: Worker | SharedQueue, item: Task) -> None:
    env.timeout(t).callbacks.append(lambda _e: target.submit(item))


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def log(env) -> Log:
    return Log(env)


# -- the worker's task loop ---------------------------------------------------------------------


def test_worker_on_a_calendar_waits_for_opening_and_pauses_outside_working_time(env, log):
    rep = worker(env, log)
    submit_at(env, at(0, 8.0), rep, task("a", 2.0))  # before opening: starts at 09:00
    submit_at(env, at(0, 9.5), rep, task("b", 2.0))  # waits for a, then pauses over lunch
    submit_at(env, at(0, 16.5), rep, task("c", 1.0))  # free rep: half today, half tomorrow
    submit_at(env, at(4, 16.0), rep, task("d", 2.0))  # Friday: continues on Monday
    submit_at(env, at(5, 10.0), rep, task("e", 1.0))  # Saturday: an idle rep wakes on Monday, after d
    env.run()
    assert log.done == [
        ("rep", "a", at(0, 9.0), at(0, 11.0), 2.0),
        ("rep", "b", at(0, 11.0), at(0, 14.0), 2.0),
        ("rep", "c", at(0, 16.5), at(1, 9.5), 1.0),
        ("rep", "d", at(4, 16.0), at(7, 10.0), 2.0),
        ("rep", "e", at(7, 10.0), at(7, 11.0), 1.0),
    ]


def test_worker_does_not_preempt_a_started_task(env, log):
    # A rule that always prefers "urgent" still waits for the running task to end.
    def urgent_first(w: Worker, _now: float) -> Task | None:
        queue = w.own
        if not queue:
            return None
        best = min(queue, key=lambda t: (t.lead.name != "urgent", t.order))
        queue.remove(best)
        return best

    rep = worker(env, log, pick=urgent_first, calendar=Calendar.always_open())
    rep.submit(task("long", 5.0))
    submit_at(env, 1.0, rep, task("normal", 1.0))
    submit_at(env, 2.0, rep, task("urgent", 1.0))
    env.run()
    assert [(name, start, end) for _, name, start, end, _ in log.done] == [
        ("long", 0.0, 5.0),
        ("urgent", 5.0, 6.0),  # jumps the queue, but only when the rep is free
        ("normal", 6.0, 7.0),
    ]


def test_worker_speed_scales_work_hours(env, log):
    rep = worker(env, log, calendar=Calendar.always_open(), speed=1.5)
    rep.submit(task("a", 2.0))
    env.run()
    assert log.done == [("rep", "a", 0.0, 3.0, 3.0)]


def test_a_change_of_speed_mid_task_charges_the_hours_worked(env, log):
    rep = worker(env, log, calendar=Calendar.always_open(), speed=1.5)
    rep.submit(task("a", 2.0))
    rep.submit(task("b", 2.0))

    def ramp_up():
        yield env.timeout(1.0)
        rep.speed = 1.0  # mid-task: "a" keeps the speed it started with

    env.process(ramp_up())
    env.run()
    assert log.done == [("rep", "a", 0.0, 3.0, 3.0), ("rep", "b", 3.0, 5.0, 2.0)]


def test_shared_queue_wakes_every_idle_worker(env, log):
    pool = SharedQueue()
    reps = [worker(env, log, name=f"r{i}", calendar=Calendar.always_open(), shared=(pool,)) for i in range(2)]
    for t in (task("a", 3.0), task("b", 3.0), task("c", 1.0)):
        submit_at(env, 1.0, pool, t)
    reps[1].submit(task("own", 0.5))  # r1 busy at the start with its own work
    env.run()
    by_task = {name: (who, start, end) for who, name, start, end, _ in log.done}
    assert by_task["own"] == ("r1", 0.0, 0.5)
    assert by_task["a"] == ("r0", 1.0, 4.0)  # both idle reps start at the submission instant
    assert by_task["b"] == ("r1", 1.0, 4.0)
    assert by_task["c"][1] == 4.0  # the third waits for the first free rep
    assert not pool.tasks


def test_shared_queue_wakes_an_idle_worker_at_its_next_working_instant(env, log):
    pool = SharedQueue()
    worker(env, log, shared=(pool,))
    submit_at(env, at(0, 20.0), pool, task("evening", 1.0))
    env.run()
    assert log.done == [("rep", "evening", at(1, 9.0), at(1, 10.0), 1.0)]


def test_done_callback_runs_when_the_work_ends(env, log):
    ended: list[tuple[str, float]] = []
    rep = worker(env, log, calendar=Calendar.always_open())
    item = task("a", 2.5)
    item.done = lambda t, now: ended.append((t.lead.name, now))
    rep.submit(item)
    env.run()
    assert ended == [("a", 2.5)]
    assert item.worker is rep
    assert item.started == 0.0


# -- work policies: which open task a free rep takes -------------------------------------------------


def first_pick(pick, tasks: list[Task], now: float = 10.0, shared: list[Task] | None = None):
    """What ``pick`` takes first, and what it skipped, from a rep holding ``tasks`` (and a pool)."""
    env = simpy.Environment()
    log = Log(env)
    pool = SharedQueue()
    rep = worker(env, log, pick=pick, shared=(pool,))
    rep.own.extend(tasks)
    pool.tasks.extend(shared or [])
    chosen = pick(rep, now)
    if chosen is None:
        return None, log.skipped, rep
    return (chosen.lead.name if chosen.lead is not None else TASK_KINDS[chosen.kind]), log.skipped, rep


def test_fifo_takes_the_task_asked_for_first_across_own_work_and_the_pool():
    a, b, c = task("a", 1.0), task("b", 1.0), task("c", 1.0)
    assert first_pick(pick_fifo, [b, c], shared=[a])[0] == "a"
    assert first_pick(pick_fifo, [a, c], shared=[b])[0] == "a"
    chosen, _, rep = first_pick(pick_fifo, [a, b], shared=[c])
    assert chosen == "a"
    assert [t.lead.name for t in rep.own] == ["b"]  # taken out of the queue it came from


def test_oldest_first_ranks_by_the_request_arrival_not_the_task_order():
    pick = work_policy(OldestFirst(), lambda _t, _n: 0.0)
    young = task("young", 1.0, since=8.0)
    old = task("old", 1.0, QUOTE, since=2.0)  # asked for later, but its lead came first
    assert first_pick(pick, [young, old])[0] == "old"
    tie = task("tie", 1.0, since=2.0)
    assert first_pick(pick, [old, tie])[0] == "old"  # ties go to the task asked for first


def test_priority_ranks_by_kind_then_channel_then_order():
    pick = work_policy(Priority(kind_ranks={"quote": 0, "first_contact": 1}, channel_ranks={"hi": 0, "lo": 1}), None)
    lo_call = task("lo_call", 1.0, channel="lo")
    hi_call = task("hi_call", 1.0, channel="hi")
    lo_quote = task("lo_quote", 1.0, QUOTE, channel="lo")
    assert first_pick(pick, [lo_call, hi_call, lo_quote])[0] == "lo_quote"
    assert first_pick(pick, [lo_call, hi_call])[0] == "hi_call"
    hi_again = task("hi_again", 1.0, channel="hi")
    assert first_pick(pick, [hi_again, hi_call])[0] == "hi_call"  # FIFO (task order) within a rank
    admin = Task(ADMIN, 1.0, None, None, since=0.0, order=next(_order))  # no lead: channel rank 0
    assert first_pick(pick, [lo_call, admin])[0] == "admin"  # unranked kinds rank 0, before first_contact (1)


def test_expected_value_takes_the_most_gross_profit_per_hour():
    t0, beta, floor = 0.5, 0.5, 0.2
    value = pipeline_value(t0_hours=t0, beta=beta, floor=floor)
    pick = work_policy(ExpectedValue(account_value_per_hour=500.0, admin_value_per_hour=10.0), value)
    lead = {"deal_size": 10_000.0, "margin": 0.4, "qualify_prob": 0.5, "accept_prob": 0.5}
    fresh = task("fresh", 0.5, arrived=9.9, **lead)  # 0.1 h old: no decay, 1000 in 0.5 h = 2000 per hour
    stale = task("stale", 0.5, arrived=0.0, **lead)  # 10 h old: decay 20^-0.5 = 0.224, 447 per hour
    account = task("account", 1.0, ACCOUNT)
    assert value(fresh, 10.0) == pytest.approx(10_000 * 0.4 * 0.5 * 0.5)
    assert value(stale, 10.0) == pytest.approx(1000.0 * speed_to_lead_multiplier(10.0, t0, beta, floor))
    assert first_pick(pick, [stale, account, fresh])[0] == "fresh"
    assert first_pick(pick, [stale, account])[0] == "account"  # 500 > 447 per hour
    quote = task("quote", 1.0, QUOTE, arrived=0.0, **lead)  # 4000 x 0.5 / 1 h = 2000 per hour, ties fresh
    assert first_pick(pick, [quote, fresh])[0] == "fresh"  # equal value: the task asked for first
    assert first_pick(pick, [stale, task("q", 0.5, QUOTE, **lead)])[0] == "q"  # 4000 per hour
    admin = Task(ADMIN, 0.5, None, None, since=0.0, order=next(_order))
    assert first_pick(pick, [admin, task("acct", 1.0, ACCOUNT)])[0] == "acct"  # 500 > 10 per hour
    assert first_pick(pick, [admin, stale])[0] == "stale"


@pytest.mark.parametrize("policy", [Fifo(), OldestFirst(), Priority({}, {}), ExpectedValue(1.0, 1.0)])
def test_every_policy_drops_cancelled_tasks_silently_and_reports_expired_ones(policy):
    pick = work_policy(policy, lambda _t, _n: 1.0)
    cancelled = task("cancelled", 1.0, ADMIN)
    cancelled.cancelled = True
    expired = task("expired", 1.0, ADMIN)
    expired.expires = 10.0  # the day it was planned for is over at 10.0
    later = task("later", 1.0, ADMIN)
    later.expires = 34.0
    chosen, skipped, rep = first_pick(pick, [cancelled, expired, later], now=10.0)
    assert chosen == "later"
    assert skipped == ["expired"]  # the expired one is counted, the cancelled one is not
    assert rep.own == []


# -- the managers' pick rule -----------------------------------------------------------------------


def manager(online: bool) -> tuple[Worker, SharedQueue, SharedQueue, Log]:
    env = simpy.Environment()
    log = Log(env)
    approvals, signing = SharedQueue(), SharedQueue()
    m = worker(env, log, name="m", pick=pick_manager_task, shared=(approvals, signing))
    m.state = ManagerState(online=online)
    return m, approvals, signing, log


def names(m: Worker, now: float = 10.0) -> list[str]:
    """Everything ``m`` would do, in order, from the queues as they are."""
    out = []
    while (chosen := m.pick(m, now)) is not None:
        out.append(chosen.lead.name)
    return out


def test_online_manager_takes_escalations_first_then_the_inbox_then_signing_then_duties():
    m, approvals, signing, log = manager(online=True)
    m.own.extend([task("duty", 0.5, DUTIES), task("old_duty", 0.5, DUTIES)])
    m.own[1].expires = 5.0
    m.own.sort(key=lambda t: t.expires)
    approvals.tasks.extend([task("q1", 0.2, APPROVAL), task("q2", 0.2, ESCALATION), task("q3", 0.2, APPROVAL)])
    signing.tasks.append(task("sign", 0.1, COUNTERSIGN))
    assert names(m) == ["q2", "q1", "q3", "sign", "duty"]
    assert log.skipped == ["old_duty"]  # duties of a day that is over are skipped, and counted


@pytest.mark.parametrize("online", [True, False])
def test_manager_never_reviews_or_signs_a_deal_lost_while_it_waited(online):
    m, approvals, signing, log = manager(online=online)
    lost_request, lost_signature = task("lost_q", 0.2, APPROVAL), task("lost_sign", 0.1, COUNTERSIGN)
    approvals.tasks.extend([lost_request, task("q", 0.2, APPROVAL)])
    signing.tasks.extend([lost_signature, task("sign", 0.1, COUNTERSIGN)])
    lost_request.cancelled = lost_signature.cancelled = True
    m.state.budget, m.state.cutoff = 10.0, approvals.tasks[-1].order  # a window is open on the whole tray
    assert names(m) == ["q", "sign"]
    assert log.skipped == []  # a lost deal's request is dropped, not counted as skipped work


def test_window_manager_works_the_tray_as_it_was_within_the_budget():
    m, approvals, signing, _ = manager(online=False)
    approvals.tasks.extend([task(f"q{i}", 0.4, APPROVAL) for i in range(4)])
    cutoff = approvals.tasks[2].order  # the window opened after q2 arrived
    signing.tasks.append(task("sign", 0.1, COUNTERSIGN))
    m.own.append(task("duty", 0.5, DUTIES))
    assert names(m) == ["sign", "duty"]  # no window open: the tray waits
    m.own.append(task("duty2", 0.5, DUTIES))
    signing.tasks.append(task("sign2", 0.1, COUNTERSIGN))
    m.state.budget, m.state.cutoff = 1.0, cutoff
    # 1.0 h of budget: q0 (0.4), q1 (0.4) leave 0.2 > 0, so q2 starts too and overdraws; q3 came after the cutoff.
    assert names(m) == ["q0", "q1", "q2", "sign2", "duty2"]
    assert m.state.budget == pytest.approx(-0.2)
    assert [t.lead.name for t in approvals.tasks] == ["q3"]


def test_window_closes_when_the_tray_as_it_was_is_done():
    m, approvals, _, _ = manager(online=False)
    approvals.tasks.append(task("q0", 0.4, APPROVAL))
    m.state.budget, m.state.cutoff = 5.0, approvals.tasks[0].order
    assert names(m) == ["q0"]
    approvals.tasks.append(task("late", 0.4, APPROVAL))
    assert names(m) == []
    assert m.state.budget == 0.0  # nothing of the old tray left: the window is over


def test_clerk_keys_orders_in_release_order():
    env = simpy.Environment()
    log = Log(env)
    queue = SharedQueue()
    clerk = worker(env, log, pick=pick_clerk_task, shared=(queue,))
    queue.tasks.extend([task("o1", 0.1), task("o2", 0.1)])
    assert [clerk.pick(clerk, 0.0).lead.name, clerk.pick(clerk, 0.0).lead.name] == ["o1", "o2"]
    assert clerk.pick(clerk, 0.0) is None


# -- contact attempts: geometric with a cap ---------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.35, 0.7])
def test_attempts_to_reach_is_geometric(p):
    u = np.random.default_rng(1).random(100_000)
    attempts = np.array([attempts_to_reach(x, p) for x in u])
    for k in (1, 2, 3, 5):
        expected = (1 - p) ** (k - 1) * p
        observed = float(np.mean(attempts == k))
        assert observed == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / len(u))), k
    assert attempts.mean() == pytest.approx(1 / p, rel=0.02)


def test_attempts_to_reach_is_monotone_in_the_contact_probability():
    u = np.random.default_rng(2).random(2000)
    low = np.array([attempts_to_reach(x, 0.3) for x in u])
    high = np.array([attempts_to_reach(x, 0.6) for x in u])
    assert np.all(high <= low)  # the same lead needs no more attempts when each is likelier to reach it
    assert attempts_to_reach(0.0, 1.0) == 1


def test_capped_attempts_reach_one_minus_the_miss_probability_to_the_cap(tmp_path):
    # End to end: with contact_prob p and max_attempts m, P(contacted) = 1 - (1 - p)^m, and the
    # number of attempts of a lead is min(Geometric(p), m), counted from the event log's calls.
    p, m = 0.4, 3
    data = mmc_sections(servers=3, arrival_rate=0.5, service_mean=0.2, days=60.0, warmup_days=2.0, drain_days=5.0)
    data["behaviour"]["contact_prob"] = p
    data["pipeline"]["followup"]["max_attempts"] = m
    path = tmp_path / "log.parquet"
    result = sim.run(Scenario.from_dict(data), 5, 0, event_log=path)
    leads = result.funnel["leads"]
    expected = 1 - (1 - p) ** m
    tolerance = 4 * math.sqrt(expected * (1 - expected) / leads)
    assert result.funnel["contacted"] / leads == pytest.approx(expected, abs=tolerance)
    assert result.outcomes["not_contacted"] + result.funnel["contacted"] == leads - result.outcomes["in_flight"]
    log = pd.read_parquet(path)
    calls = log[log["concept:name"].isin(["call_attempt", "first_contact"])]
    attempts = calls.groupby("case:concept:name").size()
    n = len(attempts)
    for k in range(1, m + 1):
        reference = (1 - p) ** (k - 1) * (p if k < m else 1.0)  # the last attempt takes the whole tail
        share = float((attempts == k).mean())
        assert share == pytest.approx(reference, abs=4 * math.sqrt(reference * (1 - reference) / n)), k
    assert attempts.max() == m
