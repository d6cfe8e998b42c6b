"""The period snapshot of the customer base: R, F and M from each account's orders, the plan's tiers, the model's view.

At the first instant of every panel period each account is classified by the tier rules
(:meth:`salesboost.tiers.TierConfig.tier_of`, the rule :func:`~salesboost.tiers.classify` applies
for the customer_tiers job), its
move from its previous tier is recorded, and the BG/NBD model's P(alive) and posterior order
rate are computed from its orders (:mod:`salesboost.clv`), as a company that fitted its ledger
would see them. The model is the accounts' purchase model with the rate scaled by
``outreach.history_order_share`` (orders, not requests, are what the ledger holds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from salesboost.accounts import BgNbdPurchase
from salesboost.clv import expected_purchases, p_alive
from salesboost.scenario import Scenario
from salesboost.tiers import monetary_rank
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.outreach_ledger import OutreachLedger


@dataclass(slots=True)
class AccountView:
    """What the company sees of one account at a snapshot."""

    account: Account
    p_alive: float  # the model's P(alive)
    rate_per_day: float  # the model's expected order rate while alive (posterior mean)
    order_profit: float  # gross profit of a typical order: its mean order amount x the product margin


class TierSnapshot:
    """Classifies every account at a period's start and books tiers, transitions and the model's view."""

    def __init__(self, scenario: Scenario, ledger: OutreachLedger) -> None:
        self._config = scenario.outreach.tier_config
        self._window = self._config.window_days * HOURS_PER_DAY
        self._ledger = ledger
        self._margins = {name: p.margin for name, p in scenario.products.items()}
        self._prices = {name: p.price_factor for name, p in scenario.products.items()}
        self._typical = scenario.market.segments["existing"].deal_size.expected
        share = scenario.outreach.history_order_share
        purchase = scenario.accounts.purchase.bgnbd()
        self.model: BgNbdPurchase | None = (
            None
            if purchase is None
            else BgNbdPurchase(r=purchase.r, alpha_days=purchase.alpha_days / share, a=purchase.a, b=purchase.b)
        )
        self._poisson_rate = scenario.accounts.repeat_per_year / 365.25 * share

    def take(
        self, accounts: list[Account], now: float, period: int, *, views: bool = True, value: bool = False
    ) -> list[AccountView]:
        """Tier every account at ``now`` (the start of ``period``) and book it.

        ``views``: return what the company sees of each account (for planning touches);
        ``value``: also book the high-value share and the mean 12-month model value.
        """
        cut = now - self._window
        recency: list[float] = []
        frequency: list[int] = []
        monetary: list[float] = []
        for account in accounts:
            history = account.history
            if history and history[0][0] < cut:
                account.history = history = [h for h in history if h[0] >= cut]
            # An account with no order at all (a zero purchase rate) counts from the ledger's start.
            last = account.last_order if not math.isnan(account.first_order) else -self._window
            recency.append(max(0.0, (now - last) / HOURS_PER_DAY))
            frequency.append(len(history))
            monetary.append(sum(amount for _, amount in history))
        ranks = monetary_rank(monetary)
        ledger, tier_of = self._ledger, self._config.tier_of
        rows: dict[str, list[float]] = {}
        out: list[AccountView] = []
        worth = 0.0
        for i, account in enumerate(accounts):
            tier = tier_of(recency[i], frequency[i], ranks[i])
            ledger.transition(period, account.tier, tier)
            account.tier, account.rank = tier, ranks[i]
            alive = self._p_alive(account, now)
            row = rows.get(tier)
            if row is None:
                row = rows[tier] = [0.0, 0.0, 0.0, 0.0]
            row[0] += 1.0
            row[1] += account.alive
            row[2] += alive
            row[3] += monetary[i]
            if views or value:
                view = self._view(account, now, alive)
                if views:
                    out.append(view)
                if value:
                    worth += self._expected_orders(account, now) * view.order_profit
        for tier, row in rows.items():
            ledger.tier_row(period, tier, tuple(row))
        if value and accounts:
            ledger.high_value_share = sum(1 for a in accounts if a.tier == "high_value") / len(accounts)
            ledger.customer_value = worth / len(accounts)
        return out

    def _p_alive(self, account: Account, now: float) -> float:
        model = self.model
        if model is None or math.isnan(account.first_order):
            return 1.0
        return p_alive(model, *self._rft(account, now))

    def _view(self, account: Account, now: float, alive: float) -> AccountView:
        history = account.history
        amount = (
            sum(a for _, a in history) / len(history)
            if history
            else self._typical * self._prices[account.product] * account.spend
        )
        profit = amount * self._margins[account.product]
        model = self.model
        if model is None or math.isnan(account.first_order):
            return AccountView(account, alive, self._poisson_rate if model is None else 0.0, profit)
        x, _t_x, age = self._rft(account, now)
        return AccountView(account, alive, (model.r + x) / (model.alpha_days + age), profit)

    def _expected_orders(self, account: Account, now: float) -> float:
        model = self.model
        if model is None:
            return self._poisson_rate * 365.0
        if math.isnan(account.first_order):
            return 0.0
        x, t_x, age = self._rft(account, now)
        return expected_purchases(model, x, t_x, age, 365.0)

    @staticmethod
    def _rft(account: Account, now: float) -> tuple[int, float, float]:
        """BG/NBD's (x, t_x, T) in days: repeat orders, the last one's and the present's time since the first."""
        first = account.first_order
        return account.orders - 1, (account.last_order - first) / HOURS_PER_DAY, (now - first) / HOURS_PER_DAY
