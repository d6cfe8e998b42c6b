"""A person who works through tasks one at a time on a calendar, choosing each by a policy.

Nothing preempts a task once started: a call, a quote or a review runs to its end (pausing
outside working time). Blocked calendar time (internal meetings) and whole days of absence
are not tasks: the calendar simply has no working time then. When a worker becomes free (or
something arrives while it is idle) it asks its pick rule for the next task among its own
open work and the shared queues it serves. The loop is a chain of callbacks, one timeout per
task, rather than a generator process: the same events, without resuming a generator.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from sim.calendar import Calendar
from sim.tasks import Task

#: ``pick(worker, now) -> task or None``: removes and returns the next task (see sim.decisions).
Pick = Callable[["Worker", float], Task | None]
#: ``on_work(worker, task, start, hours)``: tells the recorder about finished work (work hours).
OnWork = Callable[["Worker", Task, float, float], None]
#: ``on_skip(worker, task)``: tells the recorder about planned work that expired undone.
OnSkip = Callable[["Worker", Task], None]


class SharedQueue:
    """Open tasks any of several workers may take (a regional lead pool, an approval inbox)."""

    __slots__ = ("tasks", "workers")

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.workers: list[Worker] = []

    def submit(self, task: Task) -> None:
        """Add ``task`` and wake the idle workers who serve this queue."""
        self.tasks.append(task)
        for worker in self.workers:
            if not worker.busy:
                worker.wake()


class Worker:
    """One person: calendar, open work, shared queues served, speed, and a pick rule."""

    __slots__ = (
        "_current",
        "_hours",
        "busy",
        "calendar",
        "env",
        "index",
        "name",
        "on_skip",
        "on_work",
        "own",
        "pick",
        "queues",
        "region",
        "role",
        "speed",
        "state",
        "waking",
    )

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        *,
        role: str,
        region: str,
        calendar: Calendar,
        pick: Pick,
        on_work: OnWork,
        on_skip: OnSkip | None = None,
        speed: float = 1.0,
        shared: tuple[SharedQueue, ...] = (),
    ) -> None:
        self.env = env
        self.name = name
        self.role = role
        self.region = region
        self.calendar = calendar
        self.pick = pick
        self.on_work = on_work
        self.on_skip: OnSkip = on_skip or _ignore
        self.speed = speed  # work hours per task hour: 1 / the person's productivity
        self.own: list[Task] = []
        self.queues: list[list[Task]] = [self.own, *(q.tasks for q in shared)]
        for queue in shared:
            queue.workers.append(self)
        self.busy = False
        self.waking = False
        self.index = 0  # the recorder's id for this worker
        self.state: object = None  # the agent's own state (a rep's period-to-date KPIs, a manager's tray budget)
        self._current: Task | None = None
        self._hours = 0.0  # work hours of the current task, fixed when it starts

    def submit(self, task: Task) -> None:
        """Add ``task`` to this worker's own open work."""
        self.own.append(task)
        if not self.busy:
            self.wake()

    def wake(self) -> None:
        """Start the next task now, or at the next working instant if off work."""
        if self.busy or self.waking:
            return
        env = self.env
        now = env.now
        start = self.calendar.next_working_instant(now)
        if start > now:
            self.waking = True
            env.timeout(start - now).callbacks.append(self._woken)
            return
        self._next(now)

    def _woken(self, _event: object) -> None:
        self.waking = False
        if not self.busy:
            self._next(self.env.now)

    def _next(self, now: float) -> None:
        task = self.pick(self, now)
        if task is None:
            return
        self.busy = True
        self._current = task
        task.started = now
        task.worker = self
        # The speed at the start sets the hours: a change of speed mid-task (a month's new
        # ramp or a hire) applies from the next task, and the hours charged are those worked.
        hours = self._hours = task.hours * self.speed
        end = self.calendar.add_working_time(now, hours)
        self.env.timeout(end - now).callbacks.append(self._finished)

    def _finished(self, _event: object) -> None:
        task = self._current
        assert task is not None
        now = self.env.now
        self.busy = False
        self._current = None
        self.on_work(self, task, task.started, self._hours)
        if task.done is not None:
            task.done(task, now)
        if not self.busy:
            self.wake()


def _ignore(worker: Worker, task: Task) -> None:
    """Skipped work that nobody counts."""
