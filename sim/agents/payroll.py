"""Payroll: each seat's running figures, its quota, and the settlement of every period under the scheme.

At the end of each settlement period (and when a rep leaves) the seat's figures since the
period started (or its person was hired) become a :class:`~salesboost.incentive.PeriodKpis` and
:func:`salesboost.incentive.payout` says what is paid; the quota ratchets, missed floors are
counted, and a rep who missed one ``floor_exit_after`` times in a row is let go.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from salesboost.incentive import PeriodKpis, next_quota, payout
from sim.agents.rep import rep_state
from sim.agents.staffing import StaffingDesk
from sim.agents.worker import Worker
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.rep_book import RepBook
from sim.world import World


class Running:
    """One seat's figures since its settlement period started (or its person was hired)."""

    __slots__ = ("complaints", "days", "first", "new_customers", "revenue", "served", "start", "timely")

    def __init__(self, start: float) -> None:
        self.start = start
        self.revenue = 0.0
        self.new_customers = 0
        self.first = 0
        self.timely = 0
        self.complaints = 0
        self.served: set[str] = set()
        self.days = 0.0  # days in post


class Payroll:
    """Quotas, running figures and settlements of every rep seat."""

    def __init__(self, world: World, book: RepBook, staffing: StaffingDesk) -> None:
        self.world = world
        self.book = book
        self.staffing = staffing
        scheme = world.scenario.incentive
        self.schemes = [scheme] * len(world.reps)  # each seat's scheme (a pilot or a playbook may change some)
        self._work = world.scenario.reps.work
        self.quota = [scheme.quota_per_month] * len(world.reps)  # monthly quota per seat (ratchets)
        self.running = [Running(0.0) for _ in world.reps]

    def period_of(self, m: int, seat: int) -> tuple[int, int]:
        """(first month index, last month index) of ``seat``'s settlement period holding month ``m``."""
        months = self.schemes[seat].months
        calendar_month = self.book.months[m][0].month - 1  # 0-11
        first = m - calendar_month % months
        return first, first + months - 1

    def settle_due(self, m: int, now: float) -> None:
        """Settle every seat whose settlement period ends with month ``m``."""
        for seat, rep in enumerate(self.world.reps):
            if self.period_of(m, seat)[1] == m:
                self.settle(seat, rep, m, now, left=False)

    def settle(self, seat: int, rep: Worker, m: int, now: float, *, left: bool) -> None:
        """Settle ``seat`` for the period holding month ``m`` at ``now`` (``left``: its rep is leaving)."""
        scheme = self.schemes[seat]
        run = self.running[seat]
        first, _last = self.period_of(m, seat)
        months = self.book.months
        period_days = (months[m][2] - months[max(first, 0)][1]) / HOURS_PER_DAY
        share = min(1.0, run.days / period_days) if period_days > 0 else 0.0
        self.running[seat] = Running(now)
        if share <= 0:
            return
        state = rep_state(rep)
        career = self.staffing.careers[seat]
        owned = [a for a in state.owned if a.owner is rep]
        timeliness = run.timely / run.first if run.first else math.nan
        complaints = run.complaints / len(run.served) if run.served else math.nan
        metrics = {
            "new_customers": float(run.new_customers),
            "repurchase_rate": repurchase(owned, run.start),
            "high_value_share": share_of(owned, lambda a: a.tier == "high_value"),
            "satisfaction": satisfaction(
                self._work, 1.0 if math.isnan(timeliness) else timeliness, 0.0 if math.isnan(complaints) else complaints
            ),
            "training_score": career.training_score,
            "data_use": 1.0 if career.data_found else 0.0,
            "team_attainment": self.team_attainment(rep),
        }
        if "collaboration" in scheme.scorecard:  # not simulated: everybody scores the target
            metrics["collaboration"] = scheme.scorecard["collaboration"].target
        quota = self.quota[seat] * scheme.months
        kpis = PeriodKpis(
            revenue=run.revenue,
            quota=quota,
            employed_share=share,
            metrics=metrics,
            gates={"timeliness": timeliness, "complaint_rate": complaints},
            left=left,
        )
        pay = payout(scheme, kpis)
        self.book.settle(
            seat,
            self.book.month_of(now - 1e-6),
            {
                "period_revenue": run.revenue,
                "period_quota": quota * share,
                "attainment": pay.attainment,
                "payout": pay.total,
                "floor_cut": pay.floor_cut,
                "months": float(scheme.months),
                "in_post": 0.0 if left else 1.0,
            },
        )
        career.last_attainment = pay.attainment
        career.last_cut = pay.floor_cut > 0
        career.data_found = False
        if not left:
            self.quota[seat] = next_quota(scheme, quota, run.revenue / share) / scheme.months
            career.floor_misses = career.floor_misses + 1 if pay.floors_missed else 0
            if scheme.floor_exit_after and career.floor_misses >= scheme.floor_exit_after:
                self.staffing.leave(seat, now, "floor")

    def team_attainment(self, rep: Worker) -> float:
        """The region's revenue so far over its period quota (the scorecard's team attainment)."""
        peers = self.world.reps_by_region[rep.region]
        quota = sum(self.quota[rep_state(p).slot] * self.schemes[rep_state(p).slot].months for p in peers)
        revenue = sum(self.running[rep_state(p).slot].revenue for p in peers)
        return revenue / quota if quota > 0 else math.nan


def repurchase(owned: list[Account], since: float) -> float:
    """Share of the accounts owned since before ``since`` that have ordered since."""
    base = [a for a in owned if a.first_order < since]
    return sum(1 for a in base if a.last_order >= since) / len(base) if base else 0.0


def share_of(accounts: list[Account], test: Callable[[Account], bool]) -> float:
    """Share of ``accounts`` that pass ``test`` (0 without accounts)."""
    return sum(1 for a in accounts if test(a)) / len(accounts) if accounts else 0.0


def satisfaction(work: Any, timeliness: float, complaint_rate: float) -> float:
    """Customer satisfaction (1-5): base + timely x timeliness - complaint x complaint rate (a placeholder mapping)."""
    score = (
        work.satisfaction_base + work.satisfaction_timely * timeliness - work.satisfaction_complaint * complaint_rate
    )
    return min(5.0, max(1.0, score))
