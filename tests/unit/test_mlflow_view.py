"""The MLflow view: headline metric names, rounding, the baseline's zero change, child plots and notes,
the params the compare view opens on, the saved runs-table view and the parent's note."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.compare import compare_to_baseline, replication_table, summarise
from analysis.selection import best_variant
from experiments.recording import (
    DEFAULT_HEADLINE,
    SHORT_NAMES,
    child_record,
    kpi_key,
    parent_metrics,
    runs_view,
    runs_view_tags,
    runs_view_url,
    significant,
    variant_params,
)
from experiments.report import parent_note, report_lines, sweep_lines
from experiments.scheduler import VariantRun
from salesboost.metrics import METRIC_NAMES
from tests.conftest import small_plan

REPLICATIONS = 8  # enough for revenue to separate clearly (a replication varies by about 25%)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs() -> dict[str, VariantRun]:
    """The default experiment (legacy, optimised) at test size, simulated in this process."""
    from sim import run

    plan = small_plan()
    out = {}
    for variant in plan.variants:
        vr = VariantRun(variant=variant, wanted=REPLICATIONS)
        for r in range(REPLICATIONS):
            vr.results[r] = run(variant.scenario, plan.experiment.seed, r)
        vr.done = True
        out[variant.name] = vr
    return out


@pytest.fixture(scope="module")
def records(runs, tmp_path_factory) -> dict:
    out_dir = tmp_path_factory.mktemp("out")
    baseline = runs["legacy"]
    return {
        name: child_record(run, baseline, common_tags={"root_seed": "1"}, output_dir=out_dir)
        for name, run in runs.items()
    }


def tables(runs: dict[str, VariantRun]) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = replication_table({n: r.ordered() for n, r in runs.items()})
    return summarise(table), compare_to_baseline(table, "legacy")


# --- names ------------------------------------------------------------------------------------


def test_short_names_are_unique_and_none_is_another_followed_by_an_underscore():
    shorts = [SHORT_NAMES.get(m, m) for m in METRIC_NAMES]
    assert len(set(shorts)) == len(shorts)
    for a in shorts:
        for b in shorts:
            assert a == b or not b.startswith(a + "_"), (a, b)


def test_each_headline_metric_sorts_next_to_its_bounds_and_its_change():
    names = [
        kpi_key(m, f)
        for m in METRIC_NAMES
        for f in ("", "lower", "upper", "vs_base_pct", "vs_base_pct_lower", "vs_base_pct_upper")
    ]
    ordered = sorted(names)
    for metric in METRIC_NAMES:
        i = ordered.index(kpi_key(metric))
        assert ordered[i : i + 6] == [
            kpi_key(metric),
            kpi_key(metric, "lower"),
            kpi_key(metric, "upper"),
            kpi_key(metric, "vs_base_pct"),
            kpi_key(metric, "vs_base_pct_lower"),
            kpi_key(metric, "vs_base_pct_upper"),
        ], metric
    assert all(n.startswith("KPI/") for n in names)
    # a capital prefix: MLflow sorts names by code point, so the headline set comes before every other metric
    assert sorted([*names, *METRIC_NAMES, "adaptive_target", "best/revenue_vs_base_pct"])[: len(names)] == ordered
    assert len(kpi_key("quote_approval_hours_mean")) <= 24


def test_significant_keeps_four_digits():
    assert significant(3384646.2) == 3385000
    assert significant(0.0123456) == 0.01235
    assert significant(-94.3127) == -94.31
    assert significant(0.0) == 0.0
    assert math.isnan(significant(math.nan))


# --- child runs ---------------------------------------------------------------------------------


def test_child_metrics_start_with_the_objective_rounded_then_keep_the_full_set(records, runs):
    metrics = records["optimised"].metrics
    keys = list(metrics)
    assert keys[0] == "KPI/revenue"  # MLflow's compare view opens on the first metric logged
    assert keys[:6] == [
        kpi_key("revenue", f) for f in ("", "lower", "upper", "vs_base_pct", "vs_base_pct_lower", "vs_base_pct_upper")
    ]
    summary, comparison = tables(runs)
    full = summary[(summary["variant"] == "optimised") & (summary["metric"] == "revenue")].iloc[0]
    assert metrics["revenue"] == pytest.approx(full["mean"], rel=1e-12)  # unrounded, under its long name
    assert metrics["KPI/revenue"] == significant(full["mean"])
    assert metrics["KPI/revenue"] != metrics["revenue"]
    uplift = comparison[(comparison["variant"] == "optimised") & (comparison["metric"] == "revenue")].iloc[0]
    assert metrics["KPI/revenue_vs_base_pct"] == significant(uplift["uplift"] * 100)  # percent, like the tables
    assert (
        metrics["KPI/revenue_vs_base_pct_lower"]
        < metrics["KPI/revenue_vs_base_pct"]
        < metrics["KPI/revenue_vs_base_pct_upper"]
    )
    for metric in DEFAULT_HEADLINE:
        assert kpi_key(metric) in metrics
        assert metrics[kpi_key(metric, "lower")] <= metrics[kpi_key(metric)] <= metrics[kpi_key(metric, "upper")]


def test_the_baseline_change_against_itself_is_zero_never_nan_or_missing(records):
    metrics = records["legacy"].metrics
    for metric in DEFAULT_HEADLINE:
        for field in ("vs_base_pct", "vs_base_pct_lower", "vs_base_pct_upper"):
            assert metrics[kpi_key(metric, field)] == 0.0
    assert all(not (isinstance(v, float) and math.isnan(v)) for k, v in metrics.items() if k.startswith("KPI/"))
    # the full set too: absent, MLflow's compare view shows NaN in the baseline's column
    for metric in METRIC_NAMES:
        for field in ("diff", "diff_ci_low", "diff_ci_high", "uplift", "uplift_ci_low", "uplift_ci_high"):
            assert metrics[f"{metric}_{field}"] == 0.0


def test_every_child_carries_its_own_plots(records):
    for name, record in records.items():
        plots = {p.name: p for p in record.artifacts if p.suffix == ".png"}
        expected = {"distributions.png"} | ({"uplift.png"} if name != "legacy" else set())
        assert set(plots) == expected, name
        for path in plots.values():
            assert path.read_bytes()[:8] == PNG_MAGIC
            assert path.parent.name == name  # variants/<name>/ in the output directory


def test_child_note_is_a_kpi_table_against_the_baseline(records):
    note = records["optimised"].tags["mlflow.note.content"]
    lines = note.splitlines()
    assert lines[0] == "| KPI | optimised (95% CI) | vs legacy |"
    assert lines[2].startswith("| revenue | ")
    assert "%" in lines[2]
    assert "(baseline)" in records["legacy"].tags["mlflow.note.content"]


def test_variant_params_sort_first_so_the_compare_view_opens_on_them(runs):
    params = variant_params(runs["optimised"].variant)
    assert params["Variant.with"] == "pipeline=optimised"
    assert params["Variant.stage.approval"] == "online"
    assert params["pipeline.approval.policy"] == "online"  # the flattened config stays
    legacy = variant_params(runs["legacy"].variant)
    differing = sorted(k for k in set(params) | set(legacy) if params.get(k) != legacy.get(k))
    # MLflow's parallel-coordinates plot opens on the first three differing params in sorted order
    assert all(k.startswith("Variant.") for k in differing[:3])


@pytest.fixture(scope="module")
def capacity_plan():
    """The approval-capacity sweep (16 grid points and legacy), composed once."""
    return small_plan("experiment=approval_capacity")


def test_grid_values_are_variant_params_ahead_of_the_stage_choices(capacity_plan):
    plan = capacity_plan
    params = variant_params(plan.variants[1])
    assert params["Variant.set.team.managers"] == "1"
    assert params["Variant.set.pipeline.approval.escalate_after_hours"] == "0.5"
    keys = sorted(k for k in params if k.startswith("Variant."))
    assert keys[:2] == ["Variant.set.pipeline.approval.escalate_after_hours", "Variant.set.team.managers"]
    assert keys[-1] == "Variant.with"


# --- the parent -----------------------------------------------------------------------------------


def test_parent_metrics_are_percent_and_best_only_when_clear(runs):
    _, comparison = tables(runs)
    metrics = parent_metrics(comparison, DEFAULT_HEADLINE, "revenue", "optimised")
    uplift = comparison[(comparison["variant"] == "optimised") & (comparison["metric"] == "revenue")].iloc[0]
    assert metrics["optimised/revenue_vs_base_pct"] == significant(uplift["uplift"] * 100)
    assert not any(k.startswith("best/") for k in metrics)  # one variant: best/ would repeat it
    two = pd.concat([comparison, comparison.assign(variant="other")])
    with_best = parent_metrics(two, DEFAULT_HEADLINE, "revenue", "optimised")
    assert with_best["best/revenue_vs_base_pct"] == with_best["optimised/revenue_vs_base_pct"]
    assert not any(k.startswith("best/") for k in parent_metrics(two, DEFAULT_HEADLINE, "revenue", None))


def test_parent_note_opens_with_the_decision_and_a_compact_kpi_table(runs):
    plan = small_plan()
    summary, comparison = tables(runs)
    selection = best_variant(summary, "revenue")
    outcome = type("Outcome", (), {"runs": runs, "failed": []})()
    lines = report_lines(plan, summary, comparison, selection, outcome)
    note = parent_note(plan, summary, comparison, selection, lines).splitlines()
    # MLflow shows the first few lines of a note before "Show more": the answer must be there
    assert note[0].startswith("**Best: optimised** (highest revenue): +")
    assert "vs legacy" in note[0]
    assert note[2] == "| KPI (mean) | legacy | optimised | optimised vs legacy (95% CI) |"
    assert note[4].startswith(f"| {plan.experiment.report.objective} | ")  # the objective first
    assert "constraint" not in "\n".join(note[:4])


def test_no_star_and_no_constraints_in_the_sweep_table_when_nothing_separates(capacity_plan):
    plan = capacity_plan
    names = [v.name for v in plan.variants]
    rows = [
        {"variant": v, "metric": m, "n": 5, "mean": 10.0 + i * 0.01, "ci_low": 9.0, "ci_high": 11.0, "sd": 1.0}
        for i, v in enumerate(names)
        for m in METRIC_NAMES
    ]
    summary = pd.DataFrame(rows)
    selection = best_variant(summary, "team_cost", maximize=False)
    assert not selection.clear
    lines = sweep_lines(plan, summary, pd.DataFrame(), selection)
    assert not any(line.split("  ")[0].endswith("*") for line in lines[2:-1])
    assert "best" not in lines[-1]
    assert "constraints" not in lines[-1]
    clear = best_variant(
        summary.assign(
            mean=[1.0 if v == names[1] else 10.0 for v in summary["variant"]],
            ci_low=[0.9 if v == names[1] else 9.0 for v in summary["variant"]],
            ci_high=[1.1 if v == names[1] else 11.0 for v in summary["variant"]],
        ),
        "team_cost",
        maximize=False,
    )
    starred = sweep_lines(plan, summary, pd.DataFrame(), clear)
    assert any(line.startswith(f"{names[1]} *") for line in starred)
    assert "* best (its 95% interval clear of the others')" in starred[-1]


# --- the saved runs-table view --------------------------------------------------------------------


def test_runs_view_shows_the_headline_means_side_by_side_objective_first():
    """The objective's mean and change lead, then every other headline mean; intervals and changes follow."""
    view = runs_view(DEFAULT_HEADLINE)
    columns = view["selectedColumns"]
    others = DEFAULT_HEADLINE[1:]
    assert columns[:2] == [f"metrics.`{kpi_key('revenue')}`", f"metrics.`{kpi_key('revenue', 'vs_base_pct')}`"]
    assert columns[2 : 2 + len(others)] == [f"metrics.`{kpi_key(m)}`" for m in others]
    rest = columns[2 + len(others) :]
    assert rest[:4] == [
        f"metrics.`{kpi_key('revenue', f)}`" for f in ("lower", "upper", "vs_base_pct_lower", "vs_base_pct_upper")
    ]
    assert rest[4:] == [f"metrics.`{kpi_key(m, 'vs_base_pct')}`" for m in others]
    assert len(set(columns)) == len(columns)
    assert view["columnOrder"] == columns
    ((key, value),) = runs_view_tags(DEFAULT_HEADLINE).items()
    assert key == "mlflow.sharedViewState.salesboost-kpis"
    assert json.loads(value) == view
    assert len(value) < 5000  # MLflow's limit on an experiment tag's value
    url = runs_view_url("http://127.0.0.1:5000/", "7")
    assert url == (
        "http://127.0.0.1:5000/#/experiments/7/runs?viewStateShareKey=salesboost-kpis&workflowType=machine_learning"
    )


def test_the_child_record_goes_to_a_real_mlflow_store_in_that_order(records, tmp_path: Path):
    from experiments.config import TrackingConfig
    from experiments.tracking import SweepRecorder, open_tracker

    tracker = open_tracker(TrackingConfig(uri=f"sqlite:///{tmp_path / 'mlflow.db'}"), "view-test")
    recorder = SweepRecorder(tracker, sweep_key="k", run_name="view-test", started_ms=0)
    recorder.open({}, {})
    for record in records.values():
        recorder.record(record)
    recorder.flush()
    client = tracker.client
    children = client.search_runs([tracker.experiment_id], filter_string="tags.variant = 'optimised'")
    (child,) = children
    artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
    assert {"distributions.png", "uplift.png", "optimised.yaml"} <= artifacts
    assert child.data.tags["mlflow.note.content"].startswith("| KPI |")
    assert child.data.params["Variant.with"] == "pipeline=optimised"
    import sqlite3

    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        first = db.execute(
            "select key from latest_metrics where run_uuid = ? order by rowid limit 1", (child.info.run_id,)
        ).fetchone()[0]
    assert first == "KPI/revenue"


def test_summary_json_names_a_best_variant_only_when_it_is_clear(runs):
    from experiments.outputs import _summary_json

    plan = small_plan()
    summary, comparison = tables(runs)
    outcome = type("Outcome", (), {"runs": runs})()
    clear = _summary_json(plan, outcome, summary, comparison, best_variant(summary, "revenue"))["best"]
    assert clear["variant"] == "optimised"
    assert clear["clear"] is True
    # leads: both variants see the same prospects (common random numbers), so the intervals overlap
    overlap = best_variant(summary, "leads")
    assert not overlap.clear
    unclear = _summary_json(plan, outcome, summary, comparison, overlap)["best"]
    assert unclear["variant"] is None
    assert unclear["top"] == overlap.variant
    assert unclear["explanation"].startswith("No clear difference in leads")


def test_the_screenshot_script_names_a_missing_store_in_one_line(tmp_path: Path):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"
    missing = tmp_path / "nothing.db"
    done = subprocess.run(
        [sys.executable, str(script), "--store", str(missing), "--out", str(tmp_path / "shots")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"screenshots: error: --store {missing}: no such SQLite file"]
    assert not (tmp_path / "shots").exists()
