"""Leads and the per-lead random draws that keep variants paired."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from salesboost.distributions import Dist
from salesboost.scenario import Scenario
from sim.streams import CHUNK, Streams, VectorDraw, vector_draw


class Lead:
    """One lead moving through the pipeline; times are clock hours."""

    __slots__ = (
        "accept_u",
        "arrived",
        "channel",
        "cohort",
        "contact_hours",
        "contract_prep_hours",
        "courier_back_days",
        "courier_out_days",
        "deadline",
        "deal_size",
        "decision_days",
        "entry_hours",
        "error_u",
        "id",
        "legal_hours",
        "loss_e",
        "prep_hours",
        "qualify_u",
        "region",
        "revision_u",
        "rework_u",
        "segment",
        "sign_days",
    )

    # Filled from one pre-drawn row by LeadFactory.create (declared for the type checker).
    region: str
    channel: str
    segment: str
    deal_size: float
    contact_hours: float
    prep_hours: float
    decision_days: float
    contract_prep_hours: float
    legal_hours: float
    sign_days: float
    courier_out_days: float
    courier_back_days: float
    entry_hours: float
    qualify_u: float
    rework_u: float
    accept_u: float
    revision_u: float
    error_u: float
    loss_e: float

    def __init__(self, lead_id: int, arrived: float) -> None:
        self.id = lead_id
        self.arrived = arrived
        self.deadline = float("inf")
        self.cohort = False


# Per-lead values: attribute name -> (stream name, where the distribution lives).
# Every lead draws one value of each, used or not, so lead i sees the same numbers in
# every variant whatever happens to other leads. A missing distribution (a parameter the
# variant's policy does not use) draws nothing and gives 0.
_DRAWS: dict[str, tuple[str, Callable[[Scenario], Dist | None]]] = {
    "contact_hours": ("followup.contact_hours", lambda s: s.pipeline.followup.contact_hours),
    "prep_hours": ("quote.prep_hours", lambda s: s.pipeline.quote.prep_hours),
    "decision_days": ("customer.decision_days", lambda s: s.market.decision_days),
    "contract_prep_hours": ("contract.prep_hours", lambda s: s.pipeline.contract.prep_hours),
    "legal_hours": ("contract.legal_review_hours", lambda s: s.pipeline.contract.legal_review_hours),
    "sign_days": ("contract.sign_days", lambda s: s.pipeline.contract.sign_days),
    "courier_out_days": ("contract.courier_out", lambda s: s.pipeline.contract.courier_days),
    "courier_back_days": ("contract.courier_back", lambda s: s.pipeline.contract.courier_days),
    "entry_hours": ("erp.entry_hours", lambda s: s.pipeline.erp.entry_hours),
}
_UNIFORMS: dict[str, str] = {
    "qualify_u": "followup.qualify",
    "rework_u": "quote.rework",
    "accept_u": "customer.accept",
    "revision_u": "contract.revision",
    "error_u": "erp.error",
}

#: Attributes filled from one row per lead, in row order.
ROW: tuple[str, ...] = ("region", "channel", "segment", "deal_size", *_DRAWS, *_UNIFORMS, "loss_e")


class LeadFactory:
    """Creates leads with their attributes and pre-drawn values, in arrival order.

    Values are drawn ``CHUNK`` leads at a time with numpy and handed out as one row per lead.
    """

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        market = scenario.market
        self._attributes = [
            _Categorical(streams.generator(f"lead_attrs.{name}"), shares)
            for name, shares in (
                ("region", market.regions),
                ("channel", {k: c.share for k, c in market.channels.items()}),
                ("segment", {k: s.share for k, s in market.segments.items()}),
            )
        ]
        self._deal_size = [
            vector_draw(market.segments[name].deal_size, streams.generator(f"lead_attrs.deal_size.{name}"))
            for name in self._attributes[2].names
        ]
        self._values: list[VectorDraw | None] = []
        for stream, where in _DRAWS.values():
            dist = where(scenario)
            self._values.append(None if dist is None else vector_draw(dist, streams.generator(stream)))
        self._values += [streams.generator(stream).random for stream in _UNIFORMS.values()]
        self._values.append(streams.generator("customer.competitor").standard_exponential)
        self._rows: list[tuple[Any, ...]] = []
        self._index = CHUNK
        self._ids = itertools.count()

    def _refill(self) -> None:
        region, channel, segment = (a.draw(CHUNK) for a in self._attributes)
        segment_codes = self._attributes[2].codes
        deal = np.zeros(CHUNK)
        for code, draw in enumerate(self._deal_size):
            deal = np.where(segment_codes == code, draw(CHUNK), deal)
        zeros = [0.0] * CHUNK
        columns = [region, channel, segment, deal.tolist()]
        columns += [zeros if draw is None else draw(CHUNK).tolist() for draw in self._values]
        self._rows = list(zip(*columns, strict=True))
        self._index = 0

    def create(self, arrived: float) -> Lead:
        """A new lead arriving at ``arrived``."""
        if self._index >= CHUNK:
            self._refill()
        row = self._rows[self._index]
        self._index += 1
        lead = Lead(next(self._ids), arrived)
        (
            lead.region,
            lead.channel,
            lead.segment,
            lead.deal_size,
            lead.contact_hours,
            lead.prep_hours,
            lead.decision_days,
            lead.contract_prep_hours,
            lead.legal_hours,
            lead.sign_days,
            lead.courier_out_days,
            lead.courier_back_days,
            lead.entry_hours,
            lead.qualify_u,
            lead.rework_u,
            lead.accept_u,
            lead.revision_u,
            lead.error_u,
            lead.loss_e,
        ) = row
        return lead


class _Categorical:
    """Draws names by share from one uniform per lead."""

    def __init__(self, rng: np.random.Generator, shares: dict[str, float]) -> None:
        self._rng = rng
        self.names = [k for k, v in shares.items() if v > 0]
        total = sum(shares[k] for k in self.names)
        bounds = np.cumsum([shares[k] / total for k in self.names])
        bounds[-1] = np.inf  # a uniform on [0, 1) always lands in some interval
        self._bounds = bounds
        self.codes = np.zeros(0, dtype=np.intp)

    def draw(self, n: int) -> list[str]:
        """``n`` names; their indices are kept in :attr:`codes`."""
        self.codes = np.searchsorted(self._bounds, self._rng.random(n), side="right")
        names = self.names
        return [names[c] for c in self.codes.tolist()]
