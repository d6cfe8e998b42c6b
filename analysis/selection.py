"""Choosing among the variants of a sweep: a Pareto front, and the best under risk constraints.

Constraints are read conservatively: a variant meets a bound only if its whole 95% interval
does, so a variant whose mean meets the bound but whose interval crosses it is rejected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_ESTIMATE = ("mean", "ci_low", "ci_high")


def metric_frame(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric of the summary: index variant, columns ``mean, ci_low, ci_high``."""
    rows = summary[summary["metric"] == metric]
    if rows.empty:
        raise ValueError(f"metric {metric!r} is not in the summary (has: {sorted(set(summary['metric']))})")
    return rows.drop_duplicates("variant").set_index("variant")[list(_ESTIMATE)].astype(float)


def format_number(value: float, digits: int = 3) -> str:
    """A metric value with ``digits`` significant digits; thousands as k, M and B."""
    if not math.isfinite(value):
        return "n/a"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


def format_value(value: object) -> str:
    """A parameter value for a label: numbers to 6 significant digits, anything else as text."""
    if isinstance(value, bool | np.bool_ | str):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{float(value):.6g}" if math.isfinite(value) else "n/a"
    return str(value)


def pareto_front(
    summary: pd.DataFrame, x_metric: str, y_metric: str, *, x_better: int = -1, y_better: int = 1
) -> list[str]:
    """Variants whose means no other variant beats on both metrics, sorted by the x mean.

    ``*_better`` is -1 when lower is better and +1 when higher is better. A variant is
    dominated by one at least as good on both and strictly better on one, so variants
    with equal means on both metrics are all kept. Variants missing either mean are left out.
    """
    for better in (x_better, y_better):
        if better not in (-1, 1):
            raise ValueError(f"better must be -1 (lower) or +1 (higher), got {better!r}")
    means = pd.concat(
        [metric_frame(summary, x_metric)["mean"].rename("x"), metric_frame(summary, y_metric)["mean"].rename("y")],
        axis=1,
    ).dropna()
    a = means["x"].to_numpy() * x_better
    b = means["y"].to_numpy() * y_better
    at_least = (a[None, :] >= a[:, None]) & (b[None, :] >= b[:, None])
    strictly = (a[None, :] > a[:, None]) | (b[None, :] > b[:, None])
    front = means[~(at_least & strictly).any(axis=1)]
    front = front.assign(_name=front.index.astype(str)).sort_values(["x", "_name"])
    return [str(v) for v in front.index]


@dataclass(frozen=True)
class Selection:
    """The best variant under constraints, with the feasible set and why the others failed.

    ``variant`` is the feasible variant with the best objective mean. It is called the best
    (``clear``) only when its 95% interval separates from every other feasible variant's;
    ``tied`` lists those whose intervals overlap it, best mean first.
    """

    variant: str | None
    objective: str
    maximize: bool
    constraints: dict[str, tuple[float | None, float | None]]
    feasible: list[str]  # best first
    rejected: dict[str, str]  # variant -> why it failed, one line
    estimate: tuple[float, float, float] | None = None  # objective (mean, ci_low, ci_high) of ``variant``
    tied: list[str] = field(default_factory=list)  # feasible variants whose interval overlaps ``variant``'s
    estimates: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # of every feasible variant

    @property
    def clear(self) -> bool:
        """Whether ``variant`` is ahead of every other feasible variant beyond the 95% intervals."""
        return self.variant is not None and not self.tied

    @property
    def best(self) -> str | None:
        """``variant`` when it is clearly the best, else None (no clear difference)."""
        return self.variant if self.clear else None

    def describe(self) -> str:
        """One paragraph in plain English: the choice (or that there is none), the constraints, the count."""
        total = len(self.feasible) + len(self.rejected)
        condition = f" under {_describe_constraints(self.constraints)}" if self.constraints else ""
        if self.variant is None:
            if self.constraints:
                text = f"No variant meets {_describe_constraints(self.constraints)}: 0 of {total} variants qualify."
            else:
                text = f"No variant has a {self.objective} mean ({total} variants checked)."
            if self.rejected:
                first, reason = next(iter(self.rejected.items()))
                text += f" For example '{first}': {reason}."
            return text
        count = (
            f"{len(self.feasible)} of {total} variants meet the constraints"
            if self.constraints
            else f"{total} variant{'s' if total != 1 else ''} compared"
        )
        value = _estimate_text(self.estimate)
        if not self.clear:
            return (
                f"No clear difference in {self.objective}{condition} among {_name_list([self.variant, *self.tied])}: "
                f"their 95% intervals overlap; the {'highest' if self.maximize else 'lowest'} mean is "
                f"'{self.variant}' with {value}; {count}."
            )
        goal = f"{'Highest' if self.maximize else 'Lowest'} {self.objective}"
        runners = [v for v in self.feasible if v != self.variant]
        if runners:
            runner = runners[0]
            ahead = f"clearly ahead of the runner-up '{runner}' ({_estimate_text(self.estimates.get(runner))})"
        else:
            ahead = "the only variant that meets the constraints" if self.constraints else "the only variant"
        return f"{goal}{condition}: '{self.variant}' with {self.objective} {value} (95% CI), {ahead}; {count}."


def _estimate_text(estimate: tuple[float, float, float] | None) -> str:
    """``mean [low, high]`` with three significant digits."""
    mean, low, high = estimate or (math.nan, math.nan, math.nan)
    return f"{format_number(mean)} [{format_number(low)}, {format_number(high)}]"


def _name_list(names: list[str], shown: int = 3) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b', 'c' and 4 more``."""
    quoted = [f"'{n}'" for n in names[:shown]]
    rest = len(names) - len(quoted)
    if rest:
        return f"{', '.join(quoted)} and {rest} more"
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def overlaps(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """Whether two ``(mean, ci_low, ci_high)`` intervals overlap; a missing bound counts as overlapping."""
    if not all(math.isfinite(x) for x in (a[1], a[2], b[1], b[2])):
        return True
    return a[1] <= b[2] and b[1] <= a[2]


def _describe_constraints(constraints: Mapping[str, tuple[float | None, float | None]]) -> str:
    """Constraints as text, e.g. ``x <= 0.05 (95% CI upper bound)``, joined by ``and``."""
    parts = []
    for metric, (low, high) in constraints.items():
        if low is not None and high is not None:
            parts.append(f"{low:g} <= {metric} <= {high:g} (whole 95% CI)")
        elif high is not None:
            parts.append(f"{metric} <= {high:g} (95% CI upper bound)")
        elif low is not None:
            parts.append(f"{metric} >= {low:g} (95% CI lower bound)")
    return " and ".join(parts) or "no constraints"


def best_variant(
    summary: pd.DataFrame,
    objective: str,
    *,
    maximize: bool = True,
    constraints: Mapping[str, tuple[float | None, float | None]] = {},
) -> Selection:
    """The variant with the best ``objective`` mean among those whose intervals meet every constraint.

    It is clearly the best only if its 95% interval overlaps no other feasible variant's
    (``Selection.clear``; a conservative reading: unpaired intervals of the means).
    ``constraints`` maps a metric to ``(min, max)``, either bound ``None``. A variant is feasible
    when its 95% CI lower bound is ``>= min`` and its upper bound ``<= max``; a missing interval
    fails. Ties on the mean go to the tighter objective interval, then to the first name.
    """
    for metric, (low, high) in constraints.items():
        if low is not None and high is not None and low > high:
            raise ValueError(f"constraint on {metric!r}: min {low} is above max {high}")
    goal = metric_frame(summary, objective)
    bounded = {metric: metric_frame(summary, metric) for metric in constraints}
    feasible, rejected = [], {}
    for variant in goal.index:
        reasons = [_objective_reason(objective, goal.loc[variant])]
        for metric, bounds in constraints.items():
            estimate = bounded[metric].loc[variant] if variant in bounded[metric].index else None
            reasons.append(_constraint_reason(metric, estimate, bounds))
        failed = [r for r in reasons if r]
        if failed:
            rejected[str(variant)] = "; ".join(failed)
        else:
            feasible.append(str(variant))
    sign = -1.0 if maximize else 1.0
    feasible.sort(key=lambda v: (sign * goal.loc[v, "mean"], _width(goal.loc[v]), v))
    chosen = feasible[0] if feasible else None
    estimates = {v: _triple(goal.loc[v]) for v in feasible}
    estimate = estimates[chosen] if chosen is not None else None
    tied = [v for v in feasible[1:] if estimate is not None and overlaps(estimate, estimates[v])]
    return Selection(chosen, objective, maximize, dict(constraints), feasible, rejected, estimate, tied, estimates)


def _triple(row: pd.Series) -> tuple[float, float, float]:
    """``(mean, ci_low, ci_high)`` of a summary row."""
    return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])


def _objective_reason(objective: str, row: pd.Series) -> str:
    """Why a variant cannot be ranked on the objective, or ``""``."""
    return "" if math.isfinite(row["mean"]) else f"{objective} has no mean"


def _constraint_reason(metric: str, row: pd.Series | None, bounds: tuple[float | None, float | None]) -> str:
    """Why a variant fails one constraint (its interval bound against the limit), or ``""``."""
    low, high = bounds
    if row is None:
        return f"{metric} is not reported"
    failed = []
    for limit, end, side, bad in ((low, "ci_low", "lower", "below min"), (high, "ci_high", "upper", "above max")):
        if limit is None:
            continue
        value = row[end]
        if not math.isfinite(value):
            failed.append(f"{metric} has no 95% CI (mean {format_number(row['mean'], 4)}; needs a {side} bound)")
        elif (value < limit) if end == "ci_low" else (value > limit):
            failed.append(
                f"{metric} 95% CI {side} bound {format_number(value, 4)} is {bad} {limit:g}"
                f" (mean {format_number(row['mean'], 4)})"
            )
    return "; ".join(failed)


def _width(row: pd.Series) -> float:
    """Width of an interval; missing intervals count as infinitely wide."""
    width = row["ci_high"] - row["ci_low"]
    return float(width) if math.isfinite(width) else math.inf


# --- sensitivity ------------------------------------------------------------------------------
