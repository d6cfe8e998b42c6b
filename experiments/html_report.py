"""``report.html``: one self-contained page per invocation that a strategy team reads.

The page answers, in order: what the study asks, what it found (the decision), which
variants it compared and how they differ, the headline figures with their 95% intervals,
the plots, and what to keep in mind (calibrated figures, steady state, sensitivity). No
external scripts, styles or fonts; plots are embedded as data URIs, so the file opens
anywhere, including MLflow's artifact viewer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from experiments.caveats import (
    CALIBRATION_SOURCE,
    CALIBRATIONS,
    DOCUMENTED_HORIZON_DAYS,
    Calibration,
    calibration_of,
    sensitivity_metric,
    sign_changes,
    swings,
)
from experiments.html_parts import IMAGE_TYPES, Cell, breakable, code, esc, figure, page, table, with_sub
from experiments.outputs import plotted_variants
from experiments.report import UNSTABLE_IN_FLIGHT_SHARE, fmt, pct, stability_warnings
from experiments.variants import override_value
from salesboost.metrics import METRIC_BY_NAME

if TYPE_CHECKING:
    import pandas as pd

    from analysis.groups import GroupResult
    from analysis.selection import Selection
    from experiments.app import Plan
    from experiments.scheduler import SweepOutcome

#: Up to this many variants the headline table has one row per metric; above, one per variant.
MAX_COLUMN_VARIANTS = 4
#: Metrics shown in the per-variant table of a sweep.
MAX_SWEEP_METRICS = 5
#: Overrides that say where things run or are stored, not what is simulated.
_PLUMBING = ("tracking.", "ray.", "hydra.", "experiment.cache", "experiment.event_log")


def write_report_html(
    plan: Plan,
    outcome: SweepOutcome,
    *,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    selection: Selection,
    sensitivity: pd.DataFrame | None,
    lines: Sequence[str],
    written: Mapping[str, Path],
    output_dir: Path,
    decomposition: Mapping[str, pd.DataFrame] | None = None,
    groups: Sequence[GroupResult] = (),
    sections: Sequence[str] = (),
) -> Path:
    """Write ``output_dir/report.html``; return its path. ``written`` are the output files by relative name.

    ``decomposition`` (metric -> :func:`analysis.attribution.decompose` table) adds where the
    combined change comes from.

    ``lines`` is the plain-text report printed at the end of the run; its failure lines are
    repeated on the page. The file is written under a temporary name and renamed.
    """
    report = _Report(
        plan,
        outcome,
        summary=summary,
        comparison=comparison,
        selection=selection,
        sensitivity=sensitivity,
        written=written,
        decomposition=decomposition or {},
        groups=groups,
    )
    report.studies = list(sections)
    path = output_dir / "report.html"
    tmp = path.with_name(".report.html.part")
    tmp.write_text(page(plan.experiment.name, report.body(lines)), encoding="utf-8")
    tmp.replace(path)
    return path


class _Report:
    """The sections of the page, built from one invocation's tables."""

    def __init__(
        self,
        plan: Plan,
        outcome: SweepOutcome,
        *,
        summary: pd.DataFrame,
        comparison: pd.DataFrame,
        selection: Selection,
        sensitivity: pd.DataFrame | None,
        written: Mapping[str, Path],
        decomposition: Mapping[str, pd.DataFrame] | None = None,
        groups: Sequence[GroupResult] = (),
    ) -> None:
        self.plan = plan
        self.studies: list[str] = []  # the studies' own sections (experiments/studies.py)
        self.groups = list(groups)
        self.decomposition = decomposition or {}
        self.experiment = plan.experiment
        self.outcome = outcome
        self.baseline = plan.variants[0].name
        self.selection = selection
        self.sensitivity = sensitivity
        self.written = written
        self.ok = [v for v in plan.variants if v.name in set(summary["variant"])]
        self.s = summary.set_index(["variant", "metric"]) if not summary.empty else None
        self.c = comparison.set_index(["variant", "metric"]) if not comparison.empty else None
        self.configs = {v.name: v.config for v in plan.variants}
        # A variant is shown as chosen only when its interval separates from the others'.
        self.chosen = selection.best
        self.tied = [selection.variant, *selection.tied] if selection.variant and not selection.clear else []

    # --- the page ---------------------------------------------------------------------------

    def body(self, lines: Sequence[str]) -> str:
        """Every section, in reading order."""
        return "\n".join(
            [
                self.header(),
                self.question(),
                self.decision(lines),
                self.within_groups(),
                self.variants(),
                self.headline(),
                *self.studies,
                self.sources(),
                self.plots(),
                self.caveats(),
                self.footer(),
            ]
        )

    def header(self) -> str:
        """Title, the study's description and what was run."""
        e = self.experiment
        sizes = sorted({len(r.results) for r in self.outcome.runs.values() if r.error is None})
        reps = "0" if not sizes else str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lead = f"<p class='lead'>{esc(e.description)}</p>" if e.description.strip() else ""
        meta = " &middot; ".join(
            esc(t) for t in (f"{len(self.outcome.runs)} variants x {reps} replications", f"root seed {e.seed}", when)
        )
        return f"<header><h1>{esc(e.name)}</h1>{lead}<p class='meta'>{meta}</p></header>"

    def question(self) -> str:
        """What the study asks: objective, constraints, baseline and the settings of the run."""
        r = self.experiment.report
        goal = f"Which variant gives the {'highest' if r.maximize else 'lowest'} {code(r.objective)}"
        if r.constraints:
            goal += " while " + " and ".join(self._constraint_text(m, b.min, b.max) for m, b in r.constraints.items())
        goal += f"? Every variant is compared with the baseline <strong>{esc(self.baseline)}</strong>."
        facts = [
            ("Objective", f"{'maximise' if r.maximize else 'minimise'} {code(r.objective)}{_describe(r.objective)}"),
        ]
        if r.constraints:
            facts.append(
                (
                    "Constraints",
                    "; ".join(self._constraint_text(m, b.min, b.max) for m, b in r.constraints.items())
                    + " — a variant qualifies only if the whole 95% interval meets the bound",
                )
            )
        facts.append(("Replications", esc(self._replications_text())))
        horizon = self.configs[self.baseline].get("horizon", {})
        if horizon:
            facts.append(
                (
                    "Run length",
                    esc(
                        f"leads arriving from day {horizon.get('warmup_days', 0):g} to day {horizon.get('days', 0):g} "
                        f"are measured; the run goes on {horizon.get('drain_days', 0):g} more days so they can close"
                    ),
                )
            )
        given = [o.lstrip("+~") for o in self.plan.overrides]
        shared = [o for o in given if not o.startswith(("experiment", *_PLUMBING))]
        study = [o for o in given if o.startswith("experiment") and not o.startswith(_PLUMBING)]
        if shared:
            facts.append(("Set for every variant", " ".join(code(o) for o in shared)))
        if study:
            facts.append(("Study settings given", " ".join(code(o) for o in study)))
        facts.append(("Intervals", "95% confidence intervals over replications; changes are paired by replication"))
        items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
        return f"<section><h2>The question</h2><p>{goal}</p><dl class='facts'>{items}</dl></section>"

    def decision(self, lines: Sequence[str]) -> str:
        """The answer: the selection's own words, the objective's change and why others were rejected."""
        sel = self.selection
        text = sel.describe()
        unclear = self.chosen is None
        parts = [f"<div class='answer{' unclear' if unclear else ''}'>{_bold_variant(text, sel.variant)}"]
        change = self._change(sel.variant, sel.objective) if sel.variant and sel.variant != self.baseline else None
        if change is not None:
            against = "Against" if self.chosen else f"The {'highest' if sel.maximize else 'lowest'} mean against"
            parts.append(
                f"<br>{against} {esc(self.baseline)}: {code(sel.objective)} {esc(pct(change['uplift']))} "
                f"[{esc(pct(change['uplift_ci_low']))}, {esc(pct(change['uplift_ci_high']))}] (95% CI)."
            )
        parts.append("</div>")
        if self.tied:
            rows = [
                [
                    Cell(breakable(v), "name"),
                    self._estimate_cell(v, sel.objective),
                    self._change_cell(v, sel.objective),
                ]
                for v in self.tied
            ]
            parts.append(
                f"<h3>No clear difference among these {len(self.tied)} variants</h3>"
                f"<p>Their 95% intervals of {code(sel.objective)} overlap, so the data do not rank them; "
                "more replications narrow the intervals, or choose among them on other grounds "
                "(cost, risk, ease of roll-out).</p>"
                + table(["variant", Cell(code(sel.objective), "num"), Cell(f"vs {esc(self.baseline)}", "num")], rows)
            )
        if sel.constraints and sel.rejected:
            rows = [[Cell(breakable(v), "name"), Cell(esc(why))] for v, why in sel.rejected.items()]
            parts.append(
                f"<h3>Variants that do not qualify ({len(sel.rejected)} of {len(sel.feasible) + len(sel.rejected)})"
                "</h3>" + table(["variant", "why"], rows)
            )
        if sel.constraints and len(sel.feasible) > 1:
            shown = ", ".join(esc(v) for v in sel.feasible[:8]) + (" …" if len(sel.feasible) > 8 else "")
            parts.append(f"<p>Qualifying, best first: {shown}.</p>")
        failed = [line for line in lines if line.startswith("FAILED ")]
        parts += [f"<div class='warning'>{esc(line)}</div>" for line in failed]
        return "<section><h2>The answer</h2>" + "".join(parts) + "</section>"

    def within_groups(self) -> str:
        """The best variant within each group of ``experiment.report.groups`` and its paired lead."""
        if not self.groups:
            return ""
        rows: list[list[Cell | str]] = []
        for group in self.groups:
            sel = group.selection
            leads = "; ".join(
                f"{esc(fmt(e.value))} [{esc(fmt(e.ci_low))}, {esc(fmt(e.ci_high))}] over {esc(other)}"
                for other, e in group.leads.items()
            )
            rejected = "; ".join(f"{esc(v)}: {esc(why)}" for v, why in sel.rejected.items())
            winner = esc(sel.variant or "none")
            if sel.variant is not None and not group.clear:
                winner += " (not clearly ahead)"
            rows.append(
                [
                    Cell(esc(group.name), "name"),
                    Cell(winner, "name"),
                    self._estimate_cell(sel.variant, sel.objective) if sel.variant else Cell(""),
                    Cell(leads or "-"),
                    Cell(rejected or "-"),
                ]
            )
        header: list[Cell | str] = [
            "group",
            "best",
            Cell(code(self.selection.objective), "num"),
            "paired lead (95% CI)",
            "not qualifying",
        ]
        note = (
            "Within each group the variant with the best mean among those whose intervals meet the constraints; "
            "its lead over each other qualifying member is the paired difference by replication (the variants "
            "run on the same random numbers). It is clearly ahead when every paired interval is above zero, "
            "even where the unpaired intervals of the means overlap."
        )
        return f"<section><h2>Within each group</h2>{table(header, rows)}<p class='note'>{note}</p></section>"

    def variants(self) -> str:
        """Each variant's overrides and, for grid points, its parameter values."""
        keys = list(self.experiment.grid)
        header: list[Cell | str] = ["variant", "overrides"]
        header += [Cell(with_sub(esc(_short(k)), breakable(k, ".")), "num") for k in keys]
        header += [Cell("replications", "num"), "settings changed vs the baseline"]
        base = _flatten(self.configs[self.baseline])
        rows = []
        for v in self.plan.variants:
            run = self.outcome.runs.get(v.name)
            point = self.plan.grid.get(v.name, {})
            generated = {f"{k}={override_value(value)}" for k, value in point.items()}
            own = [o for o in v.overrides if o not in generated]
            overrides = " ".join(code(o) for o in own) or "<span class='sub'>none</span>"
            if point and self.experiment.grid_overrides:
                overrides += "<span class='sub'>plus the grid values</span>"
            differ = self._differences(base, _flatten(v.config)) if v.name != self.baseline else ""
            n = len(run.results) if run is not None else 0
            status = f"{n}" + (" (failed)" if run is not None and run.error else "")
            row: list[Cell | str] = [Cell(breakable(v.name) + self._tags(v.name), "name"), Cell(overrides)]
            row += [Cell(esc(_raw(point[k])) if k in point else "", "num") for k in keys]
            row += [Cell(esc(status), "num"), Cell(differ or "<span class='sub'>—</span>")]
            rows.append(row)
        return f"<section><h2>The variants ({len(rows)})</h2>{table(header, rows)}</section>"

    def headline(self) -> str:
        """The headline table: per metric (few variants) or per variant (sweeps), mean [95% CI] and change."""
        if self.s is None:
            return "<section><h2>Headline results</h2><p>No variant finished.</p></section>"
        body = self._by_metric() if len(self.ok) <= MAX_COLUMN_VARIANTS else self._by_variant()
        legend = (
            "Mean over replications, 95% confidence interval below it. Changes are relative to "
            f"{esc(self.baseline)} and paired by replication (common random numbers); "
            "<span class='good'>green</span>: the whole interval is an improvement, "
            "<span class='bad'>red</span>: the whole interval is a deterioration, black: no clear change. "
        )
        if self._calibrations():
            legend += (
                f" {_CALIBRATED_MARK} marks a calibrated figure, one the model was tuned to match "
                "(see the caveats): it reproduces an input, it does not test the plan."
            )
        return f"<section><h2>Headline results</h2>{body}<p class='note'>{legend}</p></section>"

    def sources(self) -> str:
        """Where the combined change comes from: each part on its own, all together, the interaction."""
        parts = self.experiment.report.decomposition
        if parts is None or not self.decomposition:
            return ""
        metrics = list(self.decomposition)
        frames = {m: f.set_index("term") for m, f in self.decomposition.items()}
        rows = []
        for term in frames[metrics[0]].index:
            label = parts.together if term == "together" else term
            row: list[Cell | str] = [
                Cell(f"<b>{esc(label)}</b>" if term in ("together", "interaction") else esc(label))
            ]
            for metric in metrics:
                r = frames[metric].loc[term]
                share = "" if term == "together" or not math.isfinite(r["share"]) else f" ({r['share']:.0%})"
                row.append(
                    Cell(
                        with_sub(esc(fmt(r["diff"]) + share), esc(f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")), "num"
                    )
                )
            rows.append(row)
        header: list[Cell | str] = [f"change vs {self.baseline}", *(Cell(breakable(m, "_"), "num") for m in metrics)]
        note = (
            f"Each part is {esc(self.baseline)} with only that change; <b>{esc(parts.together)}</b> has all of them. "
            "Mean change per replication with its 95% interval, paired with the baseline lead by lead; in brackets "
            "the share of the combined change. The interaction is what the parts add only in combination "
            "(for example rep time freed by one stage and used by another)."
        )
        return f"<section><h2>Where the change comes from</h2>{table(header, rows)}<p class='note'>{note}</p></section>"

    def plots(self) -> str:
        """Every plot the run wrote, grouped, except the sensitivity ones (shown with the caveats)."""
        groups: dict[str, list[str]] = {}
        for name in self._images():
            heading, _ = _plot_caption(name)
            if heading != _SENSITIVITY:
                groups.setdefault(heading, []).append(name)
        if not groups:
            return ""
        parts = ["<section><h2>Plots</h2>", self._plotted_note()]
        for heading in sorted(groups, key=_PLOT_ORDER.index):
            figures = "".join(self._figure(n) for n in groups[heading])
            parts.append(f"<h3>{esc(heading)}</h3><div class='plots'>{figures}</div>")
        return "".join(parts) + "</section>"

    def _plotted_note(self) -> str:
        """Which variants the per-variant plots leave out, if any (too many to tell apart)."""
        if self.s is None:
            return ""
        drawn = set(plotted_variants(self.plan, self.s.reset_index(), self.selection))
        left_out = [v.name for v in self.ok if v.name not in drawn]
        if not left_out:
            return ""
        objective = self.experiment.report.objective
        return (
            f"<p>The distribution, funnel and change plots draw {len(drawn)} of {len(self.ok)} variants (the"
            f" baseline, the chosen one and the next by {code(objective)}); left out: {esc(', '.join(left_out))}."
            " The tables above have every variant.</p>"
        )

    def caveats(self) -> str:
        """Calibrated figures versus predictions, steady-state warnings, the sensitivity, the sample."""
        parts = ["<section><h2>Caveats</h2>", self._calibration_text()]
        warnings = stability_warnings(self.outcome, self.sensitivity)
        parts.append("<h3>Steady state</h3>")
        if warnings:
            parts += [f"<div class='warning'>{esc(w.removeprefix('WARNING '))}</div>" for w in warnings]
        else:
            parts.append(
                "<p>Every variant closed all but at most 1% of its measured leads by the end of the run: "
                "its queues keep up, so the figures do not depend on the run length.</p>"
            )
        parts.append(self._sensitivity_text())
        for heading, notes in (("Sample and run length", self._sample_notes()), ("Study notes", self._study_notes())):
            if notes:
                parts.append(f"<h3>{heading}</h3><ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
        return "".join(parts) + "</section>"

    def footer(self) -> str:
        """Where the tables behind the page are and which code produced them."""
        from experiments.tracking import git_commit  # noqa: PLC0415 - runs git

        files = [n for n in ("summary.csv", "comparison.csv", "replications.csv", "config.yaml") if n in self.written]
        listed = ", ".join(code(n) for n in files)
        return (
            f"<footer>Tables behind this page, in the same directory: {listed}. "
            f"Model code {code(git_commit())}. Written by <code>salesboost</code>.</footer>"
        )

    # --- tables -----------------------------------------------------------------------------

    def _by_metric(self) -> str:
        """One row per headline metric; a column per variant, then a change column per other variant."""
        others = [v.name for v in self.ok if v.name != self.baseline]
        header: list[Cell | str] = ["metric"]
        header += [Cell(breakable(v.name) + self._tags(v.name), "num") for v in self.ok]
        header += [Cell(f"{breakable(v)} vs {esc(self.baseline)}", "num") for v in others]
        rows = []
        for metric in self._metrics():
            name = f"<code class='long'>{breakable(metric, '_')}</code>"
            row: list[Cell | str] = [Cell(f"{name}<span class='sub desc'>{esc(_description(metric))}</span>")]
            row += [self._estimate_cell(v.name, metric) for v in self.ok]
            row += [self._change_cell(v, metric) for v in others]
            rows.append(row)
        return table(header, rows)

    def _by_variant(self) -> str:
        """One row per variant: grid values, replications, the key metrics and the objective's change."""
        r = self.experiment.report
        metrics = self._metrics()
        header: list[Cell | str] = ["variant", Cell("n", "num")]
        header += [Cell(f"<code class='long'>{breakable(m, '_')}</code>", "num") for m in metrics]
        header.append(Cell(f"<code class='long'>{breakable(r.objective, '_')}</code> vs {esc(self.baseline)}", "num"))
        rows = []
        for v in self.ok:
            chosen = " chosen" if v.name == self.chosen else ""
            row: list[Cell | str] = [Cell(breakable(v.name) + self._tags(v.name), "name" + chosen)]
            n = self._value(v.name, metrics[0], "n")
            row.append(Cell(f"{n:.0f}" if math.isfinite(n) else "", "num"))
            row += [self._estimate_cell(v.name, m) for m in metrics]
            row.append(self._change_cell(v.name, r.objective))
            rows.append(row)
        described = "; ".join(f"{code(m)}: {esc(_description(m))}" for m in metrics if _description(m))
        return table(header, rows) + (f"<p class='note'>{described}.</p>" if described else "")

    def _metrics(self) -> list[str]:
        """The metrics of the headline table: the report's, plus the objective and constrained ones.

        A sweep's table puts the objective and the constraints first and keeps the first few.
        """
        r = self.experiment.report
        first = [r.objective, *r.constraints] if len(self.ok) > MAX_COLUMN_VARIANTS else []
        names = [*first, *r.metrics, r.objective, *r.constraints]
        present = {m for _, m in self.s.index} if self.s is not None else set()
        shown = [m for m in dict.fromkeys(names) if m in present]
        return shown[:MAX_SWEEP_METRICS] if first else shown

    def _value(self, variant: str, metric: str, field: str) -> float:
        if self.s is None or (variant, metric) not in self.s.index:
            return math.nan
        return float(self.s.loc[(variant, metric), field])

    def _estimate_cell(self, variant: str, metric: str) -> Cell:
        mean = self._value(variant, metric, "mean")
        low, high = self._value(variant, metric, "ci_low"), self._value(variant, metric, "ci_high")
        tag = _CALIBRATED_MARK if self._calibrated(variant, metric) else ""
        return Cell(with_sub(esc(fmt(mean)) + tag, f"[{esc(fmt(low))}, {esc(fmt(high))}]"), "num")

    def _change(self, variant: str | None, metric: str) -> Mapping[str, Any] | None:
        if self.c is None or variant is None or (variant, metric) not in self.c.index:
            return None
        return self.c.loc[(variant, metric)]

    def _change_cell(self, variant: str, metric: str) -> Cell:
        if variant == self.baseline:
            return Cell("<span class='sub'>baseline</span>", "num")
        row = self._change(variant, metric)
        if row is None:
            return Cell("", "num")
        low, high = float(row["uplift_ci_low"]), float(row["uplift_ci_high"])
        direction = 1 if low > 0 else -1 if high < 0 else 0
        better = METRIC_BY_NAME[metric].better if metric in METRIC_BY_NAME else 0
        cls = "good" if direction * better > 0 else "bad" if direction * better < 0 else ""
        both = self._calibrated(variant, metric) and self._calibrated(self.baseline, metric)
        tag = _CALIBRATED_MARK if both else ""
        text = with_sub(esc(pct(float(row["uplift"]))) + tag, f"[{esc(pct(low))}, {esc(pct(high))}]")
        return Cell(f"<span class='{cls}'>{text}</span>" if cls else text, "num")

    def _calibrated(self, variant: str, metric: str) -> bool:
        return variant in self.configs and calibration_of(self.configs[variant], metric) is not None

    def _tags(self, variant: str) -> str:
        tags = []
        if variant == self.baseline:
            tags.append("<span class='tag base'>baseline</span>")
        if variant == self.chosen:
            tags.append("<span class='tag best'>chosen</span>")
        elif variant in self.tied:
            tags.append("<span class='tag base'>no clear difference</span>")
        elif self.selection.constraints and variant in self.selection.rejected:
            tags.append("<span class='tag base'>does not qualify</span>")
        return "".join(tags)

    def _differences(self, base: Mapping[str, Any], own: Mapping[str, Any]) -> str:
        """Resolved settings whose value differs from the baseline's, folded."""
        keys = [
            k for k in dict.fromkeys([*base, *own]) if base.get(k) != own.get(k) and not k.startswith("pipeline.name")
        ]
        if not keys:
            return ""
        items = "".join(f"<li>{code(k)}: {esc(_raw(base.get(k)))} → {esc(_raw(own.get(k)))}</li>" for k in keys)
        noun = "setting" if len(keys) == 1 else "settings"
        return f"<details><summary>{len(keys)} {noun}</summary><ul>{items}</ul></details>"

    def _constraint_text(self, metric: str, low: float | None, high: float | None) -> str:
        bounds = []
        if low is not None:
            bounds.append(f"{code(metric)} ≥ {esc(f'{low:g}')}")
        if high is not None:
            bounds.append(f"{code(metric)} ≤ {esc(f'{high:g}')}")
        return " and ".join(bounds)

    def _replications_text(self) -> str:
        e = self.experiment
        if e.adaptive.enabled:
            a = e.adaptive
            return (
                f"adaptive: {a.min_replications} to {a.max_replications} per variant, until the 95% half-width of "
                f"{a.metric}{' vs the baseline' if a.versus_baseline else ''} is at most {a.half_width:g}"
                f"{' (relative)' if a.relative else ''}"
            )
        cached = sum(r.cached for r in self.outcome.runs.values())
        reused = f"; {cached} taken from the result store (identical earlier runs)" if cached else ""
        return f"{e.replications} per variant{reused}"

    # --- plots ------------------------------------------------------------------------------

    def _images(self) -> list[str]:
        return [
            n
            for n, p in self.written.items()
            if p.suffix.lower() in IMAGE_TYPES and p.is_file() and not n.startswith("study/")  # shown in their section
        ]

    def _figure(self, name: str) -> str:
        heading, caption = _plot_caption(name)
        wide = heading in (_PLOT_ORDER[6], _PLOT_ORDER[9])  # many small panels: give them the whole width
        return figure(self.written[name], name=name, caption=caption, wide=wide)

    # --- caveats ----------------------------------------------------------------------------

    def _calibrations(self) -> list[tuple[str, Calibration]]:
        """``(variant, calibration)`` for every figure on the page that is a calibration target."""
        shown = set(self._metrics())
        return [
            (v.name, c)
            for v in self.ok
            for c in CALIBRATIONS
            if c.metric in shown and self.s is not None and (v.name, c.metric) in self.s.index and c.holds(v.config)
        ]

    def _calibration_text(self) -> str:
        """Which figures are calibrated (by variant and metric) and that the rest are predictions."""
        found = [f"{code(c.metric)} of {esc(v)}: {esc(c.target)}" for v, c in self._calibrations()]
        head = "<h3>Calibrated inputs and predictions</h3>"
        if not found:
            return (
                head + "<p>No figure on this page is a calibration target at these settings: every figure is a "
                f"prediction of the modelled mechanisms with the documented parameters ({CALIBRATION_SOURCE}"
                ", docs/parameters.md for every parameter).</p>"
            )
        items = "".join(f"<li>{f}</li>" for f in found)
        return (
            head + "<p>These figures are <strong>calibrated</strong>: the inputs they rest on were set within "
            "their plausible ranges so that the figure matches the plan. They reproduce the plan by "
            f"construction and are no evidence for it ({CALIBRATION_SOURCE}):</p><ul>{items}</ul>"
            "<p>Every other figure is a <strong>prediction</strong> of the modelled mechanisms (queues, "
            "calendars, delays, speed-to-lead decay and the competitor hazard) with documented "
            "parameters; the behavioural parameters behind the revenue and win-rate changes are "
            "judgment values with wide ranges (docs/parameters.md), which the sensitivity "
            "analysis below moves.</p>"
        )

    def _sensitivity_text(self) -> str:
        """The parameters that move the objective's uplift most, as a sentence, a table and tornado charts."""
        head = "<h3>Sensitivity</h3>"
        s = self.sensitivity
        if s is None or s.empty:
            return head + (
                "<p>No sensitivity analysis in this run (<code>experiment.sensitivity.enabled=true</code> moves "
                "each behavioural parameter to both ends of its documented range).</p>"
            )
        metric = sensitivity_metric(s, self.experiment.report.objective)
        if metric is None:
            return head + "<p>The sensitivity table has no metric to show.</p>"
        target = str(s["variant"].iloc[0])
        items = swings(s, metric)
        uplift = metric.endswith("_uplift")
        show = pct if uplift else fmt
        what = f"the {metric.removesuffix('_uplift')} uplift of {target} over {self.baseline}" if uplift else metric
        parts = [head]
        if items:
            top = items[0]
            parts.append(
                f"<p>{esc(what[0].upper() + what[1:])} moves most with {code(top.parameter)}: "
                f"{esc(show(top.low))} at {top.low_value:g} and {esc(show(top.high))} at {top.high_value:g} "
                f"(configured {top.default_value:g}: {esc(show(top.default))}).</p>"
            )
            unsteady = [
                f"{value:g}"
                for value in (top.low_value, top.high_value)
                if self._unsteady_level(top.parameter, value, s)
            ]
            if unsteady:
                parts.append(
                    f"<p>At {code(top.parameter)} = {esc(' and '.join(unsteady))} a queue does not keep up (see "
                    "Steady state): that end of the range says more about the run length than about the policy.</p>"
                )
            flips = sign_changes(items)
            if uplift and flips:
                parts.append(
                    "<p>At one end of the range of " + ", ".join(code(p) for p in flips) + " the uplift's mean has "
                    "the opposite sign to its value at the configured setting: the conclusion rests on "
                    "where that parameter really lies.</p>"
                )
            elif uplift:
                parts.append(
                    "<p>The uplift's mean keeps its sign at both ends of every range tested: the direction "
                    "of the change does not hinge on one of these parameters.</p>"
                )
            reps = self.experiment.sensitivity.replications
            if any(lo <= 0 <= hi for i in items for lo, hi in (i.low_ci, i.high_ci)) and uplift:
                parts.append(
                    f"<p class='note'>With {reps} replications per level some intervals include zero; "
                    "read the means as the direction and raise <code>experiment.sensitivity.replications</code> "
                    "for firmer bounds.</p>"
                )
            header: list[Cell | str] = ["parameter", Cell("range", "num")]
            header += [Cell(h, "num") for h in ("at the low end", "configured", "at the high end", "swing")]
            rows = []
            for i in items:
                swing = pct(i.width).lstrip("+") if uplift else fmt(i.width)
                rows.append(
                    [
                        Cell(code(i.parameter)),
                        Cell(esc(f"{i.low_value:g} to {i.high_value:g}"), "num"),
                        Cell(
                            with_sub(esc(show(i.low)), f"[{esc(show(i.low_ci[0]))}, {esc(show(i.low_ci[1]))}]"), "num"
                        ),
                        Cell(esc(show(i.default)), "num"),
                        Cell(
                            with_sub(esc(show(i.high)), f"[{esc(show(i.high_ci[0]))}, {esc(show(i.high_ci[1]))}]"),
                            "num",
                        ),
                        Cell(esc(swing), "num"),
                    ]
                )
            parts.append(
                table(
                    header,
                    rows,
                    caption=esc(
                        f"{metric} of {target}, mean and 95% CI over {reps} replications per level, widest "
                        "swing first; one parameter moves at a time, for the variant and the baseline alike. "
                        f"The configured column is estimated on the same {reps} replications, so it can differ "
                        "from the headline table"
                    ),
                )
            )
        figures = "".join(self._figure(n) for n in self._images() if _plot_caption(n)[0] == _SENSITIVITY)
        if figures:
            parts.append(f"<div class='plots'>{figures}</div>")
        return "".join(parts)

    @staticmethod
    def _unsteady_level(parameter: str, value: float, sensitivity: pd.DataFrame) -> bool:
        """Whether a sensitivity level leaves more of a cohort open than a steady state would."""
        rows = sensitivity[
            (sensitivity["parameter"] == parameter)
            & (sensitivity["value"] == value)
            & sensitivity["metric"].isin(["in_flight_share", "baseline_in_flight_share"])
        ]
        return bool((rows["mean"] > UNSTABLE_IN_FLIGHT_SHARE).any())

    def _sample_notes(self) -> list[str]:
        notes = []
        horizon = self.configs[self.baseline].get("horizon", {})
        days = float(horizon.get("days", DOCUMENTED_HORIZON_DAYS))
        if days < DOCUMENTED_HORIZON_DAYS:
            notes.append(
                esc(
                    f"The run measures {days - float(horizon.get('warmup_days', 0)):g} days of leads, less than the "
                    f"documented {DOCUMENTED_HORIZON_DAYS:g}-day run: the intervals are wider and the "
                    "figures noisier than the README's."
                )
            )
        small = [n for n, r in self.outcome.runs.items() if r.error is None and 0 < len(r.results) < 10]
        if small:
            notes.append(
                esc(
                    f"{len(small)} variants have fewer than 10 replications; their intervals are wide, so small "
                    "differences between them are not resolved."
                )
            )
        return notes

    def _study_notes(self) -> list[str]:
        """The study's own caveats (``experiment.caveats``): known limits of the model for this question."""
        notes = [esc(c) for c in self.experiment.caveats]
        return list(dict.fromkeys(notes))


# --- helpers ----------------------------------------------------------------------------------

_CALIBRATED_MARK = "<span class='cal' title='calibrated: reproduces an input'>†</span>"
_SENSITIVITY = "Sensitivity"
_PLOT_ORDER = (
    "Change against the baseline",
    "Distributions",
    "Funnel",
    "Against the swept parameters",
    "Trade-off",
    _SENSITIVITY,
    "Every replication",
    "Other plots",
    "Monthly series",
    "Customer tiers",
    "Incentive schemes",
)


def _plot_caption(name: str) -> tuple[str, str]:
    """The heading a plot is grouped under and its caption, from its file name."""
    stem = Path(name).stem
    if stem.startswith("uplift"):
        return _PLOT_ORDER[0], "Change of each headline KPI against the baseline, percent with 95% CI"
    if stem.startswith("distribution_"):
        return _PLOT_ORDER[1], f"Distribution of {stem.removeprefix('distribution_').replace('_', ' ')} per variant"
    if stem.startswith("funnel"):
        return _PLOT_ORDER[2], "Funnel: measured leads reaching each step, per variant"
    if stem.startswith("vs_"):
        param, metric = _split_metric(stem.removeprefix("vs_"))
        return _PLOT_ORDER[3], f"{metric} against {param}, mean with 95% band"
    if stem.startswith("tradeoff_"):
        return _PLOT_ORDER[4], "Trade-off between two metrics: Pareto front and the chosen variant"
    if stem.startswith("tornado_"):
        return _SENSITIVITY, f"Sensitivity of {stem.removeprefix('tornado_')}: each parameter at both ends of its range"
    if stem.startswith("replications"):
        return _PLOT_ORDER[6], "Every replication's value per KPI and variant"
    if stem.startswith("tier_transitions"):
        return _PLOT_ORDER[9], (
            "Tier transitions between monthly snapshots: the share of a tier's accounts found in each tier a month"
            " later, summed over the run, per variant"
        )
    if stem.startswith("tier_shares"):
        return _PLOT_ORDER[9], "Accounts per tier at each monthly snapshot, mean over replications, per variant"
    if stem.startswith("attainment"):
        return _PLOT_ORDER[10], (
            "Attainment (revenue / prorated quota) of every settled rep-period in post, per scheme: share at or"
            " above quota in the legend"
        )
    if stem.startswith("effort_by_kind"):
        return _PLOT_ORDER[10], "Reps' busy hours by kind of work per month, summed over reps, mean over replications"
    if stem.startswith("kpi_profile"):
        return _PLOT_ORDER[10], "Each scheme's KPI profile: mean change against the baseline scheme, percent"
    if stem.startswith("monthly"):
        return _PLOT_ORDER[8], (
            "Orders, revenue, first contacts within the SLA and rep utilisation per month: mean over replications"
            " with 95% band; shaded: warm-up and drain"
        )
    return _PLOT_ORDER[7], stem.replace("_", " ")


def _split_metric(text: str) -> tuple[str, str]:
    """``<parameter>_<metric>`` split at the known metric name it ends with."""
    for metric in sorted(METRIC_BY_NAME, key=len, reverse=True):
        if text.endswith("_" + metric):
            return text[: -len(metric) - 1], metric
    return text, ""


def _description(metric: str) -> str:
    spec = METRIC_BY_NAME.get(metric)
    return spec.description if spec else ""


def _describe(metric: str) -> str:
    text = _description(metric)
    return f" <span class='sub'>{esc(text)}</span>" if text else ""


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _raw(value: Any) -> str:
    """A config value as the user would write it."""
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return f"{value:g}"
    return str(value)


def _bold_variant(text: str, variant: str | None) -> str:
    """``text`` escaped, with the quoted variant name in bold."""
    out = esc(text)
    if variant:
        quoted = esc(f"'{variant}'")
        out = out.replace(quoted, f"<strong>{quoted}</strong>", 1)
    return out


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b.c": value}``; lists stay values."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
