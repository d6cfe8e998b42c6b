"""On a real two-node Ray cluster the `salesboost` command gives the same replications as on a private local Ray.

The cluster (Ray's own ``ray.cluster_utils.Cluster``: a head and a second node with 1 CPU each,
on this machine, token authentication on) is started and stopped by ``scripts/local_ray_cluster.py``,
which ends exactly the processes of its own session (never ``ray stop``). The code reaches the
cluster's workers as a Ray runtime environment (``working_dir``), which a local Ray never
exercises. Slow: about three minutes, most of it starting Ray three times.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from tests.conftest import SMALL

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "local_ray_cluster.py"
SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
#: Starting two nodes takes 20-40 s; the machine may be busy with other sessions.
START_TIMEOUT = 420
RUN_TIMEOUT = 900
VARIANTS = 2  # the default experiment: legacy and optimised
SHARED_ADDRESS_FILE = Path("/tmp/ray/ray_current_cluster")  # where `ray.init(address="auto")` looks


def load_script() -> ModuleType:
    """``scripts/local_ray_cluster.py`` as a module (for its node query and session listing)."""
    spec = importlib.util.spec_from_file_location("local_ray_cluster", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cluster_script = load_script()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def shared_address() -> str | None:
    return SHARED_ADDRESS_FILE.read_text().strip() if SHARED_ADDRESS_FILE.exists() else None


@dataclass(frozen=True)
class Cluster:
    address: str
    state_file: Path

    @property
    def state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    @property
    def temp_dir(self) -> Path:
        return Path(self.state["temp_dir"])

    def node_logs(self) -> dict[str, Path]:
        """Each node's Ray log directory (each node has its own Ray temporary directory)."""
        return {node: self.temp_dir / node / "session_latest" / "logs" for node in cluster_script.NODES}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A two-node cluster, stopped afterwards whatever happened."""
    state = tmp_path / "state" / "cluster.json"
    port = free_port()
    try:
        started = run_script("start", "--port", str(port), "--state", str(state), timeout=START_TIMEOUT)
        assert started.returncode == 0, f"cluster did not start: {started.stderr.strip()}"
        assert started.stdout.splitlines()[-1] == f"ray.address=127.0.0.1:{port}"
        yield Cluster(f"127.0.0.1:{port}", state)
    finally:
        # The server writes the state file before it starts anything, so this also cleans up
        # after a start that failed or timed out half-way.
        if state.exists():
            stopped = run_script("stop", "--state", str(state), timeout=180)
            assert stopped.returncode == 0, f"cluster did not stop cleanly: {stopped.stderr.strip()}"


def no_result_cache(run: Path) -> list[str]:
    """Overrides that make the command simulate every replication, if it has a result cache.

    A run served from a cache (shared by both runs, or left by earlier ones) would compare
    nothing and run no task on the cluster.
    """
    from experiments.config import ExperimentConfig

    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    overrides = []
    if "cache" in fields:
        overrides.append("experiment.cache=false")
    if "cache_dir" in fields:
        overrides.append(f"experiment.cache_dir={run / 'cache'}")
    return overrides


def salesboost(run: Path, overrides: list[str], env: dict[str, str]) -> pd.DataFrame:
    """Run the command with the small settings into ``run``; its replications, sorted."""
    run.mkdir(parents=True)
    out = run / "hydra"
    proc = subprocess.run(
        [
            SALESBOOST,
            *SMALL,
            f"tracking.uri=sqlite:///{run / 'mlflow.db'}",
            f"hydra.run.dir={out}",
            *no_result_cache(run),
            *overrides,
        ],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, f"salesboost {' '.join(overrides)} failed:\n{proc.stderr[-3000:]}"
    table = pd.read_csv(out / "replications.csv")
    return table.sort_values(["variant", "replication"]).reset_index(drop=True)


def tasks_per_node(cluster: Cluster) -> dict[str, int]:
    """Tasks each node executed: Ray workers write ``:task_name:<name>`` to their log at each task."""
    counts = {}
    for node, logs in cluster.node_logs().items():
        counts[node] = sum(
            line.startswith(":task_name:")
            for path in logs.glob("worker-*.out")
            for line in path.read_text(errors="replace").splitlines()
        )
    return counts


def base_env() -> dict[str, str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}
    env.pop("RAY_ADDRESS", None)
    return env


def listeners(pids: set[int]) -> set[str]:
    """The local addresses on which ``pids`` listen for TCP connections."""
    import psutil  # Ray's copy: loading the script put it on sys.path

    found = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        found |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def test_cluster_run_matches_local_run(cluster: Cluster, tmp_path: Path) -> None:
    nodes = [n for n in cluster_script.query_nodes(cluster.address) if n["alive"]]
    assert len(nodes) == 2
    assert sum(n["cpus"] for n in nodes) == 2
    assert tasks_per_node(cluster) == {"head": 0, "worker": 0}
    processes = cluster_script.session(cluster.state)
    assert len(processes) >= 8  # the server, a GCS, two raylets and their agents
    assert listeners({p.pid for p in processes}) <= {"127.0.0.1", "::ffff:127.0.0.1"}
    assert shared_address() != cluster.address  # not where other sessions' `ray.init("auto")` looks

    on_cluster = salesboost(tmp_path / "cluster", [f"ray.address={cluster.address}"], cluster_script.driver_env())
    # Both nodes are still there, and each ran part of the work (workers flush their logs as they exit).
    nodes = [n for n in cluster_script.query_nodes(cluster.address) if n["alive"]]
    assert len(nodes) == 2
    deadline = time.monotonic() + 30
    while min((counts := tasks_per_node(cluster)).values()) == 0 and time.monotonic() < deadline:
        time.sleep(1)
    print(f"tasks per node: {counts}")
    assert min(counts.values()) >= 1, f"tasks per node: {counts}"

    on_local = salesboost(tmp_path / "local", ["ray.num_cpus=2"], base_env())

    replications = int(next(o.split("=")[1] for o in SMALL if o.startswith("experiment.replications=")))
    assert len(on_cluster) == VARIANTS * replications
    assert sorted(on_cluster["variant"].unique()) == ["legacy", "optimised"]
    assert {"win_rate", "revenue", "quote_approval_hours_mean", "contract_cycle_days_mean"} <= set(on_cluster)
    assert list(on_cluster.columns) == list(on_local.columns)
    pd.testing.assert_frame_equal(on_cluster, on_local, check_exact=True)


def wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout: float) -> list[str]:
    """Lines of ``proc``'s stdout up to the first that starts with ``prefix``."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no line {prefix!r} within {timeout:.0f} s: {lines}")


def test_foreground_cluster_stops_on_ctrl_c_and_only_its_own_processes(tmp_path: Path) -> None:
    """Ctrl-C ends every process of the cluster and nothing else, even a process that names its directory."""
    state_file = tmp_path / "cluster.json"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "start", "--foreground", "--port", str(port), "--state", str(state_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    bystander = None
    try:
        lines = wait_for_line(proc, "ray.address=", START_TIMEOUT)
        assert lines[-1] == f"ray.address=127.0.0.1:{port}"
        state = json.loads(state_file.read_text())
        assert state["status"] == "up"
        processes = cluster_script.session(state)
        assert len(processes) >= 8
        # Looks like one of the cluster's processes to a search by name or command line; is not.
        bystander = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)", "ray::raylet", state["temp_dir"]]
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
        assert cluster_script.session(state) == []
        for p in processes:
            assert not p.is_running() or p.status() == "zombie", p
        assert bystander.poll() is None  # untouched
        assert json.loads(state_file.read_text())["status"] == "stopped"
        assert not Path(state["temp_dir"]).exists()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        if bystander is not None:
            bystander.kill()
            bystander.wait()
        if state_file.exists():
            run_script("stop", "--state", str(state_file), timeout=180)


def test_stop_after_the_server_was_killed_ends_the_orphans(tmp_path: Path) -> None:
    """SIGKILL of the server leaves Ray's agents running under PID 1; `stop` ends them."""
    state_file = tmp_path / "cluster.json"
    try:
        started = run_script("start", "--port", str(free_port()), "--state", str(state_file), timeout=START_TIMEOUT)
        assert started.returncode == 0, started.stderr
        state = json.loads(state_file.read_text())
        os.kill(state["pid"], signal.SIGKILL)
        time.sleep(2)
        assert cluster_script.session(state), "nothing of the cluster outlived its server: the test proves nothing"
        stopped = run_script("stop", "--state", str(state_file), timeout=180)
        assert stopped.returncode == 0, stopped.stderr
        assert "was not running" in stopped.stdout
        assert cluster_script.session(state) == []
    finally:
        if state_file.exists():
            run_script("stop", "--state", str(state_file), timeout=180)
