"""Levers: multipliers on the world's parameters that change from an instant, in some regions.

Pilots, shocks and playbooks all act through them, read where the parameter is used (a
lead's probabilities when it arrives, a deal's loss clock when it qualifies, an account's
dropout at a purchase), so a change applies from its date on and to nothing before it.
"""

from __future__ import annotations

#: The levers the simulation reads.
LEVERS: tuple[str, ...] = (
    "demand",  # share of new prospects' candidate arrivals kept
    "extra_demand",  # extra prospects from a new segment (kept while > 0)
    "qualify",  # P(qualified)
    "accept",  # P(quote accepted)
    "loss_hazard",  # the competitor's hazard of taking an open deal
    "dropout",  # every account's P(leaving after a purchase)
    "core_dropout",  # core accounts' P(leaving after a purchase)
    "complaints",  # every complaint probability of the incentive desk
    "product_b",  # share points of new leads moved from product A to B
)


class Levers:
    """Steps per lever: from clock hour ``t`` on, in ``regions`` (None: everywhere), x ``factor``."""

    def __init__(self) -> None:
        self._steps: dict[str, list[tuple[float, float, frozenset[str] | None]]] = {}

    def add(self, name: str, t: float, factor: float, regions: frozenset[str] | None = None) -> None:
        """Multiply lever ``name`` by ``factor`` from clock hour ``t`` (additive for ``product_b``)."""
        if name not in LEVERS:
            raise ValueError(f"unknown lever {name!r}; levers: {', '.join(LEVERS)}")
        self._steps.setdefault(name, []).append((t, factor, regions))

    def moves(self, name: str) -> bool:
        """Whether lever ``name`` ever changes."""
        return name in self._steps

    def factor(self, name: str, t: float, region: str | None = None) -> float:
        """Lever ``name``'s multiplier at clock hour ``t`` in ``region`` (1 when nothing applies)."""
        steps = self._steps.get(name)
        if steps is None:
            return 1.0
        value = 1.0
        for start, factor, regions in steps:
            if t >= start and (regions is None or region in regions):
                value *= factor
        return value

    def shift(self, name: str, t: float, region: str | None = None) -> float:
        """The sum of lever ``name``'s steps in force at ``t`` in ``region`` (0 when none applies): additive."""
        steps = self._steps.get(name, ())
        return sum(f for start, f, regions in steps if t >= start and (regions is None or region in regions))
