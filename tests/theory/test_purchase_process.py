"""Accounts buying by the BG/NBD process: the simulated base against the model's closed forms.

With ``accounts.purchase`` set, each account has its own purchase rate and its own chance of
leaving after each repeat purchase. An initial account starts just after a purchase (at clock
0), so its requests in ``(0, t]`` are the BG/NBD's repeat purchases X(t) of a new customer:
their mean over the base must match E[X(t)] (Fader, Hardie and Lee 2005, eq. 9), and the
share of accounts with none must match P(X(t) = 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import btyd
from salesboost.accounts import BgNbdPurchase, PurchaseConfig
from sim.customers import AccountBase
from sim.streams import Streams
from tests.support import small_scenario

B2B = BgNbdPurchase(r=0.8, alpha_days=60.0, a=0.9, b=5.0)
ACCOUNTS = 6000


def requests_per_account(purchase: BgNbdPurchase, days: float, seed: int) -> np.ndarray:
    scenario = small_scenario("legacy", accounts__initial=ACCOUNTS)
    scenario.accounts.purchase = PurchaseConfig(
        model="bgnbd", r=purchase.r, alpha_days=purchase.alpha_days, a=purchase.a, b=purchase.b
    )
    base = AccountBase(scenario, Streams(seed), {r: ["rep"] for r in scenario.market.regions}, end=days * 24.0)
    counts = np.zeros(ACCOUNTS)
    for _, i, _ in base.initial_requests():
        counts[i] += 1
    return counts


def p_none(p: BgNbdPurchase, t: float) -> float:
    """P(X(t) = 0) of the BG/NBD: (alpha / (alpha + t))^r (no dropout before the first repeat)."""
    return math.exp(p.r * (math.log(p.alpha_days) - math.log(p.alpha_days + t)))


@pytest.mark.parametrize("days", [180.0, 730.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_theory_mean_requests_match_the_bgnbd_expectation(days, seed):
    counts = requests_per_account(B2B, days, seed)
    params = btyd.BgNbdParams(r=B2B.r, alpha=B2B.alpha_days, a=B2B.a, b=B2B.b)
    expected = float(btyd.expected_purchases(params, days))
    se = counts.std(ddof=1) / math.sqrt(ACCOUNTS)
    assert counts.mean() == pytest.approx(expected, abs=4 * se), (counts.mean(), expected, se)
    share_none = float(np.mean(counts == 0))
    assert share_none == pytest.approx(p_none(B2B, days), abs=4 * math.sqrt(share_none * (1 - share_none) / ACCOUNTS))


def test_theory_dropout_caps_the_purchases_of_the_heaviest_buyers():
    # Leaving with probability p after each repeat purchase, an account makes K ~ Geometric(p)
    # repeat purchases in all: over a long horizon (fast buyers) the mean tends to E[1 / p] =
    # (a + b - 1) / (a - 1) under Beta(a, b), and P(K = 1) = E[p] = a / (a + b).
    purchase = BgNbdPurchase(r=2.0, alpha_days=10.0, a=3.0, b=6.0)
    counts = requests_per_account(purchase, 20 * 365.25, seed=7)
    limit = (purchase.a + purchase.b - 1) / (purchase.a - 1)
    se = counts.std(ddof=1) / math.sqrt(ACCOUNTS)
    assert counts.mean() == pytest.approx(limit, abs=4 * se)
    first = purchase.a / (purchase.a + purchase.b)
    assert float(np.mean(counts == 1)) == pytest.approx(first, abs=4 * math.sqrt(first * (1 - first) / ACCOUNTS))


def test_poisson_accounts_are_the_default_and_never_leave():
    counts = requests_per_account_poisson(days=365.25, seed=4)
    assert counts.mean() == pytest.approx(2.0, abs=4 * math.sqrt(2.0 / ACCOUNTS))  # repeat_per_year
    assert counts.var(ddof=1) == pytest.approx(2.0, rel=0.1)


def requests_per_account_poisson(days: float, seed: int) -> np.ndarray:
    scenario = small_scenario("legacy", accounts__initial=ACCOUNTS)
    assert scenario.accounts.purchase.bgnbd() is None
    base = AccountBase(scenario, Streams(seed), {r: ["rep"] for r in scenario.market.regions}, end=days * 24.0)
    counts = np.zeros(ACCOUNTS)
    for _, i, _ in base.initial_requests():
        counts[i] += 1
    return counts
