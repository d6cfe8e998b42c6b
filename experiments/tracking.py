"""Recording an experiment in MLflow, from the driver only.

Layout: one MLflow experiment per study; one parent run per invocation holding the
comparison tables, plots and composed config; one child run per variant with the
flattened resolved config as params, summary and uplift metrics, per-replication values
as metric steps, and tags for variant, git commit, root seed and config hash.
Runs are written only after every replication is in; if writing fails half-way, the runs
already created are deleted so no half-logged run is left.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.config import TrackingConfig
from experiments.paths import DEFAULT_ARTIFACT_ROOT, REPO_ROOT, default_tracking_uri

PARAM_BATCH = 100  # MLflow accepts at most 100 params per log_batch call
METRIC_BATCH = 1000  # and at most 1000 metrics


@dataclass(frozen=True)
class Tracker:
    """An MLflow client bound to one experiment."""

    client: Any
    uri: str
    experiment_id: str
    experiment_name: str

    def ui_hint(self) -> str:
        """How to look at the runs."""
        if self.uri.startswith("sqlite:///"):
            return (
                f"MLflow UI: run `make ui` (mlflow ui --backend-store-uri {self.uri} --host 127.0.0.1 --port 5000), "
                f"then open http://127.0.0.1:5000/#/experiments/{self.experiment_id}/runs"
            )
        return f"MLflow UI: {self.uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs"


def open_tracker(config: TrackingConfig, experiment_name: str) -> Tracker:
    """Connect to the tracking store, creating the database and experiment if needed.

    Call this on the driver before any parallel work: creating a SQLite store runs schema
    migrations that must not race.
    """
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    import mlflow  # noqa: PLC0415 - heavy; only the recording step needs it
    from mlflow import MlflowClient  # noqa: PLC0415

    uri = config.uri or default_tracking_uri()
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        location = None
        if uri.startswith("sqlite:///"):
            # Absolute artifact location: MLflow's default is relative to the current directory.
            db_dir = Path(uri.removeprefix("sqlite:///")).parent
            root = DEFAULT_ARTIFACT_ROOT if db_dir == REPO_ROOT else db_dir / "mlartifacts"
            location = (root / experiment_name).as_uri()
        experiment_id = client.create_experiment(experiment_name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment_id)
    return Tracker(client=client, uri=uri, experiment_id=experiment_id, experiment_name=experiment_name)


@dataclass(frozen=True)
class VariantRecord:
    """What a variant's child run holds."""

    name: str
    params: Mapping[str, Any]  # resolved scenario config (nested)
    metrics: Mapping[str, float]  # summary and uplift metrics
    steps: Mapping[str, Sequence[float]]  # per-replication values, index = replication
    tags: Mapping[str, str]
    artifacts: Sequence[Path] = ()


def record(
    tracker: Tracker,
    *,
    run_name: str,
    parent_params: Mapping[str, Any],
    parent_metrics: Mapping[str, float],
    parent_tags: Mapping[str, str],
    parent_artifacts: Sequence[tuple[Path, str | None]],
    variants: Sequence[VariantRecord],
    started_ms: int | None = None,
) -> str:
    """Write the parent run and one child run per variant; return the parent run id.

    ``started_ms`` (epoch milliseconds) is when the experiment started, so that the runs show
    its real duration although they are written at the end.
    """
    from mlflow.entities import RunTag  # noqa: PLC0415

    client = tracker.client
    created: list[str] = []
    now = int(time.time() * 1000)
    start = started_ms if started_ms is not None else now
    try:
        parent = client.create_run(tracker.experiment_id, start_time=start, run_name=run_name, tags=dict(parent_tags))
        created.append(parent.info.run_id)
        _log(client, parent.info.run_id, parent_params, parent_metrics, {}, now=now)
        for path, artifact_dir in parent_artifacts:
            if path.is_dir():
                client.log_artifacts(parent.info.run_id, str(path), artifact_dir)
            else:
                client.log_artifact(parent.info.run_id, str(path), artifact_dir)
        for variant in variants:
            tags = {"mlflow.parentRunId": parent.info.run_id, **variant.tags}
            child = client.create_run(tracker.experiment_id, start_time=start, run_name=variant.name, tags=tags)
            created.append(child.info.run_id)
            _log(client, child.info.run_id, flatten(variant.params), variant.metrics, variant.steps, now=now)
            for path in variant.artifacts:
                client.log_artifact(child.info.run_id, str(path))
            client.set_terminated(child.info.run_id, "FINISHED", end_time=now)
        client.log_batch(parent.info.run_id, tags=[RunTag("mlflow.note.content", parent_tags.get("summary", ""))])
        client.set_terminated(parent.info.run_id, "FINISHED", end_time=int(time.time() * 1000))
    except BaseException:
        for run_id in reversed(created):
            with contextlib.suppress(Exception):
                client.delete_run(run_id)
        raise
    return parent.info.run_id


def _log(
    client: Any,
    run_id: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    steps: Mapping[str, Sequence[float]],
    *,
    now: int,
) -> None:
    from mlflow.entities import Metric, Param  # noqa: PLC0415

    param_list = [Param(key, _param_value(value)) for key, value in params.items()]
    metric_list = [Metric(key, float(v), now, 0) for key, v in metrics.items() if _finite(v)]
    metric_list += [
        Metric(f"replications/{key}", float(v), now, step)
        for key, values in steps.items()
        for step, v in enumerate(values)
        if _finite(v)
    ]
    for chunk in _chunks(param_list, PARAM_BATCH):
        client.log_batch(run_id, params=chunk)
    for chunk in _chunks(metric_list, METRIC_BATCH):
        client.log_batch(run_id, metrics=chunk)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level with dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def git_commit() -> str:
    """The checkout's commit, with ``-dirty`` if it has uncommitted changes; ``unknown`` outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def _param_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
