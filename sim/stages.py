"""Stages: what the intake and the deal flow read from one pipeline, built once per world.

A world runs the scenario's pipeline and, with a pilot that has one (``pilot.pipeline``), a
second for the leads that arrive in a pilot region on or after the pilot's start: a cohort
rule, so a lead keeps the pipeline it arrived under to its end. Each lead carries its
:class:`Stages` (``lead.stages``) and every per-lead parameter is read from there.

Random numbers: the base pipeline's samplers keep their stream names, so a world without a
pilot draws exactly what it drew before. A pilot pipeline's sampler is the base's own where
the two distributions are equal (the pilot changes nothing there) and a stream of its own,
``pilot.<name>``, where they differ; a pilot lead's per-lead values whose distribution
differs are drawn again at arrival from the lead's own stream, ``pilot.lead.<lead id>``
(:meth:`Stages.adopt`), one uniform per value by inversion: the same lead gets the same pilot
values in every variant, whichever pilot leads arrived before it.
"""

from __future__ import annotations

from collections.abc import Callable

from salesboost.distributions import Dist
from salesboost.pipeline import DailyBatch, ErpBatch, OnlineInbox, PaperContract, PipelineConfig, ReviewWindows
from salesboost.scenario import Scenario
from sim.inversion import InvertedRows
from sim.lead import PIPELINE_DRAWS, Lead, courier_days
from sim.streams import Sampler, Streams

#: Stream of a pilot pipeline's own draws: ``PILOT_PREFIX + <the base stream's name>``.
PILOT_PREFIX = "pilot."


def _escalation(pipeline: PipelineConfig) -> Dist | None:
    approval = pipeline.approval.mechanism
    return approval.escalation_hours if isinstance(approval, OnlineInbox) else None


#: The samplers of later rounds (rework, revisions, escalations): stream name -> where in a pipeline.
SAMPLERS: dict[str, Callable[[PipelineConfig], Dist | None]] = {
    "quote.rework_hours": lambda p: p.quote.rework_hours,
    "contract.revision_prep_hours": lambda p: p.contract.prep_hours,
    "contract.revision_legal_hours": lambda p: p.contract.legal_review_hours,
    "approval.review_hours": lambda p: p.approval.review_hours,
    "approval.escalation_hours": _escalation,
    "contract.revision_courier_days": courier_days,
}


class Stages:
    """One pipeline's mechanisms and samplers, as the per-lead code reads them.

    ``base`` is the world's base :class:`Stages` when this one is a pilot's: samplers with the
    same distribution are shared with it, the others draw from ``pilot.``-prefixed streams.
    """

    __slots__ = (
        "attempt_cap",
        "batch",
        "batch_times",
        "courier",
        "erp_times",
        "error_prob",
        "escalate_after",
        "escalation_hours",
        "name",
        "online",
        "paper",
        "pipeline",
        "pooled",
        "quote_rework_hours",
        "redraw",
        "redraw_rows",
        "retry_gap",
        "review_hours",
        "revision_legal_hours",
        "revision_prep_hours",
        "revision_prob",
        "rework_prob",
        "rule",
        "samplers",
        "streams",
        "windows",
    )

    def __init__(self, pipeline: PipelineConfig, streams: Streams, base: Stages | None = None) -> None:
        self.pipeline = pipeline
        self.name = pipeline.name
        self.samplers: dict[str, Sampler] = {}
        for name, where in SAMPLERS.items():
            dist = where(pipeline)
            if dist is None:
                continue
            if base is not None and name in base.samplers and where(base.pipeline) == dist:
                self.samplers[name] = base.samplers[name]
            else:
                self.samplers[name] = streams.sampler(name if base is None else PILOT_PREFIX + name, dist)
        assignment = pipeline.assignment.mechanism
        self.batch_times = assignment.times if isinstance(assignment, DailyBatch) else None
        self.batch: list[Lead] = []  # leads waiting for the next hand-out (shared by equal batch times)
        self.rule = assignment.rule
        self.pooled = assignment.rule == "pooled"
        self.attempt_cap = pipeline.followup.max_attempts
        self.retry_gap = pipeline.followup.retry_gap_hours
        self.rework_prob = pipeline.quote.rework_prob
        self.quote_rework_hours = self.samplers["quote.rework_hours"]
        approval = pipeline.approval.mechanism
        self.online = isinstance(approval, OnlineInbox)
        self.escalate_after = approval.escalate_after_hours if isinstance(approval, OnlineInbox) else None
        self.escalation_hours = self.samplers.get("approval.escalation_hours")
        self.windows = approval if isinstance(approval, ReviewWindows) else None
        self.review_hours = self.samplers["approval.review_hours"]
        self.revision_prob = pipeline.contract.revision_prob
        contract = pipeline.contract.mechanism
        self.paper = contract if isinstance(contract, PaperContract) else None
        self.revision_prep_hours = self.samplers["contract.revision_prep_hours"]
        self.revision_legal_hours = self.samplers["contract.revision_legal_hours"]
        self.courier = self.samplers.get("contract.revision_courier_days")
        self.error_prob = pipeline.erp.error_prob
        erp = pipeline.erp.mechanism
        self.erp_times = erp.times if isinstance(erp, ErpBatch) else None
        self.streams = streams
        #: The per-lead attributes a pilot lead draws anew, and their rows (None: a value never read, 0).
        self.redraw: tuple[str, ...] = ()
        self.redraw_rows: InvertedRows | None = None
        if base is not None:
            changed = [
                (a, where(pipeline)) for a, where in PIPELINE_DRAWS.items() if where(pipeline) != where(base.pipeline)
            ]
            if changed:
                self.redraw = tuple(a for a, _ in changed)
                self.redraw_rows = InvertedRows([dist for _, dist in changed])

    def adopt(self, lead: Lead) -> None:
        """``lead`` runs this pipeline: its per-lead values whose distribution differs are drawn anew.

        From a generator keyed by the lead's id (not a shared stream in arrival order), so a
        lead's pilot values do not depend on which other leads the pilot took.
        """
        lead.stages = self
        rows = self.redraw_rows
        if rows is None:
            return
        values = rows.row(self.streams.entity(f"{PILOT_PREFIX}lead.{lead.id}"))
        for attribute, value in zip(self.redraw, values, strict=True):
            setattr(lead, attribute, value)


def running_cost(scenario: Scenario, weeks: float) -> float:
    """The pipelines' running cost over the measured ``weeks``.

    Every seat pays the scenario's pipeline; with a pilot pipeline, the pilot regions' share of
    the reps (their seats) pays the pilot's instead over the measured weeks from its start.
    """
    economics, team = scenario.economics, scenario.team
    cost = economics.running_cost(scenario.pipeline.options(), team, weeks)
    pilot = scenario.pilot
    if pilot.pipeline is None or not pilot.regions:
        return cost
    horizon = scenario.horizon
    start = max(float(pilot.start_day(scenario.calendar.start())), horizon.warmup_days)
    piloted = max(0.0, horizon.days - start) / 7.0
    share = sum(team.reps.get(r, 0) for r in pilot.regions) / max(1, sum(team.reps.values()))
    own = economics.running_cost(pilot.pipeline.options(), team, piloted)
    usual = economics.running_cost(scenario.pipeline.options(), team, piloted)
    return cost + share * (own - usual)
