"""The marketing desk: tiers the base each period, plans the touches and carries them out.

At each panel period's first instant the desk takes the tier snapshot (:mod:`sim.tiering`)
and, unless the strategy is ``off``, plans the period's touches (:mod:`sim.decisions.targeting`)
at each channel's cadence, starting at an offset fixed by account, channel and period. Digital
touches go out at their day's start; a phone call or visit is a task for the account's owner,
planned for the first working instant of its day, and lapses with the day if the rep has no
time for it, so reach competes with selling. Each touch draws nine uniforms from the stream of
its (account, channel) pair, so the n-th touch of a pair meets the same luck in every variant.

What a touch does (domain.md sections 4 and 5, values in ``outreach``): it costs its fee and rep
time; it may make the account complain or opt out of the channel; it gets a response with the
saturating, personalised probability of :func:`salesboost.outreach.touch_response` (one per pair
and period). A live account's response is a purchase request at once with the channel's
``conversion`` and lifts its purchase rate by ``effects.lift`` for ``effects.lift_days`` (extra
requests superposed on its own process, at most three); a response to an offer makes the next
order carry the discount, and brings an account that had left back with ``effects.revive_prob``. A
completed service touch cuts the account's dropout for ``effects.service_days``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from salesboost.outreach import ChannelConfig, OutreachConfig, content_uplift, touch_response
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.decisions.targeting import PlannedTouches, order_key, plan_touches
from sim.outreach_ledger import COMPLAINTS, COST, OPT_OUTS, REP_HOURS, REQUESTS, RESPONSES, REVIVED, TOUCHES
from sim.tasks import ACCOUNT, Task
from sim.tiering import TierSnapshot
from sim.world import World

#: Extra requests one lifted response can bring (P(more) is below 1e-4 at the defaults).
MAX_EXTRA = 3
#: Uniforms per touch: response, complaint, opt-out, conversion, revival, extra count, three extra times.
DRAWS_PER_TOUCH = 9

#: ``request(account, t)``: a purchase request of ``account`` arrives at ``t``.
Request = Callable[[Account, float], None]


def _call(then: Callable[[Any], None], arg: Any, _event: object) -> None:
    """A timeout's callback that calls ``then(arg)`` (partial() keeps the argument, no late binding)."""
    then(arg)


def _share_of(config: OutreachConfig, share: float) -> OutreachConfig:
    """``config`` with ``share`` of its money and rep hours (a pilot splits the team's budget by seats)."""
    return dataclasses.replace(
        config, budget_per_month=config.budget_per_month * share, rep_hours_per_month=config.rep_hours_per_month * share
    )


def rep_cost_per_hour(world: World) -> float:
    """A rep's loaded cost per office hour: the weekly cost over the calendar's working hours a week."""
    calendar = world.scenario.calendar
    week = sum(b - a for a, b in calendar.intervals()) * len(calendar.weekday_set())
    return world.scenario.economics.rep_cost_per_week / week if week > 0 else 0.0


class MarketingDesk:
    """Runs the period snapshots and the strategy's touches of one run."""

    def __init__(self, world: World, request: Request, schedule_requests: Callable[[Account], None]) -> None:
        self._world = world
        self._env = world.env
        self._request = request
        self._schedule_requests = schedule_requests
        self._config = world.scenario.outreach
        self._effects = self._config.effects
        self._ledger = world.ledger
        self.snapshot = TierSnapshot(world.scenario, world.ledger)
        self._rep_cost_per_hour = rep_cost_per_hour(world)
        self._rngs: dict[tuple[str, str], np.random.Generator] = {}
        self._touched: dict[tuple[str, str], int] = {}  # touches of (account, channel) this period
        self._responded: set[tuple[str, str]] = set()  # pairs that have responded this period
        self._bounds = world.panel.period_bounds()
        scenario = world.scenario
        pilot = scenario.pilot
        self._pilot: OutreachConfig | None = None  # the pilot regions' strategy, from the first period of the pilot
        self._controls = self._config
        self._pilot_regions = frozenset(pilot.regions)
        self._pilot_from = pilot.start_day(scenario.calendar.start()) * HOURS_PER_DAY
        if pilot.outreach is not None:  # each side spends its regions' share of the seats of its own budget
            seats = scenario.team.reps
            share = sum(seats.get(r, 0) for r in pilot.regions) / max(1, sum(seats.values()))
            self._pilot = _share_of(pilot.outreach, share)
            self._controls = _share_of(self._config, 1.0 - share)

    def start(self) -> None:
        """Schedule every period's snapshot at the period's first instant."""
        for p, (a, _b) in enumerate(self._bounds):
            if a < self._world.end:
                self._env.timeout(a - self._env.now).callbacks.append(partial(_call, self._period, p))

    # -- the period ------------------------------------------------------------------------------
    def _period(self, p: int) -> None:
        now = self._env.now
        a, b = self._bounds[p]
        t1 = self._ledger.t1
        last_in_window = a < t1 <= b or (p == len(self._bounds) - 1 and a < t1)
        pilot = self._pilot if a >= self._pilot_from else None  # from the first period starting in the pilot
        active = self._config.strategy != "off" or (pilot is not None and pilot.strategy != "off")
        views = self.snapshot.take(self._world.accounts.accounts, now, p, views=active, value=last_in_window)
        self._touched.clear()
        self._responded.clear()
        period_days = (b - a) / HOURS_PER_DAY
        groups: list[tuple[OutreachConfig, list[Any]]] = [(self._config, views)]
        if pilot is not None:
            inside = [v for v in views if v.account.region in self._pilot_regions]
            outside = [v for v in views if v.account.region not in self._pilot_regions]
            groups = [(self._controls, outside), (pilot, inside)]
        days: dict[int, list[tuple[Account, str, OutreachConfig]]] = {}
        for config, group in groups:
            plans = plan_touches(
                config, group, period=p, period_days=period_days, rep_cost_per_hour=self._rep_cost_per_hour
            )
            for plan in plans:
                self._plan(plan, config, p=p, start=a, end=min(b, self._world.end), days=days)
        for day in sorted(days):
            t = max(now, day * HOURS_PER_DAY)
            self._env.timeout(t - now).callbacks.append(partial(_call, self._day, days[day]))

    def _plan(
        self, plan: PlannedTouches, config: OutreachConfig, *, p: int, start: float, end: float, days: dict[int, list]
    ) -> None:
        channel = config.channels[plan.channel]
        account = plan.view.account
        gap = channel.cadence_days * HOURS_PER_DAY
        t = start + order_key(account.id, plan.channel, p) * min(gap, end - start)
        for _ in range(plan.touches):
            if t >= end:
                break
            days.setdefault(int(t // HOURS_PER_DAY), []).append((account, plan.channel, config))
            t += gap

    def _day(self, items: list[tuple[Account, str, OutreachConfig]]) -> None:
        now = self._env.now
        for account, name, config in items:
            channel = config.channels[name]
            if name in account.opted_out:
                continue
            if channel.rep_minutes > 0:
                self._assign(account, name, channel, config, now)
            else:
                self._touch(account, name, channel, config, now)

    def _assign(self, account: Account, name: str, channel: ChannelConfig, config: OutreachConfig, now: float) -> None:
        rep = account.owner
        start = rep.calendar.next_working_instant(now)
        hours = channel.rep_minutes / 60.0

        def done(_task: Task, end: float) -> None:
            self._touch(account, name, channel, config, end)

        def submit(_event: object) -> None:
            task = self._world.task(ACCOUNT, hours, None, done, self._env.now)
            task.expires = (math.floor(self._env.now / HOURS_PER_DAY) + 1) * HOURS_PER_DAY
            rep.submit(task)

        if start >= self._world.end:
            return
        self._env.timeout(start - now).callbacks.append(submit)

    # -- one touch -------------------------------------------------------------------------------
    def _touch(self, account: Account, name: str, channel: ChannelConfig, config: OutreachConfig, now: float) -> None:
        key = (account.id, name)
        rng = self._rngs.get(key)
        if rng is None:
            rng = self._rngs[key] = self._world.streams.entity(f"touch.{account.id}.{name}")
        u = rng.random(DRAWS_PER_TOUCH).tolist()
        n = self._touched.get(key, 0) + 1
        self._touched[key] = n
        ledger, tier, effects = self._ledger, account.tier, self._effects
        ledger.outreach(now, tier, name, TOUCHES, account=account.id)
        ledger.outreach(now, tier, name, COST, config.money_per_touch(channel))
        if channel.rep_minutes:
            ledger.outreach(now, tier, name, REP_HOURS, channel.rep_minutes / 60.0)
        if channel.service:
            account.served_until = max(account.served_until, now + effects.service_days * HOURS_PER_DAY)
        if u[1] < channel.complaint:
            ledger.outreach(now, tier, name, COMPLAINTS)
        if u[2] < channel.opt_out:
            account.opted_out = account.opted_out | {name}
            ledger.outreach(now, tier, name, OPT_OUTS)
        uplift = content_uplift(channel, effects, account.tags, account.personalised)
        if channel.personalised and account.tags:  # personalised content wears out with use
            account.personalised += 1
        if key in self._responded:
            return
        if u[0] >= touch_response(config.response(channel, tier), n, config.kappa(channel), uplift):
            return
        self._responded.add(key)
        ledger.outreach(now, tier, name, RESPONSES)
        if channel.offer:
            account.offer = channel.offer
            if not account.alive:
                if u[4] < effects.revive_prob:
                    self._world.accounts.revive(account)
                    ledger.outreach(now, tier, name, REVIVED)
                    self._schedule_requests(account)
                return
        if not account.alive:
            return
        if u[3] < channel.conversion:
            ledger.outreach(now, tier, name, REQUESTS)
            self._request(account, now)
        self._lift(account, tier, name, now, u)

    def _lift(self, account: Account, tier: str, name: str, now: float, u: list[float]) -> None:
        """Extra requests while the rate is lifted: Poisson((lift - 1) x rate x lift_days), by inversion."""
        effects = self._effects
        span = effects.lift_days * HOURS_PER_DAY
        mean = (effects.lift - 1.0) * account.rate * span
        if mean <= 0:
            return
        count, term = 0, math.exp(-mean)
        cumulative = term
        while u[5] >= cumulative and count < MAX_EXTRA:
            count += 1
            term *= mean / count
            cumulative += term
        end = self._world.end
        for i in range(count):
            t = now + u[6 + i] * span
            if t < end:
                self._ledger.outreach(now, tier, name, REQUESTS)
                self._env.timeout(t - now).callbacks.append(partial(_call, partial(self._request, account), t))
