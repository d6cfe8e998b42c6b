"""The managers' pick rule: what a free manager does next.

Escalated requests first (a pending request past its escalation time), then the approval
inbox in order (online) or the tray while a review window's budget lasts (window), then
contracts to countersign, then the manager's own duties. A review window sees the tray as it
was when the window opened; requests that arrive later wait for the next window.
"""

from __future__ import annotations

from sim.agents.worker import Worker
from sim.tasks import ESCALATION, Task


class ManagerState:
    """A manager's review-window budget (window approval) and whether the inbox is served."""

    __slots__ = ("budget", "cutoff", "online")

    def __init__(self, *, online: bool) -> None:
        self.online = online
        self.budget = 0.0  # review hours left in the current window
        self.cutoff = -1  # the window takes requests with order <= cutoff


def pick_manager_task(worker: Worker, now: float) -> Task | None:
    """The next task of a manager whose queues are (own duties, approvals, countersignatures)."""
    own, approvals, signing = worker.queues
    state = worker.state
    assert isinstance(state, ManagerState)
    if approvals:
        if state.online:
            for i, task in enumerate(approvals):
                if task.kind == ESCALATION:
                    return approvals.pop(i)
            return approvals.pop(0)
        if state.budget > 0:
            for i, task in enumerate(approvals):
                if task.order <= state.cutoff:
                    state.budget -= task.hours * worker.speed
                    return approvals.pop(i)
            state.budget = 0.0  # the tray as it was is done: the window closes
    if signing:
        return signing.pop(0)
    while own and own[0].expires <= now:  # duties of a day that is over are skipped
        worker.on_skip(worker, own.pop(0))
    if own:
        return own.pop(0)
    return None


def pick_clerk_task(worker: Worker, _now: float) -> Task | None:
    """Sales ops key orders in the order they were released."""
    for queue in worker.queues:
        if queue:
            return queue.pop(0)
    return None
