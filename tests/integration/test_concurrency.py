"""Invocations at the same time on one MLflow store (real commands started together).

Two different sweeps on a fresh SQLite file both complete: the file is created and migrated
once, under a lock, and stays usable. Two invocations of the same sweep: one runs it, the
other stops at once with one line naming the process that runs it; never two parents for
one sweep, never a child twice.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from pathlib import Path

from tests.conftest import SMALL, mlflow_runs
from tests.integration.test_interrupts import TRACEBACKS, Invocation, invocations  # noqa: F401 - fixture

QUICK = (*SMALL, "experiment.replications=2", "experiment.sensitivity.enabled=false", "ray.num_cpus=1")


def _one_parent_per_sweep_and_each_child_once(uri: str, experiment: str) -> dict[str, list]:
    runs = mlflow_runs(uri, experiment)
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    keys = Counter(p.data.tags["sweep_key"] for p in parents)
    assert all(n == 1 for n in keys.values()), keys
    by_parent: dict[str, list] = {}
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        names = [c.info.run_name for c in children]
        assert len(names) == len(set(names)), names
        by_parent[parent.data.tags["sweep_key"]] = children
    return by_parent


def _usable(db: Path) -> None:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"
        tables = [row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")]
    assert not [t for t in tables if t.startswith("_alembic_tmp")], tables


def test_two_different_sweeps_on_a_fresh_store_both_complete(tmp_path: Path, invocations):  # noqa: F811
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    runs = [
        Invocation(tmp_path / f"seed{seed}", *QUICK, f"experiment.seed={seed}", store=tmp_path / "store", uri=uri)
        for seed in (1, 2)
    ]  # started together, before either has touched the file
    invocations.extend(runs)
    for run in runs:
        assert run.process.wait(timeout=600) == 0, run.err()[-3000:]
        assert not [marker for marker in TRACEBACKS if marker in run.err()], run.err()[-3000:]
    by_parent = _one_parent_per_sweep_and_each_child_once(uri, "cycle-time-gains")
    assert len(by_parent) == 2
    assert all(sorted(c.info.run_name for c in children) == ["legacy", "optimised"] for children in by_parent.values())
    assert all(r.info.status == "FINISHED" for r in mlflow_runs(uri, "cycle-time-gains"))
    _usable(tmp_path / "mlflow.db")


def test_the_same_sweep_twice_at_once_runs_once_and_the_other_names_the_running_process(
    tmp_path: Path,
    invocations,  # noqa: F811
):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    runs = [
        Invocation(tmp_path / name, *QUICK, store=tmp_path / "store", uri=uri) for name in ("a", "b")
    ]  # started together on a fresh file: the loser reaches the sweep lock while the winner starts Ray
    invocations.extend(runs)
    statuses = [run.process.wait(timeout=600) for run in runs]
    assert sorted(statuses) == [0, 75], [run.err()[-2000:] for run in runs]
    winner, loser = (runs[0], runs[1]) if statuses[0] == 0 else (runs[1], runs[0])
    lines = [line for line in loser.err().splitlines() if line.startswith("salesboost:")]
    assert lines == [
        f"salesboost: error: the same sweep is already running in process {winner.process.pid} "
        + lines[0].split(f"process {winner.process.pid} ", 1)[-1]
    ], loser.err()
    assert "wait for it to finish" in lines[0]
    assert not [marker for marker in TRACEBACKS if marker in loser.err()]
    by_parent = _one_parent_per_sweep_and_each_child_once(uri, "cycle-time-gains")
    assert len(by_parent) == 1
    (children,) = by_parent.values()
    assert sorted(c.info.run_name for c in children) == ["legacy", "optimised"]
    assert all(r.info.status == "FINISHED" for r in mlflow_runs(uri, "cycle-time-gains"))
    _usable(tmp_path / "mlflow.db")
