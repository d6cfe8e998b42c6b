"""Quote approval by managers: daily review windows, or an online inbox with escalation.

Both desks answer one question at the simulation time a quote is submitted: when is it
decided, and by whom. Requests are handled first come, first served, so the answer can be
computed at submission, without an event per manager action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from salesboost.pipeline import ApprovalConfig
from sim.calendar import HOURS_PER_DAY, Calendar

_INF = float("inf")


class WindowApproval:
    """Managers review the tray at fixed times on working days, within a time budget.

    A manager who is away (a day off in their calendar) skips the window; quotes the window
    cannot fit wait for the next one. A quote submitted during a window waits for the next.
    """

    def __init__(
        self,
        config: ApprovalConfig,
        organisation: Calendar,
        managers: list[Calendar],
        review_hours: Callable[[], float],
        times: tuple[float, ...],
    ) -> None:
        self._organisation = organisation
        self._managers = managers
        self._review = review_hours
        self._times = times
        self._budget = float(config.window_hours or 0.0)
        self._window = -1.0
        self._used: list[float] = []

    def decide(self, submitted: float) -> tuple[float, float, int, bool]:
        """Review start, decision time, deciding manager, and whether it was escalated (never)."""
        window = max(self._organisation.next_daily_instant(submitted, self._times), self._window)
        while True:
            if window != self._window:
                day = int(window // HOURS_PER_DAY)
                self._window = window
                self._used = [0.0 if m.is_workday(day) else _INF for m in self._managers]
            used = self._used
            manager = min(range(len(used)), key=used.__getitem__)
            if used[manager] < self._budget:
                review = self._review()
                start = window + used[manager]
                used[manager] += review
                return start, start + review, manager, False
            window = self._organisation.next_daily_instant(window + 1e-9, self._times)


class OnlineApproval:
    """Managers check an online inbox at random times while available (Poisson checks).

    A request still pending ``escalate_after_hours`` after submission is escalated: the first
    available manager answers after an escalation response delay.
    """

    def __init__(
        self,
        config: ApprovalConfig,
        managers: list[Calendar],
        check_gaps: Sequence[Callable[[], float]],
        review_hours: Callable[[], float],
        escalation_response_hours: Callable[[], float],
    ) -> None:
        self._managers = managers
        self._gaps = check_gaps
        self._review = review_hours
        self._response = escalation_response_hours
        self._escalate_after = float(config.escalate_after_hours or 0.0)
        self._next_check = [m.add_working_time(0.0, gap()) for m, gap in zip(managers, check_gaps, strict=True)]
        self._busy_until = [0.0] * len(managers)

    def _first_check(self, after: float) -> tuple[float, int]:
        best, best_manager = _INF, 0
        for m, calendar in enumerate(self._managers):
            check = self._next_check[m]
            while check < after:
                check = calendar.add_working_time(check, self._gaps[m]())
            self._next_check[m] = check
            if check < best:
                best, best_manager = check, m
        return best, best_manager

    def decide(self, submitted: float) -> tuple[float, float, int, bool]:
        """Review start, decision time, deciding manager, and whether the request was escalated."""
        review = self._review()
        check, manager = self._first_check(submitted)
        escalation = submitted + self._escalate_after
        start = max(check, self._busy_until[manager])
        if start <= escalation:
            self._busy_until[manager] = start + review
            return start, start + review, manager, False
        answer, manager = min((m.next_working_instant(escalation), i) for i, m in enumerate(self._managers))
        start = answer + self._response()
        return start, start + review, manager, True
