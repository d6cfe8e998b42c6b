"""The plan's SMART targets: P(hit) per target and variant, unit targets, levers for the missed, 5W1H.

Last year is the baseline variant's simulated year (its mean over replications is the known
figure a growth target multiplies). The lever search runs extra variants on Ray, the same
way the sensitivity does, and keeps every run in the result store.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.html_parts import Cell, code, esc, table, with_sub
from experiments.outputs import measured_window
from experiments.studies import StudyOutput, fig, fmt, num, plot, section, stacked, write_csv

if TYPE_CHECKING:
    from experiments.app import Plan
    from experiments.scheduler import Executor, SweepOutcome
    from experiments.store import ResultStore
    from experiments.variants import Variant


def _facts(plan: Plan, outcome: SweepOutcome, replications: pd.DataFrame) -> pd.DataFrame:
    from analysis.targets import facts  # noqa: PLC0415

    pipeline = stacked(plan, outcome, "pipeline")
    reps = stacked(plan, outcome, "reps")
    seats = sum(plan.variants[0].scenario.team.reps.values())
    return facts(pipeline, replications, reps if not reps.empty else None, measured_window(plan), rep_seats=seats)


def targets_study(
    plan: Plan,
    outcome: SweepOutcome,
    replications: pd.DataFrame,
    output_dir: Path,
    *,
    executor: Executor,
    store: ResultStore | None,
) -> StudyOutput:
    """P(hit) of every target, the sales target by unit, levers for missed targets and a 5W1H drill-down."""
    from analysis.targets import decompose_target, lever_effects, p_hit, plot_decomposition, plot_p_hit, unit_sales  # noqa: PLC0415
    from salesboost.targets import PLAN_TARGETS, targets_from_dict  # noqa: PLC0415

    settings = plan.experiment.targets
    baseline = plan.variants[0].name
    targets = (
        targets_from_dict({"targets": settings.targets}, "experiment.targets").targets
        if settings.targets
        else dict(PLAN_TARGETS)
    )
    result = StudyOutput()
    table_facts = _facts(plan, outcome, replications)
    hit = p_hit(table_facts, targets, baseline=baseline, level=settings.level)
    focus = settings.lever_variant or next((v.name for v in plan.variants if v.name != baseline), baseline)
    key, path = write_csv(hit, output_dir, "targets.csv")
    result.written[key] = path
    drawn = plot(output_dir, "targets_p_hit.png", lambda p: plot_p_hit(hit, p, level=settings.level))
    if drawn is not None:
        result.written[drawn[0]] = drawn[1]
    # the total sales target by unit, by potential and response
    pipeline = stacked(plan, outcome, "pipeline")
    workers = stacked(plan, outcome, "workers")
    reps = workers[workers["role"] == "rep"] if not workers.empty else None
    growth = targets["sales"].value if "sales" in targets and targets["sales"].kind == "growth" else 0.30
    parts = []
    for unit in settings.decompose:
        try:
            by_unit = unit_sales(pipeline, measured_window(plan), unit, reps=reps)
            parts.append(decompose_target(by_unit, unit=unit, total_growth=growth, baseline=baseline, variant=focus))
        except (ValueError, KeyError) as error:
            result.lines.append(f"targets: no {unit} decomposition ({error})")
    decomposition = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not decomposition.empty:
        key, path = write_csv(decomposition, output_dir, "target_decomposition.csv")
        result.written[key] = path
        drawn = plot(output_dir, "target_decomposition.png", lambda p: plot_decomposition(decomposition, p))
        if drawn is not None:
            result.written[drawn[0]] = drawn[1]
    # levers for the focus variant's missed targets
    mine = hit[hit["variant"] == focus]
    missed = list(mine.loc[~mine["hit"].astype(bool), "target"])
    levers = pd.DataFrame()
    if missed and settings.levers:
        rows = _lever_search(
            plan,
            outcome=outcome,
            replications=replications,
            focus=focus,
            targets=targets,
            missed=missed,
            executor=executor,
            store=store,
        )
        levers = lever_effects(rows, level=settings.level) if not rows.empty else pd.DataFrame()
        if not levers.empty:  # how far the KPI gets at the far end of each lever's range
            far = rows.assign(_d=(rows["lever_value"] - rows["current"]).abs())
            far = far.sort_values("_d").groupby(["target", "lever"]).tail(1).set_index(["target", "lever"])
            index = list(zip(levers["target"], levers["lever"], strict=True))
            levers["value_at_end"] = [far.loc[i, "lever_value"] for i in index]
            levers["kpi_at_end"] = [far.loc[i, "mean"] for i in index]
            levers["kpi_now"] = [
                rows[(rows["target"] == t) & (rows["lever"] == lv) & (rows["lever_value"] == rows["current"])][
                    "mean"
                ].mean()
                for t, lv in index
            ]
            levers["goal"] = [far.loc[i, "goal"] for i in index]
        if not levers.empty:
            for frame, name in ((rows, "lever_runs.csv"), (levers, "levers.csv")):
                key, path = write_csv(frame, output_dir, name)
                result.written[key] = path
    drill, example = _drill_down(
        plan,
        pipeline=pipeline,
        baseline=baseline,
        focus=focus,
        dimensions=settings.drill_down,
        output_dir=output_dir,
        result=result,
    )
    result.sections.append(
        _html(
            hit,
            decomposition=decomposition,
            levers=levers,
            drill=drill,
            example=example,
            focus=focus,
            settings=settings,
            written=result.written,
            growth=growth,
        )
    )
    for _, row in mine.iterrows():
        result.lines.append(
            f"target {row['target']} ({row['label'] or row['kpi']}): P(hit) under {focus} "
            f"{fmt(row['p_hit'], 'pct')} [{fmt(row['p_low'], 'pct')}, {fmt(row['p_high'], 'pct')}]"
        )
        result.metrics[f"p_hit_{row['target']}"] = float(row["p_hit"])
    for _, row in levers.iterrows():
        result.lines.append(
            f"lever for {row['target']}: {row['lever']} -> {row['value']:g}: "
            f"P(hit) {fmt(row['p_hit'], 'pct')} ({row['status']}); at {row['value_at_end']:g} the KPI is "
            f"{row['kpi_at_end']:.3g} (now {row['kpi_now']:.3g}, goal {row['goal']:.3g})"
        )
    return result


def _lever_values(span: list[float], steps: int) -> list[float]:
    """``steps`` values from the first to the second end (whole numbers when both ends are)."""
    low, high = float(span[0]), float(span[1])
    values = np.linspace(low, high, steps).tolist()
    if float(span[0]).is_integer() and float(span[1]).is_integer():
        values = sorted({round(v) for v in values}, key=lambda v: abs(v - low))
    return [float(v) for v in values]


def _lever_search(
    plan: Plan,
    *,
    outcome: SweepOutcome,
    replications: pd.DataFrame,
    focus: str,
    targets: dict[str, Any],
    missed: list[str],
    executor: Executor,
    store: ResultStore | None,
) -> pd.DataFrame:
    """P(hit) of each missed target with each lever moved alone, ``lever_replications`` runs each."""
    from analysis.compare import replication_table  # noqa: PLC0415
    from analysis.targets import facts, p_hit  # noqa: PLC0415
    from experiments.scheduler import run_fixed  # noqa: PLC0415
    from experiments.sensitivity import set_path  # noqa: PLC0415
    from experiments.variants import Variant  # noqa: PLC0415
    from salesboost.scenario import Scenario  # noqa: PLC0415

    settings = plan.experiment.targets
    target = next(v for v in plan.variants if v.name == focus)
    baseline = plan.variants[0]
    moved: dict[str, tuple[str, float, float, Variant]] = {}
    for key, span in settings.levers.items():
        current = float(span[0])
        for value in _lever_values(span, settings.lever_steps)[1:]:
            data = copy.deepcopy(target.config)
            set_path(data, key, int(value) if value.is_integer() and key.startswith("team.") else value)
            name = f"{focus}|{key}={value:g}"
            moved[name] = (
                key,
                value,
                current,
                Variant(name, (*target.overrides, f"{key}={value:g}"), data, Scenario.from_dict(data)),
            )
    k = settings.lever_replications
    done = run_fixed(
        [baseline, target, *(m[3] for m in moved.values())],
        seed=plan.experiment.seed,
        replications=k,
        executor=executor,
        store=store,
        label=f"{plan.experiment.name}: lever search",
    )
    lever_runs = {n: r for n, r in done.runs.items() if r.error is None and r.results}
    lever_table = replication_table({n: r.ordered() for n, r in lever_runs.items()})
    pipeline = _stack_runs(lever_runs, "pipeline")
    reps = _stack_runs(lever_runs, "reps")
    seats = {n: sum(v.scenario.team.reps.values()) for n, v in [(baseline.name, baseline), (target.name, target)]}
    seats.update({n: sum(m[3].scenario.team.reps.values()) for n, m in moved.items()})
    frames = []
    for name in [target.name, *moved]:
        subset = [baseline.name, name]
        f = facts(
            pipeline[pipeline["variant"].isin(subset)],
            lever_table[lever_table["variant"].isin(subset)],
            reps[reps["variant"].isin(subset)] if not reps.empty else None,
            measured_window(plan),
            rep_seats=seats[name],
        )
        frames.append(f[f["variant"] == name])
    # last year stays the main sweep's baseline: the known figure, from all its replications
    base_facts = _facts(plan, outcome, replications)
    all_facts = pd.concat([base_facts[base_facts["variant"] == baseline.name], *frames], ignore_index=True)
    chosen = {t: targets[t] for t in missed}
    hits = p_hit(all_facts, chosen, baseline=baseline.name, level=settings.level)
    rows = []
    for name, (key, value, current, _v) in [(target.name, ("", math.nan, math.nan, target)), *moved.items()]:
        for _, h in hits[hits["variant"] == name].iterrows():
            if name == target.name:
                for lever, span in settings.levers.items():
                    rows.append(_lever_row(h, lever, float(span[0]), float(span[0])))
            else:
                rows.append(_lever_row(h, key, value, current))
    return pd.DataFrame(rows)


def _lever_row(h: pd.Series, lever: str, value: float, current: float) -> dict[str, Any]:
    return {
        "target": h["target"],
        "lever": lever,
        "lever_value": value,
        "current": current,
        "p_hit": h["p_hit"],
        "n": h["n"],
        "mean": h["mean"],
        "goal": h["goal"],
    }


def _stack_runs(runs: dict[str, Any], name: str) -> pd.DataFrame:
    from analysis.panel import panel_frame  # noqa: PLC0415

    parts = [panel_frame(r.ordered(), name, variant=n) for n, r in runs.items()]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _drill_down(
    plan: Plan,
    *,
    pipeline: pd.DataFrame,
    baseline: str,
    focus: str,
    dimensions: list[str],
    output_dir: Path,
    result: StudyOutput,
) -> tuple[pd.DataFrame, str]:
    """Win rate (wins / leads) of ``focus`` against last year by who, what, where and when; the plan's example."""
    from analysis.shift_share import diagnosis, drill_down, plan_example, plot_drill_down, shift_share  # noqa: PLC0415

    start, end = measured_window(plan)
    window = pipeline[(pipeline["period_start"] >= start) & (pipeline["period_start"] < end)].copy()
    window["month"] = window["period_start"].str[5:7]  # when: the calendar month, the same in both years
    dims = [d if d != "period" else "month" for d in dimensions if d in window.columns or d == "period"]
    frame = drill_down(
        window, numerator="wins", denominator="leads", dimensions=dims, period="variant", before=baseline, after=focus
    )
    key, path = write_csv(frame, output_dir, "drill_down.csv")
    result.written[key] = path
    drawn = plot(
        output_dir,
        "drill_down.png",
        lambda p: plot_drill_down(frame, p, title=f"Win rate, {focus} against {baseline}: mix and rate effects"),
    )
    if drawn is not None:
        result.written[drawn[0]] = drawn[1]
    before, after = plan_example()
    example = diagnosis(
        shift_share(before, after, by="segment", numerator="wins", denominator="leads"), kpi="the channel's conversion"
    )
    result.lines.append(f"5W1H, the plan's example: {example}")
    return frame, example


def _html(
    hit: pd.DataFrame,
    *,
    decomposition: pd.DataFrame,
    levers: pd.DataFrame,
    drill: pd.DataFrame,
    example: str,
    focus: str,
    settings: Any,
    written: dict[str, Path],
    growth: float,
) -> str:
    variants = list(dict.fromkeys(hit["variant"]))
    header: list[Cell | str] = ["target", "the plan's wording", Cell("last year", "num"), Cell("goal", "num")]
    header += [Cell(f"P(hit): {esc(v)}", "num") for v in variants]
    rows = []
    for target, group in hit.groupby("target", sort=False):
        first = group.iloc[0]
        kind = "pct" if first["kind"] != "growth" or "share" in str(first["kpi"]) else "money"
        money = kind == "money" and abs(float(first["last_year"])) > 100
        row: list[Cell | str] = [
            Cell(code(target)),
            str(first["label"]),
            num(first["last_year"], "money" if money else "pct1" if first["last_year"] <= 1 else "num"),
            num(first["goal"], "money" if money else "pct1" if first["goal"] <= 1 else "num"),
        ]
        for v in variants:
            r = group[group["variant"] == v]
            if r.empty:
                row.append(num(math.nan))
                continue
            r0 = r.iloc[0]
            cls = "num" + ("" if r0["hit"] else " miss")
            row.append(
                Cell(
                    with_sub(
                        esc(fmt(r0["p_hit"], "pct")), esc(f"{fmt(r0['p_low'], 'pct')}-{fmt(r0['p_high'], 'pct')}")
                    ),
                    cls,
                )
            )
        rows.append(row)
    parts = [
        "<p>Last year is the baseline's simulated year: its mean over replications is the figure a growth target "
        f"multiplies. P(hit) is the share of a variant's replications that reach the goal, with a Wilson 95% "
        f"interval; a target counts as hit at P ≥ {settings.level:.0%}.</p>",
        table(header, rows, caption="The plan's SMART targets: the chance each is hit"),
        fig(written, "study/targets_p_hit.png", "P(hit) per target and variant, 95% interval"),
    ]
    if not decomposition.empty:
        dec_rows: list[list[Cell | str]] = [
            [
                str(r.get("dimension", "")),
                str(r["unit"]),
                num(r["last_year"], "money"),
                num(r["predicted"], "money"),
                num(r["target"], "money"),
                num(r.get("target_growth"), "chg"),
                num(r["pro_rata_target"], "money"),
                num(r["p_hit"], "pct"),
                num(r.get("pro_rata_p_hit"), "pct"),
                str(r.get("basis", "")),
            ]
            for _, r in decomposition.iterrows()
        ]
        parts += [
            f"<h3>The sales target (+{growth:.0%}) by unit, under {esc(focus)}</h3>",
            "<p>Each unit's share of the increment follows its predicted increment under the variant (its "
            "potential, last year's sales, times its response, the predicted growth), not its size alone.</p>",
            table(
                [
                    "unit",
                    "",
                    Cell("last year", "num"),
                    Cell("predicted", "num"),
                    Cell("target", "num"),
                    Cell("growth", "num"),
                    Cell("pro rata", "num"),
                    Cell("P(hit)", "num"),
                    Cell("P(hit) pro rata", "num"),
                    "basis",
                ],
                dec_rows,
            ),
            fig(written, "study/target_decomposition.png", "Unit targets: last year, predicted, by response, pro rata"),
        ]
    if not levers.empty:
        lever_rows: list[list[Cell | str]] = [
            [
                Cell(code(r["target"])),
                Cell(code(r["lever"])),
                num(r["current"]),
                num(r["value"]),
                num(r.get("p_hit_current"), "pct"),
                num(r["p_hit"], "pct"),
                str(r["status"]),
                Cell(
                    esc(f"{r['kpi_now']:.3g} -> {r['kpi_at_end']:.3g} at {r['value_at_end']:g} (goal {r['goal']:.3g})"),
                    "num",
                ),
            ]
            for _, r in levers.iterrows()
        ]
        parts += [
            f"<h3>Levers for the targets {esc(focus)} misses</h3>",
            f"<p>Each lever moved alone over its search range, {settings.lever_replications} replications per value "
            "(coarse: a screening, not a plan).</p>",
            table(
                [
                    "target",
                    "lever",
                    Cell("now", "num"),
                    Cell("moved to", "num"),
                    Cell("P(hit) now", "num"),
                    Cell("P(hit) moved", "num"),
                    "result",
                    Cell("KPI now -> at the range's end", "num"),
                ],
                lever_rows,
            ),
        ]
    if not drill.empty:
        dims = drill.drop_duplicates("dimension")[["dimension", "dimension_mix", "dimension_rate"]]
        parts += [
            f"<h3>5W1H: where {esc(focus)}'s win rate change comes from</h3>",
            table(
                ["dimension", Cell("mix effect", "num"), Cell("rate effect", "num")],
                [
                    [str(r["dimension"]), num(r["dimension_mix"] * 100), num(r["dimension_rate"] * 100)]
                    for _, r in dims.iterrows()
                ],
                caption="Shift-share (Kitagawa): change of wins / leads in points = mix + rate, per dimension",
            ),
            fig(written, "study/drill_down.png", "Mix and rate effects per group"),
            f"<p><strong>The plan's example, computed:</strong> {esc(example)}.</p>",
        ]
    return section("Targets", *parts)
