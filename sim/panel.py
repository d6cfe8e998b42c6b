"""The monthly KPI panel of one run: counts, sums and cycle times per period and row, streaming.

Clock hour 0 is 00:00 of the start date. Periods are calendar months (or ISO weeks, Monday
to Sunday) counted from the one that holds the start date; the first is cut at clock 0. Each
event goes to the period that holds its clock time. Storage is flat lists per period,
indexed by an interned row key, so memory grows with periods x rows, never with leads;
cycle-time histograms are sparse dicts over the fixed bins of :mod:`salesboost.histogram`.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from math import log

from salesboost.histogram import BINS_PER_DECADE, LOW, N_BINS
from salesboost.panel import (
    LEAD_FIELDS,
    MEASURES,
    MONEY_FIELDS,
    NOT_BUSY,
    PANEL_DIMENSIONS,
    PIPELINE_COLUMNS,
    PROSPECT_TIER,
    QUANTILES,
    WORK_KINDS,
    WORKER_COLUMNS,
    PanelTable,
    sparse_quantile,
)
from sim.calendar import HOURS_PER_DAY

PERIODS: tuple[str, ...] = ("month", "week")

_NF = len(LEAD_FIELDS)
_NM = len(MEASURES)
_NK = len(WORK_KINDS)
_LOG_LOW = math.log(LOW)
_SCALE = BINS_PER_DECADE / math.log(10)
_LAST = N_BINS - 1
_COUNT_FIELDS = [i for i, f in enumerate(LEAD_FIELDS) if f not in MONEY_FIELDS]
_BUSY_KINDS = [i for i, k in enumerate(WORK_KINDS) if k not in NOT_BUSY]
#: Significant digits of reported quantiles: the bins are 5.9% wide, more digits say nothing.
_QUANTILE_DIGITS = 4


def _next_start(day: dt.date, period: str) -> dt.date:
    """The first day of the period after the one starting on ``day``."""
    if period == "week":
        return day + dt.timedelta(days=7)
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _first_start(start: dt.date, period: str) -> dt.date:
    """The first day of the period that holds ``start``."""
    if period == "week":
        return start - dt.timedelta(days=start.weekday())
    return start.replace(day=1)


def _label(day: dt.date, period: str) -> str:
    """``2024-03`` for a month, ``2024-W11`` for an ISO week (its ISO year)."""
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _round(value: float, digits: int) -> float | None:
    """``value`` to ``digits`` significant digits; None when not finite."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


class PanelRecorder:
    """Streams one run's events into period x row cells and hands them back as panel tables."""

    def __init__(self, start: dt.date, end_hours: float, period: str = "month") -> None:
        if period not in PERIODS:
            raise ValueError(f"panel period {period!r}: expected one of {', '.join(PERIODS)}")
        if not end_hours > 0:
            raise ValueError(f"panel end_hours {end_hours!r}: expected a positive number of clock hours")
        self.start = start
        self.period = period
        self.end_hours = float(end_hours)
        self._days: list[dt.date] = []  # first calendar day of each period
        self._starts: list[float] = []  # clock hour of each period's calendar start (the first may be < 0)
        self._end = 0.0  # clock hour at which the last period ends
        self._keys: dict[tuple[bool, str, str, str, str, str], int] = {}  # interned pipeline rows
        self._rows: list[tuple[bool, str, str, str, str, str]] = []
        self._workers: list[tuple[str, str, str]] = []  # name, role, region
        # per period, flat over rows (x field or measure) or workers (x kind)
        self._fields: list[list[float]] = []
        self._seen: list[bytearray] = []
        self._obs_sum: list[list[float]] = []
        self._obs_hist: list[list[dict[int, int] | None]] = []
        self._work: list[list[float]] = []
        self._avail: list[list[float]] = []
        self._credit: list[list[float]] = []
        self._append_period(_first_start(start, period))
        while self._end < self.end_hours:
            self._append_period(_next_start(self._days[-1], period))

    # -- periods -----------------------------------------------------------------------------
    def _append_period(self, day: dt.date) -> None:
        self._days.append(day)
        self._starts.append((day - self.start).days * HOURS_PER_DAY)
        self._end = (_next_start(day, self.period) - self.start).days * HOURS_PER_DAY
        n_keys, n_workers = len(self._rows), len(self._workers)
        self._fields.append([0.0] * (n_keys * _NF))
        self._seen.append(bytearray(n_keys))
        self._obs_sum.append([0.0] * (n_keys * _NM))
        self._obs_hist.append([None] * (n_keys * _NM))
        self._work.append([0.0] * (n_workers * _NK))
        self._avail.append([0.0] * n_workers)
        self._credit.append([0.0] * (n_workers * _NF))

    def _extend_to(self, t: float) -> None:
        """Add periods until one holds clock time ``t`` (an event past ``end_hours``)."""
        if not t >= 0:
            raise ValueError(f"panel: clock time {t!r} is before the start (0)")
        while t >= self._end:
            self._append_period(_next_start(self._days[-1], self.period))

    def period_bounds(self) -> list[tuple[float, float]]:
        """Clock hours ``[start, end)`` of each period, cut at 0 and at ``end_hours``.

        Periods that only events past ``end_hours`` opened follow in full.
        """
        ends = [*self._starts[1:], self._end]
        return [
            (max(s, 0.0), min(e, self.end_hours) if s < self.end_hours else e)
            for s, e in zip(self._starts, ends, strict=True)
        ]

    def period_starts(self) -> list[str]:
        """The first calendar day of each period, ISO format."""
        return [day.isoformat() for day in self._days]

    def period_labels(self) -> list[str]:
        """The label of each period (``2024-03`` or ``2024-W11``)."""
        return [_label(day, self.period) for day in self._days]

    def period_sums(self, period: int, field: str) -> dict[str, float]:
        """``field`` of period ``period`` summed per region, over every row so far."""
        f = LEAD_FIELDS.index(field)
        out: dict[str, float] = {}
        if period >= len(self._fields):
            return out
        values = self._fields[period]
        for key, dims in enumerate(self._rows):
            out[dims[1]] = out.get(dims[1], 0.0) + values[key * _NF + f]
        return out

    # -- registration ------------------------------------------------------------------------
    def key(
        self, cohort: bool, region: str, channel: str, segment: str, product: str, *, tier: str = PROSPECT_TIER
    ) -> int:
        """The interned key of a pipeline row; call it once per lead and keep the key."""
        dims = (bool(cohort), region, channel, segment, product, tier)
        found = self._keys.get(dims)
        if found is not None:
            return found
        index = len(self._rows)
        self._keys[dims] = index
        self._rows.append(dims)
        for p in range(len(self._days)):
            self._fields[p].extend([0.0] * _NF)
            self._seen[p].append(0)
            self._obs_sum[p].extend([0.0] * _NM)
            self._obs_hist[p].extend([None] * _NM)
        return index

    def worker(self, name: str, role: str, region: str) -> int:
        """Register a worker (rep, manager, sales ops); its index for :meth:`work` and :meth:`available`."""
        index = len(self._workers)
        self._workers.append((name, role, region))
        for p in range(len(self._days)):
            self._work[p].extend([0.0] * _NK)
            self._avail[p].append(0.0)
            self._credit[p].extend([0.0] * _NF)
        return index

    # -- events (hot loop) -------------------------------------------------------------------
    def add(self, t: float, key: int, field: int, amount: float = 1.0) -> None:
        """Add ``amount`` to ``LEAD_FIELDS[field]`` of row ``key`` in the period holding ``t``."""
        if not 0.0 <= t < self._end:
            self._extend_to(t)
        p = bisect_right(self._starts, t) - 1
        self._fields[p][key * _NF + field] += amount
        self._seen[p][key] = 1

    def observe(self, t: float, key: int, measure: int, value: float) -> None:
        """A cycle time ``value`` of ``MEASURES[measure]`` for row ``key``, observed at ``t``."""
        if not 0.0 <= t < self._end:
            self._extend_to(t)
        p = bisect_right(self._starts, t) - 1
        i = key * _NM + measure
        self._obs_sum[p][i] += value
        # salesboost.histogram.bin_index(value), inlined: it runs for every observation.
        b = 0 if value < LOW else min(int((log(value) - _LOG_LOW) * _SCALE) + 1, _LAST)
        hists = self._obs_hist[p]
        hist = hists[i]
        if hist is None:
            hists[i] = {b: 1}
        else:
            hist[b] = hist.get(b, 0) + 1
        self._seen[p][key] = 1

    def work(self, t: float, worker: int, kind: int, hours: float) -> None:
        """``hours`` of ``WORK_KINDS[kind]`` by ``worker``, all attributed to the period holding ``t``."""
        if not 0.0 <= t < self._end:
            self._extend_to(t)
        p = bisect_right(self._starts, t) - 1
        self._work[p][worker * _NK + kind] += hours

    def credit(self, t: float, worker: int, field: int, amount: float = 1.0) -> None:
        """Credit ``amount`` of ``LEAD_FIELDS[field]`` to ``worker``'s own KPIs (a rep's wins, revenue) at ``t``."""
        if not 0.0 <= t < self._end:
            self._extend_to(t)
        p = bisect_right(self._starts, t) - 1
        self._credit[p][worker * _NF + field] += amount

    def available(self, worker: int, period: int, hours: float) -> None:
        """``worker`` had ``hours`` of working time in period ``period`` (index into :meth:`period_bounds`)."""
        if not 0 <= period < len(self._days):
            raise ValueError(f"panel period index {period}: expected 0..{len(self._days) - 1}")
        self._avail[period][worker] += hours

    # -- results -----------------------------------------------------------------------------
    def tables(self) -> dict[str, PanelTable]:
        """``{"pipeline": ..., "workers": ...}``: rows in period order, then in key or worker order."""
        return {"pipeline": self._pipeline(), "workers": self._workers_table()}

    def _pipeline(self) -> PanelTable:
        cols: dict[str, list[object]] = {name: [] for name in PIPELINE_COLUMNS}
        labels = self.period_labels()
        field_cols = [cols[f] for f in LEAD_FIELDS]
        dim_cols = [cols[d] for d in PANEL_DIMENSIONS[1:]]
        measure_cols = [
            (cols[f"{m}_n"], cols[f"{m}_mean"], [(cols[f"{m}_{s}"], q) for s, q in QUANTILES]) for m in MEASURES
        ]
        for p, day in enumerate(self._days):
            seen, fields = self._seen[p], self._fields[p]
            obs_sum, obs_hist = self._obs_sum[p], self._obs_hist[p]
            for key, dims in enumerate(self._rows):
                if not seen[key]:
                    continue
                cols["period"].append(labels[p])
                cols["period_start"].append(day.isoformat())
                for column, value in zip(dim_cols, dims, strict=True):
                    column.append(value)
                base = key * _NF
                for f, column in enumerate(field_cols):
                    value = fields[base + f]
                    column.append(int(value) if f in _COUNT_FIELDS and value.is_integer() else value)
                for m, (n_col, mean_col, q_cols) in enumerate(measure_cols):
                    i = key * _NM + m
                    hist = obs_hist[i] or {}
                    n = sum(hist.values())  # the histogram counts every observation
                    n_col.append(n)
                    mean_col.append(obs_sum[i] / n if n else None)
                    for column, q in q_cols:
                        column.append(_round(sparse_quantile(hist, q), _QUANTILE_DIGITS))
        return PanelTable(cols)

    def _workers_table(self) -> PanelTable:
        cols: dict[str, list[object]] = {name: [] for name in WORKER_COLUMNS}
        labels = self.period_labels()
        kind_cols = [cols[f"{k}_hours"] for k in WORK_KINDS]
        for p, day in enumerate(self._days):
            work, avail, credit = self._work[p], self._avail[p], self._credit[p]
            for w, (name, role, region) in enumerate(self._workers):
                hours = work[w * _NK : (w + 1) * _NK]
                own = credit[w * _NF : (w + 1) * _NF]
                if not any(hours) and not avail[w] and not any(own):
                    continue  # a period this worker took no part in (past the end, say)
                cols["period"].append(labels[p])
                cols["period_start"].append(day.isoformat())
                cols["worker"].append(name)
                cols["role"].append(role)
                cols["region"].append(region)
                cols["available_hours"].append(avail[w])
                for column, value in zip(kind_cols, hours, strict=True):
                    column.append(value)
                busy = sum(hours[k] for k in _BUSY_KINDS)
                cols["busy_hours"].append(busy)
                cols["utilisation"].append(busy / avail[w] if avail[w] > 0 else None)
                for f, value in enumerate(own):
                    cols[LEAD_FIELDS[f]].append(int(value) if f in _COUNT_FIELDS and value.is_integer() else value)
        return PanelTable(cols)
