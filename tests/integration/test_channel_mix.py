"""``experiment=channel_mix`` end to end: the real command, a real SQLite MLflow store, a short horizon.

Checks what a user reads: the run finishes, the report has the answer and the best strategy
within each budget group, the per-tier and per-channel tables add up to the panels, and the
tier plots are written. The figures themselves are predictions; their properties are tested in
tests/property/test_outreach_conservation.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from salesboost.tiers import TierConfig
from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))


def test_channel_mix_runs_and_reports_per_budget_group_and_tier(tmp_path):
    out = tmp_path / "out"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [
        SALESBOOST,
        "experiment=channel_mix",
        f"tracking.uri={uri}",
        f"hydra.run.dir={out}",
        "experiment.replications=2",
        "experiment.sensitivity.enabled=false",
        "horizon.days=75",
        "horizon.warmup_days=14",
        "horizon.drain_days=20",
        "accounts.initial=300",
        "ray.num_cpus=2",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Within low budget" in done.stdout
    assert "Within high budget" in done.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Within each group" in html
    assert "Customer tiers" in html
    for plot in ("tier_transitions.png", "tier_shares.png"):
        assert (out / "plots" / plot).stat().st_size > 10_000
    tiers = pd.read_csv(out / "tiers_by_variant.csv")
    known = {*TierConfig.plan().tiers, "new"}
    assert set(tiers["tier"]) <= known
    assert set(tiers["variant"]) == {
        "no_outreach",
        *(f"{s}_{b}" for s in ("uniform", "tiered", "uplift") for b in ("low", "high")),
    }
    assert (tiers[tiers["variant"] == "no_outreach"]["touches"] == 0).all()
    channels = pd.read_csv(out / "channels_by_variant.csv")
    # The per-channel and the per-tier tables are two cuts of the same touches.
    by_channel = channels.groupby("variant")["touches"].sum()
    by_tier = tiers.groupby("variant")["touches"].sum()
    for variant, touches in by_channel.items():
        assert touches == by_tier[variant]
    (parent,) = [r for r in mlflow_runs(uri, "channel-mix") if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FINISHED"
