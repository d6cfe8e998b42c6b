"""The customer base: accounts with an id, region, product and owner, and their repeat requests.

Initial accounts exist at clock 0; a prospect whose order is booked becomes a new account.
Repeat requests follow a Poisson process per account (the customer model replaces this seam
with latent purchase dynamics). Request j of initial account i always has the same time and
the same draws: gaps and rows are drawn column-wise (the j-th of every account at once), so
they do not depend on how many requests other accounts send.
"""

from __future__ import annotations

from typing import Any

from salesboost.scenario import Scenario
from sim.lead import RowSource, SingleRows, categorical, share_bounds
from sim.streams import Streams

HOURS_PER_YEAR = 365.25 * 24.0


class Account:
    """One customer account and its purchase history."""

    __slots__ = (
        "id",
        "last_order",
        "orders",
        "owner",
        "product",
        "region",
        "requests",
        "revenue",
        "rows",
        "segment",
        "tags",
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
        self.rows: SingleRows | None = None  # draws of an account won during the run


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
        self._initial = n
        self.schedule = self._initial_requests(end)
        self._rows: dict[int, list[tuple[float, ...]]] = {}
        # Requests still to come per request number: a number's rows are freed after its last,
        # so memory stays flat in the horizon.
        self._pending: dict[int, int] = {}
        for _, _, request in self.schedule:
            self._pending[request] = self._pending.get(request, 0) + 1

    def _owner(self, region: str) -> Any:
        reps = self._owners[region]
        i = self._next_owner[region]
        self._next_owner[region] = i + 1
        return reps[i % len(reps)]

    def _initial_requests(self, end: float) -> list[tuple[float, int, int]]:
        """(time, account index, request number) of every initial account's requests before ``end``."""
        n = len(self.accounts)
        if n == 0 or self.rate <= 0:
            return []
        gaps = self._streams.generator("accounts.repeat_gaps")
        times = [0.0] * n
        schedule: list[tuple[float, int, int]] = []
        j = 0
        alive = n
        while alive:
            column = gaps.standard_exponential(n).tolist()
            alive = 0
            for i in range(n):
                t = times[i]
                if t < end:
                    t = times[i] = t + column[i] / self.rate
                    if t < end:
                        schedule.append((t, i, j))
                        alive += 1
            j += 1
        schedule.sort()
        return schedule

    def initial_row(self, index: int, request: int) -> tuple[float, ...]:
        """The draws of request ``request`` of initial account ``index``."""
        rows = self._rows.get(request)
        if rows is None:
            deal = self._scenario.market.segments["existing"].deal_size
            source = RowSource(self._scenario, self._streams, f"accounts.request{request}", deal)
            rows = self._rows[request] = source.rows(self._initial)
        row = rows[index]
        left = self._pending[request] = self._pending[request] - 1
        if left == 0:
            del self._rows[request]
        return row

    def add(self, account_id: str, region: str, product: str) -> Account:
        """A new account (a prospect whose first order was booked), with its own streams."""
        account = Account(account_id, region, product, self._owner(region))
        rng = self._streams.generator(f"account.{account_id}")
        tags = self._scenario.accounts.tags
        account.tags = frozenset(t for t, u in zip(tags, rng.random(len(tags)).tolist(), strict=True) if u < tags[t])
        account.rows = SingleRows(self._scenario, rng, self._scenario.market.segments["existing"].deal_size)
        self.accounts.append(account)
        self.by_id[account_id] = account
        return account

    def next_request_gap(self, account: Account) -> float:
        """Hours to a new account's next request (from its own stream)."""
        rng = self._streams.generator(f"account.{account.id}.gaps")
        return float(rng.standard_exponential()) / self.rate if self.rate > 0 else float("inf")
