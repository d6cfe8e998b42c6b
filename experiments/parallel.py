"""Replications fanned out as Ray tasks and gathered on the driver.

Each task is ``sim.run(scenario, seed, replication)``: pure, so a retried task gives the
same result and the worker count or finishing order cannot change any number. Only the
driver records results; workers import neither Hydra nor MLflow.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.config import RayConfig
from experiments.paths import REPO_ROOT
from experiments.progress import Progress
from salesboost.results import RunResult
from salesboost.scenario import Scenario

#: Paths a cluster's runtime environment does not ship with the code.
RUNTIME_EXCLUDES = [".git", ".venv", "outputs", "multirun", "mlartifacts", "mlruns", "mlflow.db", "benchmarks/results"]


class SimulationError(RuntimeError):
    """A replication raised inside the simulation."""


@dataclass(frozen=True)
class Task:
    """One replication of one variant."""

    variant: str
    replication: int
    scenario: Scenario
    seed: int
    event_log: str | None = None


def simulate(scenario: Scenario, seed: int, replication: int, event_log: str | None, label: str) -> RunResult:
    """Run one replication (the function Ray ships to workers)."""
    from sim import run  # noqa: PLC0415 - workers import the engine on first use

    return run(scenario, seed, replication, event_log=event_log, label=label)


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


def run_tasks(tasks: Sequence[Task], progress: Progress | None = None, cpus_per_task: float = 1) -> list[RunResult]:
    """Run ``tasks`` on the connected Ray cluster; results come back in task order.

    ``cpus_per_task`` above 1 limits how many run at once (2 on a 2-CPU Ray: one at a time).
    """
    import ray  # noqa: PLC0415

    remote = ray.remote(max_retries=2, num_cpus=cpus_per_task)(simulate)
    scenario_refs: dict[int, Any] = {}
    refs = []
    for task in tasks:
        key = id(task.scenario)
        if key not in scenario_refs:
            scenario_refs[key] = ray.put(task.scenario)
        refs.append(remote.remote(scenario_refs[key], task.seed, task.replication, task.event_log, task.variant))
    index = {ref: i for i, ref in enumerate(refs)}
    results: list[RunResult | None] = [None] * len(tasks)
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            i = index[done[0]]
            try:
                results[i] = ray.get(done[0])
            except ray.exceptions.RayTaskError as error:
                task = tasks[i]
                cause = error.cause if error.cause is not None else error
                raise SimulationError(
                    f"variant {task.variant!r} replication {task.replication} failed: {type(cause).__name__}: {cause}"
                ) from error
            if progress is not None:
                progress.advance()
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
    return [r for r in results if r is not None]


def run_serially(tasks: Sequence[Task], progress: Progress | None = None) -> list[RunResult]:
    """Run ``tasks`` one after another in this process (debugging, baselines)."""
    results = []
    for task in tasks:
        results.append(simulate(task.scenario, task.seed, task.replication, task.event_log, task.variant))
        if progress is not None:
            progress.advance()
    return results
