"""The summary table printed at the end of a run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd


def fmt(value: float) -> str:
    """A number with about three significant digits; thousands get separators."""
    if not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def pct(value: float) -> str:
    """A relative change in percent with a sign."""
    return "n/a" if not math.isfinite(value) else f"{value * 100:+.1f}%"


def summary_lines(
    summary: pd.DataFrame, comparison: pd.DataFrame, *, baseline: str, metrics: Sequence[str], confidence: float = 0.95
) -> list[str]:
    """Rows per metric: each variant's mean [CI], then each variant's change against the baseline."""
    variants = list(dict.fromkeys(summary["variant"]))
    others = [v for v in variants if v != baseline]
    s = summary.set_index(["variant", "metric"])
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    header = ["metric", *variants, *(f"{v} vs {baseline}" for v in others)]
    rows = [header]
    for metric in metrics:
        row = [metric]
        for variant in variants:
            r = s.loc[(variant, metric)]
            row.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
        for variant in others:
            if c is None or (variant, metric) not in c.index:
                row.append("")
                continue
            r = c.loc[(variant, metric)]
            row.append(f"{pct(r['uplift'])} [{pct(r['uplift_ci_low'])}, {pct(r['uplift_ci_high'])}]")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"mean [{confidence:.0%} CI] over replications; changes are paired by replication (common random numbers)"
    )
    return lines


def report_lines(
    plan: Any,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    selection: Any,
    outcome: Any,
    *,
    sensitivity: pd.DataFrame | None = None,
) -> list[str]:
    """The report printed at the end of a run and stored on the parent run."""
    experiment = plan.experiment
    runs = outcome.runs
    baseline = experiment.baseline
    sizes = sorted({len(r.results) for r in runs.values() if r.error is None})
    reps = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}" if sizes else "0"
    lines = [f"{experiment.name}: {len(runs)} variants x {reps} replications, baseline {baseline}"]
    ok = summary[summary["variant"].isin([n for n, r in runs.items() if r.error is None])]
    if len(runs) <= 3:
        lines += summary_lines(ok, comparison, baseline=baseline, metrics=experiment.report.metrics)
    else:
        lines += sweep_lines(plan, ok, comparison, selection)
    if experiment.adaptive.enabled:
        a = experiment.adaptive
        short = [n for n, r in runs.items() if r.decision is not None and not r.decision.reached]
        lines.append(
            f"adaptive: {a.metric} to a 95% half-width of {a.half_width:g}{' (relative)' if a.relative else ''}"
            f"{' vs the baseline' if a.versus_baseline else ''}, {a.min_replications}-{a.max_replications} "
            f"replications; {len(runs) - len(short)} of {len(runs)} variants reached it"
            + (f" (not: {', '.join(short)})" if short else "")
        )
    if selection is not None:
        lines.append(selection.describe())
    lines += stability_warnings(outcome, sensitivity)
    reused = sum(r.cached for r in runs.values())
    if reused:
        lines.append(f"{reused} replications were taken from the result store (earlier identical runs)")
    for run in outcome.failed:
        lines.append(f"FAILED {run.name}: {run.error}")
    return lines


def parent_note(
    plan: Any, summary: pd.DataFrame, comparison: pd.DataFrame, selection: Any, lines: Sequence[str]
) -> str:
    """The parent run's description (MLflow note, Markdown): the study, then the report."""
    return "\n".join([plan.experiment.description, "", "```", *lines, "```"])


def sweep_lines(plan: Any, summary: pd.DataFrame, comparison: pd.DataFrame, selection: Any) -> list[str]:
    """One row per variant: replications, then mean [CI] of the report's key metrics."""
    report = plan.experiment.report
    keys = [report.objective, *report.constraints]
    if report.tradeoff is not None:
        keys += [report.tradeoff.x, report.tradeoff.y]
    metrics = list(dict.fromkeys(keys))[:5]
    s = summary.set_index(["variant", "metric"])
    header = ["variant", "n", *metrics, f"{report.objective} vs baseline"]
    rows = [header]
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    for variant in dict.fromkeys(summary["variant"]):
        mark = " *" if selection is not None and variant == selection.variant else ""
        row = [variant + mark, f"{int(s.loc[(variant, metrics[0]), 'n'])}"]
        for metric in metrics:
            r = s.loc[(variant, metric)]
            row.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
        if c is not None and (variant, report.objective) in c.index:
            r = c.loc[(variant, report.objective)]
            row.append(f"{pct(r['uplift'])} [{pct(r['uplift_ci_low'])}, {pct(r['uplift_ci_high'])}]")
        else:
            row.append("")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("mean [95% CI] over replications; * best under the constraints; changes paired by replication")
    return lines


#: A run that leaves more of its cohort than this open at the end did not reach a steady state.
UNSTABLE_IN_FLIGHT_SHARE = 0.01


def stability_warnings(outcome: Any, sensitivity: pd.DataFrame | None) -> list[str]:
    """Warnings for variants (and sensitivity levels) whose queues did not keep up."""
    lines = []
    for run in outcome.runs.values():
        results = run.ordered() if run.error is None else []
        leads = sum(r.metrics.get("leads", 0.0) for r in results)
        open_ = sum(r.metrics.get("in_flight", 0.0) for r in results)
        if leads and open_ / leads > UNSTABLE_IN_FLIGHT_SHARE:
            lines.append(
                f"WARNING {run.name}: {open_ / leads:.1%} of cohort leads are still open at the end; a queue "
                "(e.g. the approval window) cannot keep up, so the figures depend on the run length"
            )
    if sensitivity is not None and not sensitivity.empty:
        shares = sensitivity[sensitivity["metric"].isin(["in_flight_share", "baseline_in_flight_share"])]
        flagged = shares[shares["mean"] > UNSTABLE_IN_FLIGHT_SHARE]
        lines.extend(
            f"WARNING sensitivity {row['parameter']}={row['value']:g}: "
            f"{'the baseline' if row['metric'].startswith('baseline') else row['variant']} leaves {row['mean']:.1%} "
            "of its cohort open (not a steady state); read that end of the tornado bar with care"
            for row in flagged.to_dict("records")
        )
    return lines
