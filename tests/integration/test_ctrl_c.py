"""Ctrl-C on the real command in the middle of a sweep: a clean stop that says how to resume
(exit 130, one line, no Python or Ray traceback, no RUNNING run, no process left), then the
same command resumes the same MLflow run, reuses what was saved and leaves no duplicate run."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import mlflow_runs
from tests.integration.test_interrupts import GRID, Invocation, assert_clean_stop, invocations  # noqa: F401 - fixture


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path: Path, invocations):  # noqa: F811
    first = Invocation(tmp_path, *GRID, "ray.num_cpus=2")
    invocations.append(first)
    first.wait_for(lambda: first.saved() >= 3, "saved replications")
    status = first.stop(signal.SIGINT)
    assert_clean_stop(first, status, "approval-capacity")
    saved = first.saved()
    assert 0 < saved < 15  # 5 variants x 3 replications
    parents = [r for r in mlflow_runs(first.uri, "approval-capacity") if r.data.tags.get("sweep_role") == "parent"]
    assert [p.info.status for p in parents] == ["KILLED"]

    second = Invocation(tmp_path, *GRID, "ray.num_cpus=2")
    invocations.append(second)
    assert second.process.wait(timeout=600) == 0, second.err()[-2000:]
    assert f"resuming MLflow run {parents[0].info.run_id}" in second.out()
    assert f"{saved} replications were taken from the result store" in second.out()
    runs = mlflow_runs(first.uri, "approval-capacity")
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [p.info.status for p in parents] == ["FINISHED"]
    names = [c.info.run_name for c in children]
    assert len(names) == len(set(names)) == 5
    assert all(c.info.status == "FINISHED" for c in children)
    assert second.leftovers() == []
