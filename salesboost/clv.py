"""What the BG/NBD model says of one account from its order history: P(alive) and expected purchases.

Scalar, pure-Python forms of Fader, Hardie and Lee (2005) for the simulation, which asks them of
every account each period (``analysis.btyd`` holds the vectorised forms used to fit a ledger;
the tests check the two agree). Times in days: ``x`` repeat purchases, the last at ``t_x`` days
after the first, observed for ``T`` days since the first.
"""

from __future__ import annotations

import math

from salesboost.accounts import BgNbdPurchase


def p_alive(model: BgNbdPurchase, x: int, t_x: float, T: float) -> float:  # noqa: N803
    """P(alive at T | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    if x <= 0:
        return 1.0
    r, alpha, a, b = model.r, model.alpha_days, model.a, model.b
    log_odds = math.log(a / (b + x - 1)) + (r + x) * (math.log(alpha + T) - math.log(alpha + t_x))
    if log_odds > 700:
        return 0.0
    return 1.0 / (1.0 + math.exp(log_odds))


def hyp2f1(a: float, b: float, c: float, z: float, *, tol: float = 1e-12, max_terms: int = 100_000) -> float:
    """Gauss's hypergeometric series 2F1(a, b; c; z) for 0 <= z < 1 (written here: scipy stays out of the sim)."""
    if not 0.0 <= z < 1.0:
        raise ValueError(f"z: the series needs 0 <= z < 1, got {z!r}")
    term = total = 1.0
    for k in range(max_terms):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        if abs(term) < tol * abs(total):
            return total
    raise ArithmeticError(f"2F1({a}, {b}; {c}; {z}) did not converge in {max_terms} terms")


def expected_purchases(model: BgNbdPurchase, x: int, t_x: float, T: float, t: float) -> float:  # noqa: N803
    """E[purchases in the next ``t`` days | x, t_x, T] (FHL 2005 eq. 10); needs a != 1."""
    r, alpha, a, b = model.r, model.alpha_days, model.a, model.b
    if a == 1.0:
        raise ValueError("a: the conditional expectation needs a != 1")
    head = (a + b + x - 1) / (a - 1)
    shrink = math.exp((r + x) * (math.log(alpha + T) - math.log(alpha + T + t)))
    series = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    return head * (1.0 - shrink * series) * p_alive(model, x, t_x, T)
