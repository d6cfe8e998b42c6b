"""Leads and their random draws, keyed by entity so that variants stay paired lead by lead.

A lead is the n-th request of one source: the n-th prospect of a channel (``web-17``) or the
n-th repeat request of an account (``A0042-2``). Every value a lead can need is drawn when
it is created, used or not, from streams that belong to its source and purpose, so the same
lead has the same attributes and the same luck in every variant of a replication, whatever
changes elsewhere (another channel's volume, how many leads an account sends, the approval
desk). Values are drawn column-wise with numpy, many leads at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from salesboost.distributions import Dist
from salesboost.pipeline import PaperContract, PipelineConfig
from salesboost.scenario import Scenario
from sim.inversion import InvertedRows
from sim.streams import CHUNK, Streams, VectorDraw, vector_draw


def courier_days(pipeline: PipelineConfig) -> Dist | None:
    """The courier's transit time of ``pipeline``'s paper contract (None with e-signature)."""
    mechanism = pipeline.contract.mechanism
    return mechanism.courier_days if isinstance(mechanism, PaperContract) else None


#: Per-lead values whose distribution is the pipeline's: attribute -> where it lives in a pipeline.
PIPELINE_DRAWS: dict[str, Callable[[PipelineConfig], Dist | None]] = {
    "contact_hours": lambda p: p.followup.contact_hours,
    "attempt_hours": lambda p: p.followup.attempt_hours,
    "prep_hours": lambda p: p.quote.prep_hours,
    "review_hours": lambda p: p.approval.review_hours,
    "contract_prep_hours": lambda p: p.contract.prep_hours,
    "legal_hours": lambda p: p.contract.legal_review_hours,
    "sign_days": lambda p: p.contract.sign_days,
    "courier_out_days": courier_days,
    "courier_back_days": courier_days,
    "entry_hours": lambda p: p.erp.entry_hours,
}


def _of_pipeline(where: Callable[[PipelineConfig], Dist | None]) -> Callable[[Scenario], Dist | None]:
    return lambda s: where(s.pipeline)


#: Per-lead values drawn from a distribution: attribute -> where it lives in the scenario, in row
#: order (the pipeline's, with the market's decision delay after the approval's review).
_BEFORE_DECISION = list(PIPELINE_DRAWS)[:4]
DRAWS: dict[str, Callable[[Scenario], Dist | None]] = {
    **{name: _of_pipeline(PIPELINE_DRAWS[name]) for name in _BEFORE_DECISION},
    "decision_days": lambda s: s.market.decision_days,
    **{name: _of_pipeline(w) for name, w in PIPELINE_DRAWS.items() if name not in _BEFORE_DECISION},
}
#: Per-lead uniforms on [0, 1).
UNIFORMS: tuple[str, ...] = (
    "region_u",
    "product_u",
    "contact_u",
    "qualify_u",
    "rework_u",
    "accept_u",
    "revision_u",
    "error_u",
)
#: Every drawn attribute, in row order: draws, uniforms, the deal's base size, the competitor clock.
ROW: tuple[str, ...] = (*DRAWS, *UNIFORMS, "deal_base", "loss_e")


class Lead:
    """One request moving through the pipeline; times are clock hours."""

    __slots__ = (
        "accept_prob",
        "account",
        "accepted_at",
        "arrived",
        "attempt",
        "closed",
        "escalated",
        "first_logged",
        "gamed",
        "needed",
        "pending",
        "qualified_at",
        "revisions",
        "reworks",
        "signed_at",
        "stage",
        "stage_entered",
        "submitted",
        "channel",
        "cohort",
        "deadline",
        "deal_size",
        "id",
        "margin",
        "panel_key",
        "product",
        "pulled",
        "qualify_prob",
        "region",
        "rep",
        "segment",
        "source_index",
        "stages",
        "tier",
        *ROW,
    )

    # Set by the intake from the lead's source and draws (declared for the type checker).
    region: str
    channel: str  # the prospect's channel, or "account" for an account's request
    segment: str  # "new" or "existing"
    product: str
    deal_size: float
    margin: float
    qualify_prob: float
    accept_prob: float
    stages: Any  # the sim.stages.Stages of the pipeline it arrived under (set at arrival)
    # Filled from one drawn row.
    contact_hours: float
    attempt_hours: float
    prep_hours: float
    review_hours: float
    decision_days: float
    contract_prep_hours: float
    legal_hours: float
    sign_days: float
    courier_out_days: float
    courier_back_days: float
    entry_hours: float
    region_u: float
    product_u: float
    contact_u: float
    qualify_u: float
    rework_u: float
    accept_u: float
    revision_u: float
    error_u: float
    deal_base: float
    loss_e: float

    def __init__(self, lead_id: str, source_index: int, arrived: float, row: tuple[float, ...]) -> None:
        self.id = lead_id
        self.source_index = source_index
        self.arrived = arrived
        self.deadline = float("inf")
        self.cohort = False
        self.tier = "prospect"  # salesboost.panel.PROSPECT_TIER; an account's request: its tier at the time
        self.account: Any = None
        self.rep: Any = None
        self.panel_key = 0
        self.attempt = 0
        self.needed = 1  # the call attempt that reaches the lead (set by the intake)
        self.closed = False  # lost, declined or won: later callbacks of the deal do nothing
        self.pending: Any = None  # the task the deal waits for (cancelled if the deal is lost)
        self.stage = -1
        self.stage_entered = 0.0
        self.qualified_at = self.accepted_at = self.signed_at = self.submitted = 0.0
        self.reworks = self.revisions = 0
        self.escalated = False
        self.gamed = False  # its first attempt was a perfunctory touch that stopped the SLA clock
        self.first_logged = False  # its first attempt (or the touch) has been recorded
        self.pulled = False  # pulled forward before a period end: the customer decides and signs at once
        _fill(self, row)


class RowSource:
    """Rows of per-lead values from one set of streams (one per purpose), many at a time."""

    __slots__ = ("_draws",)

    def __init__(self, scenario: Scenario, streams: Streams, prefix: str, deal_size: Dist) -> None:
        draws: list[VectorDraw | None] = []
        for name, where in DRAWS.items():
            dist = where(scenario)
            draws.append(None if dist is None else vector_draw(dist, streams.generator(f"{prefix}.{name}")))
        draws += [streams.generator(f"{prefix}.{name}").random for name in UNIFORMS]
        draws.append(vector_draw(deal_size, streams.generator(f"{prefix}.deal_size")))
        draws.append(streams.generator(f"{prefix}.competitor").standard_exponential)
        self._draws = draws

    def rows(self, n: int) -> list[tuple[float, ...]]:
        """The next ``n`` rows."""
        zeros = [0.0] * n
        columns = [zeros if draw is None else draw(n).tolist() for draw in self._draws]
        return list(zip(*columns, strict=True))


class SequentialRows:
    """Row n of a source for its n-th lead, drawn ``CHUNK`` rows at a time."""

    __slots__ = ("_index", "_rows", "_source")

    def __init__(self, source: RowSource) -> None:
        self._source = source
        self._rows: list[tuple[float, ...]] = []
        self._index = 0

    def next(self) -> tuple[float, ...]:
        """The next lead's row."""
        i = self._index
        if i >= len(self._rows):
            self._rows = self._source.rows(CHUNK)
            i = 0
        self._index = i + 1
        return self._rows[i]


class SingleRows:
    """How to draw one row at a time from an entity's own generator (an account's request).

    One instance serves every entity: it holds the scenario's distributions, the entity holds
    its generator. Rows are drawn by inversion (:mod:`sim.inversion`), one uniform per column,
    so a variant that changes one distribution leaves the entity's other values unchanged.
    """

    __slots__ = ("_rows",)

    def __init__(self, scenario: Scenario, deal_size: Dist) -> None:
        columns: list[Dist | str | None] = [where(scenario) for where in DRAWS.values()]
        columns += ["uniform"] * len(UNIFORMS)
        columns += [deal_size, Dist(dist="exponential", mean=1.0)]
        self._rows = InvertedRows(columns)

    def row(self, rng: np.random.Generator) -> tuple[float, ...]:
        """The entity's next row, drawn from ``rng``."""
        return self._rows.row(rng)


def categorical(u: float, bounds: list[float], names: list[str]) -> str:
    """The name whose cumulative share interval holds ``u``."""
    for bound, name in zip(bounds, names, strict=True):
        if u < bound:
            return name
    return names[-1]


def share_bounds(shares: dict[str, float]) -> tuple[list[float], list[str]]:
    """Cumulative bounds and names of the positive shares (for :func:`categorical`)."""
    names = [k for k, v in shares.items() if v > 0]
    total = sum(shares[k] for k in names)
    bounds = list(np.cumsum([shares[k] / total for k in names]))
    bounds[-1] = float("inf")
    return [float(b) for b in bounds], names


def _filler() -> Callable[[Lead, tuple[float, ...]], None]:
    """A function that sets a lead's drawn attributes from a row in one tuple unpacking.

    Generated from ``ROW`` so the attribute list has one source; unpacking into attributes
    is several times faster than a ``setattr`` loop, and it runs for every lead.
    """
    targets = ", ".join(f"lead.{name}" for name in ROW)
    namespace: dict[str, Any] = {}
    exec(f"def fill(lead, row):\n    {targets} = row\n", namespace)
    fill: Callable[[Lead, tuple[float, ...]], None] = namespace["fill"]
    return fill


_fill = _filler()
