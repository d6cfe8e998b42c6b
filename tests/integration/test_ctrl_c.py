"""Ctrl-C on the real command: a clean stop that says how to resume, then the same command
resumes the same MLflow run, reuses what was saved and leaves no duplicate run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path: Path):
    store = tmp_path / "store"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [
        SALESBOOST,
        "experiment=approval_capacity",
        "experiment.grid={team.managers:[1,2],pipeline.approval.escalate_after_hours:[1.0,2.0]}",
        "experiment.replications=3",
        "horizon.days=600",
        "horizon.drain_days=30",
        f"experiment.cache_dir={store}",
        f"tracking.uri={uri}",
        "ray.num_cpus=2",
        f"hydra.run.dir={tmp_path / 'out'}",
    ]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(store.rglob("*.pkl"))) < 3 and first.poll() is None:
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    saved = len(list(store.rglob("*.pkl")))
    assert first.returncode == 130, err[-2000:]
    assert "run the same command again to resume" in err
    assert 0 < saved < 15  # 5 variants x 3 replications
    parents = [r for r in mlflow_runs(uri, "approval-capacity") if r.data.tags.get("sweep_role") == "parent"]
    assert [p.info.status for p in parents] == ["KILLED"]

    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"resuming MLflow run {parents[0].info.run_id}" in second.stdout
    assert f"{saved} replications were taken from the result store" in second.stdout
    runs = mlflow_runs(uri, "approval-capacity")
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [p.info.status for p in parents] == ["FINISHED"]
    names = [c.info.run_name for c in children]
    assert len(names) == len(set(names)) == 5
    assert all(c.info.status == "FINISHED" for c in children)
