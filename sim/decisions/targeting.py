"""Which accounts get which touches this period: the strategy's rule, under the money budget and the rep hours.

``uniform`` gives every account the same channels and ``tiered`` the plan's channels for its
tier (tiers in precedence order, so the first tiers are served first when the budget runs
short); accounts within a group come in an order keyed by account, channel and period (no
favourite). ``uplift`` scores every (account, channel) by the model's expected gain in gross
profit per unit of cost, keeps those worth more than they cost, and takes the best first. A
pair that no longer fits the money or the hours is skipped and cheaper ones are still taken.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from salesboost.outreach import ChannelConfig, OutreachConfig, content_uplift, cumulative_response, touch_cost
from sim.tiering import AccountView

DAYS_PER_MONTH = 365.25 / 12.0


@dataclass(frozen=True, slots=True)
class PlannedTouches:
    """``touches`` touches of ``view``'s account by ``channel`` in the period."""

    view: AccountView
    channel: str
    touches: int


def order_key(account_id: str, channel: str, period: int) -> float:
    """A uniform in [0, 1) fixed by account, channel and period (the same in every variant)."""
    return zlib.crc32(f"{account_id}|{channel}|{period}".encode()) / 2**32


def expected_gain(config: OutreachConfig, view: AccountView, channel: ChannelConfig, touches: int) -> float:
    """The model's expected gross profit from ``touches`` touches of ``view``'s account by ``channel``.

    A live account's response converts at once or lifts its rate (extra orders); a dead one's
    response to an offer may revive it for about a year of orders; an offer gives its discount away
    on the next order either way; each touch risks a complaint, weighed at ``complaint_penalty``.
    Service touches' effect on dropout is not priced (a lower bound).
    """
    effects = config.effects
    account = view.account
    uplift = content_uplift(channel, effects, account.tags, account.personalised)
    respond = cumulative_response(config.response(channel, account.tier), touches, config.kappa(channel), uplift)
    extra = (effects.lift - 1.0) * view.rate_per_day * effects.lift_days
    alive = view.p_alive * respond * (channel.conversion + extra)
    revived = (1.0 - view.p_alive) * respond * effects.revive_prob * view.rate_per_day * 365.0 if channel.offer else 0.0
    complaints = touches * channel.complaint * config.complaint_penalty
    return (alive + revived - respond * channel.offer) * view.order_profit - complaints


def plan_touches(
    config: OutreachConfig,
    views: list[AccountView],
    *,
    period: int,
    period_days: float,
    rep_cost_per_hour: float,
) -> list[PlannedTouches]:
    """The period's touches under ``config.strategy``, within ``budget_per_month`` and ``rep_hours_per_month``."""
    if config.strategy == "off":
        return []
    channels = config.channels
    if config.strategy == "uplift":
        scored = []
        for view in views:
            for name, channel in channels.items():
                if name in view.account.opted_out:
                    continue
                n = channel.touches_per_period(period_days)
                cost = n * touch_cost(channel, rep_cost_per_hour, config.ops_cost_per_hour)
                gain = expected_gain(config, view, channel, n)
                if gain > cost:
                    scored.append((-(gain / cost) if cost > 0 else -float("inf"), view.account.id, name, view, n))
        scored.sort(key=lambda s: (s[0], s[1], s[2]))
        return _within_budget(config, ((view, name, n) for _, _, name, view, n in scored), period_days)
    if config.strategy == "uniform":
        groups = [(views, config.uniform)]
    else:
        by_tier: dict[str, list[AccountView]] = {}
        for view in views:
            by_tier.setdefault(view.account.tier, []).append(view)
        groups = [(by_tier.get(tier, []), config.plan.get(tier, {})) for tier in config.tier_config.tiers]
    wanted = []
    for group, entries in groups:
        pairs = [
            (order_key(view.account.id, name, period), view, name)
            for view in group
            for name, min_rank in entries.items()
            if view.account.rank >= min_rank and name not in view.account.opted_out
        ]
        pairs.sort(key=lambda p: p[0])
        wanted += [(view, name, channels[name].touches_per_period(period_days)) for _, view, name in pairs]
    return _within_budget(config, wanted, period_days)


def _within_budget(
    config: OutreachConfig, wanted: Iterable[tuple[AccountView, str, int]], period_days: float
) -> list[PlannedTouches]:
    months = period_days / DAYS_PER_MONTH  # a weekly panel gets a week's share of the month's budget
    money, hours = config.budget_per_month * months, config.rep_hours_per_month * months
    out = []
    for view, name, n in wanted:
        channel = config.channels[name]
        cost, rep_hours = n * config.money_per_touch(channel), n * channel.rep_minutes / 60.0
        if cost > money or rep_hours > hours:
            continue
        money -= cost
        hours -= rep_hours
        out.append(PlannedTouches(view, name, n))
    return out
