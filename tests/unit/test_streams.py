"""Named random streams and the entity-keyed rows of per-lead draws (sim.lead)."""

from __future__ import annotations

import numpy as np
import pytest

from salesboost import Dist, Scenario
from sim.customers import AccountBase
from sim.lead import DRAWS, ROW, UNIFORMS, Lead, RowSource, SequentialRows, categorical, share_bounds
from sim.streams import CHUNK, Sampler, Streams, stream_key, vector_draw
from tests.support import small_scenario

# -- Streams -----------------------------------------------------------------------------------


def test_same_seed_and_replication_give_identical_draws():
    a = Streams(42, 3).generator("arrivals").random(100)
    b = Streams(42, 3).generator("arrivals").random(100)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("seed", "replication", "name"), [(42, 4, "arrivals"), (43, 3, "arrivals"), (42, 3, "x")])
def test_different_replication_seed_or_name_give_different_draws(seed, replication, name):
    base = Streams(42, 3).generator("arrivals").random(100)
    other = Streams(seed, replication).generator(name).random(100)
    assert not np.any(base == other)


def test_stream_draws_do_not_depend_on_other_streams_used_before():
    s1 = Streams(7, 1)
    s1.generator("approval.review_hours").random(5000)
    s1.generator("customer.accept").standard_exponential(17)
    after_others = s1.generator("followup.qualify").random(50)
    alone = Streams(7, 1).generator("followup.qualify").random(50)
    np.testing.assert_array_equal(after_others, alone)


def test_generator_is_created_once_per_name():
    streams = Streams(1)
    assert streams.generator("a") is streams.generator("a")
    first = streams.generator("a").random()
    assert streams.generator("a").random() != first  # continues, does not restart


def test_regression_stream_key_is_stable():
    """crc32 of the UTF-8 name, pinned: changing the keying would silently change every result."""
    assert stream_key("arrivals") == 0xD7595DC2
    assert stream_key("followup.contact_hours") == 0x98085635
    assert stream_key("arrivals") != stream_key("arrival")


def test_sampler_hands_out_vector_draws_in_order_across_refills():
    dist = Dist(dist="gamma", mean=2.0, cv=0.8)
    sampler = Streams(5).sampler("s", dist)
    got = [sampler() for _ in range(2 * CHUNK + 10)]
    draw = vector_draw(dist, Streams(5).generator("s"))
    expected = np.concatenate([draw(CHUNK), draw(CHUNK), draw(CHUNK)])[: len(got)]
    np.testing.assert_array_equal(got, expected)


def test_sampler_calls_draw_once_per_chunk():
    calls = []

    def draw(n: int) -> np.ndarray:
        calls.append(n)
        return np.arange(n, dtype=float)

    sampler = Sampler(draw)
    values = [sampler() for _ in range(CHUNK + 1)]
    assert calls == [CHUNK, CHUNK]
    assert values[:3] == [0.0, 1.0, 2.0]
    assert values[CHUNK] == 0.0


# -- rows of per-lead draws: each value is the next draw of its source's stream for that purpose ---


def _expected_rows(scenario: Scenario, streams: tuple[int, int], prefix: str, deal: Dist, n_chunks: int):
    """Independently drawn: column k of the rows is stream ``<prefix>.<purpose k>``, CHUNK values at a time."""
    columns: list[list[float]] = []

    def gen(name: str) -> np.random.Generator:
        return Streams(*streams).generator(f"{prefix}.{name}")

    def chunked(draw) -> list[float]:
        return np.concatenate([draw(CHUNK) for _ in range(n_chunks)]).tolist()

    for name, where in DRAWS.items():
        dist = where(scenario)
        columns.append([0.0] * (n_chunks * CHUNK) if dist is None else chunked(vector_draw(dist, gen(name))))
    columns += [chunked(gen(name).random) for name in UNIFORMS]
    columns.append(chunked(vector_draw(deal, gen("deal_size"))))
    columns.append(chunked(gen("competitor").standard_exponential))
    assert len(columns) == len(ROW)
    return list(zip(*columns, strict=True))


@pytest.mark.parametrize("pipeline", ["legacy", "optimised"])
def test_lead_rows_of_a_channel_are_the_draws_of_its_named_streams(pipeline):
    scenario = small_scenario(pipeline)
    seed, replication = 11, 2
    deal = scenario.market.segments["new"].deal_size
    rows = SequentialRows(RowSource(scenario, Streams(seed, replication), "lead.web", deal))
    got = [rows.next() for _ in range(CHUNK + 5)]  # crosses one refill
    expected = _expected_rows(scenario, (seed, replication), "lead.web", deal, n_chunks=2)
    for i in (0, 1, CHUNK - 1, CHUNK, CHUNK + 4):
        assert got[i] == expected[i], f"web lead {i}"


def test_lead_takes_its_row_attribute_by_attribute():
    # Guards ROW against the order Lead.__init__ unpacks it in.
    row = tuple(float(i) for i in range(len(ROW)))
    lead = Lead("web-3", 3, 1.5, row)
    assert (lead.id, lead.source_index, lead.arrived) == ("web-3", 3, 1.5)
    assert {name: getattr(lead, name) for name in ROW} == dict(zip(ROW, row, strict=True))
    assert lead.contact_hours == 0.0
    assert lead.loss_e == float(len(ROW) - 1)


def test_channels_draw_from_disjoint_streams():
    scenario = small_scenario("legacy")
    deal = scenario.market.segments["new"].deal_size
    web = RowSource(scenario, Streams(5, 0), "lead.web", deal).rows(50)
    referral = RowSource(scenario, Streams(5, 0), "lead.referral", deal).rows(50)
    assert all(a != b for a, b in zip(web, referral, strict=True))


def test_unused_distribution_gives_zero():
    scenario = small_scenario("optimised")
    row = RowSource(scenario, Streams(3), "lead.web", scenario.market.segments["new"].deal_size).rows(1)[0]
    values = dict(zip(ROW, row, strict=True))
    assert values["courier_out_days"] == values["courier_back_days"] == 0.0  # e-signature has no courier
    legacy = small_scenario("legacy")
    row = RowSource(legacy, Streams(3), "lead.web", legacy.market.segments["new"].deal_size).rows(1)[0]
    assert dict(zip(ROW, row, strict=True))["courier_out_days"] > 0.0


def test_a_won_accounts_requests_come_from_its_own_streams():
    scenario = small_scenario("legacy")
    owners = {r: ["rep"] for r in scenario.market.regions}

    def requests(streams: Streams, account_id: str) -> list[tuple[float, tuple[float, ...]]]:
        base = AccountBase(scenario, streams, owners, end=24.0)
        account = base.add(account_id, "north", "A")
        out = []
        for _ in range(3):
            gap = account.next_gap
            out.append((gap, base.new_account_request(account, 0.0)))
            account.requests += 1
        return out

    first = requests(Streams(9), "web-4")
    assert first == requests(Streams(9), "web-4")  # the same account, the same requests
    assert first != requests(Streams(9), "web-5")
    assert first[0][1] != first[1][1]  # each request has new draws
    assert all(len(row) == len(ROW) and gap > 0 for gap, row in first)


def test_an_initial_accounts_requests_do_not_depend_on_the_other_accounts():
    # Request n of account i is the n-th row of the account's own stream, whatever the other
    # accounts ask, and however many accounts there are.
    owners = {r: ["rep"] for r in ("north", "east", "south")}
    small = AccountBase(small_scenario("legacy", accounts__initial=40), Streams(4, 1), owners, end=24.0 * 400)
    large = AccountBase(small_scenario("legacy", accounts__initial=80), Streams(4, 1), owners, end=24.0 * 400)
    for i in (39, 0, 17):
        small.request_row(small.accounts[(i + 5) % 40])  # other accounts ask first in one base only
        first, second = small.request_row(small.accounts[i]), small.request_row(small.accounts[i])
        assert (first, second) == (large.request_row(large.accounts[i]), large.request_row(large.accounts[i]))
        assert first != second
        assert len(first) == len(ROW)


def test_initial_accounts_keep_their_attributes_when_the_base_grows():
    # Regions and products are the first n draws of their streams: account i is the same with 40 or 80 accounts.
    owners = {r: ["rep"] for r in ("north", "east", "south")}
    small = AccountBase(small_scenario("legacy", accounts__initial=40), Streams(6), owners, end=24.0)
    large = AccountBase(small_scenario("legacy", accounts__initial=80), Streams(6), owners, end=24.0)
    for a, b in zip(small.accounts, large.accounts[:40], strict=True):
        assert (a.id, a.region, a.product) == (b.id, b.region, b.product)


def test_initial_repeat_requests_are_poisson_per_account():
    # Gaps are exponential with mean 1 / rate: request counts over the horizon have mean and variance rate x T.
    scenario = small_scenario("legacy", accounts__initial=2000, accounts__repeat_per_year=4.0)
    end = 24.0 * 365.25
    base = AccountBase(scenario, Streams(8), {r: ["rep"] for r in scenario.market.regions}, end=end)
    schedule = list(base.initial_requests())
    counts = np.bincount([i for _, i, _ in schedule], minlength=2000)
    assert counts.mean() == pytest.approx(4.0, abs=4 * np.sqrt(4.0 / 2000))
    assert counts.var() == pytest.approx(4.0, rel=0.15)
    times = [t for t, _, _ in schedule]
    assert times == sorted(times)
    assert times[-1] < end


def test_categorical_maps_uniforms_to_share_intervals():
    bounds, names = share_bounds({"a": 0.2, "b": 0.0, "c": 0.8})
    assert names == ["a", "c"]
    assert categorical(0.0, bounds, names) == "a"
    assert categorical(0.1999, bounds, names) == "a"
    assert categorical(0.2001, bounds, names) == "c"
    assert categorical(0.99999, bounds, names) == "c"
    u = Streams(2).generator("u").random(20_000)
    share = np.mean([categorical(x, bounds, names) == "a" for x in u])
    assert share == pytest.approx(0.2, abs=4 * np.sqrt(0.2 * 0.8 / 20_000))
