"""The world of one run: environment, streams, calendars, people and stage desks.

Everything a process needs travels in this object; nothing is global, so any number of
runs can share a process (a Ray worker runs many).
"""

from __future__ import annotations

import simpy

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.scenario import Scenario
from sim.approval import OnlineApproval, WindowApproval
from sim.calendar import HOURS_PER_DAY, Calendar
from sim.lead import LeadFactory
from sim.orders import OrderEntry
from sim.recorder import ActivityLog, Recorder
from sim.servers import FifoServer, ServerPool
from sim.streams import Streams


class World:
    """Builds and holds the parts of one simulated run."""

    def __init__(self, scenario: Scenario, streams: Streams, log: ActivityLog | None = None) -> None:
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        horizon = scenario.horizon
        self.end = (horizon.days + horizon.drain_days) * HOURS_PER_DAY
        self.calendar = Calendar.from_config(scenario.calendar)
        self.recorder = Recorder(scenario, log, streams.sampler_exponential("monitor.wip_samples"))
        self.leads = LeadFactory(scenario, streams)
        self.pools = self._rep_pools()
        self.approval = self._approval_desk()
        self.orders = OrderEntry(scenario.pipeline.erp, self.calendar, self._sales_ops())
        pipeline = scenario.pipeline
        self.quote_rework_hours = streams.sampler("quote.rework_hours", pipeline.quote.rework_hours)
        self.revision_prep_hours = streams.sampler("contract.revision_prep_hours", pipeline.contract.prep_hours)
        self.revision_legal_hours = streams.sampler(
            "contract.revision_legal_hours", pipeline.contract.legal_review_hours
        )
        courier = pipeline.contract.courier_days
        self.revision_courier_days = (
            streams.sampler("contract.revision_courier_days", courier) if courier is not None else _no_courier
        )
        assignment = pipeline.assignment
        self.batch_times = (
            checks.clock_times("batch_times", assignment.batch_times or [])
            if assignment.policy == "daily_batch"
            else None
        )
        contract = pipeline.contract
        self.countersign_times = (
            checks.clock_times("countersign_times", contract.countersign_times or [])
            if contract.policy == "paper"
            else None
        )
        self.qualify_prob = {name: c.qualify_prob for name, c in scenario.market.channels.items()}
        self.accept_prob = {name: s.accept_prob for name, s in scenario.market.segments.items()}

    def _rep_pools(self) -> dict[str, ServerPool]:
        least_loaded = self.scenario.pipeline.assignment.rule == "least_loaded"
        return {
            region: ServerPool(
                [FifoServer(f"rep_{region}_{i + 1}", self.calendar) for i in range(count)], least_loaded=least_loaded
            )
            for region, count in self.scenario.team.reps.items()
            if count > 0
        }

    def _sales_ops(self) -> ServerPool:
        count = self.scenario.team.sales_ops
        return ServerPool([FifoServer(f"sales_ops_{i + 1}", self.calendar) for i in range(count)], least_loaded=True)

    def manager_days_off(self, manager: int, reachable_prob: float = 0.0) -> frozenset[int]:
        """Working days on which ``manager`` is away and, with ``reachable_prob``, not on mobile either.

        Away days come from the manager's own stream, the same in every variant; whether an
        away manager answers on mobile comes from a second stream that only online approval uses.
        """
        days = int(self.end // HOURS_PER_DAY) + 2
        away = (
            self.streams.generator(f"team.manager_away.{manager}").random(days) < self.scenario.team.manager_away_prob
        )
        if reachable_prob > 0:
            reachable = self.streams.generator(f"team.manager_reachable.{manager}").random(days) < reachable_prob
            away &= ~reachable
        return frozenset(int(d) for d in away.nonzero()[0] if self.calendar.is_workday(int(d)))

    def _approval_desk(self) -> WindowApproval | OnlineApproval:
        config = self.scenario.pipeline.approval
        team = self.scenario.team
        review = self.streams.sampler("approval.review_hours", config.review_hours)
        if config.policy == "window":
            days_off = [self.manager_days_off(m) for m in range(team.managers)]
            managers = [Calendar.from_config(self.scenario.calendar, extra_holidays=off) for off in days_off]
            times = checks.clock_times("windows", config.windows or [])
            return WindowApproval(config, self.calendar, managers, review, times)
        online = checks.intervals("online_hours", config.online_hours or [])
        reachable = float(config.away_reachable_prob or 0.0)
        days_off = [self.manager_days_off(m, reachable) for m in range(team.managers)]
        managers = [
            Calendar.from_config(self.scenario.calendar, intervals=online, extra_holidays=off) for off in days_off
        ]
        gap = float(config.check_interval_hours or 0.0)
        gaps = [
            self.streams.sampler(f"approval.checks.{m}", Dist(dist="exponential", mean=gap))
            for m in range(team.managers)
        ]
        assert config.escalation_response_hours is not None  # checked by ApprovalConfig
        response = self.streams.sampler("approval.escalation_response", config.escalation_response_hours)
        return OnlineApproval(config, managers, gaps, review, response)


def _no_courier() -> float:
    """Courier time of a contract that is not sent by courier."""
    return 0.0
