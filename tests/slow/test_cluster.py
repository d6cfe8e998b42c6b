"""On a real two-node Ray cluster the `salesboost` command gives the same replications as on a private local Ray.

The cluster (a head and a second node with 1 CPU each, on this machine) is started and stopped by
``scripts/local_ray_cluster.py``, which ends only its own processes (never ``ray stop``). The code
reaches the cluster's workers as a Ray runtime environment (``working_dir``), which a local Ray
never exercises. Slow: about two minutes, most of it starting Ray twice and MLflow's first migration.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from tests.conftest import SMALL

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "local_ray_cluster.py"
SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
#: A joining node can take ~20 s; the machine may be busy with other sessions.
START_TIMEOUT = 420
RUN_TIMEOUT = 900
VARIANTS = 2  # the default experiment: legacy and optimised


def load_script() -> ModuleType:
    """``scripts/local_ray_cluster.py`` as a module (for its node query)."""
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
        s.bind(("", 0))
        return int(s.getsockname()[1])


def run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True)
class Cluster:
    address: str
    temp_dir: Path

    def node_logs(self) -> dict[str, Path]:
        """Each node's Ray log directory (the script gives each node its own ``--temp-dir``)."""
        return {node: self.temp_dir / node / "session_latest" / "logs" for node in cluster_script.NODES}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A two-node cluster for this module, stopped afterwards whatever happened."""
    state = tmp_path_factory.mktemp("cluster") / "cluster.json"
    port = free_port()
    try:
        started = run_script("start", "--port", str(port), "--state", str(state), timeout=START_TIMEOUT)
        assert started.returncode == 0, f"cluster did not start: {started.stderr.strip()}"
        assert f"ray.address=127.0.0.1:{port}" in started.stdout
        yield Cluster(f"127.0.0.1:{port}", Path(json.loads(state.read_text())["temp_dir"]))
    finally:
        # The script writes the state file before it starts anything, so this also cleans up
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


def test_cluster_run_matches_local_run(cluster: Cluster, tmp_path: Path) -> None:
    nodes = [n for n in cluster_script.query_nodes(cluster.address) if n["alive"]]
    assert len(nodes) == 2
    assert sum(n["cpus"] for n in nodes) == 2
    assert tasks_per_node(cluster) == {"head": 0, "worker": 0}

    on_cluster = salesboost(
        tmp_path / "cluster", [f"ray.address={cluster.address}"], {**base_env(), "RAY_AUTH_MODE": "token"}
    )
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
