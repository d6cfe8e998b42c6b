"""Sweep analysis: Pareto fronts, constrained selection, the sweep table and the sweep's plots."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.compare import compare_to_baseline, summarise
from analysis.selection import Selection, best_variant, overlaps, pareto_front
from analysis.stats import spread
from analysis.sweep import metric_vs_parameter_figure, sweep_table, tradeoff_figure, write_sweep_plots
from analysis.tornado import OFF_AXIS, tornado_figure
from experiments.caveats import swings

METRICS = ["revenue", "approval_sla_breach_rate"]
MANAGERS = "team.managers"
ESCALATE = "pipeline.approval.escalate_after_hours"
LEADS = "market.leads_per_week"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- inputs -----------------------------------------------------------------------------------


def hand_summary(rows: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """A summary table from ``{variant: {metric: (mean, half width)}}`` (5 replications each)."""
    return pd.DataFrame(
        [
            {"variant": v, "metric": m, "n": 5, "mean": mean, "ci_low": mean - h, "ci_high": mean + h, "sd": h}
            for v, metrics in rows.items()
            for m, (mean, h) in metrics.items()
        ]
    )


def replications(expected: dict[str, tuple[float, float]], reps: int = 6, seed: int = 7) -> pd.DataFrame:
    """A replication table: per variant, ``reps`` noisy draws around (revenue, breach rate)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 1.0, size=reps)  # common random numbers: replication r shares its noise
    rows = [
        {
            "variant": variant,
            "replication": r,
            "seed": 1000 + r,
            "revenue": revenue * (1 + 0.02 * common[r]) + rng.normal(0.0, 40_000.0),
            "approval_sla_breach_rate": max(0.0, breach + rng.normal(0.0, 0.004)),
        }
        for variant, (revenue, breach) in expected.items()
        for r in range(reps)
    ]
    return pd.DataFrame(rows)


def grid_tables(params: dict[str, dict[str, float]], expected: dict[str, tuple[float, float]]) -> tuple:
    """Summary, comparison (against ``legacy``) and variant parameters of a sweep."""
    table = replications(expected)
    summary = summarise(table, METRICS)
    comparison = compare_to_baseline(table, "legacy", METRICS)
    variant_params = pd.DataFrame.from_dict(params, orient="index")
    return summary, comparison, variant_params


@pytest.fixture
def grid2() -> tuple:
    """Managers 1-3 x escalation after 1 or 4 hours, and an explicit legacy baseline off the grid."""
    expected = {"legacy": (9.0e6, 0.12)}
    params: dict[str, dict[str, float]] = {"legacy": {MANAGERS: math.nan, ESCALATE: math.nan}}
    for managers in (1, 2, 3):
        for escalate in (1.0, 4.0):
            name = f"managers={managers},escalate={escalate}"
            expected[name] = (9.5e6 + 4e5 * managers - 1e5 * escalate, 0.1 / managers + 0.01 * escalate)
            params[name] = {MANAGERS: managers, ESCALATE: escalate}
    return grid_tables(params, expected)


@pytest.fixture
def grid1() -> tuple:
    """Leads per week 80, 100, 120 (string order would differ), and the legacy baseline."""
    expected = {
        "legacy": (9.0e6, 0.12),
        "leads=120": (1.1e7, 0.09),
        "leads=80": (8.0e6, 0.05),
        "leads=100": (9.5e6, 0.07),
    }
    params = {
        "legacy": {LEADS: math.nan},
        "leads=120": {LEADS: 120},
        "leads=80": {LEADS: 80},
        "leads=100": {LEADS: 100},
    }
    return grid_tables(params, expected)


@pytest.fixture
def sensitivity() -> pd.DataFrame:
    """One-at-a-time sensitivity of one variant: beta swings revenue most, reps least."""
    effects = {  # parameter: (low value, default value, high value, revenue at low, at high)
        "behaviour.beta": (0.0, 0.85, 1.7, 7.0e6, 13.0e6),
        "team.reps": (4, 6, 8, 9.5e6, 10.4e6),
        LEADS: (80, 100, 120, 9.0e6, 11.0e6),
    }
    rows = []
    for parameter, (low, default, high, at_low, at_high) in effects.items():
        for level, value, revenue in (("low", low, at_low), ("default", default, 10.0e6), ("high", high, at_high)):
            uplift = revenue / 9.0e6 - 1  # against a legacy baseline at 9M
            for metric, mean, h in (
                ("revenue", revenue, 2e5),
                ("revenue_uplift", uplift, 0.02),
                ("approval_sla_breach_rate", 0.05, 0.004),
            ):
                rows.append(
                    {
                        "parameter": parameter,
                        "level": level,
                        "value": value,
                        "variant": "managers=2,escalate=1.0",
                        "metric": metric,
                        "mean": mean,
                        "ci_low": mean - h,
                        "ci_high": mean + h,
                    }
                )
    return pd.DataFrame(rows)


# --- Pareto front -----------------------------------------------------------------------------

# cost: lower is better; value: higher is better.
FRONT_POINTS = {
    "a": (1.0, 5.0),  # front: cheapest
    "b": (2.0, 8.0),  # front
    "c": (3.0, 7.0),  # dominated by b (dearer and worse)
    "d": (2.0, 6.0),  # dominated by b (same cost, worse value)
    "e": (4.0, 9.0),  # front
    "f": (4.0, 9.0),  # exact tie with e: both stay
    "g": (math.nan, 10.0),  # no cost estimate: left out
    "h": (5.0, 9.0),  # dominated by e (dearer, same value)
}


def front_summary() -> pd.DataFrame:
    return hand_summary({v: {"cost": (x, 0.1), "value": (y, 0.1)} for v, (x, y) in FRONT_POINTS.items()})


def test_pareto_front_drops_dominated_points_keeps_ties_and_skips_nan():
    assert pareto_front(front_summary(), "cost", "value") == ["a", "b", "e", "f"]


def test_pareto_front_follows_the_better_directions():
    summary = front_summary()
    # Higher cost better, lower value better: a, d, c are each unbeaten; h beats e and f on cost.
    assert pareto_front(summary, "cost", "value", x_better=1, y_better=-1) == ["a", "d", "c", "h"]
    # Both higher: h (5, 9) beats everything with a finite cost.
    assert pareto_front(summary, "cost", "value", x_better=1, y_better=1) == ["h"]
    # Both lower: a (1, 5) beats everything.
    assert pareto_front(summary, "cost", "value", x_better=-1, y_better=-1) == ["a"]


def test_pareto_front_rejects_bad_directions_and_unknown_metrics():
    with pytest.raises(ValueError, match="better"):
        pareto_front(front_summary(), "cost", "value", x_better=0)
    with pytest.raises(ValueError, match="profit"):
        pareto_front(front_summary(), "cost", "profit")


# --- constrained selection --------------------------------------------------------------------

# revenue (mean, half width); breach rate (mean, half width)
CANDIDATES = {
    "legacy": {"revenue": (9.0e6, 2e5), "approval_sla_breach_rate": (0.120, 0.006)},
    "m1": {"revenue": (9.8e6, 2e5), "approval_sla_breach_rate": (0.060, 0.005)},
    "m2": {"revenue": (10.1e6, 2e5), "approval_sla_breach_rate": (0.040, 0.004)},
    "m3": {"revenue": (10.6e6, 2e5), "approval_sla_breach_rate": (0.045, 0.008)},  # mean meets, CI crosses 0.05
    "m4": {"revenue": (10.4e6, 3e5), "approval_sla_breach_rate": (0.030, 0.003)},
}


def test_best_variant_picks_the_best_feasible_mean():
    sel = best_variant(hand_summary(CANDIDATES), "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    assert sel.variant == "m4"
    assert sel.feasible == ["m4", "m2"]  # best first
    assert set(sel.rejected) == {"legacy", "m1", "m3"}
    assert sel.estimate == pytest.approx((10.4e6, 10.1e6, 10.7e6))


def test_a_mean_inside_the_bound_with_an_interval_across_it_is_rejected():
    sel = best_variant(hand_summary(CANDIDATES), "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    reason = sel.rejected["m3"]
    assert "approval_sla_breach_rate" in reason
    assert "upper bound 0.053" in reason
    assert "0.05" in reason
    assert "mean 0.045" in reason
    assert "m3" not in sel.feasible


def test_a_lower_bound_needs_the_whole_interval_above_it():
    summary = hand_summary({"a": {"win_rate": (0.31, 0.02)}, "b": {"win_rate": (0.36, 0.02)}})
    sel = best_variant(summary, "win_rate", constraints={"win_rate": (0.30, None)})
    assert sel.variant == "b"
    assert "win_rate 95% CI lower bound 0.29 is below min 0.3" in sel.rejected["a"]


def test_without_constraints_the_best_mean_wins_and_minimising_flips_it():
    summary = hand_summary(CANDIDATES)
    assert best_variant(summary, "revenue").variant == "m3"
    assert best_variant(summary, "approval_sla_breach_rate", maximize=False).variant == "m4"
    assert best_variant(summary, "revenue", maximize=False).variant == "legacy"


def test_ties_go_to_the_tighter_interval_then_the_name():
    summary = hand_summary(
        {
            "a_wide": {"revenue": (10.0e6, 4e5)},
            "c_tight": {"revenue": (10.0e6, 1e5)},
            "b_tight": {"revenue": (10.0e6, 1e5)},
        }
    )
    sel = best_variant(summary, "revenue")
    assert sel.variant == "b_tight"
    assert sel.feasible == ["b_tight", "c_tight", "a_wide"]


def test_nothing_feasible_gives_no_variant_and_every_reason():
    sel = best_variant(hand_summary(CANDIDATES), "revenue", constraints={"approval_sla_breach_rate": (None, 0.02)})
    assert sel.variant is None
    assert sel.feasible == []
    assert set(sel.rejected) == set(CANDIDATES)
    assert all("above max 0.02" in r for r in sel.rejected.values())
    text = sel.describe()
    assert text.startswith("No variant meets approval_sla_breach_rate <= 0.02")
    assert "0 of 5 variants" in text


def test_a_missing_interval_fails_a_constraint():
    summary = hand_summary(CANDIDATES)
    summary.loc[(summary["variant"] == "m4") & (summary["metric"] == "approval_sla_breach_rate"), "ci_high"] = math.nan
    sel = best_variant(summary, "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    assert sel.variant == "m2"
    assert "no 95% CI" in sel.rejected["m4"]


def test_describe_names_the_choice_its_interval_the_constraint_and_the_runner_up():
    candidates = {**CANDIDATES, "m2": {"revenue": (9.7e6, 2e5), "approval_sla_breach_rate": (0.040, 0.004)}}
    sel = best_variant(hand_summary(candidates), "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    assert sel.clear
    assert sel.best == "m4"
    assert sel.describe() == (
        "Highest revenue under approval_sla_breach_rate <= 0.05 (95% CI upper bound): "
        "'m4' with revenue 10.4M [10.1M, 10.7M] (95% CI), clearly ahead of the runner-up 'm2' "
        "(9.7M [9.5M, 9.9M]); 2 of 5 variants meet the constraints."
    )


def test_overlapping_intervals_are_no_clear_difference():
    # m4 [10.1M, 10.7M] and m2 [9.9M, 10.3M] overlap: m4 has the higher mean but is not called best.
    sel = best_variant(hand_summary(CANDIDATES), "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    assert sel.variant == "m4"
    assert not sel.clear
    assert sel.best is None
    assert sel.tied == ["m2"]
    text = sel.describe()
    assert text.startswith("No clear difference in revenue under approval_sla_breach_rate <= 0.05")
    assert "among 'm4' and 'm2'" in text
    assert "best" not in text.lower()


def test_ten_overlapping_variants_without_constraints_never_mention_constraints_or_a_best():
    summary = hand_summary({f"v{i}": {"revenue": (10.0e6 + i * 1e4, 2e5)} for i in range(10)})
    sel = best_variant(summary, "revenue")
    assert sel.variant == "v9"
    assert not sel.clear
    assert len(sel.tied) == 9
    text = sel.describe()
    assert "constraint" not in text
    assert "best" not in text.lower()
    assert "among 'v9', 'v8', 'v7' and 7 more" in text
    assert text.endswith("10 variants compared.")


def test_a_separated_winner_without_constraints_is_best_and_constraints_are_not_mentioned():
    summary = hand_summary({"legacy": {"revenue": (1.0e6, 1e5)}, "optimised": {"revenue": (3.0e6, 2e5)}})
    sel = best_variant(summary, "revenue")
    assert sel.best == "optimised"
    text = sel.describe()
    assert "constraint" not in text
    assert "clearly ahead of the runner-up 'legacy' (1M [900k, 1.1M])" in text


def test_intervals_that_only_touch_overlap_and_missing_ones_never_separate():
    assert overlaps((1.0, 0.5, 1.5), (2.0, 1.5, 2.5))
    assert not overlaps((1.0, 0.5, 1.4), (2.0, 1.5, 2.5))
    assert overlaps((1.0, math.nan, math.nan), (9.0, 8.0, 10.0))
    summary = hand_summary({"a": {"revenue": (1.0, 0.1)}, "b": {"revenue": (5.0, 0.1)}})
    summary.loc[summary["variant"] == "b", ["ci_low", "ci_high"]] = math.nan
    assert not best_variant(summary, "revenue").clear


def test_inverted_bounds_and_unknown_metrics_are_errors():
    summary = hand_summary(CANDIDATES)
    with pytest.raises(ValueError, match=r"min 0\.1 is above max 0\.05"):
        best_variant(summary, "revenue", constraints={"approval_sla_breach_rate": (0.1, 0.05)})
    with pytest.raises(ValueError, match="profit"):
        best_variant(summary, "profit")
    with pytest.raises(ValueError, match="win_rate"):
        best_variant(summary, "revenue", constraints={"win_rate": (0.2, None)})


# --- sweep table ------------------------------------------------------------------------------


def test_sweep_table_puts_the_baseline_first_then_sorts_by_parameters(grid2):
    summary, comparison, params = grid2
    table = sweep_table(summary, comparison, params, METRICS)
    assert list(table.index) == [
        "legacy",
        "managers=1,escalate=1.0",
        "managers=1,escalate=4.0",
        "managers=2,escalate=1.0",
        "managers=2,escalate=4.0",
        "managers=3,escalate=1.0",
        "managers=3,escalate=4.0",
    ]
    assert list(table.columns) == [
        MANAGERS,
        ESCALATE,
        "revenue",
        "revenue_ci_low",
        "revenue_ci_high",
        "revenue_uplift",
        "approval_sla_breach_rate",
        "approval_sla_breach_rate_ci_low",
        "approval_sla_breach_rate_ci_high",
        "approval_sla_breach_rate_uplift",
    ]
    row = summary[(summary["variant"] == "managers=2,escalate=4.0") & (summary["metric"] == "revenue")].iloc[0]
    assert table.loc["managers=2,escalate=4.0", "revenue_ci_high"] == pytest.approx(row["ci_high"])
    assert math.isnan(table.loc["legacy", "revenue_uplift"])
    assert table.loc["managers=3,escalate=1.0", "revenue_uplift"] == pytest.approx(
        comparison.set_index(["variant", "metric"]).loc[("managers=3,escalate=1.0", "revenue"), "uplift"]
    )


def test_sweep_table_sorts_numbers_as_numbers_and_has_no_uplift_without_a_comparison(grid1):
    summary, comparison, params = grid1
    assert list(sweep_table(summary, comparison, params, ["revenue"]).index) == [
        "legacy",
        "leads=80",
        "leads=100",
        "leads=120",
    ]
    table = sweep_table(summary, pd.DataFrame(), params, ["revenue"])
    assert list(table.columns) == [LEADS, "revenue", "revenue_ci_low", "revenue_ci_high"]
    assert list(table.index) == ["leads=80", "leads=100", "leads=120", "legacy"]  # no baseline known: NaN last


def test_sweep_table_without_a_grid_is_the_baseline_then_the_rest_by_name():
    table = replications({"optimised": (1.02e7, 0.03), "legacy": (9.0e6, 0.12), "esign": (9.6e6, 0.1)})
    summary, comparison = summarise(table, METRICS), compare_to_baseline(table, "legacy", METRICS)
    out = sweep_table(summary, comparison, pd.DataFrame(), ["revenue"])
    assert list(out.index) == ["legacy", "esign", "optimised"]
    assert list(out.columns) == ["revenue", "revenue_ci_low", "revenue_ci_high", "revenue_uplift"]
    assert out.loc["optimised", "revenue_uplift"] == pytest.approx(1.02e7 / 9.0e6 - 1, abs=0.03)


# --- figures ----------------------------------------------------------------------------------


def labelled_lines(fig: Figure) -> dict[str, object]:
    ax = fig.axes[0]
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_metric_vs_parameter_draws_a_line_per_group_and_the_baseline(grid2):
    summary, _, params = grid2
    fig = metric_vs_parameter_figure(summary, params, "revenue", MANAGERS, ESCALATE, baseline="legacy")
    assert isinstance(fig, Figure)
    lines = labelled_lines(fig)
    assert set(lines) == {"1", "4", "baseline (legacy)"}
    assert list(lines["1"].get_xdata()) == [1.0, 2.0, 3.0]
    legacy = summary[(summary["variant"] == "legacy") & (summary["metric"] == "revenue")]["mean"].iloc[0]
    assert lines["baseline (legacy)"].get_ydata()[0] == pytest.approx(legacy)
    assert lines["baseline (legacy)"].get_linestyle() == "--"
    ax = fig.axes[0]
    assert "revenue" in ax.get_title()
    assert "managers" in ax.get_title()
    assert ax.get_xlabel() == MANAGERS


def test_metric_vs_parameter_sorts_x_numerically_and_skips_the_off_grid_baseline(grid1):
    summary, _, params = grid1
    fig = metric_vs_parameter_figure(summary, params, "approval_sla_breach_rate", LEADS)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 1
    assert list(lines[0].get_xdata()) == [80.0, 100.0, 120.0]
    assert lines[0].get_ydata()[0] == pytest.approx(0.05, abs=0.01)


def test_metric_vs_parameter_splits_lines_by_the_remaining_parameters():
    rows, params = {}, {}
    for managers in (1, 2):
        for escalate in (1.0, 4.0):
            for channel in ("web", "phone"):
                name = f"m={managers},e={escalate},ch={channel}"
                rows[name] = {"revenue": (10e6 + 1e5 * managers - 1e4 * escalate, 1e5)}
                params[name] = {MANAGERS: managers, ESCALATE: escalate, "market.channel": channel}
    summary, variant_params = hand_summary(rows), pd.DataFrame.from_dict(params, orient="index")
    lines = labelled_lines(metric_vs_parameter_figure(summary, variant_params, "revenue", MANAGERS))
    assert len(lines) == 4
    assert "escalate_after_hours=1, channel=phone" in lines
    by_channel = labelled_lines(metric_vs_parameter_figure(summary, variant_params, "revenue", "market.channel"))
    assert len(by_channel) == 4
    ticks = [
        t.get_text()
        for t in metric_vs_parameter_figure(summary, variant_params, "revenue", "market.channel")
        .axes[0]
        .get_xticklabels()
    ]
    assert ticks == ["web", "phone"]  # grid order for text values


def test_metric_vs_parameter_rejects_an_unswept_parameter(grid1):
    summary, _, params = grid1
    with pytest.raises(ValueError, match=r"team\.reps"):
        metric_vs_parameter_figure(summary, params, "revenue", "team.reps")


def test_tradeoff_figure_joins_the_front_and_marks_baseline_and_choice(grid2):
    summary, _, _ = grid2
    front = pareto_front(summary, "approval_sla_breach_rate", "revenue")
    assert front  # the grid has a non-empty front
    fig = tradeoff_figure(
        summary, "approval_sla_breach_rate", "revenue", front=front, highlight=front[0], baseline="legacy"
    )
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    means = summary[summary["metric"] == "approval_sla_breach_rate"].set_index("variant")["mean"]
    front_line = next(
        line for line in ax.get_lines() if len(line.get_xdata()) == len(front) and line.get_linestyle() == "-"
    )
    assert list(front_line.get_xdata()) == pytest.approx(sorted(means[front]))
    labels = {t.get_text().replace("\n", ",") for t in ax.texts}  # long names wrap at commas
    assert labels == set(front)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]  # below the axes, outside the data
    assert "baseline: legacy" in legend
    assert f"best: {front[0]}" in legend


def test_tornado_puts_the_largest_swing_on_top_and_labels_the_values(sensitivity):
    fig = tornado_figure(sensitivity, "revenue", "managers=2,escalate=1.0")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    # bottom to top: swing 0.9M, 2M, 6M; each label names the values the parameter took
    assert ticks == ["team.reps\nlow 4 / high 8", f"{LEADS}\nlow 80 / high 120", "behaviour.beta\nlow 0 / high 1.7"]
    assert not ax.texts  # nothing written inside the axes
    default = [line for line in ax.get_lines() if list(line.get_xdata()) == [10.0e6, 10.0e6]]
    assert default
    legend = {t.get_text(): h for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles, strict=True)}
    low, high = legend["low end of its range"].get_facecolor(), legend["high end of its range"].get_facecolor()
    assert low != high
    assert {bar.get_facecolor() for bar in ax.patches} == {low, high}
    assert len(ax.patches) == 6  # a low and a high half per parameter
    assert "Sensitivity of revenue" in ax.get_title()


def visible_texts(fig: Figure) -> list:
    """Every non-empty text artist of a drawn figure: titles, tick and axis labels, legends, annotations."""
    drawn(fig)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    return [t for t in texts if t.get_window_extent().width > 0]


def drawn(fig: Figure) -> Figure:
    """``fig`` drawn on an Agg canvas, so that text extents and tick labels are final."""
    FigureCanvasAgg(fig).draw()
    return fig


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts whose drawn bounding boxes overlap."""
    texts = visible_texts(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [
        (a, b)
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b)
        and box_a.intersection(box_a, box_b).width * box_a.intersection(box_a, box_b).height > 1
    ]


def test_tornado_labels_never_overlap_even_with_many_long_parameters():
    rows = []
    for i in range(9):
        name = f"behaviour.some_rather_long_group.parameter_number_{i}"
        for level, value, mean in (("low", 0.001 * i, 2.0 + 0.01 * i), ("default", 1.0, 2.1), ("high", 10.0, 2.2)):
            for metric, scale in (("revenue_uplift", 1.0), ("revenue", 1e6)):
                m = mean * scale
                rows.append(
                    {
                        "parameter": name,
                        "level": level,
                        "value": value,
                        "variant": "v",
                        "metric": metric,
                        "mean": m,
                        "ci_low": m - 0.5 * scale,
                        "ci_high": m + 0.5 * scale,
                    }
                )
    table = pd.DataFrame(rows)
    for metric in ("revenue_uplift", "revenue"):
        assert overlapping_texts(tornado_figure(table, metric, "v")) == []


def test_tornado_of_an_uplift_is_in_percent_like_the_tables(sensitivity):
    fig = tornado_figure(sensitivity, "revenue_uplift", "managers=2,escalate=1.0")
    ax = drawn(fig).axes[0]
    # default uplift 10M / 9M - 1 = 11.1%: drawn at 11.1 on a percent axis, not at the ratio 0.111
    assert any(list(line.get_xdata()) == pytest.approx([100 / 9, 100 / 9]) for line in ax.get_lines())
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels
    assert all(label.endswith("%") for label in labels)
    assert "%" in ax.get_xlabel()
    assert any("+11.1%" in t.get_text() for t in fig.legends[0].get_texts())


def one_at_a_time(effects: dict[str, tuple[float, float]], centre: float = 1.0, h: float = 0.01) -> pd.DataFrame:
    """A sensitivity table of variant ``v`` from ``{parameter: (mean at low, mean at high)}``."""
    rows = []
    for parameter, (at_low, at_high) in effects.items():
        for level, value, mean in (("low", 0.0, at_low), ("default", 1.0, centre), ("high", 2.0, at_high)):
            rows.append(
                {
                    "parameter": parameter,
                    "level": level,
                    "value": value,
                    "variant": "v",
                    "metric": "m",
                    "mean": mean,
                    "ci_low": mean - h,
                    "ci_high": mean + h,
                }
            )
    return pd.DataFrame(rows)


def test_tornado_draws_only_the_largest_swings_and_says_how_many_there_are():
    table = one_at_a_time({f"p{i:02d}": (1.0 - 0.01 * i, 1.0 + 0.01 * i) for i in range(1, 31)})
    ax = tornado_figure(table, "m", "v", top=20).axes[0]
    names = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert names == [f"p{i:02d}" for i in range(11, 31)]  # p30 swings most: on top
    assert "the 20 largest swings of 30 parameters" in ax.get_title()
    whole = tornado_figure(table, "m", "v", top=30).axes[0]
    assert len(whole.get_yticklabels()) == 30
    assert "largest swings" not in whole.get_title()
    with pytest.raises(ValueError, match="top"):
        tornado_figure(table, "m", "v", top=0)


def test_the_tornado_and_the_report_table_rank_swings_alike_even_with_an_end_missing():
    # one_sided's high end did not run (NaN): its swing is the low end's distance to the default
    table = one_at_a_time(
        {"one_sided": (0.7, math.nan), "both_above": (1.2, 1.25), "apart": (0.9, 1.1), "flat": (1.0, 1.0)}
    )
    ax = tornado_figure(table, "m", "v").axes[0]
    drawn_order = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()][::-1]  # top first
    ranked = swings(table, "m")
    assert drawn_order == [s.parameter for s in ranked] == ["one_sided", "both_above", "apart", "flat"]
    assert {s.parameter: s.width for s in ranked} == pytest.approx(
        {"one_sided": 0.3, "both_above": 0.25, "apart": 0.2, "flat": 0.0}
    )


def test_spread_is_the_range_of_the_values_that_ran():
    assert spread([0.9, 1.0, 1.1]) == pytest.approx(0.2)
    assert spread([1.1, 1.0, 1.2]) == pytest.approx(0.2)  # both ends above the default
    assert spread([math.nan, 1.0, 1.3]) == pytest.approx(0.3)
    assert spread([math.nan, 1.0, math.nan]) == 0.0
    assert spread([]) == 0.0


def test_a_bar_far_beyond_the_rest_runs_off_the_axis_with_its_value_in_its_label():
    table = one_at_a_time({"huge": (1.0, 30.0), "mid": (0.8, 1.3), "small": (0.95, 1.05)})
    ax = drawn(tornado_figure(table, "m", "v")).axes[0]
    low, high = ax.get_xlim()
    assert high < 30.0 / OFF_AXIS  # fitted to the others, not flattened by the huge one
    assert low <= 0.79  # every other bar and its interval fits
    assert high >= 1.31
    labels = {t.get_text().split("\n")[0]: t.get_text() for t in ax.get_yticklabels()}
    assert "high end 30, off the axis" in labels["huge"]
    assert "off the axis" not in labels["mid"] + labels["small"]
    assert max(p.get_x() + p.get_width() for p in ax.patches) == pytest.approx(high)  # drawn to the edge
    assert overlapping_texts(ax.figure) == []


def test_comparable_bars_all_stay_on_the_axis():
    # 3x the next bar is a big spread but not an artefact of scale: every bar is drawn in full
    table = one_at_a_time({"a": (1.0, 4.0), "b": (1.0, 2.0), "c": (0.9, 1.1)})
    ax = tornado_figure(table, "m", "v").axes[0]
    assert ax.get_xlim()[1] > 4.0
    assert not any("off the axis" in t.get_text() for t in ax.get_yticklabels())


def test_tornado_rejects_a_variant_without_rows(sensitivity):
    with pytest.raises(ValueError, match="legacy"):
        tornado_figure(sensitivity, "revenue", "legacy")


# --- files ------------------------------------------------------------------------------------


def written(paths: list[Path], out_dir: Path) -> set[str]:
    assert all(p.parent == out_dir and p.read_bytes()[:8] == PNG_MAGIC for p in paths)
    assert {p.name for p in out_dir.iterdir()} == {p.name for p in paths}
    return {p.name for p in paths}


def test_write_sweep_plots_two_parameter_grid_with_sensitivity(grid2, sensitivity, tmp_path):
    summary, comparison, params = grid2
    selection = best_variant(summary, "revenue", constraints={"approval_sla_breach_rate": (None, 0.05)})
    paths = write_sweep_plots(
        summary,
        comparison,
        params,
        metrics=METRICS,
        tradeoff=("approval_sla_breach_rate", "revenue"),
        selection=selection,
        baseline="legacy",
        sensitivity=sensitivity,
        out_dir=tmp_path,
    )
    assert written(paths, tmp_path) == {f"vs_{p}_{m}.png" for p in (MANAGERS, ESCALATE) for m in METRICS} | {
        "tradeoff_approval_sla_breach_rate_revenue.png",
        "tornado_revenue.png",
        "tornado_revenue_uplift.png",
        "tornado_approval_sla_breach_rate.png",
    }


def test_write_sweep_plots_one_parameter_grid_without_sensitivity(grid1, tmp_path):
    summary, comparison, params = grid1
    paths = write_sweep_plots(
        summary,
        comparison,
        params,
        metrics=["revenue"],
        tradeoff=None,
        selection=None,
        baseline="legacy",
        sensitivity=None,
        out_dir=tmp_path / "plots",
    )
    assert written(paths, tmp_path / "plots") == {"vs_market.leads_per_week_revenue.png"}


def test_write_sweep_plots_without_a_grid_names_tornados_per_variant(sensitivity, tmp_path):
    table = replications({"legacy": (9.0e6, 0.12), "optimised": (1.02e7, 0.03)})
    summary, comparison = summarise(table, METRICS), compare_to_baseline(table, "legacy", METRICS)
    other = sensitivity.assign(variant="legacy")
    paths = write_sweep_plots(
        summary,
        comparison,
        pd.DataFrame(),
        metrics=["revenue"],
        tradeoff=("approval_sla_breach_rate", "revenue"),
        selection=Selection("optimised", "revenue", True, {}, ["optimised", "legacy"], {}),
        baseline="legacy",
        sensitivity=pd.concat([sensitivity, other]),
        out_dir=tmp_path,
    )
    assert written(paths, tmp_path) == {
        "tradeoff_approval_sla_breach_rate_revenue.png",
        "tornado_managers_2_escalate_1.0_revenue.png",
        "tornado_managers_2_escalate_1.0_revenue_uplift.png",
        "tornado_legacy_revenue.png",
        "tornado_legacy_revenue_uplift.png",
    }


def test_write_sweep_plots_plots_only_numeric_parameters_of_a_wider_grid(tmp_path):
    rows, params = {}, {}
    for managers in (1, 2):
        for escalate in (1.0, 4.0):
            for channel in ("web", "phone"):
                name = f"m={managers},e={escalate},ch={channel}"
                rows[name] = {"revenue": (10e6 + 1e5 * managers, 1e5)}
                params[name] = {MANAGERS: managers, ESCALATE: escalate, "market.channel": channel}
    paths = write_sweep_plots(
        hand_summary(rows),
        pd.DataFrame(),
        pd.DataFrame.from_dict(params, orient="index"),
        metrics=["revenue"],
        tradeoff=None,
        selection=None,
        baseline="none",
        sensitivity=None,
        out_dir=tmp_path,
    )
    assert written(paths, tmp_path) == {f"vs_{MANAGERS}_revenue.png", f"vs_{ESCALATE}_revenue.png"}


# --- layering ---------------------------------------------------------------------------------


def test_sweep_imports_no_simulation_or_orchestration_package():
    source = Path(__file__).resolve().parents[2] / "analysis" / "sweep.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported  # the walk found the imports
    assert not imported & {"simpy", "sim", "experiments", "ray", "mlflow", "hydra", "omegaconf"}


def test_uplift_chart_is_in_percent_with_its_legend_outside_the_axes_and_inside_the_figure():
    from analysis.plots import uplift_figure

    rows = [
        {
            "variant": f"managers={m},escalate_after_hours={e}",
            "metric": metric,
            "uplift": u,
            "uplift_ci_low": u - 0.3,
            "uplift_ci_high": u + 0.3,
        }
        for m in (1, 2, 3)
        for e in (0.5, 1, 2)
        for metric, u in (("revenue", 2.1), ("win_rate", 0.05))
    ]
    fig = drawn(uplift_figure(pd.DataFrame(rows), ["revenue", "win_rate"], baseline="legacy"))
    ax = fig.axes[0]
    assert all(t.get_text().endswith("%") for t in ax.get_xticklabels() if t.get_text())
    points = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert max(x for line in points for x in line.get_xdata()) == pytest.approx(210.0)  # percent, not 2.1
    assert not ax.get_legend()  # a legend marker inside the axes reads as a data point
    (legend,) = fig.legends
    renderer = fig.canvas.get_renderer()
    box, axes_box, figure_box = legend.get_window_extent(renderer), ax.get_window_extent(renderer), fig.bbox
    assert box.y1 <= axes_box.y0  # below the axes
    assert box.x0 >= figure_box.x0 - 1
    assert box.x1 <= figure_box.x1 + 1  # and not cut off by the figure's edge
    assert overlapping_texts(fig) == []
