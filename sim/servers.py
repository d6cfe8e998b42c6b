"""People who work through tasks first come, first served, on a working calendar.

A FIFO worker without preemption needs no queue object: a task asked for at ``ready``
starts when the worker is next free and at work, and ends after its work time on the
worker's calendar (the Lindley recursion). Stages call :meth:`FifoServer.schedule` at the
simulation time the task is requested, so requests are served in the order they arrive.
"""

from __future__ import annotations

from sim.calendar import Calendar


class FifoServer:
    """One person (a rep, a sales ops clerk) with a calendar."""

    __slots__ = ("calendar", "free_at", "name")

    def __init__(self, name: str, calendar: Calendar) -> None:
        self.name = name
        self.calendar = calendar
        self.free_at = 0.0

    def schedule(self, ready: float, work: float) -> tuple[float, float]:
        """Book ``work`` hours no earlier than ``ready``; return the task's start and end."""
        calendar = self.calendar
        start = calendar.next_working_instant(ready if ready > self.free_at else self.free_at)
        end = calendar.add_working_time(start, work)
        self.free_at = end
        return start, end


class ServerPool:
    """Interchangeable workers; ``round_robin`` or ``least_loaded`` picks who gets a task.

    ``least_loaded`` picks the worker who is free first, which makes a pool of FIFO
    workers behave like one FIFO queue served by all of them (M/M/c when times are
    exponential and the calendar is 24/7).
    """

    __slots__ = ("_next", "least_loaded", "servers")

    def __init__(self, servers: list[FifoServer], *, least_loaded: bool) -> None:
        if not servers:
            raise ValueError("a server pool needs at least one server")
        self.servers = servers
        self.least_loaded = least_loaded
        self._next = 0

    def pick(self) -> FifoServer:
        """The worker who gets the next task."""
        servers = self.servers
        if self.least_loaded:
            best = servers[0]
            for server in servers:
                if server.free_at < best.free_at:
                    best = server
            return best
        server = servers[self._next]
        self._next = (self._next + 1) % len(servers)
        return server
