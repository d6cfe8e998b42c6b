"""The per-tier and per-channel tables of a study: means over every replication and every snapshot."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.outreach import channel_breakdown, tier_breakdown

WINDOW = ("2024-01-01", "2024-03-01")


def _pipeline(replications: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": ["v"] * replications,
            "replication": list(range(replications)),
            "period_start": ["2024-01-01"] * replications,
            "cohort": [True] * replications,
            "segment": ["existing"] * replications,
            "tier": ["dormant"] * replications,
            "orders": [2] * replications,
            "revenue": [10.0] * replications,
            "gross_profit": [4.0] * replications,
        }
    )


def _outreach(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["replication", "period_start", "channel", "touches"])
    frame["variant"] = "v"
    frame["tier"] = "dormant"
    for field in ("cost", "rep_hours", "responses", "requests", "revived", "opt_outs", "complaints", "offer_cost"):
        frame[field] = 0.0
    frame["cost"] = frame["touches"] * 0.5
    return frame


def test_a_channel_used_in_one_of_two_replications_averages_over_both():
    outreach = _outreach([(0, "2024-01-01", "sms_offer", 10)])
    runs = pd.Series({"v": 2})
    table = channel_breakdown(outreach, window=WINDOW, runs=runs).set_index("channel")
    assert table.loc["sms_offer", "touches"] == pytest.approx(5.0)
    assert table.loc["sms_offer", "cost"] == pytest.approx(2.5)


def test_a_tier_absent_from_a_snapshot_counts_as_zero_accounts_there():
    tiers = pd.DataFrame(
        {
            "variant": ["v", "v", "v"],
            "replication": [0, 0, 0],
            "period_start": ["2024-01-01", "2024-02-01", "2024-02-01"],
            "tier": ["potential", "dormant", "potential"],
            "accounts": [4, 6, 2],
            "alive": [4, 3, 2],
            "p_alive_sum": [3.0, 4.5, 1.0],
        }
    )
    table = tier_breakdown(tiers, _outreach([]), _pipeline(1), window=WINDOW).set_index("tier")
    assert table.loc["dormant", "accounts"] == pytest.approx(3.0)  # 6 in one of two snapshots
    assert table.loc["potential", "accounts"] == pytest.approx(3.0)
    assert table.loc["dormant", "alive_share"] == pytest.approx(0.5)
    assert table.loc["dormant", "orders"] == pytest.approx(2.0)


def test_touches_outside_the_window_do_not_count():
    outreach = _outreach([(0, "2023-12-01", "email", 7), (0, "2024-01-01", "email", 3)])
    table = channel_breakdown(outreach, window=WINDOW, runs=pd.Series({"v": 1})).set_index("channel")
    assert table.loc["email", "touches"] == pytest.approx(3.0)
