"""Incentive payout arithmetic, checked against hand-computed cases (each expected value worked out in a comment)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from salesboost.build import build
from salesboost.incentive import (
    IncentiveConfig,
    PeriodKpis,
    attainment,
    floor_missed,
    next_quota,
    payout,
    starts_period,
)


def scheme(**data: Any) -> IncentiveConfig:
    """A scheme built from plain data through the config boundary, as the simulation gets it."""
    return build(IncentiveConfig, {"name": "test", **data})


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12)


#: The plan's scorecard: performance 40, customer value 30, capability 20, team 10.
PLAN_SCORECARD = {
    "revenue_attainment": {"block": "performance", "weight": 20, "target": 1.0},
    "new_customers": {"block": "performance", "weight": 20, "target": 10},
    "high_value_share": {"block": "customer_value", "weight": 10, "target": 0.3},
    "repurchase_rate": {"block": "customer_value", "weight": 10, "target": 0.4},
    "satisfaction": {"block": "customer_value", "weight": 10, "target": 4.0},
    "training_score": {"block": "capability", "weight": 10, "target": 80},
    "data_use": {"block": "capability", "weight": 10, "target": 0.5},
    "team_attainment": {"block": "team", "weight": 5, "target": 1.0},
    "collaboration": {"block": "team", "weight": 5, "target": 4.0},
}
PLAN = {"period": "month", "quota_per_month": 100_000, "target_pay": 10_000, "scorecard": PLAN_SCORECARD}
AT_TARGET = {
    "new_customers": 10,
    "high_value_share": 0.3,
    "repurchase_rate": 0.4,
    "satisfaction": 4.0,
    "training_score": 80,
    "data_use": 0.5,
    "team_attainment": 1.0,
    "collaboration": 4.0,
}


# -- commission, accelerator, quota bonus ---------------------------------------------------------------


def test_pure_commission_pays_the_rate_on_all_revenue():
    """A commission-only scheme pays rate x revenue and nothing else; without a quota attainment is NaN."""
    paid = payout(scheme(commission_rate=0.05), PeriodKpis(revenue=120_000, quota=0))
    # 0.05 * 120_000 = 6_000
    assert paid.commission == approx(6_000)
    assert (paid.accelerator, paid.bonus, paid.scorecard) == (0.0, 0.0, 0.0)
    assert paid.gross == approx(6_000)
    assert paid.total == approx(6_000)
    assert not paid.capped
    assert paid.floors_missed == ()
    assert paid.floor_cut == 0.0
    assert math.isnan(paid.attainment)


@pytest.mark.parametrize(
    ("revenue", "bonus"),
    [
        (29_999.99, 0.0),  # 29_999.99 < 30_000: no bonus
        (30_000, 2_000),  # reaching the quota exactly earns it
        (45_000, 2_000),  # a lump sum: it does not grow above quota
    ],
)
def test_quota_bonus_is_paid_from_reaching_the_quota(revenue, bonus):
    """The quota bonus is a lump sum paid when revenue >= quota (quota 10_000/month x 3 = 30_000 per quarter)."""
    plan = scheme(period="quarter", quota_per_month=10_000, quota_bonus=2_000)
    paid = payout(plan, PeriodKpis(revenue=revenue, quota=plan.period_quota()))
    assert paid.bonus == approx(bonus)
    assert paid.total == approx(bonus)


@pytest.mark.parametrize(
    ("revenue", "commission", "accelerator"),
    [
        (80_000, 4_000, 0.0),  # 0.05 * 80_000 = 4_000; below quota: no accelerator
        (100_000, 5_000, 0.0),  # 0.05 * 100_000 = 5_000; at quota: nothing above it
        (150_000, 7_500, 1_500),  # 0.05 * 150_000 = 7_500; 0.03 * (150_000 - 100_000) = 1_500
    ],
)
def test_accelerator_pays_only_on_revenue_above_quota(revenue, commission, accelerator):
    """The accelerator is an extra rate on the revenue above quota; commission still runs on all revenue."""
    plan = scheme(period="month", quota_per_month=100_000, commission_rate=0.05, accelerator_rate=0.03)
    paid = payout(plan, PeriodKpis(revenue=revenue, quota=100_000))
    assert paid.commission == approx(commission)
    assert paid.accelerator == approx(accelerator)
    assert paid.total == approx(commission + accelerator)  # 4_000 | 5_000 | 9_000


def test_attainment_is_revenue_over_quota():
    """Payout reports revenue / quota: 150_000 / 100_000 = 1.5."""
    plan = scheme(period="month", quota_per_month=100_000, quota_bonus=1)
    assert payout(plan, PeriodKpis(revenue=150_000, quota=100_000)).attainment == approx(1.5)


# -- cap ------------------------------------------------------------------------------------------------


def test_cap_binds_when_gross_exceeds_it():
    """Gross above the cap is cut to the cap and flagged; the parts still show what was earned."""
    paid = payout(scheme(commission_rate=0.1, cap=10_000), PeriodKpis(revenue=150_000, quota=0))
    # 0.1 * 150_000 = 15_000 > 10_000: paid 10_000
    assert paid.commission == approx(15_000)
    assert paid.gross == approx(15_000)
    assert paid.total == approx(10_000)
    assert paid.capped


def test_cap_does_not_bind_below_it():
    """Gross below the cap is paid in full and not flagged."""
    paid = payout(scheme(commission_rate=0.1, cap=10_000), PeriodKpis(revenue=80_000, quota=0))
    # 0.1 * 80_000 = 8_000 < 10_000
    assert paid.total == approx(8_000)
    assert not paid.capped


def test_gross_exactly_at_the_cap_is_not_capped():
    """Reaching the cap exactly pays it and does not count as capped."""
    paid = payout(scheme(commission_rate=0.25, cap=10_000), PeriodKpis(revenue=40_000, quota=0))
    # 0.25 * 40_000 = 10_000 = cap
    assert paid.total == approx(10_000)
    assert not paid.capped


def test_no_cap_pays_any_amount():
    """``cap: null`` never binds."""
    paid = payout(scheme(commission_rate=0.1, cap=None), PeriodKpis(revenue=10_000_000, quota=0))
    # 0.1 * 10_000_000 = 1_000_000
    assert paid.total == approx(1_000_000)
    assert not paid.capped


# -- scorecard ------------------------------------------------------------------------------------------


def test_plan_weights_at_target_pay_the_target_pay():
    """Every metric exactly at target scores all 100 points: the scorecard pays target_pay."""
    paid = payout(scheme(**PLAN), PeriodKpis(revenue=100_000, quota=100_000, metrics=AT_TARGET))
    # attainment 100_000 / 100_000 = 1.0 = target; points 20+20+10+10+10+10+10+5+5 = 100; 10_000 * 100/100
    assert paid.scorecard == approx(10_000)
    assert paid.total == approx(10_000)


def test_plan_scorecard_mixed_case_with_cap_and_missing_metrics():
    """Points are weight x value/target, at most score_cap (1.2) per metric; NaN and absent metrics score zero."""
    metrics = {
        "new_customers": 5,  # 5 / 10 = 0.5 -> 20 * 0.5 = 10
        "high_value_share": 0.15,  # 0.15 / 0.3 = 0.5 -> 10 * 0.5 = 5
        "repurchase_rate": 0.4,  # 0.4 / 0.4 = 1.0 -> 10
        "satisfaction": 3.0,  # 3 / 4 = 0.75 -> 7.5
        "training_score": 80,  # 80 / 80 = 1.0 -> 10
        "data_use": math.nan,  # NaN -> 0
        # team_attainment absent -> 0
        "collaboration": 6.0,  # 6 / 4 = 1.5, capped at 1.2 -> 5 * 1.2 = 6
    }
    # revenue_attainment 150_000 / 100_000 = 1.5, capped at 1.2 -> 20 * 1.2 = 24
    paid = payout(scheme(**PLAN), PeriodKpis(revenue=150_000, quota=100_000, metrics=metrics))
    # points 24 + 10 + 5 + 10 + 7.5 + 10 + 0 + 0 + 6 = 72.5; 10_000 * 72.5 / 100 = 7_250
    assert paid.scorecard == approx(7_250)
    assert paid.total == approx(7_250)


def test_plan_scorecard_everything_far_above_target_is_capped_at_120_points():
    """With every metric far above target each scores 1.2x its weight: 120 points pay 1.2 x target_pay."""
    high = {name: 10 * value for name, value in AT_TARGET.items()}
    paid = payout(scheme(**PLAN), PeriodKpis(revenue=1_000_000, quota=100_000, metrics=high))
    # 100 points * 1.2 = 120; 10_000 * 120 / 100 = 12_000
    assert paid.scorecard == approx(12_000)


def test_score_cap_is_configurable():
    """A score_cap of 1.0 stops a metric at its target."""
    plan = scheme(
        target_pay=1_000,
        score_cap=1.0,
        scorecard={"satisfaction": {"block": "customer_value", "weight": 100, "target": 4.0}},
    )
    paid = payout(plan, PeriodKpis(revenue=0, quota=0, metrics={"satisfaction": 5.0}))
    # 5 / 4 = 1.25, capped at 1.0 -> 100 points; 1_000 * 100 / 100 = 1_000
    assert paid.scorecard == approx(1_000)


def test_scorecard_with_no_metrics_and_no_quota_scores_nothing():
    """All metrics missing (and attainment NaN for lack of a quota) score zero points."""
    paid = payout(scheme(**PLAN), PeriodKpis(revenue=150_000, quota=0))
    assert paid.scorecard == 0.0
    assert paid.total == 0.0


# -- floors ---------------------------------------------------------------------------------------------

FLOORS = {"complaint_rate": {"limit": 0.05, "cut": 0.5}, "timeliness": {"limit": 0.9, "cut": 0.5}}


def floored(gates: dict[str, float], floors: dict[str, Any] = FLOORS) -> Any:
    """Payout of 0.1 x 100_000 = 10_000 gross under ``floors`` with ``gates``."""
    return payout(scheme(commission_rate=0.1, floors=floors), PeriodKpis(revenue=100_000, quota=0, gates=gates))


def test_no_floor_missed_pays_in_full():
    """Complaints under and timeliness over their limits cut nothing."""
    paid = floored({"complaint_rate": 0.02, "timeliness": 0.95})
    assert paid.floors_missed == ()
    assert paid.floor_cut == 0.0
    assert paid.total == approx(10_000)


@pytest.mark.parametrize(
    ("gates", "missed"),
    [
        ({"complaint_rate": 0.08, "timeliness": 0.95}, ("complaint_rate",)),  # 0.08 > 0.05 (max side)
        ({"complaint_rate": 0.02, "timeliness": 0.85}, ("timeliness",)),  # 0.85 < 0.9 (min side)
    ],
)
def test_one_missed_floor_cuts_its_share(gates, missed):
    """One missed floor with cut 0.5 halves the pay: 10_000 * (1 - 0.5) = 5_000."""
    paid = floored(gates)
    assert paid.floors_missed == missed
    assert paid.floor_cut == approx(0.5)
    assert paid.total == approx(5_000)


def test_both_floors_missed_cuts_compound():
    """Cuts 0.5 and 0.5 compound: 0.5 * 0.5 = 25% kept, 10_000 * 0.25 = 2_500 (not 0 as if they added)."""
    paid = floored({"complaint_rate": 0.08, "timeliness": 0.85})
    assert set(paid.floors_missed) == {"complaint_rate", "timeliness"}
    assert paid.floor_cut == approx(0.75)
    assert paid.total == approx(2_500)


def test_unequal_cuts_compound_multiplicatively():
    """Cuts 0.5 and 0.2 keep (1 - 0.5) * (1 - 0.2) = 0.4: 10_000 * 0.4 = 4_000 (adding them would keep 0.3)."""
    floors = {"complaint_rate": {"limit": 0.05, "cut": 0.5}, "timeliness": {"limit": 0.9, "cut": 0.2}}
    paid = floored({"complaint_rate": 0.08, "timeliness": 0.85}, floors)
    assert paid.floor_cut == approx(0.6)
    assert paid.total == approx(4_000)


def test_value_exactly_at_the_limit_passes():
    """A gate exactly at its limit passes on both sides (complaints at most, timeliness at least)."""
    paid = floored({"complaint_rate": 0.05, "timeliness": 0.9})
    assert paid.floors_missed == ()
    assert paid.total == approx(10_000)


@pytest.mark.parametrize("gates", [{}, {"complaint_rate": math.nan, "timeliness": math.nan}])
def test_nan_or_absent_gate_never_misses(gates):
    """A NaN or missing gated metric misses no floor."""
    paid = floored(gates)
    assert paid.floors_missed == ()
    assert paid.total == approx(10_000)


@pytest.mark.parametrize(
    ("side", "limit", "value", "missed"),
    [
        ("max", 0.05, 0.05, False),
        ("max", 0.05, 0.0501, True),
        ("max", 0.05, 0.0, False),
        ("min", 0.9, 0.9, False),
        ("min", 0.9, 0.8999, True),
        ("min", 0.9, 1.0, False),
        ("max", 0.05, math.nan, False),
        ("min", 0.9, math.nan, False),
    ],
)
def test_floor_missed_sides(side, limit, value, missed):
    """``max`` misses strictly above the limit, ``min`` strictly below; NaN never misses."""
    assert floor_missed(side, limit, value) is missed


def test_cap_applies_before_the_floor_cut():
    """Capping comes first, then the cut: 15_000 -> cap 10_000 -> * 0.5 = 5_000 (cutting first would pay 7_500)."""
    plan = scheme(commission_rate=0.1, cap=10_000, floors={"complaint_rate": {"limit": 0.05, "cut": 0.5}})
    paid = payout(plan, PeriodKpis(revenue=150_000, quota=0, gates={"complaint_rate": 0.1}))
    # 0.1 * 150_000 = 15_000 > 10_000: capped to 10_000; missed floor: 10_000 * 0.5 = 5_000
    assert paid.gross == approx(15_000)
    assert paid.capped
    assert paid.floors_missed == ("complaint_rate",)
    assert paid.total == approx(5_000)


# -- partial periods ------------------------------------------------------------------------------------


def test_partial_period_prorates_quota_and_bonus_not_commission():
    """Half a period halves the quota (accelerator threshold, attainment) and the bonus; commission is on revenue."""
    plan = scheme(
        period="quarter", quota_per_month=20_000, commission_rate=0.05, accelerator_rate=0.1, quota_bonus=3_000
    )
    # full period quota 20_000 * 3 = 60_000; prorated 60_000 * 0.5 = 30_000
    paid = payout(plan, PeriodKpis(revenue=40_000, quota=plan.period_quota(), employed_share=0.5))
    assert paid.commission == approx(2_000)  # 0.05 * 40_000
    assert paid.accelerator == approx(1_000)  # 0.1 * (40_000 - 30_000)
    assert paid.bonus == approx(1_500)  # 40_000 >= 30_000: 3_000 * 0.5
    assert paid.total == approx(4_500)  # 2_000 + 1_000 + 1_500
    assert paid.attainment == approx(4 / 3)  # 40_000 / 30_000


def test_partial_period_bonus_needs_the_prorated_quota():
    """Below the prorated quota there is no bonus: 29_999 < 60_000 * 0.5 = 30_000."""
    plan = scheme(period="quarter", quota_per_month=20_000, quota_bonus=3_000)
    paid = payout(plan, PeriodKpis(revenue=29_999, quota=60_000, employed_share=0.5))
    assert paid.bonus == 0.0


def test_partial_period_prorates_the_cap():
    """Half a period halves the cap: 15_000 gross > 20_000 * 0.5 = 10_000, though it is under the full cap."""
    paid = payout(scheme(commission_rate=0.1, cap=20_000), PeriodKpis(revenue=150_000, quota=0, employed_share=0.5))
    # 0.1 * 150_000 = 15_000 > 10_000
    assert paid.total == approx(10_000)
    assert paid.capped


def test_partial_period_prorates_target_pay_and_count_targets_only():
    """Half a period halves target_pay and count targets (new_customers), not ratio targets (repurchase_rate)."""
    plan = scheme(
        target_pay=10_000,
        scorecard={
            "new_customers": {"block": "performance", "weight": 50, "target": 10},
            "repurchase_rate": {"block": "customer_value", "weight": 50, "target": 0.4},
        },
    )
    kpis = PeriodKpis(revenue=0, quota=0, employed_share=0.5, metrics={"new_customers": 5, "repurchase_rate": 0.4})
    paid = payout(plan, kpis)
    # new_customers 5 / (10 * 0.5) = 1.0 -> 50; repurchase 0.4 / 0.4 = 1.0 -> 50; 100 points
    # 10_000 * 0.5 * 100 / 100 = 5_000  (prorating the ratio target too would give 110 points -> 5_500;
    # not prorating the count target would give 75 points -> 3_750)
    assert paid.scorecard == approx(5_000)


def test_partial_period_revenue_attainment_is_against_the_prorated_quota():
    """Revenue attainment (a ratio) uses the prorated quota, and its target stays 1.0."""
    plan = scheme(
        period="month",
        quota_per_month=10_000,
        target_pay=10_000,
        scorecard={"revenue_attainment": {"block": "performance", "weight": 100, "target": 1.0}},
    )
    paid = payout(plan, PeriodKpis(revenue=5_000, quota=10_000, employed_share=0.5))
    # attainment 5_000 / (10_000 * 0.5) = 1.0 -> 100 points; 10_000 * 0.5 * 100 / 100 = 5_000
    assert paid.attainment == approx(1.0)
    assert paid.scorecard == approx(5_000)


@pytest.mark.parametrize("share", [0.0, -0.5, 1.5, math.nan])
def test_employed_share_outside_unit_interval_raises(share):
    """employed_share must be in (0, 1]."""
    with pytest.raises(ValueError, match="employed_share"):
        payout(scheme(commission_rate=0.05), PeriodKpis(revenue=1_000, quota=0, employed_share=share))


def test_employed_share_of_one_is_a_full_period():
    """employed_share 1 (the upper bound) is allowed and prorates nothing."""
    paid = payout(scheme(commission_rate=0.05, cap=100), PeriodKpis(revenue=1_000, quota=0, employed_share=1.0))
    # 0.05 * 1_000 = 50 < 100
    assert paid.total == approx(50)


# -- leavers --------------------------------------------------------------------------------------------

LEAVER_SCHEME = {
    "period": "month",
    "quota_per_month": 100_000,
    "commission_rate": 0.05,
    "accelerator_rate": 0.1,
    "quota_bonus": 2_000,
    "target_pay": 4_000,
    "scorecard": {"new_customers": {"block": "performance", "weight": 100, "target": 10}},
}
LEAVER_KPIS = {"revenue": 150_000, "quota": 100_000, "metrics": {"new_customers": 10}}
# commission 0.05 * 150_000 = 7_500; accelerator 0.1 * (150_000 - 100_000) = 5_000;
# bonus 2_000 (150_000 >= 100_000); scorecard 10 / 10 = 1.0 -> 100 points -> 4_000 * 100 / 100 = 4_000


def test_leaver_who_forfeits_keeps_commission_and_accelerator_only():
    """A leaver under leaver_forfeits loses bonus and scorecard: 7_500 + 5_000 = 12_500."""
    paid = payout(scheme(**LEAVER_SCHEME, leaver_forfeits=True), PeriodKpis(**LEAVER_KPIS, left=True))
    assert paid.commission == approx(7_500)
    assert paid.accelerator == approx(5_000)
    assert (paid.bonus, paid.scorecard) == (0.0, 0.0)
    assert paid.total == approx(12_500)


def test_leaver_without_forfeit_keeps_everything():
    """With leaver_forfeits false a leaver is paid like a stayer: 7_500 + 5_000 + 2_000 + 4_000 = 18_500."""
    paid = payout(scheme(**LEAVER_SCHEME, leaver_forfeits=False), PeriodKpis(**LEAVER_KPIS, left=True))
    assert paid.bonus == approx(2_000)
    assert paid.scorecard == approx(4_000)
    assert paid.total == approx(18_500)


def test_stayer_keeps_everything():
    """A rep who stays is paid all parts: 18_500, whatever leaver_forfeits says."""
    paid = payout(scheme(**LEAVER_SCHEME, leaver_forfeits=True), PeriodKpis(**LEAVER_KPIS, left=False))
    assert paid.total == approx(18_500)


# -- attainment, ratchet, periods -----------------------------------------------------------------------


def test_attainment_function():
    """attainment = revenue / (quota x employed_share); NaN without a quota."""
    assert attainment(50_000, 100_000) == approx(0.5)  # 50_000 / 100_000
    assert attainment(50_000, 100_000, 0.5) == approx(1.0)  # 50_000 / 50_000
    assert math.isnan(attainment(50_000, 0))
    assert math.isnan(attainment(0, 0, 0.5))


@pytest.mark.parametrize(
    ("revenue", "expected"),
    [
        (140_000, 120_000),  # 100_000 + 0.5 * (140_000 - 100_000) = 120_000
        (60_000, 90_000),  # 100_000 - 0.25 * (100_000 - 60_000) = 90_000
        (100_000, 100_000),  # on quota: unchanged
    ],
)
def test_next_quota_ratchets_up_and_down(revenue, expected):
    """Next quota = Q + up (S - Q)+ - down (Q - S)+ with up 0.5, down 0.25."""
    plan = scheme(ratchet_up=0.5, ratchet_down=0.25)
    assert next_quota(plan, 100_000, revenue) == approx(expected)


def test_next_quota_without_ratchet_is_fixed_and_full_ratchet_follows_sales():
    """Ratchets 0 keep the quota; ratchets 1 set it to the sales."""
    assert next_quota(scheme(), 100_000, 140_000) == approx(100_000)
    assert next_quota(scheme(), 100_000, 60_000) == approx(100_000)
    full = scheme(ratchet_up=1.0, ratchet_down=1.0)
    assert next_quota(full, 100_000, 140_000) == approx(140_000)  # 100_000 + 1 * 40_000
    assert next_quota(full, 100_000, 60_000) == approx(60_000)  # 100_000 - 1 * 40_000


@pytest.mark.parametrize(
    ("period", "months", "quota"), [("month", 1, 10_000), ("quarter", 3, 30_000), ("year", 12, 120_000)]
)
def test_period_quota_is_monthly_quota_times_months(period, months, quota):
    """period_quota = quota_per_month x months in the period (10_000 x 1 | 3 | 12)."""
    plan = scheme(period=period, quota_per_month=10_000)
    assert plan.months == months
    assert plan.period_quota() == approx(quota)


def test_period_quota_with_an_explicit_monthly_quota():
    """An explicit monthly quota overrides the scheme's: 5_000 x 3 = 15_000 per quarter."""
    assert scheme(period="quarter", quota_per_month=10_000).period_quota(5_000) == approx(15_000)


def test_scheme_named_none_is_inactive():
    """``name: none`` (the default) is no scheme; any other name is active."""
    assert not build(IncentiveConfig, {}).active
    assert scheme().active


@pytest.mark.parametrize(
    ("periods", "starts"),
    [
        (("month",), list(range(1, 13))),
        (("quarter",), [1, 4, 7, 10]),
        (("month", "quarter"), [1, 4, 7, 10]),
        (("quarter", "year"), [1]),
    ],
)
def test_a_change_of_scheme_waits_for_a_month_that_starts_both_periods(periods, starts):
    schemes = [IncentiveConfig(name=f"s{i}", period=p, commission_rate=0.03) for i, p in enumerate(periods)]
    assert [m for m in range(1, 13) if starts_period(m, *schemes)] == starts
