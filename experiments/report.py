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
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    baseline: str,
    metrics: Sequence[str],
    confidence: float = 0.95,
    calibrated: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    """Rows per metric: each variant's mean [CI], then each variant's change against the baseline.

    A ``(variant, metric)`` in ``calibrated`` is marked with a dagger: the model's inputs were set
    so that it matches an observed figure, so it is an input, not a prediction.
    """
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
            mark = " \u2020" if (variant, metric) in calibrated else ""
            row.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]{mark}")
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
    if calibrated:
        lines.append(
            "\u2020 calibrated: inputs set so the model reproduces an observed figure (docs/calibration.md);"
            " every other figure is a prediction of the modelled mechanisms"
        )
    return lines


def decomposition_lines(decomposition: dict[str, pd.DataFrame], *, baseline: str, together: str) -> list[str]:
    """Where the change of ``together`` against ``baseline`` comes from: each part alone, all, interaction."""
    if not decomposition:
        return []
    metrics = list(decomposition)
    header = ["change vs " + baseline, *metrics]
    terms = list(decomposition[metrics[0]]["term"])
    rows = [header]
    for term in terms:
        label = together if term == "together" else term
        row = [label]
        for metric in metrics:
            r = decomposition[metric].set_index("term").loc[term]
            share = f" ({r['share']:.0%})" if math.isfinite(r["share"]) and term not in ("together",) else ""
            row.append(f"{fmt(r['diff'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]{share}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["", f"Where the change comes from ({together} = all parts; each part alone on {baseline}):"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(3, "  ".join("-" * w for w in widths))
    lines.append(
        "mean change [95% CI], paired by replication; (share of the combined change); interaction = what the"
        " parts add only in combination"
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
    decomposition: dict[str, pd.DataFrame] | None = None,
    calibrated: frozenset[tuple[str, str]] = frozenset(),
    groups: Sequence[Any] = (),
) -> list[str]:
    """The report printed at the end of a run and stored on the parent run (``groups``: GroupResult list)."""
    experiment = plan.experiment
    runs = outcome.runs
    baseline = experiment.baseline
    sizes = sorted({len(r.results) for r in runs.values() if r.error is None})
    reps = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}" if sizes else "0"
    lines = [f"{experiment.name}: {len(runs)} variants x {reps} replications, baseline {baseline}"]
    ok = summary[summary["variant"].isin([n for n, r in runs.items() if r.error is None])]
    parts = experiment.report.decomposition
    if parts is not None and not decomposition:
        absent = [v for v in [parts.together, *parts.parts] if v not in runs]
        lines.append(f"(decomposition skipped: variant(s) {', '.join(absent) or 'failed'} not in this study)")
    if parts is not None and decomposition:
        pair = ok[ok["variant"].isin([baseline, parts.together])]
        lines += summary_lines(
            pair, comparison, baseline=baseline, metrics=experiment.report.metrics, calibrated=calibrated
        )
        lines += decomposition_lines(decomposition, baseline=baseline, together=parts.together)
        lines += ["", *sweep_lines(plan, ok, comparison, selection)]
    elif len(runs) <= 3:
        lines += summary_lines(
            ok, comparison, baseline=baseline, metrics=experiment.report.metrics, calibrated=calibrated
        )
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
    lines += group_lines(groups)
    lines += stability_warnings(outcome, sensitivity)
    reused = sum(r.cached for r in runs.values())
    if reused:
        lines.append(f"{reused} replications were taken from the result store (earlier identical runs)")
    for run in outcome.failed:
        lines.append(f"FAILED {run.name}: {run.error}")
    return lines


def group_lines(groups: Sequence[Any]) -> list[str]:
    """Per group (analysis.groups.GroupResult): the best member, its paired lead over the others, who failed."""
    lines = []
    for group in groups:
        sel = group.selection
        if sel.variant is None:
            lines.append(f"Within {group.name}: {sel.describe()}")
            continue
        goal = "highest" if sel.maximize else "lowest"
        low, high = sel.estimate[1:] if sel.estimate else (math.nan, math.nan)
        text = (
            f"Within {group.name}: {sel.variant} has the {goal} {sel.objective}, "
            f"{fmt(sel.estimate[0] if sel.estimate else math.nan)} [{fmt(low)}, {fmt(high)}]"
        )
        if group.leads:
            leads = ", ".join(
                f"{other} by {fmt(est.value)} [{fmt(est.ci_low)}, {fmt(est.ci_high)}]"
                for other, est in group.leads.items()
            )
            verdict = "clearly ahead" if group.clear else "not clearly ahead of all (a paired interval reaches 0)"
            text += f"; paired by replication it leads {leads} (95% CI): {verdict}"
        if sel.rejected:
            text += "; not qualifying: " + "; ".join(f"{v} ({why})" for v, why in sel.rejected.items())
        lines.append(text + ".")
    if groups:
        lines.append(
            "(Within a group the leads are paired by replication; the overall choice compares unpaired"
            " intervals of the means, a conservative reading that can see no clear difference where every pair agrees.)"
        )
    return lines


def parent_note(
    plan: Any,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    selection: Any,
    lines: Sequence[str],
    *,
    groups: Sequence[Any] = (),
) -> str:
    """The parent run's description (MLflow note, Markdown), readable before MLflow's "Show more".

    First the decision in one line and a compact table of the headline KPIs against the
    baseline (the first lines are what MLflow shows folded); then the study's description
    and the full report.
    """
    experiment = plan.experiment
    report = experiment.report
    baseline = experiment.baseline
    metrics = list(dict.fromkeys([report.objective, *report.metrics]))
    head = [decision_line(selection, comparison, baseline=baseline), ""]
    for group in groups:  # the best within each group (analysis.groups.GroupResult), paired
        winner = group.selection.variant
        if winner is not None:
            verdict = "clearly ahead of the others, paired by replication" if group.clear else "not clearly ahead"
            head += [f"Within {group.name}: **{winner}**, {verdict}.", ""]
    variants = [v for v in dict.fromkeys(summary["variant"]) if v != baseline]
    if report.decomposition is not None and report.decomposition.together in variants:
        head += kpi_table(
            summary, comparison, baseline=baseline, variants=[report.decomposition.together], metrics=metrics
        )
    elif len(variants) <= 2:
        head += kpi_table(summary, comparison, baseline=baseline, variants=variants, metrics=metrics)
    else:
        head += ranking_table(summary, comparison, selection, baseline=baseline, objective=report.objective)
    return "\n".join([*head, "", experiment.description, "", "```", *lines, "```"])


def decision_line(selection: Any, comparison: pd.DataFrame, *, baseline: str) -> str:
    """One Markdown line: the clearly best variant and its change on the objective, or that there is none."""
    if selection is None or selection.variant is None:
        return "**No variant qualifies.** " + (selection.describe() if selection is not None else "")
    objective = selection.objective
    if not selection.clear:
        tied = len(selection.tied) + 1
        return f"**No clear difference in {objective}** among the top {tied} variants (95% intervals overlap)."
    change = ""
    if not comparison.empty:
        rows = comparison[(comparison["variant"] == selection.variant) & (comparison["metric"] == objective)]
        if not rows.empty:
            r = rows.iloc[0]
            change = f" {pct(r['uplift'])} [{pct(r['uplift_ci_low'])}, {pct(r['uplift_ci_high'])}] vs {baseline}"
    goal = "highest" if selection.maximize else "lowest"
    rule = " under the constraints" if selection.constraints else ""
    return f"**Best: {selection.variant}** ({goal} {objective}{rule}):{change or ' the baseline itself'}"


def kpi_table(
    summary: pd.DataFrame, comparison: pd.DataFrame, *, baseline: str, variants: Sequence[str], metrics: Sequence[str]
) -> list[str]:
    """A Markdown table: per headline metric the baseline's and each variant's mean, and the change in %."""
    s = summary.set_index(["variant", "metric"])
    c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
    header = ["KPI (mean)", baseline, *variants, *(f"{v} vs {baseline} (95% CI)" for v in variants)]
    rows = ["| " + " | ".join(header) + " |", "|:--" + "|--:" * (len(header) - 1) + "|"]
    for metric in metrics:
        cells = [metric]
        cells += [
            fmt(float(s.loc[(v, metric), "mean"])) if (v, metric) in s.index else "" for v in [baseline, *variants]
        ]
        for variant in variants:
            if c is None or (variant, metric) not in c.index:
                cells.append("")
                continue
            r = c.loc[(variant, metric)]
            cells.append(f"{pct(r['uplift'])} [{pct(r['uplift_ci_low'])}, {pct(r['uplift_ci_high'])}]")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


#: Rows of the ranking table in the parent's note (the rest are in the report below it).
NOTE_RANKED = 5


def ranking_table(
    summary: pd.DataFrame, comparison: pd.DataFrame, selection: Any, *, baseline: str, objective: str
) -> list[str]:
    """A Markdown table of the top variants on the objective (feasible first): mean [CI] and change in %."""
    s = summary[summary["metric"] == objective].set_index("variant")
    feasible = list(selection.feasible) if selection is not None else []
    maximize = selection.maximize if selection is not None else True
    rest = s.drop(index=[v for v in feasible if v in s.index]).sort_values("mean", ascending=not maximize)
    order = [*feasible, *rest.index][:NOTE_RANKED]
    c = comparison[comparison["metric"] == objective].set_index("variant") if not comparison.empty else None
    qualifies = "meets the constraints" if selection is not None and selection.constraints else None
    header = ["variant", f"{objective} (95% CI)", f"vs {baseline}", *([qualifies] if qualifies else [])]
    rows = ["| " + " | ".join(header) + " |", "|:--" + "|--:" * (len(header) - 1) + "|"]
    for variant in order:
        r = s.loc[variant]
        cells = [str(variant), f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"]
        if c is not None and variant in c.index:
            u = c.loc[variant]
            cells.append(f"{pct(u['uplift'])} [{pct(u['uplift_ci_low'])}, {pct(u['uplift_ci_high'])}]")
        else:
            cells.append("baseline" if variant == baseline else "")
        if qualifies:
            cells.append("yes" if variant in feasible else "no")
        rows.append("| " + " | ".join(cells) + " |")
    if len(s) > len(order):
        rows.append(f"| ... {len(s) - len(order)} more below | | |" + (" |" if qualifies else ""))
    return rows


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
        mark = " *" if selection is not None and variant == selection.best else ""
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
    lines.append(f"mean [95% CI] over replications;{star_legend(selection)} changes paired by replication")
    return lines


def star_legend(selection: Any) -> str:
    """What the sweep table's star means, or nothing when no variant is starred."""
    if selection is None or selection.best is None:
        return ""
    rule = " under the constraints" if selection.constraints else ""
    return f" * best{rule} (its 95% interval clear of the others');"


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
