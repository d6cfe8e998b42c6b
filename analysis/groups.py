"""The best variant within each group of a study (say, per budget), with its paired lead over the others.

A group is a list of variant names (``experiment.report.groups``). Within it the winner is
chosen as for the whole study (:func:`analysis.selection.best_variant`: the best objective mean
among the variants whose intervals meet the constraints), and its lead over each other member
is the paired difference of the objective by replication (common random numbers), with its 95%
interval. The winner is clear when every paired lead's interval is above zero: variants run on
the same random numbers are compared pair by pair, which the unpaired intervals of the study's
overall selection ignore (they can overlap while every pair agrees).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.selection import Selection, best_variant
from analysis.stats import Estimate, paired_difference


@dataclass(frozen=True)
class GroupResult:
    """One group's selection and the winner's paired lead over each other member (objective units)."""

    name: str
    selection: Selection
    leads: dict[str, Estimate]  # other qualifying member -> winner minus member, paired by replication

    @property
    def clear(self) -> bool:
        """Whether the winner leads every other qualifying member beyond the paired 95% interval."""
        return self.selection.variant is not None and all(e.ci_low > 0 for e in self.leads.values())


def group_results(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    *,
    objective: str,
    maximize: bool,
    constraints: Mapping[str, tuple[float | None, float | None]],
) -> list[GroupResult]:
    """Each group's winner and leads; ``table`` is the replication table (variant, replication, metrics)."""
    out = []
    for name, members in groups.items():
        present = [m for m in members if m in set(summary["variant"])]
        if not present:
            continue
        selection = best_variant(
            summary[summary["variant"].isin(present)], objective, maximize=maximize, constraints=constraints
        )
        leads: dict[str, Estimate] = {}
        if selection.variant is not None:
            mine = _by_replication(table, selection.variant, objective)
            for other in selection.feasible:
                if other == selection.variant:
                    continue
                theirs = _by_replication(table, other, objective).reindex(mine.index)
                sign = 1.0 if maximize else -1.0
                leads[other] = paired_difference((sign * mine).tolist(), (sign * theirs).tolist())
        out.append(GroupResult(name, selection, leads))
    return out


def _by_replication(table: pd.DataFrame, variant: str, metric: str) -> pd.Series:
    rows = table[table["variant"] == variant]
    return rows.set_index("replication")[metric].astype(float)
