"""The customer-base analysis on a simulated ledger with amounts: known parameters come back, the value is set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import btyd
from analysis.customer_base import CUSTOMER_COLUMNS, analyse
from salesboost.tiers import TierConfig

TRUE = btyd.BgNbdParams(r=0.8, alpha=60.0, a=0.9, b=5.0)
SPEND = btyd.GammaGammaParams(p=6.0, q=4.0, gamma=30.0)
START = pd.Timestamp("2023-01-01")


def ledger(seed: int, customers: int = 1500, days: int = 730) -> pd.DataFrame:
    """A ledger from the BG/NBD and gamma-gamma with known parameters; first purchases spread over 90 days."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 90, customers)
    times = btyd.simulate_purchase_times(TRUE, customers, days - first, rng)
    nu = rng.gamma(SPEND.q, 1 / SPEND.gamma, customers)  # each customer's spend rate
    rows = []
    for i, (start, repeats) in enumerate(zip(first, times, strict=True)):
        rows.extend(
            (f"c{i}", START + pd.Timedelta(days=int(start + t)), rng.gamma(SPEND.p, 1 / nu[i]))
            for t in [0.0, *repeats.tolist()]
        )
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return tx.drop_duplicates(["customer_id", "date"])  # one purchase a day, as the model counts them


@pytest.mark.parametrize("seed", [1, 2])
def test_simulated_ledger_gives_back_its_parameters_and_a_value(seed):
    tx = ledger(seed)
    as_of = START + pd.Timedelta(days=545)  # 180 days held out
    base = analyse(tx, as_of=as_of, tiers=TierConfig.plan())
    assert base.purchase_model is not None
    fit = base.purchase_model
    for name, true in TRUE.to_dict().items():
        estimate, se = fit.params.to_dict()[name], fit.standard_errors[name]
        # Same-day collapsing and the day grid bias the fit a little: 4 standard errors.
        assert abs(estimate - true) < 4 * se, (name, estimate, se, true)
    assert base.spend_model is not None
    assert base.spend_model.params.mean_spend == pytest.approx(SPEND.mean_spend, rel=0.15)
    customers = base.customers
    assert tuple(customers.columns[: len(CUSTOMER_COLUMNS)]) == CUSTOMER_COLUMNS
    assert customers["expected_value_12m"].notna().all()
    assert (customers["expected_value_12m"] >= 0).all()
    assert base.summary.monetary_known
    assert sum(base.summary.counts.values()) == len(customers)
    # The held-out prediction is unbiased in total on data the model generated (within 10%).
    assert base.holdout is not None
    assert base.holdout.metrics["predicted_total_error"] == pytest.approx(0.0, abs=0.10)


def test_transactions_after_as_of_are_held_out_not_counted():
    tx = ledger(3, customers=300)
    as_of = START + pd.Timedelta(days=400)
    base = analyse(tx, as_of=as_of, tiers=TierConfig.plan())
    assert base.after_as_of == int((tx["date"] > as_of).sum())
    assert base.customers["recency_days"].min() >= 0
    assert base.holdout is not None
    later = tx[tx["date"] > as_of].groupby("customer_id")["date"].nunique()
    actual = base.holdout.customers.set_index("customer_id")["actual"]
    assert actual.sum() == later.reindex(actual.index, fill_value=0).sum()
