"""What an experiment leaves in its output directory: tables, JSON, configs and plots.

Every file is written to a temporary name and renamed, so a crash never leaves a truncated
one. The same files go to the parent MLflow run as artifacts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import OmegaConf

from salesboost.metrics import METRIC_NAMES

if TYPE_CHECKING:
    from analysis.selection import Selection
    from experiments.app import Plan
    from experiments.scheduler import SweepOutcome

#: Variants drawn individually in the distribution, funnel and uplift plots: one colour each
#: (``analysis.plots._COLOURS``), so a study of named variants is drawn whole.
MAX_PLOTTED_VARIANTS = 8
#: The panel of all variants goes to the output directory (and so the parent run) up to this many rows.
MAX_PANEL_ROWS = 1_000_000


def plotted_variants(plan: Plan, summary: pd.DataFrame, selection: Selection) -> list[str]:
    """The variants drawn one by one: all of them if few, else the baseline, the best and the top few."""
    names = [v.name for v in plan.variants if v.name in set(summary["variant"])]
    if len(names) <= MAX_PLOTTED_VARIANTS:
        return names
    report = plan.experiment.report
    ranked = summary[summary["metric"] == report.objective].sort_values("mean", ascending=not report.maximize)
    keep = [names[0], *([selection.variant] if selection.variant else [])]
    for name in ranked["variant"]:
        if len(keep) >= MAX_PLOTTED_VARIANTS:
            break
        if name not in keep:
            keep.append(name)
    return [n for n in names if n in keep]


def write_outputs(
    plan: Plan,
    outcome: SweepOutcome,
    *,
    table: pd.DataFrame,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    selection: Selection,
    sensitivity: pd.DataFrame | None,
    output_dir: Path,
) -> dict[str, Path]:
    """Write tables, configs and plots to ``output_dir``; return them by their relative names."""
    from analysis.plots import write_report_plots  # noqa: PLC0415 - matplotlib only when writing
    from analysis.sweep import write_sweep_plots  # noqa: PLC0415
    from experiments.recording import safe_name  # noqa: PLC0415

    experiment = plan.experiment
    texts = {
        "config.yaml": plan.config_yaml,
        "summary.csv": summary.to_csv(index=False),
        "comparison.csv": comparison.to_csv(index=False),
        "replications.csv": table.to_csv(index=False),
        "summary.json": json.dumps(
            _finite_or_none(_summary_json(plan, outcome, summary, comparison, selection)), indent=2
        ),
    }
    if sensitivity is not None:
        texts["sensitivity.csv"] = sensitivity.to_csv(index=False)
    for variant in plan.variants:
        texts[f"variants/{safe_name(variant.name)}.yaml"] = OmegaConf.to_yaml(OmegaConf.create(variant.config))
    written = {}
    for name, text in texts.items():
        written[name] = _atomic_write(output_dir / name, _text_writer(text))
    written["replications.parquet"] = _atomic_write(
        output_dir / "replications.parquet", lambda path: table.to_parquet(path, index=False)
    )
    plotted = plotted_variants(plan, summary, selection)
    subset = {n: outcome.runs[n].ordered() for n in plotted}
    plots = write_report_plots(
        subset,
        table[table["variant"].isin(plotted)],
        comparison[comparison["variant"].isin(plotted)] if not comparison.empty else comparison,
        baseline=plan.variants[0].name,
        metrics=experiment.report.metrics,
        out_dir=output_dir / "plots",
    )
    params = pd.DataFrame.from_dict(plan.grid, orient="index") if plan.grid else pd.DataFrame()
    tradeoff = experiment.report.tradeoff
    plots += write_sweep_plots(
        summary,
        comparison,
        params,
        metrics=experiment.report.metrics,
        tradeoff=(tradeoff.x, tradeoff.y) if tradeoff else None,
        tradeoff_better=(tradeoff.x_better, tradeoff.y_better) if tradeoff else (-1, 1),
        selection=selection,
        baseline=plan.variants[0].name,
        sensitivity=sensitivity,
        out_dir=output_dir / "plots",
    )
    written.update({f"plots/{p.name}": p for p in plots})
    written.update(_write_panel(plan, outcome, plotted, output_dir))
    return written


def _write_panel(plan: Plan, outcome: SweepOutcome, plotted: list[str], output_dir: Path) -> dict[str, Path]:
    """The monthly panel: per variant its Parquet files, all variants' if small, the monthly series and plot.

    Nothing when no run carries a panel.
    """
    from analysis.panel import monthly_summary, panel_frame, write_parquet  # noqa: PLC0415 - pyarrow, matplotlib
    from analysis.plots import write_monthly_plot  # noqa: PLC0415
    from experiments.recording import PANEL_FILES, safe_name, write_panel_files  # noqa: PLC0415

    written: dict[str, Path] = {}
    runs = {v.name: outcome.runs[v.name].ordered() for v in plan.variants if outcome.runs[v.name].results}
    for name, results in runs.items():
        folder = f"variants/{safe_name(name)}"
        for path in write_panel_files(results, output_dir / folder):
            written[f"{folder}/{path.name}"] = path
    frames = {table: {n: panel_frame(r, table, variant=n) for n, r in runs.items()} for table in PANEL_FILES}
    pipeline, workers = frames["pipeline"], frames["workers"]
    if not any(not f.empty for f in pipeline.values()):
        return written
    for table, name in PANEL_FILES.items():
        parts = [f for f in frames[table].values() if not f.empty]
        if parts and sum(len(f) for f in parts) <= MAX_PANEL_ROWS:
            written[name] = write_parquet(pd.concat(parts, ignore_index=True), output_dir / name)
    summary = monthly_summary(pipeline, workers)
    written["monthly.csv"] = _atomic_write(output_dir / "monthly.csv", _text_writer(summary.to_csv(index=False)))
    scenario = plan.variants[0].scenario
    horizon = scenario.horizon
    plot = write_monthly_plot(
        summary[summary["variant"].isin(plotted)],
        output_dir / "plots" / "monthly.png",
        baseline=plan.variants[0].name,
        start=scenario.calendar.start(),
        warmup_days=horizon.warmup_days,
        horizon_days=horizon.days,
        end_days=horizon.days + horizon.drain_days,
    )
    if plot is not None:
        written["plots/monthly.png"] = plot
    if any(v.scenario.outreach.strategy != "off" for v in plan.variants):
        written.update(_write_tiers(plan, frames, output_dir, plotted))
    if any(v.scenario.incentive.active for v in plan.variants):
        written.update(_write_incentives(plan, outcome, frames, output_dir, plotted))
    return written


#: KPIs of the incentive study's profile plot (change against the baseline scheme).
PROFILE_METRICS = (
    "revenue",
    "net_profit",
    "new_customers",
    "repurchase_rate",
    "followup_timeliness",
    "rep_complaint_rate",
    "payout_cost",
    "quota_attainment_share",
    "rep_attrition",
)


def _write_incentives(
    plan: Plan,
    outcome: SweepOutcome,
    frames: dict[str, dict[str, pd.DataFrame]],
    output_dir: Path,
    plotted: list[str],
) -> dict[str, Path]:
    """A study of incentive schemes: attainment, payouts and effort by kind per scheme, and their plots."""
    from analysis.incentives import (  # noqa: PLC0415
        attainment_distribution,
        effort_by_kind,
        payout_summary,
        plot_attainment_distribution,
        plot_effort_by_kind,
        plot_kpi_profile,
    )

    schemes = [v.name for v in plan.variants if v.scenario.incentive.active]
    window = measured_window(plan)
    reps, workers = _stacked(frames, "reps", schemes), _stacked(frames, "workers", schemes)
    written: dict[str, Path] = {}
    if reps.empty:
        return written
    tables = (
        ("attainment_by_variant.csv", attainment_distribution(reps, window)),
        ("payouts_by_variant.csv", payout_summary(reps, window)),
        ("effort_by_kind.csv", effort_by_kind(workers)),
    )
    for name, frame in tables:
        if not frame.empty:
            written[name] = _atomic_write(output_dir / name, _text_writer(frame.to_csv(index=False)))
    shown = [v for v in plotted if v in schemes]
    written["plots/attainment.png"] = plot_attainment_distribution(
        reps[reps["variant"].isin(shown)], output_dir / "plots" / "attainment.png"
    )
    written["plots/effort_by_kind.png"] = plot_effort_by_kind(
        workers[workers["variant"].isin(shown)], output_dir / "plots" / "effort_by_kind.png"
    )
    baseline = plan.variants[0].name
    means = {
        v.name: {
            m: _mean([r.metrics.get(m, math.nan) for r in outcome.runs[v.name].ordered()]) for m in PROFILE_METRICS
        }
        for v in plan.variants
        if outcome.runs[v.name].results
    }
    if baseline in means:
        base = means[baseline]
        profile = pd.DataFrame(
            {
                v: {m: (x[m] - base[m]) / abs(base[m]) if base[m] else math.nan for m in PROFILE_METRICS}
                for v, x in means.items()
                if v != baseline and v in shown
            }
        ).T
        if not profile.empty:
            written["plots/kpi_profile.png"] = plot_kpi_profile(
                profile, output_dir / "plots" / "kpi_profile.png", baseline=baseline
            )
    return written


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _write_tiers(
    plan: Plan, frames: dict[str, dict[str, pd.DataFrame]], output_dir: Path, plotted: list[str]
) -> dict[str, Path]:
    """A study with outreach: per variant and tier, the window's accounts, touches and orders; tier plots."""
    from analysis.outreach import (  # noqa: PLC0415
        channel_breakdown,
        replications_of,
        tier_breakdown,
        write_tier_share_plot,
        write_transition_plot,
    )

    window = measured_window(plan)
    tiers, transitions = _stacked(frames, "tiers"), _stacked(frames, "tier_transitions")
    outreach, pipeline = _stacked(frames, "outreach"), _stacked(frames, "pipeline")
    breakdown = tier_breakdown(tiers, outreach, pipeline, window=window)
    written: dict[str, Path] = {}
    runs = replications_of(pipeline) if not pipeline.empty else None
    channels = channel_breakdown(outreach, window=window, runs=runs)
    for name, frame in (("tiers_by_variant.csv", breakdown), ("channels_by_variant.csv", channels)):
        if not frame.empty:
            written[name] = _atomic_write(output_dir / name, _text_writer(frame.to_csv(index=False)))
    shown = [v for v in plotted if v in frames["tiers"]]
    for name, write, data in (
        ("plots/tier_transitions.png", write_transition_plot, transitions),
        ("plots/tier_shares.png", write_tier_share_plot, tiers),
    ):
        if not data.empty:
            path = write(data, shown, output_dir / name)
            if path is not None:
                written[name] = path
    return written


def _stacked(frames: dict[str, dict[str, pd.DataFrame]], table: str, names: list[str] | None = None) -> pd.DataFrame:
    """``table``'s frames of the variants ``names`` (None: all) stacked, or an empty frame."""
    parts = [f for n, f in frames[table].items() if (names is None or n in names) and not f.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def measured_window(plan: Plan) -> tuple[str, str]:
    """The measured window's first and last-plus-one day, ISO dates (the panel's period_start filter)."""
    scenario = plan.variants[0].scenario
    start = scenario.calendar.start()
    horizon = scenario.horizon
    return (
        (start + dt.timedelta(days=horizon.warmup_days)).isoformat(),
        (start + dt.timedelta(days=horizon.days)).isoformat(),
    )


def _text_writer(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text)


def _atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    write(tmp)
    tmp.replace(path)
    return path


def _summary_json(
    plan: Plan, outcome: SweepOutcome, summary: pd.DataFrame, comparison: pd.DataFrame, selection: Selection
) -> dict[str, object]:
    from analysis.compare import COMPARISON_FIELDS, SUMMARY_FIELDS, nested  # noqa: PLC0415

    experiment = plan.experiment
    return {
        "experiment": experiment.name,
        "baseline": experiment.baseline,
        "seed": experiment.seed,
        "overrides": list(plan.overrides),
        "variants": {
            v.name: {
                "overrides": list(v.overrides),
                "grid": plan.grid.get(v.name, {}),
                "replications": len(outcome.runs[v.name].results),
                "from_store": outcome.runs[v.name].cached,
                "adaptive_reached": (d := outcome.runs[v.name].decision) and d.reached,
                "error": outcome.runs[v.name].error,
            }
            for v in plan.variants
        },
        # "variant" only when it is clearly the best; "top" is the best mean either way
        "best": {
            "variant": selection.best,
            "top": selection.variant,
            "clear": selection.clear,
            "tied": list(selection.tied),
            "explanation": selection.describe(),
        },
        "metrics": list(METRIC_NAMES),
        "summary": nested(summary, SUMMARY_FIELDS),
        "vs_baseline": nested(comparison, COMPARISON_FIELDS) if not comparison.empty else {},
    }


def _finite_or_none(value: object) -> object:
    """``value`` with NaN and infinities replaced by None (JSON has no NaN) and numpy scalars as Python."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
