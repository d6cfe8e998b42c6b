"""What an experiment writes to MLflow: each variant's child run and the parent's comparison.

The MLflow view is built for a reader who compares variants at a glance:

- headline metrics get short names under ``KPI/`` that sort together, each followed by its
  95% interval and its change against the baseline in percent with that interval
  (``KPI/revenue``, ``KPI/revenue_lower``, ``KPI/revenue_upper``, ``KPI/revenue_vs_base_pct``,
  ``KPI/revenue_vs_base_pct_lower``, ``KPI/revenue_vs_base_pct_upper``), rounded to 4
  significant digits; the baseline's own change is 0. The capital prefix sorts them before
  the other metrics in MLflow's column picker and compare table; the objective's come first
  (the compare view opens on the first metric a run logged). The full unrounded set follows
  under the long names other tools read (``revenue``, ``revenue_ci_low``, ``revenue_uplift``,
  ...; the baseline's ``_diff`` and ``_uplift`` are 0, not absent, which the compare view shows as NaN);
- a child run's params start with ``Variant.*`` (what the variant sets, capitalised so that
  the compare view, which opens on the first three differing params in sorted order, shows
  them rather than arbitrary config keys), then the flattened resolved config;
- each child run carries its own plots: its distributions against the baseline's, its uplift;
  and its monthly KPI panel over all its replications, with a ``replication`` column
  (``panel.parquet``: the pipeline table; ``panel_workers.parquet``: busy and available hours);
- an experiment tag holds a saved runs-table view (MLflow's shared view state) whose columns
  are the headline metrics; :func:`runs_view_url` links to it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from analysis.compare import COMPARISON_FIELDS, compare_to_baseline, nested, replication_table, summarise
from experiments.config import ReportConfig
from experiments.report import fmt, pct
from experiments.scheduler import VariantRun
from experiments.tracking import VariantRecord, flatten
from salesboost.metrics import METRIC_NAMES
from salesboost.results import RunResult

KPI_PREFIX = "KPI/"
#: Significant digits of the headline (``KPI/``) metrics.
KPI_DIGITS = 4
#: Short names of metrics in the ``KPI/`` set; others keep their name. No short name is
#: another's prefix followed by ``_``, so each name's bounds sort right after it.
SHORT_NAMES: dict[str, str] = {
    "quote_approval_hours_mean": "approval_h",
    "quote_approval_hours_p90": "approval_p90_h",
    "contract_cycle_days_mean": "contract_d",
    "contract_cycle_days_p90": "contract_p90_d",
    "first_response_hours_mean": "response_h",
    "first_response_hours_p90": "response_p90_h",
    "lead_to_order_days_mean": "lead_to_order_d",
    "lead_to_order_days_p90": "lead_to_order_p90_d",
    "quote_turnaround_hours_mean": "quote_turnaround_h",
    "order_entry_hours_mean": "order_entry_h",
    "approval_sla_breach_rate": "sla_breach",
    "rep_utilisation": "rep_util",
    "followup_timeliness": "timely_contact",
    "lead_conversion_rate": "lead_conversion",
    "qualification_rate": "qualification",
    "competitor_loss_rate": "competitor_loss",
    "escalation_rate": "escalation",
    "quote_rework_rate": "rework",
    "open_deals_mean": "open_deals",
    "rep_complaint_rate": "rep_complaints",
    "quota_attainment_share": "at_quota",
    "effort_share_prospecting": "effort_prospecting",
    "effort_share_accounts": "effort_accounts",
    "effort_share_followup": "effort_followup",
    "effort_share_training": "effort_training",
}
#: The experiment tag MLflow's UI reads a shared runs-table view from, and this project's key.
SHARED_VIEW_TAG_PREFIX = "mlflow.sharedViewState."
VIEW_KEY = "salesboost-kpis"


def safe_name(name: str) -> str:
    """``name`` usable as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "variant"


def metric_key(name: str) -> str:
    """``name`` made valid in an MLflow metric name (no ``=`` or ``,``): ``managers:2 sla:1.5``."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "", name.replace("=", ":").replace(",", " "))


def short_name(metric: str) -> str:
    """``metric``'s name in the ``KPI/`` set (``quote_approval_hours_mean`` -> ``approval_h``)."""
    return SHORT_NAMES.get(metric, metric)


def kpi_key(metric: str, field: str = "") -> str:
    """The ``KPI/`` metric name of ``metric``'s mean, or of one of its ``field``s.

    Fields: ``lower``, ``upper`` (95% CI of the mean), ``vs_base_pct``, ``vs_base_pct_lower``,
    ``vs_base_pct_upper`` (change against the baseline in percent and its 95% CI).
    """
    return f"{KPI_PREFIX}{short_name(metric)}" + (f"_{field}" if field else "")


def significant(value: float, digits: int = KPI_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (non-finite values unchanged)."""
    if not math.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def headline(experiment: Any) -> list[str]:
    """The metrics an experiment is read by: its objective first, then its report metrics and constraints."""
    return report_headline(experiment.report)


def report_headline(report: ReportConfig) -> list[str]:
    """:func:`headline` of a report config."""
    return list(dict.fromkeys([report.objective, *report.metrics, *report.constraints]))


#: The headline of the default report (objective revenue, the default report metrics).
DEFAULT_HEADLINE: tuple[str, ...] = tuple(report_headline(ReportConfig()))


def kpi_metrics(
    summary: pd.DataFrame, comparison: pd.DataFrame, variant: str, metrics: Sequence[str], *, is_baseline: bool
) -> dict[str, float]:
    """The ``KPI/`` set of ``variant``: per metric, mean and 95% CI, change vs the baseline in % and its CI."""
    s = summary.set_index(["variant", "metric"])
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    out: dict[str, float] = {}
    for metric in metrics:
        if (variant, metric) not in s.index:
            continue
        row = s.loc[(variant, metric)]
        out[kpi_key(metric)] = significant(float(row["mean"]))
        out[kpi_key(metric, "lower")] = significant(float(row["ci_low"]))
        out[kpi_key(metric, "upper")] = significant(float(row["ci_high"]))
        if is_baseline:  # its change against itself: exactly 0, never NaN or missing
            change: tuple[float, ...] = (0.0, 0.0, 0.0)
        elif c is not None and (variant, metric) in c.index:
            r = c.loc[(variant, metric)]
            change = tuple(significant(float(r[f]) * 100) for f in ("uplift", "uplift_ci_low", "uplift_ci_high"))
        else:
            continue
        for field, value in zip(("vs_base_pct", "vs_base_pct_lower", "vs_base_pct_upper"), change, strict=True):
            out[kpi_key(metric, field)] = value
    return out


def variant_metrics(
    summary: pd.DataFrame, comparison: pd.DataFrame, variant: str, *, is_baseline: bool = False
) -> dict[str, float]:
    """A child run's full metrics: ``m``, ``m_sd``, ``m_ci_low``, ``m_ci_high``, and against the baseline.

    Against the baseline: ``m_diff``, ``m_uplift`` and their interval bounds (all 0 for the baseline).
    """
    metrics: dict[str, float] = {}
    for metric, fields in nested(summary, ("mean", "sd", "ci_low", "ci_high")).get(variant, {}).items():
        for field, value in fields.items():
            metrics[metric if field == "mean" else f"{metric}_{field}"] = float(value)
    against = [f for f in COMPARISON_FIELDS if f != "pairs"]
    if not comparison.empty:
        for metric, values in nested(comparison, against).get(variant, {}).items():
            for field, value in values.items():
                metrics[f"{metric}_{field}"] = float(value)
    elif is_baseline:
        # The baseline against itself: 0. Absent, MLflow's compare view would show NaN beside the others.
        for metric in nested(summary, ("mean",)).get(variant, {}):
            metrics.update(dict.fromkeys((f"{metric}_{field}" for field in against), 0.0))
    return metrics


#: Flattened config keys of the pipeline's stage choices, shown as ``Variant.stage.<stage>``.
_STAGE_POLICY = re.compile(r"pipeline\.(\w+)\.policy")


def variant_params(variant: Any) -> dict[str, Any]:
    """A child run's params: what the variant sets, then its resolved config.

    ``Variant.set.<key>`` for each dotted override (grid values first in sorted order),
    ``Variant.stage.<stage>`` for each pipeline stage's policy, ``Variant.with`` for the
    override list. The capital ``V`` sorts them before the config keys.
    """
    settings: dict[str, Any] = {}
    for override in variant.overrides:
        key, _, value = override.partition("=")
        if "." in key and value and not key.startswith(("+", "~")):
            settings[f"set.{key}"] = value
    for key, value in flatten(variant.config).items():
        if match := _STAGE_POLICY.fullmatch(key):
            settings[f"stage.{match.group(1)}"] = value
    settings["with"] = " ".join(variant.overrides)
    return {**{f"Variant.{k}": v for k, v in settings.items()}, **flatten(variant.config)}


def child_note(
    summary: pd.DataFrame, comparison: pd.DataFrame, variant: str, baseline: str, metrics: Sequence[str]
) -> str:
    """The child run's description (Markdown): its headline KPIs with 95% CIs and the change vs the baseline."""
    s = summary.set_index(["variant", "metric"])
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    versus = f"vs {baseline}" if variant != baseline else "(baseline)"
    rows = [f"| KPI | {variant} (95% CI) | {versus} |", "|:--|--:|--:|"]
    for metric in metrics:
        if (variant, metric) not in s.index:
            continue
        r = s.loc[(variant, metric)]
        change = "0%" if variant == baseline else ""
        if c is not None and (variant, metric) in c.index:
            u = c.loc[(variant, metric)]
            change = f"{pct(u['uplift'])} [{pct(u['uplift_ci_low'])}, {pct(u['uplift_ci_high'])}]"
        rows.append(f"| {metric} | {fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}] | {change} |")
    return "\n".join(rows)


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
    metrics: Sequence[str] = DEFAULT_HEADLINE,
) -> VariantRecord:
    """The child run of ``run``: config, summary and paired uplift, per-replication steps, tags, plots.

    ``metrics`` are the headline metrics (:func:`headline` of the experiment; the objective first).
    """
    variant = run.variant
    folder = output_dir / "variants"
    config_file = folder / f"{safe_name(variant.name)}.yaml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(OmegaConf.to_yaml(OmegaConf.create(variant.config)))
    ordered = run.ordered()
    values: dict[str, float] = {}
    artifacts = [config_file]
    note = ""
    if ordered and run.error is None:
        summary, comparison = paired_tables(run, baseline)
        note = child_note(summary, comparison, variant.name, baseline.name, metrics)
        values.update(kpi_metrics(summary, comparison, variant.name, metrics, is_baseline=run is baseline))
        values["replications"] = float(len(ordered))
        values.update(variant_metrics(summary, comparison, variant.name, is_baseline=run is baseline))
        artifacts += _variant_plots(run, baseline, comparison, metrics, folder / safe_name(variant.name))
        artifacts += write_panel_files(ordered, folder / safe_name(variant.name))
    else:
        values["replications"] = float(len(ordered))
    tags = {
        **common_tags,
        "variant": variant.name,
        "baseline": str(run is baseline).lower(),
        "config_hash": variant.scenario.config_hash(),
        "overrides": " ".join(variant.overrides),
        "replications_from_store": str(run.cached),
        # MLflow's runs table opens the parents of "evaluation" runs on a first visit, so the
        # variants show without a click; a variant's child run is its evaluation by simulation.
        "mlflow.runType": "evaluation",
    }
    if note:
        tags["mlflow.note.content"] = note
    if run.decision is not None:
        values["adaptive_half_width"] = run.decision.half_width
        values["adaptive_target"] = run.decision.target
        tags["adaptive_reached"] = str(run.decision.reached).lower()
    return VariantRecord(
        name=variant.name,
        params=variant_params(variant),
        metrics=values,
        steps={m: [r.metrics.get(m, math.nan) for r in ordered] for m in METRIC_NAMES},
        tags=tags,
        artifacts=artifacts,
        error=run.error,
    )


#: The panel's files on a child run: table name -> file name.
PANEL_FILES: dict[str, str] = {
    "pipeline": "panel.parquet",
    "workers": "panel_workers.parquet",
    "tiers": "panel_tiers.parquet",
    "tier_transitions": "panel_tier_transitions.parquet",
    "outreach": "panel_outreach.parquet",
    "reps": "panel_reps.parquet",
    "market": "panel_market.parquet",
}


def write_panel_files(results: Sequence[RunResult], out_dir: Path, *, variant: str | None = None) -> list[Path]:
    """Each panel table of ``results`` stacked over replications as Parquet in ``out_dir`` (``panel.parquet``, ...).

    A table no result carries (an engine without a panel) is skipped quietly; the files written are returned.
    """
    from analysis.panel import panel_frame, write_parquet  # noqa: PLC0415 - pyarrow only when recording

    written = []
    for table, name in PANEL_FILES.items():
        frame = panel_frame(results, table, variant=variant)
        if not frame.empty:
            written.append(write_parquet(frame, out_dir / name))
    return written


def _variant_plots(
    run: VariantRun, baseline: VariantRun, comparison: pd.DataFrame, metrics: Sequence[str], out_dir: Path
) -> list[Path]:
    """The child's plots: its distributions against the paired baseline replications, its uplift."""
    from analysis.plots import write_variant_plots  # noqa: PLC0415 - matplotlib only when recording

    ordered = run.ordered()
    results = {run.name: ordered}
    if run is not baseline and baseline.error is None:
        paired = [baseline.results[r.replication] for r in ordered if r.replication in baseline.results]
        if paired:
            results = {baseline.name: paired, run.name: ordered}
    return write_variant_plots(
        results, comparison, variant=run.name, baseline=baseline.name, metrics=metrics, out_dir=out_dir
    )


def parent_metrics(
    comparison: pd.DataFrame, metrics: Sequence[str], objective: str, best: str | None
) -> dict[str, float]:
    """The parent's metrics: the change vs the baseline in % (95% CI) of every variant on the objective.

    With at most three variants, of every headline metric too; ``best`` (the clearly best
    variant, or None) also under ``best/`` when there is more than one to choose from.
    Names: ``<variant>/<short>_vs_base_pct[_lower|_upper]``.
    The child runs hold everything else; the parent keeps what a comparison is read by.
    """
    out: dict[str, float] = {}
    if comparison.empty:
        return out
    few = len(comparison["variant"].unique()) <= 3
    single = len(comparison["variant"].unique()) == 1
    ordered = list(dict.fromkeys([objective, *metrics]))
    rows = comparison[comparison["metric"].isin(ordered)].copy()
    rows["_order"] = rows["metric"].map({m: i for i, m in enumerate(ordered)})
    for row in rows.sort_values("_order", kind="stable").to_dict("records"):
        for column, suffix in (("uplift", ""), ("uplift_ci_low", "_lower"), ("uplift_ci_high", "_upper")):
            name = f"{short_name(row['metric'])}_vs_base_pct{suffix}"
            value = significant(float(row[column]) * 100)
            if row["metric"] == objective or few:
                out[f"{metric_key(row['variant'])}/{name}"] = value
            if row["variant"] == best and not single:  # with one variant best/ would only repeat it
                out[f"best/{name}"] = value
    return out


def runs_view(metrics: Sequence[str]) -> dict[str, Any]:
    """A runs-table view state for MLflow's UI: the headline columns, newest runs first.

    First what a reader compares at a glance: the objective's mean and its change vs the
    baseline in %, then every other headline metric's mean side by side; then the objective's
    95% intervals and the other metrics' changes. Each column is wide enough for its name.
    Rows stay nested under their parent run (sorting on a metric would mix the variants of
    every invocation).
    """
    objective, *others = metrics

    def key(metric: str, field: str = "") -> str:
        return f"metrics.`{kpi_key(metric, field)}`"

    columns = [key(objective), key(objective, "vs_base_pct"), *(key(m) for m in others)]
    columns += [key(objective, f) for f in ("lower", "upper", "vs_base_pct_lower", "vs_base_pct_upper")]
    columns += [key(m, "vs_base_pct") for m in others]
    return columns_view(list(dict.fromkeys(columns)))


def columns_view(columns: Sequence[str]) -> dict[str, Any]:
    """A runs-table view state showing ``columns`` (``metrics.`name``` or ``params.`name```), newest first."""
    return {
        "orderByKey": "attributes.start_time",
        "orderByAsc": False,
        "selectedColumns": list(columns),
        "columnOrder": list(columns),
        # about 7 px per character in the header font, plus the cell's padding
        "columnWidths": {c: min(40 + 7 * (len(c) - len("metrics.``")), 260) for c in columns},
    }


def runs_view_tags(metrics: Sequence[str]) -> dict[str, str]:
    """The experiment tag that stores :func:`runs_view` for MLflow's UI (set it on the experiment)."""
    return view_tags(runs_view(metrics))


def view_tags(view: dict[str, Any]) -> dict[str, str]:
    """The experiment tag that stores a runs-table ``view`` under the key :func:`runs_view_url` opens."""
    return {SHARED_VIEW_TAG_PREFIX + VIEW_KEY: json.dumps(view, separators=(",", ":"))}


def runs_view_url(base: str, experiment_id: str) -> str:
    """The runs page of an experiment in the model-training view with the headline columns.

    MLflow 3.17 picks the GenAI or model-training sidebar from the ``workflowType`` query (or the
    browser's last choice), not from the experiment's kind tag; the share key selects the view.
    """
    return (
        f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs"
        f"?viewStateShareKey={VIEW_KEY}&workflowType=machine_learning"
    )
