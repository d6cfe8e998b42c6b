"""The deal flow: a qualified lead from quote to order, as a chain of callbacks.

Each step hands a task to a person (the rep, a manager, sales ops) or waits an elapsed
time (the customer, the courier, the customer's legal team), and continues when it ends. A
qualified deal carries a competitor deadline (an exponential clock with the configured
daily hazard): when it comes first the deal is lost then, and the task it was waiting for is
cancelled, so nobody spends time on a lost deal (a task already started runs to its end).
Once the customer has signed, no competitor can take the deal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from salesboost.rules import geometric_rounds
from sim.agents.rep import RepState
from sim.calendar import HOURS_PER_DAY
from sim.customers import Account
from sim.lead import Lead
from sim.recorder import (
    ACCEPTED,
    APPROVAL,
    CONTRACT,
    CUSTOMER,
    DECLINED,
    LOST,
    ORDER_ENTRY,
    QUOTE,
)
from sim.tasks import APPROVAL as APPROVE_TASK
from sim.tasks import CONTRACT as CONTRACT_TASK
from sim.tasks import COUNTERSIGN, ESCALATION, Task
from sim.tasks import ORDER_ENTRY as ENTRY_TASK
from sim.tasks import QUOTE as QUOTE_TASK
from sim.world import World

#: ``account_request(account, t, row, n)``: a repeat request arrives (the intake's entry point).
AccountRequest = Callable[[Account, float, tuple[float, ...], int], None]


class DealFlow:
    """Moves qualified leads to won or lost; opens the managers' review windows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._env = world.env
        self._rec = world.recorder
        scenario = world.scenario
        self._hazard = scenario.behaviour.loss_hazard_per_day
        self._levers = world.levers
        self._products = scenario.products
        self.account_request: AccountRequest | None = None

    # -- helpers ---------------------------------------------------------------------------
    def _at(self, t: float, then: Callable[[], None]) -> None:
        self._env.timeout(max(0.0, t - self._env.now)).callbacks.append(lambda _e: then())

    def _enter(self, lead: Lead, stage: int, now: float) -> None:
        lead.stage = stage
        lead.stage_entered = now
        self._rec.enter(stage, now)

    def _leave(self, lead: Lead, now: float) -> None:
        if lead.stage >= 0:
            self._rec.leave(lead.stage, lead.stage_entered, now)
            lead.stage = -1

    @staticmethod
    def _close(lead: Lead) -> None:
        """The deal is over: later callbacks do nothing, and the lead lets go of its last task.

        The task points back at the lead, so the pair would wait for the cyclic garbage
        collector; dropping the link frees a finished lead at once.
        """
        lead.closed = True
        lead.pending = None

    def _log(self, lead: Lead, activity: str, resource: str, start: float, end: float) -> None:
        log = self._rec.log
        if log is not None:
            log(lead, activity, resource, start, end)

    def _rep_task(self, lead: Lead, kind: int, hours: float, done: Callable[[Task, float], None]) -> None:
        task = self.world.task(kind, hours, lead, done, lead.arrived)
        lead.pending = task
        incentive = self.world.incentive
        if incentive is not None and lead.rep.state.vacant:  # the rep has left: a peer takes the deal
            lead.rep = incentive.stand_in(lead.rep)
        lead.rep.submit(task)

    # -- qualification to quote ----------------------------------------------------------------
    def start(self, lead: Lead, rep: Any, now: float) -> None:
        """``lead`` qualified at ``now`` with ``rep``: prepare the quote."""
        lead.rep = rep
        lead.qualified_at = now
        if self._hazard > 0:
            hazard = self._hazard * self._levers.factor("loss_hazard", now)
            lead.deadline = now + lead.loss_e / hazard * HOURS_PER_DAY
            if lead.deadline < self.world.end:
                self._at(lead.deadline, lambda: self._lose(lead))
        lead.reworks = geometric_rounds(lead.rework_u, lead.stages.rework_prob)
        self._enter(lead, QUOTE, now)
        factor = self._products[lead.product].quote_prep_factor
        self._rep_task(lead, QUOTE_TASK, lead.prep_hours * factor, self._quoted)

    def _quoted(self, task: Task, now: float) -> None:
        lead = task.lead
        if lead.closed:
            return
        first = lead.submitted == 0.0
        self._log(lead, "prepare_quote" if first else "rework_quote", task.worker.name, task.started, now)
        self._leave(lead, now)
        self._enter(lead, APPROVAL, now)
        lead.submitted = now
        stages = lead.stages
        hours = lead.review_hours if first else stages.review_hours()
        approval = self.world.task(APPROVE_TASK, hours, lead, self._approved, lead.arrived)
        lead.pending = approval
        self.world.approvals.submit(approval)
        if stages.escalate_after is not None:
            self._at(now + stages.escalate_after, lambda: self._escalate(approval))

    def _escalate(self, task: Task) -> None:
        """A request still waiting at its escalation time goes to the first manager free, at a cost."""
        if task.started >= 0 or task.cancelled:
            return
        escalation = task.lead.stages.escalation_hours
        assert escalation is not None
        task.kind = ESCALATION
        task.hours += escalation()
        task.lead.escalated = True
        for manager in self.world.managers:
            if not manager.busy:
                manager.wake()

    def _approved(self, task: Task, now: float) -> None:
        lead = task.lead
        if lead.closed:
            return
        self._rec.approval_round(lead, now - lead.submitted, now, reworked=lead.reworks > 0, escalated=lead.escalated)
        self._log(lead, "approve_quote", task.worker.name, task.started, now)
        lead.escalated = False
        self._leave(lead, now)
        if lead.reworks > 0:
            lead.reworks -= 1
            self._enter(lead, QUOTE, now)
            factor = self._products[lead.product].quote_prep_factor
            self._rep_task(lead, QUOTE_TASK, lead.stages.quote_rework_hours() * factor, self._quoted)
            return
        self._rec.quote_sent(lead, now - lead.qualified_at, now)
        self._enter(lead, CUSTOMER, now)
        decision = now + lead.decision_days * self._products[lead.product].decision_factor * HOURS_PER_DAY
        incentive = self.world.incentive
        if incentive is not None and incentive.pull(lead, now):  # pulled forward: a discount for a decision now
            decision = now
        self._at(decision, lambda: self._decided(lead, now))

    # -- the customer and the contract -------------------------------------------------------------
    def _decided(self, lead: Lead, sent: float) -> None:
        if lead.closed:
            return
        now = self._env.now
        self._log(lead, "customer_decision", "customer", sent, now)
        self._leave(lead, now)
        if lead.accept_u >= lead.accept_prob:
            self._log(lead, "quote_declined", "customer", now, now)
            self._close(lead)
            self._rec.close(lead, DECLINED)
            return
        self._rec.step(lead, ACCEPTED, now)
        lead.accepted_at = now
        lead.revisions = geometric_rounds(lead.revision_u, lead.stages.revision_prob)
        self._enter(lead, CONTRACT, now)
        factor = self._products[lead.product].contract_prep_factor
        incentive = self.world.incentive
        start = incentive.push(lead, now) if incentive is not None else now
        if start > now:  # pushed into the next period: the contract waits (a competitor may still take it)
            hours = lead.contract_prep_hours * factor
            self._at(
                start,
                lambda: None if lead.closed else self._prepare(lead, hours, lead.legal_hours, lead.courier_out_days),
            )
            return
        self._prepare(lead, lead.contract_prep_hours * factor, lead.legal_hours, lead.courier_out_days)

    def _prepare(self, lead: Lead, prep: float, legal: float, courier_days: float) -> None:
        def prepared(task: Task, now: float) -> None:
            if lead.closed:
                return
            self._log(lead, "prepare_contract", task.worker.name, task.started, now)
            if lead.stages.paper is not None:
                arrive = now + courier_days * HOURS_PER_DAY
                self._log(lead, "courier_contract", "courier", now, arrive)
                self._at(arrive, lambda: self._legal(lead, legal))
            else:
                self._legal(lead, legal)

        self._rep_task(lead, CONTRACT_TASK, prep, prepared)

    def _legal(self, lead: Lead, legal: float) -> None:
        if lead.closed:
            return
        calendar = self.world.calendar
        start = calendar.next_working_instant(self._env.now)
        end = calendar.add_working_time(start, legal)
        self._log(lead, "legal_review", "customer_legal", start, end)
        self._at(end, lambda: self._reviewed(lead))

    def _reviewed(self, lead: Lead) -> None:
        if lead.closed:
            return
        now = self._env.now
        if lead.revisions > 0:
            lead.revisions -= 1
            stages = lead.stages
            courier = stages.courier() if stages.courier is not None else 0.0
            factor = self._products[lead.product].contract_prep_factor
            self._prepare(lead, stages.revision_prep_hours() * factor, stages.revision_legal_hours(), courier)
            return
        signed = now if lead.pulled else now + lead.sign_days * HOURS_PER_DAY
        self._at(signed, lambda: self._signed(lead, now))

    def _signed(self, lead: Lead, approved: float) -> None:
        if lead.closed:
            return
        now = self._env.now
        lead.signed_at = now  # no competitor can take it now
        paper = lead.stages.paper
        self._log(lead, "sign_contract", "customer" if paper else "esign", approved, now)
        if paper is None:
            self._countersigned(lead, now)
            return
        back = now + lead.courier_back_days * HOURS_PER_DAY
        self._log(lead, "courier_return", "courier", now, back)
        release = self.world.calendar.next_daily_instant(back, paper.countersign_times)

        def countersign() -> None:
            task = self.world.task(
                COUNTERSIGN, self.world.countersign_hours(), lead, self._countersign_done, lead.arrived
            )
            self.world.signing.submit(task)

        self._at(release, countersign)

    def _countersign_done(self, task: Task, now: float) -> None:
        self._log(task.lead, "countersign_contract", task.worker.name, task.started, now)
        self._countersigned(task.lead, now)

    def _countersigned(self, lead: Lead, now: float) -> None:
        self._leave(lead, now)
        self._rec.signed(lead, (now - lead.accepted_at) / HOURS_PER_DAY, now)
        state = lead.rep.state
        if isinstance(state, RepState):
            state.ptd_wins += 1
            state.ptd_revenue += lead.deal_size
        self._enter(lead, ORDER_ENTRY, now)
        self._enter_order(lead, geometric_rounds(lead.error_u, lead.stages.error_prob), now)

    # -- order entry -----------------------------------------------------------------------------
    def _enter_order(self, lead: Lead, errors: int, countersigned: float) -> None:
        now = self._env.now
        times = lead.stages.erp_times
        if times is None:
            end = now + lead.entry_hours
            self._log(lead, "enter_order", "erp_sync", now, end)
            self._at(end, lambda: self._booked(lead, countersigned))
            return
        release = self.world.calendar.next_daily_instant(now, times)

        def keyed(task: Task, end: float) -> None:
            self._log(lead, "enter_order", task.worker.name, task.started, end)
            if errors > 0:
                self._enter_order(lead, errors - 1, countersigned)
            else:
                self._booked(lead, countersigned)

        def key_in() -> None:
            self.world.entry_queue.submit(self.world.task(ENTRY_TASK, lead.entry_hours, lead, keyed, lead.arrived))

        self._at(release, key_in)

    def _booked(self, lead: Lead, countersigned: float) -> None:
        now = self._env.now
        self._leave(lead, now)
        self._close(lead)
        self._rec.ordered(lead, now - countersigned, now)
        self._log(lead, "order_booked", "erp", now, now)
        account = lead.account
        incentive = self.world.incentive
        new = account is None
        if account is None:
            owner = None
            if incentive is not None:  # under a scheme the winner keeps the account, or a peer if it has left
                owner = incentive.stand_in(lead.rep) if lead.rep.state.vacant else lead.rep
            account = self.world.accounts.add(lead.id, lead.region, lead.product, owner)
            account.owner.state.accounts += 1
            account.owner.state.owned.append(account)
            self.schedule_requests(account)
        if incentive is not None:
            incentive.ordered(lead, new, now)
        account.record_order(now, lead.deal_size)
        ledger = self.world.ledger
        ledger.ordered(lead, account, now)
        if account.offer:
            ledger.offer_taken(lead, account, now)

    def schedule_requests(self, account: Account) -> None:
        """Schedule the next request of an account that times its own (won during the run, or revived)."""
        t = self._env.now + account.next_gap
        if t >= self.world.end:
            return

        def request() -> None:
            assert self.account_request is not None
            n = account.requests
            self.account_request(account, t, self.world.accounts.new_account_request(account, t), n)
            self.schedule_requests(account)

        self._at(t, request)

    # -- losses and review windows -------------------------------------------------------------
    def _lose(self, lead: Lead) -> None:
        if lead.closed or lead.signed_at > 0:
            return
        now = self._env.now
        task = lead.pending
        if task is not None and task.started < 0:
            task.cancelled = True
        self._close(lead)
        self._leave(lead, now)
        self._log(lead, "lost_to_competitor", "competitor", now, now)
        self._rec.close(lead, LOST)
        if lead.account is not None:  # an existing customer went to the competitor: observable, unlike dropout
            self.world.risk.lost(lead, now)

    def start_windows(self) -> None:
        """Open the managers' review windows at their times on working days (window approval)."""
        times = self.world.window_times
        if times:
            self._at(self.world.calendar.next_daily_instant(0.0, times), self._open_window)

    def _open_window(self) -> None:
        world = self.world
        now = self._env.now
        day = int(now // HOURS_PER_DAY)
        cutoff = world.next_order()
        for manager, mobile in zip(world.managers, world.manager_mobile_days, strict=True):
            if manager.calendar.is_workday(day) and day not in mobile:  # travelling: the inbox on mobile, no tray
                state = manager.state
                state.budget = world.window_budget  # type: ignore[attr-defined]
                state.cutoff = cutoff  # type: ignore[attr-defined]
                manager.wake()
        nxt = world.calendar.next_daily_instant(now + 1e-6, world.window_times)
        if nxt < world.end:
            self._at(nxt, self._open_window)
