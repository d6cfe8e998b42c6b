"""Work items: what reps, managers and sales ops do, one task at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from salesboost.work import TASK_KINDS

(
    FIRST_CONTACT,
    QUOTE,
    CONTRACT,
    ACCOUNT,
    PROSPECTING,
    ADMIN,
    TRAINING,
    APPROVAL,
    ESCALATION,
    COUNTERSIGN,
    DUTIES,
    ORDER_ENTRY,
) = range(len(TASK_KINDS))

#: Kinds that face the customer: the survey definition of "selling time".
SELLING_KINDS = frozenset((FIRST_CONTACT, ACCOUNT, PROSPECTING))

#: ``done(task, now)``: called when the task's work ends (or when it is dropped, ``task.dropped``).
Done = Callable[["Task", float], None]


class Task:
    """One piece of work: its kind, work hours, the request it serves and who to tell when done.

    ``order`` is a run-wide sequence number (FIFO). ``since`` is the arrival of the request the
    task serves (the lead or account request), which oldest-first ranks by. A task whose deal
    is lost before it starts is ``cancelled`` and skipped by the worker, who never spends time
    on it. Planned own work (admin, training, account service) ``expires`` at the end of its
    day: a rep who cannot get to it that day skips it (counted), so a busy day never builds a
    backlog that outlives it.
    """

    __slots__ = (
        "cancelled",
        "done",
        "expires",
        "hours",
        "kind",
        "lead",
        "order",
        "since",
        "started",
        "worker",
        "worth",
    )

    def __init__(self, kind: int, hours: float, lead: Any, done: Done | None, *, since: float, order: int) -> None:
        self.kind = kind
        self.hours = hours
        self.lead = lead
        self.done = done
        self.since = since
        self.order = order
        self.cancelled = False
        self.started = -1.0
        self.expires = float("inf")
        self.worker: Any = None  # who did it (set when started)
        self.worth = 0.0  # value per hour a rep under an incentive scheme puts on planned work (sim.decisions.effort)
