"""The event log: one row per activity instance, streamed to CSV or Parquet.

Columns follow the process-mining convention (``case_id, activity, resource, start, end``)
plus case attributes, so pm4py and log-distance-measures read the file unchanged. Rows are
written in chunks to a temporary file that is renamed into place on success, so a failed
run leaves no partial log behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from sim.lead import Lead

COLUMNS: tuple[str, ...] = (
    "case_id",
    "activity",
    "resource",
    "start",
    "end",
    "region",
    "channel",
    "segment",
    "variant",
    "replication",
)
FORMATS = ("csv", "parquet")


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
        self._rows: list[tuple[Any, ...]] = []
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        self._parquet: Any = None
        self._csv_file: Any = None
        self.rows_written = 0

    def __call__(self, lead: Lead, activity: str, resource: str, start: float, end: float) -> None:
        """Add one activity row."""
        self._rows.append((lead.id, activity, resource, start, end, lead.region, lead.channel, lead.segment))
        if len(self._rows) >= self._chunk_rows:
            self._flush()

    def _timestamps(self, hours: list[float]) -> np.ndarray:
        micros = np.round(np.asarray(hours) * 3_600_000_000).astype("timedelta64[us]")
        return self._origin + micros

    def _flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        columns = list(zip(*rows, strict=True))
        starts = self._timestamps(list(columns[3]))
        ends = self._timestamps(list(columns[4]))
        if self.format == "csv":
            self._write_csv(columns, starts, ends)
        else:
            self._write_parquet(columns, starts, ends)
        self.rows_written += len(rows)

    def _write_csv(self, columns: list[tuple[Any, ...]], starts: np.ndarray, ends: np.ndarray) -> None:
        if self._csv_file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = self._tmp.open("w", newline="")
            csv.writer(self._csv_file).writerow(COLUMNS)
        writer = csv.writer(self._csv_file)
        start_text = np.datetime_as_string(starts, unit="s")
        end_text = np.datetime_as_string(ends, unit="s")
        variant, replication = self._variant, self._replication
        writer.writerows(
            (case, act, res, s, e, reg, ch, seg, variant, replication)
            for case, act, res, s, e, reg, ch, seg in zip(
                columns[0],
                columns[1],
                columns[2],
                start_text,
                end_text,
                columns[5],
                columns[6],
                columns[7],
                strict=True,
            )
        )

    def _write_parquet(self, columns: list[tuple[Any, ...]], starts: np.ndarray, ends: np.ndarray) -> None:
        import pyarrow as pa  # noqa: PLC0415 - only needed when a Parquet log is asked for
        import pyarrow.parquet as pq  # noqa: PLC0415

        n = len(columns[0])
        table = pa.table(
            {
                "case_id": pa.array(columns[0], pa.int64()),
                "activity": pa.array(columns[1], pa.string()),
                "resource": pa.array(columns[2], pa.string()),
                "start": pa.array(starts),
                "end": pa.array(ends),
                "region": pa.array(columns[5], pa.string()),
                "channel": pa.array(columns[6], pa.string()),
                "segment": pa.array(columns[7], pa.string()),
                "variant": pa.array([self._variant] * n, pa.string()),
                "replication": pa.array([self._replication] * n, pa.int32()),
            }
        )
        if self._parquet is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._parquet = pq.ParquetWriter(self._tmp, table.schema)
        self._parquet.write_table(table)

    def close(self) -> Path:
        """Write what is left and move the finished log into place."""
        self._flush()
        if self._csv_file is None and self._parquet is None:
            self._write_empty()
        if self._csv_file is not None:
            self._csv_file.close()
        if self._parquet is not None:
            self._parquet.close()
        self._tmp.replace(self.path)
        return self.path

    def _write_empty(self) -> None:
        none = np.array([], dtype="datetime64[us]")
        if self.format == "csv":
            self._write_csv([()] * 8, none, none)
        else:
            self._write_parquet([()] * 8, none, none)

    def abort(self) -> None:
        """Drop the partial log."""
        for handle in (self._csv_file, self._parquet):
            if handle is not None:
                handle.close()
        self._tmp.unlink(missing_ok=True)
