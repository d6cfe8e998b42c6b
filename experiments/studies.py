"""The studies that read a sweep further: SMART targets, pilot design, early warning.

Each runs after the sweep when its section of ``experiment`` is enabled, writes its tables
and plots under ``study/`` in the output directory, and hands back an HTML section for
report.html, lines for the printed report and metrics for the parent run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from experiments.html_parts import Cell, code, esc, figure, table, with_sub

if TYPE_CHECKING:
    from experiments.app import Plan
    from experiments.scheduler import Executor, SweepOutcome
    from experiments.store import ResultStore


@dataclass
class StudyOutput:
    """What a study adds to the run's outputs."""

    written: dict[str, Path] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # HTML, one <section> each
    lines: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def add(self, other: StudyOutput) -> None:
        """Append ``other``'s outputs."""
        self.written.update(other.written)
        self.sections += other.sections
        self.lines += other.lines
        self.metrics.update(other.metrics)


def run_studies(
    plan: Plan,
    outcome: SweepOutcome,
    replications: pd.DataFrame,
    *,
    executor: Executor,
    store: ResultStore | None,
    output_dir: Path,
) -> StudyOutput:
    """Every enabled study's outputs (nothing when none is enabled)."""
    experiment = plan.experiment
    result = StudyOutput()
    if experiment.early_warning.enabled:
        result.add(early_warning(plan, outcome, replications, output_dir))
    if experiment.pilot_design.enabled:
        from experiments.pilot_study import pilot_design  # noqa: PLC0415

        result.add(pilot_design(plan, outcome, replications, output_dir))
    if experiment.targets.enabled:
        from experiments.targets_study import targets_study  # noqa: PLC0415

        result.add(targets_study(plan, outcome, replications, output_dir, executor=executor, store=store))
    return result


# -- shared helpers ---------------------------------------------------------------------------------
def stacked(plan: Plan, outcome: SweepOutcome, name: str, variants: list[str] | None = None) -> pd.DataFrame:
    """Panel table ``name`` of the variants' replications, stacked with ``variant`` and ``replication``."""
    from analysis.panel import panel_frame  # noqa: PLC0415

    parts = []
    for v in plan.variants:
        run = outcome.runs.get(v.name)
        if run is None or run.error is not None or not run.results or (variants is not None and v.name not in variants):
            continue
        frame = panel_frame(run.ordered(), name, variant=v.name)
        if not frame.empty:
            parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def write_csv(frame: pd.DataFrame, output_dir: Path, name: str) -> tuple[str, Path]:
    """``frame`` as ``study/<name>`` (written under a temporary name, then renamed)."""
    path = output_dir / "study" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return f"study/{name}", path


def plot(output_dir: Path, name: str, draw: Callable[[Path], Path | None]) -> tuple[str, Path] | None:
    """Run ``draw`` on ``study/<name>``; its key and path (None when it drew nothing)."""
    path = draw(output_dir / "study" / name)
    return (f"study/{name}", path) if path is not None else None


def section(title: str, *parts: str) -> str:
    """An HTML section."""
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


def fmt(value: object, kind: str = "num") -> str:
    """A number for a table: percent (``pct``), signed percent (``chg``), money (``money``) or plain."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    x = float(value)  # type: ignore[arg-type]
    if kind == "pct":
        return f"{x:.0%}"
    if kind == "pct1":
        return f"{x:.1%}"
    if kind == "chg":
        return f"{x:+.1%}"
    if kind == "money":
        return f"{x:,.0f}"
    return f"{x:.3g}"


def num(value: object, kind: str = "num") -> Cell:
    """A right-aligned number cell."""
    return Cell(esc(fmt(value, kind)), "num")


def fig(written: Mapping[str, Path], key: str, caption: str) -> str:
    """A figure when ``key`` was written."""
    path = written.get(key)
    return figure(path, name=key, caption=caption) if path is not None and path.is_file() else ""


# -- early warning ------------------------------------------------------------------------------------
def early_warning(plan: Plan, outcome: SweepOutcome, replications: pd.DataFrame, output_dir: Path) -> StudyOutput:
    """Every rule's false alarms a year and detection delay per shock; what each playbook recovers."""
    from analysis.warning_eval import (  # noqa: PLC0415
        alarms,
        plot_recovery,
        plot_scores,
        recovery,
        score,
        switch_on_months,
    )
    from salesboost.indicators import INDICATORS  # noqa: PLC0415
    from salesboost.warnings import CHART_RULES, PLAN_RULES  # noqa: PLC0415

    settings = plan.experiment.early_warning
    calm = settings.calm_variant or plan.variants[0].name
    market = stacked(plan, outcome, "market")
    result = StudyOutput()
    if market.empty or calm not in set(market["variant"]):
        result.lines.append("early warning: no market panel for the calm variant; nothing scored")
        return result
    own = {n: v.scenario.risk.rule(n) for v in plan.variants for n in v.scenario.risk.rules}
    rules = {**PLAN_RULES, **CHART_RULES, **own}
    if settings.rules:
        unknown = [n for n in settings.rules if n not in rules]
        if unknown:
            result.lines.append(f"early warning: unknown rules {', '.join(unknown)} skipped")
        rules = {n: rules[n] for n in settings.rules if n in rules}
    shocks = {
        v.name: v.scenario.risk.shocks[0].start
        for v in plan.variants
        if v.scenario.risk.shocks and not v.scenario.risk.playbooks and v.name in set(market["variant"])
    }
    starts = sorted(market["period_start"].unique())
    baseline_periods = max(12, *(r.baseline_periods for r in rules.values()))
    live_from = starts[min(baseline_periods, len(starts) - 1)]
    alarm_table = alarms(market, rules)
    scores = score(
        alarm_table,
        market,
        list(rules),
        calm=calm,
        shocks=shocks,
        live_from=live_from,
        within_months=settings.detect_within_months,
    )
    scores.insert(1, "plan_rule", [n in PLAN_RULES for n in scores["rule"]])
    scores.insert(2, "definition", [describe_rule(rules[n]) for n in scores["rule"]])
    responses = {p: s for p, s in settings.responses.items() if p in set(replications["variant"])}
    paid = ("payout_cost",) if "payout_cost" in replications.columns else ()
    recovered = (
        recovery(replications, responses, calm=calm, metrics=("net_profit", "revenue", *paid))
        if responses
        else pd.DataFrame()
    )
    on = switch_on_months(market, list(responses))
    if not recovered.empty and not on.empty:
        first = on.groupby("variant")["first_on"].agg(lambda s: s.dropna().min() if s.notna().any() else None)
        share_on = on.groupby("variant")["first_on"].agg(lambda s: s.notna().mean())
        recovered["switched_on_share"] = [share_on.get(p, math.nan) for p in recovered["playbook"]]
        recovered["earliest_switch_on"] = [first.get(p) for p in recovered["playbook"]]
    for frame, name in (
        (scores, "warning_scores.csv"),
        (alarm_table, "alarms.csv"),
        (recovered, "playbook_recovery.csv"),
    ):
        if not frame.empty:
            key, path = write_csv(frame, output_dir, name)
            result.written[key] = path
    drawn = plot(output_dir, "warning_scores.png", lambda p: plot_scores(scores, list(shocks), p))
    if drawn is not None:
        result.written[drawn[0]] = drawn[1]
    if not recovered.empty:
        drawn = plot(output_dir, "playbook_recovery.png", lambda p: plot_recovery(recovered, p))
        if drawn is not None:
            result.written[drawn[0]] = drawn[1]
    result.sections.append(
        _warning_html(
            scores,
            recovered=recovered,
            shocks=shocks,
            rules=rules,
            indicators=INDICATORS,
            written=result.written,
            live_from=live_from,
        )
    )
    for _, row in scores.iterrows():
        best = ", ".join(
            f"{s} {fmt(row[f'{s}_detected'], 'pct')} in {fmt(row[f'{s}_delay_months'])} mo" for s in shocks
        )
        result.lines.append(
            f"warning {row['rule']}: {row['false_alarms_per_year']:.2f} false alarms/yr; detected {best}"
        )
    for _, row in recovered.iterrows():
        result.lines.append(
            f"playbook {row['playbook']}: recovers {fmt(row['net_profit_share'], 'pct')} of the net profit "
            f"{row['shock']} cost ({fmt(row['net_profit_recovered'], 'money')} of "
            f"{fmt(row['net_profit_lost'], 'money')}),"
            f" playbook cost {fmt(row.get('playbook_cost'), 'money')}"
        )
        result.metrics[f"recovery_{row['playbook']}"] = float(row["net_profit_share"])
    return result


def describe_rule(rule: Any) -> str:
    """A rule's chart and design parameters in a few words."""
    chart = rule.chart
    params: dict[str, Any] = {
        "shewhart": {"L": rule.L},
        "ewma": {"lambda": rule.lam, "L": rule.L},
        "cusum": {"k": rule.k, "h": rule.h},
        "pchart": {"L": rule.L, "exact": rule.exact},
        "threshold": {"limit": rule.limit, "periods": rule.periods},
        "streak": {"periods": rule.periods, "reading": rule.reading},
        "change": {"change": rule.change, "units": rule.units},
    }.get(chart, {})
    inner = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{chart}({inner}, side={rule.side}) on {rule.indicator}"


def _warning_html(
    scores: pd.DataFrame,
    *,
    recovered: pd.DataFrame,
    shocks: Mapping[str, str],
    rules: Mapping[str, Any],
    indicators: Mapping[str, str],
    written: Mapping[str, Path],
    live_from: str,
) -> str:
    header: list[Cell | str] = ["rule", "definition", "false alarms / yr"]
    header += [Cell(with_sub(esc(shock), "detected, months"), "num") for shock in shocks]
    rows = []
    for _, r in scores.iterrows():
        name = esc(r["rule"]) + (" <span class='sub'>the plan's</span>" if r["plan_rule"] else "")
        row: list[Cell | str] = [Cell(name), Cell(code(r["definition"])), num(r["false_alarms_per_year"])]
        for shock in shocks:
            months = r[f"{shock}_delay_months"]
            detected = fmt(r[f"{shock}_detected"], "pct") + (f", {months:g} mo" if math.isfinite(months) else "")
            before = f"on before: {fmt(r[f'{shock}_already_on'], 'pct')}"
            row.append(Cell(with_sub(esc(detected), esc(before)), "num"))
        rows.append(row)
    used = sorted({rules[n].indicator for n in scores["rule"]})
    defs = "".join(f"<li>{code(i)}: {esc(indicators.get(i, ''))}</li>" for i in used)
    parts = [
        f"<p>False alarms count the calm world's alarms from {esc(live_from)} on (the first 12 months are "
        "every chart's baseline), per year and team a rule watches. A shock counts as detected when the rule's "
        "first alarm on or after its start that the calm twin (same replication, same random numbers) does not "
        "also raise comes within the study's window; months are from the start to the end of the month whose "
        "figures raised the alarm. <em>On before</em>: the share of runs in which the rule was already alarming "
        "in the window before the shock (then an alarm tells a manager nothing new).</p>",
        table(header, rows, caption="Warning rules: false alarms without a shock and detection after one"),
        f"<h3>Indicators</h3><ul>{defs}</ul>",
        fig(written, "study/warning_scores.png", "False alarms a year (calm) and months to detection per shock"),
    ]
    if not recovered.empty:
        head: list[Cell | str] = [
            "playbook",
            "answers",
            Cell("switched on", "num"),
            Cell("net profit lost", "num"),
            Cell("recovered", "num"),
            Cell("share", "num"),
            Cell("revenue share", "num"),
            Cell(with_sub("reps' pay", "vs the shock alone"), "num"),
            Cell("playbook cost", "num"),
        ]
        body = [
            [
                r["playbook"],
                r["shock"],
                num(r.get("switched_on_share"), "pct"),
                num(r["net_profit_lost"], "money"),
                num(r["net_profit_recovered"], "money"),
                num(r["net_profit_share"], "pct"),
                num(r["revenue_share"], "pct"),
                num(r.get("payout_cost_recovered"), "money"),
                num(r.get("playbook_cost"), "money"),
            ]
            for _, r in recovered.iterrows()
        ]
        parts.append("<h3>Playbooks</h3>")
        parts.append(
            table(
                head,
                body,
                caption="What each response recovers of its shock's loss (paired by replication; net of its cost)",
            )
        )
        parts.append(fig(written, "study/playbook_recovery.png", "Share of each shock's loss its playbook recovers"))
        parts.append(
            "<p>Net profit can come back by selling more (the revenue share) or by paying the reps less (their "
            "pay against the shock alone): a change of scheme that lowers pay in a downturn recovers profit, not "
            "sales. Reps' attrition in this model reads attainment and floor cuts, not the level of pay, so a "
            "cheaper scheme's gain is an upper bound. Win-back calls follow deals existing accounts lost to the "
            "competitor once the playbook is on; the market panel counts them (<code>winback_calls</code>, "
            "<code>won_back</code>).</p>"
        )
    return section("Early warning", *parts)
