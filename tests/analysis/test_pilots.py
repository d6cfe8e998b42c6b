"""Pilot rules: the power closed form vs domain.md's table and simulation, placebo validity, CUPED, scoring."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.pilots import (
    RULES,
    Estimate,
    PilotDesign,
    apply_rules,
    closed_form_pass_prob,
    closed_form_se,
    cuped_did,
    did_placebo,
    estimate_tau,
    evaluate,
    mde80,
    plan_rule,
    plot_operating_characteristics,
    pre_post,
    recommend,
    simulate_panel,
    synthetic_control,
    verdict_rates,
)
from analysis.stats import wilson_interval

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
P = 0.10  # domain.md's table: 10% conversion, one treated region vs one equal control
PILOTS = 10_000  # simulated pilots per closed-form row: MC standard error <= 0.005
# The closed form is a normal approximation of c_T / c_C - 1, whose sampling distribution is
# right-skewed (1 / c_C is convex), and the counts are discrete (exactly +20% happens and passes):
# simulation passes 0.02-0.03 more often. domain.md's own Monte Carlo: 0.27 vs 0.25, 0.22 vs 0.20,
# 0.03 vs 0.02, 0.35 vs 0.33; 2M draws of this simulator: 0.279, 0.223, 0.028, 0.358 at the rows
# tested here (and 0.391 for the 200/1/0 power). 0.04 leaves 2.5-3 MC standard errors above that.
# (The power at 1000 leads, 2 weeks, tau = 0 is 0.176 vs 0.146: too close to 0.04 to test here.)
CLOSED_FORM_TOLERANCE = 0.04


# domain.md section 6: (leads/region/week, weeks, tau, SE, P(>= +20% | 0), P(pass | +10%), MDE80, SE tolerance).
# Row 2's SE cell reads 0.24 but the formula gives 0.2345, and that row's other cells (0.20, 0.33, 66%)
# are the ones 0.2345 gives: the cell was rounded up, so it gets 0.006 instead of half a unit (0.005).
TABLE = [
    (200, 1, 0.0, 0.30, 0.25, 0.37, 0.84, 0.005),
    (200, 2, 0.10, 0.24, 0.20, 0.33, 0.66, 0.006),
    (1000, 2, 0.0, 0.095, 0.02, 0.15, 0.27, 0.0005),
    (1000, 2, 0.10, 0.14, 0.07, 0.23, 0.39, 0.005),
    (1000, 2, 0.20, 0.22, 0.18, 0.33, 0.62, 0.005),
]


@pytest.mark.parametrize("row", TABLE)
def test_closed_form_reproduces_domain_table(row: tuple[int, int, float, float, float, float, float, float]) -> None:
    leads, weeks, tau, se, null_pass, power, mde, se_tol = row
    got = closed_form_se(P, leads * weeks, leads * weeks, tau, weeks, 1.0)
    assert got == pytest.approx(se, abs=se_tol)
    assert closed_form_pass_prob(0.20, 0.0, got) == pytest.approx(null_pass, abs=0.005)
    assert closed_form_pass_prob(0.20, 0.10, got) == pytest.approx(power, abs=0.005)
    assert mde80(got) == pytest.approx(mde, abs=0.005)


def test_closed_form_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="p must be"):
        closed_form_se(0.0, 100, 100, 0.0, 1, 1)
    with pytest.raises(ValueError, match="need n_t"):
        closed_form_se(0.1, 0, 100, 0.0, 1, 1)
    with pytest.raises(ValueError, match="se must be"):
        closed_form_pass_prob(0.2, 0.0, 0.0)


_PLAN_SIMS: dict[tuple[int, int, float, float], list[Estimate]] = {}


def _plan_pilots(leads: int, weeks: int, tau: float, effect: float) -> list[Estimate]:
    """The plan's rule on PILOTS simulated two-region pilots (cached: type M reuses the power run)."""
    key = (leads, weeks, tau, effect)
    if key not in _PLAN_SIMS:
        rng = np.random.default_rng([leads, weeks, int(100 * tau), int(100 * effect) + 100])
        design = PilotDesign(("a",), start=0, weeks=weeks, pre_weeks=0)
        _PLAN_SIMS[key] = [
            plan_rule(
                simulate_panel(["a", "b"], weeks, leads, P, tau, rng, effect=effect, design=design, fixed_leads=True),
                design,
            )
            for _ in range(PILOTS)
        ]
    return _PLAN_SIMS[key]


@pytest.mark.parametrize(
    ("leads", "weeks", "tau", "effect"),
    [(200, 1, 0.0, 0.0), (200, 2, 0.10, 0.0), (1000, 2, 0.0, 0.0), (200, 2, 0.10, 0.10), (200, 1, 0.0, 0.10)],
)
def test_plan_rule_pass_rate_matches_closed_form(leads: int, weeks: int, tau: float, effect: float) -> None:
    rate = float(np.mean([e.passed for e in _plan_pilots(leads, weeks, tau, effect)]))
    expected = closed_form_pass_prob(0.20, effect, closed_form_se(P, leads * weeks, leads * weeks, tau, weeks, 1.0))
    assert rate == pytest.approx(expected, abs=CLOSED_FORM_TOLERANCE)


def test_plan_rule_exaggerates_passing_lifts() -> None:
    """domain.md: at 200 leads/week, 2 weeks, tau = 0.1, pilots of a true +10% that pass show ~+37%."""
    estimates = _plan_pilots(200, 2, 0.10, 0.10)
    pilots = pd.DataFrame(
        {
            "rule": "plan_rule",
            "weeks": 2,
            "treated_units": 1,
            "true_effect": 0.10,
            "lift": [e.lift for e in estimates],
            "passed": [e.passed for e in estimates],
            "applicable": True,
        }
    )
    row = evaluate(pilots).iloc[0]
    assert row["type_m"] > 1.5
    assert row["type_m"] >= 2.0  # the rule needs +20%: twice the true +10% at least
    assert row["type_s"] == 0.0


def test_plan_rule_arithmetic() -> None:
    panel = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "week": [0, 1, 0, 1],
            "leads": [100, 100, 100, 100],
            "conversions": [5, 12, 5, 10],
        }
    )
    design = PilotDesign(("a",), start=1, weeks=1, pre_weeks=1)
    est = plan_rule(panel, design)
    assert est.lift == pytest.approx(0.2)
    assert est.passed  # >= the threshold passes
    assert est.p_value is None
    assert not plan_rule(panel, design, threshold=0.25).passed
    pp = pre_post(panel, design)
    assert pp.lift == pytest.approx(12 / 5 - 1)
    assert pp.p_value is not None
    assert 0 < pp.p_value < 0.05
    assert pp.passed


def test_did_placebo_false_positive_rate_is_at_most_alpha() -> None:
    """tau = 0.1, 24 pre-weeks, 3 regions: 22 placebo starts in time + 2 in space, so p can reach 1/25."""
    rng = np.random.default_rng(11)
    design = PilotDesign(("north",), start=24, weeks=2, pre_weeks=24)
    n, alpha = 1_000, 0.05
    panels = [simulate_panel(["north", "east", "south"], 26, 500, P, 0.10, rng) for _ in range(n)]
    results = [did_placebo(panel, design) for panel in panels]
    assert all(e.applicable for e in results)
    assert {e.note for e in results} == {"24 placebos"}
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / n)
    assert float(np.mean([e.passed for e in results])) <= bound
    # theta is fitted on the placebos, not on the observed window: slightly liberal, still within the bound
    assert float(np.mean([cuped_did(panel, design).passed for panel in panels])) <= bound


def test_placebo_rules_inapplicable_with_few_placebos() -> None:
    """The study's market: 3 regions, 9 weeks before a 2-week pilot, 8 pre-weeks -> 7 + 2 placebos, p >= 0.1."""
    panel = simulate_panel(["north", "east", "south"], 11, 300, P, 0.1, np.random.default_rng(0))
    design = PilotDesign(("east",), start=9, weeks=2, pre_weeks=8)
    for rule in (did_placebo, cuped_did):
        est = rule(panel, design)
        assert not est.applicable
        assert not est.passed
        assert math.isnan(est.lift)
        assert "9 placebo pilots" in est.note
    assert did_placebo(panel, design, alpha=0.1).applicable


def test_did_and_cuped_detect_a_large_effect_with_two_treated() -> None:
    rng = np.random.default_rng(5)
    units = ["a", "b", "c", "d", "e"]
    design = PilotDesign(("a", "b"), start=20, weeks=4, pre_weeks=20)
    panel = simulate_panel(units, 24, 3000, P, 0.03, rng, effect=0.5, design=design)
    for rule in (did_placebo, cuped_did):
        est = rule(panel, design)
        assert est.applicable
        assert est.passed
        assert est.lift == pytest.approx(0.5, abs=0.15)


def test_cuped_has_lower_variance_than_did_with_persistent_levels() -> None:
    """Units differ persistently (unit_sd = 0.05); the short pre-period is informative but noisy: theta < 1 wins."""
    rng = np.random.default_rng(3)
    units = [f"u{i}" for i in range(10)]
    design = PilotDesign(("u0",), start=8, weeks=2, pre_weeks=4)  # 3 placebos in time + 9 in space
    did, cuped = [], []
    for _ in range(300):
        panel = simulate_panel(units, 10, 300, P, 0.10, rng, unit_sd=0.05)
        did.append(did_placebo(panel, design, alpha=0.1).lift)
        cuped.append(cuped_did(panel, design, alpha=0.1).lift)
    assert np.all(np.isfinite(did))
    assert np.var(cuped) < 0.9 * np.var(did)
    assert abs(np.mean(cuped)) < 0.03  # and no bias to speak of


def test_synthetic_control_recovers_a_thirty_percent_lift() -> None:
    units = [f"r{i:02d}" for i in range(25)]
    design = PilotDesign(("r00",), start=12, weeks=4, pre_weeks=12)
    results = []
    for seed in range(10):
        panel = simulate_panel(
            units, 16, 5000, P, 0.02, np.random.default_rng(seed), unit_sd=0.1, effect=0.3, design=design
        )
        results.append(synthetic_control(panel, design))
    assert all(e.applicable for e in results)
    assert float(np.mean([e.lift for e in results])) == pytest.approx(0.30, abs=0.05)
    assert np.mean([e.passed for e in results]) >= 0.7
    assert min(e.p_value for e in results if e.p_value is not None) == pytest.approx(1 / 25)


def test_synthetic_control_needs_nineteen_donors() -> None:
    panel = simulate_panel(["north", "east", "south"], 16, 500, P, 0.1, np.random.default_rng(1))
    est = synthetic_control(panel, PilotDesign(("east",), start=12, weeks=2, pre_weeks=12))
    assert not est.applicable
    assert not est.passed
    assert math.isnan(est.lift)
    assert "needs >= 19 donors for p <= 0.05" in est.note
    assert synthetic_control(panel, PilotDesign(("east",), 12, 2, 12), min_donors=2).applicable


def test_estimate_tau_recovers_region_week_noise() -> None:
    rng = np.random.default_rng(7)
    noisy = simulate_panel(["a", "b", "c"], 200, 1000, P, 0.10, rng, unit_sd=0.2)
    assert estimate_tau(noisy) == pytest.approx(0.10, abs=0.02)
    binomial_only = simulate_panel(["a", "b", "c"], 200, 1000, P, 0.0, rng, unit_sd=0.2)
    assert estimate_tau(binomial_only) < 0.03


def test_simulate_panel_shape_and_effect() -> None:
    design = PilotDesign(("a",), start=50, weeks=50, pre_weeks=50)
    panel = simulate_panel(
        ["a", "b"],
        100,
        {"a": 2000, "b": 1000},
        0.2,
        0.0,
        np.random.default_rng(0),
        effect=0.5,
        design=design,
        fixed_leads=True,
    )
    assert list(panel.columns) == ["unit", "week", "leads", "conversions"]
    assert len(panel) == 200
    assert set(panel.loc[panel["unit"] == "a", "leads"]) == {2000}
    rate = panel.assign(pilot=panel["week"] >= 50).groupby(["unit", "pilot"])[["conversions", "leads"]].sum()
    rate = rate["conversions"] / rate["leads"]
    assert rate[("a", False)] == pytest.approx(0.2, abs=0.01)
    assert rate[("a", True)] == pytest.approx(0.3, abs=0.01)
    assert rate[("b", True)] == pytest.approx(0.2, abs=0.01)
    again = simulate_panel(
        ["a", "b"],
        100,
        {"a": 2000, "b": 1000},
        0.2,
        0.0,
        np.random.default_rng(0),
        effect=0.5,
        design=design,
        fixed_leads=True,
    )
    pd.testing.assert_frame_equal(panel, again)
    with pytest.raises(ValueError, match="needs a design"):
        simulate_panel(["a"], 3, 10, 0.1, 0.0, np.random.default_rng(0), effect=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"treated": (), "start": 2, "weeks": 1, "pre_weeks": 1}, "treated needs"),
        ({"treated": ("a", "a"), "start": 2, "weeks": 1, "pre_weeks": 1}, "treated needs"),
        ({"treated": ("",), "start": 2, "weeks": 1, "pre_weeks": 1}, "non-empty strings"),
        ({"treated": ("a",), "start": 2, "weeks": 0, "pre_weeks": 1}, "weeks must be"),
        ({"treated": ("a",), "start": 2, "weeks": 1, "pre_weeks": -1}, "pre_weeks must be"),
        ({"treated": ("a",), "start": 1, "weeks": 1, "pre_weeks": 2}, "start must be"),
    ],
)
def test_invalid_designs_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PilotDesign(**kwargs)  # type: ignore[arg-type]


def test_designs_and_panels_that_do_not_fit_raise() -> None:
    panel = simulate_panel(["a", "b"], 4, 100, P, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="not in the panel"):
        plan_rule(panel, PilotDesign(("z",), 2, 1, 1))
    with pytest.raises(ValueError, match="panel ends at week 3"):
        plan_rule(panel, PilotDesign(("a",), 3, 2, 1))
    with pytest.raises(ValueError, match="no control unit"):
        plan_rule(panel, PilotDesign(("a", "b"), 2, 1, 1))
    design = PilotDesign(("a",), 2, 1, 1)
    with pytest.raises(ValueError, match="one row per unit and week"):
        plan_rule(panel.iloc[1:], design)
    with pytest.raises(ValueError, match="one row per unit and week"):
        plan_rule(pd.concat([panel, panel.iloc[:1]]), design)
    with pytest.raises(ValueError, match="lacks columns"):
        plan_rule(panel.drop(columns="leads"), design)
    with pytest.raises(ValueError, match="conversions <= leads"):
        plan_rule(panel.assign(conversions=panel["leads"] + 1), design)
    assert not pre_post(panel, PilotDesign(("a",), 2, 1, 0)).applicable


def test_rules_registry_and_apply_rules() -> None:
    assert list(RULES) == ["plan_rule", "pre_post", "did_placebo", "cuped_did", "synthetic_control"]
    panel = simulate_panel(["a", "b", "c"], 30, 400, P, 0.1, np.random.default_rng(2))
    estimates = apply_rules(panel, PilotDesign(("a",), 26, 2, 24), threshold=0.1)
    assert [e.rule for e in estimates] == list(RULES)
    assert [e.applicable for e in estimates] == [True, True, True, True, False]


def _hand_pilots() -> pd.DataFrame:
    rows = [
        # rule, weeks, treated_units, true_effect, lift, passed, applicable
        *[("r", 1, 1, 0.0, lift, ok, True) for lift, ok in [(0.25, True), (0.1, False), (0.0, False), (-0.1, False)]],
        *[("r", 1, 1, 0.1, lift, ok, True) for lift, ok in [(0.3, True), (0.2, True), (0.05, False), (-0.1, False)]],
        *[("r", 1, 1, 0.2, lift, ok, True) for lift, ok in [(0.4, True), (0.1, False)]],
        *[("r", 1, 1, -0.1, lift, ok, True) for lift, ok in [(0.3, True), (-0.2, False)]],
        *[("x", 1, 1, e, math.nan, False, False) for e in (0.0, 0.1)],
    ]
    return pd.DataFrame(rows, columns=["rule", "weeks", "treated_units", "true_effect", "lift", "passed", "applicable"])


def test_evaluate_hand_computed() -> None:
    table = evaluate(_hand_pilots(), value_per_lift=100.0, rollout_cost=5.0, pilot_cost=1.0)
    assert list(table["rule"]) == ["r", "x"]
    r = table.iloc[0]
    assert r["n_pilots"] == 12
    assert r["n_null"] == 4
    assert r["false_positive_rate"] == pytest.approx(0.25)
    low, high = wilson_interval(1, 4)
    assert (r["fpr_low"], r["fpr_high"]) == pytest.approx((low, high))
    assert r["power"] == pytest.approx(0.5)
    assert r["power_at_0.1"] == pytest.approx(0.5)
    assert r["power_at_0.2"] == pytest.approx(0.5)
    assert r["harm_pass_rate"] == pytest.approx(0.5)
    assert r["type_m"] == pytest.approx(2.0)  # median of 3, 2, 2
    assert r["type_s"] == 0.0
    # empirical prior: 0 -> 4/12, 0.1 -> 4/12, 0.2 -> 2/12, -0.1 -> 2/12
    ev = (4 * 0.25 * -5 + 4 * 0.5 * 5 + 2 * 0.5 * 15 + 2 * 0.5 * -15) / 12 - 1
    assert r["expected_value"] == pytest.approx(ev)
    real = (4 * 0.5 + 2 * 0.5) / (4 * 0.5 + 2 * 0.5 + 4 * 0.25 + 2 * 0.5)
    assert r["p_real_given_pass"] == pytest.approx(real)
    assert bool(r["applicable"])
    x = table.iloc[1]
    assert not bool(x["applicable"])
    assert all(math.isnan(x[c]) for c in ("false_positive_rate", "power", "type_m", "expected_value"))


def test_evaluate_with_prior_and_cost_per_design() -> None:
    pilots = _hand_pilots()
    pilots = pd.concat([pilots, pilots[pilots["rule"] == "r"].assign(weeks=2)], ignore_index=True)
    table = evaluate(
        pilots,
        prior={0.0: 1.0, 0.1: 1.0},
        value_per_lift=100.0,
        rollout_cost=5.0,
        pilot_cost={(1, 1): 1.0, (2, 1): 3.0},
    )
    r1 = table[(table["rule"] == "r") & (table["weeks"] == 1)].iloc[0]
    r2 = table[(table["rule"] == "r") & (table["weeks"] == 2)].iloc[0]
    assert r1["expected_value"] == pytest.approx(0.5 * 0.25 * -5 + 0.5 * 0.5 * 5 - 1)
    assert r2["expected_value"] == pytest.approx(r1["expected_value"] - 2)
    assert r1["p_real_given_pass"] == pytest.approx(0.5 / 0.75)
    with pytest.raises(ValueError, match="no entry for design"):
        evaluate(pilots, pilot_cost={(1, 1): 1.0})
    missing_effect = evaluate(pilots, prior={0.0: 1.0, 0.5: 1.0})
    assert math.isnan(missing_effect.iloc[0]["expected_value"])


def test_recommend_picks_best_expected_value_under_the_fpr_cap() -> None:
    table = pd.DataFrame(
        {
            "rule": ["a", "b", "c", "d"],
            "weeks": [1, 2, 4, 8],
            "false_positive_rate": [0.05, 0.20, 0.08, 0.09],
            "expected_value": [10.0, 50.0, 20.0, 15.0],
            "applicable": [True, True, False, True],
        }
    )
    best = recommend(table)
    assert best is not None
    assert best["rule"] == "d"
    assert recommend(table, max_fpr=0.01) is None


def test_plot_operating_characteristics_writes_png(tmp_path: Path) -> None:
    rows = [
        {
            "rule": rule,
            "weeks": weeks,
            "treated_units": treated,
            "false_positive_rate": fpr / weeks,
            "power": 0.1 * weeks,
            "applicable": True,
        }
        for rule, fpr in (("plan_rule", 0.25), ("did_placebo", 0.04))
        for weeks in (1, 2, 4)
        for treated in (1, 2)
    ]
    rows.append(
        {
            "rule": "synthetic_control",
            "weeks": 1,
            "treated_units": 1,
            "false_positive_rate": math.nan,
            "power": math.nan,
            "applicable": False,
        }
    )
    out = plot_operating_characteristics(pd.DataFrame(rows), tmp_path / "plots" / "pilots.png")
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    assert not list(out.parent.glob("*.part"))


def test_verdict_rates_of_a_real_policy_hand_computed() -> None:
    pilots = pd.DataFrame(
        {
            "variant": ["v"] * 6,
            "design": ["east"] * 6,
            "rule": ["plan_rule"] * 4 + ["synthetic_control"] * 2,
            "weeks": [1, 1, 1, 1, 1, 1],
            "passed": [True, True, False, True, False, False],
            "applicable": [True] * 4 + [False] * 2,
            "lift": [0.3, 0.5, 0.1, 0.4, math.nan, math.nan],
            "realised_effect": [0.2, 0.3, 0.1, 0.4, 0.2, 0.3],
        }
    )
    table = verdict_rates(pilots).set_index("rule")
    plan = table.loc["plan_rule"]
    assert plan["n_pilots"] == 4
    assert plan["pass_rate"] == 0.75
    assert (plan["pass_low"], plan["pass_high"]) == pytest.approx(wilson_interval(3, 4))
    assert plan["lift_median"] == pytest.approx(0.35)
    assert plan["realised_mean"] == pytest.approx(0.25)
    assert plan["realised_p10"] == pytest.approx(np.percentile([0.2, 0.3, 0.1, 0.4], 10))
    inapplicable = table.loc["synthetic_control"]
    assert not inapplicable["applicable"]
    assert math.isnan(inapplicable["pass_rate"])
    assert inapplicable["realised_mean"] == pytest.approx(0.25)  # the truth does not depend on the rule
    with pytest.raises(ValueError, match="lacks columns"):
        verdict_rates(pilots.drop(columns="realised_effect"))
