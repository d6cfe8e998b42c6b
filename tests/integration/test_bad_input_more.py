"""More bad input: one line naming the key, file or row and what is allowed, exit status 2, nothing written.

As in ``test_bad_input.py``: the real ``salesboost`` command against a real SQLite store in
which the experiment already exists, so "no run was created" is checked, not assumed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from experiments.config import TrackingConfig
from experiments.tracking import open_tracker
from tests.conftest import small_args
from tests.integration.test_bad_input import SALESBOOST, _fails_with_one_line, all_runs


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with the default experiment already created (and no runs)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    open_tracker(TrackingConfig(uri=uri), "cycle-time-gains")
    return uri


# --- 1. a SQLite database that is not an MLflow store ---


def test_a_users_own_database_is_refused_and_left_byte_identical(tmp_path: Path):
    db = tmp_path / "data" / "customers.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO customers (name) VALUES ('Acme')")
    connection.close()
    before = db.read_bytes()
    _fails_with_one_line(
        small_args(f"tracking.uri=sqlite:///{db}", f"hydra.run.dir={tmp_path / 'out'}"),
        {},
        ["tracking.uri", str(db), "not an MLflow store", "customers", "an empty database or an existing MLflow store"],
    )
    assert db.read_bytes() == before
    assert [p.name for p in db.parent.iterdir()] == ["customers.db"], "no journal or WAL file either"


def test_an_empty_database_and_an_mlflow_store_are_accepted(tmp_path: Path, store: str):
    from experiments.services import check_tracking_uri

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a database file without tables
    check_tracking_uri(f"sqlite:///{empty}")
    check_tracking_uri(store)


# --- 2. sensitivity ranges: checked before the study's parent run is created ---

RANGE_CASES = {
    "end not a valid value": (
        ["ranges={behaviour.contact_prob:[0.1,1.5]}"],
        ["ranges.behaviour.contact_prob", "high end 1.5", "probability in [0, 1]", "in variant 'optimised'"],
    ),
    "not a pair": (["ranges=short"], ["ranges.behaviour.contact_prob", "[low, high]", "(got [0.1])"]),
}


@pytest.mark.parametrize("case", list(RANGE_CASES))
def test_a_bad_sensitivity_range_stops_before_any_run(case: str, store: str, tmp_path: Path):
    conf = tmp_path / "conf" / "ranges"
    conf.mkdir(parents=True)
    (conf / "short.yaml").write_text("defaults:\n  - documented\n  - _self_\nbehaviour.contact_prob: [0.1]\n")
    overrides, fragments = RANGE_CASES[case]
    searchpath = f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    args = small_args(f"tracking.uri={store}", searchpath, *overrides, f"hydra.run.dir={tmp_path / 'out'}")
    _fails_with_one_line(args, {}, fragments)
    assert all_runs(store) == []


# --- 3. Hydra multirun: every job is checked before the first one runs ---

MULTIRUN_CASES = {
    "bad value in the second job": (["market.leads_per_week=200,-5"], ["market.leads_per_week", "must be > 0", "-5"]),
    "bad variant in the second job": (["team.reps.south=2,0"], ["team.reps.south", "no reps", "in variant 'legacy'"]),
}


@pytest.mark.parametrize("case", list(MULTIRUN_CASES))
def test_a_bad_value_in_a_later_multirun_job_stops_before_the_first(case: str, store: str, tmp_path: Path):
    sweep, fragments = MULTIRUN_CASES[case]
    args = ["-m", *sweep, *small_args(f"tracking.uri={store}", f"hydra.sweep.dir={tmp_path / 'multirun'}")]
    _fails_with_one_line(args, {}, fragments)
    assert all_runs(store) == []


# --- 4. malformed Olist CSVs for `python -m analysis.anchors` ---

LEADS = "mql_id,first_contact_date,landing_page_id,origin\na1,2018-02-01,p1,social\na2,2018-02-03,p2,\n"
DEALS = "mql_id,seller_id,sdr_id,sr_id,won_date\na1,s1,d1,r1,2018-02-26 19:58:54\n"
#: name -> (file, its text, fragments of the one error line; {path} is the file's path)
CSV_CASES = {
    "empty file": ("leads", "", ["{path}: the file is empty", "mql_id, first_contact_date, origin"]),
    "header only": ("deals", "mql_id,sdr_id,sr_id,won_date\n", ["{path}: no data rows"]),
    "missing column": (
        "leads",
        "mql_id,first_contact_date\na1,2018-02-01\n",
        ["{path}: missing column(s) origin", "columns mql_id, first_contact_date, origin"],
    ),
    "not a date": (
        "leads",
        LEADS + "a3,soon,p3,email\n",
        ["{path}: line 4, column first_contact_date: 'soon' is not a date", "YYYY-MM-DD"],
    ),
    "won date not a date": (
        "deals",
        DEALS + "a2,s2,d2,r2,12.5\n",
        ["{path}: line 3, column won_date: '12.5' is not a date", "YYYY-MM-DD HH:MM:SS"],
    ),
    "ragged row": ("deals", DEALS + "a2,s2,d2,r2,2018-03-01,x,y\n", ["{path}: not a readable CSV", "line 3"]),
    "lead twice": ("leads", LEADS + "a1,2018-02-05,p3,email\n", ["{path}: mql_id 'a1' is on lines 2 and 4"]),
    "not utf-8": ("leads", None, ["{path}: line 4 is not UTF-8"]),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_a_malformed_olist_csv_is_one_line_naming_the_file_and_row(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from analysis.anchors import DEALS_FILE, LEADS_FILE, main

    which, text, fragments = CSV_CASES[case]
    (tmp_path / LEADS_FILE).write_text(LEADS, encoding="utf-8")
    (tmp_path / DEALS_FILE).write_text(DEALS, encoding="utf-8")
    path = tmp_path / (LEADS_FILE if which == "leads" else DEALS_FILE)
    if text is None:
        path.write_bytes(LEADS.encode() + b"a3,2018-02-05,p3,caf\xe9\n")
    else:
        path.write_text(text, encoding="utf-8")
    assert main(["--data", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment.replace("{path}", str(path)) in lines[0], (fragment, lines[0])


# --- 5. an empty mapping for a dict-valued key adds nothing: refused, not ignored ---

EMPTY_DICT_CASES = {
    "variants": (["experiment.variants={}"], ["experiment.variants", "adds no variant", "at least one variant"]),
    "variants with ++": (["++experiment.variants={ }"], ["experiment.variants", "at least one variant"]),
    "grid": (["experiment.grid={}"], ["experiment.grid", "adds no grid axis", "at least one axis"]),
}


@pytest.mark.parametrize("case", list(EMPTY_DICT_CASES))
def test_an_empty_mapping_on_the_command_line_is_refused(case: str, store: str, tmp_path: Path):
    overrides, fragments = EMPTY_DICT_CASES[case]
    _fails_with_one_line(
        small_args(f"tracking.uri={store}", *overrides, f"hydra.run.dir={tmp_path / 'out'}"), {}, fragments
    )
    assert all_runs(store) == []


# --- 6. an entry of a list given on the command line: the line names the override, not a default's file ---

ODD_WEEK = (
    "# @package _global_\nexperiment:\n  name: odd\n  baseline: legacy\n  variants:\n"
    "    legacy: [pipeline=legacy]\n    odd: [pipeline=legacy, 'calendar.workdays=[mon,funday]']\n"
)
#: name -> (overrides, fragments the line must contain, fragments it must not contain)
LIST_CASES = {
    "scenario list": (
        ["calendar.workdays=[funday]"],
        [
            "calendar.workdays[0]",
            "unknown weekday 'funday'",
            "from the command-line override calendar.workdays=[funday]",
        ],
        ["business_week.yaml"],
    ),
    "experiment list": (
        ["experiment.sensitivity.metrics=[revenue,{a:1}]"],
        ["experiment.sensitivity.metrics[1]", "from the command-line override experiment.sensitivity.metrics="],
        ["cycle_time_gains.yaml"],
    ),
    "list in a variant of a file": (
        ["experiment=odd_week"],
        ["calendar.workdays[1]", "unknown weekday 'funday'", "in variant 'odd'"],
        ["business_week.yaml", "command-line"],
    ),
}


@pytest.mark.parametrize("case", list(LIST_CASES))
def test_a_bad_list_entry_names_where_the_list_was_given(case: str, store: str, tmp_path: Path):
    conf = tmp_path / "conf" / "experiment"
    conf.mkdir(parents=True)
    (conf / "odd_week.yaml").write_text(ODD_WEEK)
    overrides, fragments, absent = LIST_CASES[case]
    searchpath = f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    args = small_args(f"tracking.uri={store}", searchpath, *overrides, f"hydra.run.dir={tmp_path / 'out'}")
    line = _error_line(args)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    for fragment in absent:
        assert fragment not in line, (fragment, line)
    assert all_runs(store) == []


def _error_line(args: list[str]) -> str:
    """The one ``salesboost: error:`` line of ``salesboost args``, which must exit 2 without a traceback."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run([SALESBOOST, *args], capture_output=True, text=True, timeout=120, env=env, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("salesboost: error: ")
    return lines[0]


# --- 7. a market shock outside the horizon ---

SHOCK_CASES = {
    "after the horizon": ("2024-07-01", ["risk.shocks[0].start", "2024-07-01 is outside the horizon"]),
    "on the horizon's end": ("2024-03-04", ["risk.shocks[0].start", "allowed: 2024-01-01 to 2024-03-03"]),
}


@pytest.mark.parametrize("case", list(SHOCK_CASES))
def test_a_shock_outside_the_horizon_is_refused(case: str, store: str, tmp_path: Path):
    start, fragments = SHOCK_CASES[case]
    shock = f"risk.shocks=[{{kind: demand_fall, start: '{start}', size: 0.2}}]"  # SMALL: 63 days from 2024-01-01
    args = small_args(f"tracking.uri={store}", shock, f"hydra.run.dir={tmp_path / 'out'}")
    _fails_with_one_line(args, {}, [*fragments, "horizon.days=63", "in variant 'legacy'"])
    assert all_runs(store) == []


def test_a_shock_on_the_horizons_first_and_last_day_is_accepted():
    from salesboost.errors import ConfigError
    from salesboost.scenario import Scenario
    from tests.support import sections

    def world(start: str) -> Scenario:
        return Scenario.from_dict(
            sections("horizon.days=63", f"risk.shocks=[{{kind: demand_fall, start: '{start}', size: 0.2}}]")
        )

    assert world("2024-01-01").risk.shocks
    assert world("2024-03-03").risk.shocks
    with pytest.raises(ConfigError, match=r"risk\.shocks\[0\]\.start: 2023-12-31 is outside the horizon"):
        world("2023-12-31")
