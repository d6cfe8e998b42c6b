"""``experiment=targets_2024``, ``pilot_design`` and ``early_warning`` end to end: the real command, a real
SQLite MLflow store, real local Ray, shortened runs.

Checks what a user reads: the run finishes, the parent run is FINISHED with the study's metrics,
report.html has the study's section, and its tables agree with what they are computed from.
The figures themselves are predictions; the rules behind them are tested in tests/analysis and
tests/property.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))


def _run(tmp_path: Path, *args: str) -> tuple[Path, str]:
    out = tmp_path / "out"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [SALESBOOST, *args, f"tracking.uri={uri}", f"hydra.run.dir={out}", "ray.num_cpus=2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, uri


def _parent(uri: str, experiment: str):
    runs = mlflow_runs(uri, experiment)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FINISHED"
    return parent


def test_targets_2024_reports_p_hit_per_target_and_the_plan_example(tmp_path):
    out, uri = _run(
        tmp_path,
        "experiment=targets_2024",
        "experiment.replications=2",
        "experiment.targets.lever_replications=2",
        "experiment.targets.lever_steps=2",
        "horizon.days=150",
        "horizon.warmup_days=14",
        "horizon.drain_days=20",
        "accounts.initial=300",
    )
    targets = pd.read_csv(out / "study" / "targets.csv")
    assert set(targets["target"]) == {
        "sales",
        "new_customer_share",
        "product_A",
        "product_B_share",
        "east",
        "south",
        "repurchase_rate",
        "new_customers",
        "sales_per_rep",
    }
    assert targets["p_hit"].between(0, 1).all()
    assert (targets["n"] == 2).all()
    decomposition = pd.read_csv(out / "study" / "target_decomposition.csv")
    for _, group in decomposition.groupby("dimension"):
        total = group["last_year"].sum() * 1.30
        assert abs(group["target"].sum() - total) <= 1e-6 * total  # the unit targets add up to the total
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Targets" in html
    assert "a pure mix effect" in html
    parent = _parent(uri, "targets-2024")
    assert "p_hit_sales" in parent.data.metrics


def test_pilot_design_scores_every_rule_and_checks_the_closed_form(tmp_path):
    out, uri = _run(tmp_path, "experiment=pilot_design", "experiment.replications=3")
    scores = pd.read_csv(out / "study" / "pilot_design.csv")
    assert set(scores["rule"]) == {"plan_rule", "pre_post", "did_placebo", "cuped_did", "synthetic_control"}
    assert not scores.loc[scores["rule"] == "synthetic_control", "applicable"].any()  # 2 donors: never
    did = scores[scores["rule"] == "did_placebo"].set_index(["treated_units", "weeks"])["applicable"]
    assert did.loc[1].all()  # 30 weeks of history: enough placebo windows for one pilot region
    assert not did.loc[(2, 8)]  # two pilot regions for 8 weeks: 17 placebos, p can never reach 0.05
    pilots = pd.read_csv(out / "study" / "pilots.csv")
    null = pilots[pilots["true_effect"] == 0]
    assert (null["realised_effect"] == 0).all()
    plan = null[(null["rule"] == "plan_rule") & (null["weeks"] == 2) & (null["treated_units"] == 1)]
    row = scores[(scores["rule"] == "plan_rule") & (scores["weeks"] == 2) & (scores["treated_units"] == 1)].iloc[0]
    assert row["false_positive_rate"] == plan["passed"].mean()
    check = pd.read_csv(out / "study" / "closed_form_check.csv")
    assert check["closed_form_fpr"].between(0, 0.5).all()
    assert "east_optimised" not in set(pilots["variant"])  # a real policy is not a null pilot of the grid
    real = pd.read_csv(out / "study" / "real_policy.csv")
    assert set(real["variant"]) == {"east_optimised"}
    assert set(real["rule"]) == set(scores["rule"])
    assert real.loc[real["applicable"], "pass_rate"].between(0, 1).all()
    assert (real["n_pilots"] == 3).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Pilot design" in html
    assert "A real policy" in html
    _parent(uri, "pilot-design")


def test_early_warning_scores_rules_and_playbooks(tmp_path):
    out, uri = _run(
        tmp_path,
        "experiment=early_warning",
        "experiment.replications=2",
        "experiment.sensitivity.enabled=false",
        "horizon.days=500",
        "accounts.initial=300",
    )
    scores = pd.read_csv(out / "study" / "warning_scores.csv")
    assert {"industry_growth_streak", "team_retention", "industry_growth_cusum", "staffing_gap"} <= set(scores["rule"])
    # Benchmark attrition keeps "team retention below 80%" on: it cries wolf every year (domain.md section 7)
    retention = scores.set_index("rule").loc["team_retention"]
    assert retention["false_alarms_per_year"] > 1
    recovery = pd.read_csv(out / "study" / "playbook_recovery.csv")
    assert set(recovery["playbook"]) == {
        "demand_fall_diversify",
        "demand_fall_product_mix",
        "price_cut_success_manager",
        "price_cut_core_visits",
        "price_cut_win_back",
        "demand_fall_change_incentives",
        "reps_leave_talent_pool",
    }
    assert "payout_cost_recovered" in recovery.columns  # a change of scheme can recover profit by paying less
    assert "Early warning" in (out / "report.html").read_text(encoding="utf-8")
    parent = _parent(uri, "early-warning")
    assert any(k.startswith("recovery_") for k in parent.data.metrics)
