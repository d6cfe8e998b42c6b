"""Gamma-gamma spend across simulated accounts: the multiplier's moments and the copula's rank correlation.

With ``accounts.spend.model=gamma_gamma`` each account's deal sizes are the segment's times
m = (q - 1) / w, w ~ Gamma(q, 1): E[m] = 1 and Var[m] = 1 / (q - 2) (inverse gamma). A Gaussian
copula with correlation rho gives Spearman's rank correlation (6 / pi) asin(rho / 2) between
the account's purchase rate and m. Checked on the initial accounts of the simulation's own
account base, over three seeds, within four standard errors (the rank correlation's standard
error about 1 / sqrt(n - 1)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from experiments.compose import compose_config, scenario_of
from sim.customers import AccountBase
from sim.streams import Streams

N = 6000
Q = 6.0


def _base(seed: int, correlation: float, model: str = "bgnbd") -> AccountBase:
    scenario = scenario_of(
        compose_config(
            [
                f"accounts.initial={N}",
                f"accounts.purchase.model={model}",
                "accounts.spend.model=gamma_gamma",
                f"accounts.spend.q={Q}",
                f"accounts.spend.correlation={correlation}",
            ]
        )
    )
    owners = {region: [_Owner()] for region in scenario.market.regions}
    return AccountBase(scenario, Streams(seed, 0), owners, end=24.0 * 30)


class _Owner:
    """A stand-in rep: the base only assigns owners."""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spend_multiplier_has_mean_one_and_inverse_gamma_variance(seed):
    m = np.array([a.spend for a in _base(seed, 0.0).accounts])
    variance = 1.0 / (Q - 2.0)
    # sd of the sample mean; of the sample variance via the fourth moment of an inverse gamma
    mean_se = math.sqrt(variance / N)
    assert abs(m.mean() - 1.0) < 4 * mean_se
    assert m.var(ddof=1) == pytest.approx(variance, rel=0.2)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.5])
def test_copula_gives_the_gaussian_rank_correlation(seed, rho):
    accounts = _base(seed, rho).accounts
    rates = [a.rate for a in accounts]
    spend = [a.spend for a in accounts]
    expected = 6.0 / math.pi * math.asin(rho / 2.0)
    assert abs(spearmanr(rates, spend).statistic - expected) < 4.0 / math.sqrt(N - 1)


def test_rates_keep_their_gamma_distribution_under_the_copula():
    """With rho != 0 the rates come from the gamma quantile: their mean stays r / alpha."""
    accounts = _base(1, 0.5).accounts
    purchase = scenario_of(compose_config(["accounts.purchase.model=bgnbd"])).accounts.purchase
    per_day = np.array([a.rate for a in accounts]) * 24.0
    mean = purchase.r / purchase.alpha_days
    se = math.sqrt(purchase.r) / purchase.alpha_days / math.sqrt(N)
    assert abs(per_day.mean() - mean) < 4 * se


def test_segment_model_leaves_every_multiplier_at_one():
    scenario = scenario_of(compose_config(["accounts.initial=50"]))
    owners = {region: [_Owner()] for region in scenario.market.regions}
    base = AccountBase(scenario, Streams(1, 0), owners, end=24.0)
    assert all(a.spend == 1.0 for a in base.accounts)
