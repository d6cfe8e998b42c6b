"""What an experiment writes to MLflow: each variant's child run and the parent's comparison."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from analysis.compare import COMPARISON_FIELDS, compare_to_baseline, nested, replication_table, summarise
from experiments.scheduler import VariantRun
from experiments.tracking import VariantRecord
from salesboost.metrics import METRIC_NAMES


def safe_name(name: str) -> str:
    """``name`` usable as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "variant"


def metric_key(name: str) -> str:
    """``name`` made valid in an MLflow metric name (no ``=`` or ``,``): ``managers:2 sla:1.5``."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "", name.replace("=", ":").replace(",", " "))


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


def paired_tables(run: VariantRun, baseline: VariantRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``run``'s summary, and its comparison with baseline replications 0..n-1 (empty for the baseline)."""
    ordered = run.ordered()
    results = {run.name: ordered}
    comparable = run is not baseline and baseline.error is None
    if comparable:
        results[baseline.name] = [baseline.results[r.replication] for r in ordered if r.replication in baseline.results]
    table = replication_table(results)
    summary = summarise(table[table["variant"] == run.name])
    comparison = compare_to_baseline(table, baseline.name) if comparable else pd.DataFrame()
    return summary, comparison


def child_record(
    run: VariantRun,
    baseline: VariantRun,
    *,
    common_tags: Mapping[str, str],
    output_dir: Path,
) -> VariantRecord:
    """The child run of ``run``: config, summary and paired uplift, per-replication steps, tags."""
    variant = run.variant
    config_file = output_dir / "variants" / f"{safe_name(variant.name)}.yaml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(OmegaConf.to_yaml(OmegaConf.create(variant.config)))
    ordered = run.ordered()
    metrics: dict[str, float] = {"replications": float(len(ordered))}
    if ordered and run.error is None:
        summary, comparison = paired_tables(run, baseline)
        metrics.update(variant_metrics(summary, comparison, variant.name))
    tags = {
        **common_tags,
        "variant": variant.name,
        "baseline": str(run is baseline).lower(),
        "config_hash": variant.scenario.config_hash(),
        "overrides": " ".join(variant.overrides),
        "replications_from_store": str(run.cached),
    }
    if run.decision is not None:
        metrics["adaptive_half_width"] = run.decision.half_width
        metrics["adaptive_target"] = run.decision.target
        tags["adaptive_reached"] = str(run.decision.reached).lower()
    return VariantRecord(
        name=variant.name,
        params=variant.config,
        metrics=metrics,
        steps={m: [r.metrics.get(m, math.nan) for r in ordered] for m in METRIC_NAMES},
        tags=tags,
        artifacts=[config_file],
        error=run.error,
    )


def parent_metrics(
    comparison: pd.DataFrame, metrics: Sequence[str], objective: str, best: str | None
) -> dict[str, float]:
    """The parent's metrics: every variant's uplift on the objective, the best variant's on each metric.

    The child runs hold everything else; the parent keeps what a comparison is read by.
    """
    out: dict[str, float] = {}
    if comparison.empty:
        return out
    for row in comparison[comparison["metric"].isin([*metrics, objective])].to_dict("records"):
        for column in ("uplift", "uplift_ci_low", "uplift_ci_high"):
            if row["metric"] == objective or len(comparison["variant"].unique()) <= 3:
                out[f"{metric_key(row['variant'])}/{row['metric']}_{column}"] = float(row[column])
            if row["variant"] == best:
                out[f"best/{row['metric']}_{column}"] = float(row[column])
    return out
