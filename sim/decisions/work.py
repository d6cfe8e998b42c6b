"""The reps' work policy: which open task a free rep does next.

A policy is a pick rule ``pick(worker, now) -> Task | None`` over the rep's own open work
and the shared queues it serves (a regional lead pool). It sees the rep (its state, with the
period-to-date KPIs), the open tasks and the clock; the incentive model plugs scheme-driven
choice in here by adding a policy. Cancelled tasks (deals already lost) and expired ones
(planned work of a day that is over) are dropped as they are met. Ties go to the task asked
for first.
"""

from __future__ import annotations

from collections.abc import Callable

from salesboost.rules import speed_to_lead_multiplier
from salesboost.scenario import Scenario
from salesboost.work import TASK_KINDS, ExpectedValue, Fifo, OldestFirst, Priority, WorkPolicy
from sim.agents.worker import Pick, Worker
from sim.tasks import ACCOUNT, ADMIN, CONTRACT, FIRST_CONTACT, QUOTE, TRAINING, Task

#: ``score(worker, task, now) -> key``: the task with the smallest key is done first.
Score = Callable[[Worker, Task, float], tuple[float, ...]]


def pick_by(score: Score) -> Pick:
    """A pick rule that takes the open task with the smallest ``score``."""

    def pick(worker: Worker, now: float) -> Task | None:
        best: Task | None = None
        best_key: tuple[float, ...] = ()
        best_queue: list[Task] | None = None
        for queue in worker.queues:
            if not queue:
                continue
            if any(t.cancelled or t.expires <= now for t in queue):
                for t in queue:
                    if not t.cancelled and t.expires <= now:
                        worker.on_skip(worker, t)
                queue[:] = [t for t in queue if not t.cancelled and t.expires > now]
            for task in queue:
                key = score(worker, task, now)
                if best is None or key < best_key:
                    best, best_key, best_queue = task, key, queue
        if best is not None and best_queue is not None:
            best_queue.remove(best)
        return best

    return pick


def pick_fifo(worker: Worker, now: float) -> Task | None:
    """The task asked for first (queues are in arrival order, so only their heads compete)."""
    best: Task | None = None
    best_queue: list[Task] | None = None
    for queue in worker.queues:
        while queue and (queue[0].cancelled or queue[0].expires <= now):
            dropped = queue.pop(0)
            if not dropped.cancelled:
                worker.on_skip(worker, dropped)
        if queue and (best is None or queue[0].order < best.order):
            best, best_queue = queue[0], queue
    if best_queue is not None:
        best_queue.pop(0)
    return best


def work_policy(policy: WorkPolicy, expected_value: Callable[[Task, float], float]) -> Pick:
    """The pick rule of ``policy``; ``expected_value(task, now)`` prices pipeline tasks."""
    if isinstance(policy, Fifo):
        return pick_fifo
    if isinstance(policy, OldestFirst):
        return pick_by(lambda _worker, task, _now: (task.since, task.order))
    if isinstance(policy, Priority):
        kinds = policy.kind_ranks
        channels = policy.channel_ranks
        names = TASK_KINDS

        def rank(_worker: Worker, task: Task, _now: float) -> tuple[float, ...]:
            lead = task.lead
            channel = channels.get(lead.channel, 0) if lead is not None else 0
            return (kinds.get(names[task.kind], 0), channel, task.order)

        return pick_by(rank)
    assert isinstance(policy, ExpectedValue)
    account_value, admin_value = policy.account_value_per_hour, policy.admin_value_per_hour

    def value(_worker: Worker, task: Task, now: float) -> tuple[float, ...]:
        kind = task.kind
        if kind == ACCOUNT:
            per_hour = account_value
        elif kind in (ADMIN, TRAINING):
            per_hour = admin_value
        else:
            per_hour = expected_value(task, now) / max(task.hours, 1e-9)
        return (-per_hour, task.order)

    return pick_by(value)


def scenario_pipeline_value(scenario: Scenario, *, margin: bool = True) -> Callable[[Task, float], float]:
    """:func:`pipeline_value` with ``scenario``'s speed-to-lead curve (and its accounts' own exponent)."""
    speed = scenario.behaviour.speed_to_lead
    return pipeline_value(
        t0_hours=speed.t0_hours,
        beta=speed.beta,
        floor=speed.floor,
        account_beta=scenario.accounts.speed_to_lead_beta,
        margin=margin,
    )


def pipeline_value(
    *, t0_hours: float, beta: float, floor: float, account_beta: float | None = None, margin: bool = True
) -> Callable[[Task, float], float]:
    """Expected gross profit a pipeline task moves forward: P(win from its step) x deal x margin.

    With ``margin`` False the same in revenue (what a scheme that pays on revenue prices).

    A first contact's qualification chance decays with the time the lead has waited
    (:func:`salesboost.rules.speed_to_lead_multiplier`, the rule the simulation applies), an
    account's request with ``account_beta`` (None: ``beta``).
    """
    own = beta if account_beta is None else account_beta

    def value(task: Task, now: float) -> float:
        lead = task.lead
        if lead is None:
            return 0.0
        worth = lead.deal_size * lead.margin if margin else lead.deal_size
        kind = task.kind
        if kind == FIRST_CONTACT:
            decay = speed_to_lead_multiplier(now - lead.arrived, t0_hours, beta if lead.account is None else own, floor)
            return worth * lead.qualify_prob * decay * lead.accept_prob
        if kind == QUOTE:
            return worth * lead.accept_prob
        if kind == CONTRACT:
            return worth
        return 0.0

    return value
