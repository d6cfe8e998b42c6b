"""A company's transactions: read a CSV or Parquet ledger strictly, then R, F, M and the BTYD inputs per customer.

Reading stops at the first malformed row with one line naming the file and the row as a user counts
it (CSV: header = line 1, first data row = line 2; Parquet: first row = row 1). Nothing is dropped
silently; the only lines skipped are entirely blank ones, which hold no data.

Definitions (``rfm_table``), all in whole days and as of a day ``as_of`` (transactions after it are
ignored and counted): recency_days = as_of - last transaction; frequency_12m = transactions in the
``window_days`` days up to as_of, as_of included; monetary_12m = their amount. The BTYD inputs count
from each customer's first transaction, with same-day transactions collapsed into one (the BTYD
convention: a purchase occasion per day): x = distinct transaction days - 1, t_x = last - first,
T = as_of - first. frequency_12m counts every transaction, as the plan's "orders per year" reads.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesboost.tiers import Classification, GapBounds, TierConfig, TierSummary, classify, monetary_rank, summarise

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Separator of the rule names in tier_table's ``matched`` column (one CSV cell).
MATCHED_SEPARATOR = ";"


class TransactionsError(ValueError):
    """A transactions file cannot be read as it is; the message names the file and the row."""

    def __init__(self, path: Path, problem: str, row: int | None = None, unit: str = "line") -> None:
        self.path = path
        self.row = row
        self.problem = problem
        where = str(path) if row is None else f"{path}, {unit} {row}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Columns:
    """Column names in the file; ``amount=None`` when the file has no amounts."""

    customer: str = "customer_id"
    date: str = "date"
    amount: str | None = None


@dataclass(frozen=True)
class _Raw:
    """The needed columns as read, with each row's number as the user counts it."""

    header: list[str]
    values: dict[str, pd.Series]
    rows: np.ndarray
    unit: str  # "line" (CSV) or "row" (Parquet)


def read_transactions(
    path: str | Path, columns: Columns = Columns(), *, where: str = "customers.columns"
) -> pd.DataFrame:
    """Read a CSV or Parquet file into columns customer_id (str), date (datetime64, midnight), amount (float).

    ``amount`` is all NaN when ``columns.amount`` is None. Dates are ISO 8601 (2006-01-31, or a date and
    time, cut to the day). Raises TransactionsError (one line: file, row, problem) on a missing column,
    a duplicate header name, an empty customer id, an unparseable date, a non-numeric or negative
    amount, or a CSV row with the wrong number of fields; ``where`` is the config key of ``columns``,
    named when a column is missing.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise TransactionsError(path, f"unsupported file type {suffix or '(none)'!r}; expected .csv or .parquet")
    if not path.is_file():
        raise TransactionsError(path, "no such file")
    wanted = {f.name: getattr(columns, f.name) for f in fields(Columns) if getattr(columns, f.name) is not None}
    raw = _read_csv(path, wanted, where) if suffix in CSV_SUFFIXES else _read_parquet(path, wanted, where)
    customer = _customer_ids(path, raw, wanted["customer"])
    date = _dates(path, raw, wanted["date"])
    if "amount" in wanted:
        amount = _amounts(path, raw, wanted["amount"])
    else:
        amount = np.full(len(raw.rows), np.nan)
    tx = pd.DataFrame({"customer_id": customer, "date": date, "amount": amount})
    tx.attrs["source"] = str(path)
    return tx


def rfm_table(tx: pd.DataFrame, as_of: Any, window_days: int = 365) -> pd.DataFrame:
    """One row per customer with a transaction up to ``as_of``: R, F, M in the window and x, t_x, T.

    Columns customer_id, recency_days, frequency_12m, monetary_12m (NaN without amounts), x, t_x, T
    (definitions in the module docstring), customers in order of first appearance. ``attrs`` holds
    as_of, window_days, monetary_known and after_as_of (transactions ignored because they are later).
    """
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ValueError(f"window_days: expected a whole number of days >= 1, got {window_days!r}")
    missing = [c for c in ("customer_id", "date", "amount") if c not in tx.columns]
    if missing:
        raise ValueError(f"tx: missing column {missing[0]!r}; expected the frame read_transactions returns")
    try:
        day = pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        raise ValueError(f"as_of: expected a date (YYYY-MM-DD), got {as_of!r}") from None
    if pd.isna(day):
        raise ValueError(f"as_of: expected a date (YYYY-MM-DD), got {as_of!r}")
    dates = tx["date"].dt.normalize()
    kept = tx.assign(date=dates)[dates <= day]
    monetary_known = _monetary_known(kept["amount"], "tx.amount")
    by = kept.groupby("customer_id", sort=False)["date"]
    first, last = by.min(), by.max()
    recent = kept[kept["date"] > day - pd.Timedelta(days=window_days)]
    frequency = recent.groupby("customer_id", sort=False).size().reindex(first.index, fill_value=0)
    if monetary_known:
        monetary = recent.groupby("customer_id", sort=False)["amount"].sum().reindex(first.index, fill_value=0.0)
    else:
        monetary = pd.Series(np.nan, index=first.index)
    rfm = pd.DataFrame(
        {
            "customer_id": first.index.astype(str),
            "recency_days": (day - last).dt.days.to_numpy(dtype=np.int64),
            "frequency_12m": frequency.to_numpy(dtype=np.int64),
            "monetary_12m": monetary.to_numpy(dtype=float),
            "x": (by.nunique() - 1).to_numpy(dtype=np.int64),
            "t_x": (last - first).dt.days.to_numpy(dtype=np.int64),
            "T": (day - first).dt.days.to_numpy(dtype=np.int64),
        }
    )
    rfm.attrs.update(
        as_of=day, window_days=window_days, monetary_known=monetary_known, after_as_of=int(len(tx) - len(kept))
    )
    return rfm


def tier_table(rfm: pd.DataFrame, config: TierConfig) -> pd.DataFrame:
    """``rfm`` with monetary_rank (NaN without amounts), tier, matched (rule names joined by ';') and gap.

    Ranks are over the customers of ``rfm`` (``monetary_rank``). Without amounts no M condition is
    applied, and ``attrs["monetary_known"]`` is False.
    """
    window = rfm.attrs.get("window_days")
    if window is not None and window != config.window_days:
        raise ValueError(
            f"rfm: computed with window_days={window}, the tier config has window_days={config.window_days}"
        )
    known = _monetary_known(rfm["monetary_12m"], "rfm.monetary_12m")
    ranks: list[float | None] = list(monetary_rank(rfm["monetary_12m"].to_numpy())) if known else [None] * len(rfm)
    gaps = GapBounds.of(config)
    found = [
        classify(float(r), float(f), rank, config, monetary_known=known, gaps=gaps)
        for r, f, rank in zip(rfm["recency_days"], rfm["frequency_12m"], ranks, strict=True)
    ]
    out = rfm.copy()
    out["monetary_rank"] = np.array([np.nan if r is None else r for r in ranks], dtype=float)
    out["tier"] = [c.tier for c in found]
    out["matched"] = [MATCHED_SEPARATOR.join(c.matched) for c in found]
    out["gap"] = pd.Series([c.gap for c in found], index=out.index, dtype=object)
    out.attrs.update(rfm.attrs, monetary_known=known)
    return out


def tier_summary(tiered: pd.DataFrame, config: TierConfig) -> TierSummary:
    """``summarise`` over a tier_table; revenue shares from monetary_12m when amounts are known."""
    known = bool(tiered.attrs.get("monetary_known", not tiered["monetary_12m"].isna().all()))
    found = [
        Classification(tier, tuple(matched.split(MATCHED_SEPARATOR)) if matched else (), gap or None, known)
        for tier, matched, gap in zip(tiered["tier"], tiered["matched"], tiered["gap"], strict=True)
    ]
    revenue = tiered["monetary_12m"].to_list() if known else None
    return summarise(found, revenue, config=config)


def summary_frame(summary: TierSummary) -> pd.DataFrame:
    """The summary as a table (kind, name, count, share, revenue_share), e.g. for tiers_summary.csv."""
    return pd.DataFrame(summary.rows(), columns=["kind", "name", "count", "share", "revenue_share"])


# -- reading -----------------------------------------------------------------------------------------------


def _read_csv(path: Path, wanted: dict[str, str], where: str) -> _Raw:
    """Parse with the csv module, keeping each record's first line number."""
    cells: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if not header:
                raise TransactionsError(path, "empty file; expected a header line", 1)
            index = _header_index(path, header, wanted, where, row=1)
            start = reader.line_num + 1
            for record in reader:
                if record:  # an entirely blank line holds no data
                    if len(record) != len(header):
                        raise TransactionsError(
                            path, f"expected {len(header)} fields as in the header, got {len(record)}", start
                        )
                    cells.append([record[i].strip() for i in index.values()])
                    lines.append(start)
                start = reader.line_num + 1
    except csv.Error as err:
        raise TransactionsError(path, f"not valid CSV ({err})", start) from None
    except UnicodeDecodeError:
        raise TransactionsError(path, "not UTF-8 text") from None
    values = {key: pd.Series([row[i] for row in cells], dtype=object) for i, key in enumerate(index)}
    return _Raw(header, values, np.asarray(lines, dtype=np.int64), "line")


def _read_parquet(path: Path, wanted: dict[str, str], where: str) -> _Raw:
    import pyarrow.parquet as pq  # noqa: PLC0415 - layers rule: pyarrow only inside functions

    try:
        header = list(pq.read_schema(path).names)
        _header_index(path, header, wanted, where, row=None)
        table = pq.read_table(path, columns=list(dict.fromkeys(wanted.values())))
    except (OSError, ValueError) as err:
        if isinstance(err, TransactionsError):
            raise
        raise TransactionsError(path, f"not a readable Parquet file ({err})") from None
    values = {key: table.column(name).to_pandas() for key, name in wanted.items()}
    return _Raw(header, values, np.arange(1, table.num_rows + 1, dtype=np.int64), "row")


def _header_index(path: Path, header: list[str], wanted: dict[str, str], where: str, row: int | None) -> dict[str, int]:
    """Position of each wanted column; errors on duplicate or missing names."""
    duplicate = next((name for name in header if header.count(name) > 1), None)
    if duplicate is not None:
        place = "the header" if row is not None else "the schema"
        raise TransactionsError(path, f"duplicate column name {duplicate!r} in {place}", row)
    for key, name in wanted.items():
        if name not in header:
            found = ", ".join(repr(h) for h in header)
            raise TransactionsError(path, f"no column {name!r} ({where}.{key}); columns found: {found}", row)
    return {key: header.index(name) for key, name in wanted.items()}


def _first_bad(
    path: Path, raw: _Raw, key: str, bad: np.ndarray, problem: str, *, shown: np.ndarray | None = None
) -> None:
    """Raise for the first flagged row; ``{value}`` in ``problem`` is its cell of ``key`` (or of ``shown``)."""
    if not bad.any():
        return
    positions = np.flatnonzero(bad)
    first = int(positions[0])
    more = f" ({len(positions) - 1} more rows like it)" if len(positions) > 1 else ""
    value = raw.values[key].iloc[first] if shown is None else shown[first].item()
    message = problem.format(value=value) + more
    raise TransactionsError(path, message, int(raw.rows[first]), raw.unit)


def _customer_ids(path: Path, raw: _Raw, name: str) -> np.ndarray:
    text = raw.values["customer"].map(lambda v: "" if _is_missing(v) else str(v).strip())
    _first_bad(path, raw, "customer", (text == "").to_numpy(), f"column {name!r}: empty customer id")
    return text.to_numpy(dtype=object)


def _dates(path: Path, raw: _Raw, name: str) -> np.ndarray:
    series = raw.values["date"]
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)  # keep the wall-clock day where the transaction happened
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
    else:
        parsed = _parse_dates(series)
    problem = f"column {name!r}: cannot read {{value!r}} as a date (expected ISO 8601, e.g. 2006-01-31)"
    _first_bad(path, raw, "date", parsed.isna().to_numpy(), problem)
    return parsed.dt.normalize().to_numpy(dtype="datetime64[ns]")


def _parse_dates(series: pd.Series) -> pd.Series:
    """ISO 8601 dates or date-times (wall clock kept where an offset is given); NaT where unreadable."""
    text = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # mixed offsets: handled one by one below
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if pd.api.types.is_datetime64_any_dtype(parsed.dtype) and not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed
    return pd.Series([_parse_date(v) for v in text], index=series.index, dtype="datetime64[ns]")


def _parse_date(value: Any) -> pd.Timestamp | None:
    """One ISO 8601 date or date-time (a date object too), wall clock kept; None if it is not one."""
    if _is_missing(value) or value == "":
        return None
    try:
        stamp = pd.to_datetime(value, format="ISO8601") if isinstance(value, str) else pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _amounts(path: Path, raw: _Raw, name: str) -> np.ndarray:
    series = raw.values["amount"]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        text = series.map(lambda v: "" if _is_missing(v) else str(v))
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    _first_bad(path, raw, "amount", ~np.isfinite(values), f"column {name!r}: {{value!r}} is not a number")
    _first_bad(
        path, raw, "amount", values < 0, f"column {name!r}: negative amount {{value!r}} (expected >= 0)", shown=values
    )
    return values


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _monetary_known(amount: pd.Series, key: str) -> bool:
    """True if every amount is known, False if none is; a mix is an error."""
    missing = amount.isna()
    if missing.all():
        return False
    if missing.any():
        raise ValueError(f"{key}: {int(missing.sum())} of {len(amount)} amounts missing; expected all or none")
    return True


__all__ = [
    "Columns",
    "TransactionsError",
    "read_transactions",
    "rfm_table",
    "summary_frame",
    "tier_summary",
    "tier_table",
]
