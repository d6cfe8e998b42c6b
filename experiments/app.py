"""An experiment from composed config to recorded comparison.

``plan`` validates everything (every variant's scenario, the experiment, tracking and Ray
settings) before anything starts, so bad input never leaves a run behind. ``execute``
fans the replications out on Ray, analyses them on the driver, writes the tables and plots
to the output directory and records them in MLflow.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from omegaconf import DictConfig, OmegaConf

from experiments.compose import Variant, compose_variants, experiment_of, ray_of, tracking_of
from experiments.config import ExperimentConfig, RayConfig, TrackingConfig
from experiments.parallel import Task, ensure_ray, run_tasks
from experiments.progress import Progress
from salesboost.metrics import HEADLINE_METRICS, METRIC_NAMES
from salesboost.results import RunResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Plan:
    """A validated experiment, ready to run."""

    experiment: ExperimentConfig
    tracking: TrackingConfig
    ray: RayConfig
    variants: list[Variant]
    overrides: tuple[str, ...]
    config_yaml: str


@dataclass(frozen=True)
class Outcome:
    """What an executed experiment produced."""

    plan: Plan
    results: dict[str, list[RunResult]]
    table: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    output_dir: Path
    parent_run_id: str | None
    ui_hint: str | None


def plan(cfg: DictConfig, overrides: Sequence[str]) -> Plan:
    """Validate ``cfg`` and compose every variant on top of ``overrides``."""
    experiment = experiment_of(cfg)
    tracking = tracking_of(cfg)
    ray = ray_of(cfg)
    variants = compose_variants(experiment, overrides)
    return Plan(
        experiment=experiment,
        tracking=tracking,
        ray=ray,
        variants=variants,
        overrides=tuple(overrides),
        config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
    )


def execute(plan: Plan, output_dir: Path, stream: TextIO | None = None) -> Outcome:
    """Run every (variant, replication), analyse, write outputs and record them."""
    from analysis.compare import compare_to_baseline, replication_table, summarise  # noqa: PLC0415 - pandas
    from experiments.report import summary_lines  # noqa: PLC0415

    out = stream if stream is not None else sys.stdout
    started_ms = int(time.time() * 1000)
    experiment = plan.experiment
    tracker = None
    if plan.tracking.enabled:
        from experiments.tracking import open_tracker  # noqa: PLC0415 - mlflow is slow to import

        tracker = open_tracker(plan.tracking, experiment.name)
    ensure_ray(plan.ray)
    tasks = _tasks(plan, output_dir)
    progress = Progress(len(tasks), f"{experiment.name}: simulating")
    try:
        flat = run_tasks(tasks, progress)
    finally:
        progress.close()
    results: dict[str, list[RunResult]] = {v.name: [] for v in plan.variants}
    for task, result in zip(tasks, flat, strict=True):
        results[task.variant].append(result)
    table = replication_table(results)
    summary = summarise(table)
    comparison = compare_to_baseline(table, experiment.baseline)
    files = _write_outputs(plan, results, table, summary, comparison, output_dir=output_dir)
    parent_run_id = None
    if tracker is not None:
        from experiments.recording import record_experiment  # noqa: PLC0415

        parent_run_id = record_experiment(
            tracker,
            plan,
            results,
            summary=summary,
            comparison=comparison,
            files=files,
            output_dir=output_dir,
            started_ms=started_ms,
        )
    lines = summary_lines(summary, comparison, baseline=experiment.baseline, metrics=HEADLINE_METRICS)
    n_variants, n_reps = len(plan.variants), experiment.replications
    print(
        f"\n{experiment.name}: {n_variants} variants x {n_reps} replications, baseline {experiment.baseline}", file=out
    )
    print("\n".join(lines), file=out)
    print(f"\nTables and plots: {output_dir}", file=out)
    hint = tracker.ui_hint() if tracker is not None else None
    if hint:
        print(hint, file=out)
    return Outcome(plan, results, table, summary, comparison, output_dir, parent_run_id, hint)


def _tasks(plan: Plan, output_dir: Path) -> list[Task]:
    experiment = plan.experiment
    logs = None if experiment.event_log == "none" else output_dir / "event_logs"
    return [
        Task(
            variant=variant.name,
            replication=r,
            scenario=variant.scenario,
            seed=experiment.seed,
            event_log=str(logs / f"{variant.name}_rep{r:03d}.{experiment.event_log}") if logs else None,
        )
        for variant in plan.variants
        for r in range(experiment.replications)
    ]


def config_hash(data: object) -> str:
    """A short, stable hash of plain data."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_outputs(
    plan: Plan,
    results: dict[str, list[RunResult]],
    table: pd.DataFrame,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    output_dir: Path,
) -> dict[str, Path]:
    """Tables, configs and plots in ``output_dir``; written to temporary names, then renamed."""
    from analysis.plots import write_report_plots  # noqa: PLC0415 - matplotlib only when writing

    output_dir.mkdir(parents=True, exist_ok=True)
    experiment = plan.experiment
    files = {
        "config.yaml": plan.config_yaml,
        "summary.csv": summary.to_csv(index=False),
        "comparison.csv": comparison.to_csv(index=False),
        "replications.csv": table.to_csv(index=False),
        "summary.json": json.dumps(_finite_or_none(_summary_json(plan, summary, comparison)), indent=2),
    }
    for variant in plan.variants:
        files[f"variants/{variant.name}.yaml"] = OmegaConf.to_yaml(OmegaConf.create(variant.config))
    written = {}
    for name, text in files.items():
        path = output_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(text)
        tmp.replace(path)
        written[name] = path
    plots = write_report_plots(
        results, table, comparison, baseline=experiment.baseline, metrics=HEADLINE_METRICS, out_dir=output_dir / "plots"
    )
    written.update({f"plots/{p.name}": p for p in plots})
    return written


def _summary_json(plan: Plan, summary: pd.DataFrame, comparison: pd.DataFrame) -> dict[str, object]:
    from analysis.compare import COMPARISON_FIELDS, SUMMARY_FIELDS, nested  # noqa: PLC0415

    experiment = plan.experiment
    variants = nested(summary, SUMMARY_FIELDS)
    compared = nested(comparison, COMPARISON_FIELDS) if not comparison.empty else {}
    return {
        "experiment": experiment.name,
        "baseline": experiment.baseline,
        "replications": experiment.replications,
        "seed": experiment.seed,
        "overrides": list(plan.overrides),
        "variants": {v.name: list(v.overrides) for v in plan.variants},
        "metrics": list(METRIC_NAMES),
        "summary": variants,
        "vs_baseline": compared,
    }


def _finite_or_none(value: object) -> object:
    """``value`` with NaN and infinities replaced by None (JSON has no NaN) and numpy scalars as Python."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()  # type: ignore[union-attr]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
