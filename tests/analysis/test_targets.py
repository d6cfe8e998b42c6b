"""SMART targets: KPI facts, P(hit), unit targets and lever moves, on small frames whose figures are known."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.targets import (
    BASIS_CUT,
    BASIS_NO_GROWTH,
    BASIS_RESPONSE,
    FACT_COLUMNS,
    NOT_REACHED,
    REACHED,
    decompose_target,
    facts,
    lever_effects,
    p_hit,
    plot_decomposition,
    plot_p_hit,
    unit_sales,
)
from salesboost.targets import PLAN_TARGETS, TARGET_KPIS, TargetConfig

YEAR = ("2024-01-01", "2025-01-01")


def _row(run, start, dims, revenue, *, cohort=True):
    (variant, replication), (region, segment, product) = run, dims.split("/")
    return {
        "variant": variant,
        "replication": replication,
        "period": start[:7],
        "period_start": start,
        "cohort": cohort,
        "region": region,
        "channel": "web",
        "segment": segment,
        "product": product,
        "tier": "prospect",
        "leads": 1,
        "wins": 1,
        "orders": 1,
        "revenue": revenue,
        "gross_profit": revenue / 2,
    }


def _pipeline() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _row(("last_year", 0), "2023-12-01", "east/new/A", 1000.0),  # before the window
            _row(("last_year", 0), "2024-01-01", "east/new/A", 100.0, cohort=False),  # warm-up lead: counts
            _row(("last_year", 0), "2024-01-01", "south/existing/B", 50.0),
            _row(("last_year", 0), "2024-06-01", "north/existing/A", 250.0),
            _row(("last_year", 0), "2025-01-01", "north/new/B", 999.0),  # the window's end is exclusive
            _row(("last_year", 1), "2024-03-01", "east/new/A", 200.0),
        ]
    )


def _seat(run, start, worker, status, revenue=0.0):
    variant, replication = run
    return {
        "variant": variant,
        "replication": replication,
        "period": start[:7],
        "period_start": start,
        "worker": worker,
        "region": worker.split("_")[1],
        "status": status,
        "revenue": revenue,
    }


def _reps() -> pd.DataFrame:
    rows = [_seat(("last_year", 0), "2023-12-01", f"rep_east_{i}", "vacant") for i in range(3)]  # outside
    rows += [
        _seat(("last_year", 0), "2024-01-01", "rep_east_0", "active", 60.0),
        _seat(("last_year", 0), "2024-01-01", "rep_east_1", "vacant"),
        _seat(("last_year", 0), "2024-01-01", "rep_south_2", "ramping", 50.0),
        _seat(("last_year", 0), "2024-06-01", "rep_east_0", "active", 40.0),
        _seat(("last_year", 0), "2024-06-01", "rep_east_1", "ramping"),
        _seat(("last_year", 0), "2024-06-01", "rep_south_2", "active", 250.0),
    ]
    return pd.DataFrame(rows)


def _metrics() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": ["last_year", "last_year", "plan"],
            "replication": [0, 1, 0],
            "repurchase_rate": [0.5, 0.7, 0.65],
            "new_customers": [10, 12, 18],
            "revenue": [300.0, 200.0, 0.0],
        }
    )


def test_facts_sum_the_windows_sales_and_divide_by_filled_seats():
    out = facts(_pipeline(), _metrics(), _reps(), YEAR, rep_seats=4).set_index(["variant", "replication"])
    assert list(out.reset_index().columns) == list(FACT_COLUMNS)
    assert set(TARGET_KPIS) <= set(out.columns)
    r0 = out.loc[("last_year", 0)]
    # 100 (a non-cohort row: a lead of the warm-up booked in January) + 50 + 250; December and 2025 left out
    assert r0["sales"] == 400.0
    assert r0["sales_new"] == 100.0
    assert r0["new_customer_sales_share"] == 0.25
    assert (r0["sales_A"], r0["sales_B"], r0["product_B_share"]) == (350.0, 50.0, 0.125)
    assert (r0["sales_east"], r0["sales_south"], r0["sales_north"]) == (100.0, 50.0, 250.0)
    assert (r0["repurchase_rate"], r0["new_customers"]) == (0.5, 10.0)
    # seats filled: January 2 (one vacant), June 3 (ramping counts); December's vacant seats are outside
    assert r0["rep_seats"] == 2.5
    assert r0["sales_per_rep"] == 160.0
    r1 = out.loc[("last_year", 1)]
    assert (r1["sales"], r1["sales_south"], r1["product_B_share"]) == (200.0, 0.0, 0.0)
    assert (r1["rep_seats"], r1["sales_per_rep"]) == (4.0, 50.0)  # no reps rows: the team's size
    plan = out.loc[("plan", 0)]  # in the metrics only: no pipeline rows, so no sales figure
    assert math.isnan(plan["sales"])
    assert plan["new_customers"] == 18.0


def test_facts_options_cohort_and_no_seat_count():
    out = facts(_pipeline(), _metrics(), None, YEAR, cohort=True).set_index(["variant", "replication"])
    assert out.loc[("last_year", 0), "sales"] == 300.0
    assert out["sales_per_rep"].isna().all()
    everything = facts(_pipeline(), _metrics()).set_index(["variant", "replication"])
    assert everything.loc[("last_year", 0), "sales"] == 2399.0
    with pytest.raises(ValueError, match="rep_seats"):
        facts(_pipeline(), _metrics(), rep_seats=0)


def _wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    z = norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def _facts_frame() -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "variant": "last_year",
            "replication": range(5),
            "sales": [90.0, 95.0, 100.0, 105.0, 110.0],  # mean 100: goal 130
            "new_customer_sales_share": 0.3,
            "repurchase_rate": 0.5,
        }
    )
    # 7 of 10 reach 130, one of them exactly at the goal
    sales = [130.0, 131.0, 140.0, 150.0, 135.0, 160.0, 145.0, 129.0, 100.0, 120.0]
    plan = pd.DataFrame(
        {
            "variant": "plan",
            "replication": range(10),
            "sales": sales,
            "new_customer_sales_share": [0.45] * 3 + [0.35] * 7,
            "repurchase_rate": [0.6] * 9 + [np.nan],
        }
    )
    return pd.concat([base, plan], ignore_index=True)


def test_p_hit_is_the_share_of_replications_reaching_the_goal_with_wilson_bounds():
    targets = {name: PLAN_TARGETS[name] for name in ("sales", "new_customer_share", "repurchase_rate")}
    out = p_hit(_facts_frame(), targets, baseline="last_year", level=0.8).set_index("target")
    assert list(out["variant"].unique()) == ["plan"]
    sales = out.loc["sales"]
    assert (sales["last_year"], sales["goal"]) == (100.0, pytest.approx(130.0))
    assert (sales["p_hit"], sales["n"], sales["hits"]) == (0.7, 10, 7)
    low, high = _wilson(7, 10)
    assert (sales["p_low"], sales["p_high"]) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert sales["p_low"] == pytest.approx(0.3968, abs=1e-4)  # the textbook figure for 7/10
    assert not sales["hit"]
    mean = float(np.mean([130.0, 131.0, 140.0, 150.0, 135.0, 160.0, 145.0, 129.0, 100.0, 120.0]))
    assert sales["mean"] == pytest.approx(mean)
    assert sales["gap"] == pytest.approx((130.0 - mean) / 130.0)
    assert sales["growth"] == pytest.approx(mean / 100.0 - 1)
    assert sales["label"] == "sales +30% on last year"
    share = out.loc["new_customer_share"]
    assert (share["goal"], share["p_hit"], share["last_year"]) == (0.4, 0.3, pytest.approx(0.3))
    repeat = out.loc["repurchase_rate"]  # the NaN replication is left out; 0.6 reaches 0.6
    assert (repeat["n"], repeat["p_hit"], bool(repeat["hit"])) == (9, 1.0, True)
    assert repeat["p_low"] == pytest.approx(_wilson(9, 9)[0])


def test_p_hit_checks_its_inputs():
    frame = _facts_frame()
    with pytest.raises(ValueError, match="baseline 'legacy'"):
        p_hit(frame, PLAN_TARGETS, baseline="legacy")
    with pytest.raises(ValueError, match="no column 'sales_east'"):
        p_hit(frame, {"east": PLAN_TARGETS["east"]}, baseline="last_year")
    with pytest.raises(ValueError, match="not in facts"):
        p_hit(frame, {}, baseline="last_year", variants=["other"])
    custom = {"more": TargetConfig(kpi="sales", kind="level", value=150.0)}
    row = p_hit(frame, custom, baseline="last_year", level=0.2).iloc[0]
    assert (row["label"], row["goal"], row["p_hit"], bool(row["hit"])) == ("more", 150.0, 0.2, True)


def _by_unit(baseline: dict[str, list[float]], variant: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"variant": name, "replication": i, "region": unit, "sales": value}
        for name, side in (("last_year", baseline), ("plan", variant))
        for unit, values in side.items()
        for i, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_decompose_puts_the_increment_where_the_variant_grows_and_adds_up():
    frame = _by_unit(
        {"east": [100.0, 100.0], "south": [100.0, 100.0], "north": [200.0, 200.0]},
        {"east": [150.0, 130.0], "south": [110.0, 90.0], "north": [210.0, 230.0]},
    )
    out = decompose_target(frame, unit="region", total_growth=0.3, baseline="last_year", variant="plan")
    out = out.set_index("unit")
    # increments: east +40, south 0, north +20; the total increment 120 goes 2:0:1
    assert out.loc["east", "target"] == pytest.approx(180.0)
    assert out.loc["south", "target"] == pytest.approx(100.0)
    assert out.loc["north", "target"] == pytest.approx(240.0)
    assert math.fsum(out["target"]) == out.attrs["total_target"] == pytest.approx(520.0)
    assert out.loc["east", "target"] - 100.0 > out.loc["north", "target"] - 200.0
    assert list(out["pro_rata_target"]) == pytest.approx([130.0, 260.0, 130.0])  # east, north, south
    assert (out["basis"] == BASIS_RESPONSE).all()
    assert out.loc["east", "target_growth"] == pytest.approx(0.8)
    assert out.loc["east", "predicted_growth"] == pytest.approx(0.4)
    # east reaches 130 in both years (pro rata) but 180 in neither
    assert (out.loc["east", "p_hit"], out.loc["east", "pro_rata_p_hit"], out.loc["east", "n"]) == (0.0, 1.0, 2)
    assert out.loc["east", "p_high"] == pytest.approx(_wilson(0, 2)[1])
    assert (out.loc["south", "p_hit"], out.loc["north", "p_hit"]) == (0.5, 0.0)


def test_decompose_falls_back_to_pro_rata_when_no_unit_grows():
    frame = _by_unit({"east": [100.0], "south": [300.0]}, {"east": [90.0, 80.0], "south": [250.0, 280.0]})
    out = decompose_target(frame, unit="region", total_growth=0.3, baseline="last_year", variant="plan")
    assert (out["basis"] == BASIS_NO_GROWTH).all()
    assert list(out["target"]) == pytest.approx(list(out["pro_rata_target"]))
    assert list(out["target"]) == pytest.approx([130.0, 390.0])
    cut = decompose_target(frame, unit="region", total_growth=-0.1, baseline="last_year", variant="plan")
    assert (cut["basis"] == BASIS_CUT).all()
    assert list(cut["target"]) == pytest.approx([90.0, 270.0])


def test_decompose_targets_add_up_exactly_for_awkward_numbers():
    rng = np.random.default_rng(7)
    units = [f"rep_{i}" for i in range(11)]
    frame = _by_unit(
        {u: list(rng.uniform(1e4, 9e4, 5)) for u in units},
        {u: list(rng.uniform(1e4, 1.2e5, 7)) for u in units},
    ).rename(columns={"region": "rep"})
    out = decompose_target(frame, unit="rep", total_growth=0.3, baseline="last_year", variant="plan")
    s0 = math.fsum(frame[frame["variant"] == "last_year"].groupby("rep")["sales"].mean())
    assert math.fsum(out["target"]) == out.attrs["total_target"]
    assert out.attrs["total_target"] == pytest.approx(s0 * 1.3, rel=1e-12)
    assert out["target"].sum() == pytest.approx(s0 * 1.3, rel=1e-12)
    assert (out["target"] >= out["last_year"] - 1e-6).all()
    assert out["weight"].sum() == pytest.approx(1.0)


def test_unit_sales_fill_zero_and_read_reps_from_the_reps_panel():
    pipeline = _pipeline()
    regions = unit_sales(pipeline, YEAR, "region").set_index(["variant", "replication", "region"])["sales"]
    assert regions.to_dict() == {
        ("last_year", 0, "east"): 100.0,
        ("last_year", 0, "north"): 250.0,
        ("last_year", 0, "south"): 50.0,
        ("last_year", 1, "east"): 200.0,
        ("last_year", 1, "north"): 0.0,
        ("last_year", 1, "south"): 0.0,
    }
    teams = unit_sales(pipeline, YEAR, "team")
    assert list(teams.columns) == ["variant", "replication", "team", "sales"]
    assert list(teams["sales"]) == list(regions)
    products = unit_sales(pipeline, YEAR, "product").groupby("product")["sales"].sum()
    assert products.to_dict() == {"A": 550.0, "B": 50.0}
    reps = unit_sales(pipeline, YEAR, "rep", reps=_reps()).set_index("rep")["sales"]
    assert reps.to_dict() == {"rep_east_0": 100.0, "rep_east_1": 0.0, "rep_south_2": 300.0}
    with pytest.raises(ValueError, match="reps="):
        unit_sales(pipeline, YEAR, "rep")
    with pytest.raises(ValueError, match="unknown unit 'country'"):
        unit_sales(pipeline, YEAR, "country")


def _lever_rows() -> pd.DataFrame:
    rows = [
        ("sales", "team.reps.east", 4, 0.5),
        ("sales", "team.reps.east", 3, 0.2),
        ("sales", "team.reps.east", 5, 0.85),
        ("sales", "team.reps.east", 6, 0.95),
        ("sales", "market.leads_per_week", 113, 0.5),
        ("sales", "market.leads_per_week", 141, 0.75),
        ("sales", "market.leads_per_week", 170, 0.75),
        ("east", "team.reps.east", 4, 0.9),
        ("east", "team.reps.east", 6, 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["target", "lever", "lever_value", "p_hit"])
    frame["n"] = 20
    frame["current"] = frame["lever"].map({"team.reps.east": 4, "market.leads_per_week": 113})
    return frame


def test_lever_effects_pick_the_smallest_sufficient_move():
    out = lever_effects(_lever_rows(), level=0.8).set_index(["target", "lever"])
    reps = out.loc[("sales", "team.reps.east")]
    assert (reps["value"], reps["move"], reps["p_hit"], reps["status"]) == (5.0, 1.0, 0.85, REACHED)
    assert (reps["relative_move"], reps["p_hit_current"], bool(reps["reached"])) == (0.25, 0.5, True)
    assert reps["p_low"] == pytest.approx(_wilson(17, 20)[0])
    leads = out.loc[("sales", "market.leads_per_week")]
    # not reached: the best P(hit), and of equal ones the closer value
    assert (leads["value"], leads["p_hit"], leads["status"], bool(leads["reached"])) == (
        141.0,
        0.75,
        NOT_REACHED,
        False,
    )
    east = out.loc[("east", "team.reps.east")]
    assert (east["value"], east["move"], east["status"]) == (4.0, 0.0, REACHED)
    bad = _lever_rows()
    bad.loc[0, "current"] = 5
    with pytest.raises(ValueError, match="more than one current value"):
        lever_effects(bad, level=0.8)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plots_write_png_files_atomically(tmp_path: Path):
    frame = _facts_frame()
    frame2 = frame.assign(variant=frame["variant"].replace({"plan": "tiered"}))
    both = pd.concat([frame, frame2[frame2["variant"] == "tiered"]], ignore_index=True)
    targets = {name: PLAN_TARGETS[name] for name in ("sales", "new_customer_share", "repurchase_rate")}
    table = p_hit(both, targets, baseline="last_year")
    decomposition = pd.concat(
        [
            decompose_target(
                unit_sales(_pipeline(), YEAR, "region").assign(
                    variant=lambda f: f["replication"].map({0: "last_year", 1: "plan"})
                ),
                unit="region",
                total_growth=0.3,
                baseline="last_year",
                variant="plan",
            ),
            decompose_target(
                unit_sales(_pipeline(), YEAR, "product").assign(
                    variant=lambda f: f["replication"].map({0: "last_year", 1: "plan"})
                ),
                unit="product",
                total_growth=0.3,
                baseline="last_year",
                variant="plan",
            ),
        ],
        ignore_index=True,
    )
    paths = [
        plot_p_hit(table, tmp_path / "p_hit.png"),
        plot_p_hit(table.iloc[0:0], tmp_path / "empty.png"),
        plot_decomposition(decomposition, tmp_path / "sub" / "decomposition.png"),
        plot_decomposition(decomposition.iloc[0:0], tmp_path / "none.png"),
    ]
    for path in paths:
        assert path.exists()
        assert _png_size(path) == (1000, 600)
    assert not list(tmp_path.rglob("*.part"))
