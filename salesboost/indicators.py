"""The early-warning indicators, defined once on a period's facts, and a rule watching one series.

The simulation computes them at every period's end to switch playbooks on; the analysis
computes the same series from the recorded ``market`` panel table to score every rule.
A period's facts are plain numbers per team (a sales region's reps) and for ``all``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: The facts recorded per period and team (the ``market`` panel table's numbers).
FACT_COLUMNS: tuple[str, ...] = (
    "industry_growth",
    "competitor_share",
    "revenue",
    "seats",
    "positions",
    "quota",
    "leavers",
    "core_accounts",
    "core_active",
    "complaints",
    "served",
    "playbooks_on",
    "deals_lost",  # existing accounts' deals that went to the competitor in the period
    "winback_calls",  # win-back calls made (playbook win_back)
    "won_back",  # of them, customers who came back
)
#: Indicator -> its definition (what the plan's wording is read as).
INDICATORS: dict[str, str] = {
    "industry_growth": "the industry's sales growth on the month before, relative (the market series)",
    "competitor_share": "the main competitor's market share (a share; the plan's +5% read as 5 percentage points)",
    "team_retention": "1 - leavers over the trailing 12 months / mean seats in post, annualised (per team)",
    "team_attainment": "the team's sales in the period / (seats in post x quota per seat), per team",
    "core_repurchase": "share of core accounts (the top share by spend at the start) ordering in the trailing 3 months",
    "complaint_rate": "complaints / accounts served in the period (the scheme's complaint floor), per team",
    "sales": "the company's sales in the period (currency units)",
    "staffing": "the company's seats in post at the period's end / its positions",
}
#: Indicators read per team; the others are read once, for the company (team ``all``).
TEAM_INDICATORS: frozenset[str] = frozenset({"team_retention", "team_attainment", "complaint_rate"})
#: The company's row in the facts.
COMPANY = "all"
#: Trailing windows, in months.
RETENTION_MONTHS = 12
REPURCHASE_MONTHS = 3


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def indicator_series(rows: Sequence[Mapping[str, float]]) -> dict[str, list[float]]:
    """Every indicator's value per period from one team's facts, in period order."""
    out: dict[str, list[float]] = {name: [] for name in INDICATORS}
    for i, row in enumerate(rows):
        window = rows[max(0, i - RETENTION_MONTHS + 1) : i + 1]
        seats = sum(r["seats"] for r in window) / len(window)
        leavers = sum(r["leavers"] for r in window)
        annual = leavers / seats * RETENTION_MONTHS / len(window) if seats > 0 else math.nan
        out["industry_growth"].append(row["industry_growth"])
        out["competitor_share"].append(row["competitor_share"])
        out["team_retention"].append(1.0 - annual)
        out["team_attainment"].append(_ratio(row["revenue"], row["quota"]))
        out["core_repurchase"].append(_ratio(row["core_active"], row["core_accounts"]))
        out["complaint_rate"].append(_ratio(row["complaints"], row["served"]))
        out["sales"].append(row["revenue"])
        out["staffing"].append(_ratio(row["seats"], row["positions"]))
    return out


def trial_counts(indicator: str, rows: Sequence[Mapping[str, float]]) -> list[tuple[float, float]] | None:
    """(count, trials) per period for a p-chart of ``indicator``; None when it is not a proportion of counts."""
    if indicator == "complaint_rate":
        return [(r["complaints"], r["served"]) for r in rows]
    if indicator == "core_repurchase":
        return [(r["core_active"], r["core_accounts"]) for r in rows]
    return None


class Watch:
    """A rule on one series: estimates the in-control level from its first periods when the rule needs it.

    A rule whose chart needs an in-control mean and sd (or p0) the config does not give
    learns them from its first ``baseline_periods`` finite values (Phase I), which never
    signal. Missing values (NaN, or no trials) are skipped by charts and break a level rule's
    run of months (``threshold``, ``streak``).
    """

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        self._needs = bool(rule.needs_baseline())
        self._seen: list[tuple[float, float]] = []
        self._detector: Any = None if self._needs else rule.build()

    def update(self, value: float, n: float = 1.0) -> bool:
        """Feed the next period; True when the rule signals."""
        if not math.isfinite(value) or n <= 0:
            if self._detector is not None and self.rule.chart in ("threshold", "streak"):
                self._detector.update(math.nan)  # a missing month breaks a run of months
            return False
        if self._detector is None:
            self._seen.append((value, n))
            if len(self._seen) >= self.rule.baseline_periods:
                self._detector = self._phase_one()
            return False
        return bool(self._detector.update(value, n))

    def _phase_one(self) -> Any:
        if self.rule.chart == "pchart":
            p0 = sum(v for v, _ in self._seen) / sum(n for _, n in self._seen)
            return self.rule.build(mean=min(max(p0, 1e-6), 1 - 1e-6))
        values = [v for v, _ in self._seen]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)
        return self.rule.build(mean=mean, sd=math.sqrt(var) if var > 0 else 1e-9)


def series_for(
    rule: Any, rows_by_team: Mapping[str, Sequence[Mapping[str, float]]]
) -> dict[str, list[tuple[float, float]]]:
    """The (value, trials) series a rule watches: one per team for team indicators, else the company's."""
    indicator = rule.indicator
    teams = [t for t in rows_by_team if t != COMPANY] if indicator in TEAM_INDICATORS else [COMPANY]
    out: dict[str, list[tuple[float, float]]] = {}
    for team in teams:
        rows = rows_by_team.get(team, [])
        counts = trial_counts(indicator, rows) if rule.chart == "pchart" else None
        if counts is not None:
            out[team] = counts
        else:
            out[team] = [(v, 1.0) for v in indicator_series(rows)[indicator]]
    return out
