"""The risk desk: the market's series, shocks on their dates, the pilot's levers, alarms and playbooks.

At every panel period's end it records the period's facts per team (the ``market`` panel
table: :data:`salesboost.indicators.FACT_COLUMNS`), feeds them to the rules its playbooks
wait for, and switches a playbook on from the first alarm. Everything it draws comes from
its own streams, so a world with a shock or a playbook leaves every other draw unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from salesboost.indicators import COMPANY, FACT_COLUMNS, Watch, series_for
from salesboost.panel import PanelTable
from salesboost.risk import PlaybookConfig, ShockConfig
from sim.agents.rep import rep_state
from sim.agents.staffing import MONTH_HOURS  # an average month: a period's quota is prorated by it
from sim.calendar import HOURS_PER_DAY
from sim.rep_book import COMPLAINTS as REP_COMPLAINTS
from sim.tasks import ACCOUNT, Task

if TYPE_CHECKING:
    from sim.customers import Account
    from sim.world import World

#: ``request(account, t, row)``: a purchase request of ``account`` at ``t`` with the draws ``row``.
WonBackRequest = Callable[["Account", float, tuple[float, ...]], None]

#: Orders in this many trailing days make a core account "active" (the repurchase indicator).
ACTIVE_DAYS = 91.0


class RiskDesk:
    """Market series, shocks, pilot levers, period facts and the playbooks' alarms of one world."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._env = world.env
        scenario = world.scenario
        self._risk = risk = scenario.risk
        self._levers = world.levers
        self._start = scenario.calendar.start()
        self._bounds = world.panel.period_bounds()
        self._labels = world.panel.period_labels()
        self._days = world.panel.period_starts()
        self._teams = [*world.reps_by_region, COMPANY]
        n = len(self._bounds)
        self.growth, self.share = self._market(n)
        self._left = dict.fromkeys(self._teams, 0)
        self._positions = {region: float(len(reps)) for region, reps in world.reps_by_region.items()}
        self._positions[COMPANY] = float(len(world.reps))
        self.rows: dict[str, list[dict[str, float]]] = {team: [] for team in self._teams}
        accounts = sorted(world.accounts.accounts, key=lambda a: (-a.spend, a.id))
        self.core = accounts[: round(len(accounts) * risk.core_share)]
        self.core_ids = frozenset(a.id for a in self.core)
        for shock in risk.shocks:
            self._shock(shock)
        pilot = scenario.pilot
        if pilot.active and pilot.start is not None:
            t = self._hours(pilot.start)
            regions = frozenset(pilot.regions)
            if pilot.qualify_lift:
                self._levers.add("qualify", t, 1.0 + pilot.qualify_lift, regions)
            if pilot.accept_lift:
                self._levers.add("accept", t, 1.0 + pilot.accept_lift, regions)
        self._watches: list[list[tuple[str, Watch]]] = []
        for playbook in risk.playbooks:
            rule = risk.rule(playbook.alarm)
            self._watches.append([(team, Watch(rule)) for team in series_for(rule, self.rows)])
        self.on_at: list[float | None] = [None] * len(risk.playbooks)  # clock hour each playbook switched on
        self.alarm_period: list[int | None] = [None] * len(risk.playbooks)
        self._win_back: PlaybookConfig | None = None  # the win-back playbook, once on
        self._counts = {team: dict.fromkeys(("deals_lost", "winback_calls", "won_back"), 0.0) for team in self._teams}
        self.request: WonBackRequest | None = None  # set by the runner: the intake's account request
        self.schedule_requests: Callable[[Account], None] | None = None  # the flow's, for an account that came back

    # -- set-up ------------------------------------------------------------------------------------
    def _hours(self, iso: str) -> float:
        return (dt.date.fromisoformat(iso) - self._start).days * HOURS_PER_DAY

    def _market(self, n: int) -> tuple[list[float], list[float]]:
        """Industry growth and the competitor's share per period, with the shocks' moves in them."""
        config = self._risk.market
        rng_g = self._world.streams.generator("market.growth")
        rng_s = self._world.streams.generator("market.share")
        eps_g, eps_s = rng_g.standard_normal(n).tolist(), rng_s.standard_normal(n).tolist()
        growth: list[float] = []
        share: list[float] = []
        dev_g = dev_s = 0.0
        for p in range(n):
            dev_g = config.growth_ar * dev_g + config.growth_sd * eps_g[p]
            dev_s = config.share_ar * dev_s + config.share_sd * eps_s[p]
            growth.append(config.growth_mean + dev_g)
            share.append(config.competitor_share + dev_s)
        for shock in self._risk.shocks:
            first = self._period_of(self._hours(shock.start))
            for j in range(shock.months):
                p = first + j
                if p >= n:
                    break
                if shock.kind == "demand_fall":
                    growth[p] -= shock.size / shock.months
                elif shock.kind == "competitor_price_cut":  # the share gain ramps in, and stays
                    step = shock.share_response * shock.size / shock.months
                    for q in range(p, n):
                        share[q] += step
        return growth, [min(max(s, 0.0), 1.0) for s in share]

    def _period_of(self, t: float) -> int:
        for p, (a, b) in enumerate(self._bounds):
            if a <= t < b:
                return p
        return len(self._bounds)

    def _shock(self, shock: ShockConfig) -> None:
        t = self._hours(shock.start)
        levers = self._levers
        if shock.kind == "demand_fall":
            kept = 1.0
            for j in range(shock.months):  # ramped in, one step a month
                target = 1.0 - shock.size * (j + 1) / shock.months
                levers.add("demand", t + j * MONTH_HOURS, target / kept)
                kept = target
        elif shock.kind == "competitor_price_cut":
            levers.add("loss_hazard", t, 1.0 + shock.hazard_response * shock.size)
            levers.add("dropout", t, 1.0 + shock.dropout_response * shock.size)
        elif shock.kind == "complaints_surge":
            levers.add("complaints", t, 1.0 + shock.size)
        elif shock.kind == "key_reps_leave" and 0 <= t < self._world.end:
            count = int(shock.size)
            # just after the period's close at the same instant, so the departures count in the new month
            self._env.timeout(t + 1e-6).callbacks.append(lambda _e: self._reps_leave(count))

    def _reps_leave(self, count: int) -> None:
        """The ``count`` most able reps in post leave today."""
        desk = self._world.incentive
        reps = [(rep_state(r).ability, seat) for seat, r in enumerate(self._world.reps) if not rep_state(r).vacant]
        for _ability, seat in sorted(reps, reverse=True)[:count]:
            desk.staffing.leave(seat, self._env.now, "shock")

    def start(self) -> None:
        """Schedule each period's close (at the next period's start, or the run's end)."""
        for p, (_a, b) in enumerate(self._bounds):
            if b <= self._world.end:
                self._env.timeout(b - self._env.now).callbacks.append(partial(_close, self, p))

    # -- what the world tells the desk ---------------------------------------------------------------
    def left(self, region: str) -> None:
        """A rep of ``region`` left."""
        self._left[region] += 1
        self._left[COMPANY] += 1

    def lost(self, lead: Any, now: float) -> None:
        """``lead``, a deal of an existing account, went to the competitor at ``now``: call it back if on."""
        self._count(lead.region, "deals_lost")
        playbook = self._win_back
        if playbook is None or now >= self._world.end:
            return
        account = lead.account
        rep = account.owner
        incentive = self._world.incentive
        if incentive is not None and rep_state(rep).vacant:
            rep = incentive.stand_in(rep)
        task = self._world.task(ACCOUNT, playbook.call_hours, None, partial(self._called, lead, playbook), now)
        task.expires = now + playbook.within_days * HOURS_PER_DAY
        prices = rep_state(rep).prices
        if prices is not None:  # under a scheme the rep values the call at its pay on the deal it may bring back
            task.worth = max(prices.revenue * playbook.size * lead.deal_size / playbook.call_hours, 1e-9)
        rep.submit(task)

    def _called(self, lead: Any, playbook: PlaybookConfig, _task: Task, now: float) -> None:
        """The win-back call to ``lead``'s account was made: with P = size the customer comes back."""
        self._count(lead.region, "winback_calls")
        world = self._world
        rng = world.streams.entity(f"winback.{lead.id}")  # keyed by the lost deal: the same luck in every variant
        if rng.random() >= playbook.size or now >= world.end:
            return
        self._count(lead.region, "won_back")
        account = lead.account
        accounts = world.accounts
        if not account.alive:  # it had left as well: it buys again on its own clock
            accounts.revive(account)
            assert self.schedule_requests is not None
            self.schedule_requests(account)
        assert self.request is not None
        self.request(account, now, accounts.request_row(account, rng))

    def _count(self, region: str, key: str) -> None:
        self._counts[region][key] += 1.0
        self._counts[COMPANY][key] += 1.0

    # -- the period's close ------------------------------------------------------------------------
    def _close(self, p: int) -> None:
        now = self._env.now
        world = self._world
        a, b = self._bounds[p]
        quota = self._risk.quota_per_month * (b - a) / MONTH_HOURS
        revenue = world.panel.period_sums(p, "revenue")
        desk = world.incentive
        month = desk.book.month_of(a) if desk is not None and world.panel.period == "month" else None
        seats = dict.fromkeys(self._teams, 0.0)
        complaints = dict.fromkeys(self._teams, 0.0 if month is not None else math.nan)
        served = dict.fromkeys(self._teams, 0.0 if month is not None else math.nan)
        for rep in world.reps:
            if rep_state(rep).vacant:
                continue
            for team in (rep.region, COMPANY):
                seats[team] += 1.0
        if month is not None:
            for seat, rep in enumerate(world.reps):
                for team in (rep.region, COMPANY):
                    complaints[team] += desk.book.month_sum(seat, month, REP_COMPLAINTS)
                    served[team] += desk.book.served_count(seat, month)
        since = b - ACTIVE_DAYS * HOURS_PER_DAY
        active = sum(1 for acc in self.core if acc.last_order >= since and acc.last_order >= 0)
        on = sum(1 for t in self.on_at if t is not None)
        for team in self._teams:
            is_company = team == COMPANY
            self.rows[team].append(
                {
                    "industry_growth": self.growth[p],
                    "competitor_share": self.share[p],
                    "revenue": sum(revenue.values()) if is_company else revenue.get(team, 0.0),
                    "seats": seats[team],
                    "positions": self._positions[team],
                    "quota": seats[team] * quota,
                    "leavers": float(self._left[team]),
                    "core_accounts": float(len(self.core)) if is_company else math.nan,
                    "core_active": float(active) if is_company else math.nan,
                    "complaints": complaints[team],
                    "served": served[team],
                    "playbooks_on": float(on),
                    **self._counts[team],
                }
            )
            self._counts[team] = dict.fromkeys(self._counts[team], 0.0)
        self._left = dict.fromkeys(self._teams, 0)
        for i, watches in enumerate(self._watches):
            if self.on_at[i] is not None:
                continue
            rule = watches[0][1].rule if watches else None
            fired = False
            for team, watch in watches:
                series = series_for(rule, {team: self.rows[team]})[team]
                value, n = series[-1]
                fired |= watch.update(value, n)
            if fired:
                self.alarm_period[i] = p
                self._switch_on(i, self._risk.playbooks[i], now)

    def _switch_on(self, i: int, playbook: PlaybookConfig, now: float) -> None:
        self.on_at[i] = now
        levers = self._levers
        response = playbook.response
        if response == "talent_pool" and self._world.incentive is not None:
            self._world.incentive.staffing.call_up(round(playbook.size))
        elif response == "diversify":
            levers.add("extra_demand", now, 1.0)
        elif response == "product_mix":
            levers.add("product_b", now, playbook.size)
        elif response == "core_visits":
            levers.add("core_dropout", now, 1.0 - playbook.size)
        elif response == "success_manager":
            levers.add("dropout", now, 1.0 - playbook.size)
        elif response == "win_back":
            self._win_back = playbook
        elif response == "change_incentives":
            assert playbook.scheme is not None  # both checked by the scenario
            assert self._world.incentive is not None
            self._world.incentive.change_scheme(self._risk.schemes[playbook.scheme])

    # -- results -----------------------------------------------------------------------------------
    def cost(self, t0: float, t1: float) -> float:
        """What the playbooks cost in clock hours ``[t0, t1)``."""
        total = 0.0
        for t, playbook in zip(self.on_at, self._risk.playbooks, strict=True):
            if t is not None:
                total += playbook.cost_per_month * max(0.0, t1 - max(t, t0)) / MONTH_HOURS
        return total

    def table(self) -> PanelTable:
        """The ``market`` panel table: a row per closed period and team."""
        cols: dict[str, list[Any]] = {"period": [], "period_start": [], "team": [], **{c: [] for c in FACT_COLUMNS}}
        for team, rows in self.rows.items():
            for p, row in enumerate(rows):
                cols["period"].append(self._labels[p])
                cols["period_start"].append(self._days[p])
                cols["team"].append(team)
                for c in FACT_COLUMNS:
                    value = row[c]
                    cols[c].append(value if math.isfinite(value) else None)
        return PanelTable(cols)


def _close(desk: RiskDesk, period: int, _event: object) -> None:
    desk._close(period)
