"""Reading a company's transactions (strict, row-numbered errors) and R, F, M and the BTYD inputs per customer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.transactions import (
    Columns,
    TransactionsError,
    read_transactions,
    rfm_table,
    summary_frame,
    tier_summary,
    tier_table,
)
from salesboost.tiers import TierConfig, classify

GROCERY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "transactions" / "grocery_elog.csv"
WITH_AMOUNT = Columns(customer="cust", date="day", amount="value")


def write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path, columns: Columns = WITH_AMOUNT) -> str:
    with pytest.raises(TransactionsError) as info:
        read_transactions(path, columns)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(str(path))
    return text


# -- reading ------------------------------------------------------------------------------------------------


def test_reads_csv_into_typed_columns(tmp_path):
    path = write(
        tmp_path,
        'cust,day,value,note\n a1 ,2024-01-05,10.5,x\n\nb2,2024-01-06 17:45:00,0,"multi\nline"\na1,2024-02-01,3,y\n',
    )
    tx = read_transactions(path, WITH_AMOUNT)
    assert list(tx.columns) == ["customer_id", "date", "amount"]
    assert tx["customer_id"].tolist() == ["a1", "b2", "a1"]
    assert tx["date"].dtype == np.dtype("datetime64[ns]")
    assert tx["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-06"), pd.Timestamp("2024-02-01")]
    assert tx["amount"].tolist() == [10.5, 0.0, 3.0]


def test_without_amount_column_amount_is_nan(tmp_path):
    path = write(tmp_path, "customer_id,date\n7,2024-01-05\n")
    tx = read_transactions(path)
    assert tx["customer_id"].tolist() == ["7"]
    assert math.isnan(tx["amount"].iloc[0])


def test_missing_column_names_it_and_lists_the_columns_found(tmp_path):
    path = write(tmp_path, "cust,when,value\n1,2024-01-05,3\n")
    text = error_of(path)
    assert text == f"{path}, line 1: no column 'day' (customers.columns.date); columns found: 'cust', 'when', 'value'"


def test_duplicate_header_name(tmp_path):
    path = write(tmp_path, "cust,day,value,day\n1,2024-01-05,3,2024-01-06\n")
    assert error_of(path) == f"{path}, line 1: duplicate column name 'day' in the header"


def test_bad_date_shows_the_value_and_the_line(tmp_path):
    path = write(tmp_path, "cust,day,value\n1,2024-01-05,3\n2,2024-01-06,4\n3,2024-13-01,5\n4,31/01/2024,1\n")
    text = error_of(path)
    assert text.startswith(f"{path}, line 4: column 'day': cannot read '2024-13-01' as a date")
    assert text.endswith("(1 more rows like it)")


def test_line_numbers_count_blank_and_multi_line_records(tmp_path):
    # line 1 header, line 2 data, line 3 blank, lines 4-5 one quoted record, line 6 the bad date
    path = write(tmp_path, 'cust,day,value,note\n1,2024-01-05,3,a\n\n2,2024-01-06,4,"two\nlines"\n3,soon,5,c\n')
    assert error_of(path).startswith(f"{path}, line 6: column 'day': cannot read 'soon' as a date")


def test_empty_date_is_an_error(tmp_path):
    path = write(tmp_path, "cust,day,value\n1,,3\n")
    assert error_of(path).startswith(f"{path}, line 2: column 'day': cannot read '' as a date")


def test_negative_amount(tmp_path):
    path = write(tmp_path, "cust,day,value\n1,2024-01-05,3\n1,2024-01-06,-2.5\n")
    assert error_of(path) == f"{path}, line 3: column 'value': negative amount -2.5 (expected >= 0)"


@pytest.mark.parametrize("value", ["abc", "", "1,5", "inf"])
def test_non_numeric_amount(tmp_path, value):
    path = write(tmp_path, f'cust,day,value\n1,2024-01-05,3\n2,2024-01-05,"{value}"\n')
    assert error_of(path) == f"{path}, line 3: column 'value': {value!r} is not a number"


def test_empty_customer_id(tmp_path):
    path = write(tmp_path, "cust,day,value\n1,2024-01-05,3\n  ,2024-01-06,4\n")
    assert error_of(path) == f"{path}, line 3: column 'cust': empty customer id"


def test_wrong_number_of_fields(tmp_path):
    path = write(tmp_path, "cust,day,value\n1,2024-01-05,3\n2,2024-01-06\n")
    assert error_of(path) == f"{path}, line 3: expected 3 fields as in the header, got 2"


def test_unsupported_suffix_and_missing_file(tmp_path):
    path = write(tmp_path, "cust,day\n", name="tx.xlsx")
    assert error_of(path) == f"{path}: unsupported file type '.xlsx'; expected .csv or .parquet"
    missing = tmp_path / "nope.csv"
    assert error_of(missing) == f"{missing}: no such file"


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    assert error_of(path) == f"{path}, line 1: empty file; expected a header line"


def test_parquet_reads_and_reports_rows(tmp_path):
    frame = pd.DataFrame(
        {
            "cust": [11, 12, 11],
            "day": pd.to_datetime(["2024-01-05 08:00", "2024-01-06", "2024-02-01"], format="ISO8601"),
            "value": [1.0, 2.0, 3.0],
        }
    )
    good = tmp_path / "tx.parquet"
    frame.to_parquet(good)
    tx = read_transactions(good, WITH_AMOUNT)
    assert tx["customer_id"].tolist() == ["11", "12", "11"]
    assert tx["date"].tolist()[0] == pd.Timestamp("2024-01-05")
    assert tx["amount"].sum() == 6.0
    bad = tmp_path / "bad.parquet"
    frame.assign(value=[1.0, 2.0, -3.0]).to_parquet(bad)
    assert error_of(bad) == f"{bad}, row 3: column 'value': negative amount -3.0 (expected >= 0)"
    strings = tmp_path / "strings.parquet"
    frame.assign(day=["2024-01-05", "later", "2024-02-01"]).to_parquet(strings)
    assert error_of(strings).startswith(f"{strings}, row 2: column 'day': cannot read 'later' as a date")
    missing = tmp_path / "missing.parquet"
    frame.rename(columns={"cust": "client"}).to_parquet(missing)
    assert error_of(missing) == (
        f"{missing}: no column 'cust' (customers.columns.customer); columns found: 'client', 'day', 'value'"
    )


def test_parquet_duplicate_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "dup.parquet"
    arrays = [pa.array(["a"]), pa.array(["2024-01-01"]), pa.array([1.0]), pa.array([2.0])]
    pq.write_table(pa.Table.from_arrays(arrays, names=["cust", "day", "value", "value"]), path)
    assert error_of(path) == f"{path}: duplicate column name 'value' in the schema"


# -- R, F, M and the BTYD inputs ------------------------------------------------------------------------


def ledger() -> pd.DataFrame:
    # as_of 2024-06-30; 2024 is a leap year, so 365 days before it is 2023-07-01
    rows = [
        ("a", "2023-01-10", 5.0),  # before the window
        ("a", "2023-07-01", 7.0),  # exactly 365 days before as_of: outside
        ("a", "2023-07-02", 11.0),  # 364 days before: first day inside
        ("a", "2024-06-30", 13.0),  # as_of itself: inside
        ("a", "2024-06-30", 17.0),  # same day: counts for F and M, not for x
        ("b", "2024-05-01", 2.0),
        ("b", "2024-07-01", 100.0),  # after as_of: ignored
        ("c", "2024-08-01", 1.0),  # only after as_of: no row
    ]
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]),
            "amount": [r[2] for r in rows],
        }
    )


def test_rfm_by_hand():
    rfm = rfm_table(ledger(), "2024-06-30")
    assert rfm["customer_id"].tolist() == ["a", "b"]
    a, b = (rfm.iloc[i].to_dict() for i in range(2))
    assert (a["recency_days"], a["frequency_12m"], a["monetary_12m"]) == (0, 3, 41.0)
    # distinct days 2023-01-10, 07-01, 07-02, 2024-06-30: x = 3; first -> last = as_of - first = 537 days
    assert (a["x"], a["t_x"], a["T"]) == (3, 537, 537)
    assert (b["recency_days"], b["frequency_12m"], b["monetary_12m"], b["x"], b["t_x"], b["T"]) == (
        60,
        1,
        2.0,
        0,
        0,
        60,
    )
    assert rfm.attrs["after_as_of"] == 2
    assert rfm.attrs["monetary_known"] is True


def test_rfm_window_is_config_and_amounts_optional():
    rfm = rfm_table(ledger().assign(amount=np.nan), "2024-06-30", window_days=1)
    assert rfm["frequency_12m"].tolist() == [2, 0]
    assert rfm["monetary_12m"].isna().all()
    assert rfm.attrs["monetary_known"] is False


def test_rfm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="as_of: expected a date"):
        rfm_table(ledger(), "someday")
    with pytest.raises(ValueError, match="window_days"):
        rfm_table(ledger(), "2024-06-30", window_days=0)
    partial = ledger()
    partial.loc[0, "amount"] = np.nan
    with pytest.raises(ValueError, match="1 of 6 amounts missing"):
        rfm_table(partial, "2024-06-30")


def test_tier_table_adds_rank_tier_matched_and_gap():
    rows = [  # customer, days before as_of of each transaction, amount each
        ("hv", range(0, 360, 28), 50.0),  # 13 orders, last today, top spend
        ("pot", range(40, 360, 60), 20.0),  # 6 orders, R = 40, middle spend
        ("lapsed", [200], 1.0),  # one order 200 days ago, bottom spend: low_value (and dormant)
        ("mid", [70, 100], 30.0),  # R = 70: gap a
        ("rare", [10], 25.0),  # R = 10, F = 1: gap b
    ]
    as_of = pd.Timestamp("2024-06-30")
    tx = pd.DataFrame(
        [(c, as_of - pd.Timedelta(days=d), amount) for c, days, amount in rows for d in days],
        columns=["customer_id", "date", "amount"],
    )
    config = TierConfig.plan()
    tiered = tier_table(rfm_table(tx, as_of), config).set_index("customer_id")
    assert tiered.loc["hv", "monetary_rank"] == pytest.approx(0.8)
    assert tiered["tier"].to_dict() == {
        "hv": "high_value",
        "pot": "potential",
        "lapsed": "low_value",
        "mid": "maintain",
        "rare": "maintain",
    }
    assert tiered.loc["lapsed", "matched"] == "low_value;dormant"
    assert tiered["gap"].to_dict() == {
        "hv": None,
        "pot": None,
        "lapsed": None,
        "mid": "a_recency_between",
        "rare": "b_recent_infrequent",
    }
    summary = tier_summary(tiered.reset_index(), config)
    assert summary.overlap_counts[("low_value", "dormant")] == 1
    assert summary.revenue_shares is not None
    assert summary.revenue_shares["high_value"] == pytest.approx(650 / (650 + 120 + 1 + 60 + 25))
    table = summary_frame(summary)
    assert list(table.columns) == ["kind", "name", "count", "share", "revenue_share"]
    assert table.loc[table["kind"] == "tier", "count"].sum() == 5


def test_tier_table_checks_the_window():
    rfm = rfm_table(ledger(), "2024-06-30", window_days=180)
    with pytest.raises(ValueError, match="window_days=180"):
        tier_table(rfm, TierConfig.plan())


# -- the real ledger ------------------------------------------------------------------------------------


def independent_rf(path: Path, as_of: str) -> pd.DataFrame:
    """R and F (and the BTYD inputs) in plain pandas, written apart from rfm_table."""
    raw = pd.read_csv(path, parse_dates=["date"])
    end = pd.Timestamp(as_of)
    raw = raw.loc[raw["date"] <= end]
    out = {}
    for cust, group in raw.groupby("cust"):
        days = sorted(set(group["date"]))
        window_start = end - pd.DateOffset(days=364)
        out[str(cust)] = {
            "recency_days": (end - days[-1]).days,
            "frequency_12m": int((group["date"] >= window_start).sum()),
            "x": len(days) - 1,
            "t_x": (days[-1] - days[0]).days,
            "T": (end - days[0]).days,
        }
    return pd.DataFrame.from_dict(out, orient="index")


@pytest.mark.skipif(not GROCERY.exists(), reason="shared data set grocery_elog.csv not available")
def test_grocery_rfm_equals_an_independent_pandas_computation():
    tx = read_transactions(GROCERY, Columns(customer="cust"))
    assert len(tx) == 10_483
    assert tx["customer_id"].nunique() == 1_525
    rfm = rfm_table(tx, "2007-06-30").set_index("customer_id")
    expected = independent_rf(GROCERY, "2007-06-30")
    assert set(rfm.index) == set(expected.index)
    assert len(rfm) > 1_000
    got = rfm.loc[expected.index, list(expected.columns)]
    pd.testing.assert_frame_equal(got.astype("int64"), expected.astype("int64"), check_names=False)
    assert rfm.attrs["after_as_of"] == int((pd.read_csv(GROCERY, parse_dates=["date"])["date"] > "2007-06-30").sum())
    assert rfm.attrs["after_as_of"] > 0
    assert rfm["monetary_12m"].isna().all()


@pytest.mark.skipif(not GROCERY.exists(), reason="shared data set grocery_elog.csv not available")
def test_grocery_tiers_agree_with_classify_and_add_up():
    config = TierConfig.plan()
    tiered = tier_table(rfm_table(read_transactions(GROCERY, Columns(customer="cust")), "2007-12-31"), config)
    assert tiered["monetary_rank"].isna().all()
    summary = tier_summary(tiered, config)
    assert not summary.monetary_known
    assert sum(summary.counts.values()) == summary.total == len(tiered)
    assert sum(summary.gap_counts.values()) == summary.counts["maintain"]
    sample = tiered.sample(200, random_state=0)
    for row in sample.itertuples():
        found = classify(row.recency_days, row.frequency_12m, None, config, monetary_known=False)
        assert (found.tier, ";".join(found.matched), found.gap) == (row.tier, row.matched, row.gap)
