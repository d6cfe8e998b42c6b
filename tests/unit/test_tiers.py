"""The plan's RFM tiers: every boundary of the table, precedence, the residual tier, the gaps, config errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from salesboost.errors import ConfigError
from salesboost.tiers import (
    GAPS,
    GapBounds,
    TierConfig,
    TierRule,
    classify,
    monetary_rank,
    summarise,
)

PLAN = TierConfig.plan()
# Customers that meet every other condition of the rule under test, so only the probed bound decides.
HIGH = {"frequency": 20, "rank": 0.9}
POTENTIAL = {"frequency": 6, "rank": 0.5}


def tier(recency: float, frequency: float, rank: float | None, config: TierConfig = PLAN) -> str:
    return classify(recency, frequency, rank, config, monetary_known=rank is not None).tier


# -- the table, boundary by boundary --------------------------------------------------------------------


@pytest.mark.parametrize(("recency", "expected"), [(0, "high_value"), (30, "high_value"), (31, "maintain")])
def test_high_value_recency_bound_is_inclusive(recency, expected):
    assert tier(recency, **HIGH) == expected


def test_high_value_at_31_days_falls_into_the_top_spend_gap():
    # R = 31 leaves high value; M top 20% is not potential's middle band: gap (c).
    found = classify(31, 20, 0.9, PLAN)
    assert (found.tier, found.gap) == ("maintain", "c_recent_top_spend")
    assert classify(30, 20, 0.9, PLAN).tier == "high_value"


@pytest.mark.parametrize(("frequency", "expected"), [(11, "maintain"), (12, "high_value")])
def test_high_value_needs_monthly_frequency(frequency, expected):
    assert tier(10, frequency, 0.9) == expected


@pytest.mark.parametrize(("rank", "expected"), [(0.79999, "potential"), (0.8, "high_value"), (1.0, "high_value")])
def test_high_value_top_20_percent_starts_at_rank_0_8(rank, expected):
    assert tier(10, 12, rank) == expected


@pytest.mark.parametrize(("recency", "expected"), [(60, "potential"), (61, "maintain")])
def test_potential_recency_bound_is_inclusive(recency, expected):
    assert tier(recency, **POTENTIAL) == expected


@pytest.mark.parametrize(("frequency", "expected"), [(3, "maintain"), (4, "potential"), (11, "potential")])
def test_potential_needs_quarterly_frequency(frequency, expected):
    assert tier(45, frequency, 0.5) == expected


@pytest.mark.parametrize(
    ("rank", "expected"), [(0.19999, "maintain"), (0.2, "potential"), (0.79999, "potential"), (0.8, "maintain")]
)
def test_potential_middle_band_is_half_open(rank, expected):
    assert tier(45, 6, rank) == expected


@pytest.mark.parametrize(
    ("recency", "expected"), [(89, "maintain"), (90, "dormant"), (180, "dormant"), (400, "dormant")]
)
def test_dormant_recency_bound_is_inclusive(recency, expected):
    assert tier(recency, 2, 0.5) == expected


@pytest.mark.parametrize(("frequency", "expected"), [(0, "dormant"), (1, "dormant"), (2, "dormant"), (3, "maintain")])
def test_dormant_at_most_half_yearly(frequency, expected):
    assert tier(120, frequency, 0.5) == expected


@pytest.mark.parametrize(
    ("recency", "frequency", "rank", "expected"),
    [
        (179, 1, 0.1, False),
        (180, 1, 0.1, True),
        (180, 2, 0.1, False),
        (180, 1, 0.19999, True),
        (180, 1, 0.2, False),
    ],
)
def test_low_value_conditions(recency, frequency, rank, expected):
    assert PLAN.rule("low_value").matches(recency, frequency, rank) is expected
    assert ("low_value" in classify(recency, frequency, rank, PLAN).matched) is expected


def test_every_rule_boundary_matches_the_table():
    rules = {rule.name: rule for rule in PLAN.rules}
    assert rules["high_value"] == TierRule(
        "high_value", recency_max_days=30, frequency_min=12, monetary_min_rank=0.8, tags=rules["high_value"].tags
    )
    assert (rules["potential"].recency_max_days, rules["potential"].frequency_min) == (60, 4)
    assert (rules["potential"].monetary_min_rank, rules["potential"].monetary_max_rank) == (0.2, 0.8)
    assert (rules["dormant"].recency_min_days, rules["dormant"].frequency_max) == (90, 2)
    assert not rules["dormant"].uses_monetary
    low = rules["low_value"]
    assert (low.recency_min_days, low.frequency_max, low.monetary_max_rank) == (180, 1, 0.2)
    assert {tag for rule in PLAN.rules for tag in rule.tags} >= {"core_decision_maker", "price_sensitive"}


# -- precedence and the residual tier ------------------------------------------------------------------


def test_dormant_and_low_value_overlap_resolved_by_precedence():
    found = classify(200, 1, 0.1, PLAN)
    assert found.matched == ("low_value", "dormant")
    assert found.tier == "low_value"  # the narrower rule first: the plan's default
    flipped = TierConfig(precedence=("high_value", "potential", "dormant", "low_value"))
    again = classify(200, 1, 0.1, flipped)
    assert again.tier == "dormant"
    assert again.matched == ("dormant", "low_value")
    assert classify(200, 1, 0.5, PLAN).tier == "dormant"  # lapsed, not a low spender


def test_without_amounts_no_monetary_condition_applies():
    found = classify(10, 12, None, PLAN, monetary_known=False)
    assert found.matched == ("high_value", "potential")
    assert found.tier == "high_value"
    assert not found.monetary_known
    # a top spender at R = 45 is potential when M is not applied (gap c only exists with amounts)
    assert classify(45, 6, 0.95, PLAN, monetary_known=False).tier == "potential"
    assert classify(45, 6, 0.95, PLAN).tier == "maintain"


def test_residual_tier_name_is_config():
    config = TierConfig(residual="unclassified")
    found = classify(70, 5, 0.5, config)
    assert (found.tier, found.matched, found.gap) == ("unclassified", (), "a_recency_between")
    assert config.tiers == ("high_value", "potential", "low_value", "dormant", "unclassified")


# -- the five gaps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recency", "frequency", "rank", "gap"),
    [
        (61, 6, 0.5, "a_recency_between"),
        (89, 20, 0.9, "a_recency_between"),
        (60, 3, 0.5, "b_recent_infrequent"),
        (0, 0, 0.9, "b_recent_infrequent"),
        (60, 4, 0.8, "c_recent_top_spend"),
        (20, 11, 0.99, "c_recent_top_spend"),
        (60, 4, 0.19999, "d_recent_bottom_spend"),
        (5, 30, 0.0, "d_recent_bottom_spend"),
        (90, 3, 0.5, "e_lapsed_frequent"),
        (365, 12, 0.1, "e_lapsed_frequent"),
    ],
)
def test_each_gap_label(recency, frequency, rank, gap):
    found = classify(recency, frequency, rank, PLAN)
    assert (found.tier, found.matched, found.gap) == ("maintain", (), gap)


def test_matched_customers_have_no_gap_and_the_plan_leaves_no_other():
    # a grid over R, F and M: every customer is in a rule or in one of the five named gaps
    for recency in (0, 30, 31, 60, 61, 89, 90, 179, 180, 500):
        for frequency in (0, 1, 2, 3, 4, 11, 12, 40):
            for rank in (0.0, 0.19999, 0.2, 0.5, 0.79999, 0.8, 1.0):
                found = classify(recency, frequency, rank, PLAN)
                assert (found.gap is None) == bool(found.matched)
                assert found.gap != "other"


def test_gap_bounds_follow_the_configured_rules():
    rules = tuple(
        TierRule(r.name, **{**_bounds(r), "recency_max_days": 45}) if r.name == "potential" else r for r in PLAN.rules
    )
    config = TierConfig(rules=rules)
    assert GapBounds.of(config).recent_max_days == 45
    assert classify(50, 6, 0.5, config).gap == "a_recency_between"
    assert classify(50, 6, 0.5, PLAN).gap is None


def test_gap_labels_are_the_five_of_the_domain_notes_and_other():
    assert list(GAPS) == [
        "a_recency_between",
        "b_recent_infrequent",
        "c_recent_top_spend",
        "d_recent_bottom_spend",
        "e_lapsed_frequent",
        "other",
    ]


def test_other_gap_for_unmatched_customers_outside_the_five():
    only_recent = TierConfig(rules=(TierRule("recent", recency_max_days=10),), precedence=("recent",))
    # R = 100, F = 1 would be dormant in the plan; here no rule and no gap
    assert classify(100, 1, 0.5, only_recent).gap == "other"


def _bounds(rule: TierRule) -> dict[str, object]:
    return {
        key: getattr(rule, key)
        for key in (
            "recency_min_days",
            "recency_max_days",
            "frequency_min",
            "frequency_max",
            "monetary_min_rank",
            "monetary_max_rank",
            "tags",
        )
    }


# -- monetary rank -----------------------------------------------------------------------------------------


def test_monetary_rank_without_ties_gives_exact_20_percent_bands():
    ranks = monetary_rank(np.arange(10.0)[::-1])
    assert ranks == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    assert sum(r >= 0.8 for r in ranks) == 2
    assert sum(r < 0.2 for r in ranks) == 2


def test_monetary_rank_gives_ties_the_share_strictly_below():
    # 0, 1 and 3 of the 4 customers spent strictly less
    assert monetary_rank([5.0, 7.0, 7.0, 9.0]) == pytest.approx([0.0, 0.25, 0.25, 0.75])
    assert monetary_rank([3.0, 3.0, 3.0]) == pytest.approx([0.0] * 3)
    assert monetary_rank([]) == []


def test_customers_who_spent_nothing_are_in_the_bottom_band():
    """A lapsed majority with no spend in the window ranks at 0 (bottom 20%), not at its block's middle."""
    ranks = monetary_rank([0.0] * 60 + list(range(1, 41)))
    assert all(r == 0.0 for r in ranks[:60])
    assert sum(r >= 0.8 for r in ranks) == 20


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monetary_rank_equals_share_strictly_below(seed):
    values = np.random.default_rng(seed).integers(0, 20, size=200).astype(float)
    ranks = monetary_rank(values)
    for v, r in zip(values, ranks, strict=True):
        assert r == pytest.approx((values < v).sum() / len(values))


def test_monetary_rank_rejects_nan():
    with pytest.raises(ValueError, match="monetary_known=False"):
        monetary_rank([1.0, math.nan])


# -- summary ---------------------------------------------------------------------------------------------


def test_summary_counts_shares_revenue_gaps_and_overlaps():
    customers = [
        (10, 12, 0.9, 500.0),  # high_value
        (45, 6, 0.5, 200.0),  # potential
        (200, 1, 0.1, 10.0),  # low_value (and dormant)
        (120, 0, 0.5, 40.0),  # dormant
        (70, 5, 0.5, 250.0),  # maintain, gap a
    ]
    found = [classify(r, f, m, PLAN) for r, f, m, _ in customers]
    summary = summarise(found, [c[3] for c in customers], config=PLAN)
    assert summary.counts == {"high_value": 1, "potential": 1, "low_value": 1, "dormant": 1, "maintain": 1}
    assert summary.shares["dormant"] == pytest.approx(0.2)
    assert summary.revenue_shares == pytest.approx(
        {"high_value": 0.5, "potential": 0.2, "low_value": 0.01, "dormant": 0.04, "maintain": 0.25}
    )
    assert summary.gap_counts["a_recency_between"] == 1
    assert sum(summary.gap_counts.values()) == 1
    assert summary.rule_counts == {"high_value": 1, "potential": 1, "dormant": 2, "low_value": 1}
    assert summary.overlap_counts[("low_value", "dormant")] == 1
    assert sum(summary.overlap_counts.values()) == 1
    assert len(summary.overlap_counts) == 6
    kinds = {row["kind"] for row in summary.rows()}
    assert kinds == {"tier", "gap", "rule", "overlap"}


def test_summary_without_revenue_or_config():
    summary = summarise([classify(200, 1, None, PLAN, monetary_known=False)])
    assert summary.revenue_shares is None
    assert not summary.monetary_known
    assert summary.counts == {"low_value": 1}
    assert summary.overlap_counts == {("low_value", "dormant"): 1}


def test_summary_rejects_bad_revenue():
    found = [classify(10, 12, 0.9, PLAN)]
    with pytest.raises(ValueError, match="one amount per classification"):
        summarise(found, [1.0, 2.0])
    with pytest.raises(ValueError, match="revenue=None"):
        summarise(found, [math.nan])


# -- config ------------------------------------------------------------------------------------------------


def test_from_dict_empty_is_the_plan():
    assert TierConfig.from_dict({}) == TierConfig.plan()


def test_from_dict_reads_rules_precedence_window_and_residual():
    config = TierConfig.from_dict(
        {
            "window_days": 180,
            "rules": {
                "lapsed": {"recency_min_days": 60, "tags": ["win_back"]},
                "active": {"recency_max_days": 59.5, "frequency_min": 2, "monetary_min_rank": 0.5},
            },
            "precedence": ["active", "lapsed"],
            "residual": "other_customers",
        }
    )
    assert config.window_days == 180
    assert config.tiers == ("active", "lapsed", "other_customers")
    assert config.rule("lapsed").tags == ("win_back",)
    assert classify(30, 3, 0.6, config).tier == "active"
    assert classify(30, 3, 0.4, config).tier == "other_customers"


def test_from_dict_rules_without_precedence_apply_in_the_order_given():
    config = TierConfig.from_dict({"rules": {"b": {"recency_min_days": 10}, "a": {"recency_min_days": 20}}})
    assert config.precedence == ("b", "a")
    assert classify(30, 0, 0.5, config).tier == "b"


@pytest.mark.parametrize(
    ("d", "message"),
    [
        (
            {"rules": {"dormant": {"recency_min_days": "x"}}},
            "customers.tiers.rules.dormant.recency_min_days: expected a number >= 0, got 'x'",
        ),
        (
            {"rules": {"dormant": {"recency_min_days": -1}}},
            "customers.tiers.rules.dormant.recency_min_days: expected a number >= 0, got -1",
        ),
        (
            {"rules": {"d": {"frequency_max": True}}},
            "customers.tiers.rules.d.frequency_max: expected a number >= 0, got True",
        ),
        (
            {"rules": {"hv": {"monetary_min_rank": 1.5}}},
            "customers.tiers.rules.hv.monetary_min_rank: expected a rank in [0, 1], got 1.5",
        ),
        (
            {"rules": {"p": {"monetary_min_rank": 0.8, "monetary_max_rank": 0.2}}},
            "customers.tiers.rules.p.monetary_max_rank: expected a rank > monetary_min_rank (0.8), got 0.2",
        ),
        (
            {"rules": {"p": {"recency_min_days": 90, "recency_max_days": 30}}},
            "customers.tiers.rules.p.recency_max_days: expected a number >= recency_min_days (90), got 30",
        ),
        (
            {"rules": {"p": {"recency_max": 30}}},
            "customers.tiers.rules.p.recency_max: unknown key; allowed: recency_min_days",
        ),
        ({"rules": {"p": {"tags": "vip"}}}, "customers.tiers.rules.p.tags: expected a list of tags, got 'vip'"),
        ({"rules": {"p": {"tags": [""]}}}, "customers.tiers.rules.p.tags[0]: expected a non-empty string, got ''"),
        ({"rules": {"p": 3}}, "customers.tiers.rules.p: expected a mapping of rule conditions, got 3"),
        ({"rules": []}, "customers.tiers.rules: expected a mapping of rule name to conditions, got []"),
        ({"rules": {}}, "customers.tiers.rules: expected at least one rule"),
        ({"precedence": ["dormant"]}, "customers.tiers.precedence: expected every rule exactly once"),
        ({"precedence": ["vip"]}, "customers.tiers.precedence[0]: expected one of the rules (high_value, potential"),
        ({"precedence": "dormant"}, "customers.tiers.precedence: expected a list of rule names, got 'dormant'"),
        ({"residual": "dormant"}, "customers.tiers.residual: expected a tier name that is not a rule, got 'dormant'"),
        ({"window_days": 0}, "customers.tiers.window_days: expected a whole number of days >= 1, got 0"),
        ({"window_days": 365.5}, "customers.tiers.window_days: expected a whole number of days >= 1, got 365.5"),
        ({"windows": 365}, "customers.tiers.windows: unknown key; allowed: window_days, rules, precedence, residual"),
        ([1], "customers.tiers: expected a mapping, got [1]"),
    ],
)
def test_config_errors_name_the_key_in_one_line(d, message):
    with pytest.raises(ConfigError) as info:
        TierConfig.from_dict(d)
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_config_error_prefix_follows_where():
    with pytest.raises(ConfigError, match=r"^tiers\.rules\.x\.frequency_min: "):
        TierConfig.from_dict({"rules": {"x": {"frequency_min": "often"}}}, where="tiers")


def test_classify_rejects_bad_inputs():
    with pytest.raises(ValueError, match="recency_days"):
        classify(-1, 3, 0.5, PLAN)
    with pytest.raises(ValueError, match="monetary_known=False"):
        classify(10, 3, None, PLAN)
    with pytest.raises(ValueError, match="rank"):
        classify(10, 3, math.nan, PLAN)
