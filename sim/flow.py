"""The deal journey: a qualified lead from quote to order, as a SimPy process.

Each step asks the stage's desk or person when its work ends, records the stage visit and
waits until then: one timeout per step. A qualified lead carries a competitor deadline
(an exponential clock with the configured daily hazard); a step that would end after it
ends at the deadline instead, and the deal is lost.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from salesboost.rules import geometric_rounds
from sim.calendar import HOURS_PER_DAY
from sim.lead import Lead
from sim.recorder import (
    ACCEPTED,
    APPROVAL,
    CONTRACT,
    CUSTOMER,
    DECLINED,
    LOST,
    ORDER_ENTRY,
    QUALIFIED,
    QUOTE,
)
from sim.servers import FifoServer
from sim.world import World

Process = Generator[Any, Any, Any]


def deal_journey(world: World, lead: Lead, rep: FifoServer, qualified_at: float) -> Process:
    """Move a lead qualified at ``qualified_at`` (its first contact's end) to won or lost."""
    env = world.env
    rec = world.recorder
    log = rec.log
    pipeline = world.scenario.pipeline
    yield env.timeout(qualified_at - env.now)
    hazard = world.scenario.behaviour.loss_hazard_per_day
    if hazard > 0:
        lead.deadline = qualified_at + lead.loss_e / hazard * HOURS_PER_DAY
    rec.step(lead, QUALIFIED)

    # Quote preparation by the rep, then approval rounds; a round may send it back.
    start, end = rep.schedule(env.now, lead.prep_hours)
    rec.work(start, lead.prep_hours)
    if log is not None:
        log(lead, "prepare_quote", rep.name, start, end)
    if not (yield from _until(world, lead, QUOTE, end)):
        return
    reworks = geometric_rounds(lead.rework_u, pipeline.quote.rework_prob)
    while True:
        submitted = env.now
        review_start, decided, manager, escalated = world.approval.decide(submitted)
        rec.approval_round(lead, decided - submitted, reworked=reworks > 0, escalated=escalated)
        if log is not None:
            log(lead, "approve_quote", f"manager_{manager + 1}", review_start, decided)
        if not (yield from _until(world, lead, APPROVAL, decided)):
            return
        if reworks == 0:
            break
        reworks -= 1
        hours = world.quote_rework_hours()
        start, end = rep.schedule(env.now, hours)
        rec.work(start, hours)
        if log is not None:
            log(lead, "rework_quote", rep.name, start, end)
        if not (yield from _until(world, lead, QUOTE, end)):
            return
    rec.quote_sent(lead, env.now - qualified_at)

    # The customer decides; a competitor may win first.
    sent = env.now
    decision = sent + lead.decision_days * HOURS_PER_DAY
    if not (yield from _until(world, lead, CUSTOMER, decision)):
        return
    if log is not None:
        log(lead, "customer_decision", "customer", sent, decision)
    if lead.accept_u >= world.accept_prob[lead.segment]:
        if log is not None:
            log(lead, "quote_declined", "customer", decision, decision)
        rec.close(lead, DECLINED)
        return
    rec.step(lead, ACCEPTED)

    if not (yield from _contract(world, lead, rep)):
        return
    rec.signed(lead, (env.now - decision) / HOURS_PER_DAY)

    # Order entry; an entry with an error is keyed again at the next batch.
    countersigned = env.now
    errors = geometric_rounds(lead.error_u, pipeline.erp.error_prob)
    hours = lead.entry_hours
    while True:
        start, end, clerk = world.orders.book(env.now, hours)
        if log is not None:
            log(lead, "enter_order", clerk, start, end)
        rec.visit(ORDER_ENTRY, env.now, end)
        yield env.timeout(end - env.now)
        if errors == 0:
            break
        errors -= 1
    rec.ordered(lead, env.now - countersigned, env.now)
    if log is not None:
        log(lead, "order_booked", "erp", env.now, env.now)


def _contract(world: World, lead: Lead, rep: FifoServer) -> Generator[Any, Any, bool]:
    """Contract from acceptance to countersignature; False if the deal is lost on the way."""
    env = world.env
    rec = world.recorder
    log = rec.log
    contract = world.scenario.pipeline.contract
    paper = contract.policy == "paper"
    customer_hours = world.calendar
    revisions = geometric_rounds(lead.revision_u, contract.revision_prob)
    prep = lead.contract_prep_hours
    legal = lead.legal_hours
    courier = lead.courier_out_days
    while True:
        start, end = rep.schedule(env.now, prep)
        rec.work(start, prep)
        if log is not None:
            log(lead, "prepare_contract", rep.name, start, end)
        t = end
        if paper:
            arrive = t + courier * HOURS_PER_DAY
            if log is not None:
                log(lead, "courier_contract", "courier", t, arrive)
            t = arrive
        review_start = customer_hours.next_working_instant(t)
        t = customer_hours.add_working_time(review_start, legal)
        if log is not None:
            log(lead, "legal_review", "customer_legal", review_start, t)
        if revisions == 0:
            break
        if not (yield from _until(world, lead, CONTRACT, t)):
            return False
        revisions -= 1
        prep = world.revision_prep_hours()
        legal = world.revision_legal_hours()
        courier = world.revision_courier_days()
    signed = t + lead.sign_days * HOURS_PER_DAY
    if signed > lead.deadline:
        yield from _until(world, lead, CONTRACT, signed)
        return False
    if log is not None:
        log(lead, "sign_contract", "customer" if paper else "esign", t, signed)
    done = signed
    if paper:
        back = signed + lead.courier_back_days * HOURS_PER_DAY
        assert world.countersign_times is not None
        done = world.calendar.next_daily_instant(back, world.countersign_times)
        if log is not None:
            log(lead, "courier_return", "courier", signed, back)
            log(lead, "countersign_contract", "manager", done, done)
    # Once the customer has signed, no competitor can take the deal; countersignature and
    # order entry only complete it (the outcome "won" is recorded when the order is booked).
    rec.visit(CONTRACT, env.now, done)
    yield env.timeout(done - env.now)
    return True


def _until(world: World, lead: Lead, stage: int, end: float) -> Generator[Any, Any, bool]:
    """Spend ``[now, end)`` in ``stage``; if the deadline comes first, lose the deal then."""
    env = world.env
    rec = world.recorder
    lost = end > lead.deadline
    leave = lead.deadline if lost else end
    rec.visit(stage, env.now, leave)
    yield env.timeout(leave - env.now)
    if lost:
        if rec.log is not None:
            rec.log(lead, "lost_to_competitor", "competitor", leave, leave)
        rec.close(lead, LOST)
    return not lost
