"""sim.tiering.TierSnapshot on hand-built accounts: the plan's R/F/M boundaries, the 365-day window, the ledger rows.

Every account's orders are laid out so that its recency R (days from its last order to the snapshot),
its frequency F (orders in the trailing 365 days) and its spend rank M are known exactly. Spends are
distinct, so with n accounts the ranks are 0, 1/n, ..., (n - 1)/n (salesboost.tiers.monetary_rank):
rank index i is the account with the i-th smallest spend.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from experiments.compose import compose_config, scenario_of
from salesboost.scenario import Scenario
from salesboost.tiers import classify, monetary_rank
from sim.customers import Account
from sim.outreach_ledger import OutreachLedger
from sim.tiering import TierSnapshot

DAY = 24.0
NOW = 400 * DAY  # the first snapshot's clock hour (orders up to a year before it are at positive hours)
NEXT = NOW + 31 * DAY  # the second snapshot's


@cache
def _scenario() -> Scenario:
    return scenario_of(compose_config([]))


def _ledger() -> OutreachLedger:
    """Two monthly periods; the window covers both."""
    bounds = [(0.0, NOW + DAY), (NOW + DAY, NEXT + DAY)]
    return OutreachLedger(["2024-01", "2024-02"], ["2024-01-01", "2024-02-01"], bounds, (0.0, NEXT + DAY))


def _account(i: int, recency_days: float, frequency: int, spend: float, *, now: float = NOW) -> Account:
    """An account with ``frequency`` orders of equal amounts summing to ``spend``, the last ``recency_days`` ago.

    The orders before the last are one day apart, so every one lies well inside the window.
    """
    account = Account(f"T{i:03d}", "north", "A", None)
    last = now - recency_days * DAY
    for k in range(frequency - 1, -1, -1):
        account.record_order(last - k * DAY, spend / frequency)
    return account


# (rank index, R days, F, expected tier, expected gap) for 20 accounts: spend (i + 1) x 10, rank i / 20.
# Top 20% is rank >= 0.8 (i >= 16), bottom 20% rank < 0.2 (i < 4), the middle 4 <= i < 16.
BOUNDARIES = [
    (0, 180, 1, "low_value", None),  # R >= 180, F <= 1, bottom: low_value before dormant (precedence)
    (1, 179, 1, "dormant", None),  # one day short of low_value's recency: dormant takes it
    (2, 200, 2, "dormant", None),  # F = 2 is not yearly: not low_value
    (3, 180, 1, "low_value", None),  # rank 0.15 < 0.2
    (4, 180, 1, "dormant", None),  # rank 0.2 is not bottom 20%: dormant
    (5, 90, 2, "dormant", None),  # R = 90, F = 2: dormant's bounds are inclusive
    (6, 89, 2, "maintain", "a_recency_between"),  # R = 89: short of dormant
    (7, 90, 3, "maintain", "e_lapsed_frequent"),  # F = 3 > 2: not dormant
    (8, 60, 4, "potential", None),  # R = 60, F = 4, middle
    (9, 61, 4, "maintain", "a_recency_between"),  # R = 61: past potential's recency
    (10, 60, 3, "maintain", "b_recent_infrequent"),  # F = 3 < 4
    (11, 0, 4, "potential", None),  # an order this instant: R = 0
    (12, 45, 20, "potential", None),
    (13, 30, 12, "potential", None),  # high value's R and F, but middle spend
    (14, 30, 12, "potential", None),
    (15, 30, 12, "potential", None),  # rank 0.75 < 0.8: still the middle
    (16, 30, 12, "high_value", None),  # rank 0.8: top 20%; R = 30 inclusive
    (17, 31, 12, "maintain", "c_recent_top_spend"),  # R = 31: not high value, and top spend is not potential
    (18, 30, 11, "maintain", "c_recent_top_spend"),  # F = 11 < 12
    (19, 30, 40, "high_value", None),
]


def _boundary_accounts() -> list[Account]:
    return [_account(i, r, f, (i + 1) * 10.0) for i, r, f, _, _ in BOUNDARIES]


def test_the_scenario_uses_the_plan_rules():
    """Premise of the cases below: the default scenario's tiers are the plan's, with a 365-day window."""
    config = _scenario().outreach.tier_config
    assert config.window_days == 365
    assert config.precedence == ("high_value", "potential", "low_value", "dormant")
    assert config.residual == "maintain"


def test_snapshot_tiers_at_the_plan_boundaries():
    """Each account gets the tier of the table at its R, F and M boundary; ranks are i / 20."""
    accounts = _boundary_accounts()
    TierSnapshot(_scenario(), _ledger()).take(accounts, NOW, 0)
    got = {a.id: a.tier for a in accounts}
    expected = {f"T{i:03d}": tier for i, _, _, tier, _ in BOUNDARIES}
    assert got == expected
    assert [a.rank for a in accounts] == pytest.approx([i / 20 for i in range(20)], abs=1e-12)


def test_residual_accounts_fall_in_the_expected_gap():
    """The accounts' R, F and rank are as laid out, and the maintain ones fall in the gap the plan names."""
    accounts = _boundary_accounts()
    TierSnapshot(_scenario(), _ledger()).take(accounts, NOW, 0)
    config = _scenario().outreach.tier_config
    for account, (_, r, f, tier, gap) in zip(accounts, BOUNDARIES, strict=True):
        recency, frequency = (NOW - account.last_order) / DAY, len(account.history)
        assert (recency, frequency) == (r, f), account.id
        found = classify(recency, frequency, account.rank, config)
        assert (found.tier, found.gap) == (tier, gap), account.id


def test_low_value_also_meets_dormant():
    """A low-value account meets dormant's rule too: precedence, not the rules, puts it in low_value."""
    accounts = _boundary_accounts()
    TierSnapshot(_scenario(), _ledger()).take(accounts, NOW, 0)
    found = classify(180, 1, accounts[0].rank, _scenario().outreach.tier_config)
    assert found.matched == ("low_value", "dormant")
    assert accounts[0].tier == "low_value"


def _window_accounts() -> list[Account]:
    """Thirteen accounts; three have a tier that depends on whether orders at or beyond the 365-day edge count.

    In-window spends: fillers 10, 20, ..., 100 (dormant), W_old_big 55 (rank 5/13, the middle), W_edge
    119 and W_beyond 132 (ranks 11/13 and 12/13, the top 20% whether or not the old orders count).
    """
    fillers = [_account(i, 100, 1, (i + 1) * 10.0) for i in range(10)]
    edge = NOW - 365 * DAY
    # 11 recent orders plus one exactly 365 days back (inside: the window is inclusive) -> F = 12, high value.
    at_edge = Account("W_edge", "north", "A", None)
    at_edge.record_order(edge, 9.0)
    for k in range(11):
        at_edge.record_order(NOW - (20 - k) * DAY, 10.0)
    # 11 recent orders plus one 366 days back (outside) -> F = 11, not high value (gap c).
    beyond = Account("W_beyond", "north", "A", None)
    beyond.record_order(edge - DAY, 5.0)
    for k in range(11):
        beyond.record_order(NOW - (20 - k) * DAY, 12.0)
    # 12 recent orders of middle spend, and a huge order 400 days back: were it counted, M would be top
    # and the tier high value (R = 9, F >= 12); without it the account is potential.
    old_big = Account("W_old_big", "north", "A", None)
    old_big.record_order(NOW - 400 * DAY, 1e6)
    for k in range(12):
        old_big.record_order(NOW - (20 - k) * DAY, 55.0 / 12)
    return [*fillers[:5], old_big, *fillers[5:], at_edge, beyond]


def test_orders_older_than_the_window_do_not_count():
    """F and M use the orders of the last 365 days only (an order exactly 365 days back counts)."""
    accounts = _window_accounts()
    TierSnapshot(_scenario(), _ledger()).take(accounts, NOW, 0)
    by_id = {a.id: a for a in accounts}
    spend = {a.id: sum(amount for _, amount in a.history) for a in accounts}
    ranks = dict(zip(spend, monetary_rank(list(spend.values())), strict=True))
    assert len(by_id["W_edge"].history) == 12
    assert len(by_id["W_beyond"].history) == 11
    assert len(by_id["W_old_big"].history) == 12
    assert spend["W_old_big"] == pytest.approx(55.0, rel=1e-12)
    assert [ranks[a.id] for a in accounts] == pytest.approx([i / 13 for i in range(13)], abs=1e-12)
    assert by_id["W_edge"].tier == "high_value"
    assert by_id["W_beyond"].tier == "maintain"
    assert by_id["W_old_big"].tier == "potential"
    assert [by_id[a.id].rank for a in accounts] == pytest.approx([ranks[a.id] for a in accounts], abs=1e-12)


# -- the ledger's tier rows and transitions over two snapshots -----------------------------------------------

# (rank index, R at NOW, F at NOW, tier at NOW, tier at NEXT); spend (i + 1) x 10, rank i / 10. Between the
# snapshots account 2 orders 3 times and account 9 once, each 0.01 (ranks unchanged); the others age 31 days.
MOVES = [
    (0, 200, 1, "low_value", "low_value"),  # R 231
    (1, 100, 1, "dormant", "dormant"),  # R 131
    (2, 100, 2, "dormant", "potential"),  # 3 orders: F = 5, R = 5, rank 0.2
    (3, 10, 5, "potential", "potential"),  # R 41
    (4, 40, 5, "potential", "maintain"),  # R 71: gap a
    (5, 70, 3, "maintain", "maintain"),  # R 101, F = 3: gap e
    (6, 80, 2, "maintain", "dormant"),  # R 111, F = 2
    (7, 5, 3, "maintain", "maintain"),  # R 36, F = 3: gap b
    (8, 1, 12, "high_value", "maintain"),  # R 32: gap c
    (9, 20, 15, "high_value", "high_value"),  # one order a day before NEXT: R = 1, F = 16
]


def _two_snapshots() -> tuple[list[Account], OutreachLedger]:
    accounts = [_account(i, r, f, (i + 1) * 10.0) for i, r, f, _, _ in MOVES]
    ledger = _ledger()
    snapshot = TierSnapshot(_scenario(), ledger)
    snapshot.take(accounts, NOW, 0)
    first = [a.tier for a in accounts]
    for days_before in (7, 6, 5):
        accounts[2].record_order(NEXT - days_before * DAY, 0.01)
    accounts[9].record_order(NEXT - DAY, 0.01)
    snapshot.take(accounts, NEXT, 1)
    assert first == [m[3] for m in MOVES]
    return accounts, ledger


def test_second_snapshot_tiers():
    """After 31 days (and a few new orders) each account has the tier its new R, F and M give."""
    accounts, _ = _two_snapshots()
    assert [a.tier for a in accounts] == [m[4] for m in MOVES]


def test_tier_rows_count_each_account_once_per_snapshot():
    """ledger 'tiers': per period the accounts per tier are the snapshot's counts, summing to the 10 accounts."""
    accounts, ledger = _two_snapshots()
    table = ledger.tables()["tiers"].columns
    rows = list(zip(table["period"], table["period_start"], table["tier"], table["accounts"], strict=True))
    for period, start, column in (("2024-01", "2024-01-01", 3), ("2024-02", "2024-02-01", 4)):
        counts = {tier: n for p, s, tier, n in rows if p == period and s == start}
        assert counts == dict(Counter(m[column] for m in MOVES))
        assert sum(counts.values()) == len(accounts)
    assert {p for p, *_ in rows} == {"2024-01", "2024-02"}


def test_tier_rows_carry_alive_model_and_spend():
    """alive and p_alive_sum equal the account count (all alive, Poisson model: P(alive) = 1); spend sums per tier."""
    _, ledger = _two_snapshots()
    table = ledger.tables()["tiers"].columns
    assert table["alive"] == table["accounts"]
    assert table["p_alive_sum"] == pytest.approx([float(n) for n in table["accounts"]], abs=1e-12)
    spend_first = Counter()
    for i, _, _, tier, _ in MOVES:
        spend_first[tier] += (i + 1) * 10.0
    first = {
        t: m for p, t, m in zip(table["period"], table["tier"], table["monetary_12m"], strict=True) if p == "2024-01"
    }
    assert first == pytest.approx(dict(spend_first), rel=1e-12)


def test_transitions_from_new_then_between_tiers():
    """ledger 'tier_transitions': 'new' -> tier at the first snapshot, then previous tier -> tier at the second."""
    _, ledger = _two_snapshots()
    table = ledger.tables()["tier_transitions"].columns
    moves = Counter()
    for period, before, after, n in zip(
        table["period"], table["from_tier"], table["to_tier"], table["accounts"], strict=True
    ):
        moves[(period, before, after)] += n
    expected = Counter(("2024-01", "new", m[3]) for m in MOVES)
    expected.update(("2024-02", m[3], m[4]) for m in MOVES)
    assert moves == expected
    assert sum(n for (p, _, _), n in moves.items() if p == "2024-02") == len(MOVES)
