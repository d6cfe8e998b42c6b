"""The optional event log: columns, row sanity, consistency with the run's counts, failure handling."""

from __future__ import annotations

import functools

import pandas as pd
import pyarrow.parquet as pq
import pytest

import sim
from salesboost import FUNNEL
from sim import runner as run_module
from sim.eventlog import COLUMNS, EventLogWriter
from tests.support import small_scenario


def _read(path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, parse_dates=["start", "end"])
    return pq.read_table(path).to_pandas()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("pipeline", ["legacy", "optimised"])
def test_event_log_columns_and_rows(tmp_path, suffix, pipeline):
    path = tmp_path / f"log{suffix}"
    scenario = small_scenario(pipeline, days=28.0, warmup_days=7.0, drain_days=14.0)
    result = sim.run(scenario, 5, replication=2, event_log=path)
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left over
    log = _read(path)
    assert tuple(log.columns) == COLUMNS
    assert len(log) > 0
    assert (log["end"] >= log["start"]).all()
    assert (log["variant"] == pipeline).all()
    assert (log["replication"] == 2).all()
    assert set(log["region"]) <= set(scenario.market.regions)
    assert set(log["channel"]) <= set(scenario.market.channels)
    assert set(log["segment"]) <= set(scenario.market.segments)
    # Clock 0 is midnight of the start date; the first lead arrives after it.
    assert log["start"].min() >= pd.Timestamp(scenario.calendar.start_date)

    contacted = log.loc[log["activity"] == "first_contact", "case_id"]
    assert contacted.is_unique
    assert set(log.loc[log["activity"] == "assign_lead", "case_id"]) == set(contacted)
    # Every contacted lead has exactly one first contact; cohort leads are a subset of all leads.
    assert result.funnel["contacted"] <= contacted.nunique() <= result.leads_simulated
    if pipeline == "optimised":
        # CRM assignment contacts every lead on arrival: none is left waiting at the end.
        assert contacted.nunique() == result.leads_simulated
    else:
        # Only leads waiting for the next daily batch are not yet contacted.
        pending = result.leads_simulated - contacted.nunique()
        assert 0 <= pending < scenario.market.leads_per_week
    # Every booked order appears once (cohort or not), at least as many as the cohort's orders.
    booked = log.loc[log["activity"] == "order_booked", "case_id"]
    assert booked.is_unique
    assert booked.nunique() >= result.funnel[FUNNEL[-1]]


def test_event_log_does_not_change_results(tmp_path):
    scenario = small_scenario("legacy", days=28.0)
    with_log = sim.run(scenario, 5, event_log=tmp_path / "log.csv")
    without = sim.run(scenario, 5)
    assert with_log.metrics.keys() == without.metrics.keys()
    for name, value in without.metrics.items():
        assert with_log.metrics[name] == pytest.approx(value, nan_ok=True), name


def test_csv_and_parquet_hold_the_same_rows(tmp_path):
    scenario = small_scenario("optimised", days=21.0)
    sim.run(scenario, 3, event_log=tmp_path / "log.csv")
    sim.run(scenario, 3, event_log=tmp_path / "log.parquet")
    csv, parquet = _read(tmp_path / "log.csv"), _read(tmp_path / "log.parquet")
    assert len(csv) == len(parquet)
    keys = ["case_id", "activity", "resource", "region", "channel", "segment"]
    pd.testing.assert_frame_equal(csv[keys], parquet[keys], check_dtype=False)
    # CSV timestamps are written to the second.
    assert (csv["start"] - parquet["start"]).abs().max() <= pd.Timedelta(seconds=1)


@pytest.mark.parametrize("name", ["log.txt", "log.json", "log"])
def test_unknown_suffix_raises_and_writes_nothing(tmp_path, name):
    with pytest.raises(ValueError, match="unknown format"):
        sim.run(small_scenario("legacy", days=14.0), 1, event_log=tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_failed_run_leaves_no_partial_log(tmp_path, monkeypatch, suffix):
    # Flush every few rows so a partial file exists on disk when the run fails mid-way.
    monkeypatch.setattr(run_module, "EventLogWriter", functools.partial(EventLogWriter, chunk_rows=10))
    seen_during_run: list[list[str]] = []
    original = run_module.Intake.contact

    def failing_contact(self, lead, assigned_by):
        if lead.id == 300:
            seen_during_run.append(sorted(p.name for p in tmp_path.iterdir()))
            raise RuntimeError("simulated failure")
        original(self, lead, assigned_by)

    monkeypatch.setattr(run_module.Intake, "contact", failing_contact)
    with pytest.raises(RuntimeError, match="simulated failure"):
        sim.run(small_scenario("optimised", days=28.0), 1, event_log=tmp_path / f"log{suffix}")
    assert seen_during_run, "the failure was never triggered"
    assert any(name.endswith(".part") for name in seen_during_run[0]), "no partial file was written"
    assert list(tmp_path.iterdir()) == []
