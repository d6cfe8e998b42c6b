"""Products: what a lead asks for, at what price and margin, and how it changes the work."""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks


@dataclass(kw_only=True)
class ProductConfig:
    """One product line; factors scale the segment's deal size and the pipeline's times."""

    share: float  # share of new leads asking for it (existing accounts reorder their own product)
    price_factor: float  # x the segment's deal size
    margin: float  # gross margin on its revenue
    quote_prep_factor: float  # x quote preparation and rework time
    contract_prep_factor: float  # x contract drafting time
    decision_factor: float  # x the customer's decision time

    def __post_init__(self) -> None:
        checks.probability("share", self.share)
        checks.positive("price_factor", self.price_factor)
        checks.probability("margin", self.margin)
        checks.positive("quote_prep_factor", self.quote_prep_factor)
        checks.positive("contract_prep_factor", self.contract_prep_factor)
        checks.positive("decision_factor", self.decision_factor)
