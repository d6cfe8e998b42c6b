"""Streaming KPIs of one run: counters, sums and fixed-size histograms, never per-lead lists.

Only cohort leads (arriving in ``[warmup, horizon)``) feed the KPIs. Stage occupancy is
sampled at Poisson times inside the cohort window (unbiased time averages, PASTA): a lead's
entry to and exit from a stage change a counter, and before any change at ``now`` every
pending sample time up to ``now`` reads the counters (they are constant in between). Every
event also goes to the monthly panel (:mod:`sim.panel`), for cohort and other leads alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from math import log

from salesboost.histogram import BINS_PER_DECADE, LOW, N_BINS, LogHistogram
from salesboost.panel import LEAD_FIELDS, MEASURES, WORK_KINDS
from salesboost.results import FUNNEL, OUTCOMES
from salesboost.scenario import Scenario
from salesboost.work import TASK_KINDS
from sim.agents.worker import Worker
from sim.calendar import HOURS_PER_DAY
from sim.lead import Lead
from sim.panel import PanelRecorder
from sim.tasks import ACCOUNT as ACCOUNT_TASK
from sim.tasks import SELLING_KINDS, Task

STAGES: tuple[str, ...] = ("assignment", "followup", "quote", "approval", "customer", "contract", "order_entry")
ASSIGNMENT, FOLLOWUP, QUOTE, APPROVAL, CUSTOMER, CONTRACT, ORDER_ENTRY = range(len(STAGES))
#: Stages of an open opportunity: qualified, not yet won or lost.
OPEN_DEAL_STAGES = (QUOTE, APPROVAL, CUSTOMER, CONTRACT)

NOT_CONTACTED, UNQUALIFIED, DECLINED, LOST, WON, IN_FLIGHT = (OUTCOMES.index(o) for o in OUTCOMES)
(P_LEADS, P_CONTACTED, P_IN_SLA, P_QUALIFIED, P_QUOTES, P_WINS, P_ORDERS, P_REVENUE, P_PROFIT) = range(len(LEAD_FIELDS))
M_RESPONSE, M_APPROVAL, M_CONTRACT, M_LEAD_TO_ORDER = range(len(MEASURES))
#: Panel work-kind index of each task kind.
PANEL_KIND: tuple[int, ...] = tuple(WORK_KINDS.index(k) for k in TASK_KINDS)
LEADS, CONTACTED, QUALIFIED, QUOTED, ACCEPTED, SIGNED, ORDERED = range(len(FUNNEL))

_LOG_LOW = math.log(LOW)
_SCALE = BINS_PER_DECADE / math.log(10)
_LAST = N_BINS - 1

#: ``log(lead, activity, resource, start, end)``: one event-log row.
ActivityLog = Callable[[Lead, str, str, float, float], None]


class Tally:
    """Count, sum and log-histogram of a stream of non-negative observations."""

    __slots__ = ("counts", "n", "total")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.counts = [0] * N_BINS

    def add(self, value: float) -> None:
        """Record one observation."""
        self.n += 1
        self.total += value
        # bin_index(value), inlined: it runs for every observation.
        if value < LOW:
            self.counts[0] += 1
        else:
            self.counts[min(int((log(value) - _LOG_LOW) * _SCALE) + 1, _LAST)] += 1

    def mean(self) -> float:
        """Mean of the observations (nan if none)."""
        return self.total / self.n if self.n else math.nan

    def histogram(self) -> LogHistogram:
        """The observations' histogram."""
        return LogHistogram(tuple(self.counts))


class Recorder:
    """Collects one run's KPIs as the simulation goes."""

    def __init__(
        self,
        scenario: Scenario,
        panel: PanelRecorder,
        log: ActivityLog | None = None,
        unit_gaps: Callable[[], float] | None = None,
    ) -> None:
        self.panel = panel
        self._products = scenario.products
        horizon = scenario.horizon
        self.t0 = horizon.warmup_days * HOURS_PER_DAY
        self.t1 = horizon.days * HOURS_PER_DAY
        self.approval_sla = scenario.kpi.approval_sla_hours
        self.log = log
        self.outcomes = [0] * len(OUTCOMES)
        self.funnel = [0] * len(FUNNEL)
        self.revenue = 0.0
        self.timely = 0
        self.reorders = 0  # cohort requests that were an account's direct reorder
        self.first_response = Tally()
        self.approval = Tally()
        self.approval_breaches = 0
        self.reworks = 0
        self.escalations = 0
        self.turnaround = Tally()
        self.contract = Tally()
        self.order_entry = Tally()
        self.lead_to_order = Tally()
        self.response = Tally()  # arrival to reaching the lead
        self.work_hours = {
            "rep": [0.0] * len(TASK_KINDS),
            "manager": [0.0] * len(TASK_KINDS),
            "sales_ops": [0.0] * len(TASK_KINDS),
        }
        self.skipped_hours = {role: [0.0] * len(TASK_KINDS) for role in self.work_hours}
        self.gross_profit = 0.0
        self.wip = [0] * len(STAGES)
        self.wip_sums = [0] * len(STAGES)
        self.wip_samples = 0
        self._mean_gap = scenario.kpi.wip_sample_hours
        self._unit_gaps = unit_gaps
        self._next_sample = self.t0 + unit_gaps() * self._mean_gap if unit_gaps is not None else math.inf
        self.stage_visits = [0] * len(STAGES)
        self.stage_hours = [0.0] * len(STAGES)
        self.leads_created = 0

    # -- lead lifecycle --------------------------------------------------------------------
    def arrive(self, lead: Lead) -> None:
        """A lead arrived; decide whether it belongs to the cohort and give it its panel row."""
        self.leads_created += 1
        cohort = lead.cohort = self.t0 <= lead.arrived < self.t1
        lead.panel_key = self.panel.key(cohort, lead.region, lead.channel, lead.segment, lead.product, tier=lead.tier)
        self.panel.add(lead.arrived, lead.panel_key, P_LEADS)
        if cohort:
            self.funnel[LEADS] += 1

    def enter(self, stage: int, now: float) -> None:
        """A lead enters ``stage`` at ``now``."""
        if now >= self._next_sample:
            self.sample_until(now)
        self.wip[stage] += 1

    def leave(self, stage: int, entered: float, now: float) -> None:
        """A lead that entered ``stage`` at ``entered`` leaves it at ``now``."""
        if now >= self._next_sample:
            self.sample_until(now)
        self.wip[stage] -= 1
        if self.t0 <= entered < self.t1:
            self.stage_visits[stage] += 1
            self.stage_hours[stage] += now - entered

    def close(self, lead: Lead, outcome: int) -> None:
        """``lead`` reached a terminal state."""
        if lead.cohort:
            self.outcomes[outcome] += 1

    # -- stage observations (cohort only) -----------------------------------------------------
    def first_attempt(self, lead: Lead, response_hours: float, timely: bool, now: float) -> None:
        """The first call attempt, ``response_hours`` after arrival (within the SLA or not)."""
        if timely:
            self.panel.add(now, lead.panel_key, P_IN_SLA)
            self._credit(lead, now, P_IN_SLA)
        self.panel.observe(now, lead.panel_key, M_RESPONSE, response_hours)
        if lead.cohort:
            self.first_response.add(response_hours)
            self.timely += timely

    def reordered(self, lead: Lead, now: float) -> None:
        """An account's direct reorder: qualified on arrival without a call (counted contacted and qualified)."""
        self.panel.add(now, lead.panel_key, P_CONTACTED)
        self._credit(lead, now, P_CONTACTED)
        self.panel.add(now, lead.panel_key, P_QUALIFIED)
        self._credit(lead, now, P_QUALIFIED)
        if lead.cohort:
            self.funnel[CONTACTED] += 1
            self.funnel[QUALIFIED] += 1
            self.reorders += 1

    def prospected(self, lead: Lead, now: float) -> None:
        """A rep's own outbound prospect: reached when it is made (counted contacted, no response time)."""
        self.panel.add(now, lead.panel_key, P_CONTACTED)
        self._credit(lead, now, P_CONTACTED)
        if lead.cohort:
            self.funnel[CONTACTED] += 1

    def contacted(self, lead: Lead, response_hours: float, now: float) -> None:
        """The lead was reached ``response_hours`` after arrival."""
        self.panel.add(now, lead.panel_key, P_CONTACTED)
        self._credit(lead, now, P_CONTACTED)
        if lead.cohort:
            self.funnel[CONTACTED] += 1
            self.response.add(response_hours)

    def step(self, lead: Lead, funnel_step: int, now: float) -> None:
        """``lead`` reached ``funnel_step`` (qualified, accepted)."""
        if funnel_step == QUALIFIED:
            self.panel.add(now, lead.panel_key, P_QUALIFIED)
            self._credit(lead, now, P_QUALIFIED)
        if lead.cohort:
            self.funnel[funnel_step] += 1

    def approval_round(self, lead: Lead, hours: float, now: float, *, reworked: bool, escalated: bool) -> None:
        """One approval round took ``hours`` from submission to decision."""
        self.panel.observe(now, lead.panel_key, M_APPROVAL, hours)
        if lead.cohort:
            self.approval.add(hours)
            self.approval_breaches += hours > self.approval_sla
            self.reworks += reworked
            self.escalations += escalated

    def quote_sent(self, lead: Lead, turnaround_hours: float, now: float) -> None:
        """The approved quote went to the customer."""
        self.panel.add(now, lead.panel_key, P_QUOTES)
        self._credit(lead, now, P_QUOTES)
        if lead.cohort:
            self.funnel[QUOTED] += 1
            self.turnaround.add(turnaround_hours)

    def signed(self, lead: Lead, contract_days: float, now: float) -> None:
        """The contract was countersigned ``contract_days`` after acceptance."""
        self.panel.add(now, lead.panel_key, P_WINS)
        self._credit(lead, now, P_WINS)
        self.panel.observe(now, lead.panel_key, M_CONTRACT, contract_days)
        if lead.cohort:
            self.funnel[SIGNED] += 1
            self.contract.add(contract_days)

    def ordered(self, lead: Lead, entry_hours: float, now: float) -> None:
        """The order was booked ``entry_hours`` after countersignature."""
        key = lead.panel_key
        panel = self.panel
        profit = lead.deal_size * lead.margin
        days = (now - lead.arrived) / 24.0
        panel.add(now, key, P_ORDERS)
        panel.add(now, key, P_REVENUE, lead.deal_size)
        panel.add(now, key, P_PROFIT, profit)
        panel.observe(now, key, M_LEAD_TO_ORDER, days)
        rep = lead.rep
        if rep is not None:
            panel.credit(now, rep.index, P_ORDERS)
            panel.credit(now, rep.index, P_REVENUE, lead.deal_size)
            panel.credit(now, rep.index, P_PROFIT, profit)
        if lead.cohort:
            self.funnel[ORDERED] += 1
            self.revenue += lead.deal_size
            self.gross_profit += profit
            self.order_entry.add(entry_hours)
            self.lead_to_order.add(days)
        self.close(lead, WON)

    def _credit(self, lead: Lead, now: float, field: int) -> None:
        rep = lead.rep
        if rep is not None:
            self.panel.credit(now, rep.index, field)

    def on_work(self, worker: Worker, task: Task, start: float, hours: float) -> None:
        """``worker`` did ``hours`` of ``task`` from ``start``."""
        self.panel.work(start, worker.index, PANEL_KIND[task.kind], hours)
        if self.t0 <= start < self.t1:
            self.work_hours[worker.role][task.kind] += hours

    def on_skip(self, worker: Worker, task: Task) -> None:
        """Planned work of ``worker`` expired undone."""
        if self.t0 <= task.expires - 24.0 < self.t1:
            self.skipped_hours[worker.role][task.kind] += task.hours

    def selling_hours(self) -> float:
        """Reps' customer-facing hours in the cohort window (first contacts, account work)."""
        return sum(self.work_hours["rep"][k] for k in SELLING_KINDS)

    def sample_until(self, now: float) -> None:
        """Take every pending occupancy sample at or before ``now``."""
        assert self._unit_gaps is not None
        while self._next_sample <= now:
            t = self._next_sample
            if t >= self.t1:  # the window is over
                self._next_sample = math.inf
                return
            self.wip_samples += 1
            wip, sums = self.wip, self.wip_sums
            for stage in range(len(wip)):
                sums[stage] += wip[stage]
            self._next_sample = t + self._unit_gaps() * self._mean_gap

    # -- results -----------------------------------------------------------------------------
    def metrics(self, rep_hours_available: float, manager_hours_available: float) -> dict[str, float]:
        """The run's KPIs (see :mod:`salesboost.metrics`)."""
        out = self.outcomes
        won, declined, lost = out[WON], out[DECLINED], out[LOST]
        closed_deals = won + declined + lost
        closed_leads = closed_deals + out[UNQUALIFIED]
        funnel = self.funnel
        rounds = self.approval.n
        samples = self.wip_samples
        return {
            "leads": float(funnel[LEADS]),
            "orders": float(funnel[ORDERED]),
            "revenue": self.revenue,
            "gross_profit": self.gross_profit,
            "win_rate": _ratio(won, closed_deals),
            "lead_conversion_rate": _ratio(won, closed_leads + out[NOT_CONTACTED]),
            "qualification_rate": _ratio(funnel[QUALIFIED], funnel[CONTACTED]),
            "competitor_loss_rate": _ratio(lost, closed_deals),
            "first_response_hours_mean": self.first_response.mean(),
            "first_response_hours_p90": self.first_response.histogram().quantile(0.9),
            "time_to_contact_hours_mean": self.response.mean(),
            "contact_rate": _ratio(funnel[CONTACTED], funnel[LEADS]),
            "followup_timeliness": _ratio(self.timely, self.first_response.n),
            "quote_turnaround_hours_mean": self.turnaround.mean(),
            "quote_approval_hours_mean": self.approval.mean(),
            "quote_approval_hours_p90": self.approval.histogram().quantile(0.9),
            "approval_sla_breach_rate": _ratio(self.approval_breaches, rounds),
            "quote_rework_rate": _ratio(self.reworks, rounds),
            "escalation_rate": _ratio(self.escalations, rounds),
            "contract_cycle_days_mean": self.contract.mean(),
            "contract_cycle_days_p90": self.contract.histogram().quantile(0.9),
            "order_entry_hours_mean": self.order_entry.mean(),
            "lead_to_order_days_mean": self.lead_to_order.mean(),
            "lead_to_order_days_p90": self.lead_to_order.histogram().quantile(0.9),
            "rep_utilisation": _ratio(sum(self.work_hours["rep"]), rep_hours_available),
            "rep_selling_share": _ratio(self.selling_hours(), rep_hours_available),
            "manager_utilisation": _ratio(sum(self.work_hours["manager"]), manager_hours_available),
            "account_service_done_rate": _ratio(
                self.work_hours["rep"][ACCOUNT_TASK],
                self.work_hours["rep"][ACCOUNT_TASK] + self.skipped_hours["rep"][ACCOUNT_TASK],
            ),
            "open_deals_mean": _ratio(sum(self.wip_sums[s] for s in OPEN_DEAL_STAGES), samples),
            "in_flight": float(funnel[LEADS] - sum(out)),
            "reorders": float(self.reorders),
        }

    def outcome_counts(self) -> dict[str, int]:
        """Cohort leads per terminal state, ``in_flight`` included."""
        counts = dict(zip(OUTCOMES, self.outcomes, strict=True))
        counts["in_flight"] = self.funnel[LEADS] - sum(self.outcomes)
        return counts

    def histograms(self) -> dict[str, LogHistogram]:
        """Distributions of the main durations."""
        return {
            "first_response_hours": self.first_response.histogram(),
            "quote_approval_hours": self.approval.histogram(),
            "contract_cycle_days": self.contract.histogram(),
            "lead_to_order_days": self.lead_to_order.histogram(),
        }

    def stage_stats(self) -> dict[str, dict[str, float]]:
        """Per stage: sampled mean occupancy, visits per hour and mean visit length in the cohort window.

        A lead that loops (rework, contract revisions) makes one visit per pass.
        """
        span = self.t1 - self.t0
        return {
            name: {
                "wip_mean": _ratio(self.wip_sums[i], self.wip_samples),
                "visits_per_hour": self.stage_visits[i] / span,
                "visit_hours_mean": _ratio(self.stage_hours[i], self.stage_visits[i]),
            }
            for i, name in enumerate(STAGES)
        }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
