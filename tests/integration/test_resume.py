"""Resume: an interrupted experiment continues where it stopped, with the numbers of an
uninterrupted run and no duplicate MLflow runs; failures leave no half-written run."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.app import Interrupted, VariantFailureError, execute
from experiments.parallel import LocalExecutor
from experiments.store import SUFFIX, ResultStore
from experiments.tracking import SweepRecorder
from tests.conftest import mlflow_runs, small_plan
from tests.integration.test_sweep_engine import broken_variant

FAST = ("experiment.sensitivity.enabled=false",)


class InterruptingExecutor(LocalExecutor):
    """Behaves like Ctrl-C after ``after`` batches have finished."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self._left = after

    def wait(self):
        if self._left == 0:
            raise KeyboardInterrupt
        self._left -= 1
        return super().wait()


def _parents_and_children(uri: str, experiment: str):
    runs = mlflow_runs(uri, experiment)
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def _table(outcome):
    return outcome.table.sort_values(["variant", "replication"]).reset_index(drop=True)


def test_resume_after_an_interruption_gives_the_same_numbers_and_no_duplicate_runs(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    plan = small_plan(*FAST, f"tracking.uri={uri}", "experiment.replications=4")
    store = ResultStore(tmp_path / "store")
    with pytest.raises(Interrupted, match="run the same command again to resume"):
        execute(plan, tmp_path / "first", executor=InterruptingExecutor(after=1), store=store)
    saved = len(list((tmp_path / "store").rglob(f"*{SUFFIX}")))
    assert 0 < saved < 8
    parents, _ = _parents_and_children(uri, plan.experiment.name)
    assert [p.info.status for p in parents] == ["KILLED"]

    resumed = execute(plan, tmp_path / "second", executor=LocalExecutor(), store=store)
    assert sum(run.cached for run in resumed.runs.values()) == saved  # nothing finished is recomputed
    parents, children = _parents_and_children(uri, plan.experiment.name)
    assert len(parents) == 1
    assert parents[0].info.status == "FINISHED"
    assert resumed.parent_run_id == parents[0].info.run_id
    assert sorted(c.info.run_name for c in children) == ["legacy", "optimised"]
    assert all(c.info.status == "FINISHED" for c in children)

    other_uri = f"sqlite:///{tmp_path / 'reference.db'}"
    reference_plan = small_plan(*FAST, f"tracking.uri={other_uri}", "experiment.replications=4")
    reference = execute(reference_plan, tmp_path / "ref", executor=LocalExecutor(), store=ResultStore(tmp_path / "s2"))
    assert _table(resumed).equals(_table(reference))


def test_a_recording_failure_leaves_no_half_written_run_and_the_rerun_completes(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    plan = small_plan(*FAST, f"tracking.uri={uri}")
    store = ResultStore(tmp_path / "store")
    original = SweepRecorder._write
    calls = {"n": 0}

    def write_then_fail(self, variant):
        calls["n"] += 1
        if calls["n"] == 2:  # the second child run: created, then the tracking server "goes away"
            self.tracker.client.create_run(
                self.tracker.experiment_id,
                run_name=variant.name,
                tags={"mlflow.parentRunId": str(self.parent_id), "variant": variant.name},
            )
            raise ConnectionError("tracking server went away")
        return original(self, variant)

    monkeypatch.setattr(SweepRecorder, "_write", write_then_fail)  # fails in the background writer
    with pytest.raises(ConnectionError):
        execute(plan, tmp_path / "first", executor=LocalExecutor(), store=store)
    parents, children = _parents_and_children(uri, plan.experiment.name)
    assert [p.info.status for p in parents] == ["FAILED"]
    assert [c.info.status for c in children if c.info.status == "FINISHED"] == ["FINISHED"]

    monkeypatch.setattr(SweepRecorder, "_write", original)
    execute(plan, tmp_path / "second", executor=LocalExecutor(), store=store)
    parents, children = _parents_and_children(uri, plan.experiment.name)
    assert [p.info.status for p in parents] == ["FINISHED"]
    assert sorted(c.info.run_name for c in children) == ["legacy", "optimised"]  # the partial one is gone
    assert all(c.info.status == "FINISHED" for c in children)


def test_a_failing_variant_becomes_a_failed_child_run_and_the_command_fails(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    plan = small_plan(*FAST, f"tracking.uri={uri}")
    plan = dataclasses.replace(plan, variants=[*plan.variants, broken_variant(plan)])
    with pytest.raises(VariantFailureError, match=r"1 of 3 variants failed \('broken': AttributeError"):
        execute(plan, tmp_path / "out", executor=LocalExecutor(), store=None)
    parents, children = _parents_and_children(uri, plan.experiment.name)
    assert [p.info.status for p in parents] == ["FAILED"]
    status = {c.info.run_name: c.info.status for c in children}
    assert status == {"legacy": "FINISHED", "optimised": "FINISHED", "broken": "FAILED"}
    broken = next(c for c in children if c.info.run_name == "broken")
    assert "AttributeError" in broken.data.tags["error"]
    assert (tmp_path / "out" / "summary.csv").exists()  # the others are analysed and written
