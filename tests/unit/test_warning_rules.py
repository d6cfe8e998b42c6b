"""Warning detectors on hand-made series, rule configs and their validation, the plan's catalogue."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy.stats import binom

from salesboost import warnings as warning_rules
from salesboost.errors import ConfigError
from salesboost.warnings import (
    CHART_RULES,
    PLAN_RULES,
    ChangeFrom,
    Cusum,
    Ewma,
    PChart,
    RuleConfig,
    Shewhart,
    Streak,
    Threshold,
    alarms,
    lower_tail,
    rule_from_dict,
    run_length,
    upper_tail,
)

NAN = math.nan


def test_module_does_not_shadow_the_standard_library() -> None:
    import warnings

    assert warnings is sys.modules["warnings"]
    assert hasattr(warnings, "catch_warnings")
    assert warning_rules.__name__ == "salesboost.warnings"


# -- Shewhart ------------------------------------------------------------------------------------
def test_shewhart_limits_and_sides() -> None:
    both, upper, lower = Shewhart(10.0, 2.0), Shewhart(10.0, 2.0, side="upper"), Shewhart(10.0, 2.0, side="lower")
    assert both.update(16.1)
    assert upper.update(16.1)
    assert not lower.update(16.1)
    assert both.update(3.9)
    assert lower.update(3.9)
    assert not upper.update(3.9)
    assert not both.update(16.0)  # on the limit: not beyond it
    assert not both.update(NAN)
    assert alarms(Shewhart(0.0, 1.0, L=2.0), [0.0, 2.5, -1.0, -2.1]) == [1, 3]


# -- EWMA ----------------------------------------------------------------------------------------
def test_ewma_signals_on_a_large_shift_and_not_before() -> None:
    # lam 0.2, L 3: asymptotic half-width 3 sqrt(0.2 / 1.8) = 1.0; a shift to 4 gives z 0.8, then 1.44.
    series = [0.0] * 10 + [4.0] * 6
    exact = alarms(Ewma(0.0, 1.0, 0.2, 3.0), series)
    assert exact[0] == 11
    # After a signal z restarts at the mean with t = 0: the start-up half-width is 0.6 < 0.8.
    assert exact == [11, 12, 13, 14, 15]
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, limits="asymptotic"), series) == [11, 13, 15]


def test_ewma_exact_limits_are_narrow_at_the_start() -> None:
    # t = 1: z = 0.2 x = 0.7; exact half-width 3 sqrt(0.2 / 1.8 (1 - 0.8^2)) = 0.6, asymptotic 1.0.
    assert Ewma(0.0, 1.0, 0.2, 3.0).update(3.5)
    assert not Ewma(0.0, 1.0, 0.2, 3.0, limits="asymptotic").update(3.5)


def test_ewma_sides_and_nan() -> None:
    up = [0.0] * 3 + [5.0] * 3
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, side="lower"), up) == []
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, side="upper"), up) != []
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, side="upper"), [-x for x in up]) == []
    # NaN is skipped: the same alarms as without it, one index later.
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, limits="asymptotic"), [0.0, NAN, 4.0, 4.0]) == [3]
    assert alarms(Ewma(0.0, 1.0, 0.2, 3.0, limits="asymptotic"), [0.0, 4.0, 4.0]) == [2]
    with_nan = alarms(Ewma(0.0, 1.0, 0.2, 3.0), [0.0, NAN, 4.0, 4.0])
    assert with_nan == [i + 1 for i in alarms(Ewma(0.0, 1.0, 0.2, 3.0), [0.0, 4.0, 4.0])]


# -- CUSUM ---------------------------------------------------------------------------------------
def test_cusum_resets_after_a_signal() -> None:
    cusum = Cusum(0.0, 1.0, k=0.5, h=2.0, side="upper")
    assert alarms(cusum, [1.5] * 6) == [2, 5]  # S+ = 1, 2, 3 > 2: signal, back to 0, ...
    assert cusum.sums == (0.0, 0.0)


def test_cusum_sides_standardise_and_reset_only_the_signalling_sum() -> None:
    assert alarms(Cusum(0.0, 1.0, 0.5, 2.0, "lower"), [-1.5] * 3) == [2]
    assert alarms(Cusum(0.0, 1.0, 0.5, 2.0, "upper"), [-1.5] * 3) == []
    assert alarms(Cusum(100.0, 10.0, 0.5, 2.0, "upper"), [115.0] * 3) == [2]  # z = 1.5
    both = Cusum(0.0, 1.0, 0.5, 2.0, "both")
    assert alarms(both, [-1.5, -1.5]) == []
    assert both.sums == (0.0, 2.0)
    assert alarms(both, [-1.5] * 3 + [1.5] * 3) == [2, 5]  # S- = 1, 2, 3: signal; then S+ = 1, 2, 3
    assert both.sums == (0.0, 0.0)
    assert alarms(Cusum(0.0, 1.0, 0.5, 2.0, "both"), [1.5, 1.5, NAN, 1.5]) == [3]  # NaN skipped


def test_cusum_on_a_steady_level_never_signals() -> None:
    assert run_length(Cusum(5.0, 1.0, 0.5, 4.0, "both"), [5.0] * 1000) is None


# -- p-chart -------------------------------------------------------------------------------------
def test_pchart_with_no_trials_never_signals() -> None:
    for exact in (False, True):
        chart = PChart(0.02, exact=exact, side="both")
        assert not chart.update(50, 0)
        assert not chart.update(0, 0)
        assert not chart.update(NAN, 100)
        assert not chart.update(5, NAN)


def test_pchart_normal_limits() -> None:
    # p0 0.1, n 100: limits 0.1 +- 0.09.
    assert PChart(0.1).update(20, 100)
    assert not PChart(0.1).update(18, 100)
    assert not PChart(0.1).update(0, 100)  # the upper side only
    assert PChart(0.1, side="lower").update(0, 100)
    assert PChart(0.1, side="both").update(0, 100)


@pytest.mark.parametrize(("n", "p0"), [(200, 0.01), (50, 0.02), (5_000, 0.02), (5_000, 0.003), (300, 0.4)])
def test_exact_pchart_signals_where_the_binomial_tail_drops_below_alpha(n: int, p0: float) -> None:
    alpha = 0.5 * math.erfc(3 / math.sqrt(2))
    counts = np.arange(n + 1)
    first = int(counts[binom.sf(counts - 1, n, p0) < alpha][0])
    chart = PChart(p0, exact=True)
    assert chart.update(first, n)
    assert not chart.update(first - 1, n)
    below = counts[binom.cdf(counts, n, p0) < alpha]
    low = int(below[-1]) if len(below) else -1
    lower = PChart(p0, exact=True, side="lower")
    if low >= 0:
        assert lower.update(low, n)
    assert not lower.update(low + 1, n)


def test_exact_and_normal_pchart_differ_on_rare_counts() -> None:
    # n 200, p0 1%: normal UCL 3.11% is 7 complaints, but P(X >= 7) = 0.0043 > 0.00135.
    assert PChart(0.01).update(7, 200)
    assert not PChart(0.01, exact=True).update(7, 200)
    assert PChart(0.01, exact=True).update(9, 200)


@pytest.mark.parametrize("n", [1, 10, 200, 5_000])
@pytest.mark.parametrize("p", [0.001, 0.02, 0.3, 0.9])
def test_binomial_tails_match_scipy(n: int, p: float) -> None:
    for c in sorted({0, 1, 2, n // 3, round(n * p), round(n * p) + 1, n - 1, n, int(n * p + 5 * math.sqrt(n))}):
        if 0 <= c <= n:
            assert upper_tail(c, n, p) == pytest.approx(binom.sf(c - 1, n, p), rel=1e-9, abs=1e-300)
            assert lower_tail(c, n, p) == pytest.approx(binom.cdf(c, n, p), rel=1e-9, abs=1e-300)
    assert upper_tail(n + 1, n, p) == 0.0
    assert lower_tail(-1, n, p) == 0.0


def test_binomial_tail_stop_only_bounds_a_large_tail() -> None:
    assert upper_tail(2, 200, 0.01, stop=0.01) >= 0.01
    assert upper_tail(12, 200, 0.01, stop=0.01) == pytest.approx(binom.sf(11, 200, 0.01), rel=1e-9)


# -- Threshold -----------------------------------------------------------------------------------
def test_threshold_two_months_running_fires_from_the_second_month() -> None:
    series = [0.8, 0.6, 0.6, 0.6, 0.8, 0.6, 0.75, 0.6, NAN, 0.6, 0.6]
    assert alarms(Threshold(0.7, "below", 2), series) == [2, 3, 10]
    assert alarms(Threshold(0.7, "below", 2), [0.6]) == []
    assert alarms(Threshold(0.7, "below", 2), [0.6, 0.6]) == [1]


def test_threshold_limit_is_strict_and_nan_never_signals() -> None:
    assert alarms(Threshold(0.7, "below"), [0.7, 0.69, NAN]) == [1]
    assert alarms(Threshold(0.02, "above"), [0.02, 0.021, NAN, 0.03]) == [1, 3]
    assert alarms(Threshold(0.8, "below"), [0.75] * 4) == [0, 1, 2, 3]  # always on, every month


# -- Streak --------------------------------------------------------------------------------------
def test_streak_negative_reading() -> None:
    series = [-1.0, -1.0, -1.0, -1.0, 1.0, -1.0, -1.0, NAN, -1.0, -1.0, -1.0]
    assert alarms(Streak(3, "negative"), series) == [2, 3, 10]
    assert alarms(Streak(3, "negative"), [-0.1, 0.0, -0.1, -0.2]) == []  # zero is not negative


def test_streak_decline_reading() -> None:
    series = [5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 1.0, 0.0, -1.0]
    assert alarms(Streak(3, "decline"), series) == [3, 4, 8]  # 3 declines take 4 values
    assert alarms(Streak(3, "negative"), series) == []
    assert alarms(Streak(3, "decline"), [3.0, 2.0, 2.0, 1.0, 0.0]) == []  # no change breaks the run
    assert alarms(Streak(3, "decline"), [3.0, 2.0, NAN, 1.0, 0.0, -1.0]) == []  # NaN breaks it
    assert alarms(Streak(2, "decline"), [3.0, 2.0, NAN, 1.0, 0.0, -1.0]) == [5]


# -- ChangeFrom ----------------------------------------------------------------------------------
def test_change_never_signals_in_its_baseline() -> None:
    rule = ChangeFrom(0.05, "points", "above", baseline_periods=3)
    assert alarms(rule, [0.30, 0.90, 0.0, 0.45, 0.449, 0.50]) == [3, 5]  # ref 0.4: 0.45 or more signals
    assert rule.reference == pytest.approx(0.4)


def test_change_points_vs_relative() -> None:
    base = [0.30] * 12
    points = ChangeFrom(0.05, "points", "above")
    relative = ChangeFrom(0.05, "relative", "above")
    assert alarms(points, [*base, 0.315, 0.349, 0.35]) == [14]  # 5 percentage points: 0.35
    assert alarms(relative, [*base, 0.314, 0.315, 0.35]) == [13, 14]  # 5% of 0.30: 0.315
    down = ChangeFrom(0.10, "relative", "below")
    assert alarms(down, [*[0.5] * 12, 0.46, 0.45, 0.55, 0.30]) == [13, 15]


def test_change_skips_nan_and_a_relative_change_from_zero_never_signals() -> None:
    assert alarms(ChangeFrom(0.05, baseline_periods=2), [NAN, 0.3, 0.3, NAN, 0.4]) == [4]
    assert alarms(ChangeFrom(0.05, "relative", baseline_periods=2), [0.0, 0.0, 1.0]) == []


# -- run_length and alarms -----------------------------------------------------------------------
def test_run_length_and_alarms_start_from_a_reset_detector() -> None:
    rule = Threshold(0.0, "above", 2)
    assert run_length(rule, [1.0, -1.0, 1.0, 1.0]) == 4
    rule.update(1.0)  # a run in progress is forgotten
    assert run_length(rule, [1.0, -1.0]) is None
    assert alarms(rule, [1.0, 1.0, 1.0]) == [1, 2]
    assert run_length(rule, []) is None


def test_run_length_and_alarms_with_trials() -> None:
    chart = PChart(0.1, side="upper")
    assert run_length(chart, [5, 30, 30], [100, 0, 100]) == 3
    assert alarms(chart, [30, 30, 5], [100, 100, 100]) == [0, 1]
    with pytest.raises(ValueError, match="zip"):
        alarms(chart, [1, 2], [100])


# -- RuleConfig ----------------------------------------------------------------------------------
def test_rule_defaults_per_chart() -> None:
    ewma = RuleConfig(indicator="sales", chart="ewma")
    assert (ewma.lam, ewma.L, ewma.side, ewma.limits) == (0.1, 2.814, "both", "exact")
    assert RuleConfig(indicator="sales", chart="ewma", lam=0.05).L == 2.615
    cusum = RuleConfig(indicator="sales", chart="cusum")
    assert (cusum.k, cusum.h, cusum.side) == (0.5, 5.0, "lower")
    pchart = RuleConfig(indicator="complaint_rate", chart="pchart")
    assert (pchart.L, pchart.side, pchart.exact) == (3.0, "upper", False)
    streak = RuleConfig(indicator="industry_growth", chart="streak")
    assert (streak.periods, streak.reading, streak.side) == (3, "negative", "below")
    change = RuleConfig(indicator="competitor_share", chart="change", change=0.05)
    assert (change.units, change.side, change.baseline_periods) == ("points", "above", 12)
    threshold = RuleConfig(indicator="team_retention", chart="threshold", limit=0.8)
    assert (threshold.periods, threshold.side, threshold.lam) == (1, "below", None)


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"chart": "bollinger"}, "chart", "allowed: shewhart, ewma"),
        ({"chart": "ewma", "lam": 0.0}, "lam", "(0, 1]"),
        ({"chart": "ewma", "lam": 1.5, "L": 3.0}, "lam", "(0, 1]"),
        ({"chart": "ewma", "lam": 0.3}, "L", "needs L"),
        ({"chart": "ewma", "limits": "tight"}, "limits", "exact, asymptotic"),
        ({"chart": "shewhart", "L": 0.0}, "L", "> 0"),
        ({"chart": "shewhart", "side": "above"}, "side", "both, lower, upper"),
        ({"chart": "cusum", "h": -1.0}, "h", "> 0"),
        ({"chart": "cusum", "k": -0.5}, "k", ">= 0"),
        ({"chart": "cusum", "h": "5"}, "h", "a number"),
        ({"chart": "cusum", "sd": 0.0}, "sd", "> 0"),
        ({"chart": "cusum", "baseline_periods": 1}, "baseline_periods", ">= 2"),
        ({"chart": "cusum", "limit": 0.7}, "limit", "not read by a cusum rule"),
        ({"chart": "pchart", "p0": 1.0}, "p0", "(0, 1)"),
        ({"chart": "pchart", "exact": "yes"}, "exact", "true or false"),
        ({"chart": "threshold"}, "limit", "needs a finite limit"),
        ({"chart": "threshold", "limit": 0.7, "periods": 0}, "periods", ">= 1"),
        ({"chart": "threshold", "limit": 0.7, "periods": 1.5}, "periods", "whole number"),
        ({"chart": "threshold", "limit": 0.7, "side": "lower"}, "side", "below, above"),
        ({"chart": "streak", "reading": "falling"}, "reading", "negative, decline"),
        ({"chart": "streak", "side": "above"}, "side", "allowed: below"),
        ({"chart": "change"}, "change", "needs the change size"),
        ({"chart": "change", "change": 0.05, "units": "percent"}, "units", "points, relative"),
        ({"chart": "change", "change": 0.0}, "change", "> 0"),
        ({"chart": "change", "change": 0.05, "baseline_periods": 0}, "baseline_periods", ">= 1"),
        ({"indicator": " ", "chart": "ewma"}, "indicator", "name the monthly series"),
    ],
)
def test_rule_validation_names_the_key(fields: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RuleConfig(**{"indicator": "sales", **fields})  # type: ignore[arg-type]
    error = caught.value
    assert error.key == key
    assert words in error.problem
    assert "\n" not in str(error)
    assert str(error).startswith(f"{key}: ")


def test_build_explicit_arguments_win_and_missing_levels_are_named() -> None:
    rule = RuleConfig(indicator="sales", chart="cusum", mean=0.0, sd=1.0)
    assert not rule.needs_baseline()
    built = rule.build(mean=10.0, sd=2.0)
    assert isinstance(built, Cusum)
    assert (built.mean, built.sd, built.k, built.h, built.side) == (10.0, 2.0, 0.5, 5.0, "lower")
    assert isinstance(rule.build(), Cusum)
    open_rule = RuleConfig(indicator="sales", chart="ewma")
    assert open_rule.needs_baseline()
    with pytest.raises(ConfigError, match=r"^mean: "):
        open_rule.build()
    with pytest.raises(ConfigError, match=r"^sd: "):
        open_rule.build(mean=1.0)
    with pytest.raises(ConfigError, match=r"^sd: "):
        open_rule.build(mean=1.0, sd=0.0)
    ewma = open_rule.build(mean=1.0, sd=0.5)
    assert isinstance(ewma, Ewma)
    assert (ewma.lam, ewma.L, ewma.limits) == (0.1, 2.814, "exact")
    pchart = RuleConfig(indicator="complaint_rate", chart="pchart", exact=True)
    assert pchart.needs_baseline()
    with pytest.raises(ConfigError, match=r"^p0: "):
        pchart.build()
    built_p = pchart.build(mean=0.02)  # a p-chart reads ``mean`` as p0 (the caller's baseline estimate)
    assert isinstance(built_p, PChart)
    assert (built_p.p0, built_p.exact) == (0.02, True)
    assert RuleConfig(indicator="complaint_rate", chart="pchart", p0=0.01).needs_baseline() is False


def test_build_level_rules() -> None:
    threshold = RuleConfig(indicator="team_attainment", chart="threshold", limit=0.7, periods=2).build()
    assert isinstance(threshold, Threshold)
    assert (threshold.limit, threshold.side, threshold.periods) == (0.7, "below", 2)
    streak = RuleConfig(indicator="industry_growth", chart="streak", reading="decline").build()
    assert isinstance(streak, Streak)
    assert (streak.periods, streak.reading) == (3, "decline")
    change = RuleConfig(indicator="core_repurchase", chart="change", change=0.1, units="relative", side="below")
    built = change.build()
    assert isinstance(built, ChangeFrom)
    assert (built.change, built.units, built.side, built.baseline_periods) == (0.1, "relative", "below", 12)
    shewhart = RuleConfig(indicator="sales", chart="shewhart", mean=0.0, sd=1.0, side="lower").build()
    assert isinstance(shewhart, Shewhart)
    assert (shewhart.L, shewhart.side) == (3.0, "lower")


# -- rule_from_dict ------------------------------------------------------------------------------
def test_rule_from_dict_builds_and_normalises_numbers() -> None:
    rule = rule_from_dict("rules.slow_sales", {"indicator": "sales", "chart": "cusum", "h": 4, "side": "both"})
    assert (rule.h, rule.k, rule.side) == (4.0, 0.5, "both")
    assert isinstance(rule.h, float)


def test_rule_from_dict_unknown_field() -> None:
    with pytest.raises(ConfigError) as caught:
        rule_from_dict("rules.x", {"indicator": "sales", "chart": "ewma", "lamda": 0.2})
    assert caught.value.key == "rules.x.lamda"
    assert caught.value.problem.startswith("unknown field; allowed: indicator, chart, side, L, lam")


def test_rule_from_dict_rekeys_errors() -> None:
    with pytest.raises(ConfigError, match=r"^rules\.x\.lam: must be in \(0, 1\]"):
        rule_from_dict("rules.x", {"indicator": "sales", "chart": "ewma", "lam": 2})
    with pytest.raises(ConfigError, match=r"^rules\.x\.chart: required; one of: shewhart"):
        rule_from_dict("rules.x", {"indicator": "sales"})
    with pytest.raises(ConfigError, match=r"^rules\.x\.indicator: required"):
        rule_from_dict("rules.x", {"chart": "ewma"})
    with pytest.raises(ConfigError, match=r"^rules\.x: a rule is a mapping"):
        rule_from_dict("rules.x", ["ewma"])  # type: ignore[arg-type]


# -- the catalogue -------------------------------------------------------------------------------
def test_plan_rules_are_the_plan_as_written() -> None:
    assert set(PLAN_RULES) == {
        "industry_growth_streak",
        "competitor_share_up",
        "team_retention",
        "attainment_two_months",
        "core_repurchase_down",
        "complaint_rate",
    }
    expected = {
        "industry_growth_streak": (Streak, {"periods": 3, "reading": "negative"}),
        "competitor_share_up": (ChangeFrom, {"change": 0.05, "units": "points", "side": "above"}),
        "team_retention": (Threshold, {"limit": 0.8, "side": "below", "periods": 1}),
        "attainment_two_months": (Threshold, {"limit": 0.7, "side": "below", "periods": 2}),
        "core_repurchase_down": (ChangeFrom, {"change": 0.10, "units": "relative", "side": "below"}),
        "complaint_rate": (Threshold, {"limit": 0.02, "side": "above", "periods": 1}),
    }
    for name, (kind, attributes) in expected.items():
        rule = PLAN_RULES[name]
        assert not rule.needs_baseline()
        built = rule.build()
        assert isinstance(built, kind), name
        for attribute, value in attributes.items():
            assert getattr(built, attribute) == value, (name, attribute)


def test_chart_rules_build_with_a_baseline() -> None:
    assert {
        "team_attainment_ewma",
        "industry_growth_cusum",
        "competitor_share_cusum",
        "core_repurchase_cusum",
        "sales_cusum",
        "complaint_pchart",
    } <= set(CHART_RULES)
    assert not set(CHART_RULES) & set(PLAN_RULES)
    for name, rule in CHART_RULES.items():
        assert rule.needs_baseline(), name
        detector = rule.build(mean=0.02, sd=0.01)
        assert not detector.update(0.02, 1000.0), name
    ewma = CHART_RULES["team_attainment_ewma"]
    assert (ewma.chart, ewma.lam, ewma.L) == ("ewma", 0.1, 2.814)
    for name in ("industry_growth_cusum", "competitor_share_cusum", "core_repurchase_cusum", "sales_cusum"):
        assert (CHART_RULES[name].k, CHART_RULES[name].h) == (0.5, 5.0)
    assert CHART_RULES["industry_growth_cusum"].side == "lower"
    assert CHART_RULES["competitor_share_cusum"].side == "upper"
    assert CHART_RULES["sales_cusum"].side == "lower"
    assert (CHART_RULES["complaint_pchart"].L, CHART_RULES["complaint_pchart"].exact) == (3.0, True)


def test_catalogue_reads_known_indicators_and_runs_in_a_watch() -> None:
    from salesboost.indicators import INDICATORS, Watch

    level = [0.5 + 0.01 * (i % 3) for i in range(24)]  # a steady level: no chart may fire on it
    for name, rule in {**PLAN_RULES, **CHART_RULES}.items():
        assert rule.indicator in INDICATORS, name
        watch = Watch(rule)
        fired = [watch.update(v * 10 if rule.chart == "pchart" else v, 100.0) for v in level]
        if rule.needs_baseline():
            assert not any(fired), name
