"""The event log: one row per activity instance of a lead, written to CSV or Parquet.

What reads it, as written (no column mapping, no conversion):

- ``.parquet`` uses pm4py's default keys: ``case:concept:name`` (string), ``concept:name``,
  ``org:resource``, ``start_timestamp`` and ``time:timestamp`` (the completion), with
  timestamps typed ``timestamp[us, tz=UTC]``. ``pm4py.discover_dfg(pandas.read_parquet(path))``
  and the other discovery functions work with their defaults; ``pm4py.write_xes`` turns it
  into XES.
- ``.csv`` uses the Prosimos / Simod keys ``case_id, activity, resource, start_time,
  end_time`` with ISO 8601 UTC timestamps to the millisecond. log-distance-measures reads it
  with ``EventLogIDs(case="case_id", activity="activity", resource="resource",
  start_time="start_time", end_time="end_time")`` once the two time columns are parsed
  (``pandas.read_csv(path, parse_dates=["start_time", "end_time"])``).

Both formats carry the same attributes after the five keys: ``lead_id, variant, replication,
region, channel, segment, product``. A case is one lead in one variant: its id is
``"<variant>|<lead_id>"``, unique across the variants and replications of an experiment, and
``lead_id`` (``"r<replication>-<source>-<n>"``: the n-th lead of a channel, ``r0-web-17``, or
the n-th request of an account, ``r0-A00042-1``) names the same lead in every variant of one
replication, so logs of several variants join lead by lead. Timestamps are the
calendar's wall-clock time (the model has no time zones), stored as UTC.

The simulation books some work ahead (a contract's courier and legal review are known when the
contract is sent). Rows are therefore held per case until the case ends and then written
sorted by completion, then start: in time order within a case, cases one after another, in
memory bounded by the cases still open. A case lost to a competitor ends at the loss: work
booked to end later is cut at that instant and work booked to start later is left out (the
model still counts that booked time as spent by the rep or manager). Cases open when the run stops keep the
times they were booked for. Rows go to a temporary file that is renamed into place on
success, so a failed run leaves no partial log behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from sim.lead import Lead

#: The five keys (case, activity, resource, start, end) under each format's names.
PM4PY_KEYS: tuple[str, ...] = ("case:concept:name", "concept:name", "org:resource", "start_timestamp", "time:timestamp")
PROSIMOS_KEYS: tuple[str, ...] = ("case_id", "activity", "resource", "start_time", "end_time")
#: Case attributes, the same in every format.
ATTRIBUTES: tuple[str, ...] = ("lead_id", "variant", "replication", "region", "channel", "segment", "product")
#: Columns of each format, in file order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "csv": (*PROSIMOS_KEYS, *ATTRIBUTES),
    "parquet": (*PM4PY_KEYS, *ATTRIBUTES),
}
FORMATS = tuple(COLUMNS)
#: Activities that end a case; nothing in the case happens after them.
TERMINAL: frozenset[str] = frozenset(
    {"not_contacted", "disqualify_lead", "quote_declined", "lost_to_competitor", "order_booked"}
)

_Row = tuple[str, str, float, float]  # activity, resource, start, end (clock hours)


def lead_id(replication: int, lead: str) -> str:
    """The id of lead ``lead`` (source and number, e.g. ``web-17``) in ``replication``, the same in every variant."""
    return f"r{replication}-{lead}"


def case_id(variant: str, replication: int, lead: str) -> str:
    """The id of one lead's case in one variant: unique across variants and replications."""
    return f"{variant}|{lead_id(replication, lead)}"


class _Case:
    """The rows of one open case and the lead attributes they share."""

    __slots__ = ("lead", "rows")

    def __init__(self, lead: Lead) -> None:
        self.lead = lead
        self.rows: list[_Row] = []

    def finished(self, end: float | None) -> list[_Row]:
        """The rows in time order; with ``end``, nothing after it (the case ended then)."""
        rows = self.rows
        if end is not None:
            rows = [(a, r, s, min(e, end)) for a, r, s, e in rows if s <= end]
        # Sort by completion, then start; ties keep the order the model logged them in.
        return sorted(rows, key=lambda row: (row[3], row[2]))


class EventLogWriter:
    """Writes activity rows for one run; call :meth:`close` on success, :meth:`abort` on failure."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start_date: dt.date,
        variant: str,
        replication: int,
        chunk_rows: int = 50_000,
    ) -> None:
        self.path = Path(path)
        fmt = self.path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise ValueError(f"event log {self.path}: unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        self.format = fmt
        self._origin = np.datetime64(start_date.isoformat(), "us")
        self._variant = variant
        self._replication = replication
        self._chunk_rows = chunk_rows
        self._open: dict[str, _Case] = {}
        self._done: list[tuple[Lead, list[_Row]]] = []
        self._done_rows = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        self._parquet: Any = None
        self._csv_file: Any = None
        self.rows_written = 0
        self.cases_written = 0

    def __call__(self, lead: Lead, activity: str, resource: str, start: float, end: float) -> None:
        """Add one activity row; a terminal activity closes the lead's case."""
        case = self._open.get(lead.id)
        if case is None:
            case = self._open[lead.id] = _Case(lead)
        case.rows.append((activity, resource, start, end))
        if activity in TERMINAL:
            del self._open[lead.id]
            self._finish(case, end)

    def _finish(self, case: _Case, end: float | None) -> None:
        rows = case.finished(end)
        self._done.append((case.lead, rows))
        self._done_rows += len(rows)
        if self._done_rows >= self._chunk_rows:
            self._flush()

    def _timestamps(self, hours: list[float]) -> np.ndarray:
        micros = np.round(np.asarray(hours, dtype=float) * 3_600_000_000).astype("timedelta64[us]")
        return self._origin + micros

    def _flush(self) -> None:
        if not self._done:
            return
        done, self._done, self._done_rows = self._done, [], 0
        columns = self._columns(done)
        if self.format == "csv":
            self._write_csv(columns)
        else:
            self._write_parquet(columns)
        self.rows_written += len(columns["activity"])
        self.cases_written += len(done)

    def _columns(self, done: list[tuple[Lead, list[_Row]]]) -> dict[str, Any]:
        """Finished cases as columns (timestamps as numpy datetimes)."""
        variant, replication = self._variant, self._replication
        columns: dict[str, list[Any]] = {k: [] for k in ("case", "lead_id", "region", "channel", "segment", "product")}
        activity: list[str] = []
        resource: list[str] = []
        start: list[float] = []
        end: list[float] = []
        for lead, rows in done:
            n = len(rows)
            lid = lead_id(replication, lead.id)
            columns["case"] += [f"{variant}|{lid}"] * n
            columns["lead_id"] += [lid] * n
            columns["region"] += [lead.region] * n
            columns["channel"] += [lead.channel] * n
            columns["segment"] += [lead.segment] * n
            columns["product"] += [lead.product] * n
            for a, r, s, e in rows:
                activity.append(a)
                resource.append(r)
                start.append(s)
                end.append(e)
        return {
            **columns,
            "activity": activity,
            "resource": resource,
            "start": self._timestamps(start),
            "end": self._timestamps(end),
        }

    def _write_csv(self, c: dict[str, Any]) -> None:
        if self._csv_file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = self._tmp.open("w", newline="")
            csv.writer(self._csv_file).writerow(COLUMNS["csv"])
        start_text = np.datetime_as_string(c["start"], unit="ms", timezone="UTC")
        end_text = np.datetime_as_string(c["end"], unit="ms", timezone="UTC")
        variant, replication = self._variant, self._replication
        csv.writer(self._csv_file).writerows(
            (case, act, res, s, e, lid, variant, replication, reg, ch, seg, prod)
            for case, act, res, s, e, lid, reg, ch, seg, prod in zip(
                c["case"],
                c["activity"],
                c["resource"],
                start_text,
                end_text,
                c["lead_id"],
                c["region"],
                c["channel"],
                c["segment"],
                c["product"],
                strict=True,
            )
        )

    def _write_parquet(self, c: dict[str, Any]) -> None:
        import pyarrow as pa  # noqa: PLC0415 - only needed when a Parquet log is asked for
        import pyarrow.parquet as pq  # noqa: PLC0415

        n = len(c["activity"])
        utc = pa.timestamp("us", tz="UTC")
        case_key, activity_key, resource_key, start_key, end_key = PM4PY_KEYS
        table = pa.table(
            {
                case_key: pa.array(c["case"], pa.string()),
                activity_key: pa.array(c["activity"], pa.string()),
                resource_key: pa.array(c["resource"], pa.string()),
                start_key: pa.array(c["start"]).cast(utc),
                end_key: pa.array(c["end"]).cast(utc),
                "lead_id": pa.array(c["lead_id"], pa.string()),
                "variant": pa.array([self._variant] * n, pa.string()),
                "replication": pa.array([self._replication] * n, pa.int32()),
                "region": pa.array(c["region"], pa.string()),
                "channel": pa.array(c["channel"], pa.string()),
                "segment": pa.array(c["segment"], pa.string()),
                "product": pa.array(c["product"], pa.string()),
            }
        )
        if self._parquet is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._parquet = pq.ParquetWriter(self._tmp, table.schema)
        self._parquet.write_table(table)

    def close(self) -> Path:
        """Write the open cases and what is left, and move the finished log into place."""
        for lead_number in sorted(self._open):
            self._finish(self._open[lead_number], None)
        self._open.clear()
        self._flush()
        if self._csv_file is None and self._parquet is None:
            empty = self._columns([])
            if self.format == "csv":
                self._write_csv(empty)
            else:
                self._write_parquet(empty)
        if self._csv_file is not None:
            self._csv_file.close()
        if self._parquet is not None:
            self._parquet.close()
        self._tmp.replace(self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial log."""
        for handle in (self._csv_file, self._parquet):
            if handle is not None:
                handle.close()
        self._tmp.unlink(missing_ok=True)
