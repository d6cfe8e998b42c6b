"""The books of reps under a scheme: month by month what each seat did, and what each settlement paid.

The incentive desk (:mod:`sim.agents.incentive_desk`) and the staffing desk report here; the
book keeps flat per-seat, per-month sums (memory grows with seats x months), hands back the
``reps`` panel table, and computes the run's incentive KPIs over the measured window:
payouts accrue to the months of their period, attainment counts settled periods that end in
the window, attrition is leavers over rep-years in post.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from typing import Any

from salesboost.panel import PanelTable
from sim.tasks import ACCOUNT, ADMIN, CONTRACT, FIRST_CONTACT, PROSPECTING, QUOTE, TRAINING

#: The reps' busy hours by kind of work, as shares (every run; the names of the effort_share_* KPIs).
EFFORT_GROUPS: dict[str, tuple[int, ...]] = {
    "followup": (FIRST_CONTACT,),
    "deals": (QUOTE, CONTRACT),
    "accounts": (ACCOUNT,),
    "prospecting": (PROSPECTING,),
    "training": (TRAINING,),
    "admin": (ADMIN,),
}
#: The incentive KPIs of a run (NaN or 0 without a scheme).
INCENTIVE_METRICS: tuple[str, ...] = (
    "payout_cost",
    "quota_attainment_share",
    "quota_attainment_median",
    "floor_cut_share",
    "team_target_share",
    "rep_complaint_rate",
    "rep_attrition",
    "voluntary_attrition",
    "exam_pass_rate",
    "exam_false_pass_rate",
    "exam_false_fail_rate",
    "new_customers",
    "gamed_touch_share",
    "pulled_deals",
    "pushed_deals",
    "timing_discount_cost",
)
#: The plan's criterion for managers: team target attainment of at least 90%.
TEAM_TARGET = 0.9
_ZERO_WITHOUT_SCHEME = frozenset(("payout_cost", "pulled_deals", "pushed_deals", "timing_discount_cost"))


def effort_shares(rep_hours: list[float]) -> dict[str, float]:
    """Share of the reps' busy hours in the window by kind of work (``effort_share_<group>``)."""
    total = sum(rep_hours)
    return {
        f"effort_share_{name}": sum(rep_hours[k] for k in kinds) / total if total else math.nan
        for name, kinds in EFFORT_GROUPS.items()
    }


def empty_incentive_metrics() -> dict[str, float]:
    """The incentive KPIs of a run without a scheme: nothing paid, nothing settled."""
    return {name: 0.0 if name in _ZERO_WITHOUT_SCHEME else math.nan for name in INCENTIVE_METRICS}


#: Sums kept per seat and month.
MONTH_FIELDS: tuple[str, ...] = (
    "revenue",
    "wins",
    "new_customers",
    "first_attempts",
    "timely_attempts",
    "gamed_attempts",
    "complaints",
    "accounts_served",
    "prospecting_plan",
    "accounts_plan",
    "training_plan",
    "plan_weeks",
    "left",
    "days_in_post",
    "pulled",
    "pushed",
    "discount",
)
(
    REVENUE,
    WINS,
    NEW_CUSTOMERS,
    FIRST_ATTEMPTS,
    TIMELY,
    GAMED,
    COMPLAINTS,
    SERVED,
    PROSPECTING_PLAN,
    ACCOUNTS_PLAN,
    TRAINING_PLAN,
    PLAN_WEEKS,
    LEFT,
    DAYS_IN_POST,
    PULLED,
    PUSHED,
    DISCOUNT,
) = range(len(MONTH_FIELDS))
#: Columns of the ``reps`` panel table.
REP_COLUMNS: tuple[str, ...] = (
    "period",
    "period_start",
    "worker",
    "region",
    "status",
    "tenure_months",
    "quota",
    "revenue",
    "wins",
    "new_customers",
    "first_attempts",
    "timely_attempts",
    "gamed_attempts",
    "accounts_served",
    "complaints",
    "settled",
    "period_revenue",
    "period_quota",
    "attainment",
    "payout",
    "floor_cut",
    "left",
    "prospecting_plan",
    "accounts_plan",
    "training_plan",
    "pulled",
    "pushed",
)


def month_bounds(start: dt.date, end_hours: float) -> list[tuple[dt.date, float, float]]:
    """Calendar months from the one holding ``start`` until ``end_hours``: (first day, clock start, clock end)."""
    out: list[tuple[dt.date, float, float]] = []
    day = start.replace(day=1)
    while True:
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        a = max(0.0, (day - start).days * 24.0)
        b = (nxt - start).days * 24.0
        out.append((day, a, b))
        if b >= end_hours:
            return out
        day = nxt


class RepBook:
    """Per seat and month: work outcomes, plans, settlements; the run's incentive KPIs."""

    def __init__(
        self, start: dt.date, end_hours: float, seats: list[tuple[str, str]], window: tuple[float, float]
    ) -> None:
        self.months = month_bounds(start, end_hours)
        self._ends = [b for _d, _a, b in self.months]
        self.seats = seats  # (name, region) per seat
        self.t0, self.t1 = window
        n = len(seats)
        self._sums = [[[0.0] * len(MONTH_FIELDS) for _ in range(n)] for _ in self.months]
        self._served: list[list[set[str]]] = [[set() for _ in range(n)] for _ in self.months]
        self._status: list[list[tuple[str, float, float]]] = [[("active", 0.0, 0.0)] * n for _ in self.months]
        self._settled: dict[tuple[int, int], dict[str, float]] = {}
        self.exits: dict[str, int] = {}  # leavers by reason (voluntary, floor), whole run
        self.leavers: list[tuple[float, str]] = []  # (clock hour, reason) of every departure
        self.exams: list[tuple[float, bool, bool]] = []  # (clock hour, passed, truly above median skill)

    def month_of(self, t: float) -> int:
        """Index of the month holding clock hour ``t`` (the last one past the end)."""
        return min(bisect_right(self._ends, t), len(self._ends) - 1)

    def add(self, seat: int, t: float, field: int, amount: float = 1.0) -> None:
        """Add ``amount`` to ``MONTH_FIELDS[field]`` of ``seat`` in the month of ``t``."""
        self._sums[self.month_of(t)][seat][field] += amount

    def served(self, seat: int, t: float, account: str) -> None:
        """``seat`` served ``account`` (answered a request or called it) in the month of ``t``."""
        self._served[self.month_of(t)][seat].add(account)

    def served_count(self, seat: int, month: int) -> int:
        """Accounts ``seat`` served in ``month``."""
        return len(self._served[month][seat])

    def month_sum(self, seat: int, month: int, field: int) -> float:
        """``MONTH_FIELDS[field]`` of ``seat`` in ``month``."""
        return self._sums[month][seat][field]

    def status(self, seat: int, month: int, status: str, tenure_months: float, quota: float) -> None:
        """The seat's status, tenure and monthly quota at the end of ``month``."""
        self._status[month][seat] = (status, tenure_months, quota)

    def settle(self, seat: int, month: int, values: dict[str, float]) -> None:
        """The settlement of the period ending with ``month`` (revenue, quota, attainment, payout, floor cut)."""
        self._settled[(month, seat)] = values

    # -- results ---------------------------------------------------------------------------------
    def _in_window(self, month: int) -> float:
        """Share of ``month`` inside the measured window."""
        _d, a, b = self.months[month]
        overlap = max(0.0, min(b, self.t1) - max(a, self.t0))
        return overlap / (b - a) if b > a else 0.0

    def _closes_in_window(self, month: int) -> bool:
        """Whether a settlement at the end of ``month`` counts for the window (its period ends in it, or just after)."""
        return self.t0 < self.months[month][2] <= self.t1 + 24.0 * 31

    def metrics(self) -> dict[str, float]:
        """The incentive KPIs of the measured window (salesboost.metrics)."""
        payout = 0.0
        teams: dict[tuple[int, str], list[float]] = {}
        settled = []
        for (month, seat), v in self._settled.items():
            months = int(v["months"])
            for m in range(max(0, month - months + 1), month + 1):
                payout += v["payout"] / months * self._in_window(m)
            if not (self._closes_in_window(month) and v["in_post"]):
                continue
            team = teams.setdefault((month, self.seats[seat][1]), [0.0, 0.0])
            team[0] += v["period_revenue"]
            team[1] += v["period_quota"]
            if not math.isnan(v["attainment"]):
                settled.append(v)
        team_hits = [r / q >= TEAM_TARGET for r, q in teams.values() if q > 0]
        sums = [0.0] * len(MONTH_FIELDS)  # each month's sums weighted by its share in the window
        in_post_months = served = 0.0
        for m in range(len(self.months)):
            w = self._in_window(m)
            if w <= 0:
                continue
            for seat in range(len(self.seats)):
                row = self._sums[m][seat]
                for f, value in enumerate(row):
                    sums[f] += w * value
                in_post_months += w * min(1.0, row[DAYS_IN_POST] / max(1.0, self._days(m)))
                served += w * len(self._served[m][seat])
        left = sum(1 for t, _r in self.leavers if self.t0 <= t < self.t1)
        voluntary = sum(1 for t, r in self.leavers if self.t0 <= t < self.t1 and r == "voluntary")
        attain = sorted(v["attainment"] for v in settled)
        exams = [e for e in self.exams if self.t0 <= e[0] < self.t1]
        weak = [e for e in exams if not e[2]]
        strong = [e for e in exams if e[2]]
        return {
            "payout_cost": payout,
            "quota_attainment_share": _ratio(sum(1 for a in attain if a >= 1.0), len(attain)),
            "quota_attainment_median": attain[len(attain) // 2] if attain else math.nan,
            "floor_cut_share": _ratio(sum(1 for v in settled if v["floor_cut"] > 0), len(settled)),
            "team_target_share": _ratio(sum(team_hits), len(team_hits)),
            "rep_complaint_rate": _ratio(sums[COMPLAINTS], served),
            "rep_attrition": _ratio(left, in_post_months / 12.0),
            "voluntary_attrition": _ratio(voluntary, in_post_months / 12.0),
            "exam_pass_rate": _ratio(sum(1 for e in exams if e[1]), len(exams)),
            "exam_false_pass_rate": _ratio(sum(1 for e in weak if e[1]), len(weak)),
            "exam_false_fail_rate": _ratio(sum(1 for e in strong if not e[1]), len(strong)),
            "new_customers": sums[NEW_CUSTOMERS],
            "gamed_touch_share": _ratio(sums[GAMED], sums[FIRST_ATTEMPTS]),
            "pulled_deals": sums[PULLED],
            "pushed_deals": sums[PUSHED],
            "timing_discount_cost": sums[DISCOUNT],
        }

    def _days(self, month: int) -> float:
        _d, a, b = self.months[month]
        return (b - a) / 24.0

    @staticmethod
    def empty_table() -> PanelTable:
        """A ``reps`` table without rows (no scheme)."""
        return PanelTable({name: [] for name in REP_COLUMNS})

    def table(self) -> PanelTable:
        """The ``reps`` panel table: a row per seat and month."""
        cols: dict[str, list[Any]] = {name: [] for name in REP_COLUMNS}
        for m, (day, _a, _b) in enumerate(self.months):
            for seat, (name, region) in enumerate(self.seats):
                sums = self._sums[m][seat]
                status, tenure, quota = self._status[m][seat]
                settled = self._settled.get((m, seat))
                weeks = sums[PLAN_WEEKS]
                cols["period"].append(f"{day.year}-{day.month:02d}")
                cols["period_start"].append(day.isoformat())
                cols["worker"].append(name)
                cols["region"].append(region)
                cols["status"].append(status)
                cols["tenure_months"].append(tenure)
                cols["quota"].append(quota)
                cols["revenue"].append(sums[REVENUE])
                for key, f in (
                    ("wins", WINS),
                    ("new_customers", NEW_CUSTOMERS),
                    ("first_attempts", FIRST_ATTEMPTS),
                    ("timely_attempts", TIMELY),
                    ("gamed_attempts", GAMED),
                    ("complaints", COMPLAINTS),
                    ("left", LEFT),
                    ("pulled", PULLED),
                    ("pushed", PUSHED),
                ):
                    cols[key].append(int(sums[f]))
                cols["accounts_served"].append(len(self._served[m][seat]))
                cols["settled"].append(1 if settled else 0)
                for key in ("period_revenue", "period_quota", "attainment", "payout", "floor_cut"):
                    value = settled[key] if settled else (0.0 if key == "payout" else None)
                    cols[key].append(None if value is None or math.isnan(value) else value)
                for key, f in (
                    ("prospecting_plan", PROSPECTING_PLAN),
                    ("accounts_plan", ACCOUNTS_PLAN),
                    ("training_plan", TRAINING_PLAN),
                ):
                    cols[key].append(sums[f] / weeks if weeks else 0.0)
        return PanelTable(cols)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
