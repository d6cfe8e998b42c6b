"""What an experiment writes to MLflow: the parent run's and each child run's contents."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.compare import COMPARISON_FIELDS, nested
from experiments.app import Plan, config_hash
from experiments.report import summary_lines
from experiments.tracking import Tracker, VariantRecord, git_commit, record
from salesboost.metrics import HEADLINE_METRICS, METRIC_NAMES
from salesboost.results import RunResult


def variant_metrics(summary: pd.DataFrame, comparison: pd.DataFrame, variant: str) -> dict[str, float]:
    """A child run's metrics: ``m``, ``m_sd``, ``m_ci_low``, ``m_ci_high``, and against the baseline.

    Against the baseline: ``m_diff``, ``m_uplift`` and their interval bounds.
    """
    metrics: dict[str, float] = {}
    for metric, fields in nested(summary, ("mean", "sd", "ci_low", "ci_high")).get(variant, {}).items():
        for field, value in fields.items():
            metrics[metric if field == "mean" else f"{metric}_{field}"] = float(value)
    if not comparison.empty:
        per_metric = nested(comparison, [f for f in COMPARISON_FIELDS if f != "pairs"]).get(variant, {})
        for metric, fields in per_metric.items():
            for field, value in fields.items():
                metrics[f"{metric}_{field}"] = float(value)
    return metrics


def record_experiment(
    tracker: Tracker,
    plan: Plan,
    results: Mapping[str, list[RunResult]],
    *,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    files: Mapping[str, Path],
    output_dir: Path,
    started_ms: int | None = None,
) -> str:
    """Record the experiment: a parent run with the comparison, a child run per variant."""
    experiment = plan.experiment
    commit = git_commit()
    all_configs = {v.name: v.config for v in plan.variants}
    parent_metrics: dict[str, float] = {}
    for row in comparison.to_dict("records"):
        if row["metric"] in HEADLINE_METRICS:
            for column in ("uplift", "uplift_ci_low", "uplift_ci_high"):
                parent_metrics[f"{row['variant']}/{row['metric']}_{column}"] = float(row[column])
    table_text = "\n".join(summary_lines(summary, comparison, baseline=experiment.baseline, metrics=HEADLINE_METRICS))
    parent_tags = {
        "git_commit": commit,
        "root_seed": str(experiment.seed),
        "config_hash": config_hash(all_configs),
        "baseline": experiment.baseline,
        "summary": f"{experiment.description}\n\n```\n{table_text}\n```",
    }
    parent_params = {
        "experiment": experiment.name,
        "baseline": experiment.baseline,
        "replications": experiment.replications,
        "seed": experiment.seed,
        "variants": {v.name: list(v.overrides) for v in plan.variants},
        "overrides": list(plan.overrides),
        "event_log": experiment.event_log,
    }
    parent_artifacts = [(files[name], None) for name in files if "/" not in name]
    parent_artifacts += [(output_dir / "variants", "variants"), (output_dir / "plots", "plots")]
    records = []
    for variant in plan.variants:
        runs = sorted(results[variant.name], key=lambda r: r.replication)
        records.append(
            VariantRecord(
                name=variant.name,
                params=variant.config,
                metrics=variant_metrics(summary, comparison, variant.name),
                steps={m: [r.metrics.get(m, math.nan) for r in runs] for m in METRIC_NAMES},
                tags={
                    "variant": variant.name,
                    "baseline": str(variant.name == experiment.baseline).lower(),
                    "git_commit": commit,
                    "root_seed": str(experiment.seed),
                    "config_hash": config_hash(variant.config),
                    "overrides": " ".join(variant.overrides),
                },
                artifacts=[files[f"variants/{variant.name}.yaml"]],
            )
        )
    return record(
        tracker,
        run_name=f"{experiment.name} x{experiment.replications}",
        parent_params=parent_params,
        parent_metrics=parent_metrics,
        parent_tags=parent_tags,
        parent_artifacts=parent_artifacts,
        variants=records,
        started_ms=started_ms,
    )
