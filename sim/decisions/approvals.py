"""The managers' pick rule: what a free manager does next.

Escalated requests first (a pending request past its escalation time), then the approval
inbox in order (online) or the tray while a review window's budget lasts (window), then
contracts to countersign, then the manager's own duties. A review window sees the tray as it
was when the window opened; requests that arrive later wait for the next window.

With a pilot pipeline of the other approval kind, both kinds of request share the one queue
(``mixed``): each request's lead says its kind (``lead.stages.online``), online requests come
first, and the window takes the tray's requests as above.
"""

from __future__ import annotations

from sim.agents.worker import Worker
from sim.tasks import ESCALATION, Task


class ManagerState:
    """A manager's review-window budget (window approval) and which requests are online.

    ``online``: every request is answered online; ``mixed``: online and window requests
    share the queue, each request's lead says which it is.
    """

    __slots__ = ("budget", "cutoff", "mixed", "online")

    def __init__(self, *, online: bool, mixed: bool = False) -> None:
        self.online = online
        self.mixed = mixed
        self.budget = 0.0  # review hours left in the current window
        self.cutoff = -1  # the window takes requests with order <= cutoff


def _inbox(approvals: list[Task], *, every: bool) -> Task | None:
    """The next online request: an escalated one first, then in order (``every``: all requests are online)."""
    for i, task in enumerate(approvals):
        if task.kind == ESCALATION:
            return approvals.pop(i)
    if every:
        return approvals.pop(0)
    for i, task in enumerate(approvals):
        if task.lead.stages.online:
            return approvals.pop(i)
    return None


def _drop_lost(queue: list[Task]) -> None:
    """Remove the requests of deals lost while they waited: nobody reviews or signs a lost deal."""
    if any(task.cancelled for task in queue):
        queue[:] = [task for task in queue if not task.cancelled]


def pick_manager_task(worker: Worker, now: float) -> Task | None:
    """The next task of a manager whose queues are (own duties, approvals, countersignatures)."""
    own, approvals, signing = worker.queues
    state = worker.state
    assert isinstance(state, ManagerState)
    _drop_lost(approvals)
    _drop_lost(signing)
    if approvals:
        if state.online or state.mixed:
            task = _inbox(approvals, every=not state.mixed)
            if task is not None:
                return task
        if state.budget > 0:  # what is left are the tray's requests
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
