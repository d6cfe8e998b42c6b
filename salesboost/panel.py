"""The monthly KPI panel's vocabulary and its tidy tables, as plain data (no numpy, no pandas).

A panel table is a set of equal-length columns. Missing numbers (a mean of no observations)
are ``None``, so a table is JSON as it stands; :mod:`analysis.panel` turns them into NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from salesboost.histogram import bins_quantile
from salesboost.work import TASK_KINDS

#: Dimensions of a pipeline row, in column order.
PANEL_DIMENSIONS: tuple[str, ...] = ("period", "cohort", "region", "channel", "segment", "product", "tier")
#: Counts and sums per pipeline row, each attributed to the period in which it happened.
LEAD_FIELDS: tuple[str, ...] = (
    "leads",
    "contacted",
    "contacted_in_sla",
    "qualified",
    "quotes",
    "wins",
    "orders",
    "revenue",
    "gross_profit",
)
#: The fields that are sums of money, not counts.
MONEY_FIELDS: tuple[str, ...] = ("revenue", "gross_profit")
#: Cycle times per pipeline row: count, mean and quantiles of the observations made in the period.
MEASURES: tuple[str, ...] = (
    "first_response_hours",
    "quote_approval_hours",
    "contract_cycle_days",
    "lead_to_order_days",
)
#: Quantiles reported per measure, with their column suffix.
QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.5), ("p90", 0.9))
#: What a worker's busy time is spent on: the task kinds, with ``absence`` (not busy time) after training.
WORK_KINDS: tuple[str, ...] = (
    *TASK_KINDS[: TASK_KINDS.index("training") + 1],
    "absence",
    *TASK_KINDS[TASK_KINDS.index("training") + 1 :],
)
#: Work kinds that do not count as busy time.
NOT_BUSY: tuple[str, ...] = ("absence",)
#: Names of the tables a run's panel holds.
TABLES: tuple[str, ...] = ("pipeline", "workers", "tiers", "tier_transitions", "outreach", "reps", "market")
#: The columns of a table that name the row; all others are numbers.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "pipeline": ("period", "period_start", *PANEL_DIMENSIONS[1:]),
    "workers": ("period", "period_start", "worker", "role", "region"),
    "tiers": ("period", "period_start", "tier"),
    "tier_transitions": ("period", "period_start", "from_tier", "to_tier"),
    "outreach": ("period", "period_start", "tier", "channel"),
    "reps": ("period", "period_start", "worker", "region", "status"),
    "market": ("period", "period_start", "team"),
}
#: The tier of a lead that is not an account's request (a prospect), and of an account won since the last snapshot.
PROSPECT_TIER = "prospect"
NEW_ACCOUNT_TIER = "new"
#: Per period and tier, at the period's first instant: accounts, those alive (the simulation knows), the
#: model's view of them (the sum of P(alive)), and their spend in the tier window.
TIER_FIELDS: tuple[str, ...] = ("accounts", "alive", "p_alive_sum", "monetary_12m")
#: Per period, tier and channel: touches made and what they cost and caused.
OUTREACH_FIELDS: tuple[str, ...] = (
    "touches",
    "cost",
    "rep_hours",
    "responses",
    "requests",
    "revived",
    "opt_outs",
    "complaints",
    "offer_cost",
)


def measure_columns(measure: str) -> tuple[str, ...]:
    """The pipeline columns of one measure: ``<m>_n``, ``<m>_mean`` and one per quantile."""
    return (f"{measure}_n", f"{measure}_mean", *(f"{measure}_{suffix}" for suffix, _ in QUANTILES))


#: Columns of the pipeline table, in order.
PIPELINE_COLUMNS: tuple[str, ...] = (
    "period",
    "period_start",
    *PANEL_DIMENSIONS[1:],
    *LEAD_FIELDS,
    *(c for m in MEASURES for c in measure_columns(m)),
)
#: Columns of the workers table, in order.
WORKER_COLUMNS: tuple[str, ...] = (
    "period",
    "period_start",
    "worker",
    "role",
    "region",
    "available_hours",
    *(f"{kind}_hours" for kind in WORK_KINDS),
    "busy_hours",
    "utilisation",
    *LEAD_FIELDS,  # the worker's own KPIs: what was credited to it (a rep's contacts, wins, revenue)
)


class PanelFormatError(ValueError):
    """Plain data that is not a panel table; the message says where and why."""


_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class PanelTable:
    """A tidy table as columns: name -> list of JSON-safe values, all of the same length."""

    columns: dict[str, list[Any]]

    def __post_init__(self) -> None:
        lengths = {name: len(values) for name, values in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise PanelFormatError(f"columns of different lengths: {lengths}")

    def __len__(self) -> int:
        """Number of rows."""
        return len(next(iter(self.columns.values()), []))

    def to_dict(self) -> dict[str, Any]:
        """The table as strict JSON data: ``{"rows": n, "columns": {name: [values]}}``."""
        return {"rows": len(self), "columns": {name: list(values) for name, values in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: Any, where: str = "panel") -> PanelTable:
        """Rebuild a table from :meth:`to_dict` data; raises PanelFormatError naming ``where``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), Mapping):
            raise PanelFormatError(f"{where}: expected {{'rows': n, 'columns': {{name: [values]}}}}")
        rows = data.get("rows")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise PanelFormatError(f"{where}.rows: expected a count, got {rows!r:.40}")
        columns: dict[str, list[Any]] = {}
        for name, values in data["columns"].items():
            if not isinstance(values, list) or len(values) != rows:
                raise PanelFormatError(f"{where}.columns.{name}: expected a list of {rows} values")
            for value in values:
                if not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
                    raise PanelFormatError(
                        f"{where}.columns.{name}: expected a string, number or null, got {value!r:.40}"
                    )
            columns[str(name)] = values
        return cls(columns)


def sparse_quantile(counts: Mapping[int, int], q: float) -> float:
    """The ``q`` quantile of a sparse log histogram ``{bin: count}`` (bins of :mod:`salesboost.histogram`).

    Interpolated geometrically within its bin, as :meth:`LogHistogram.quantile`; NaN if empty.
    """
    return bins_quantile(sorted(counts.items()), sum(counts.values()), q)


def panels_to_dict(panels: Mapping[str, PanelTable]) -> dict[str, Any]:
    """A run's panel tables as JSON data."""
    return {name: table.to_dict() for name, table in panels.items()}


def panels_from_dict(data: Any, where: str = "panels") -> dict[str, PanelTable]:
    """A run's panel tables from :func:`panels_to_dict` data; raises PanelFormatError."""
    if not isinstance(data, Mapping):
        raise PanelFormatError(f"{where}: expected an object of tables, got {type(data).__name__}")
    return {str(name): PanelTable.from_dict(table, f"{where}.{name}") for name, table in data.items()}
