"""The rep's brain of salesboost.effort: quota threshold, commission, cap, ratchet, present bias, gates, timing."""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

from salesboost.build import build
from salesboost.effort import (
    EFFORT_KINDS,
    Outlook,
    discount,
    gate_prices,
    plan_effort,
    revenue_price,
    timing_move,
)
from salesboost.incentive import IncentiveConfig
from salesboost.reps import ResponseConfig

_NORMAL = NormalDist()

#: One hour of prospecting a day adds this much revenue by period end (the brief's fixed return).
PROSPECTING = {"prospecting": {"revenue": 500.0}}
#: A quarter's quota at 100,000 a month.
QUARTER_QUOTA = 300_000.0
#: Free hours so large that scaling down to them never binds.
UNBOUNDED = 1e9


def scheme(**data: Any) -> IncentiveConfig:
    """A scheme built from plain data through the config boundary, as the simulation gets it."""
    return build(IncentiveConfig, {"name": "test", "period": "quarter", **data})


def response(**data: Any) -> ResponseConfig:
    """A response config built through the config boundary (defaults unless overridden)."""
    return build(ResponseConfig, data)


def outlook(**overrides: Any) -> Outlook:
    """A rep at the start of a quarter, paid at its end this month, with nothing binding unless overridden."""
    values: dict[str, Any] = {
        "revenue_to_date": 0.0,
        "revenue_expected": 300_000.0,
        "quota": QUARTER_QUOTA,
        "days_left": 63.0,
        "months_to_pay": 0,
        "free_hours": UNBOUNDED,
    }
    values.update(overrides)
    return Outlook(**values)


def hours(
    sch: IncentiveConfig, look: Outlook, returns: dict[str, dict[str, float]] = PROSPECTING, **config: Any
) -> dict[str, float]:
    """The planned hours a day per kind."""
    return plan_effort(sch, response(**config), look, returns).hours


BONUS = {"quota_per_month": 100_000, "quota_bonus": 10_000}
COMMISSION = {"commission_rate": 0.1}


# -- 1. quota threshold (domain.md section 2) -----------------------------------------------------------------


def test_quota_bonus_effort_peaks_near_quota_and_falls_off_on_both_sides():
    """Under a pure quota bonus, prospecting peaks with expected revenue near quota; < 1/3 of it far below or above."""
    sch = scheme(**BONUS)
    expected_in = 50_000.0
    to_date = np.linspace(0.0, 900_000.0, 361)
    planned = np.array(
        [hours(sch, outlook(revenue_to_date=float(r), revenue_expected=expected_in))["prospecting"] for r in to_date]
    )
    expected_end = to_date + expected_in
    peak = float(planned.max())
    at_peak = float(expected_end[planned.argmax()]) / QUARTER_QUOTA
    assert peak > 0.0
    assert 0.85 <= at_peak <= 1.1, f"peak at expected revenue {at_peak:.3f} x quota"
    far_below = planned[expected_end <= 0.4 * QUARTER_QUOTA]
    far_above = planned[expected_end >= 2.5 * QUARTER_QUOTA]
    assert far_below.size > 0
    assert far_above.size > 0
    assert far_below.max() < peak / 3, f"give-up: {far_below.max():.4g} vs peak {peak:.4g}"
    assert far_above.max() < peak / 3, f"coast: {far_above.max():.4g} vs peak {peak:.4g}"


def test_quota_bonus_price_is_bonus_times_density_at_quota():
    """The revenue price of a pure bonus is bonus x phi(z) / sd with sd = revenue_cv x expected (rel 1e-12)."""
    config = response()
    look = outlook(revenue_to_date=100_000.0, revenue_expected=150_000.0)
    price, p_hit = revenue_price(scheme(**BONUS), config, look)
    sd = config.revenue_cv * 250_000.0
    z = (250_000.0 - QUARTER_QUOTA) / sd
    assert price == pytest.approx(10_000 * _NORMAL.pdf(z) / sd, rel=1e-12)
    assert p_hit == pytest.approx(_NORMAL.cdf(z), rel=1e-12)


# -- 2. pure commission --------------------------------------------------------------------------------------


def test_pure_commission_hours_are_flat_in_revenue_to_date():
    """Under pure commission, planned hours = rate x 500 / effort_cost at every revenue to date (abs 1e-12)."""
    sch = scheme(**COMMISSION)
    config = response()
    expected = 0.1 * 500.0 / config.effort_cost
    for to_date in (0.0, 50_000.0, 299_999.0, 300_000.0, 600_000.0, 5_000_000.0):
        planned = hours(sch, outlook(revenue_to_date=to_date))
        assert planned["prospecting"] == pytest.approx(expected, abs=1e-12, rel=0.0)
        assert planned["accounts"] == 0.0
        assert planned["training"] == 0.0


# -- 3. cap --------------------------------------------------------------------------------------------------


def test_cap_far_below_expected_pay_stops_effort():
    """A cap far below the expected pay (1,000 vs 30,000) leaves < 1% of the uncapped hours: coasting past a cap."""
    uncapped = hours(scheme(**COMMISSION), outlook())["prospecting"]
    capped = hours(scheme(**COMMISSION, cap=1_000), outlook())["prospecting"]
    assert capped < 0.01 * uncapped, f"capped {capped:.4g} vs uncapped {uncapped:.4g}"


def test_binding_cap_lowers_effort():
    """A cap below the expected pay plans fewer hours than no cap, and never more: cap 1,000 < cap 31,000 < no cap."""
    uncapped = hours(scheme(**COMMISSION), outlook())["prospecting"]
    tight = hours(scheme(**COMMISSION, cap=1_000), outlook())["prospecting"]
    loose = hours(scheme(**COMMISSION, cap=31_000), outlook())["prospecting"]
    assert tight <= loose < uncapped


def test_cap_far_above_expected_pay_changes_nothing():
    """A cap far above the expected pay (200,000 vs 30,000) keeps the uncapped hours within 1%."""
    uncapped = hours(scheme(**COMMISSION), outlook())["prospecting"]
    capped = hours(scheme(**COMMISSION, cap=200_000), outlook())["prospecting"]
    assert capped == pytest.approx(uncapped, rel=0.01)


# -- 4. ratchet ----------------------------------------------------------------------------------------------

ACCELERATOR = {"quota_per_month": 100_000, "commission_rate": 0.02, "accelerator_rate": 0.05}


def test_foreseen_ratchet_withholds_effort_above_quota():
    """Well above quota, ratchet_up 0.5 with foresight 1 plans fewer hours: the quota-based pay nets out 0.5 p.

    Only the accelerator depends on the quota; the commission does not rise with it, so the hours
    are the no-ratchet hours x (c + a p (1 - 0.5 p)) / (c + a p).
    """
    look = outlook(revenue_expected=900_000.0)  # 3 x quota
    plain = plan_effort(scheme(**ACCELERATOR), response(), look, PROSPECTING)
    ratchet = plan_effort(scheme(**ACCELERATOR, ratchet_up=0.5), response(ratchet_foresight=1.0), look, PROSPECTING)
    assert plain.p_quota > 0.95
    assert ratchet.hours["prospecting"] < plain.hours["prospecting"]
    c, a, p = 0.02, 0.05, plain.p_quota
    assert ratchet.hours["prospecting"] == pytest.approx(
        plain.hours["prospecting"] * (c + a * p * (1.0 - 0.5 * p)) / (c + a * p), rel=1e-12
    )


def test_ratchet_costs_a_pure_commission_nothing():
    """Under pure commission a higher next quota costs no pay: the ratchet leaves the hours unchanged (rel 1e-12)."""
    look = outlook(revenue_expected=900_000.0)
    plain = hours(scheme(commission_rate=0.1, quota_per_month=100_000), look)
    ratchet = hours(scheme(commission_rate=0.1, quota_per_month=100_000, ratchet_up=0.5), look, ratchet_foresight=1.0)
    assert ratchet["prospecting"] == pytest.approx(plain["prospecting"], rel=1e-12)


def test_myopic_rep_ignores_the_ratchet():
    """With ratchet_foresight 0 a ratchet_up of 0.5 plans exactly the no-ratchet hours (rel 1e-12)."""
    look = outlook(revenue_expected=900_000.0)
    plain = hours(scheme(**ACCELERATOR), look, ratchet_foresight=0.0)
    myopic = hours(scheme(**ACCELERATOR, ratchet_up=0.5), look, ratchet_foresight=0.0)
    assert myopic["prospecting"] == pytest.approx(plain["prospecting"], rel=1e-12)


# -- 5. present bias -----------------------------------------------------------------------------------------


def test_present_bias_discounts_pay_settled_later():
    """Pay two month ends away: hours ratio = present_bias x monthly_discount^2 (rel 1e-12, commission)."""
    config = response()
    now = hours(scheme(**COMMISSION), outlook(months_to_pay=0))["prospecting"]
    later = hours(scheme(**COMMISSION), outlook(months_to_pay=2))["prospecting"]
    assert later / now == pytest.approx(config.present_bias * config.monthly_discount**2, rel=1e-12)
    assert discount(config, 0) == 1.0
    assert discount(config, 2) == pytest.approx(0.85 * 0.99**2, rel=1e-12)


# -- 6. unpaid work (Holmstrom and Milgrom) ------------------------------------------------------------------

TRAINING = {"training": {"training_score": 0.0375, "data_use": 0.15}}
DATA_USE_SCORECARD = {
    "target_pay": 10_000,
    "scorecard": {"data_use": {"block": "capability", "weight": 100, "target": 0.5}},
}


def test_unpaid_training_gets_no_effort_under_commission():
    """Under a revenue-only commission, training (which adds only training score and data use) gets 0 hours."""
    plan = plan_effort(scheme(**COMMISSION), response(), outlook(), {**PROSPECTING, **TRAINING})
    assert plan.hours["training"] == 0.0
    assert plan.hours["prospecting"] > 0.0


def test_scorecard_paying_data_use_buys_training_hours():
    """A scorecard paying data use prices training: hours = target_pay / target x 0.15 / effort_cost (rel 1e-12)."""
    config = response()
    plan = plan_effort(scheme(**DATA_USE_SCORECARD), config, outlook(), {**PROSPECTING, **TRAINING})
    assert plan.hours["training"] > 0.0
    assert plan.hours["training"] == pytest.approx(10_000 / 0.5 * 0.15 / config.effort_cost, rel=1e-12)
    assert plan.hours["prospecting"] == 0.0  # the scorecard pays no revenue


# -- 7. free hours -------------------------------------------------------------------------------------------

TWO_KINDS = {"prospecting": {"revenue": 5_000.0}, "accounts": {"revenue": 3_000.0}}


def test_plan_is_scaled_down_to_the_free_hours_keeping_proportions():
    """When the unconstrained plan (20 h) exceeds 6 free hours, it sums to 6 exactly with the same proportions."""
    free = hours(scheme(**COMMISSION), outlook(), TWO_KINDS)
    tight = hours(scheme(**COMMISSION), outlook(free_hours=6.0), TWO_KINDS)
    assert sum(free.values()) == pytest.approx(20.0, rel=1e-12)
    assert sum(tight.values()) == pytest.approx(6.0, rel=1e-12)
    for kind in EFFORT_KINDS:
        assert tight[kind] == pytest.approx(free[kind] * 6.0 / 20.0, rel=1e-12, abs=1e-15)


def test_plan_within_the_free_hours_is_not_scaled():
    """A plan below the free hours is the unconstrained plan, and no free hours means no planned hours."""
    free = hours(scheme(**COMMISSION), outlook(), TWO_KINDS)
    roomy = hours(scheme(**COMMISSION), outlook(free_hours=20.5), TWO_KINDS)
    none = hours(scheme(**COMMISSION), outlook(free_hours=0.0), TWO_KINDS)
    assert roomy == free
    assert all(h == 0.0 for h in none.values())


# -- 8. gate prices ------------------------------------------------------------------------------------------

FLOORS = {"floors": {"timeliness": {"limit": 0.95, "cut": 0.2}, "complaint_rate": {"limit": 0.01, "cut": 0.2}}}
PAY = 10_000.0


def gate_price(name: str, mean: float, sd: float) -> float:
    """The shadow price of gate ``name`` at an expected value of ``mean`` with sd ``sd``."""
    return gate_prices(scheme(**COMMISSION, **FLOORS), outlook(gates={name: (mean, sd)}), PAY)[name]


@pytest.mark.parametrize(
    ("name", "limit", "sd", "sign"), [("timeliness", 0.95, 0.02, 1.0), ("complaint_rate", 0.01, 0.003, -1.0)]
)
def test_gate_price_is_largest_at_the_limit(name, limit, sd, sign):
    """The price has the gate's sign (+ timeliness, - complaints) and peaks at the limit: cut x pay x phi(0) / sd."""
    at_limit = gate_price(name, limit, sd)
    assert sign * at_limit > 0.0
    assert at_limit == pytest.approx(sign * 0.2 * PAY * _NORMAL.pdf(0.0) / sd, rel=1e-12)
    for k in (-3.0, -1.5, -0.5, -0.1, 0.1, 0.5, 1.5, 3.0):
        assert abs(gate_price(name, limit + k * sd, sd)) < abs(at_limit)


@pytest.mark.parametrize(("name", "limit", "sd"), [("timeliness", 0.95, 0.02), ("complaint_rate", 0.01, 0.003)])
def test_gate_price_falls_off_far_from_the_limit(name, limit, sd):
    """Four sd from the limit, on either side, the gate price is < 5% of its value at the limit."""
    at_limit = abs(gate_price(name, limit, sd))
    for k in (-4.0, 4.0):
        far = abs(gate_price(name, limit + k * sd, sd))
        assert far < 0.05 * at_limit, f"{name} at {k:+g} sd: {far:.4g} vs {at_limit:.4g}"


def test_gate_prices_are_zero_without_floors_or_outlook():
    """No floors: no gate prices; floors with no expected value (or sd 0) for the gate: price 0."""
    look = outlook(gates={"timeliness": (0.95, 0.02), "complaint_rate": (0.01, 0.003)})
    assert gate_prices(scheme(**COMMISSION), look, PAY) == {}
    blind = gate_prices(scheme(**COMMISSION, **FLOORS), outlook(), PAY)
    assert blind == {"timeliness": 0.0, "complaint_rate": 0.0}
    certain = gate_prices(scheme(**COMMISSION, **FLOORS), outlook(gates={"timeliness": (0.95, 0.0)}), PAY)
    assert certain["timeliness"] == 0.0


# -- 9. a floor shifts effort --------------------------------------------------------------------------------

ACCOUNTS = {"accounts": {"revenue": 500.0, "complaint_rate": 1e-4}}
COMPLAINT_FLOOR = {"floors": {"complaint_rate": {"limit": 0.01, "cut": 0.2}}}


def test_complaint_floor_near_its_limit_cuts_complaint_prone_work():
    """Account work that adds complaints gets fewer hours when a complaint floor is near its limit."""
    look = outlook(gates={"complaint_rate": (0.01, 0.003)})
    without = hours(scheme(**COMMISSION), look, ACCOUNTS)["accounts"]
    with_floor = hours(scheme(**COMMISSION, **COMPLAINT_FLOOR), look, ACCOUNTS)["accounts"]
    assert without == pytest.approx(0.1 * 500.0 / 40.0, rel=1e-12)
    assert with_floor < without


def test_complaint_floor_far_from_its_limit_barely_matters():
    """A complaint floor whose metric sits 9 sd below the limit leaves account hours within 1% of no floor."""
    look = outlook(gates={"complaint_rate": (0.001, 0.001)})
    without = hours(scheme(**COMMISSION), look, ACCOUNTS)["accounts"]
    with_floor = hours(scheme(**COMMISSION, **COMPLAINT_FLOOR), look, ACCOUNTS)["accounts"]
    assert with_floor == pytest.approx(without, rel=0.01)


# -- 10. timing games ----------------------------------------------------------------------------------------


def test_pull_when_just_short_of_a_bonus_inside_the_window():
    """Short of quota by less than pull_gap (25%) within 10 days of the end under a bonus: pull deals forward."""
    sch, config = scheme(**BONUS), response()
    assert timing_move(sch, config, 250_000.0, QUARTER_QUOTA, 5.0) == "pull"
    assert timing_move(sch, config, 225_000.0, QUARTER_QUOTA, 10.0) == "pull"  # both edges inclusive
    assert timing_move(sch, config, 299_999.0, QUARTER_QUOTA, 0.0) == "pull"
    assert timing_move(sch, config, 200_000.0, QUARTER_QUOTA, 5.0) is None  # too far short


def test_no_timing_game_outside_the_window():
    """More than timing_window_days (10) before the end there is no timing game, short of quota or past it."""
    sch, config = scheme(**BONUS), response()
    assert timing_move(sch, config, 250_000.0, QUARTER_QUOTA, 10.5) is None
    assert timing_move(sch, config, 350_000.0, QUARTER_QUOTA, 20.0) is None


def test_push_once_the_bonus_is_secured_without_an_accelerator():
    """Past quota with a bonus and no accelerator: push deals into the next period; with an accelerator: no push."""
    config = response()
    assert timing_move(scheme(**BONUS), config, 300_000.0, QUARTER_QUOTA, 5.0) == "push"
    assert timing_move(scheme(**BONUS), config, 400_000.0, QUARTER_QUOTA, 5.0) == "push"
    accelerated = scheme(**BONUS, accelerator_rate=0.05)
    assert timing_move(accelerated, config, 400_000.0, QUARTER_QUOTA, 5.0) is None


def test_pure_commission_without_cap_plays_no_timing_game():
    """Under a pure commission with no cap, no revenue to date triggers a pull or a push."""
    config = response()
    for to_date in (0.0, 250_000.0, 299_999.0, 300_000.0, 1_000_000.0):
        assert timing_move(scheme(**COMMISSION), config, to_date, QUARTER_QUOTA, 5.0) is None


def test_push_when_the_cap_binds():
    """Commission past the cap (0.1 x 300,000 > 20,000): push deals into the next period; below it: nothing."""
    capped = scheme(**COMMISSION, cap=20_000)
    config = response()
    assert timing_move(capped, config, 300_000.0, QUARTER_QUOTA, 5.0) == "push"
    assert timing_move(capped, config, 150_000.0, QUARTER_QUOTA, 5.0) is None


def test_outlook_defaults_are_a_full_period_in_post():
    """An Outlook without metrics or gates is a full period in post, priced over days_left as the whole period."""
    look = outlook()
    assert look.employed_share == 1.0
    assert look.period_days == 0.0
    explicit = dataclasses.replace(look, period_days=look.days_left)
    config = response()
    assert revenue_price(scheme(**BONUS), config, look) == revenue_price(scheme(**BONUS), config, explicit)
    assert math.isfinite(revenue_price(scheme(**BONUS), config, look)[0])
