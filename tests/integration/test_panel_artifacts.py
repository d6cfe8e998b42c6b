"""The monthly KPI panel end to end: in every result, through the store, on every child run and in the outputs."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from analysis.panel import totals
from experiments.store import ResultStore
from tests.conftest import mlflow_runs, small_plan, sweep_in_process

VARIANTS = ("legacy", "optimised")
#: small_plan already cuts the default experiment to its two pipelines (tests.conftest.SMALL).
FAST = ("experiment.sensitivity.enabled=false",)
REPLICATIONS = 3


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The default experiment at test size: simulated in process, then recorded from the store into MLflow."""
    from experiments.app import execute
    from experiments.parallel import LocalExecutor

    tmp = tmp_path_factory.mktemp("panel")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    store = ResultStore(tmp / "store", warnings=io.StringIO())
    fresh = sweep_in_process(small_plan(*FAST), store)
    assert tuple(fresh.runs) == VARIANTS
    outcome = execute(
        small_plan(*FAST, f"tracking.uri={uri}"),
        tmp / "out",
        stream=io.StringIO(),
        executor=LocalExecutor(),
        store=store,
    )
    return fresh, outcome, uri, tmp


def _has_panel(fresh) -> bool:
    """Every replication of the sweep carries both panel tables, not empty."""
    return all(
        len(r.panels.get(t, ())) for run in fresh.runs.values() for r in run.ordered() for t in ("pipeline", "workers")
    )


def test_panels_survive_the_result_store(recorded):
    fresh, outcome, _, _ = recorded
    assert _has_panel(fresh)
    assert sum(run.cached for run in outcome.runs.values()) == len(VARIANTS) * REPLICATIONS  # all from the store
    for name, run in fresh.runs.items():
        for result in run.ordered():
            assert outcome.runs[name].results[result.replication].panels == result.panels


def test_every_child_run_has_its_panel_with_a_replication_column(recorded, tmp_path):
    fresh, _, uri, _ = recorded
    assert _has_panel(fresh)
    client = MlflowClient(tracking_uri=uri)
    children = [r for r in mlflow_runs(uri, "cycle-time-gains") if "mlflow.parentRunId" in r.data.tags]
    assert sorted(c.info.run_name for c in children) == sorted(VARIANTS)
    for child in children:
        names = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"panel.parquet", "panel_workers.parquet"} <= names, names
        local = Path(client.download_artifacts(child.info.run_id, "panel.parquet", str(tmp_path / child.info.run_name)))
        frame = pd.read_parquet(local)
        assert sorted(frame["replication"].unique()) == list(range(REPLICATIONS))
        assert {"period", "period_start", "cohort", "region", "channel", "segment", "product", "orders"} <= set(frame)
        workers = pd.read_parquet(client.download_artifacts(child.info.run_id, "panel_workers.parquet", str(tmp_path)))
        assert sorted(workers["replication"].unique()) == list(range(REPLICATIONS))
        assert (workers["busy_hours"] >= 0).all()


def test_panel_orders_and_revenue_add_up_to_the_run_totals(recorded):
    fresh, _, _, _ = recorded
    assert _has_panel(fresh)
    from analysis.panel import panel_frame

    for run in fresh.runs.values():
        results = run.ordered()
        sums = totals(panel_frame(results)).set_index("replication")  # cohort rows, all periods
        for result in results:
            row = sums.loc[result.replication]
            assert row["orders"] == result.metrics["orders"], (run.name, result.replication)
            assert math.isclose(row["revenue"], result.metrics["revenue"], rel_tol=1e-9), (run.name, result.replication)
            assert row["leads"] == result.funnel["leads"]


def test_outputs_and_parent_run_hold_the_panel_and_the_monthly_plot(recorded):
    fresh, outcome, uri, tmp = recorded
    assert _has_panel(fresh)
    out = tmp / "out"
    for name in VARIANTS:
        assert (out / "variants" / name / "panel.parquet").is_file()
    both = pd.read_parquet(out / "panel.parquet")
    assert set(both["variant"]) == set(VARIANTS)
    monthly = pd.read_csv(out / "monthly.csv")
    assert {"orders", "revenue", "contacted_in_sla_share", "rep_utilisation"} <= set(monthly["series"])
    assert (out / "plots" / "monthly.png").stat().st_size > 10_000
    client = MlflowClient(tracking_uri=uri)
    (parent,) = [r for r in mlflow_runs(uri, "cycle-time-gains") if "mlflow.parentRunId" not in r.data.tags]
    plots = {Path(a.path).name for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert "monthly.png" in plots
    assert "panel.parquet" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert outcome.output_dir == out


@pytest.mark.slow
def test_a_two_year_run_keeps_its_stored_result_small():
    """The panel grows with months, not leads: two years of the default market stay far below the store's 4 MB."""
    import json

    import sim
    from experiments.store import MAX_BYTES
    from tests.support import small_scenario

    result = sim.run(small_scenario("optimised", days=730.0, warmup_days=28.0, drain_days=60.0), 3, 0)
    size = len(json.dumps(result.to_dict(), allow_nan=False, separators=(",", ":")))
    assert size < MAX_BYTES / 4, size
    months = len(set(result.panels["pipeline"].columns["period"]))
    assert 25 <= months <= 27  # 790 days from the start date
    assert len(result.panels["pipeline"]) < months * 200  # rows per month bounded by the dimensions, not by leads
