"""Shift-share (Kitagawa) decomposition: exact additivity, the plan's 5W1H example, absent groups, drill-down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.shift_share import (
    DRILL_DOWN_COLUMNS,
    GROUP_COLUMNS,
    ShiftShare,
    diagnosis,
    drill_down,
    plan_example,
    plot_drill_down,
    shift_share,
)

EXACT = 1e-12
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _frame(rows: list[tuple[object, ...]], columns: tuple[str, ...] = ("g", "n", "d")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def _assert_additive(result: ShiftShare) -> None:
    t = result.table
    assert result.mix + result.rate == pytest.approx(result.change, abs=EXACT)
    assert t["mix_effect"].sum() == pytest.approx(result.mix, abs=EXACT)
    assert t["rate_effect"].sum() == pytest.approx(result.rate, abs=EXACT)
    assert np.allclose(t["effect"], t["mix_effect"] + t["rate_effect"], rtol=0, atol=EXACT)
    assert t["weight_before"].sum() == pytest.approx(1.0, abs=EXACT)
    assert t["weight_after"].sum() == pytest.approx(1.0, abs=EXACT)


def _two_groups() -> ShiftShare:
    # A: 10/100 -> 60/300, B: 30/100 -> 40/100; shares 50/50 -> 75/25; conversion 20% -> 25%.
    before = _frame([("A", 10, 100), ("B", 30, 100)])
    after = _frame([("A", 60, 300), ("B", 40, 100)])
    return shift_share(before, after, by="g", numerator="n", denominator="d")


def test_hand_computed_two_group_case_with_a_rate_effect():
    r = _two_groups()
    # By hand: mix = (0.75 - 0.5) * 0.1 + (0.25 - 0.5) * 0.3 = 0.025 - 0.075 = -0.05;
    # rate = 0.75 * (0.2 - 0.1) + 0.25 * (0.4 - 0.3) = 0.075 + 0.025 = 0.1; change = 0.25 - 0.2.
    assert (r.rate_before, r.rate_after) == pytest.approx((0.20, 0.25), abs=EXACT)
    assert r.mix == pytest.approx(-0.05, abs=EXACT)
    assert r.rate == pytest.approx(0.10, abs=EXACT)
    assert r.change == pytest.approx(0.05, abs=EXACT)
    t = r.table.set_index("g")
    assert t.loc["A", ["mix_effect", "rate_effect", "effect"]].tolist() == pytest.approx([0.025, 0.075, 0.1], abs=EXACT)
    assert t.loc["B", ["mix_effect", "rate_effect", "effect"]].tolist() == pytest.approx(
        [-0.075, 0.025, -0.05], abs=EXACT
    )
    assert t.loc["A", ["weight_before", "weight_after", "rate_before", "rate_after"]].tolist() == pytest.approx(
        [0.5, 0.75, 0.1, 0.2], abs=EXACT
    )
    assert list(r.table.columns) == ["g", *GROUP_COLUMNS]
    assert r.by == ("g",)
    _assert_additive(r)
    assert diagnosis(r) == (
        "conversion rose from 20.0% to 25.0% (+5.0 pp): mix \u22125.0 pp (A 50%\u219275% of the denominator), "
        "rate +10.0 pp; mix \u2212100%, rate 200% of the change"
    )


def test_plan_example_is_a_pure_mix_effect():
    before, after = plan_example()
    assert list(before.columns) == ["period", "channel", "segment", "leads", "wins"]
    assert set(before["period"]) == {"before"}
    assert set(after["period"]) == {"after"}
    assert before["leads"].sum() == after["leads"].sum() == 1000
    r = shift_share(before, after, by="segment", numerator="wins", denominator="leads")
    assert r.rate_before == pytest.approx(0.15, abs=EXACT)
    assert r.rate_after == pytest.approx(0.10, abs=EXACT)
    assert r.mix == pytest.approx(-0.05, abs=EXACT)
    assert abs(r.rate) <= EXACT
    t = r.table.set_index("segment")
    assert t.loc["new", ["weight_before", "weight_after"]].tolist() == pytest.approx([0.7, 0.9], abs=EXACT)
    assert t.loc["new", ["rate_before", "rate_after"]].tolist() == pytest.approx([0.075, 0.075], abs=EXACT)
    assert t.loc["existing", ["rate_before", "rate_after"]].tolist() == pytest.approx([0.325, 0.325], abs=EXACT)
    _assert_additive(r)
    text = diagnosis(r)
    assert "pure mix effect" in text
    assert text == (
        "conversion fell from 15.0% to 10.0% (\u22125.0 pp): mix \u22125.0 pp (new 70%\u219290% of the denominator), "
        "rate +0.0 pp; a pure mix effect"
    )


def test_additivity_on_hand_built_tables_with_several_rows_per_group():
    cases = [
        (_frame([("A", 1, 4), ("A", 2, 6), ("B", 0, 5)]), _frame([("A", 3, 3), ("B", 5, 7), ("B", 1, 1)])),
        (_frame([("x", 7, 7)]), _frame([("x", 0, 9)])),
        (_frame([("p", 0.3, 1.7), ("q", 2.9, 3.1), ("r", 1.0, 100.0)]), _frame([("p", 5.5, 6.0), ("r", 0.1, 0.2)])),
    ]
    for before, after in cases:
        r = shift_share(before, after, by=["g"], numerator="n", denominator="d")
        _assert_additive(r)
        assert r.change == pytest.approx(after["n"].sum() / after["d"].sum() - before["n"].sum() / before["d"].sum())
    summed = shift_share(*cases[0], by="g", numerator="n", denominator="d").table.set_index("g")
    assert summed.loc["A", ["numerator_before", "denominator_before"]].tolist() == [3.0, 10.0]
    assert summed.loc["B", ["numerator_after", "denominator_after"]].tolist() == [6.0, 8.0]


@pytest.mark.parametrize("seed", range(20))
def test_additivity_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(2, 80))
    names = [f"s{i}" for i in range(groups)]

    def side() -> pd.DataFrame:
        rows = int(rng.integers(groups, 3 * groups))
        d = rng.exponential(50.0, rows) * (rng.random(rows) > 0.15)  # some rows have no denominator
        n = d * rng.beta(1.0, 4.0, rows)
        return pd.DataFrame(
            {"g": rng.choice(names, rows), "h": rng.choice(["a", "b", "c"], rows), "n": n, "d": d}
        ).sample(frac=0.8, random_state=seed)  # drops some groups altogether

    before, after = side(), side()
    for by in ("g", ("g", "h")):
        r = shift_share(before, after, by=by, numerator="n", denominator="d")
        _assert_additive(r)
        assert r.change == pytest.approx(after["n"].sum() / after["d"].sum() - before["n"].sum() / before["d"].sum())


def test_group_absent_before_is_all_mix_and_absent_after_has_no_rate_effect():
    before = _frame([("A", 10, 100), ("B", 20, 100)])
    after = _frame([("A", 30, 200), ("C", 20, 50)])  # B gone, C new
    r = shift_share(before, after, by="g", numerator="n", denominator="d")
    t = r.table.set_index("g")
    assert list(t.index) == ["A", "B", "C"]
    # B: absent after, so w1 = 0 and c1 := c0 = 0.2: no rate effect, mix = -w0 * c0 = -0.5 * 0.2.
    assert t.loc["B", ["weight_after", "rate_after", "rate_effect"]].tolist() == pytest.approx([0.0, 0.2, 0.0])
    assert t.loc["B", "mix_effect"] == pytest.approx(-0.1, abs=EXACT)
    assert t.loc["B", ["numerator_after", "denominator_after"]].tolist() == [0.0, 0.0]
    # C: absent before, so w0 = 0 and c0 := c1 = 0.4: its whole contribution w1 * c1 = 0.2 * 0.4 is mix.
    assert t.loc["C", ["weight_before", "rate_before", "rate_effect"]].tolist() == pytest.approx([0.0, 0.4, 0.0])
    assert t.loc["C", "mix_effect"] == pytest.approx(0.08, abs=EXACT)
    # A: 0.5 -> 0.8 share at 0.1 -> 0.15.
    assert t.loc["A", ["mix_effect", "rate_effect"]].tolist() == pytest.approx([0.03, 0.04], abs=EXACT)
    assert r.change == pytest.approx(50 / 250 - 30 / 200, abs=EXACT)
    _assert_additive(r)


def test_zero_denominator_rows_count_as_absent():
    before = _frame([("A", 10, 100), ("B", 0, 0)])
    after = _frame([("A", 10, 50), ("B", 25, 50)])
    t = shift_share(before, after, by="g", numerator="n", denominator="d").table.set_index("g")
    assert t.loc["B", ["weight_before", "rate_before", "rate_effect"]].tolist() == pytest.approx([0.0, 0.5, 0.0])


def test_zero_total_denominator_raises_naming_the_period():
    good = _frame([("A", 1, 10)])
    with pytest.raises(ValueError, match=r"^before side has zero total d$"):
        shift_share(_frame([("A", 0, 0)]), good, by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match=r"^after side has zero total d$"):
        shift_share(good, _frame([]), by="g", numerator="n", denominator="d")
    panel = pd.DataFrame({"period": ["2024-01", "2024-02"], "g": ["A", "A"], "n": [1, 0], "d": [10, 0]})
    with pytest.raises(ValueError, match=r"after \(period='2024-02'\) side has zero total d"):
        drill_down(
            panel, numerator="n", denominator="d", dimensions=["g"], period="period", before="2024-01", after="2024-02"
        )


def test_bad_inputs_raise_naming_the_column():
    good = _frame([("A", 1, 10)])
    with pytest.raises(ValueError, match="'wins'"):
        shift_share(good, good, by="g", numerator="wins", denominator="d")
    with pytest.raises(ValueError, match="after frame has no column 'g'"):
        shift_share(good, good.drop(columns="g"), by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match="'n' of the before frame has NaN"):
        shift_share(_frame([("A", np.nan, 10)]), good, by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match="'d' of the before frame has negative"):
        shift_share(_frame([("A", 1, -10)]), good, by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match="'n' of the after frame is not numeric"):
        shift_share(good, _frame([("A", "1", 10)]), by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match="group B has n 3 but zero d"):
        shift_share(_frame([("A", 1, 10), ("B", 3, 0)]), good, by="g", numerator="n", denominator="d")
    with pytest.raises(ValueError, match="panel has no column 'tier'"):
        drill_down(
            pd.concat(plan_example()),
            numerator="wins",
            denominator="leads",
            dimensions=["segment", "tier"],
            period="period",
            before="before",
            after="after",
        )


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for period in ("2024-01", "2024-02", "2024-03"):
        for region in ("north", "south"):
            for channel in ("web", "phone", "partner"):
                for segment in ("new", "existing"):
                    leads = int(rng.integers(20, 400))
                    rows.append(
                        {
                            "period": period,
                            "region": region,
                            "channel": channel,
                            "segment": segment,
                            "leads": leads,
                            "wins": int(rng.binomial(leads, 0.1 if segment == "new" else 0.3)),
                        }
                    )
    return pd.DataFrame(rows)


def test_drill_down_every_dimension_explains_the_same_change():
    panel = _panel()
    dims = ["region", "channel", "segment", ("channel", "segment")]
    out = drill_down(
        panel,
        numerator="wins",
        denominator="leads",
        dimensions=dims,
        period="period",
        before="2024-01",
        after=["2024-02", "2024-03"],
    )
    assert list(out.columns) == list(DRILL_DOWN_COLUMNS)
    a, b = panel[panel["period"] != "2024-01"], panel[panel["period"] == "2024-01"]
    change = a["wins"].sum() / a["leads"].sum() - b["wins"].sum() / b["leads"].sum()
    summary = out.groupby("dimension", sort=False)[["dimension_mix", "dimension_rate"]].first()
    assert set(summary.index) == {"region", "channel", "segment", "channel\u00d7segment"}
    assert np.allclose(summary.sum(axis=1), change, rtol=0, atol=EXACT)
    assert np.all(np.diff(summary["dimension_mix"].abs().to_numpy()) <= 0)
    for dimension, block in out.groupby("dimension"):
        assert block["mix_effect"].sum() == pytest.approx(summary.loc[dimension, "dimension_mix"], abs=EXACT)
        assert block["rate_effect"].sum() == pytest.approx(summary.loc[dimension, "dimension_rate"], abs=EXACT)
    cross = out[out["dimension"] == "channel\u00d7segment"]
    assert len(cross) == 6
    assert "web\u00d7new" in set(cross["group"])
    assert cross["denominator_after"].sum() == a["leads"].sum()


def test_drill_down_where_filter_recovers_the_plan_example_inside_a_bigger_panel():
    before, after = plan_example()
    phone = pd.concat([before, after]).assign(channel="phone", wins=lambda f: f["wins"] * 2)
    panel = pd.concat([before, after, phone], ignore_index=True)
    kwargs = {"numerator": "wins", "denominator": "leads", "period": "period", "before": "before", "after": "after"}
    out = drill_down(panel, dimensions=["channel", "segment"], where={"channel": "web"}, **kwargs)
    assert list(out["dimension"].unique()) == ["segment", "channel"]  # segment's mix explains most
    seg = out[out["dimension"] == "segment"]
    assert seg["dimension_mix"].iloc[0] == pytest.approx(-0.05, abs=EXACT)
    assert abs(seg["dimension_rate"].iloc[0]) <= EXACT
    channel = out[out["dimension"] == "channel"]
    assert channel["group"].tolist() == ["web"]
    assert channel["dimension_rate"].iloc[0] == pytest.approx(-0.05, abs=EXACT)  # one channel: no mix to see
    both = drill_down(panel, dimensions=["segment"], where={"channel": ["web", "phone"]}, **kwargs)
    assert both["denominator_before"].sum() == 2000


def test_drill_down_compares_a_variant_with_its_baseline():
    rows = []
    for replication in range(3):
        for variant, new_leads in (("baseline", 600), ("nurture", 800)):
            rows.append({"variant": variant, "replication": replication, "segment": "new", "leads": new_leads})
            rows.append({"variant": variant, "replication": replication, "segment": "existing", "leads": 400})
    panel = pd.DataFrame(rows)
    panel["wins"] = panel["leads"] * panel["segment"].map({"new": 0.25, "existing": 0.5})
    out = drill_down(
        panel,
        numerator="wins",
        denominator="leads",
        dimensions=["segment", "replication"],
        period="variant",
        before="baseline",
        after="nurture",
    )
    seg = out[out["dimension"] == "segment"].set_index("group")
    # Conversion 0.6 * 0.25 + 0.4 * 0.5 = 0.35 -> (0.8 * 0.25 + 0.4 * 0.5) / 1.2 = 1/3, all of it mix.
    assert seg["dimension_mix"].iloc[0] == pytest.approx(1 / 3 - 0.35, abs=EXACT)
    assert seg["dimension_rate"].iloc[0] == 0.0
    assert seg.loc["new", "denominator_after"] == 2400
    reps = out[out["dimension"] == "replication"]
    assert reps["group"].tolist() == ["0", "1", "2"]
    assert reps["dimension_mix"].iloc[0] == pytest.approx(0.0, abs=EXACT)
    assert out["dimension"].iloc[0] == "segment"


def test_diagnosis_wording():
    r = _two_groups()
    pure_rate = shift_share(
        _frame([("A", 10, 100), ("B", 30, 100)]),
        _frame([("A", 20, 100), ("B", 30, 100)]),
        by="g",
        numerator="n",
        denominator="d",
    )
    assert pure_rate.mix == 0.0
    assert diagnosis(pure_rate, kpi="win rate").endswith("(shares unchanged), rate +5.0 pp; a pure rate effect")
    assert diagnosis(pure_rate, kpi="win rate").startswith("win rate rose from 20.0% to 25.0% (+5.0 pp)")
    same = shift_share(_frame([("A", 1, 10)]), _frame([("A", 2, 20)]), by="g", numerator="n", denominator="d")
    assert diagnosis(same) == "conversion held at 10.0% (+0.0 pp): mix +0.0 pp (shares unchanged), rate +0.0 pp; " + (
        "no mix or rate effect"
    )
    assert diagnosis(r, kpi="revenue per lead", percent=False) == (
        "revenue per lead rose from 0.2 to 0.25 (+0.05): mix \u22120.05 (A 50%\u219275% of the denominator), "
        "rate +0.1; mix \u2212100%, rate 200% of the change"
    )


def test_plot_drill_down_writes_a_png(tmp_path: Path):
    out = drill_down(
        _panel(),
        numerator="wins",
        denominator="leads",
        dimensions=["region", "channel", "segment", ("region", "channel", "segment")],
        period="period",
        before="2024-01",
        after="2024-03",
    )
    path = plot_drill_down(out, tmp_path / "plots" / "drill_down.png", title="Conversion, January to March")
    assert path == tmp_path / "plots" / "drill_down.png"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    assert sorted(p.name for p in path.parent.iterdir()) == ["drill_down.png"]  # no .part left behind
    empty = plot_drill_down(out.iloc[:0], tmp_path / "empty.png")
    assert empty.read_bytes().startswith(PNG_SIGNATURE)
