"""The pilot designer: every replication is a simulated pilot, analysed by every rule at every length.

The variants inject a known lift of P(qualified) in their pilot regions from the pilot's
start (``pilot.*``); the null variant injects none, and its runs are the null pilots of
every design. A variant with a pipeline or a scheme of its own (``pilot.pipeline``,
``pilot.incentive``) is a real policy: nobody knows its effect in advance, so it is scored
apart, by how often each rule would roll it out and what its effect really was. The realised
true effect of a pilot is what the simulator knows: the treated regions' conversion over the
pilot weeks against the same regions in the null variant's run of the same replication (common
random numbers).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.html_parts import Cell, code, esc, table, with_sub
from experiments.studies import StudyOutput, fig, fmt, num, plot, section, stacked, write_csv

if TYPE_CHECKING:
    from experiments.app import Plan
    from experiments.scheduler import SweepOutcome

#: What a pilot's conversion counts: leads that arrived, and leads qualified, per region and week.
NUMERATOR, DENOMINATOR = "qualified", "leads"
#: The rules in the order the report lists them.
_RULE_ORDER = {"plan_rule": 0, "pre_post": 1, "did_placebo": 2, "cuped_did": 3, "synthetic_control": 4}


def weekly_panels(pipeline: pd.DataFrame, first: str) -> dict[tuple[str, int], pd.DataFrame]:
    """Per (variant, replication): the region x week panel (unit, week, leads, conversions, period_start).

    Weeks start at the first one on or after ``first`` (the end of the warm-up: the queues of
    the first weeks are still filling) and are numbered from 0.
    """
    pipeline = pipeline[pipeline["period_start"] >= first]
    weeks = sorted(pipeline["period_start"].unique())
    index = {w: i for i, w in enumerate(weeks)}
    grouped = pipeline.groupby(["variant", "replication", "region", "period_start"], sort=True)[
        [DENOMINATOR, NUMERATOR]
    ].sum()
    out: dict[tuple[str, int], pd.DataFrame] = {}
    for (variant, replication), frame in grouped.groupby(level=[0, 1], sort=False):
        flat = frame.reset_index()
        out[(str(variant), int(replication))] = pd.DataFrame(
            {
                "unit": flat["region"].astype(str),
                "week": flat["period_start"].map(index).astype(int),
                "leads": flat[DENOMINATOR].astype(int),
                "conversions": flat[NUMERATOR].astype(int),
                "period_start": flat["period_start"],
            }
        )
    return out


def _rate(panel: pd.DataFrame, units: tuple[str, ...], lo: int, hi: int) -> float:
    rows = panel[panel["unit"].isin(units) & (panel["week"] >= lo) & (panel["week"] < hi)]
    leads = rows["leads"].sum()
    return float(rows["conversions"].sum() / leads) if leads else math.nan


def pilot_design(plan: Plan, outcome: SweepOutcome, replications: pd.DataFrame, output_dir: Path) -> StudyOutput:
    """False positives, power, exaggeration and expected value of each rule and design; a recommendation."""
    from analysis.pilots import (  # noqa: PLC0415
        closed_form_pass_prob,
        closed_form_se,
        estimate_tau,
        evaluate,
        plot_operating_characteristics,
        recommend,
        verdict_rates,
    )

    settings = plan.experiment.pilot_design
    null = settings.null_variant or plan.variants[0].name
    result = StudyOutput()
    pipeline = stacked(plan, outcome, "pipeline")
    if pipeline.empty:
        result.lines.append("pilot design: no panel; nothing analysed")
        return result
    first = _warmup_end(plan)
    panels = weekly_panels(pipeline, first)
    weeks = sorted(w for w in pipeline["period_start"].unique() if w >= first)
    variants = {v.name: v for v in plan.variants if any(k[0] == v.name for k in panels)}
    starts = {v.scenario.pilot.start for v in variants.values() if v.scenario.pilot.regions}
    if len(starts) != 1 or null not in variants:
        result.lines.append("pilot design: needs pilot variants with one common start and a null variant")
        return result
    start_iso = next(iter(starts))
    assert start_iso is not None
    start = next((i for i, w in enumerate(weeks) if w >= start_iso), len(weeks))
    # A pilot with a pipeline or a scheme of its own is a real policy, its effect unknown: it is scored apart
    # from the grid of injected lifts (whose nominal effect labels each pilot).
    real = {
        name
        for name, v in variants.items()
        if v.scenario.pilot.pipeline is not None or v.scenario.pilot.incentive is not None
    }
    injected = [v for v in variants.values() if v.name not in real]
    designs = sorted({tuple(v.scenario.pilot.regions) for v in injected if v.scenario.pilot.regions})
    cases: list[tuple[str, tuple[str, ...], float]] = [(null, d, 0.0) for d in designs]
    cases += [
        (v.name, tuple(v.scenario.pilot.regions), v.scenario.pilot.qualify_lift)
        for v in injected
        if v.scenario.pilot.regions and v.name != null
    ]
    lengths = [w for w in settings.lengths_weeks if start + w <= len(weeks)]
    real_cases = [(name, tuple(variants[name].scenario.pilot.regions), math.nan) for name in sorted(real)]
    pilots, real_pilots = (
        pd.DataFrame(_pilot_rows(c, panels=panels, null=null, start=start, lengths=lengths, settings=settings))
        for c in (cases, real_cases)
    )
    real_table = verdict_rates(real_pilots) if not real_pilots.empty else pd.DataFrame()
    annual = _annual_gross_profit(plan, replications, null)
    prior = {float(k): w for k, w in settings.prior.items()} or None
    regions_of = {len(d): d for d in designs}
    cost = {(w, n): settings.pilot_cost_per_region_week * w * n for w in lengths for n in {len(d) for d in designs}}
    scores = evaluate(
        pilots,
        prior=prior,
        value_per_lift=annual * settings.value_share,
        rollout_cost=settings.rollout_cost,
        pilot_cost=cost,
        design_columns=("weeks", "treated_units"),
        realised="realised_effect",
    )
    for effect, group in pilots.groupby("true_effect"):
        scores[f"realised_at_{effect:g}"] = float(group["realised_effect"].mean())
    check = _closed_form_check(
        panels,
        null=null,
        designs=designs,
        start=start,
        lengths=lengths,
        settings=settings,
        scores=scores,
        formulas=(closed_form_se, closed_form_pass_prob, estimate_tau),
    )
    # recommended only where the false-positive rate is below the cap with 95% confidence (its Wilson upper bound)
    confident = scores[scores["fpr_high"] <= settings.max_fpr]
    best = recommend(confident, max_fpr=1.0) if not confident.empty else None
    frames = [(pilots, "pilots.csv"), (scores, "pilot_design.csv"), (check, "closed_form_check.csv")]
    if not real_table.empty:
        frames += [(real_pilots, "real_policy_pilots.csv"), (real_table, "real_policy.csv")]
    for frame, name in frames:
        key, path = write_csv(frame, output_dir, name)
        result.written[key] = path
    drawn = plot(output_dir, "pilot_design.png", lambda p: plot_operating_characteristics(scores, p))
    if drawn is not None:
        result.written[drawn[0]] = drawn[1]
    result.sections.append(
        _html(
            scores,
            check=check,
            best=best,
            settings=settings,
            annual=annual,
            regions_of=regions_of,
            written=result.written,
            real=real_table,
        )
    )
    result.lines += _lines(check, best) + _real_lines(real_table)
    if best is not None:
        result.metrics["pilot_recommended_weeks"] = float(best["weeks"])
        result.metrics["pilot_recommended_fpr"] = float(best["false_positive_rate"])
    plan_rows = scores[(scores["rule"] == "plan_rule")]
    for _, row in plan_rows.iterrows():
        result.metrics[f"plan_rule_fpr_{int(row['weeks'])}w_{int(row['treated_units'])}r"] = float(
            row["false_positive_rate"]
        )
    for _, row in real_table.iterrows():
        tag = f"{row['variant']}_{row['rule']}_{int(row['weeks'])}w"
        result.metrics[f"real_pass_rate_{tag}"] = float(row["pass_rate"])
    return result


def _pilot_rows(
    cases: list[tuple[str, tuple[str, ...], float]],
    *,
    panels: dict[tuple[str, int], pd.DataFrame],
    null: str,
    start: int,
    lengths: list[int],
    settings: Any,
) -> list[dict[str, Any]]:
    """One row per (case, replication, length, rule): the rule's estimate and the realised true effect.

    A case is (variant, its pilot regions, its nominal effect: NaN for a real policy). The
    realised effect is the pilot regions' conversion over the pilot weeks against the null
    variant's run of the same replication (common random numbers).
    """
    from analysis.pilots import RULES, PilotDesign  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    for variant, design, effect in cases:
        for (name, r), panel in panels.items():
            if name != variant:
                continue
            base = panels.get((null, r))
            for length in lengths:
                spec = PilotDesign(treated=design, start=start, weeks=length, pre_weeks=settings.pre_weeks)
                realised = (
                    _rate(panel, design, start, start + length) / _rate(base, design, start, start + length) - 1
                    if base is not None
                    else math.nan
                )
                for rule, estimator in RULES.items():
                    kwargs: dict[str, Any] = {"alpha": settings.alpha}
                    if rule == "plan_rule":
                        kwargs["threshold"] = settings.threshold
                    est = estimator(panel, spec, **kwargs)
                    rows.append(
                        {
                            "rule": rule,
                            "weeks": length,
                            "treated_units": len(design),
                            "design": "+".join(design),
                            "variant": variant,
                            "replication": r,
                            "true_effect": effect,
                            "realised_effect": realised,
                            "lift": est.lift,
                            "passed": est.passed,
                            "p_value": est.p_value,
                            "applicable": est.applicable,
                        }
                    )
    return rows


def _warmup_end(plan: Plan) -> str:
    import datetime as dt  # noqa: PLC0415

    scenario = plan.variants[0].scenario
    return (scenario.calendar.start() + dt.timedelta(days=scenario.horizon.warmup_days)).isoformat()


def _annual_gross_profit(plan: Plan, replications: pd.DataFrame, null: str) -> float:
    """The null world's gross profit per year (the value a +100% conversion would add at value_share 1)."""
    horizon = plan.variants[0].scenario.horizon
    days = horizon.days - horizon.warmup_days
    values = replications.loc[replications["variant"] == null, "gross_profit"].to_numpy(dtype=float)
    return float(np.nanmean(values)) * 365.0 / days if len(values) else math.nan


def _closed_form_check(
    panels: dict[tuple[str, int], pd.DataFrame],
    *,
    null: str,
    designs: list[tuple[str, ...]],
    start: int,
    lengths: list[int],
    settings: Any,
    scores: pd.DataFrame,
    formulas: tuple[Any, Any, Any],
) -> pd.DataFrame:
    """The plan rule's simulated false-positive rate next to domain.md §6's closed form at the same inputs."""
    closed_form_se, closed_form_pass_prob, estimate_tau = formulas
    nulls = [p for (v, _r), p in panels.items() if v == null]
    pre = [p[(p["week"] >= start - settings.pre_weeks) & (p["week"] < start)] for p in nulls]
    taus = [estimate_tau(p) for p in pre if not p.empty]
    tau = float(np.nanmean(taus)) if taus else math.nan
    pooled = pd.concat(pre)
    p = float(pooled["conversions"].sum() / pooled["leads"].sum())
    weekly = pooled.groupby("unit")["leads"].sum() / (settings.pre_weeks * len(nulls))
    rows = []
    for design in designs:
        controls = [u for u in weekly.index if u not in design]
        n_t_week = float(weekly[list(design)].sum())
        n_c_week = float(weekly[controls].sum())
        for length in lengths:
            se = closed_form_se(p, n_t_week * length, n_c_week * length, tau, length, n_c_week / n_t_week)
            sim = scores[
                (scores["rule"] == "plan_rule") & (scores["weeks"] == length) & (scores["treated_units"] == len(design))
            ]
            rows.append(
                {
                    "design": "+".join(design),
                    "weeks": length,
                    "conversion": p,
                    "leads_treated_per_week": n_t_week,
                    "leads_control_per_week": n_c_week,
                    "tau": tau,
                    "se": se,
                    "closed_form_fpr": closed_form_pass_prob(settings.threshold, 0.0, se),
                    "simulated_fpr": float(sim["false_positive_rate"].iloc[0]) if len(sim) else math.nan,
                    "simulated_fpr_low": float(sim["fpr_low"].iloc[0]) if len(sim) else math.nan,
                    "simulated_fpr_high": float(sim["fpr_high"].iloc[0]) if len(sim) else math.nan,
                    "mde80": 2.8 * se,
                }
            )
    return pd.DataFrame(rows)


def _lines(check: pd.DataFrame, best: pd.Series | None) -> list[str]:
    lines = []
    for _, row in check.iterrows():
        lines.append(
            f"pilot plan_rule {row['design']} {int(row['weeks'])} wk: false positives simulated "
            f"{fmt(row['simulated_fpr'], 'pct')} [{fmt(row['simulated_fpr_low'], 'pct')}, "
            f"{fmt(row['simulated_fpr_high'], 'pct')}], closed form {fmt(row['closed_form_fpr'], 'pct')} "
            f"(p={row['conversion']:.3f}, {row['leads_treated_per_week']:.0f} treated leads/wk, tau={row['tau']:.2f}); "
            f"MDE80 {fmt(row['mde80'], 'pct')}"
        )
    if best is not None:
        lines.append(
            f"pilot recommendation: {best['rule']} over {int(best['weeks'])} weeks in {int(best['treated_units'])} "
            f"region(s): false positives {fmt(best['false_positive_rate'], 'pct')}, power {fmt(best['power'], 'pct')}, "
            f"expected value {fmt(best['expected_value'], 'money')}"
        )
    else:
        lines.append("pilot recommendation: no design meets the false-positive cap")
    return lines


def _html(
    scores: pd.DataFrame,
    *,
    check: pd.DataFrame,
    best: pd.Series | None,
    settings: Any,
    annual: float,
    regions_of: dict[int, tuple[str, ...]],
    written: dict[str, Path],
    real: pd.DataFrame,
) -> str:
    effects = sorted(c.removeprefix("power_at_") for c in scores.columns if c.startswith("power_at_"))
    header: list[Cell | str] = ["rule", Cell("weeks", "num"), "regions", Cell("false positives", "num")]
    header += [
        Cell(
            with_sub(f"power at +{float(e):.0%}", esc(f"realised {fmt(scores[f'realised_at_{e}'].iloc[0], 'chg')}")),
            "num",
        )
        if f"realised_at_{e}" in scores
        else Cell(f"power at +{float(e):.0%}", "num")
        for e in effects
    ]
    header += [Cell("type M", "num"), Cell("P(real | pass)", "num"), Cell("expected value", "num")]
    rows = []
    ranked = scores.assign(_order=scores["rule"].map(_RULE_ORDER).fillna(len(_RULE_ORDER)))
    for _, r in ranked.sort_values(["_order", "treated_units", "weeks"]).iterrows():
        applicable = bool(r.get("applicable", True))
        chosen = best is not None and all(r[k] == best[k] for k in ("rule", "weeks", "treated_units"))
        name = Cell(esc(r["rule"]) + ("" if applicable else " <span class='sub'>not applicable</span>"))
        if chosen:
            name = Cell(name.html + " <span class='sub'>recommended</span>", "chosen")
        row: list[Cell | str] = [
            name,
            num(r["weeks"]),
            "+".join(regions_of.get(int(r["treated_units"]), ())),
            num(r["false_positive_rate"], "pct"),
        ]
        row += [num(r.get(f"power_at_{e}"), "pct") for e in effects]
        row += [num(r.get("type_m")), num(r.get("p_real_given_pass"), "pct"), num(r.get("expected_value"), "money")]
        rows.append(row)
    check_rows = [
        [
            r["design"],
            num(r["weeks"]),
            num(r["simulated_fpr"], "pct"),
            Cell(esc(f"{fmt(r['simulated_fpr_low'], 'pct')}-{fmt(r['simulated_fpr_high'], 'pct')}"), "num"),
            num(r["closed_form_fpr"], "pct"),
            num(r["leads_treated_per_week"]),
            num(r["conversion"], "pct1"),
            num(r["tau"]),
            num(r["mde80"], "pct"),
        ]
        for _, r in check.iterrows()
    ]
    advice = (
        f"<p><strong>Recommended design</strong>: {code(best['rule'])} over {int(best['weeks'])} weeks in "
        f"{esc('+'.join(regions_of.get(int(best['treated_units']), ())))} — false positives "
        f"{fmt(best['false_positive_rate'], 'pct')}, power {fmt(best['power'], 'pct')}, expected value "
        f"{fmt(best['expected_value'], 'money')} per decision.</p>"
        if best is not None
        else f"<p><strong>No design</strong> keeps false positives at or below {settings.max_fpr:.0%} "
        "with 95% confidence.</p>"
    )
    return section(
        "Pilot design",
        "<p>Every replication is one simulated pilot. The plan's rule rolls out when the pilot regions' "
        f"conversion beats the controls' by {settings.threshold:.0%} over the pilot; the others decide at "
        f"alpha = {settings.alpha:g}. Expected value per decision = Σ prior(effect) · P(roll out | effect) · "
        f"(effect · {fmt(annual * settings.value_share, 'money')} - {fmt(settings.rollout_cost, 'money')}) - "
        "the pilot's cost (the annual gross profit a +100% conversion would add; rollout and pilot costs are "
        "placeholders). The true effect of a pilot is its realised one: the pilot regions' conversion over the "
        "pilot weeks against the same replication without the policy (smaller than the nominal lift where "
        "P(qualified) is capped at 1, and diluted by leads that arrived before the start). Type M: median "
        "estimated / realised lift of the pilots with a real effect that pass.</p>",
        advice,
        table(header, rows, caption="Each rule and design against the true effect the model injects"),
        "<h3>The plan's rule against the closed form</h3>",
        table(
            [
                "pilot regions",
                Cell("weeks", "num"),
                Cell("simulated false positives", "num"),
                Cell("95% CI", "num"),
                Cell("closed form", "num"),
                Cell("treated leads / wk", "num"),
                Cell("conversion", "num"),
                Cell("τ", "num"),
                Cell("MDE80", "num"),
            ],
            check_rows,
            caption="domain.md §6: P(lift ≥ threshold | no effect) = 1 - Φ(threshold / SE) at this market's inputs",
        ),
        fig(written, "study/pilot_design.png", "False-positive rate and power per rule against the pilot's length"),
        _real_html(real, settings),
    )


def _real_html(real: pd.DataFrame, settings: Any) -> str:
    """The small table of a real policy (a pilot pipeline): each rule's verdict rate per length, and its true effect."""
    if real.empty:
        return ""
    lengths = sorted(int(w) for w in real["weeks"].unique())
    parts = [
        "<h3>A real policy</h3>",
        "<p>A pilot of a whole policy (a pipeline variant, <code>pilot.pipeline</code>, or an incentive scheme, "
        "<code>pilot.incentive</code>) in its regions from the start: "
        "nobody injects its effect, the simulator measures it. Per rule and pilot length, the share of "
        "pilots it would roll out (95% Wilson interval), and the realised true effect on conversion "
        f"(mean and 10th-90th percentile over the replications). The plan's rule needs +{settings.threshold:.0%}.</p>",
    ]
    for variant, block in real.groupby("variant", sort=True):
        header: list[Cell | str] = ["rule", *(Cell(f"rolls out at {w} wk", "num") for w in lengths)]
        rows: list[list[Cell | str]] = []
        ranked = block.assign(_order=block["rule"].map(_RULE_ORDER).fillna(len(_RULE_ORDER)))
        for rule, by_rule in ranked.sort_values(["_order", "weeks"]).groupby("rule", sort=False):
            at = by_rule.set_index("weeks")
            row: list[Cell | str] = [Cell(esc(str(rule)))]
            for w in lengths:
                r = at.loc[w] if w in at.index else None
                if r is None or not bool(r["applicable"]):
                    row.append(Cell("<span class='sub'>not applicable</span>", "num"))
                    continue
                interval = f"{fmt(r['pass_low'], 'pct')}-{fmt(r['pass_high'], 'pct')}"
                row.append(Cell(with_sub(esc(fmt(r["pass_rate"], "pct")), esc(interval)), "num"))
            rows.append(row)
        truth = block.drop_duplicates("weeks").set_index("weeks")
        effect: list[Cell | str] = [Cell("<em>realised true effect</em>")]
        for w in lengths:
            r = truth.loc[w]
            spread = f"{fmt(r['realised_p10'], 'chg')} to {fmt(r['realised_p90'], 'chg')}"
            effect.append(Cell(with_sub(esc(fmt(r["realised_mean"], "chg")), esc(spread)), "num"))
        rows.append(effect)
        n = int(block["n_pilots"].max())
        caption = f"{variant} in {block['design'].iloc[0]}: {n} simulated pilots per length"
        parts.append(table(header, rows, caption=caption))
    return "".join(parts)


def _real_lines(real: pd.DataFrame) -> list[str]:
    lines = []
    for (variant, weeks), block in real.groupby(["variant", "weeks"], sort=True):
        rates = ", ".join(
            f"{r['rule']} {fmt(r['pass_rate'], 'pct')}" for _, r in block.iterrows() if bool(r["applicable"])
        )
        effect = fmt(block["realised_mean"].iloc[0], "chg")
        lines.append(f"pilot real policy {variant} {int(weeks)} wk: realised effect {effect}; rolled out by {rates}")
    return lines
