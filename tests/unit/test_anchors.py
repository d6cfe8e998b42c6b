"""analysis.anchors on the real Olist CSVs (counts checkable by hand) and on bad anchors files."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from analysis.anchors import (
    DATA_DIR,
    DEFAULT_ANCHORS,
    AnchorError,
    Window,
    cohort,
    default_anchors,
    load_anchors,
    load_olist,
    main,
    wilson,
)

pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data/pipeline is not beside the checkout")


@pytest.fixture(scope="module")
def leads():
    return load_olist()


@pytest.fixture(scope="module")
def anchors():
    return default_anchors()


def _hand_count(start: date, end: date, horizon: int) -> tuple[int, int]:
    """MQLs with first contact in [start, end] and those won within ``horizon`` days, with csv only."""
    with (DATA_DIR / "olist_marketing_qualified_leads_dataset.csv").open(newline="") as f:
        first = {r["mql_id"]: date.fromisoformat(r["first_contact_date"]) for r in csv.DictReader(f)}
    with (DATA_DIR / "olist_closed_deals_dataset.csv").open(newline="") as f:
        won = {r["mql_id"]: datetime.fromisoformat(r["won_date"]) for r in csv.DictReader(f)}
    inside = [m for m, d in first.items() if start <= d <= end]
    closed = [
        m
        for m in inside
        if m in won and won[m] - datetime.combine(first[m], datetime.min.time()) <= timedelta(days=horizon)
    ]
    return len(inside), len(closed)


def test_the_files_hold_8000_leads_and_842_won_deals(leads):
    assert len(leads) == 8000
    assert leads["mql_id"].is_unique
    assert leads["won"].notna().sum() == 842


def test_the_window_counts_match_a_hand_count(leads):
    window = Window()
    part = cohort(leads, window)
    n, won = _hand_count(window.start, window.end, window.horizon_days)
    assert (len(part), int(part["won_in_horizon"].sum())) == (n, won) == (4695, 619)


def test_lead_to_won_is_the_wilson_interval_of_the_counts(anchors):
    a = anchors["lead_to_won"]
    assert a.n == 4695
    assert a.value == pytest.approx(619 / 4695)
    # Wilson's formula by hand: centre and half-width with z = 1.96
    z, p, n = 1.959964, 619 / 4695, 4695
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (a.low, a.high) == pytest.approx((centre - half, centre + half), abs=1e-6)
    assert wilson(0, 10)[0] == 0.0


def test_channel_groups_add_up_to_the_overall_rate(anchors):
    parts = [anchors[f"lead_to_won.{c}"] for c in ("web", "referral", "unattributed")]
    assert sum(p.n or 0 for p in parts) == anchors["lead_to_won"].n
    assert sum(p.value * (p.n or 0) for p in parts) == pytest.approx(619)


def test_time_to_close_figures_are_ordered_and_inside_their_intervals(anchors):
    names = ["time_to_close_p25", "time_to_close_median", "time_to_close_p75", "time_to_close_p90"]
    values = [anchors[n].value for n in names]
    assert values == sorted(values)
    for name, a in anchors.items():
        assert a.low <= a.value <= a.high, name
    shares = [anchors[f"closed_within_{d}d"].value for d in (30, 60, 90)]
    assert shares == sorted(shares)
    # the median's order-statistic interval is narrower than the inter-quartile range
    assert anchors["time_to_close_p25"].value < anchors["time_to_close_median"].low
    assert anchors["time_to_close_median"].high < anchors["time_to_close_p75"].value


def test_a_window_the_data_cannot_follow_is_refused(leads):
    with pytest.raises(AnchorError, match=r"window end 2018-05-31 \+ 180 days is after the last won date 2018-11-14"):
        cohort(leads, Window(end=date(2018, 5, 31)))


def test_regression_the_shipped_anchors_file_is_what_the_data_gives(anchors):
    shipped = load_anchors(DEFAULT_ANCHORS)
    assert set(shipped) == set(anchors)
    for name, a in anchors.items():
        s = shipped[name]
        assert (s.value, s.low, s.high) == pytest.approx((a.value, a.low, a.high), abs=1e-6), name
        assert (s.metric, s.role, s.n, s.grade) == (a.metric, a.role, a.n, a.grade), name


def test_the_command_prints_and_writes_a_loadable_file(tmp_path: Path, capsys):
    out = tmp_path / "mine.yaml"
    assert main(["--write", str(out)]) == 0
    assert "lead_to_won" in capsys.readouterr().out
    assert load_anchors(out)["lead_to_won"].n == 4695
    assert main(["--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "olist_marketing_qualified_leads_dataset.csv: no such file" in err


GOOD = (
    "anchors:\n  lead_to_won:\n    value: 0.1\n    low: 0.05\n    high: 0.2\n"
    "    source: my CRM\n    grade: observed\n    definition: won / leads\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("anchors: {}\n", "expected a non-empty mapping under the top-level key 'anchors'"),
        ("targets: {a: 1}\n", "expected a non-empty mapping under the top-level key 'anchors'"),
        ("anchors:\n  a: 3\n", "anchors.a must be a mapping"),
        (GOOD.replace("    grade: observed\n", ""), "anchors.lead_to_won: missing key 'grade'"),
        (GOOD.replace("value: 0.1", "value: 0.3"), "anchors.lead_to_won: need low <= value <= high"),
        (GOOD.replace("value: 0.1", "value: ten"), "anchors.lead_to_won.value must be a finite number"),
        (GOOD.replace("value: 0.1", "value: .nan"), "anchors.lead_to_won.value must be a finite number"),
        (GOOD.replace("grade: observed", "grade: A"), "anchors.lead_to_won.grade must be one of observed, [A]"),
        (GOOD + "    role: maybe\n", "anchors.lead_to_won.role must be one of target, report"),
        (GOOD + "    metric: 3\n", "anchors.lead_to_won.metric must be a model metric name or null"),
        (GOOD + "    n: 0\n", "anchors.lead_to_won.n must be a positive integer or null"),
        (GOOD + "    colour: red\n", "anchors.lead_to_won: unknown key 'colour'"),
        ("anchors: [unclosed\n", "line 2 not valid YAML"),
    ],
)
def test_a_bad_anchors_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(AnchorError) as info:
        load_anchors(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:")
    assert message in msg
    assert "\n" not in msg


def test_a_missing_anchors_file_is_named(tmp_path: Path):
    with pytest.raises(AnchorError, match="no such anchors file"):
        load_anchors(tmp_path / "none.yaml")


def test_a_good_file_loads_with_defaults(tmp_path: Path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    a = load_anchors(path)["lead_to_won"]
    assert (a.metric, a.role, a.n, a.unit) == (None, "target", None, "")
    assert a.contains(0.21, widen=0.02)
    assert not a.contains(0.21)
