"""Early-warning indicators on hand-made facts, the series a rule watches, and ``Watch``'s baseline."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom

from salesboost.indicators import (
    COMPANY,
    FACT_COLUMNS,
    INDICATORS,
    RETENTION_MONTHS,
    TEAM_INDICATORS,
    Watch,
    indicator_series,
    series_for,
    trial_counts,
)
from salesboost.warnings import CHART_RULES, PLAN_RULES, RuleConfig

NAN = math.nan


def fact(**values: float) -> dict[str, float]:
    """One period's facts: every ``FACT_COLUMNS`` key, 0 unless given (a typo'd key fails)."""
    unknown = set(values) - set(FACT_COLUMNS)
    assert not unknown, unknown
    return {c: float(values.get(c, 0.0)) for c in FACT_COLUMNS}


# -- indicator_series ----------------------------------------------------------------------------
def test_every_indicator_has_one_value_per_period() -> None:
    """Three periods in, three values out for each defined indicator (and only those)."""
    out = indicator_series([fact(seats=1.0) for _ in range(3)])
    assert set(out) == set(INDICATORS)
    assert all(len(v) == 3 for v in out.values())


def test_market_series_and_sales_pass_through() -> None:
    """industry_growth, competitor_share and sales are the period's facts as recorded."""
    rows = [
        fact(industry_growth=0.01, competitor_share=0.30, revenue=500.0),
        fact(industry_growth=-0.02, competitor_share=0.32, revenue=450.0),
    ]
    out = indicator_series(rows)
    assert out["industry_growth"] == [0.01, -0.02]
    assert out["competitor_share"] == [0.30, 0.32]
    assert out["sales"] == [500.0, 450.0]


def test_ratios_are_the_period_counts_and_nan_without_a_denominator() -> None:
    """attainment = revenue/quota, repurchase = active/core, complaints/served, seats/positions; 0 below -> NaN."""
    rows = [
        fact(revenue=80.0, quota=100.0, core_active=30.0, core_accounts=60.0, complaints=3.0, served=150.0)
        | {"seats": 9.0, "positions": 10.0},
        fact(revenue=50.0, quota=0.0, core_active=5.0, core_accounts=0.0, complaints=1.0, served=0.0, seats=4.0),
    ]
    out = indicator_series(rows)
    assert out["team_attainment"][0] == pytest.approx(0.8)
    assert out["core_repurchase"][0] == pytest.approx(0.5)
    assert out["complaint_rate"][0] == pytest.approx(0.02)
    assert out["staffing"][0] == pytest.approx(0.9)
    for name in ("team_attainment", "core_repurchase", "complaint_rate", "staffing"):
        assert math.isnan(out[name][1]), name


def test_retention_with_a_leaver_a_month_on_four_seats_is_minus_two() -> None:
    """4 seats, 1 leaver a month: 12 leavers a year on 4 seats, 1 - 12/4 = -2 at every month (annualised)."""
    out = indicator_series([fact(seats=4.0, leavers=1.0) for _ in range(12)])
    assert out["team_retention"] == pytest.approx([-2.0] * 12)


def test_retention_on_a_short_history_is_annualised_from_the_months_seen() -> None:
    """10 seats, 3 leavers in 6 months: 1 - 3/10 x 12/6 = 0.4; after one month with 1 leaver: 1 - 1/10 x 12."""
    rows = [fact(seats=10.0, leavers=float(i % 2 == 0)) for i in range(6)]
    out = indicator_series(rows)["team_retention"]
    assert out[0] == pytest.approx(1 - 1 / 10 * 12)
    assert out[5] == pytest.approx(0.4)


def test_retention_divides_by_the_mean_seats_of_the_window() -> None:
    """8 then 12 seats, 1 leaver in the second month: mean 10 seats, 1 - 1/10 x 12/2 = 0.4."""
    out = indicator_series([fact(seats=8.0), fact(seats=12.0, leavers=1.0)])["team_retention"]
    assert out == pytest.approx([1.0, 0.4])


def test_retention_window_stops_at_twelve_months() -> None:
    """A leaver a month in year one, none in year two: month 13 still sees 11 of them, month 24 none."""
    rows = [fact(seats=4.0, leavers=1.0 if i < 12 else 0.0) for i in range(24)]
    out = indicator_series(rows)["team_retention"]
    assert RETENTION_MONTHS == 12
    assert out[11] == pytest.approx(-2.0)
    assert out[12] == pytest.approx(1 - 11 / 4)
    assert out[18] == pytest.approx(1 - 5 / 4)
    assert out[23] == pytest.approx(1.0)


def test_retention_is_nan_without_seats_in_the_window() -> None:
    """No seats in post over the whole window: no rate, NaN (not a division error)."""
    out = indicator_series([fact(leavers=1.0), fact()])["team_retention"]
    assert all(math.isnan(v) for v in out)


# -- trial_counts ----------------------------------------------------------------------------------
def test_trial_counts_are_the_counts_behind_the_two_proportions() -> None:
    """Complaints out of served, active out of core accounts; any other indicator has none."""
    rows = [fact(complaints=2.0, served=90.0, core_active=7.0, core_accounts=20.0)]
    assert trial_counts("complaint_rate", rows) == [(2.0, 90.0)]
    assert trial_counts("core_repurchase", rows) == [(7.0, 20.0)]
    for name in ("team_attainment", "team_retention", "sales", "staffing", "industry_growth"):
        assert trial_counts(name, rows) is None, name


# -- series_for ------------------------------------------------------------------------------------
def _teams() -> dict[str, list[dict[str, float]]]:
    north = [fact(revenue=60.0, quota=100.0, complaints=1.0, served=50.0), fact(revenue=90.0, quota=100.0)]
    south = [fact(revenue=40.0, quota=80.0, complaints=4.0, served=100.0), fact(revenue=80.0, quota=80.0)]
    company = [
        fact(revenue=100.0, quota=180.0, core_active=10.0, core_accounts=40.0),
        fact(revenue=170.0, quota=180.0, core_active=12.0, core_accounts=40.0),
    ]
    return {"north": north, COMPANY: company, "south": south}


def test_team_indicators_give_one_series_per_team_and_none_for_the_company() -> None:
    """Attainment is watched per team: north 0.6, 0.9 and south 0.5, 1.0, each with n = 1; no ``all``."""
    assert "team_attainment" in TEAM_INDICATORS
    out = series_for(PLAN_RULES["attainment_two_months"], _teams())
    assert set(out) == {"north", "south"}
    assert [v for v, _n in out["north"]] == pytest.approx([0.6, 0.9])
    assert [v for v, _n in out["south"]] == pytest.approx([0.5, 1.0])
    assert all(n == 1.0 for series in out.values() for _v, n in series)


def test_company_indicators_give_only_the_company_series() -> None:
    """Sales are watched once, for ``all``: 100 then 170, the teams' own rows unused."""
    out = series_for(CHART_RULES["sales_cusum"], _teams())
    assert list(out) == [COMPANY]
    assert out[COMPANY] == [(100.0, 1.0), (170.0, 1.0)]


def test_a_pchart_watches_counts_and_other_charts_the_ratio() -> None:
    """The complaint p-chart gets (complaints, served) per team; a complaint threshold the rate with n = 1."""
    teams = _teams()
    counts = series_for(CHART_RULES["complaint_pchart"], teams)
    assert counts == {"north": [(1.0, 50.0), (0.0, 0.0)], "south": [(4.0, 100.0), (0.0, 0.0)]}
    rates = series_for(PLAN_RULES["complaint_rate"], teams)
    assert rates["north"][0] == pytest.approx((0.02, 1.0))
    assert rates["south"][0] == pytest.approx((0.04, 1.0))
    assert math.isnan(rates["north"][1][0])
    repurchase = series_for(RuleConfig(indicator="core_repurchase", chart="pchart"), teams)
    assert repurchase == {COMPANY: [(10.0, 40.0), (12.0, 40.0)]}


# -- Watch -------------------------------------------------------------------------------------------
BASELINE = [100.0, 102.0] * 6  # mean 101, sample sd sqrt(12 / 11) = 1.0445


def test_a_chart_without_a_level_never_signals_in_its_baseline_then_signals_on_a_drop() -> None:
    """sales_cusum learns mean and sd from 12 values (even a crash among them is silent), then 80 signals."""
    rule = CHART_RULES["sales_cusum"]
    assert rule.needs_baseline()
    assert rule.baseline_periods == 12
    watch = Watch(rule)
    assert not any(watch.update(v) for v in [*BASELINE[:6], 0.0, *BASELINE[7:]])
    calm = Watch(rule)
    assert not any(calm.update(v) for v in BASELINE)
    assert not calm.update(101.0)  # at the mean: S- stays 0
    assert calm.update(80.0)  # z = -20.1: S- = 19.6 > h = 5


def test_the_baseline_sd_is_the_sample_sd() -> None:
    """With sd sqrt(12/11): 95.3 gives S- = 5.7/1.0445 - 0.5 = 4.96 (quiet), 95.2 gives 5.05 (signal).

    The population sd (1.0) would make 95.3 signal too (S- = 5.2).
    """
    rule = CHART_RULES["sales_cusum"]
    for value, signals in ((95.3, False), (95.2, True)):
        watch = Watch(rule)
        for v in BASELINE:
            watch.update(v)
        assert watch.update(value) is signals, value


def test_nan_values_and_empty_periods_do_not_count_toward_the_baseline() -> None:
    """After 11 values, a NaN and an n = 0 period, a drop is still the 12th baseline value: silent."""
    watch = Watch(CHART_RULES["sales_cusum"])
    for v in BASELINE[:11]:
        assert not watch.update(v)
    assert not watch.update(NAN)
    assert not watch.update(50.0, 0.0)
    assert not watch.update(50.0, -1.0)
    assert not watch.update(70.0)  # the 12th finite value: baseline, mean 98.33
    assert not watch.update(0.0, 0.0)  # skipped once live too
    assert not watch.update(NAN)
    assert watch.update(0.0)  # z ~ -10.8 against the baseline's mean and sd


def test_a_threshold_rule_needs_no_baseline() -> None:
    """Attainment below 0.7 two months running signals from the start: on the 2nd month, not the 1st.

    Exactly 0.7 is not below the limit and breaks the run.
    """
    rule = PLAN_RULES["attainment_two_months"]
    assert not rule.needs_baseline()
    watch = Watch(rule)
    fed = [0.5, 0.6, 0.65, 0.8, 0.69, 0.7, 0.69, 0.69]
    assert [watch.update(v) for v in fed] == [False, True, True, False, False, False, False, True]


def test_a_pchart_estimates_p0_from_the_baseline_counts() -> None:
    """Baseline 0 of 10 and 20 of 190 alternating: p0 = 120 / 1200 = 0.1 (the mean of the rates is 0.053).

    At n = 100 the exact upper tail at L = 3 (alpha 0.00135) puts the first signalling count at 21:
    P(X >= 20) = 0.0020, P(X >= 21) = 0.0008 under p0 = 0.1; under 0.053 even 15 would signal.
    """
    rule = CHART_RULES["complaint_pchart"]
    alpha = 0.5 * math.erfc(3.0 / math.sqrt(2.0))
    assert binom.sf(19, 100, 0.1) > alpha > binom.sf(20, 100, 0.1)
    assert binom.sf(14, 100, 0.0526) < alpha
    watch = Watch(rule)
    for _ in range(6):
        assert not watch.update(0.0, 10.0)
        assert not watch.update(20.0, 190.0)
        assert not watch.update(5.0, 0.0)  # no trials: skipped, not a baseline period
    assert not watch.update(15.0, 100.0)
    assert not watch.update(20.0, 100.0)
    assert watch.update(21.0, 100.0)


def test_a_missing_month_breaks_a_level_rules_run():
    """A NaN month (a team without quota) between two bad months is not two months running."""
    watch = Watch(PLAN_RULES["attainment_two_months"])
    assert [watch.update(v) for v in (0.5, math.nan, 0.5, 0.5)] == [False, False, False, True]
