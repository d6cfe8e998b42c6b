"""Shared fixtures: a session-wide local Ray and real MLflow stores in temporary SQLite files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

#: The default study's one-stage variants (its decomposition); tests compare legacy and optimised only.
ONE_STAGE = ("crm_assignment", "quote_templates", "online_approval", "esign", "erp_sync")

#: The default study cut to legacy vs optimised (only valid for the default study).
TWO_VARIANTS = (*(f"~experiment.variants.{name}" for name in ONE_STAGE), "experiment.report.decomposition=null")

#: Small but complete settings for experiments in tests (minutes of work become seconds): the
#: default study cut to legacy vs optimised.
SMALL = (
    "experiment.replications=3",
    "experiment.sensitivity.replications=2",
    "horizon.days=63",
    "horizon.warmup_days=14",
    "horizon.drain_days=30",
    *TWO_VARIANTS,
)


def small_args(*overrides: str) -> list[str]:
    """SMALL plus ``overrides``; the cut to two variants only when no other study is chosen."""
    other_study = any(o.lstrip("+").startswith("experiment=") for o in overrides)
    return [*(o for o in SMALL if not (other_study and o in TWO_VARIANTS)), *overrides]


@pytest.fixture(scope="session")
def ray_local() -> Iterator[None]:
    """A private 2-CPU Ray for the whole session, shut down at the end."""
    import ray

    from experiments.config import RayConfig
    from experiments.parallel import ensure_ray

    ensure_ray(RayConfig(num_cpus=2))
    yield
    ray.shutdown()


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    """A fresh SQLite MLflow store (absolute URI) in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def mlflow_runs(uri: str, experiment: str) -> list:
    """Every live run of ``experiment`` in the store at ``uri``."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return client.search_runs([found.experiment_id], max_results=1000)


def small_plan(*overrides: str):
    """A validated plan of the default experiment at test size; tracked only if a tracking.uri is given."""
    from experiments.app import plan
    from experiments.compose import compose_config

    tracked = any(o.startswith("tracking.uri=") for o in overrides)
    every = small_args(f"tracking.enabled={str(tracked).lower()}", *overrides)
    return plan(compose_config(every), every)


def metrics_by_run(runs) -> dict[tuple[str, int], dict[str, float]]:
    """``{(variant, replication): metrics}`` of a sweep's runs, NaN replaced so that == compares."""
    import math

    return {
        (name, r.replication): {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.metrics.items()
        }
        for name, run in runs.items()
        for r in run.ordered()
    }


def sweep_in_process(plan, store, event_log=None):
    """Run ``plan``'s variants in this process (no Ray) against the result ``store``; the SweepOutcome."""
    from experiments.config import AdaptiveConfig
    from experiments.parallel import LocalExecutor
    from experiments.scheduler import Sweep

    return Sweep(
        plan.variants,
        seed=plan.experiment.seed,
        replications=plan.experiment.replications,
        adaptive=AdaptiveConfig(),
        executor=LocalExecutor(),
        store=store,
        event_log=event_log,
    ).run()
