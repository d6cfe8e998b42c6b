"""``experiment=incentive_schemes`` end to end: the real command, a real SQLite MLflow store, a short horizon.

Checks what a user reads: the run finishes, every scheme is a finished child run in the
``incentive-schemes`` experiment with its key metrics, the report has the incentive section,
and the attainment, payout and effort tables agree with the per-seat panel they come from. The
figures are predictions; their properties are tested in tests/property/test_incentive_properties.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
SCHEMES = {"commission", "quota_bonus", "accelerator", "scorecard", "scorecard_no_floors"}


def test_incentive_schemes_runs_and_reports_every_scheme(tmp_path):
    out = tmp_path / "out"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [
        SALESBOOST,
        "experiment=incentive_schemes",
        f"tracking.uri={uri}",
        f"hydra.run.dir={out}",
        "experiment.replications=2",
        "experiment.sensitivity.enabled=false",
        "horizon.days=120",
        "horizon.warmup_days=14",
        "horizon.drain_days=20",
        "accounts.initial=300",
        "ray.num_cpus=2",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Incentive schemes" in html
    for plot in ("attainment.png", "effort_by_kind.png", "kpi_profile.png", "tradeoff_payout_cost_net_profit.png"):
        assert (out / "plots" / plot).stat().st_size > 10_000, plot
    runs = mlflow_runs(uri, "incentive-schemes")
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert {r.data.tags.get("variant") for r in children} == SCHEMES
    for child in children:
        assert child.info.status == "FINISHED"
        for metric in (
            "revenue",
            "net_profit",
            "payout_cost",
            "payout_share",
            "rep_complaint_rate",
            "followup_timeliness",
            "rep_attrition",
            "effort_share_prospecting",
        ):
            assert metric in child.data.metrics, (child.data.tags.get("variant"), metric)
    reps = pd.read_parquet(out / "panel_reps.parquet")
    assert set(reps["variant"]) == SCHEMES
    payouts = pd.read_csv(out / "payouts_by_variant.csv")
    # The payout table sums the panel's settlements in the window: a commission pays 3% of what it credits.
    commission = payouts[payouts["variant"] == "commission"]
    assert (commission["payout"] > 0).all()
    assert ((commission["payout"] / commission["revenue"]).round(6) <= 0.03 + 1e-6).all()
    attainment = pd.read_csv(out / "attainment_by_variant.csv")
    assert (
        "commission" not in set(attainment["variant"])
        or attainment.loc[attainment["variant"] == "commission", "n"].eq(0).all()
    )
