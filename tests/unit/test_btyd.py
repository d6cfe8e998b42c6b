"""BG/NBD and gamma-gamma (analysis.btyd) against direct integration, simulation, a published value and real data.

Time is in days. Simulation checks allow 4 standard errors of the simulated mean per seed (a
false alarm about 1 in 16,000 per check); recovery checks allow 3 standard errors of the fit, as
the brief asks. Seeds are fixed, so every run gives the same verdict.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from analysis.btyd import (
    BgNbdFit,
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    conditional_expected_purchases,
    conditional_expected_spend,
    customer_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_purchase_times,
    spend_frequency_correlation,
    summary,
)

#: B2B-like purchase dynamics (the brief): mean rate r / alpha = 1 purchase per 75 days, dropout mean 0.15.
B2B = BgNbdParams(r=0.8, alpha=60.0, a=0.9, b=5.0)
#: CDNOW (Fader, Hardie & Lee 2005, weekly units) with alpha converted to days; a < 1 exercises the
#: analytic continuation of the closed form.
CDNOW_WEEKS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
#: Spend parameters of the Fader & Hardie (2013) note on CDNOW.
SPEND = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
SEEDS = (11, 22, 33)
Z_SIM = 4.0
Z_FIT = 3.0
GROCERY = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "transactions" / "grocery_elog.csv"


# --- the likelihood and closed forms against direct integration ------------------------------------


def _quad(f: Callable[[float], float], lo: float, hi: float, split: float | None = None) -> float:
    """Quadrature to a relative 1e-11: likelihoods are far below quad's default absolute tolerance."""
    parts = [(lo, hi)] if split is None else [(lo, split), (split, hi)]
    return sum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-11, limit=400)[0] for a, b in parts)


def _direct_likelihood(prm: BgNbdParams, x: int, t_x: float, t_end: float) -> float:
    """FHL 2005 eq. 3 integrated over lambda ~ Gamma(r, alpha) and p ~ Beta(a, b) by quadrature."""
    lam = stats.gamma(prm.r, scale=1 / prm.alpha)
    drop = stats.beta(prm.a, prm.b)

    def over_lambda(t: float) -> float:
        return _quad(lambda v: v**x * math.exp(-v * t) * lam.pdf(v), 0, np.inf, split=(prm.r + x) / (prm.alpha + t))

    def over_p(power: int, factor: int) -> float:
        return _quad(lambda p: p**factor * (1 - p) ** power * drop.pdf(p), 0, 1)

    value = over_p(x, 0) * over_lambda(t_end)
    if x > 0:
        value += over_p(x - 1, 1) * over_lambda(t_x)
    return value


HAND_CASES = [(0, 0.0, 30.0), (0, 0.0, 400.0), (1, 12.0, 30.0), (4, 150.0, 200.0), (9, 300.0, 365.0)]


@pytest.mark.parametrize("prm", [B2B, CDNOW], ids=["b2b", "cdnow"])
@pytest.mark.parametrize(("x", "t_x", "t_end"), HAND_CASES)
def test_theory_log_likelihood_matches_direct_integration(prm: BgNbdParams, x: int, t_x: float, t_end: float) -> None:
    closed = bgnbd_log_likelihood(prm, [x], [t_x], [t_end])
    assert closed == pytest.approx(math.log(_direct_likelihood(prm, x, t_x, t_end)), rel=1e-6, abs=1e-8)


def test_log_likelihood_sums_over_customers() -> None:
    x, t_x, t_end = (np.array(c, dtype=float) for c in zip(*HAND_CASES, strict=True))
    each = [bgnbd_log_likelihood(B2B, [a], [b], [c]) for a, b, c in HAND_CASES]
    assert bgnbd_log_likelihood(B2B, x, t_x, t_end) == pytest.approx(sum(each), rel=1e-12)


def _alive_purchases_quadrature(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E over p ~ Beta(a, b), lambda ~ Gamma(r, alpha) of (1 - exp(-lambda p t)) / p."""
    beta = stats.beta(a, b)

    def integrand(p: float) -> float:
        return -math.expm1(r * (math.log(alpha) - math.log(alpha + p * t))) / p * beta.pdf(p)

    return _quad(integrand, 0, 1)


@pytest.mark.parametrize("prm", [B2B, CDNOW], ids=["b2b", "cdnow"])
@pytest.mark.parametrize("t", [30.0, 365.0, 730.0, 3650.0])
def test_theory_expected_purchases_matches_quadrature(prm: BgNbdParams, t: float) -> None:
    direct = _alive_purchases_quadrature(prm.r, prm.alpha, prm.a, prm.b, t)
    assert expected_purchases(prm, t) == pytest.approx(direct, rel=1e-7)


@pytest.mark.parametrize(
    ("x", "t_x", "t_end"), [(0, 0.0, 100.0), (2, 50.0, 300.0), (20, 350.0, 365.0), (60, 700.0, 730.0)]
)
def test_theory_conditional_expectation_matches_quadrature(x: int, t_x: float, t_end: float) -> None:
    # Given alive, p ~ Beta(a, b + x) and lambda ~ Gamma(r + x, alpha + T): the posterior of eq. 10.
    t = 365.0
    alive = p_alive(B2B, x, t_x, t_end)[0]
    direct = alive * _alive_purchases_quadrature(B2B.r + x, B2B.alpha + t_end, B2B.a, B2B.b + x, t)
    assert conditional_expected_purchases(B2B, x, t_x, t_end, t)[0] == pytest.approx(direct, rel=1e-7)


def test_reference_cdnow_conditional_expectation_matches_hardie_spreadsheet() -> None:
    # CDNOW customer 1 (x = 2, t_x = 30.43, T = 38.86 weeks): 1.226 repeat purchases in the next 39
    # weeks (Fader, Hardie & Lee 2005, BG/NBD Excel note; reproduced in lifetimes' tests).
    weeks = conditional_expected_purchases(CDNOW_WEEKS, 2, 30.43, 38.86, 39.0)[0]
    days = conditional_expected_purchases(CDNOW, 2, 30.43 * 7, 38.86 * 7, 39.0 * 7)[0]
    assert weeks == pytest.approx(1.226, abs=5e-4)
    assert days == pytest.approx(weeks, rel=1e-10)
    assert p_alive(CDNOW, 2, 30.43 * 7, 38.86 * 7)[0] == pytest.approx(p_alive(CDNOW_WEEKS, 2, 30.43, 38.86)[0])


# --- closed forms against simulation -------------------------------------------------------------


@pytest.mark.parametrize("prm", [B2B, CDNOW], ids=["b2b", "cdnow"])
@pytest.mark.parametrize("t", [365.0, 730.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_theory_expected_purchases_matches_simulation(prm: BgNbdParams, t: float, seed: int) -> None:
    x, t_x = simulate_bgnbd(prm, 40_000, t, np.random.default_rng(seed))
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - expected_purchases(prm, t)) < Z_SIM * se
    assert np.all((t_x >= 0) & (t_x <= t))
    assert np.all(t_x[x == 0] == 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_theory_purchase_times_match_expected_purchases(seed: int) -> None:
    times = simulate_purchase_times(B2B, 8_000, 730.0, np.random.default_rng(seed))
    counts = np.array([len(ts) for ts in times], dtype=float)
    at_year = np.array([np.sum(ts <= 365.0) for ts in times], dtype=float)
    for horizon, n in ((730.0, counts), (365.0, at_year)):
        se = n.std(ddof=1) / math.sqrt(n.size)
        assert abs(n.mean() - expected_purchases(B2B, horizon)) < Z_SIM * se
    assert all(np.all(np.diff(ts) >= 0) and np.all((ts > 0) & (ts <= 730.0)) for ts in times)


@pytest.mark.parametrize("seed", SEEDS)
def test_theory_conditional_expectation_matches_simulated_holdout(seed: int) -> None:
    calibration, holdout = 365.0, 365.0
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, 180.0, 20_000)  # a cohort: first purchases spread over half a year
    t_end = calibration - start
    times = simulate_purchase_times(B2B, start.size, t_end + holdout, rng)
    x = np.array([np.sum(ts <= t) for ts, t in zip(times, t_end, strict=True)], dtype=float)
    t_x = np.array([ts[ts <= t].max(initial=0.0) for ts, t in zip(times, t_end, strict=True)])
    actual = np.array([np.sum(ts > t) for ts, t in zip(times, t_end, strict=True)], dtype=float)
    predicted = conditional_expected_purchases(B2B, x, t_x, t_end, holdout)
    for lo, hi in ((0, 0), (1, 2), (3, 5), (6, np.inf)):
        group = (x >= lo) & (x <= hi)
        gap = actual[group] - predicted[group]
        assert group.sum() > 500
        assert abs(gap.mean()) < Z_SIM * gap.std(ddof=1) / math.sqrt(group.sum()), (lo, hi)


# --- recovery ------------------------------------------------------------------------------------


@functools.cache
def _recovery_fit(seed: int) -> tuple[np.ndarray, np.ndarray, BgNbdFit]:
    """3,000 B2B customers observed 730 days, and their fit (shared by the recovery and SE tests)."""
    x, t_x = simulate_bgnbd(B2B, 3_000, 730.0, np.random.default_rng(seed))
    return x, t_x, fit_bgnbd(x, t_x, 730.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_theory_bgnbd_recovers_known_parameters(seed: int) -> None:
    x, t_x, fit = _recovery_fit(seed)
    assert fit.converged
    assert fit.n_customers == 3_000
    for name, true in B2B.to_dict().items():
        estimate, se = getattr(fit.params, name), fit.standard_errors[name]
        assert 0 < se < estimate
        assert abs(estimate - true) < Z_FIT * se, (name, estimate, se)
    assert fit.log_likelihood >= bgnbd_log_likelihood(B2B, x, t_x, 730.0)


def _standard_errors_by_central_differences(loglik: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    """sqrt(diag(inverse of -Hessian)) by plain central differences with relative steps (independent of the fit)."""
    step = 1e-3 * at
    m = at.size
    hess = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            ei, ej = np.eye(m)[i] * step[i], np.eye(m)[j] * step[j]
            hess[i, j] = (loglik(at + ei + ej) - loglik(at + ei - ej) - loglik(at - ei + ej) + loglik(at - ei - ej)) / (
                4 * step[i] * step[j]
            )
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


def test_bgnbd_standard_errors_match_central_differences() -> None:
    x, t_x, fit = _recovery_fit(SEEDS[0])
    at = np.array(list(fit.params.to_dict().values()))
    expected = _standard_errors_by_central_differences(
        lambda v: bgnbd_log_likelihood(BgNbdParams(*v), x, t_x, 730.0), at
    )
    assert list(fit.standard_errors.values()) == pytest.approx(expected, rel=0.01)


def test_bgnbd_fit_without_interior_optimum_is_not_converged() -> None:
    # One repeat purchase among 51 customers: the likelihood keeps rising towards a bound.
    x, t_x = np.r_[np.zeros(50), 1.0], np.r_[np.zeros(50), 3.0]
    fit = fit_bgnbd(x, t_x, 100.0)
    assert not fit.converged


def test_bgnbd_fit_to_dict_is_json_ready() -> None:
    x, t_x = simulate_bgnbd(B2B, 500, 730.0, np.random.default_rng(5))
    out = json.loads(json.dumps(fit_bgnbd(x, t_x, 730.0).to_dict()))
    assert out["units"] == "days"
    assert out["n_customers"] == 500
    assert set(out["params"]) == set(out["standard_errors"]) == {"r", "alpha", "a", "b"}
    assert isinstance(out["log_likelihood"], float)
    assert isinstance(out["converged"], bool)


def _simulate_spend(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, mean spend and each customer's true mean transaction value p / nu."""
    rng = np.random.default_rng(seed)
    frequency = rng.poisson(3.0, n).astype(float)
    nu = rng.gamma(SPEND.q, 1 / SPEND.gamma, n)
    total = rng.gamma(np.where(frequency > 0, SPEND.p * frequency, 1.0), 1 / nu)
    mean_spend = np.where(frequency > 0, total / np.maximum(frequency, 1), 0.0)
    return frequency, mean_spend, SPEND.p / nu


@pytest.mark.parametrize("seed", SEEDS)
def test_theory_gamma_gamma_recovers_known_parameters(seed: int) -> None:
    frequency, mean_spend, _ = _simulate_spend(seed, 3_000)
    fit = fit_gamma_gamma(frequency, mean_spend)
    assert fit.converged
    assert fit.n_customers == int(np.sum(frequency >= 1))
    for name, true in SPEND.to_dict().items():
        estimate, se = getattr(fit.params, name), fit.standard_errors[name]
        assert abs(estimate - true) < Z_FIT * se, (name, estimate, se)
    assert fit.log_likelihood >= gamma_gamma_log_likelihood(SPEND, frequency, mean_spend)
    assert json.loads(json.dumps(fit.to_dict()))["params"].keys() == {"p", "q", "gamma"}


@pytest.mark.parametrize(("frequency", "mean_spend"), [(1, 20.0), (3, 35.0), (12, 80.0)])
def test_theory_gamma_gamma_likelihood_matches_direct_integration(frequency: int, mean_spend: float) -> None:
    # The mean of x values Gamma(p, rate nu) is Gamma(p x, rate nu x); integrate nu ~ Gamma(q, rate gamma).
    def integrand(nu: float) -> float:
        mean_density = stats.gamma.pdf(mean_spend, SPEND.p * frequency, scale=1 / (nu * frequency))
        return mean_density * stats.gamma.pdf(nu, SPEND.q, scale=1 / SPEND.gamma)

    direct = _quad(integrand, 0, np.inf, split=(SPEND.q + SPEND.p * frequency) / (SPEND.gamma + mean_spend * frequency))
    closed = gamma_gamma_log_likelihood(SPEND, [frequency], [mean_spend])
    assert closed == pytest.approx(math.log(direct), rel=1e-7)


def test_gamma_gamma_standard_errors_match_central_differences() -> None:
    frequency, mean_spend, _ = _simulate_spend(SEEDS[0], 3_000)
    fit = fit_gamma_gamma(frequency, mean_spend)
    at = np.array(list(fit.params.to_dict().values()))
    expected = _standard_errors_by_central_differences(
        lambda v: gamma_gamma_log_likelihood(GammaGammaParams(*v), frequency, mean_spend), at
    )
    assert list(fit.standard_errors.values()) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("seed", SEEDS)
def test_theory_conditional_spend_is_calibrated(seed: int) -> None:
    # A posterior mean is calibrated: within any band of predictions, the true values average to it.
    frequency, mean_spend, true_value = _simulate_spend(seed, 40_000)
    predicted = conditional_expected_spend(SPEND, frequency, mean_spend)
    edges = np.quantile(predicted, [0, 0.2, 0.4, 0.6, 0.8, 1])
    band = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, 4)
    for k in range(5):
        gap = true_value[band == k] - predicted[band == k]
        assert abs(gap.mean()) < Z_SIM * gap.std(ddof=1) / math.sqrt(gap.size), k


def test_conditional_spend_weights_population_and_own_mean() -> None:
    population = SPEND.p * SPEND.gamma / (SPEND.q - 1)
    assert SPEND.mean_spend == pytest.approx(population)
    assert conditional_expected_spend(SPEND, [0], [0.0])[0] == pytest.approx(population)
    values = conditional_expected_spend(SPEND, [1, 10, 1000], [100.0, 100.0, 100.0])
    assert population < values[0] < values[1] < values[2] < 100.0
    assert values[2] == pytest.approx(100.0, rel=1e-3)


def test_simulated_spend_matches_mean_and_is_independent_of_frequency() -> None:
    rng = np.random.default_rng(7)
    frequency = rng.integers(1, 10, 40_000).astype(float)
    mean_spend = simulate_gamma_gamma(SPEND, frequency, rng)
    single = simulate_gamma_gamma(SPEND, np.ones(40_000), rng)
    # p / nu has mean p * gamma / (q - 1) and variance from nu ~ Gamma(q = 3.74): the SE is about 1%.
    assert single.mean() == pytest.approx(SPEND.mean_spend, rel=0.04)
    assert abs(spend_frequency_correlation(frequency, mean_spend)) < Z_SIM / math.sqrt(frequency.size)
    assert np.isnan(simulate_gamma_gamma(SPEND, [0.0], rng)[0])


# --- P(alive), value, summary ---------------------------------------------------------------------


def test_p_alive_properties() -> None:
    assert np.all(p_alive(B2B, [0, 0], [0.0, 0.0], [10.0, 1000.0]) == 1.0)
    gaps = np.linspace(0.0, 700.0, 50)
    for x in (1, 3, 10, 40):
        # Fixed t_x, growing T; and fixed T, earlier t_x: both lengthen the silence T - t_x.
        by_end = p_alive(B2B, np.full(gaps.size, x), np.full(gaps.size, 30.0), 30.0 + gaps)
        by_t_x = p_alive(B2B, np.full(gaps.size, x), 730.0 - gaps, np.full(gaps.size, 730.0))
        for values in (by_end, by_t_x):
            assert np.all((values > 0) & (values <= 1))
            assert np.all(np.diff(values) < 0)
    # The silence means more for a frequent buyer (FHL 2005, iso-value curves).
    assert p_alive(B2B, 20, 200.0, 730.0)[0] < p_alive(B2B, 2, 200.0, 730.0)[0]


def test_p_alive_matches_direct_integration() -> None:
    for x, t_x, t_end in HAND_CASES[2:]:
        lam = stats.gamma(B2B.r, scale=1 / B2B.alpha)
        drop = stats.beta(B2B.a, B2B.b)
        survive = _quad(lambda p, x=x, drop=drop: (1 - p) ** x * drop.pdf(p), 0, 1)
        rate = (B2B.r + x) / (B2B.alpha + t_end)
        alive = survive * _quad(
            lambda v, x=x, t_end=t_end, lam=lam: v**x * math.exp(-v * t_end) * lam.pdf(v), 0, np.inf, split=rate
        )
        assert p_alive(B2B, x, t_x, t_end)[0] == pytest.approx(alive / _direct_likelihood(B2B, x, t_x, t_end), rel=1e-6)


def test_customer_value_is_purchases_times_spend() -> None:
    x, t_x, t_end = [0, 3, 8], [0.0, 100.0, 600.0], [365.0, 365.0, 700.0]
    purchases = conditional_expected_purchases(B2B, x, t_x, t_end, 365.0)
    spend = np.array([10.0, 20.0, 30.0])
    assert customer_value(B2B, x, t_x, t_end, horizon_days=365.0, spend=spend) == pytest.approx(purchases * spend)
    assert customer_value(B2B, x, t_x, t_end, horizon_days=365.0, spend=5.0) == pytest.approx(purchases * 5.0)
    assert np.all(np.isnan(customer_value(B2B, x, t_x, t_end, horizon_days=365.0, spend=None)))
    with pytest.raises(ValueError, match=r"^spend: must be one value or one per customer \(3\)"):
        customer_value(B2B, x, t_x, t_end, horizon_days=365.0, spend=[1.0, 2.0])


def test_summary_on_hand_case() -> None:
    out = summary([0, 2, 4, 0], [0.0, 10.0, 30.0, 0.0], 40.0)
    assert out == {"n": 4, "mean_x": 1.5, "share_x0": 0.5, "mean_t_x_days": 10.0, "mean_T_days": 40.0}


# --- input validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "t_x", "t_end", "message"),
    [
        ([], [], [], r"^x: must be a non-empty 1-d array"),
        ([1, -1], [5.0, 0.0], [10.0, 10.0], r"^x\[1\]: must be a whole number >= 0, got -1"),
        ([1.5], [5.0], [10.0], r"^x\[0\]: must be a whole number >= 0, got 1\.5"),
        ([1], [-2.0], [10.0], r"^t_x\[0\]: must be finite and >= 0 days"),
        ([1], [5.0], [float("nan")], r"^T\[0\]: must be finite and >= 0 days"),
        ([0, 2], [0.0, 12.0], [20.0, 10.0], r"^t_x\[1\]: must be <= T, got 12 \(x=2, t_x=12, T=10\)"),
        ([0], [3.0], [10.0], r"^t_x\[0\]: must be 0 when x = 0, got 3"),
        ([1, 2], [1.0], [10.0], r"^t_x: must have the shape of x"),
        ([1, 2], [1.0, 2.0], [10.0, 10.0, 10.0], r"^T: must be one value or have the shape of x"),
    ],
)
def test_bad_customers_give_one_line_errors(x: list, t_x: list, t_end: list, message: str) -> None:
    for call in (fit_bgnbd, lambda *a: bgnbd_log_likelihood(B2B, *a), lambda *a: p_alive(B2B, *a)):
        with pytest.raises(ValueError, match=message) as info:
            call(x, t_x, t_end)
        assert "\n" not in str(info.value)


def test_bad_parameters_and_spend_give_one_line_errors() -> None:
    cases = [
        (lambda: BgNbdParams(r=0.0, alpha=1.0, a=1.0, b=1.0), r"^BgNbdParams\.r: must be a finite number > 0"),
        (lambda: BgNbdParams(r=1.0, alpha=math.inf, a=1.0, b=1.0), r"^BgNbdParams\.alpha: must be a finite"),
        (lambda: GammaGammaParams(p=1.0, q=-1.0, gamma=1.0), r"^GammaGammaParams\.q: must be a finite number > 0"),
        (lambda: expected_purchases(BgNbdParams(1.0, 1.0, 1.0, 2.0), 10.0), r"^BgNbdParams\.a: .*singular at a = 1"),
        (lambda: expected_purchases(B2B, -1.0), r"^t: must be finite and >= 0 days"),
        (lambda: fit_bgnbd([0, 0], [0.0, 0.0], 5.0), r"^x: no customer has a repeat purchase"),
        (lambda: fit_gamma_gamma([0, 0], [0.0, 0.0]), r"^frequency: no customer with frequency >= 1"),
        (lambda: fit_gamma_gamma([1, 2.5], [3.0, 4.0]), r"^frequency\[1\]: must be a whole number >= 0"),
        (lambda: fit_gamma_gamma([1, 2], [3.0, -4.0]), r"^mean_spend\[1\]: must be finite and >= 0"),
        (lambda: fit_gamma_gamma([1, 2], [3.0]), r"^mean_spend: must have the shape of frequency"),
        (lambda: conditional_expected_spend(GammaGammaParams(1.0, 0.5, 1.0), [1], [2.0]), r"^GammaGammaParams\.q"),
        (lambda: simulate_bgnbd(B2B, 0, 10.0, np.random.default_rng(0)), r"^n: must be a whole number >= 1"),
        (lambda: simulate_bgnbd(B2B, 3, [1.0, 2.0], np.random.default_rng(0)), r"^T: must be one value or 3 values"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


# --- real data: grocery_elog (Platzer & Reutterer 2016; BTYDplus groceryElog) -----------------------


@pytest.fixture(scope="module")
def grocery() -> tuple[np.ndarray, ...]:
    """(x, t_x, T) with calibration from each first purchase to 2006-12-31, and 2007 purchases."""
    if not GROCERY.exists():
        pytest.skip(f"real data not found: {GROCERY}")
    with GROCERY.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    cust = np.array([row["cust"] for row in rows])
    day = np.array([row["date"] for row in rows], dtype="datetime64[D]")
    end, holdout_end = np.datetime64("2006-12-31"), np.datetime64("2007-12-31")
    order = np.lexsort((day, cust))
    cust, day = cust[order], day[order]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    x, t_x, t_end, later = [], [], [], []
    for lo, hi in zip(starts, np.r_[starts[1:], cust.size], strict=True):
        days = np.unique(day[lo:hi])  # one purchase per customer and day
        calibration = days[days <= end]
        assert calibration.size >= 1  # every first purchase is in Q1 2006
        x.append(calibration.size - 1)
        t_x.append((calibration[-1] - days[0]).astype(int))
        t_end.append((end - days[0]).astype(int))
        later.append(np.sum((days > end) & (days <= holdout_end)))
    return tuple(np.asarray(v, dtype=float) for v in (x, t_x, t_end, later))


@pytest.fixture(scope="module")
def grocery_fit(grocery: tuple[np.ndarray, ...]) -> BgNbdFit:
    """The BG/NBD fit on grocery_elog's calibration period (fitted once for the module)."""
    x, t_x, t_end, _ = grocery
    return fit_bgnbd(x, t_x, t_end)


def test_grocery_fit_converges_to_positive_finite_parameters(
    grocery: tuple[np.ndarray, ...], grocery_fit: BgNbdFit
) -> None:
    x, _, t_end, _ = grocery
    assert x.size == 1525
    assert t_end.min() >= 365 - 90
    fit = grocery_fit
    assert fit.converged
    for name, value in fit.params.to_dict().items():
        assert math.isfinite(value), name
        assert value > 0, name
        assert 0 < fit.standard_errors[name] < value, name
    assert math.isfinite(fit.log_likelihood)


def test_regression_grocery_bgnbd(grocery: tuple[np.ndarray, ...], grocery_fit: BgNbdFit) -> None:
    # Pinned fit on grocery_elog, calibration to 2006-12-31 (days); the optimiser's tolerance is far below 1e-4.
    x, t_x, t_end, later = grocery
    fit = grocery_fit
    expected = {"r": 0.348646, "alpha": 18.0717, "a": 0.503851, "b": 3.64444}
    assert fit.params.to_dict() == pytest.approx(expected, rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-26673.3399, abs=1e-3)
    predicted = conditional_expected_purchases(fit.params, x, t_x, t_end, 365.0)
    assert predicted.sum() == pytest.approx(4005.97, rel=1e-4)
    assert later.sum() == 3389
