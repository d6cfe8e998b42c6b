"""Executors for the sweep engine: Ray tasks (local or a cluster) or this process.

A Ray task runs a batch of replications of one variant: ``sim.run`` for each, pure, so a
retried task gives the same results and the worker count or finishing order cannot change
any number. Only the driver records results; workers import neither Hydra nor MLflow.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from experiments.config import RayConfig
from experiments.paths import REPO_ROOT
from experiments.scheduler import Batch
from experiments.variants import Variant
from experiments.worker import simulate_batch
from salesboost.results import RunResult

#: Paths a cluster's runtime environment does not ship with the code.
RUNTIME_EXCLUDES = [
    ".git",
    ".venv",
    ".tools",
    ".salesboost",
    "outputs",
    "multirun",
    "mlartifacts",
    "mlruns",
    "mlflow.db",
    "benchmarks/results",
]
#: Ray re-runs a task whose worker process died (killed, out of memory) this many times.
WORKER_RETRIES = 3


def ensure_ray(config: RayConfig) -> None:
    """Start a private local Ray, or join the cluster at ``config.address``, unless connected."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray  # noqa: PLC0415 - Ray is heavy; only experiments that run tasks need it

    if ray.is_initialized():
        return
    # Ray announces its default token authentication at every start; it is not a problem.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    if config.address is None:
        # address="local" never attaches to another user's cluster on a shared machine.
        ray.init(
            address="local",
            num_cpus=config.num_cpus or os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    else:
        ray.init(
            address=config.address,
            runtime_env={"working_dir": str(REPO_ROOT), "excludes": RUNTIME_EXCLUDES},
            log_to_driver=False,
            logging_level=logging.WARNING,
        )


class RayExecutor:
    """Runs batches as Ray tasks on the connected cluster."""

    def __init__(self, cpus_per_task: float = 1) -> None:
        import ray  # noqa: PLC0415

        self._ray = ray
        self._remote = ray.remote(max_retries=WORKER_RETRIES, num_cpus=cpus_per_task)(simulate_batch)
        self._pending: dict[Any, Batch] = {}
        self._scenario_refs: dict[str, Any] = {}

    def submit(self, variant: Variant, batch: Batch, seed: int, event_logs: Sequence[str | None]) -> None:
        """Start ``batch`` as one task."""
        ref = self._scenario_refs.get(variant.name)
        if ref is None:
            ref = self._scenario_refs[variant.name] = self._ray.put(variant.scenario)
        task = self._remote.remote(ref, seed, list(batch.replications), variant.name, list(event_logs))
        self._pending[task] = batch

    def pending(self) -> int:
        """Tasks not yet handed back."""
        return len(self._pending)

    def wait(self) -> list[tuple[Batch, list[RunResult] | BaseException]]:
        """Block until a task is done; return every task that is."""
        ray = self._ray
        ready, _ = ray.wait(list(self._pending), num_returns=1)
        more, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=0)
        out: list[tuple[Batch, list[RunResult] | BaseException]] = []
        for ref in dict.fromkeys([*ready, *more]):
            batch = self._pending.pop(ref)
            try:
                out.append((batch, ray.get(ref)))
            except (ray.exceptions.RayTaskError, ray.exceptions.WorkerCrashedError) as error:
                out.append((batch, error))
        return out

    def cancel(self) -> None:
        """Cancel every pending task."""
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()


class LocalExecutor:
    """Runs batches one after another in this process (tests, baselines, debugging)."""

    def __init__(self) -> None:
        self._queue: list[tuple[Variant, Batch, int, list[str | None]]] = []

    def submit(self, variant: Variant, batch: Batch, seed: int, event_logs: Sequence[str | None]) -> None:
        """Queue ``batch``."""
        self._queue.append((variant, batch, seed, list(event_logs)))

    def pending(self) -> int:
        """Batches queued."""
        return len(self._queue)

    def wait(self) -> list[tuple[Batch, list[RunResult] | BaseException]]:
        """Run the oldest queued batch."""
        variant, batch, seed, logs = self._queue.pop(0)
        try:
            return [(batch, simulate_batch(variant.scenario, seed, batch.replications, variant.name, logs))]
        except Exception as error:  # a failing variant is data, as on Ray
            return [(batch, error)]

    def cancel(self) -> None:
        """Drop the queue."""
        self._queue.clear()
