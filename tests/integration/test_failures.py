"""Failures end cleanly: a replication that raises is reported with its variant, and a
recording that fails half-way leaves no run behind."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.app import _tasks, execute, plan
from experiments.compose import compose_config
from experiments.parallel import SimulationError, Task, run_tasks
from experiments.tracking import open_tracker
from tests.conftest import SMALL, mlflow_runs


def test_a_replication_that_raises_names_its_variant(ray_local, tmp_path):
    overrides = [*SMALL, "tracking.enabled=false"]
    tasks = _tasks(plan(compose_config(overrides), overrides), tmp_path)
    good = tasks[0]
    # Valid when checked, broken afterwards: the kind of error only a run can find.
    broken_pipeline = dataclasses.replace(good.scenario.pipeline, approval=None)
    broken = Task("broken", 7, dataclasses.replace(good.scenario, pipeline=broken_pipeline), good.seed)
    with pytest.raises(SimulationError, match=r"variant 'broken' replication 7 failed: AttributeError"):
        run_tasks([good, broken])


def test_a_failure_while_recording_deletes_the_runs_already_written(ray_local, tmp_path, tracking_uri, monkeypatch):
    overrides = [*SMALL, f"tracking.uri={tracking_uri}"]
    validated = plan(compose_config(overrides), overrides)
    tracker = open_tracker(validated.tracking, validated.experiment.name)
    calls = {"n": 0}
    original = type(tracker.client).set_terminated

    def fail_on_second_child(self, run_id, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("tracking server went away")
        return original(self, run_id, *args, **kwargs)

    monkeypatch.setattr(type(tracker.client), "set_terminated", fail_on_second_child)
    with pytest.raises(RuntimeError, match="went away"):
        execute(validated, tmp_path / "out")
    assert mlflow_runs(tracking_uri, validated.experiment.name) == []
