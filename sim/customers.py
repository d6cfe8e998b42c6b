"""The customer base: accounts with an id, region, product and owner, and their repeat requests.

Initial accounts exist at clock 0; a prospect whose order is booked becomes a new account.
Repeat requests follow a Poisson process per account, or with ``accounts.purchase.model=bgnbd``
the BG/NBD process: each account its own rate and its own chance of leaving after each repeat
request (:mod:`salesboost.accounts`). Every account draws its requests from a generator of its
own (``account.<id>``, made at its first use), so request n of an account has the same draws
whatever the other accounts do. The gaps of the initial accounts' requests are drawn
column-wise (the n-th gap of every account at once, from ``accounts.repeat_gaps``) and kept
in a heap of each account's next request; a column is dropped after its last use, so the
memory of the base is its accounts, whatever the horizon.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from statistics import NormalDist
from typing import Any

import numpy as np

from salesboost.panel import NEW_ACCOUNT_TIER
from salesboost.scenario import Scenario
from salesboost.special import gamma_quantile
from sim.calendar import HOURS_PER_DAY
from sim.lead import SingleRows, categorical, share_bounds
from sim.streams import Streams

HOURS_PER_YEAR = 365.25 * HOURS_PER_DAY
_normal_cdf = NormalDist().cdf


class Account:
    """One customer account and its purchase history."""

    __slots__ = (
        "alive",
        "dropout",
        "first_order",
        "history",
        "id",
        "last_order",
        "next_gap",
        "offer",
        "opted_out",
        "orders",
        "owner",
        "personalised",
        "product",
        "rank",
        "rate",
        "region",
        "requests",
        "revenue",
        "rng",
        "segment",
        "served_until",
        "spend",
        "tags",
        "tier",
        "touch_rng",
    )

    def __init__(self, account_id: str, region: str, product: str, owner: Any) -> None:
        self.id = account_id
        self.tags: frozenset[str] = frozenset()
        self.region = region
        self.product = product
        self.owner = owner
        self.segment = "existing"
        self.orders = 0
        self.revenue = 0.0
        self.last_order = -1.0
        self.requests = 0
        self.next_gap = float("inf")  # hours from the last request to the next (an account won during the run)
        self.rate = 0.0  # its purchase rate per hour
        self.dropout = 0.0  # P(it leaves after a repeat purchase) (BG/NBD)
        self.rng: np.random.Generator | None = None  # the account's own stream (made at its first use)
        self.touch_rng: np.random.Generator | None = None  # the draws of requests that touches made
        self.alive = True  # False once it has left (BG/NBD); the simulation knows, the company does not
        self.history: list[tuple[float, float]] = []  # (clock hour, amount) of its orders in the tier window
        self.first_order = math.nan  # clock hour of its first order (before clock 0 for an initial account)
        self.tier = NEW_ACCOUNT_TIER  # its tier at the last snapshot
        self.rank = 0.0  # its monetary percentile rank at the last snapshot
        self.served_until = -math.inf  # a service touch lowers its dropout until then
        self.offer = 0.0  # discount share on its next order (a win-back offer it answered)
        self.opted_out: frozenset[str] = frozenset()  # channels it asked not to be contacted by
        self.personalised = 0  # personalised touches it has had (personalisation wears out)
        self.spend = 1.0  # multiplier of its deal sizes (accounts.spend: gamma_gamma), mean 1 over accounts

    def record_order(self, t: float, amount: float) -> None:
        """An order of ``amount`` booked at clock hour ``t``."""
        self.orders += 1
        self.revenue += amount
        self.last_order = t
        if math.isnan(self.first_order):
            self.first_order = t
        self.history.append((t, amount))


class AccountBase:
    """All accounts, and the schedule of the initial accounts' repeat requests."""

    def __init__(self, scenario: Scenario, streams: Streams, owners: dict[str, list[Any]], end: float) -> None:
        self._scenario = scenario
        self._streams = streams
        self._owners = owners
        self._next_owner = dict.fromkeys(owners, 0)
        config = scenario.accounts
        self.rate = config.repeat_per_year / HOURS_PER_YEAR
        n = config.initial
        region_bounds, region_names = share_bounds(scenario.market.regions)
        product_bounds, product_names = share_bounds({k: p.share for k, p in scenario.products.items()})
        regions = streams.generator("accounts.region").random(n).tolist()
        products = streams.generator("accounts.product").random(n).tolist()
        tags = {tag: streams.generator(f"accounts.tag.{tag}").random(n) < share for tag, share in config.tags.items()}
        self.accounts: list[Account] = []
        for i in range(n):
            region = categorical(regions[i], region_bounds, region_names)
            product = categorical(products[i], product_bounds, product_names)
            account = Account(f"A{i:05d}", region, product, self._owner(region))
            account.tags = frozenset(tag for tag, has in tags.items() if has[i])
            self.accounts.append(account)
        self.by_id = {a.id: a for a in self.accounts}
        self.initial_count = len(self.accounts)  # the accounts after these were won during the run
        self._rows = SingleRows(scenario, scenario.market.segments["existing"].deal_size)
        self._initial = n
        self._end = end
        self._purchase = config.purchase.bgnbd()
        # Each initial account's own purchase rate (per hour) and dropout probability: one value
        # per account, drawn column-wise (account i's is the i-th of its stream).
        if self._purchase is None:
            rates, dropout = [self.rate] * n, [0.0] * n
        else:
            shape, scale = self._purchase.r, 1.0 / self._purchase.alpha_days / HOURS_PER_DAY
            rates = streams.generator("accounts.purchase_rate").gamma(shape, scale, n).tolist()
            dropout = streams.generator("accounts.dropout_prob").beta(self._purchase.a, self._purchase.b, n).tolist()
        spend = config.spend
        self._spend = spend if spend.model == "gamma_gamma" else None
        multipliers = [1.0] * n
        if self._spend is not None and n:
            normals = streams.generator("accounts.spend_copula").standard_normal((2, n)).tolist()
            pairs = [self._rate_and_spend(z1, z2, rate) for z1, z2, rate in zip(*normals, rates, strict=True)]
            rates, multipliers = [p[0] for p in pairs], [p[1] for p in pairs]
        for account, rate, leave, multiplier in zip(self.accounts, rates, dropout, multipliers, strict=True):
            account.rate, account.dropout, account.spend = rate, leave, multiplier
        self._service_cut = scenario.outreach.effects.service_dropout_cut
        self.levers: Any = None  # the world's levers, once the risk desk has set them
        self.core_ids: frozenset[str] = frozenset()
        self._ledger(streams, scenario)
        self._gap_stream = streams.generator("accounts.repeat_gaps")
        self._leave_stream = streams.generator("accounts.dropout")
        self._gap_columns: dict[int, list[float]] = {}  # request number -> the gaps to it, by account
        self._leave_columns: dict[int, list[float]] = {}  # request number -> uniforms: leave after it?
        self._queued: dict[int, int] = {}  # request number -> its requests in the heap
        self._heap: list[tuple[float, int, int]] = []  # (time, account index, request number)
        if n and any(r > 0 for r in rates):
            gaps = self._gap_column(0)
            firsts = [(gaps[i] / rate if rate > 0 else math.inf, i) for i, rate in enumerate(rates)]
            self._heap = [(t, i, 0) for t, i in firsts if t < end]
            heapq.heapify(self._heap)
            self._queued[0] = len(self._heap)
        self._gap_columns.pop(0, None)

    def _ledger(self, streams: Streams, scenario: Scenario) -> None:
        """The initial accounts' orders in the tier window before clock 0, so the first snapshot has R, F and M.

        The ledger starts one tier window before clock 0. Each account has bought at its own rate
        times ``outreach.history_order_share`` (the share of requests that became orders), as a
        stationary Poisson process: the time back to its last order is exponential, and the
        orders before it in the window are Poisson, uniformly spread. Amounts are existing-account
        deal sizes times the product's price factor and the account's spend multiplier. Drawn
        column-wise from streams of their own.
        """
        n = len(self.accounts)
        if not n:
            return
        window = scenario.outreach.tier_config.window_days * HOURS_PER_DAY
        share = scenario.outreach.history_order_share
        rates = np.array([a.rate * share for a in self.accounts])
        with np.errstate(divide="ignore"):
            back = np.where(
                rates > 0, streams.generator("accounts.history_last").standard_exponential(n) / rates, np.inf
            )
        earlier = streams.generator("accounts.history_count").poisson(np.maximum(window - back, 0.0) * rates).tolist()
        times = streams.generator("accounts.history_times").uniform(0.0, 1.0, int(sum(earlier))).tolist()
        amount = streams.sampler("accounts.history_amount", scenario.market.segments["existing"].deal_size)
        used = 0
        for account, last, count in zip(self.accounts, back.tolist(), earlier, strict=True):
            if not math.isfinite(last):
                continue
            span = window - last
            before = sorted(-window + u * span for u in times[used : used + count])
            used += count
            factor = scenario.products[account.product].price_factor
            for t in [*before, -last]:
                account.record_order(t, amount() * factor * account.spend)

    def _rate_and_spend(self, z_rate: float, z_spend: float, rate: float) -> tuple[float, float]:
        """An account's purchase rate and spend multiplier from two independent normals (Gaussian copula).

        The multiplier is (q - 1) / w with w the Gamma(q, 1) quantile of 1 - u, u = Phi(rho z_rate
        + sqrt(1 - rho^2) z_spend): it rises with u, so rho > 0 makes frequent buyers spend more
        per order. With rho != 0 under BG/NBD the rate is the Gamma(r, alpha) quantile of Phi(z_rate)
        (else ``rate``, drawn as without spend heterogeneity).
        """
        spend = self._spend
        assert spend is not None
        rho = spend.correlation
        u = _normal_cdf(rho * z_rate + math.sqrt(1.0 - rho * rho) * z_spend)
        u = min(max(u, 1e-12), 1.0 - 1e-12)
        multiplier = (spend.q - 1.0) / gamma_quantile(spend.q, 1.0 - u)
        if rho != 0.0 and self._purchase is not None:
            v = min(max(_normal_cdf(z_rate), 1e-12), 1.0 - 1e-12)
            rate = gamma_quantile(self._purchase.r, v) / self._purchase.alpha_days / HOURS_PER_DAY
        return rate, multiplier

    def _owner(self, region: str) -> Any:
        reps = self._owners[region]
        i = self._next_owner[region]
        self._next_owner[region] = i + 1
        return reps[i % len(reps)]

    def _gap_column(self, request: int) -> list[float]:
        """Every initial account's unit-rate gap to request ``request`` (drawn once, in request order)."""
        column = self._gap_columns.get(request)
        if column is None:
            column = self._gap_columns[request] = self._gap_stream.standard_exponential(self._initial).tolist()
        return column

    def _column(self, columns: dict[int, list[float]], stream: np.random.Generator, request: int) -> list[float]:
        """Every initial account's uniform for request ``request`` from ``stream`` (drawn once, in order)."""
        column = columns.get(request)
        if column is None:
            column = columns[request] = stream.random(self._initial).tolist()
        return column

    def next_initial_request(self) -> tuple[float, int, int] | None:
        """The next (time, account index, request number) of the initial accounts, or None."""
        heap = self._heap
        if not heap:
            return None
        t, i, j = heapq.heappop(heap)
        account = self.accounts[i]
        stays = self._purchase is None or self._column(self._leave_columns, self._leave_stream, j)[i] >= self.dropout(
            account, t
        )
        account.alive = stays
        t_next = t + self._gap_column(j + 1)[i] / account.rate if stays else math.inf
        if t_next < self._end:
            heapq.heappush(heap, (t_next, i, j + 1))
            self._queued[j + 1] = self._queued.get(j + 1, 0) + 1
        self._queued[j] -= 1
        if self._queued[j] == 0:  # no request j left: nobody needs the gaps to request j + 1
            del self._queued[j]
            self._gap_columns.pop(j + 1, None)
            self._leave_columns.pop(j, None)
        return t, i, j

    def initial_requests(self) -> Iterator[tuple[float, int, int]]:
        """Every remaining initial request in time order (consumes them)."""
        while (item := self.next_initial_request()) is not None:
            yield item

    def request_row(self, account: Account, rng: np.random.Generator | None = None) -> tuple[float, ...]:
        """The draws of ``account``'s next request, from its own stream (or from ``rng``)."""
        return self._rows.row(self._stream(account) if rng is None else rng)

    def touch_request_row(self, account: Account) -> tuple[float, ...]:
        """The draws of a request that a touch (marketing, a rep's development call) made.

        From a stream of the account's kept apart from its own purchase process, so a variant
        that touches an account more leaves its own requests' rows, gaps and dropout alone.
        """
        if account.touch_rng is None:
            account.touch_rng = self._streams.entity(f"account.{account.id}.touched")
        return self.request_row(account, account.touch_rng)

    def _stream(self, account: Account) -> np.random.Generator:
        rng = account.rng
        if rng is None:
            rng = account.rng = self._streams.entity(f"account.{account.id}")
        return rng

    def add(self, account_id: str, region: str, product: str, owner: Any = None) -> Account:
        """A new account (a prospect whose first order was booked), owned by ``owner`` (None: the region's next rep).

        Its stream draws its tags, then the gap to each request and the request's row, in turn.
        """
        account = Account(account_id, region, product, owner if owner is not None else self._owner(region))
        rng = self._stream(account)
        tags = self._scenario.accounts.tags
        if tags:
            draws = rng.random(len(tags)).tolist()
            account.tags = frozenset(t for t, u in zip(tags, draws, strict=True) if u < tags[t])
        if self._purchase is not None:
            account.rate = float(rng.gamma(self._purchase.r, 1.0 / self._purchase.alpha_days / HOURS_PER_DAY))
            account.dropout = float(rng.beta(self._purchase.a, self._purchase.b))
        else:
            account.rate = self.rate
        if self._spend is not None:
            z_rate, z_spend = rng.standard_normal(2).tolist()
            account.rate, account.spend = self._rate_and_spend(z_rate, z_spend, account.rate)
        account.next_gap = self._gap(rng, account.rate)
        self.accounts.append(account)
        self.by_id[account_id] = account
        return account

    def new_account_request(self, account: Account, t: float) -> tuple[float, ...]:
        """The draws of a new (or revived) account's request at ``t``; sets the gap to the one after it."""
        row = self.request_row(account)
        rng = self._stream(account)
        leaves = self._purchase is not None and rng.random() < self.dropout(account, t)
        account.alive = not leaves
        account.next_gap = math.inf if leaves else self._gap(rng, account.rate)
        return row

    def dropout(self, account: Account, t: float) -> float:
        """P(``account`` leaves after a purchase at ``t``): its own, cut while a service touch lasts."""
        p = account.dropout * (1.0 - self._service_cut) if t < account.served_until else account.dropout
        levers = self.levers
        if levers is not None:  # shocks and playbooks (sim.agents.risk_desk)
            p *= levers.factor("dropout", t)
            if account.id in self.core_ids:
                p *= levers.factor("core_dropout", t)
            p = min(p, 1.0)
        return p

    def revive(self, account: Account) -> None:
        """An account that had left buys again (a win-back offer worked): from now on its own stream times it."""
        account.alive = True
        account.next_gap = self._gap(self._stream(account), account.rate)

    @staticmethod
    def _gap(rng: np.random.Generator, rate: float) -> float:
        return rng.standard_exponential() / rate if rate > 0 else math.inf
