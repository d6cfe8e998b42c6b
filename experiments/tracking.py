"""Recording an experiment in MLflow, from the driver only.

Layout: one MLflow experiment per study; one parent run per invocation holding the
comparison tables, plots and composed config; one child run per variant with the
flattened resolved config as params, summary and uplift metrics, per-replication values
as metric steps, and tags for variant, git commit, root seed and config hash. A child run
is written in one go when its variant is complete; one that fails half-way is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.config import TrackingConfig
from experiments.locks import SweepLock, deferred_interrupts, file_lock
from experiments.paths import DEFAULT_ARTIFACT_ROOT, REPO_ROOT, default_tracking_uri

#: The experiment's kind for MLflow's UI: "custom_model_development" is model training, not GenAI.
#: MLflow 3.17's sidebar follows the link's ``workflowType`` query instead (see ``Tracker.ui_hint``),
#: so the tag records the kind for other MLflow clients and versions.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
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
        """How to look at the runs: the runs page in the model-training view with the KPI columns."""
        from experiments.recording import runs_view_url  # noqa: PLC0415 - recording imports this module

        if self.uri.startswith("sqlite:///"):
            return (
                f"MLflow UI: run `make ui` (mlflow ui --backend-store-uri {self.uri} --host 127.0.0.1 --port 5000), "
                f"then open {runs_view_url('http://127.0.0.1:5000', self.experiment_id)}"
            )
        return f"MLflow UI: {runs_view_url(self.uri, self.experiment_id)}"


#: How long a first use waits for another invocation to finish creating the same SQLite store.
STORE_LOCK_SECONDS = 120.0


def open_tracker(config: TrackingConfig, experiment_name: str) -> Tracker:
    """Connect to the tracking store, creating the database and experiment if needed.

    A SQLite store is created, migrated and given the experiment under an inter-process lock
    (``<db>-lock``) and whole (a signal waits): two invocations on a fresh file used to run
    MLflow's migrations at once and break it for good (``table _alembic_tmp_metrics already exists``).
    """
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    uri = config.uri or default_tracking_uri()
    db = sqlite_path(uri)
    if db is None:
        return _open_tracker(uri, experiment_name)
    with (
        file_lock(db.with_name(f"{db.name}-lock"), timeout=STORE_LOCK_SECONDS, what=f"tracking.uri {uri}"),
        deferred_interrupts(),
    ):
        return _open_tracker(uri, experiment_name)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI; None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", maxsplit=1)[0])


def sweep_lock(tracker: Tracker, sweep_key: str) -> SweepLock:
    """Take the lock of one sweep in one tracking store, or raise SweepBusyError naming its holder.

    For a SQLite store the locks live beside the file (``<db>-sweeps/``); for a tracking
    server in ``.salesboost/locks/``, which covers invocations on this machine only.
    """
    db = sqlite_path(tracker.uri)
    if db is not None:
        folder = db.with_name(f"{db.name}-sweeps")
    else:
        folder = REPO_ROOT / ".salesboost" / "locks" / hashlib.sha256(tracker.uri.encode()).hexdigest()[:16]
    lock = SweepLock(folder / f"{sweep_key}.lock")
    lock.acquire()
    return lock


def _open_tracker(uri: str, experiment_name: str) -> Tracker:
    import mlflow  # noqa: PLC0415 - heavy; only the recording step needs it
    from mlflow import MlflowClient  # noqa: PLC0415

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)  # creates a new database
    db = sqlite_path(uri)
    if db is not None:
        _use_write_ahead_log(db)
    if experiment is None:
        location = None
        if db is not None:
            # Absolute artifact location: MLflow's default is relative to the current directory.
            root = DEFAULT_ARTIFACT_ROOT if db.parent == REPO_ROOT else db.parent / "mlartifacts"
            location = (root / experiment_name).as_uri()
        experiment_id = client.create_experiment(
            experiment_name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
        )
    else:
        experiment_id = experiment.experiment_id
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment_id)
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
            client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return Tracker(client=client, uri=uri, experiment_id=experiment_id, experiment_name=experiment_name)


def _use_write_ahead_log(db: Path) -> None:
    """Switch a SQLite store to write-ahead logging (kept in the file).

    Each MLflow write is a commit; with the default rollback journal a commit waits for an
    fsync (about 15 ms here), in WAL mode it does not (about 0.2 ms).
    """
    with contextlib.closing(sqlite3.connect(db, timeout=20)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


@dataclass(frozen=True)
class VariantRecord:
    """What a variant's child run holds."""

    name: str
    params: Mapping[str, Any]  # resolved scenario config (nested)
    metrics: Mapping[str, float]  # summary and uplift metrics
    steps: Mapping[str, Sequence[float]]  # per-replication values, index = replication
    tags: Mapping[str, str]
    artifacts: Sequence[Path] = ()
    error: str | None = None  # the variant failed: its child run is marked FAILED with this text


class SweepRecorder:
    """Writes one invocation to MLflow as it goes.

    The parent run first, a child run per variant as soon as it is complete, the comparison at
    the end. The parent carries a ``sweep_key`` tag (a hash of everything that determines the results).
    Opening a recorder whose key matches an unfinished parent resumes it: finished child runs
    are kept and not written again, partial ones are deleted, so a re-run after an interruption
    adds nothing twice.
    """

    def __init__(self, tracker: Tracker, *, sweep_key: str, run_name: str, started_ms: int) -> None:
        self.tracker = tracker
        self.sweep_key = sweep_key
        self.run_name = run_name
        self.started_ms = started_ms
        self.parent_id: str | None = None
        self.resumed = False
        self._recorded: dict[str, str] = {}
        # Child runs are written by one background thread while the simulations run: the
        # driver is idle then, and MLflow's inserts (about 0.1 s per child) overlap them.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlflow-writer")
        self._pending: list[Future[str]] = []

    def open(self, params: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Create the parent run, or resume the unfinished one with the same key; return its id."""
        client = self.tracker.client
        found = client.search_runs(
            [self.tracker.experiment_id],
            filter_string=f"tags.sweep_key = '{self.sweep_key}' and tags.sweep_role = 'parent'",
            order_by=["attributes.start_time DESC"],
            max_results=20,
        )
        unfinished = [r for r in found if r.info.status != "FINISHED"]
        if unfinished:
            self.parent_id = unfinished[0].info.run_id
            self.resumed = True
            client.update_run(self.parent_id, status="RUNNING")
            for child in self._children():
                if child.info.status == "FINISHED":
                    self._recorded[child.data.tags.get("variant", child.info.run_name)] = child.info.run_id
                else:
                    client.delete_run(child.info.run_id)
            return self.parent_id
        all_tags = {**tags, "sweep_key": self.sweep_key, "sweep_role": "parent"}
        parent = client.create_run(
            self.tracker.experiment_id, start_time=self.started_ms, run_name=self.run_name, tags=all_tags
        )
        self.parent_id = parent.info.run_id
        try:
            log_values(client, self.parent_id, params, {}, {}, now=_now())
        except BaseException:
            client.delete_run(self.parent_id)
            raise
        return self.parent_id

    def _children(self) -> list[Any]:
        return self.tracker.client.search_runs(
            [self.tracker.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{self.parent_id}'",
            max_results=10_000,
        )

    def has(self, variant: str) -> bool:
        """Whether ``variant`` already has a finished child run (written before a resume)."""
        return variant in self._recorded

    def record(self, variant: VariantRecord) -> None:
        """Queue ``variant``'s child run; it is written in the background, in order."""
        if variant.name in self._recorded:
            return
        self._pending.append(self._writer.submit(self._write, variant))

    def flush(self) -> None:
        """Wait for the queued child runs; raise the first error of any of them."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _write(self, variant: VariantRecord) -> str:
        """Write ``variant``'s child run in one go; a half-written child is deleted."""
        client = self.tracker.client
        tags = {"mlflow.parentRunId": str(self.parent_id), **variant.tags}
        if variant.error is not None:
            tags["error"] = variant.error[:5000]
        child = client.create_run(
            self.tracker.experiment_id, start_time=self.started_ms, run_name=variant.name, tags=tags
        )
        run_id = child.info.run_id
        try:
            log_values(client, run_id, flatten(variant.params), variant.metrics, variant.steps, now=_now())
            for path in variant.artifacts:
                client.log_artifact(run_id, str(path))
            client.set_terminated(run_id, "FAILED" if variant.error else "FINISHED", end_time=_now())
        except BaseException:
            with contextlib.suppress(Exception):
                client.delete_run(run_id)
            raise
        if variant.error is None:
            self._recorded[variant.name] = run_id
        return run_id

    def finish(
        self,
        *,
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        artifacts: Sequence[tuple[Path, str | None]],
        status: str = "FINISHED",
    ) -> None:
        """Write the comparison to the parent run and close it."""
        from mlflow.entities import RunTag  # noqa: PLC0415

        self.flush()
        self._writer.shutdown()
        client = self.tracker.client
        parent_id = str(self.parent_id)
        log_values(client, parent_id, {}, metrics, {}, now=_now())
        for path, artifact_dir in artifacts:  # a directory is one call, not one per file
            if path.is_dir():
                client.log_artifacts(parent_id, str(path), artifact_dir)
            elif path.exists():
                client.log_artifact(parent_id, str(path), artifact_dir)
        client.log_batch(parent_id, tags=[RunTag(k, v[:5000]) for k, v in tags.items()])
        client.set_terminated(parent_id, status, end_time=_now())

    def stop(self, status: str) -> None:
        """Close the parent as ``KILLED`` or ``FAILED``; the same command resumes it later.

        Queued child runs are dropped (their results are in the result store); one being
        written is finished first, so no child is left half-written.
        """
        for future in self._pending:
            future.cancel()
        self._writer.shutdown(wait=True, cancel_futures=True)
        self._pending = []
        if self.parent_id is not None:
            with contextlib.suppress(Exception):
                self.tracker.client.set_terminated(self.parent_id, status, end_time=_now())


def _now() -> int:
    return int(time.time() * 1000)


def log_values(
    client: Any,
    run_id: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    steps: Mapping[str, Sequence[float]],
    *,
    now: int,
) -> None:
    """Log params, metrics and per-replication steps on run ``run_id`` in as few calls as MLflow allows."""
    from mlflow.entities import Metric, Param  # noqa: PLC0415

    param_list = [Param(key, _param_value(value)) for key, value in params.items()]
    metric_list = [Metric(key, float(v), now, 0) for key, v in metrics.items() if _finite(v)]
    metric_list += [
        Metric(f"replications/{key}", float(v), now, step)
        for key, values in steps.items()
        for step, v in enumerate(values)
        if _finite(v)
    ]
    # As few calls (one commit each) as MLflow's limits allow: 100 params, 1000 entries per call.
    param_calls = list(_chunks(param_list, PARAM_BATCH))
    metric_calls = list(_chunks(metric_list, METRIC_BATCH - PARAM_BATCH))
    for i in range(max(len(param_calls), len(metric_calls))):
        client.log_batch(
            run_id,
            params=param_calls[i] if i < len(param_calls) else [],
            metrics=metric_calls[i] if i < len(metric_calls) else [],
        )


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
