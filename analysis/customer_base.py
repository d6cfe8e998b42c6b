"""A company's customers read from its transactions: rule tiers beside the purchase model's view.

At the snapshot date ``as_of`` every customer gets R, F and M, the plan's tier
(:mod:`salesboost.tiers`), and from a BG/NBD model fitted to all customers by maximum likelihood
(:mod:`analysis.btyd`) the probability of being alive and the purchases expected in the next
365 days (times the gamma-gamma expected spend when there are amounts: the expected value).
Transactions after ``as_of`` are the held-out period: the model's prediction of each customer's
purchases there is compared with what happened, beside a naive forecast (each customer's own
past rate), so a user sees the error and not only the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import btyd
from analysis.transactions import rfm_table, summary_frame, tier_summary, tier_table
from salesboost.tiers import TierConfig, TierSummary

#: Horizon of the per-customer expected purchases and value (the ``_12m`` columns).
VALUE_HORIZON_DAYS = 365
#: customers.csv: the columns every user can rely on, first, then details.
CUSTOMER_COLUMNS = (
    "customer_id",
    "recency_days",
    "frequency_12m",
    "monetary_12m",
    "tier",
    "p_alive",
    "expected_value_12m",
)
DETAIL_COLUMNS = ("expected_purchases_12m", "expected_spend", "matched", "gap", "x", "t_x", "T")
#: Repeat purchases in the calibration period, grouped for the held-out comparison (last: and more).
HOLDOUT_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 7)
#: A fit needs this many customers with a repeat purchase to say anything about dropout; with fewer
#: the tiers are still computed and the model's columns are left empty (the report says why).
MIN_REPEAT_CUSTOMERS = 10


@dataclass(frozen=True)
class Holdout:
    """The model's prediction of each customer's purchases after ``as_of`` against what happened."""

    days: int  # length of the held-out period
    customers: pd.DataFrame  # customer_id, x, actual, predicted, naive
    by_frequency: pd.DataFrame  # bucket of x: customers, actual mean, predicted mean, naive mean
    metrics: dict[str, float]  # mae, rmse, totals and their relative errors, for the model and the naive forecast


@dataclass(frozen=True)
class CustomerBase:
    """Everything ``experiment=customer_tiers`` reports."""

    as_of: pd.Timestamp
    customers: pd.DataFrame  # CUSTOMER_COLUMNS then DETAIL_COLUMNS
    summary: TierSummary
    summary_table: pd.DataFrame  # kind, name, count, share, revenue_share
    purchase_model: btyd.BgNbdFit | None  # None: too few repeat buyers to fit (see model_note)
    spend_model: btyd.GammaGammaFit | None
    holdout: Holdout | None
    transactions: int  # read, all dates
    after_as_of: int  # transactions after as_of (the held-out period and beyond)
    model_note: str = ""  # why the purchase model was not fitted

    def model_json(self) -> dict[str, Any]:
        """btyd.json: the fitted parameters with standard errors and log-likelihood, and the held-out check."""
        out: dict[str, Any] = {
            "as_of": self.as_of.date().isoformat(),
            "bgnbd": None if self.purchase_model is None else self.purchase_model.to_dict(),
            "note": self.model_note or None,
            "gamma_gamma": None if self.spend_model is None else self.spend_model.to_dict(),
            "value_horizon_days": VALUE_HORIZON_DAYS,
            "holdout": None,
        }
        if self.holdout is not None:
            out["holdout"] = {
                "days": self.holdout.days,
                "metrics": self.holdout.metrics,
                "by_frequency": self.holdout.by_frequency.to_dict(orient="records"),
            }
        return out


def analyse(
    tx: pd.DataFrame, *, as_of: pd.Timestamp | None, tiers: TierConfig, holdout_days: int | None = None
) -> CustomerBase:
    """Tiers, purchase model and held-out check of the transactions ``tx`` (see read_transactions)."""
    if tx.empty:
        raise ValueError("customers.transactions: the file has no transactions")
    snapshot = pd.Timestamp(tx["date"].max()).normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    if snapshot < tx["date"].min():
        first = pd.Timestamp(tx["date"].min()).date()
        raise ValueError(f"customers.as_of: {snapshot.date()} is before the first transaction ({first})")
    rfm = rfm_table(tx, snapshot, window_days=tiers.window_days)
    tiered = tier_table(rfm, tiers)
    repeaters = int((rfm["x"] > 0).sum())
    summary = tier_summary(tiered, tiers)
    common = {
        "as_of": snapshot,
        "summary": summary,
        "summary_table": summary_frame(summary),
        "transactions": len(tx),
        "after_as_of": int(rfm.attrs["after_as_of"]),
    }
    if repeaters < MIN_REPEAT_CUSTOMERS:
        note = (
            f"purchase model not fitted: {repeaters} customers bought on more than one day up to "
            f"{snapshot.date()}, the BG/NBD needs at least {MIN_REPEAT_CUSTOMERS}"
        )
        empty = tiered.assign(
            **dict.fromkeys(("p_alive", "expected_purchases_12m", "expected_spend", "expected_value_12m"), np.nan)
        )
        return CustomerBase(
            customers=empty[[*CUSTOMER_COLUMNS, *DETAIL_COLUMNS]],
            purchase_model=None,
            spend_model=None,
            holdout=None,
            model_note=note,
            **common,
        )
    x, t_x, big_t = (rfm[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    fit = btyd.fit_bgnbd(x, t_x, big_t)
    params = fit.params
    purchases = btyd.conditional_expected_purchases(params, x, t_x, big_t, VALUE_HORIZON_DAYS)
    spend_fit, spend = _spend(tx, snapshot, rfm)
    customers = tiered.assign(
        p_alive=btyd.p_alive(params, x, t_x, big_t),
        expected_purchases_12m=purchases,
        expected_spend=np.nan if spend is None else spend,
        expected_value_12m=np.nan if spend is None else purchases * spend,
    )
    return CustomerBase(
        customers=customers[[*CUSTOMER_COLUMNS, *DETAIL_COLUMNS]],
        purchase_model=fit,
        spend_model=spend_fit,
        holdout=_holdout(tx, snapshot, rfm, params, holdout_days),
        **common,
    )


def _spend(
    tx: pd.DataFrame, as_of: pd.Timestamp, rfm: pd.DataFrame
) -> tuple[btyd.GammaGammaFit | None, np.ndarray | None]:
    """Gamma-gamma fit on each customer's transactions up to as_of, and its expected spend per purchase."""
    if not bool(rfm.attrs.get("monetary_known")):
        return None, None
    kept = tx[tx["date"] <= as_of].groupby("customer_id", sort=False)["amount"].agg(["size", "mean"])
    kept = kept.reindex(rfm["customer_id"])
    frequency, mean = kept["size"].to_numpy(dtype=float), kept["mean"].to_numpy(dtype=float)
    fit = btyd.fit_gamma_gamma(frequency, mean)
    return fit, btyd.conditional_expected_spend(fit.params, frequency, mean)


def _holdout(
    tx: pd.DataFrame, as_of: pd.Timestamp, rfm: pd.DataFrame, params: btyd.BgNbdParams, holdout_days: int | None
) -> Holdout | None:
    """Purchase days per customer in (as_of, as_of + days] against the model's and a naive forecast."""
    later = tx[tx["date"] > as_of]
    if later.empty:
        return None
    last = pd.Timestamp(later["date"].max()).normalize()
    days = (last - as_of).days if holdout_days is None else holdout_days
    later = later[later["date"] <= as_of + pd.Timedelta(days=days)]
    # Distinct purchase days, as x counts them; customers first seen after as_of are not in the base.
    actual = later.groupby("customer_id")["date"].nunique().reindex(rfm["customer_id"], fill_value=0)
    x, t_x, big_t = (rfm[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    predicted = btyd.conditional_expected_purchases(params, x, t_x, big_t, float(days))
    # The naive forecast: the customer's own repeat rate so far, as if every customer were alive.
    naive = np.where(big_t > 0, x / np.maximum(big_t, 1.0), 0.0) * days
    table = pd.DataFrame(
        {
            "customer_id": rfm["customer_id"].to_numpy(),
            "x": x.astype(int),
            "actual": actual.to_numpy(dtype=float),
            "predicted": predicted,
            "naive": naive,
        }
    )
    bucket = np.minimum(table["x"], HOLDOUT_BUCKETS[-1])
    by_frequency = (
        table.groupby(bucket)
        .agg(
            customers=("actual", "size"),
            actual=("actual", "mean"),
            predicted=("predicted", "mean"),
            naive=("naive", "mean"),
        )
        .rename_axis("x")
        .reset_index()
    )
    by_frequency["x"] = [f"{int(b)}+" if b == HOLDOUT_BUCKETS[-1] else str(int(b)) for b in by_frequency["x"]]
    return Holdout(days=days, customers=table, by_frequency=by_frequency, metrics=_errors(table))


def _errors(table: pd.DataFrame) -> dict[str, float]:
    actual = table["actual"].to_numpy()
    out: dict[str, float] = {"customers": float(len(table)), "actual_total": float(actual.sum())}
    for name in ("predicted", "naive"):
        forecast = table[name].to_numpy()
        error = forecast - actual
        total = float(forecast.sum())
        out[f"{name}_total"] = total
        out[f"{name}_total_error"] = (
            (total - out["actual_total"]) / out["actual_total"] if out["actual_total"] else math.nan
        )
        out[f"{name}_mae"] = float(np.mean(np.abs(error)))
        out[f"{name}_rmse"] = float(np.sqrt(np.mean(error**2)))
    return out
