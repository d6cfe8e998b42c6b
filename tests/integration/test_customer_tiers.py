"""``experiment=customer_tiers`` end to end: the real command on real and hand-written transactions.

Runs the ``salesboost`` command against a real SQLite MLflow store: on grocery_elog (real data,
no amounts), on a CSV written here by hand with amounts (its R, F and M checked against the
hand computation), and on bad files (one line with the row, exit 2, no run, no output).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.customer_base import CUSTOMER_COLUMNS
from tests.conftest import mlflow_runs

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
GROCERY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "transactions" / "grocery_elog.csv"
EXPERIMENT = "customer-tiers"


def tiers(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path, str]:
    """Run the job with ``args``; its output directory and tracking URI are under ``tmp_path``."""
    out = tmp_path / "out"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [SALESBOOST, "experiment=customer_tiers", f"tracking.uri={uri}", f"hydra.run.dir={out}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    return done, out, uri


@pytest.mark.skipif(not GROCERY.exists(), reason="../shared/data/transactions/grocery_elog.csv not present")
def test_grocery_tiers_model_and_held_out_check(tmp_path):
    done, out, uri = tiers(
        tmp_path, f"customers.transactions={GROCERY}", "customers.columns.customer=cust", "customers.as_of=2006-12-31"
    )
    assert done.returncode == 0, done.stderr
    customers = pd.read_csv(out / "customers.csv")
    assert tuple(customers.columns[: len(CUSTOMER_COLUMNS)]) == CUSTOMER_COLUMNS
    assert len(customers) == 1525  # every customer's first purchase is in Q1 2006
    assert customers["p_alive"].between(0, 1).all()
    assert customers["expected_value_12m"].isna().all()  # no amounts: no value
    summary = pd.read_csv(out / "tiers_summary.csv")
    tier_rows = summary[summary["kind"] == "tier"]
    assert tier_rows["count"].sum() == 1525
    assert dict(zip(tier_rows["name"], tier_rows["count"], strict=True)) == customers["tier"].value_counts().to_dict()
    gaps = summary[summary["kind"] == "gap"]["count"].sum()
    assert gaps == (customers["tier"] == "maintain").sum()  # every residual customer sits in a named gap
    model = json.loads((out / "btyd.json").read_text())
    assert model["bgnbd"]["converged"]
    assert set(model["bgnbd"]["standard_errors"]) == {"r", "alpha", "a", "b"}
    holdout = model["holdout"]
    assert holdout["days"] == 364
    assert holdout["metrics"]["actual_total"] == pd.read_csv(out / "holdout.csv")["actual"].sum()
    # The model beats the naive past-rate forecast customer by customer (it knows customers drop out).
    assert holdout["metrics"]["predicted_mae"] < holdout["metrics"]["naive_mae"]
    for plot in ("tier_shares.png", "rf_map.png", "p_alive_recency.png", "holdout.png"):
        assert (out / plot).stat().st_size > 10_000, plot
    (run,) = mlflow_runs(uri, EXPERIMENT)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["customers"] == 1525
    assert run.data.params["as_of"] == "2006-12-31"
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"customers.csv", "tiers_summary.csv", "btyd.json", "holdout.csv", "rf_map.png"} <= logged
    assert "held-out 364 days" in done.stdout
    # The printed UI link opens a saved view of this experiment's runs with the tier shares.
    from experiments.recording import SHARED_VIEW_TAG_PREFIX, VIEW_KEY

    view = json.loads(client.get_experiment_by_name(EXPERIMENT).tags[SHARED_VIEW_TAG_PREFIX + VIEW_KEY])
    assert "metrics.`tier_share/high_value`" in view["selectedColumns"]
    assert f"viewStateShareKey={VIEW_KEY}" in done.stdout


def hand_written(path: Path) -> Path:
    """Five customers a user might type, with amounts, as of 2024-06-30."""
    rows = ["client,when,value"]
    rows += [f"loyal,2024-{m:02d}-15,100" for m in range(1, 7)]  # monthly: R = 15, F = 6, M = 600
    rows += [f"loyal,2023-{m:02d}-15,100" for m in range(7, 13)]  # and the half-year before: F = 12 in 365 days
    rows += ["once,2023-09-01,40"]  # R = 303, F = 1, M = 40
    rows += ["lapsed,2023-10-01,80", "lapsed,2024-01-10,90"]  # R = 172, F = 2, M = 170
    rows += ["tiny,2023-12-01,5", "small,2024-02-01,7"]  # the two smallest spenders
    rows += ["later,2024-08-01,50", "loyal,2024-07-20,100"]  # after as_of: held out
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_hand_written_csv_with_amounts(tmp_path):
    csv = hand_written(tmp_path / "ledger.csv")
    done, out, _ = tiers(
        tmp_path,
        f"customers.transactions={csv}",
        "customers.columns.customer=client",
        "customers.columns.date=when",
        "customers.columns.amount=value",
        "customers.as_of=2024-06-30",
        "tracking.enabled=false",
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "customers.csv").set_index("customer_id")
    assert rows.loc["loyal", ["recency_days", "frequency_12m", "monetary_12m"]].tolist() == [15, 12, 1200.0]
    assert rows.loc["once", ["recency_days", "frequency_12m", "monetary_12m"]].tolist() == [303, 1, 40.0]
    assert rows.loc["lapsed", ["recency_days", "frequency_12m", "monetary_12m"]].tolist() == [172, 2, 170.0]
    assert "later" not in rows.index  # first seen after as_of: not in the base
    # Spend ranks: tiny 0, small 0.2, once 0.4, lapsed 0.6, loyal 0.8 (the share of customers who spent less).
    assert rows["tier"].to_dict() == {
        "loyal": "high_value",  # R <= 30, F >= 12, top 20% of spend
        "once": "dormant",  # R >= 90, F <= 2, not in the bottom 20%
        "lapsed": "dormant",
        "tiny": "low_value",  # R >= 180, F <= 1, bottom 20%
        "small": "dormant",  # R = 150: lapsed, but not long enough for low value
    }
    # Two repeat buyers are too few to fit a purchase model: tiers only, and the job says why.
    assert rows["p_alive"].isna().all()
    assert "purchase model not fitted: 2 customers bought on more than one day" in done.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("client,when\na,2024-01-01\nb,2024-13-01\n", ["line 3", "2024-13-01"]),
        ("client,day\na,2024-01-01\n", ["no column 'when'", "'client', 'day'"]),
        ("client,when,value\na,2024-01-01,-5\n", ["line 2", "-5"]),
        ("client,when,when\na,2024-01-01,2024-01-02\n", ["when", "duplicate"]),
    ],
    ids=["bad date", "missing column", "negative amount", "duplicate header"],
)
def test_bad_files_give_one_line_with_the_row_and_record_nothing(tmp_path, content, expected):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    amount = ["customers.columns.amount=value"] if "value" in content else []
    done, out, uri = tiers(
        tmp_path,
        f"customers.transactions={bad}",
        "customers.columns.customer=client",
        "customers.columns.date=when",
        *amount,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("salesboost: error: customers.transactions:"), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert mlflow_runs(uri, EXPERIMENT) == []
    assert not (out / "customers.csv").exists()


def test_without_a_file_the_job_says_which_key_to_set(tmp_path):
    done, _, _ = tiers(tmp_path, "tracking.enabled=false")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "salesboost: error: customers.transactions: give the CSV or Parquet file of transactions "
        "(one row per transaction)"
    )


@pytest.mark.skipif(not GROCERY.exists(), reason="../shared/data/transactions/grocery_elog.csv not present")
def test_a_sweep_on_the_fitted_customer_base():
    # customers.base=fitted: every variant's accounts buy by the BG/NBD fitted to the company's ledger.
    from analysis import btyd
    from analysis.transactions import Columns, read_transactions, rfm_table
    from experiments.app import plan
    from experiments.compose import compose_config

    every = [
        "customers.base=fitted",
        f"customers.transactions={GROCERY}",
        "customers.columns.customer=cust",
        "customers.as_of=2006-12-31",
        "tracking.enabled=false",
    ]
    validated = plan(compose_config(every), every)
    rfm = rfm_table(read_transactions(GROCERY, Columns(customer="cust")), "2006-12-31")
    fit = btyd.fit_bgnbd(*(rfm[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))).params
    for variant in validated.variants:
        purchase = variant.scenario.accounts.purchase
        assert purchase.model == "bgnbd", variant.name
        assert (purchase.r, purchase.alpha_days, purchase.a, purchase.b) == pytest.approx(
            (fit.r, fit.alpha, fit.a, fit.b), rel=1e-5
        )
    assert "accounts.purchase.model=bgnbd" in validated.overrides
    assert "model: bgnbd" in validated.config_yaml  # the recorded config says what the variants run
