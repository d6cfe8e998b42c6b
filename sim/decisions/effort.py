"""The work policy of a rep under an incentive scheme: the next task is the one the scheme pays most for per hour.

Each week the incentive desk asks the rep's brain (:func:`salesboost.effort.plan_effort`) what
the scheme pays at the margin and stores it as the rep's :class:`Prices`. A pipeline task is
worth the revenue it moves forward times the marginal pay of revenue, plus, for a first call
still inside the response SLA, the marginal pay of timeliness per lead (a floor or the
satisfaction score), and for an account's request the complaint it avoids; planned work
(prospecting, account development, discretionary training) carries the marginal pay of its
kind, and compulsory work (classroom days, the team's training, admin) a fixed worth. So a
scheme that pays only for revenue lets first calls wait behind quotes and contracts, and a
timeliness floor pulls them forward: effort shows up as the order and kind of the rep's work.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sim.agents.rep import RepState
from sim.agents.worker import Pick, Worker
from sim.decisions.work import pick_by
from sim.tasks import FIRST_CONTACT, Task

#: Worth per hour of work the rep cannot decline (classroom days, the team's training slot).
COMPULSORY = 1e12


class Prices:
    """What a rep's scheme pays at the margin this week, per unit the rep's tasks move."""

    __slots__ = ("admin", "complaint", "revenue", "timeliness")

    def __init__(self, revenue: float, timeliness: float, complaint: float, admin: float) -> None:
        self.revenue = revenue  # pay per unit of revenue
        self.timeliness = timeliness  # pay per first call made inside the SLA
        self.complaint = complaint  # pay lost per complaint
        self.admin = admin  # worth of an hour of admin


def scheme_policy(
    revenue_value: Callable[[Task, float], float],
    sla_deadline: Callable[[Task], float],
    late_complaint_prob: float,
) -> Pick:
    """The pick rule of reps under a scheme.

    ``revenue_value(task, now)`` is the expected revenue a pipeline task moves forward (the
    same rule as the expected-value policy, in revenue); ``sla_deadline(task)`` the clock hour
    by which a first call is timely.
    """

    def worth(worker: Worker, task: Task, now: float) -> tuple[float, ...]:
        state = worker.state
        assert isinstance(state, RepState)
        prices = state.prices
        if task.lead is None:  # planned work: its kind's marginal pay, or (routine work) the worth of admin
            per_hour = task.worth if task.worth > 0 else prices.admin
            return (-per_hour, task.order)
        value = prices.revenue * revenue_value(task, now)
        if task.kind == FIRST_CONTACT:
            lead = task.lead
            if lead.attempt <= 1 and not lead.gamed and now <= sla_deadline(task):
                value += prices.timeliness
                if lead.account is not None:
                    value += prices.complaint * late_complaint_prob
        return (-value / max(task.hours, 1e-9), task.order)

    return pick_by(worth)


def first_call_deadline(add_working_time: Callable[[float, float], float], sla_hours: float) -> Callable[[Task], float]:
    """When a task's lead stops being timely: its arrival plus the SLA in working hours (cached on nothing: cheap)."""

    def deadline(task: Task) -> float:
        lead = task.lead
        return add_working_time(lead.arrived, sla_hours) if lead is not None else math.inf

    return deadline
