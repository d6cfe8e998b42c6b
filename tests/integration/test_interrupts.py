"""Interrupts at any moment on the real command: before Ray starts, during ``ray.init``, while
child runs are recorded, during the sensitivity analysis, by SIGINT to the process, by a
terminal's Ctrl-C (SIGINT to the whole process group) or by SIGTERM; and a SIGKILL.

Each stop must exit 130 with one line that says how to resume, print no traceback (Python's
or Ray's C++ one), leave no MLflow run RUNNING, and leave no process of the invocation
alive a few seconds later. The moments are found from what the command leaves behind (the
database file, Ray's processes, result files, child runs), not from sleeps.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from experiments.store import SUFFIX
from tests.conftest import SMALL, mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
#: A sweep long enough to be caught in the middle: 5 variants x 3 replications of about 1 s.
GRID = (
    "experiment=approval_capacity",
    "experiment.grid={team.managers:[1,2],pipeline.approval.escalate_after_hours:[1.0,2.0]}",
    "experiment.replications=3",
    "horizon.days=600",
    "horizon.drain_days=30",
)
#: Seventeen variants: child runs are written one by one for many seconds after the first,
#: so a signal sent when the first appears lands while recording, whatever the load.
GRID_WHILE_RECORDING = (
    *GRID[:1],
    "experiment.grid={team.managers:[1,2,3,4],pipeline.approval.escalate_after_hours:[0.5,1.0,1.5,2.0]}",
    *GRID[2:],
)
#: Markers that an error was printed instead of a clean stop.
TRACEBACKS = ("Traceback", "_raylet.so", "StackTrace", "Check failed", "*** ")


def _psutil():
    """Ray's bundled psutil (``import ray`` puts it on the path)."""
    import ray  # noqa: F401

    return importlib.import_module("psutil")


class Invocation:
    """One run of the ``salesboost`` command in its own session, and every process it starts."""

    def __init__(self, tmp: Path, *overrides: str, store: Path | None = None, uri: str | None = None) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp
        self.store = store or tmp / "store"
        self.uri = uri or f"sqlite:///{tmp / 'mlflow.db'}"
        # Ray's sockets live under its temp dir, whose path must stay short (107 bytes).
        self.ray_tmp = Path(tempfile.mkdtemp(prefix="sbt", dir="/tmp"))
        self.command = [
            SALESBOOST,
            *overrides,
            f"experiment.cache_dir={self.store}",
            f"tracking.uri={self.uri}",
            f"hydra.run.dir={tmp / 'out'}",
        ]
        self.seen: dict[int, float] = {}  # pid -> create time of every process seen in the tree
        self.stdout = tmp / f"stdout-{id(self)}.txt"
        self.stderr = tmp / f"stderr-{id(self)}.txt"
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": str(self.ray_tmp)}
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=err, env=env, start_new_session=True)

    def err(self) -> str:
        """What the command printed on stderr so far."""
        return self.stderr.read_text(errors="replace")

    def out(self) -> str:
        """What the command printed on stdout so far."""
        return self.stdout.read_text(errors="replace")

    def saved(self) -> int:
        """Replications in the result store."""
        return len(list(self.store.rglob(f"*{SUFFIX}")))

    def tree(self) -> list:
        """The command's live descendants (noted in ``seen`` for the checks after it ends)."""
        psutil = _psutil()
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []
        for p in found:
            with contextlib.suppress(psutil.Error):
                self.seen.setdefault(p.pid, p.create_time())
        return found

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 240) -> None:
        """Poll ``condition`` (noting the process tree) until it holds; fail if the command ends first."""
        deadline = time.monotonic() + timeout
        while not condition():
            self.tree()
            assert self.process.poll() is None, f"ended before {what}: {self.err()[-2000:]}"
            assert time.monotonic() < deadline, f"no {what} after {timeout} s"
            time.sleep(0.05)
        self.tree()

    def stop(self, number: int, *, group: bool = False) -> int:
        """Send ``number`` to the command (or to its whole process group, as a terminal does); wait for it."""
        self.tree()
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)
        return self.process.wait(timeout=120)

    def leftovers(self, within: float = 5.0) -> list[str]:
        """Processes of this invocation still alive ``within`` seconds after it ended."""
        psutil = _psutil()
        deadline = time.monotonic() + within
        while True:
            alive = []
            for pid, created in self.seen.items():
                with contextlib.suppress(psutil.Error):
                    p = psutil.Process(pid)
                    if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                        alive.append(f"{pid} {' '.join(p.cmdline())[:80]}")
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.2)

    def kill_leftovers(self) -> None:
        """Clean up after a failed test: no process of ours may outlive it."""
        psutil = _psutil()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid, created in self.seen.items():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if p.create_time() == created:
                    p.kill()


def has_process(invocation: Invocation, name: str) -> Callable[[], bool]:
    """Whether a process whose command line contains ``name`` runs under the command."""

    def check() -> bool:
        psutil = _psutil()
        for p in invocation.tree():
            with contextlib.suppress(psutil.Error):
                if any(name in part for part in p.cmdline()):
                    return True
        return False

    return check


def child_runs_started(invocation: Invocation) -> Callable[[], bool]:
    """Whether the command has created a child run (read from the SQLite file as it is written)."""
    db = Path(invocation.uri.removeprefix("sqlite:///"))

    def check() -> bool:
        if not db.exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as connection:
                query = "select count(*) from tags where key = 'mlflow.parentRunId'"
                return connection.execute(query).fetchone()[0] > 0
        except sqlite3.Error:  # not created or migrated yet
            return False

    return check


def assert_clean_stop(invocation: Invocation, status: int, experiment: str) -> None:
    """Exit 130, one line on how to resume, no traceback, no RUNNING run, no process left."""
    err = invocation.err()
    assert status == 130, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith("salesboost:")]
    assert len(lines) == 1, err[-3000:]
    assert "run the same command again" in lines[0]
    assert not [marker for marker in TRACEBACKS if marker in err], err[-3000:]
    statuses = [r.info.status for r in mlflow_runs(invocation.uri, experiment)]
    assert "RUNNING" not in statuses, statuses
    assert invocation.leftovers() == []


def _run(tmp: Path, overrides: Sequence[str]) -> Invocation:
    return Invocation(tmp, *overrides, "ray.num_cpus=2")


@pytest.fixture
def invocations():
    """Invocations started by a test; whatever of theirs is left is killed at the end."""
    started: list[Invocation] = []
    yield started
    for invocation in started:
        invocation.kill_leftovers()


def test_sigint_before_ray_starts_while_the_store_is_created(tmp_path: Path, invocations):
    run = _run(tmp_path, [*SMALL])
    invocations.append(run)
    db = tmp_path / "mlflow.db"
    run.wait_for(db.exists, "MLflow database")
    status = run.stop(signal.SIGINT)
    assert_clean_stop(run, status, "cycle-time-gains")
    assert "interrupted before any replication was saved" in run.err()
    assert not has_process(run, "gcs_server")()
    assert sqlite3.connect(db).execute("select count(*) from experiments").fetchone()[0] >= 1  # usable


@pytest.mark.parametrize(("number", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "term"])
def test_stop_during_ray_init(tmp_path: Path, invocations, number: int, group: bool):
    run = _run(tmp_path, [*SMALL])
    invocations.append(run)
    run.wait_for(has_process(run, "gcs_server"), "Ray's GCS")
    assert "simulating" not in run.err()  # still starting
    status = run.stop(number, group=group)
    assert_clean_stop(run, status, "cycle-time-gains")
    assert [p.info.status for p in mlflow_runs(run.uri, "cycle-time-gains")] == ["KILLED"]  # the parent


@pytest.mark.slow  # a sweep long enough to catch, then a resume
def test_sigterm_to_the_group_while_child_runs_are_recorded(tmp_path: Path, invocations):
    run = _run(tmp_path, GRID_WHILE_RECORDING)
    invocations.append(run)
    run.wait_for(child_runs_started(run), "child run")
    status = run.stop(signal.SIGTERM, group=True)  # as a service manager stops a whole process group
    assert_clean_stop(run, status, "approval-capacity")
    runs = mlflow_runs(run.uri, "approval-capacity")
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    assert [p.info.status for p in parents] == ["KILLED"]
    assert all(r.info.status == "FINISHED" for r in runs if r not in parents)  # no half-written child


@pytest.mark.slow
def test_ctrl_c_during_the_sensitivity_analysis(tmp_path: Path, invocations):
    run = _run(tmp_path, [*SMALL])
    invocations.append(run)
    main = 2 * 3  # 2 variants x 3 replications, then the sensitivity probes
    run.wait_for(lambda: run.saved() > main, "sensitivity replication")
    status = run.stop(signal.SIGINT, group=True)
    assert_clean_stop(run, status, "cycle-time-gains")
    assert "interrupted after the main replications" in run.err()


@pytest.mark.slow  # a sweep long enough to catch, then a resume
def test_sigkill_of_the_driver_leaves_no_process_and_the_same_command_resumes(tmp_path: Path, invocations):
    run = _run(tmp_path, GRID)
    invocations.append(run)
    run.wait_for(lambda: run.saved() >= 2, "saved replications")
    assert run.stop(signal.SIGKILL) == -signal.SIGKILL
    started = time.monotonic()
    assert run.leftovers(within=10) == []
    print(f"processes of the killed driver gone after {time.monotonic() - started:.1f} s")
    saved = run.saved()

    again = _run(tmp_path, GRID)
    invocations.append(again)
    assert again.process.wait(timeout=300) == 0, again.err()[-3000:]
    assert f"{saved} replications were taken from the result store" in again.out()
    runs = mlflow_runs(run.uri, "approval-capacity")
    parents = [r for r in runs if r.data.tags.get("sweep_role") == "parent"]
    assert [p.info.status for p in parents] == ["FINISHED"]  # the killed one, resumed
    names = [r.info.run_name for r in runs if r not in parents]
    assert len(names) == len(set(names)) == 5
    assert again.leftovers() == []
