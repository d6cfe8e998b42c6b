"""What a Ray worker runs. Kept apart so that workers import only the simulation."""

from __future__ import annotations

from collections.abc import Sequence

from salesboost.results import RunResult
from salesboost.scenario import Scenario


def simulate_batch(
    scenario: Scenario, seed: int, replications: Sequence[int], label: str, event_logs: Sequence[str | None]
) -> list[RunResult]:
    """Run replications of one scenario."""
    from sim import run  # noqa: PLC0415 - imported on first use in the worker

    return [run(scenario, seed, r, event_log=log, label=label) for r, log in zip(replications, event_logs, strict=True)]
