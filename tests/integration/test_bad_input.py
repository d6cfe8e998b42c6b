"""Bad input: one line naming the key and what is allowed, exit status 2, no MLflow run.

Each case runs the real ``salesboost`` command against a real SQLite store in which the
experiment already exists, so "no run was created" is checked, not assumed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.config import TrackingConfig
from experiments.tracking import open_tracker
from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))

CASES = {
    "unknown group option": (["pipeline=turbo"], ["pipeline=turbo", "unknown option", "legacy, optimised"]),
    "malformed override": (["market.leads_per_week=[1,"], ["cannot parse override", "market.leads_per_week=[1,"]),
    "unknown key": (["pipeline.approval.colour=red"], ["pipeline.approval.colour", "unknown key"]),
    "wrong type": (["experiment.replications=many"], ["experiment.replications", "many"]),
    "negative rate": (["market.leads_per_week=-5"], ["market.leads_per_week", "must be > 0", "-5"]),
    "probability above 1": (["team.manager_away_prob=1.5"], ["team.manager_away_prob", "probability in [0, 1)"]),
    "probability below 0": (
        ["market.channels.web.qualify_prob=-0.1"],
        ["market.channels.web.qualify_prob", "probability in [0, 1]"],
    ),
    "unknown distribution": (
        ["pipeline.quote.prep_hours.dist=weibull"],
        ["pipeline.quote.prep_hours.dist", "unknown distribution 'weibull'", "lognormal", "empirical"],
    ),
    "cv not positive": (["pipeline.quote.prep_hours.cv=0"], ["pipeline.quote.prep_hours.cv", "must be > 0"]),
    "region without reps": (["team.reps.south=0"], ["team.reps.south", "no reps", "at least 1 rep"]),
    "unknown stage policy": (
        ["pipeline.approval.policy=fax"],
        ["pipeline.approval.policy", "unknown value 'fax'", "window, online"],
    ),
    "baseline not a variant": (["experiment.baseline=nobody"], ["experiment.baseline", "legacy, optimised"]),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with the default experiment already created (and no runs)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    open_tracker(TrackingConfig(uri=uri), "cycle-time-gains")
    return uri


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_with_one_line_and_records_nothing(case: str, store: str, tmp_path: Path):
    overrides, expected = CASES[case]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run(
        [SALESBOOST, *overrides, f"tracking.uri={store}", f"hydra.run.dir={tmp_path / 'out'}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("salesboost: error: ")
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in proc.stderr
    assert mlflow_runs(store, "cycle-time-gains") == []
