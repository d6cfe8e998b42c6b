"""The default experiment through the real command: Hydra multirun, local Ray, SQLite MLflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient

from tests.conftest import SMALL, mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))


def test_default_experiment_multirun_records_parent_and_child_runs(tmp_path: Path, tracking_uri: str):
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run(
        [
            SALESBOOST,
            "-m",
            "market.leads_per_week=200,260",
            *SMALL,
            # two keys keep the sensitivity's records in the test at a tenth of the time; every
            # range end runs in tests/integration/test_sensitivity_ends.py
            "experiment.sensitivity.parameters=[behaviour.speed_to_lead.floor,behaviour.loss_hazard_per_day]",
            f"tracking.uri={tracking_uri}",
            "ray.num_cpus=2",
            f"hydra.sweep.dir={tmp_path / 'multirun'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("cycle-time-gains: 2 variants x 3 replications, baseline legacy") == 2
    assert "quote_approval_hours_mean" in proc.stdout
    assert "make ui" in proc.stdout
    assert proc.stdout.count("Report: ") == 2

    runs = mlflow_runs(tracking_uri, "cycle-time-gains")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 2
    assert len(children) == 4
    client = MlflowClient(tracking_uri=tracking_uri)
    for parent in parents:
        assert parent.info.status == "FINISHED"
        assert parent.info.end_time - parent.info.start_time > 1000  # the real duration, not the logging time
        mine = [c for c in children if c.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        assert sorted(c.info.run_name for c in mine) == ["legacy", "optimised"]
        artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
        expected = {"summary.csv", "summary.json", "config.yaml", "plots", "variants", "report.html", "sensitivity.csv"}
        assert expected <= artifacts
        sensitivity = pd.read_csv(client.download_artifacts(parent.info.run_id, "sensitivity.csv", str(tmp_path)))
        assert set(sensitivity["parameter"]) == {"behaviour.speed_to_lead.floor", "behaviour.loss_hazard_per_day"}
        plots = {Path(a.path).name for a in client.list_artifacts(parent.info.run_id, "plots")}
        assert {"distribution_quote_approval_hours.png", "distribution_contract_cycle_days.png", "funnel.png"} <= plots
        by_name = {c.info.run_name: c for c in mine}
        legacy, optimised = by_name["legacy"], by_name["optimised"]
        for child in mine:
            assert child.info.status == "FINISHED"
            assert any(a.path.endswith(".png") for a in client.list_artifacts(child.info.run_id))  # its own plots
            assert child.data.tags["variant"] == child.info.run_name
            assert {"git_commit", "root_seed", "config_hash"} <= child.data.tags.keys()
            assert child.data.params["pipeline.name"] == child.info.run_name
            for name in ("quote_approval_hours_mean", "contract_cycle_days_mean", "win_rate", "revenue"):
                m = child.data.metrics
                assert m[f"{name}_ci_low"] <= m[name] <= m[f"{name}_ci_high"], name
            steps = client.get_metric_history(child.info.run_id, "replications/win_rate")
            assert sorted(s.step for s in steps) == [0, 1, 2]
        for name in ("win_rate", "revenue"):
            assert f"{name}_uplift" in optimised.data.metrics
            assert f"{name}_uplift_ci_low" in optimised.data.metrics
            assert legacy.data.metrics[f"{name}_uplift"] == 0  # the baseline against itself: 0, never NaN
        lm, om = legacy.data.metrics, optimised.data.metrics
        assert lm["quote_approval_hours_mean"] > 5 * om["quote_approval_hours_mean"]
        assert lm["contract_cycle_days_mean"] > om["contract_cycle_days_mean"]
    leads = sorted(float(c.data.params["market.leads_per_week"]) for c in children)
    assert leads == [200.0, 200.0, 260.0, 260.0]
