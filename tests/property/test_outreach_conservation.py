"""Whole runs with outreach: panel conservation, tier counts, touch costs, budget and rep-hour caps, reproducibility.

Short BG/NBD runs (120 days, 14 warm-up, 20 drain: about 1-2 s each) under the strategies uniform,
tiered and uplift, seeds 1 to 3. Each (strategy, seed) is run once per session and shared by the tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter, defaultdict
from functools import cache
from typing import Any

import pytest

from experiments.compose import compose_config, scenario_of
from salesboost.panel import NEW_ACCOUNT_TIER, PROSPECT_TIER
from salesboost.results import RunResult
from salesboost.scenario import Scenario
from sim.runner import run

STRATEGIES = ("uniform", "tiered", "uplift")
SEEDS = (1, 2, 3)
BASE = ("accounts.purchase.model=bgnbd", "horizon.days=120", "horizon.warmup_days=14", "horizon.drain_days=20")
DAYS_PER_MONTH = 365.25 / 12.0
REL = 1e-9  # sums of a few thousand equal terms
RUNS = [(strategy, seed) for strategy in STRATEGIES for seed in SEEDS]


@cache
def _scenario(*overrides: str) -> Scenario:
    return scenario_of(compose_config([*BASE, *overrides]))


@cache
def _run(strategy: str, seed: int, *overrides: str) -> RunResult:
    return run(_scenario(f"outreach.strategy={strategy}", *overrides), seed, 0)


def _rows(result: RunResult, panel: str) -> list[dict[str, Any]]:
    columns = result.panels[panel].columns
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal metric dicts, NaN equal to NaN."""
    if a.keys() != b.keys():
        return False
    return all(
        x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for x, y in ((a[k], b[k]) for k in a)
    )


# -- (a) the pipeline panel -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_pipeline_rows_carry_a_valid_tier(strategy, seed):
    """Prospects ('new' segment) are tier 'prospect'; account requests carry a configured tier or 'new'."""
    result = _run(strategy, seed)
    tiers = set(result.scenario.outreach.tier_config.tiers)
    rows = _rows(result, "pipeline")
    assert {r["segment"] for r in rows} <= {"new", "existing"}
    assert {r["tier"] for r in rows if r["segment"] == "new"} == {PROSPECT_TIER}
    existing = {r["tier"] for r in rows if r["segment"] == "existing"}
    assert existing
    assert existing <= tiers | {NEW_ACCOUNT_TIER}


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_cohort_orders_in_the_panel_sum_to_the_metric(strategy, seed):
    """The orders of every cohort row of the pipeline panel add up to the run's 'orders' metric (exactly)."""
    result = _run(strategy, seed)
    orders = sum(r["orders"] for r in _rows(result, "pipeline") if r["cohort"] is True)
    assert result.metrics["orders"] > 0
    assert orders == result.metrics["orders"]


# -- (b) the tier table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_tier_table_counts_every_account_once_per_snapshot(strategy, seed):
    """Per period the tiers' accounts are every account of the snapshot (as many as moved), alive or not.

    The first snapshot (clock 0) holds the initial accounts; every account of one snapshot is in the next
    (accounts are never removed) and the rest arrive from 'new'.
    """
    result = _run(strategy, seed)
    counts: Counter[str] = Counter()
    for row in _rows(result, "tiers"):
        counts[row["period"]] += row["accounts"]
    moved: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    for row in _rows(result, "tier_transitions"):
        moved[row["period"]] += row["accounts"]
        if row["from_tier"] != NEW_ACCOUNT_TIER:
            carried[row["period"]] += row["accounts"]
    periods = list(dict.fromkeys(result.panels["tiers"].columns["period"]))
    assert counts == moved
    assert counts[periods[0]] == result.scenario.accounts.initial
    assert carried[periods[0]] == 0
    for before, after in itertools.pairwise(periods):
        assert carried[after] == counts[before]
        assert counts[after] >= counts[before]


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_tier_rows_alive_and_p_alive_are_within_the_count(strategy, seed):
    """Each tier row: 0 <= alive <= accounts and 0 <= p_alive_sum <= accounts (+1e-9), spend >= 0."""
    result = _run(strategy, seed)
    tiers = set(result.scenario.outreach.tier_config.tiers)
    for row in _rows(result, "tiers"):
        assert row["tier"] in tiers
        assert 0 <= row["alive"] <= row["accounts"]
        assert 0.0 <= row["p_alive_sum"] <= row["accounts"] + 1e-9
        assert row["monetary_12m"] >= 0.0


# -- (c) the outreach table -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_outreach_costs_are_touches_times_the_channel_cost(strategy, seed):
    """Per (tier, channel): cost = touches x (fee + ops minutes at the ops rate), rep_hours = touches x minutes / 60.

    Relative tolerance 1e-9; the ``offer`` rows hold offer_cost only.
    """
    result = _run(strategy, seed)
    outreach = result.scenario.outreach
    channels = outreach.channels
    rows = _rows(result, "outreach")
    assert sum(r["touches"] for r in rows) > 0
    for row in rows:
        if row["channel"] == "offer":
            assert row["offer_cost"] >= 0.0
            assert all(row[f] == 0 for f in ("touches", "cost", "rep_hours", "responses", "requests")), row
            continue
        channel = channels[row["channel"]]
        assert row["touches"] == int(row["touches"]) > 0
        fee = channel.cost + channel.ops_minutes / 60.0 * outreach.ops_cost_per_hour
        assert fee == outreach.money_per_touch(channel)
        assert row["cost"] == pytest.approx(row["touches"] * fee, rel=REL, abs=0.0), row
        assert row["rep_hours"] == pytest.approx(row["touches"] * channel.rep_minutes / 60.0, rel=REL, abs=0.0), row
        assert row["offer_cost"] == 0.0
        assert 0 <= row["responses"] <= row["touches"], row


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_strategy_touches_only_planned_tiers(strategy, seed):
    """tiered touches an account only by its tier's plan channels; uniform only by the uniform channels."""
    result = _run(strategy, seed)
    outreach = result.scenario.outreach
    for row in _rows(result, "outreach"):
        if row["channel"] == "offer" or strategy == "uplift":
            continue
        allowed = outreach.uniform if strategy == "uniform" else outreach.plan.get(row["tier"], {})
        assert row["channel"] in allowed, row


# -- (d) the budget and the rep hours -------------------------------------------------------------------------


def _period_days(result: RunResult) -> dict[str, float]:
    """Each outreach period's simulated length in days: its calendar span cut at the run's start and end."""
    scenario = result.scenario
    start = scenario.calendar.start()
    end = start + dt.timedelta(days=scenario.horizon.days + scenario.horizon.drain_days)
    days = {}
    for label in dict.fromkeys(result.panels["tiers"].columns["period_start"]):
        first = dt.date.fromisoformat(label)
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        days[label] = (min(following, end) - max(first, start)).days
    return days


def _check_caps(result: RunResult) -> None:
    outreach = result.scenario.outreach
    assert result.scenario.kpi.panel_period == "month"
    lengths = _period_days(result)
    cost: defaultdict[str, float] = defaultdict(float)
    hours: defaultdict[str, float] = defaultdict(float)
    for row in _rows(result, "outreach"):
        cost[row["period_start"]] += row["cost"]
        hours[row["period_start"]] += row["rep_hours"]
    assert cost
    for period, spent in cost.items():
        months = lengths[period] / DAYS_PER_MONTH
        assert spent <= outreach.budget_per_month * months + 1e-6, (period, spent)
        assert hours[period] <= outreach.rep_hours_per_month * months + 1e-6, (period, hours[period])


@pytest.mark.parametrize(("strategy", "seed"), RUNS)
def test_costs_and_rep_hours_stay_within_the_monthly_caps(strategy, seed):
    """Per period: fees <= budget_per_month x days / (365.25 / 12) + 1e-6; rep hours <= rep_hours_per_month alike."""
    _check_caps(_run(strategy, seed))


@pytest.mark.parametrize(
    ("strategy", "caps"),
    [
        ("uniform", ("outreach.rep_hours_per_month=10",)),
        ("uplift", ("outreach.budget_per_month=800", "outreach.rep_hours_per_month=10")),
        ("tiered", ("outreach.budget_per_month=300", "outreach.rep_hours_per_month=5")),
    ],
)
def test_tight_caps_still_hold(strategy, caps):
    """The same caps (1e-6) when the budget and the rep hours are tight enough to bind (seed 1)."""
    _check_caps(_run(strategy, 1, *caps))


def test_the_period_lengths_are_the_calendar_months_cut_at_the_end():
    """The helper's premise: the run starts 2024-01-01 and ends 140 days later, on 2024-05-20 (May has 19 days)."""
    lengths = _period_days(_run("tiered", 1))
    assert lengths == {"2024-01-01": 31, "2024-02-01": 29, "2024-03-01": 31, "2024-04-01": 30, "2024-05-01": 19}


def test_uplift_spends_close_to_the_budget():
    """The uplift strategy is budget-bound at the defaults: over 90% of each full month's fee budget is spent.

    (Makes the cap test above bite: a run far under budget could not catch an overspend.)
    """
    result = _run("uplift", 1)
    lengths = _period_days(result)
    cost: defaultdict[str, float] = defaultdict(float)
    for row in _rows(result, "outreach"):
        cost[row["period_start"]] += row["cost"]
    budget = result.scenario.outreach.budget_per_month
    for period in ("2024-01-01", "2024-03-01"):
        assert cost[period] > 0.9 * budget * lengths[period] / DAYS_PER_MONTH


# -- (e), (f) reproducibility and the off strategy ------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_reproduces_the_metrics(strategy):
    """A second run with the same seed and replication gives identical metrics and panels."""
    first = _run(strategy, 2)
    again = run(_scenario(f"outreach.strategy={strategy}"), 2, 0)
    assert _same(first.metrics, again.metrics)
    assert {k: v.to_dict() for k, v in first.panels.items()} == {k: v.to_dict() for k, v in again.panels.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_off_spends_nothing(seed):
    """With strategy off there are no touches and no outreach cost (exactly 0), and no outreach rows."""
    result = _run("off", seed)
    assert result.metrics["outreach_cost"] == 0
    assert result.metrics["outreach_touches"] == 0
    assert len(result.panels["outreach"]) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_off_does_not_depend_on_the_budget(seed):
    """With strategy off a budget of 99999 a month changes nothing: same orders, revenue and metrics."""
    off = _run("off", seed)
    rich = _run("off", seed, "outreach.budget_per_month=99999")
    assert rich.scenario.outreach.budget_per_month == 99999
    assert off.metrics["orders"] == rich.metrics["orders"]
    assert off.metrics["revenue"] == rich.metrics["revenue"]
    assert _same(off.metrics, rich.metrics)


def test_strategies_change_the_run():
    """Outreach acts on the base: a touching strategy's run differs from the off run of the same seed."""
    off = _run("off", 1)
    assert any(_run(s, 1).metrics["outreach_touches"] > 0 for s in STRATEGIES)
    assert any(not _same(_run(s, 1).metrics, off.metrics) for s in STRATEGIES)
