"""The books of the customer base: tiers per period, tier transitions, touches and their effects.

Snapshots (:mod:`sim.tiering`) and touches (:mod:`sim.agents.marketing`) report here; the ledger
keeps per-period sums in dicts keyed by a few names (tiers x channels), so memory grows with
periods, never with touches. It also keeps what the run's customer KPIs need: who bought before
the measured window and again in it, cohort revenue by segment, and the window's outreach cost.
The complaint rate is complaints per account touched in a month (the plan's floor is monthly):
the window's complaints over the sum, month by month, of the accounts touched; 0 without touches.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from typing import Any

from salesboost.panel import OUTREACH_FIELDS, TIER_FIELDS, PanelTable

_OUTREACH = {name: i for i, name in enumerate(OUTREACH_FIELDS)}
TOUCHES, COST, REP_HOURS, RESPONSES, REQUESTS, REVIVED, OPT_OUTS, COMPLAINTS, OFFER_COST = range(len(OUTREACH_FIELDS))


class OutreachLedger:
    """Per-period tier counts, transitions and outreach sums, and the window's customer KPIs."""

    def __init__(
        self, labels: list[str], starts: list[str], bounds: list[tuple[float, float]], window: tuple[float, float]
    ) -> None:
        self._labels, self._starts = labels, starts
        self._ends = [b for _a, b in bounds]
        self.t0, self.t1 = window
        self._tiers: dict[tuple[int, str], list[float]] = {}
        self._transitions: dict[tuple[int, str, str], int] = defaultdict(int)
        self._outreach: dict[tuple[int, str, str], list[float]] = {}
        self.window = [0.0] * len(OUTREACH_FIELDS)  # outreach sums over the measured window
        self.touched: dict[int, set[str]] = defaultdict(set)  # period -> accounts touched in it (in the window)
        self.bought_in_window: set[str] = set()
        self.cohort_revenue: dict[str, float] = defaultdict(float)  # cohort revenue by segment
        self.cohort_account_orders = 0
        self.high_value_share = math.nan  # at the last snapshot in the window
        self.customer_value = math.nan  # mean model value of an account, last snapshot in the window

    def period_of(self, t: float) -> int:
        """The index of the period that holds clock hour ``t`` (the last one past the end)."""
        return min(bisect_right(self._ends, t), len(self._ends) - 1)

    # -- snapshots -------------------------------------------------------------------------------
    def tier_row(self, period: int, tier: str, values: tuple[float, ...]) -> None:
        """Add ``values`` (``TIER_FIELDS``, summed over some accounts) to ``tier`` of ``period``."""
        row = self._tiers.get((period, tier))
        if row is None:
            row = self._tiers[(period, tier)] = [0.0] * len(TIER_FIELDS)
        for i, v in enumerate(values):
            row[i] += v

    def transition(self, period: int, before: str, after: str) -> None:
        """An account moved from tier ``before`` to ``after`` at ``period``'s snapshot."""
        self._transitions[(period, before, after)] += 1

    # -- touches ---------------------------------------------------------------------------------
    def outreach(
        self, t: float, tier: str, channel: str, field: int, amount: float = 1.0, *, account: str = ""
    ) -> None:
        """Add ``amount`` to ``OUTREACH_FIELDS[field]`` of (tier, channel) in the period of ``t``."""
        key = (self.period_of(t), tier, channel)
        row = self._outreach.get(key)
        if row is None:
            row = self._outreach[key] = [0.0] * len(OUTREACH_FIELDS)
        row[field] += amount
        if self.t0 <= t < self.t1:
            self.window[field] += amount
            if field == TOUCHES and account:
                self.touched[key[0]].add(account)

    def offer_taken(self, lead: Any, account: Any, now: float) -> None:
        """``account`` used its win-back offer on ``lead``'s order: the discount is a margin cost."""
        self.outreach(now, account.tier, "offer", OFFER_COST, account.offer * lead.deal_size * lead.margin)
        account.offer = 0.0

    def ordered(self, lead: Any, account: Any, now: float) -> None:
        """An order was booked (for the repurchase rate and the revenue shares)."""
        if self.t0 <= now < self.t1:
            self.bought_in_window.add(account.id)
        if lead.cohort:
            self.cohort_revenue[lead.segment] += lead.deal_size
            if lead.segment == "existing":
                self.cohort_account_orders += 1

    # -- results ---------------------------------------------------------------------------------
    def metrics(self, accounts: list[Any], rep_cost_per_hour: float) -> dict[str, float]:
        """The run's customer KPIs (salesboost.metrics)."""
        w = self.window
        base = [a for a in accounts if a.first_order < self.t0]
        again = sum(1 for a in base if a.id in self.bought_in_window)
        revenue = sum(self.cohort_revenue.values())
        cost = w[COST] + w[OFFER_COST]
        full = cost + w[REP_HOURS] * rep_cost_per_hour
        return {
            "outreach_cost": cost,
            "offer_cost": w[OFFER_COST],
            "outreach_rep_hours": w[REP_HOURS],
            "outreach_touches": w[TOUCHES],
            "outreach_responses": w[RESPONSES],
            "revived_accounts": w[REVIVED],
            # Nobody touched: no complaint either (0, so a study without outreach meets the floor).
            "complaint_rate": _ratio(w[COMPLAINTS], sum(len(s) for s in self.touched.values()))
            if self.touched
            else 0.0,
            "opt_outs": w[OPT_OUTS],
            "repurchase_rate": _ratio(again, len(base)),
            "new_customer_revenue_share": _ratio(self.cohort_revenue.get("new", 0.0), revenue),
            "high_value_share": self.high_value_share,
            "cost_per_account_order": _ratio(full, self.cohort_account_orders) if full else 0.0,
            "customer_value_mean": self.customer_value,
        }

    def tables(self) -> dict[str, PanelTable]:
        """The ``tiers``, ``tier_transitions`` and ``outreach`` panel tables, in period order."""
        tiers: dict[str, list[Any]] = {"period": [], "period_start": [], "tier": [], **{f: [] for f in TIER_FIELDS}}
        for (p, tier), values in sorted(self._tiers.items()):
            self._key(tiers, p)
            tiers["tier"].append(tier)
            for f, v in zip(TIER_FIELDS, values, strict=True):
                tiers[f].append(int(v) if f in ("accounts", "alive") else v)
        moves: dict[str, list[Any]] = {"period": [], "period_start": [], "from_tier": [], "to_tier": [], "accounts": []}
        for (p, before, after), n in sorted(self._transitions.items()):
            self._key(moves, p)
            moves["from_tier"].append(before)
            moves["to_tier"].append(after)
            moves["accounts"].append(n)
        touch: dict[str, list[Any]] = {"period": [], "period_start": [], "tier": [], "channel": []}
        touch.update({f: [] for f in OUTREACH_FIELDS})
        for (p, tier, channel), values in sorted(self._outreach.items()):
            self._key(touch, p)
            touch["tier"].append(tier)
            touch["channel"].append(channel)
            for f, v in zip(OUTREACH_FIELDS, values, strict=True):
                touch[f].append(v)
        return {"tiers": PanelTable(tiers), "tier_transitions": PanelTable(moves), "outreach": PanelTable(touch)}

    def _key(self, cols: dict[str, list[Any]], p: int) -> None:
        cols["period"].append(self._labels[p])
        cols["period_start"].append(self._starts[p])


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
