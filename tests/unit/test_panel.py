"""The monthly KPI panel: period boundaries, attribution, interning, quantiles, sums and round trips."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import types

import numpy as np
import pytest

from salesboost.histogram import BINS_PER_DECADE
from salesboost.panel import (
    LEAD_FIELDS,
    MEASURES,
    PIPELINE_COLUMNS,
    WORK_KINDS,
    WORKER_COLUMNS,
    PanelFormatError,
    PanelTable,
    panels_from_dict,
)
from sim.panel import PanelRecorder

#: Relative width of one histogram bin (10^(1/40) = 1.059): a quantile read from bins is off by less.
BIN_FACTOR = 10 ** (1 / BINS_PER_DECADE)
LEADS, CONTACTED, ORDERS, REVENUE = (LEAD_FIELDS.index(f) for f in ("leads", "contacted", "orders", "revenue"))


def _rows(table: PanelTable) -> list[dict[str, object]]:
    return [dict(zip(table.columns, values, strict=True)) for values in zip(*table.columns.values(), strict=True)]


def _expected_label(start: dt.date, t: float, period: str) -> str:
    """The label of clock time ``t`` straight from the calendar (independent of the recorder's arithmetic)."""
    day = start + dt.timedelta(hours=t)
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@pytest.mark.parametrize(
    ("start", "days", "period"),
    [
        (dt.date(2023, 11, 15), 120, "month"),  # across a year change, start mid-month
        (dt.date(2024, 1, 1), 400, "month"),  # a leap February, a full year
        (dt.date(2020, 12, 30), 60, "week"),  # ISO week 2020-W53, then 2021-W01
        (dt.date(2024, 12, 25), 40, "week"),  # Wednesday 2024-W52, then 2025-W01
    ],
)
def test_every_hour_lands_in_its_calendar_period(start, days, period):
    recorder = PanelRecorder(start, days * 24.0, period)
    key = recorder.key(True, "north", "web", "new", "A")
    for hour in range(days * 24):
        for t in (float(hour), hour + 0.999999):
            recorder.add(t, key, LEADS)
    rows = _rows(recorder.tables()["pipeline"])
    expected: dict[str, int] = {}
    for hour in range(days * 24):
        label = _expected_label(start, hour, period)
        expected[label] = expected.get(label, 0) + 2
    assert {r["period"]: r["leads"] for r in rows} == expected
    assert [r["period"] for r in rows] == sorted(expected, key=lambda lab: list(expected).index(lab))
    # period_start: the calendar start of the period (the 1st, or the ISO Monday), even if before the start date
    for r in rows:
        first = dt.date.fromisoformat(str(r["period_start"]))
        assert _expected_label(first, 0, period) == r["period"]
        assert _expected_label(first - dt.timedelta(days=1), 0, period) != r["period"]


def test_period_bounds_are_contiguous_and_cut_at_both_ends():
    start = dt.date(2023, 11, 15)
    end_hours = 100 * 24.0 + 5.0
    recorder = PanelRecorder(start, end_hours)
    bounds = recorder.period_bounds()
    assert recorder.period_labels() == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert bounds[0] == (0.0, 16 * 24.0)  # 15 Nov to 1 Dec
    assert bounds[1] == (16 * 24.0, 47 * 24.0)
    assert bounds[-1] == (78 * 24.0, end_hours)  # 1 Feb 2024 is day 78
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))


def test_attribution_at_a_boundary_goes_to_the_new_period():
    recorder = PanelRecorder(dt.date(2024, 1, 30), 10 * 24.0)
    key = recorder.key(False, "east", "event", "existing", "B")
    boundary = recorder.period_bounds()[1][0]
    assert boundary == 48.0
    recorder.add(math.nextafter(boundary, 0), key, LEADS)
    recorder.add(boundary, key, ORDERS)
    recorder.observe(boundary, key, 0, 2.0)
    worker = recorder.worker("rep-1", "rep", "east")
    recorder.work(math.nextafter(boundary, 0), worker, 0, 3.0)
    recorder.work(boundary, worker, 0, 5.0)
    rows = {r["period"]: r for r in _rows(recorder.tables()["pipeline"])}
    assert (rows["2024-01"]["leads"], rows["2024-01"]["orders"]) == (1, 0)
    assert (rows["2024-02"]["leads"], rows["2024-02"]["orders"], rows["2024-02"]["first_response_hours_n"]) == (0, 1, 1)
    work = {r["period"]: r["first_contact_hours"] for r in _rows(recorder.tables()["workers"])}
    assert work == {"2024-01": 3.0, "2024-02": 5.0}


def test_events_past_the_end_open_periods_and_before_the_start_are_refused():
    recorder = PanelRecorder(dt.date(2024, 1, 1), 31 * 24.0)
    key = recorder.key(True, "north", "web", "new", "A")
    assert recorder.period_labels() == ["2024-01"]
    recorder.add(75 * 24.0, key, LEADS)  # 16 March
    assert recorder.period_labels() == ["2024-01", "2024-02", "2024-03"]
    assert recorder.period_bounds()[0] == (0.0, 31 * 24.0)
    assert recorder.period_bounds()[2] == (60 * 24.0, 91 * 24.0)  # opened by an event: in full
    assert [r["period"] for r in _rows(recorder.tables()["pipeline"])] == ["2024-03"]
    with pytest.raises(ValueError, match="before the start"):
        recorder.add(-0.5, key, LEADS)
    with pytest.raises(ValueError, match="month, week"):
        PanelRecorder(dt.date(2024, 1, 1), 10.0, "quarter")


def test_keys_are_interned_per_combination():
    recorder = PanelRecorder(dt.date(2024, 1, 1), 24.0)
    a = recorder.key(True, "north", "web", "new", "A")
    assert recorder.key(True, "north", "web", "new", "A") == a
    others = {
        recorder.key(False, "north", "web", "new", "A"),
        recorder.key(True, "south", "web", "new", "A"),
        recorder.key(True, "north", "event", "new", "A"),
        recorder.key(True, "north", "web", "existing", "A"),
        recorder.key(True, "north", "web", "new", "B"),
    }
    assert len(others) == 5
    assert a not in others
    recorder.add(1.0, a, LEADS)
    rows = _rows(recorder.tables()["pipeline"])
    assert len(rows) == 1  # only rows that saw an event
    assert (rows[0]["cohort"], rows[0]["region"], rows[0]["product"]) == (True, "north", "A")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quantiles_match_numpy_within_the_bin_resolution(seed):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(mean=rng.uniform(-1, 3), sigma=rng.uniform(0.3, 1.5), size=int(rng.integers(200, 3000)))
    recorder = PanelRecorder(dt.date(2024, 1, 1), 24.0 * 31)
    key = recorder.key(True, "north", "web", "new", "A")
    measure = MEASURES.index("quote_approval_hours")
    for i, v in enumerate(values):
        recorder.observe(i * 0.01, key, measure, float(v))
    (row,) = _rows(recorder.tables()["pipeline"])
    assert row["quote_approval_hours_n"] == values.size
    assert row["quote_approval_hours_mean"] == pytest.approx(values.mean(), rel=1e-12)
    for suffix, q in (("p50", 0.5), ("p90", 0.9)):
        ours, exact = row[f"quote_approval_hours_{suffix}"], float(np.quantile(values, q))
        assert isinstance(ours, float)
        assert abs(math.log(ours / exact)) <= math.log(BIN_FACTOR) + 1e-3, (suffix, ours, exact)
    # measures with no observation are null, not 0
    assert row["contract_cycle_days_n"] == 0
    assert row["contract_cycle_days_mean"] is None
    assert row["contract_cycle_days_p90"] is None


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_table_sums_equal_what_was_added(seed):
    rng = np.random.default_rng(seed)
    start, days = dt.date(2024, 2, 10), 200
    recorder = PanelRecorder(start, days * 24.0)
    dims = [
        (c, r, ch, s, p) for c in (True, False) for r in ("n", "e") for ch in ("web",) for s in ("x", "y") for p in "AB"
    ]
    keys = [recorder.key(*d) for d in dims]
    totals = np.zeros(len(LEAD_FIELDS))
    by_cohort = {True: 0.0, False: 0.0}
    durations: list[float] = []
    for _ in range(20_000):
        t = float(rng.uniform(0, days * 24.0))
        k = int(rng.integers(len(keys)))
        field = int(rng.integers(len(LEAD_FIELDS)))
        amount = float(rng.exponential(1000.0)) if LEAD_FIELDS[field] in ("revenue", "gross_profit") else 1.0
        recorder.add(t, keys[k], field, amount)
        totals[field] += amount
        if field == REVENUE:
            by_cohort[dims[k][0]] += amount
        d = float(rng.exponential(5.0))
        recorder.observe(t, keys[k], 3, d)
        durations.append(d)
    table = recorder.tables()["pipeline"]
    assert tuple(table.columns) == PIPELINE_COLUMNS
    assert len(table) <= len(keys) * len(recorder.period_labels())  # grows with periods x rows, not events
    for i, field in enumerate(LEAD_FIELDS):
        assert sum(table.columns[field]) == pytest.approx(totals[i], rel=1e-9)
    cohort_revenue = sum(v for v, c in zip(table.columns["revenue"], table.columns["cohort"], strict=True) if c)
    assert cohort_revenue == pytest.approx(by_cohort[True], rel=1e-9)
    n, mean = table.columns["lead_to_order_days_n"], table.columns["lead_to_order_days_mean"]
    assert sum(n) == len(durations)
    weighted = sum(k * m for k, m in zip(n, mean, strict=True) if k)
    assert weighted == pytest.approx(sum(durations), rel=1e-9)
    assert all(isinstance(v, int) for v in table.columns["orders"])  # counts stay integers in JSON


def test_workers_table_busy_time_utilisation_and_absence():
    recorder = PanelRecorder(dt.date(2024, 3, 1), 61 * 24.0)
    rep = recorder.worker("rep-north-1", "rep", "north")
    manager = recorder.worker("manager-1", "manager", "all")
    idle = recorder.worker("rep-north-2", "rep", "north")
    kind = {k: i for i, k in enumerate(WORK_KINDS)}
    recorder.work(10.0, rep, kind["first_contact"], 20.0)
    recorder.work(20.0, rep, kind["admin"], 30.0)
    recorder.work(30.0, rep, kind["absence"], 8.0)
    recorder.work(40.0, manager, kind["escalation"], 4.0)
    for w, hours in ((rep, 160.0), (manager, 100.0)):
        recorder.available(w, 0, hours)
    recorder.available(idle, 1, 150.0)
    table = recorder.tables()["workers"]
    assert tuple(table.columns) == WORKER_COLUMNS
    rows = {(r["period"], r["worker"]): r for r in _rows(table)}
    r = rows[("2024-03", "rep-north-1")]
    assert (r["busy_hours"], r["absence_hours"], r["utilisation"]) == (50.0, 8.0, 50.0 / 160.0)
    assert rows[("2024-03", "manager-1")]["utilisation"] == 0.04
    assert rows[("2024-04", "rep-north-2")]["utilisation"] == 0.0
    assert ("2024-04", "rep-north-1") not in rows  # no hours and nothing available: no row
    recorder.credit(15.0, rep, ORDERS)
    recorder.credit(15.0, rep, REVENUE, 900.0)
    recorder.credit(40 * 24.0, idle, CONTACTED)
    rows = {(r["period"], r["worker"]): r for r in _rows(recorder.tables()["workers"])}
    assert (rows[("2024-03", "rep-north-1")]["orders"], rows[("2024-03", "rep-north-1")]["revenue"]) == (1, 900.0)
    assert rows[("2024-04", "rep-north-2")]["contacted"] == 1
    assert rows[("2024-03", "manager-1")]["orders"] == 0
    with pytest.raises(ValueError, match="period index 5"):
        recorder.available(rep, 5, 1.0)
    recorder2 = PanelRecorder(dt.date(2024, 3, 1), 24.0)
    w = recorder2.worker("rep-1", "rep", "north")
    recorder2.work(1.0, w, kind["quote"], 2.0)
    (row,) = _rows(recorder2.tables()["workers"])
    assert row["utilisation"] is None  # no working time available: utilisation undefined, not infinite


def test_tables_round_trip_through_strict_json():
    recorder = PanelRecorder(dt.date(2024, 1, 1), 60 * 24.0, "week")
    key = recorder.key(True, "north", "web", "new", "A")
    recorder.add(5.0, key, REVENUE, 1234.5)
    recorder.observe(5.0, key, 0, 0.5)
    w = recorder.worker("rep-1", "rep", "north")
    recorder.work(1.0, w, 0, 1.0)
    tables = recorder.tables()
    text = json.dumps({n: t.to_dict() for n, t in tables.items()}, allow_nan=False)
    back = panels_from_dict(json.loads(text))
    assert back == tables
    assert len(back["pipeline"]) == 1
    assert len(back["workers"]) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "panel: expected"),
        ({"rows": 2, "columns": {"a": [1]}}, "panel.columns.a: expected a list of 2 values"),
        ({"rows": -1, "columns": {}}, "panel.rows: expected a count"),
        ({"rows": 1, "columns": {"a": [[1]]}}, "panel.columns.a: expected a string, number or null"),
        ({"rows": 1, "columns": {"a": [math.nan]}}, "panel.columns.a: expected a string, number or null"),
    ],
)
def test_bad_table_data_is_refused_in_one_line(data, message):
    with pytest.raises(PanelFormatError, match=message.replace(".", r"\.")) as info:
        PanelTable.from_dict(data)
    assert "\n" not in str(info.value)


def test_columns_of_unequal_length_are_refused():
    with pytest.raises(PanelFormatError, match="different lengths"):
        PanelTable({"a": [1, 2], "b": [1]})


def test_run_result_carries_its_panels_and_old_schemas_are_refused():
    from salesboost.histogram import LogHistogram
    from salesboost.results import FUNNEL, OUTCOMES, SCHEMA_VERSION, ResultFormatError, RunResult
    from tests.support import small_scenario

    scenario = small_scenario("legacy", days=28.0)
    recorder = PanelRecorder(dt.date(2024, 1, 1), 60 * 24.0)
    key = recorder.key(True, "north", "web", "new", "A")
    recorder.add(5.0, key, ORDERS)
    result = RunResult(
        scenario=scenario,
        seed=1,
        replication=0,
        metrics={"orders": 1.0},
        outcomes=dict.fromkeys(OUTCOMES, 0),
        funnel=dict.fromkeys(FUNNEL, 0),
        histograms={"h": LogHistogram.empty()},
        panels=recorder.tables(),
    )
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["schema"] == SCHEMA_VERSION == 2
    assert RunResult.from_dict(data, scenario).panels == result.panels
    with pytest.raises(ResultFormatError, match="schema 1, this version reads 2"):
        RunResult.from_dict({**data, "schema": 1}, scenario)
    data["panels"]["pipeline"]["rows"] = 7
    with pytest.raises(ResultFormatError, match=r"panels\.pipeline\.columns\.period: expected a list of 7"):
        RunResult.from_dict(data, scenario)


def _fake_results(seed: int, replications: int, days: int = 120):
    """Results carrying only a panel (what panel_frame reads), with the raw events kept to check against."""
    out, events = [], []
    for rep in range(replications):
        rng = np.random.default_rng(seed * 100 + rep)
        recorder = PanelRecorder(dt.date(2024, 1, 1), days * 24.0)
        keys = [
            recorder.key(c, r, "web", s, p) for c in (True, False) for r in ("n", "e") for s in ("x", "y") for p in "AB"
        ]
        rep_w = recorder.worker("rep-1", "rep", "n")
        mgr_w = recorder.worker("mgr-1", "manager", "n")
        for _ in range(3000):
            t = float(rng.uniform(0, days * 24.0))
            k = int(rng.integers(len(keys)))
            field = int(rng.integers(len(LEAD_FIELDS)))
            recorder.add(t, keys[k], field)
            value = float(rng.exponential(3.0))
            recorder.observe(t, keys[k], 0, value)
            w, kind, hours = (rep_w, 0, 1.0) if rng.random() < 0.7 else (mgr_w, WORK_KINDS.index("escalation"), 0.5)
            recorder.work(t, w, kind, hours)
            events.append((rep, _expected_label(recorder.start, t, "month"), LEAD_FIELDS[field], value, w, hours))
        for p in range(len(recorder.period_labels())):
            recorder.available(rep_w, p, 160.0)
            recorder.available(mgr_w, p, 100.0)
        out.append(types.SimpleNamespace(replication=rep, panels=recorder.tables()))
    return out, events


def test_aggregates_sum_counts_and_recompute_means_and_rates_from_sums():
    from analysis.panel import aggregate_pipeline, panel_frame, per_replication

    results, events = _fake_results(8, 2)
    frame = panel_frame(results, variant="v")
    assert list(frame.columns[:2]) == ["variant", "replication"]
    assert frame["first_response_hours_mean"].dtype == float  # None became NaN
    by_period = aggregate_pipeline(frame, ["replication", "period"]).set_index(["replication", "period"])
    for (rep, period), row in by_period.iterrows():
        mine = [e for e in events if e[0] == rep and e[1] == period]
        for field in LEAD_FIELDS:
            assert row[field] == sum(1 for e in mine if e[2] == field)
        values = [e[3] for e in mine]
        assert row["first_response_hours_n"] == len(values)
        assert row["first_response_hours_mean"] == pytest.approx(np.mean(values), rel=1e-9)
        contacted = sum(1 for e in mine if e[2] == "contacted")
        in_sla = sum(1 for e in mine if e[2] == "contacted_in_sla")
        assert row["contacted_in_sla_share"] == pytest.approx(in_sla / contacted)  # a ratio of sums
    assert "first_response_hours_p50" not in by_period.columns  # quantiles do not aggregate
    wide = per_replication(frame, panel_frame(results, "workers")).set_index(["replication", "period"])
    for (rep, period), row in wide.iterrows():
        rep_hours = sum(e[5] for e in events if e[0] == rep and e[1] == period and e[4] == 0)
        mgr_hours = sum(e[5] for e in events if e[0] == rep and e[1] == period and e[4] == 1)
        assert row["rep_utilisation"] == pytest.approx(rep_hours / 160.0)
        assert row["manager_utilisation"] == pytest.approx(mgr_hours / 100.0)


def test_monthly_summary_bands_hold_the_mean_and_cover_replications():
    from analysis.panel import monthly_summary, panel_frame, per_replication

    results, _ = _fake_results(9, 5)
    frames = {"v": panel_frame(results, variant="v")}
    summary = monthly_summary(frames, {"v": panel_frame(results, "workers")})
    assert set(summary["period"]) == {"2024-01", "2024-02", "2024-03", "2024-04"}
    wide = per_replication(frames["v"], panel_frame(results, "workers"))
    orders = summary[summary["series"] == "orders"].set_index("period")
    for period, group in wide.groupby("period"):
        row = orders.loc[period]
        assert row["mean"] == pytest.approx(group["orders"].mean())
        assert row["ci_low"] < row["mean"] < row["ci_high"]
        assert row["replications"] == 5
    no_panel = types.SimpleNamespace(replication=0, panels={})
    assert panel_frame([no_panel]).empty  # an engine without a panel: nothing, quietly
