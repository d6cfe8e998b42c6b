"""Warning rules scored on hand-made ``market`` tables: alarms, false alarms a year, detection delay, recovery."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.stats import wilson_interval
from analysis.warning_eval import ALARM_COLUMNS, alarms, plot_recovery, plot_scores, recovery, score, switch_on_months
from salesboost.indicators import FACT_COLUMNS
from salesboost.warnings import RuleConfig

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = [f"{2022 + i // 12}-{i % 12 + 1:02d}-01" for i in range(24)]  # 2022-01-01 .. 2023-12-01
GROWTH = RuleConfig(indicator="industry_growth", chart="threshold", limit=-0.05, side="below")
LIVE_FROM = "2023-01-01"  # after a year of baseline: 12 live months per replication

# Month indices where the company's industry growth is -10% (an alarm of GROWTH), per (variant, replication).
# calm r0: 2022-04, 2022-12 (before live_from), 2023-04, 2023-07; calm r1: none.
# shock (from 2023-03-15) shares calm's alarms (common random numbers) and adds its own:
#   r0 2023-06 (delay 3 + 1 = 4; its 2023-04 is calm's), r1 2023-12 (delay 10: beyond 6 months).
# early (from 2023-03-01): r0 2023-03 (the start's month: delay 1), r1 2023-05 (delay 3).
CALM_R0 = {3, 11, 15, 18}
PLANTED: dict[tuple[str, int], set[int]] = {
    ("calm", 0): CALM_R0,
    ("calm", 1): set(),
    ("shock", 0): CALM_R0 | {17},
    ("shock", 1): {23},
    ("early", 0): CALM_R0 | {14},
    ("early", 1): {16},
}
SHOCKS = {"shock": "2023-03-15", "early": "2023-03-01"}


def market_rows(variant: str, replication: int, team: str, **facts: list[float]) -> list[dict[str, object]]:
    """24 monthly rows of one team: every fact 0 unless given as a 24-long list."""
    rows = []
    for p, start in enumerate(MONTHS):
        row: dict[str, object] = {
            "variant": variant,
            "replication": replication,
            "period": start[:7],
            "period_start": start,
            "team": team,
        }
        row.update({c: float(facts[c][p]) if c in facts else 0.0 for c in FACT_COLUMNS})
        rows.append(row)
    return rows


def planted_market() -> pd.DataFrame:
    """The PLANTED alarms as -10% company growth (+1% otherwise); north's own growth column always alarms."""
    rows = []
    for (variant, replication), months in PLANTED.items():
        growth = [-0.10 if p in months else 0.01 for p in range(24)]
        rows += market_rows(variant, replication, "all", industry_growth=growth)
        rows += market_rows(variant, replication, "north", industry_growth=[-0.5] * 24)
    return pd.DataFrame(rows)


# -- alarms ----------------------------------------------------------------------------------------
def test_alarms_are_exactly_the_planted_months_on_the_company_series() -> None:
    """One row per planted month and run, team ``all`` only (growth is a company indicator), period = its index."""
    table = alarms(planted_market(), {"growth": GROWTH})
    assert list(table.columns) == list(ALARM_COLUMNS)
    assert set(table["team"]) == {"all"}
    assert set(table["rule"]) == {"growth"}
    got = {
        (v, r, p, s)
        for v, r, p, s in table[["variant", "replication", "period_index", "period_start"]].itertuples(False)
    }
    want = {(v, r, p, MONTHS[p]) for (v, r), months in PLANTED.items() for p in months}
    assert got == want
    assert len(table) == len(want)


def test_alarms_do_not_depend_on_the_row_order_of_the_table() -> None:
    """Shuffled rows give the same alarms: each team's series is read in period order."""
    market = planted_market()
    ordered = alarms(market, {"growth": GROWTH})
    shuffled = alarms(market.sample(frac=1.0, random_state=7), {"growth": GROWTH})
    key = ["variant", "replication", "team", "period_index"]
    pd.testing.assert_frame_equal(
        ordered.sort_values(key).reset_index(drop=True), shuffled.sort_values(key).reset_index(drop=True)
    )


def test_a_team_rule_alarms_per_team_and_never_for_the_company() -> None:
    """Attainment below 0.5: north at 40% in months 5 and 6 alarms there; ``all`` (at 40% throughout) is not read."""
    revenue = [40.0 if p in (5, 6) else 90.0 for p in range(24)]
    rows = market_rows("calm", 0, "north", revenue=revenue, quota=[100.0] * 24)
    rows += market_rows("calm", 0, "all", revenue=[40.0] * 24, quota=[100.0] * 24)
    rule = RuleConfig(indicator="team_attainment", chart="threshold", limit=0.5, side="below")
    table = alarms(pd.DataFrame(rows), {"attainment": rule})
    assert list(table["team"]) == ["north", "north"]
    assert list(table["period_start"]) == [MONTHS[5], MONTHS[6]]


# -- score ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    market = planted_market()
    return score(
        alarms(market, {"growth": GROWTH}), market, ["growth"], calm="calm", shocks=SHOCKS, live_from=LIVE_FROM
    )


def test_false_alarms_count_the_calm_world_from_live_from_on(scored: pd.DataFrame) -> None:
    """calm r0's 2023-04 and 2023-07 (not its 2022 ones) over 12 live months x 2 runs: 2 / 2 years = 1 a year."""
    row = scored.set_index("rule").loc["growth"]
    assert row["years_watched"] == pytest.approx(2.0)
    assert row["false_alarms_per_year"] == pytest.approx(1.0)
    assert row["calm_runs_with_alarm"] == pytest.approx(0.5)


def test_detection_ignores_the_calm_twins_alarms_and_misses_late_ones(scored: pd.DataFrame) -> None:
    """shock: r0's first own alarm 2023-06 -> delay 4 (2023-04 is calm's too); r1's 2023-12 is 10 > 6 months: missed."""
    row = scored.set_index("rule").loc["growth"]
    assert row["shock_detected"] == pytest.approx(0.5)
    assert row["shock_delay_months"] == pytest.approx(4.0)
    low, high = wilson_interval(1, 2)
    assert (row["shock_detected_low"], row["shock_detected_high"]) == pytest.approx((low, high))
    assert row["shock_detected_low"] < 0.5 < row["shock_detected_high"]


def test_an_alarm_in_the_starts_month_has_delay_one(scored: pd.DataFrame) -> None:
    """early (from 2023-03-01): r0 alarms in 2023-03 (delay 1), r1 in 2023-05 (delay 3): both detected, median 2."""
    row = scored.set_index("rule").loc["growth"]
    assert row["early_detected"] == pytest.approx(1.0)
    assert row["early_delay_months"] == pytest.approx(2.0)


def test_already_on_is_the_share_of_runs_whose_calm_twin_alarmed_just_before(scored: pd.DataFrame) -> None:
    """calm r0 alarmed in 2022-12, 3 months before the March start; r1 never: 1 of 2 runs."""
    row = scored.set_index("rule").loc["growth"]
    assert row["shock_already_on"] == pytest.approx(0.5)
    assert row["early_already_on"] == pytest.approx(0.5)


def test_a_longer_window_catches_the_late_alarm() -> None:
    """within_months=12: shock r1's delay 10 now counts, delays 4 and 10 (median 7); a 3-month window keeps none."""
    market = planted_market()
    table = alarms(market, {"growth": GROWTH})
    wide = score(table, market, ["growth"], calm="calm", shocks=SHOCKS, live_from=LIVE_FROM, within_months=12)
    assert wide.loc[0, "shock_detected"] == pytest.approx(1.0)
    assert wide.loc[0, "shock_delay_months"] == pytest.approx(7.0)
    narrow = score(table, market, ["growth"], calm="calm", shocks=SHOCKS, live_from=LIVE_FROM, within_months=3)
    assert narrow.loc[0, "shock_detected"] == pytest.approx(0.0)
    assert math.isnan(narrow.loc[0, "shock_delay_months"])
    assert narrow.loc[0, "early_detected"] == pytest.approx(1.0)  # delays 1 and 3 fit in 3 months


def test_a_rule_with_no_alarms_scores_zero_and_detects_nothing() -> None:
    """A rule that never fires: 0 false alarms a year, 0 detected, no delay."""
    market = planted_market()
    quiet = RuleConfig(indicator="industry_growth", chart="threshold", limit=-0.5, side="below")
    out = score(alarms(market, {"quiet": quiet}), market, ["quiet"], calm="calm", shocks=SHOCKS, live_from=LIVE_FROM)
    assert out.loc[0, "false_alarms_per_year"] == 0.0
    assert out.loc[0, "shock_detected"] == 0.0
    assert math.isnan(out.loc[0, "shock_delay_months"])


# -- recovery --------------------------------------------------------------------------------------
def replication_table() -> pd.DataFrame:
    """calm, shock and a playbook over replications 0-2; replication 3 has no playbook run (not paired)."""
    rows = [
        # variant, replication, net_profit, revenue, playbook_cost
        ("calm", 0, 100.0, 1000.0, 0.0),
        ("calm", 1, 110.0, 1000.0, 0.0),
        ("calm", 2, 120.0, 1000.0, 0.0),
        ("calm", 3, 200.0, 5000.0, 0.0),
        ("shock", 0, 70.0, 900.0, 0.0),
        ("shock", 1, 80.0, 800.0, 0.0),
        ("shock", 2, 90.0, 700.0, 0.0),
        ("shock", 3, 0.0, 0.0, 0.0),
        ("playbook", 0, 85.0, 950.0, 5.0),
        ("playbook", 1, 86.0, 850.0, 6.0),
        ("playbook", 2, 99.0, 700.0, 7.0),
    ]
    return pd.DataFrame(rows, columns=["variant", "replication", "net_profit", "revenue", "playbook_cost"])


def test_recovery_is_paired_by_replication() -> None:
    """Profit: lost 30, got back 15, 6, 9 (mean 10, se sqrt(21/3)), share 1/3; revenue: 200, 33.3, 1/6; cost 6."""
    out = recovery(replication_table(), {"playbook": "shock"}, calm="calm")
    row = out.set_index("playbook").loc["playbook"]
    assert row["shock"] == "shock"
    assert row["net_profit_lost"] == pytest.approx(30.0)
    assert row["net_profit_recovered"] == pytest.approx(10.0)
    assert row["net_profit_recovered_se"] == pytest.approx(math.sqrt(7.0))
    assert row["net_profit_share"] == pytest.approx(1 / 3)
    assert row["revenue_lost"] == pytest.approx(200.0)
    assert row["revenue_recovered"] == pytest.approx(100 / 3)
    assert row["revenue_share"] == pytest.approx(1 / 6)
    assert row["playbook_cost"] == pytest.approx(6.0)


def test_recovery_share_is_nan_when_nothing_was_lost() -> None:
    """A 'shock' that is the calm world itself loses 0: the share is undefined, not a division error."""
    out = recovery(replication_table(), {"playbook": "calm"}, calm="calm", metrics=("net_profit",))
    assert out.loc[0, "net_profit_lost"] == 0.0
    assert math.isnan(out.loc[0, "net_profit_share"])
    assert "revenue_lost" not in out.columns


# -- switch_on_months ------------------------------------------------------------------------------------
def test_switch_on_is_the_first_company_period_with_a_playbook_on() -> None:
    """pb r0: on from 2023-05 (NaN before counts as off); r1 never -> None; north's own column and calm unread."""
    on = [math.nan] * 5 + [0.0] * 11 + [1.0] * 8  # first > 0 at index 16: 2023-05
    rows = market_rows("pb", 0, "all", playbooks_on=on)
    rows += market_rows("pb", 0, "north", playbooks_on=[1.0] * 24)
    rows += market_rows("pb", 1, "all")
    rows += market_rows("calm", 0, "all", playbooks_on=[1.0] * 24)
    out = switch_on_months(pd.DataFrame(rows), ["pb"])
    assert list(out.columns) == ["variant", "replication", "first_on"]
    got = {(v, r): first for v, r, first in out.itertuples(index=False)}
    assert got == {("pb", 0): "2023-05-01", ("pb", 1): None}


# -- plot_scores -----------------------------------------------------------------------------------------
def test_plot_scores_writes_a_png(scored: pd.DataFrame, tmp_path: Path) -> None:
    """A non-empty PNG at the path (its folder made), and no temporary file left beside it."""
    path = tmp_path / "figures" / "scores.png"
    assert plot_scores(scored, list(SHOCKS), path) == path
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000
    assert [p.name for p in path.parent.iterdir()] == ["scores.png"]


def test_plot_recovery_writes_a_png(tmp_path: Path) -> None:
    """One bar pair per playbook, including one whose shock lost nothing (no error bar, no division error)."""
    table = pd.concat(
        [
            recovery(replication_table(), {"playbook": "shock"}, calm="calm"),
            recovery(replication_table(), {"playbook": "calm"}, calm="calm"),
        ],
        ignore_index=True,
    )
    path = tmp_path / "recovery.png"
    assert plot_recovery(table, path) == path
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000
