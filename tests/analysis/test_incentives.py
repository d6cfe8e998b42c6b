"""Attainment, effort, payout and attrition per incentive scheme, on small frames whose figures are known."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.incentives import (
    attainment_distribution,
    effort_by_kind,
    effort_shares,
    payout_summary,
    plot_attainment_distribution,
    plot_effort_by_kind,
    plot_kpi_profile,
    plot_payout_tradeoff,
    reps_reaching_quota_by_replication,
    work_kinds,
)

FEB = ("2024-02-01", "2024-03-01")


def _rep(variant: str, replication: int, start: str, status: str = "active", **fields: float) -> dict[str, object]:
    row: dict[str, object] = {
        "variant": variant,
        "replication": replication,
        "period": start[:7],
        "period_start": start,
        "worker": "rep_north_1",
        "region": "north",
        "status": status,
        "quota": 100.0,
        "revenue": 0.0,
        "settled": 0,
        "attainment": np.nan,
        "payout": 0.0,
        "floor_cut": np.nan,
        "left": 0,
    }
    row.update(fields)
    return row


def _settled(variant: str, replication: int, attainment: float, status: str = "active") -> dict[str, object]:
    return _rep(variant, replication, "2024-03-01", status, settled=1, attainment=attainment, floor_cut=0.0)


def _attainment_reps() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _settled("a", 0, 1.2),
            _settled("a", 0, 0.8),
            _settled("a", 0, 1.0, status="ramping"),  # exactly at quota counts as reaching it
            _settled("a", 0, 2.0, status="vacant"),  # nobody in post: left out
            _rep("a", 0, "2024-02-01"),  # not a settlement month
            _settled("a", 1, 0.5),
            _settled("b", 0, 0.9),
            _settled("b", 0, 1.1),
            _settled("b", 0, 1.3),
        ]
    )


def _payout_reps() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _rep("a", 0, "2024-01-01", revenue=100.0),
            _rep("a", 0, "2024-02-01", revenue=200.0, payout=30.0, settled=1, attainment=1.0, floor_cut=0.25),
            _rep("a", 0, "2024-02-01", status="vacant"),
            _rep(
                "a",
                0,
                "2024-03-01",
                "ramping",
                revenue=100.0,
                payout=10.0,
                settled=1,
                attainment=0.5,
                floor_cut=0.0,
                left=1,
            ),
            _rep("a", 0, "2024-03-01", "vacant", settled=1, attainment=0.0, floor_cut=0.5),  # vacant: not a settlement
        ]
    )


def _worker(
    variant: str,
    replication: int,
    start: str,
    role: str = "rep",
    *,
    first_contact: float = 0.0,
    account: float = 0.0,
    prospecting: float = 0.0,
    absence: float = 0.0,
) -> dict[str, object]:
    busy = first_contact + account + prospecting
    return {
        "variant": variant,
        "replication": replication,
        "period": start[:7],
        "period_start": start,
        "worker": f"{role}_north_1",
        "role": role,
        "region": "north",
        "available_hours": 160.0,
        "first_contact_hours": first_contact,
        "account_hours": account,
        "absence_hours": absence,
        "prospecting_hours": prospecting,
        "busy_hours": busy,
        "utilisation": busy / 160.0,
    }


def _workers() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _worker("a", 0, "2024-01-01", first_contact=10, account=20, prospecting=10, absence=8),
            _worker("a", 0, "2024-01-01", first_contact=20, account=10, prospecting=10),
            _worker("a", 0, "2024-01-01", "manager", first_contact=100),  # not a rep: left out
            _worker("a", 1, "2024-01-01", first_contact=30, account=10),
            _worker("a", 0, "2024-02-01", account=40),  # replication 1 has no rep hours in February
        ]
    )


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_attainment_pools_the_settlements_of_reps_in_post():
    table = attainment_distribution(_attainment_reps()).set_index("variant")
    a = table.loc["a"]
    assert a["n"] == 4  # 1.2, 0.8, 1.0, 0.5; the vacant 2.0 is not counted
    assert a["share_reaching_quota"] == pytest.approx(2 / 4)
    assert a["mean"] == pytest.approx(0.875)
    assert a["median"] == pytest.approx(0.9)
    assert a["p10"] == pytest.approx(0.59)  # 0.5 + 0.3 x (0.8 - 0.5)
    assert a["p90"] == pytest.approx(1.14)  # 1.0 + 0.7 x (1.2 - 1.0)
    assert table.loc["b", "share_reaching_quota"] == pytest.approx(2 / 3)
    assert table.loc["b", "n"] == 3


def test_share_reaching_quota_per_replication():
    table = reps_reaching_quota_by_replication(_attainment_reps()).set_index(["variant", "replication"])
    assert table.loc[("a", 0), "n"] == 3
    assert table.loc[("a", 0), "share_reaching_quota"] == pytest.approx(2 / 3)
    assert table.loc[("a", 1), "share_reaching_quota"] == pytest.approx(0.0)
    assert table.loc[("b", 0), "share_reaching_quota"] == pytest.approx(2 / 3)


def test_attainment_window_keeps_only_its_settlements():
    assert attainment_distribution(_attainment_reps(), window=FEB).empty


def test_payout_summary_totals_and_attrition():
    row = payout_summary(_payout_reps()).set_index(["variant", "replication"]).loc[("a", 0)]
    assert row["payout"] == pytest.approx(40.0)
    assert row["revenue"] == pytest.approx(400.0)
    assert row["payout_share"] == pytest.approx(0.1)
    assert row["leavers"] == 1
    assert row["rep_months"] == 3  # the two vacant months are not in post
    assert row["attrition_annual"] == pytest.approx(4.0)  # 1 leaver in 3/12 rep-years
    assert row["settled_periods"] == 2
    assert row["floor_cut_share"] == pytest.approx(0.5)  # February's cut, not the vacant March one


def test_payout_summary_window():
    row = payout_summary(_payout_reps(), window=FEB).set_index(["variant", "replication"]).loc[("a", 0)]
    assert row["payout"] == pytest.approx(30.0)
    assert row["revenue"] == pytest.approx(200.0)
    assert row["leavers"] == 0
    assert row["rep_months"] == 1
    assert row["attrition_annual"] == pytest.approx(0.0)
    assert row["floor_cut_share"] == pytest.approx(1.0)


def test_payout_summary_of_an_empty_window_is_empty():
    out = payout_summary(_payout_reps(), window=("2025-01-01", "2025-02-01"))
    assert out.empty
    assert "attrition_annual" in out.columns


def test_work_kinds_are_the_hours_columns_but_the_totals():
    assert work_kinds(_workers()) == ["first_contact", "account", "absence", "prospecting"]


def test_effort_by_kind_sums_reps_and_averages_replications():
    table = effort_by_kind(_workers()).set_index(["variant", "period"])
    jan = table.loc[("a", "2024-01")]
    assert jan["first_contact_hours"] == pytest.approx(30.0)  # (30 + 30) / 2; the manager's 100 left out
    assert jan["account_hours"] == pytest.approx(20.0)  # (30 + 10) / 2
    assert jan["prospecting_hours"] == pytest.approx(10.0)  # (20 + 0) / 2
    assert jan["absence_hours"] == pytest.approx(4.0)
    assert jan["busy_hours"] == pytest.approx(60.0)
    assert jan["first_contact_share"] == pytest.approx(0.5)
    assert jan["account_share"] == pytest.approx(1 / 3)
    assert jan["prospecting_share"] == pytest.approx(1 / 6)
    assert "absence_share" not in table.columns  # absence is not busy time
    feb = table.loc[("a", "2024-02")]
    assert feb["account_hours"] == pytest.approx(20.0)  # a replication without rows counts as zero
    assert feb["account_share"] == pytest.approx(1.0)


def test_effort_by_kind_with_chosen_kinds():
    table = effort_by_kind(_workers(), kinds=["account"])
    assert [c for c in table.columns if c.endswith(("_hours", "_share"))] == [
        "account_hours",
        "busy_hours",
        "account_share",
    ]
    with pytest.raises(ValueError, match="no <kind>_hours column"):
        effort_by_kind(_workers(), kinds=["nonexistent"])


def test_effort_shares_per_replication_and_window():
    table = effort_shares(_workers()).set_index(["variant", "replication"])
    assert table.loc[("a", 0), "busy_hours"] == pytest.approx(120.0)
    assert table.loc[("a", 0), "first_contact_share"] == pytest.approx(30 / 120)
    assert table.loc[("a", 0), "account_share"] == pytest.approx(70 / 120)
    assert table.loc[("a", 0), "prospecting_share"] == pytest.approx(20 / 120)
    assert table.loc[("a", 1), "first_contact_share"] == pytest.approx(0.75)
    feb = effort_shares(_workers(), window=FEB).set_index(["variant", "replication"])
    assert list(feb.index) == [("a", 0)]
    assert feb.loc[("a", 0), "account_share"] == pytest.approx(1.0)


def test_empty_inputs_give_empty_frames():
    empty = pd.DataFrame()
    for out in (
        attainment_distribution(empty),
        reps_reaching_quota_by_replication(empty),
        payout_summary(empty),
        effort_by_kind(empty),
        effort_shares(empty),
        attainment_distribution(_attainment_reps().iloc[:0]),
        effort_by_kind(_workers().iloc[:0]),
        effort_by_kind(_workers()[_workers()["role"] == "manager"]),
    ):
        assert isinstance(out, pd.DataFrame)
        assert out.empty


def test_plots_write_png_files_of_1000_by_600(tmp_path: Path):
    workers = pd.concat([_workers().assign(variant=v) for v in ("a", "b", "c", "d")], ignore_index=True)
    summary = pd.DataFrame(
        {
            "variant": ["commission", "scorecard"],
            "payout_cost": [1000.0, 1500.0],
            "net_profit": [5000.0, 5600.0],
            "net_profit_low": [4500.0, 5000.0],
            "net_profit_high": [5500.0, 6200.0],
        }
    )
    profile = pd.DataFrame(
        {"revenue": [0.05, -0.02], "attrition": [0.1, np.nan]}, index=pd.Index(["quota_bonus", "scorecard"])
    )
    paths = [
        plot_attainment_distribution(_attainment_reps(), tmp_path / "attainment.png"),
        plot_effort_by_kind(workers, tmp_path / "effort.png"),
        plot_payout_tradeoff(summary, tmp_path / "tradeoff.png"),
        plot_payout_tradeoff(summary.set_index("variant")[["payout_cost", "net_profit"]], tmp_path / "plain.png"),
        plot_kpi_profile(profile, tmp_path / "sub" / "profile.png", baseline="commission"),
    ]
    for path in paths:
        assert path.exists()
        assert path.stat().st_size > 1000
        assert _png_size(path) == (1000, 600)


def test_plots_of_empty_inputs_still_write_a_file(tmp_path: Path):
    empty = pd.DataFrame()
    paths = [
        plot_attainment_distribution(empty, tmp_path / "attainment.png"),
        plot_effort_by_kind(empty, tmp_path / "effort.png"),
        plot_payout_tradeoff(pd.DataFrame(columns=["variant", "payout_cost", "net_profit"]), tmp_path / "t.png"),
        plot_kpi_profile(empty, tmp_path / "profile.png"),
    ]
    for path in paths:
        assert path.stat().st_size > 0
