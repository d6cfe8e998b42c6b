"""The sweep engine: every (variant, replication) run once, streamed back, stored, decided on.

Replications are queued per variant, served from the result store when they are already
done, and submitted to an executor (Ray, or in-process) in small batches. Each result is
stored as soon as it arrives. When event logs are asked for, stored replications are
simulated again (the store keeps KPIs, not activity rows): the logs are then complete and
the results, the same by construction, are stored again. A variant is decided on only when every replication it
asked for is in: with a fixed count it is then complete; with adaptive replications the
stopping rule looks at replications 0..n-1 and may ask for more. Decisions therefore never
depend on which worker finished first. Each variant is paired with baseline replications
0..n-1, so the baseline is extended when a variant needs more replications than it has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from analysis.stopping import StoppingDecision, decide
from experiments.config import AdaptiveConfig
from experiments.progress import Progress
from experiments.store import ResultStore
from experiments.variants import Variant
from salesboost.results import RunResult

#: Simulation speed assumed when sizing batches (leads per second of one worker).
_ASSUMED_LEADS_PER_SECOND = 50_000.0
#: Aim for at least this much work per Ray call, so that call overhead stays small.
_MIN_SECONDS_PER_CALL = 0.3
_MAX_TASKS_PER_CALL = 16


@dataclass(frozen=True)
class Batch:
    """Replications of one variant run by one call."""

    variant: str
    replications: tuple[int, ...]


class Executor(Protocol):
    """Runs batches somewhere and hands back what finished."""

    def submit(self, variant: Variant, batch: Batch, seed: int, event_logs: Sequence[str | None]) -> None:
        """Start ``batch``."""

    def pending(self) -> int:
        """Batches submitted and not yet handed back."""

    def wait(self) -> list[tuple[Batch, list[RunResult] | BaseException]]:
        """Block until at least one batch is done; return every batch that is."""

    def cancel(self) -> None:
        """Drop every pending batch."""


@dataclass
class VariantRun:
    """A variant's progress: its results, what it asked for and how it ended."""

    variant: Variant
    wanted: int
    results: dict[int, RunResult] = field(default_factory=dict)
    queued: list[int] = field(default_factory=list)
    in_flight: set[int] = field(default_factory=set)
    decision: StoppingDecision | None = None
    error: str | None = None
    done: bool = False
    cached: int = 0  # replications taken from the result store
    rerun_for_logs: int = 0  # stored replications simulated again to write their event logs

    @property
    def name(self) -> str:
        """The variant's name."""
        return self.variant.name

    def ordered(self) -> list[RunResult]:
        """Results in replication order."""
        return [self.results[r] for r in sorted(self.results)]


@dataclass
class SweepOutcome:
    """Every variant's run, in experiment order, and whether anything failed."""

    runs: dict[str, VariantRun]

    @property
    def failed(self) -> list[VariantRun]:
        """Variants whose simulation raised."""
        return [r for r in self.runs.values() if r.error is not None]

    @property
    def rerun_for_logs(self) -> int:
        """Stored replications simulated again to write their event logs."""
        return sum(r.rerun_for_logs for r in self.runs.values())


class Sweep:
    """Runs the replications of ``variants`` (the first is the baseline) to completion."""

    def __init__(
        self,
        variants: Sequence[Variant],
        *,
        seed: int,
        replications: int,
        adaptive: AdaptiveConfig,
        executor: Executor,
        store: ResultStore | None,
        progress: Progress | None = None,
        on_done: Callable[[VariantRun], None] | None = None,
        event_log: Callable[[Variant, int], str | None] | None = None,
    ) -> None:
        first = adaptive.min_replications if adaptive.enabled else replications
        self.runs = {v.name: VariantRun(v, wanted=0) for v in variants}
        self.baseline = self.runs[variants[0].name]
        self._first = first
        self._seed = seed
        self._adaptive = adaptive
        self._executor = executor
        self._store = store
        self.progress = progress
        self._on_done = on_done
        self._event_log = event_log
        self._reported: set[str] = set()

    def run(self) -> SweepOutcome:
        """Run until every variant is done or failed."""
        for run in self.runs.values():
            self._want(run, self._first)
        self._settle()
        while self._executor.pending():
            for batch, outcome in self._executor.wait():
                self._collect(batch, outcome)
            self._settle()
        return SweepOutcome(self.runs)

    # -- bookkeeping -------------------------------------------------------------------------
    def _want(self, run: VariantRun, n: int) -> None:
        """Make sure replications 0..n-1 of ``run`` are done or on their way."""
        hits = 0
        for r in range(run.wanted, n):
            result = self._store.get(run.variant.scenario, self._seed, r) if self._store else None
            if result is not None and self._event_log is None:
                run.results[r] = result
                hits += 1
            else:
                run.rerun_for_logs += result is not None
                run.queued.append(r)
        run.cached += hits
        if n > run.wanted and self.progress is not None:
            self.progress.grow(n - run.wanted, done=hits)
        run.wanted = max(run.wanted, n)

    def _collect(self, batch: Batch, outcome: list[RunResult] | BaseException) -> None:
        run = self.runs[batch.variant]
        run.in_flight.difference_update(batch.replications)
        if isinstance(outcome, BaseException):
            if run.error is None:
                run.error = _describe(outcome)
                run.queued.clear()
            return
        for result in outcome:
            run.results[result.replication] = result
            if self._store is not None:
                self._store.put(result)
        if self.progress is not None:
            self.progress.advance(len(outcome))

    def _settle(self) -> None:
        """Decide on every variant whose replications are all in; submit what is queued."""
        changed = True
        while changed:
            changed = False
            for run in self.runs.values():
                changed |= self._decide(run)
        for run in self.runs.values():
            self._submit(run)
        self._report()

    def _decide(self, run: VariantRun) -> bool:
        if run.done or run.error is not None or run.queued or run.in_flight:
            return False
        if not self._adaptive.enabled:
            run.done = True
            return True
        adaptive = self._adaptive
        values = [run.results[r].metrics.get(adaptive.metric, math.nan) for r in range(run.wanted)]
        if adaptive.versus_baseline and run is not self.baseline:
            base = self.baseline
            if base.error is not None:
                run.error = f"baseline {base.name!r} failed; no paired comparison possible"
                return True
            if any(r not in base.results for r in range(run.wanted)):
                if base.wanted < run.wanted and not base.queued and not base.in_flight:
                    self._want(base, run.wanted)
                    return True
                return False
            values = [v - base.results[r].metrics.get(adaptive.metric, math.nan) for r, v in enumerate(values)]
        run.decision = decide(
            values,
            half_width=adaptive.half_width,
            relative=adaptive.relative,
            min_n=adaptive.min_replications,
            max_n=adaptive.max_replications,
        )
        if run.decision.stop:
            run.done = True
        else:
            self._want(run, run.decision.next_n)
        return True

    def _submit(self, run: VariantRun) -> None:
        if not run.queued or run.error is not None:
            return
        size = _tasks_per_call(run.variant)
        queued, run.queued = sorted(run.queued), []
        for start in range(0, len(queued), size):
            reps = tuple(queued[start : start + size])
            run.in_flight.update(reps)
            logs = [self._event_log(run.variant, r) if self._event_log else None for r in reps]
            self._executor.submit(run.variant, Batch(run.name, reps), self._seed, logs)

    def _report(self) -> None:
        """Hand finished variants to ``on_done``: others once their baseline pairs exist, the baseline last."""
        if self._on_done is None:
            return
        others_open = any(not (r.done or r.error) for r in self.runs.values() if r is not self.baseline)
        for run in self.runs.values():
            if run.name in self._reported or not (run.done or run.error):
                continue
            if run is self.baseline:
                if others_open or self.baseline.queued or self.baseline.in_flight:
                    continue
            elif run.error is None and self.baseline.error is None:
                needed = range(len(run.results))
                if any(r not in self.baseline.results for r in needed):
                    self._extend_baseline(len(run.results))
                    continue
            self._reported.add(run.name)
            self._on_done(run)

    def _extend_baseline(self, n: int) -> None:
        base = self.baseline
        if base.wanted < n and base.error is None:
            if self._adaptive.enabled:
                base.done = False  # its stopping rule looks again once the new replications are in
            self._want(base, n)
            self._submit(base)


def _tasks_per_call(variant: Variant) -> int:
    """Replications per Ray call: enough that each call does a few tenths of a second of work."""
    scenario = variant.scenario
    weeks = (scenario.horizon.days + scenario.horizon.drain_days) / 7.0
    seconds = scenario.market.leads_per_week * weeks / _ASSUMED_LEADS_PER_SECOND
    if seconds <= 0:
        return _MAX_TASKS_PER_CALL
    return max(1, min(_MAX_TASKS_PER_CALL, math.ceil(_MIN_SECONDS_PER_CALL / seconds)))


def _describe(error: BaseException) -> str:
    """The root cause of a failed batch, in one line."""
    cause: Any = getattr(error, "cause", None) or error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def run_fixed(
    variants: Sequence[Variant],
    *,
    seed: int,
    replications: int,
    executor: Executor,
    store: ResultStore | None,
    label: str,
) -> SweepOutcome:
    """Replications ``0..replications-1`` of each variant (no adaptive stopping), with a progress line ``label``."""
    sweep = Sweep(
        list(variants),
        seed=seed,
        replications=replications,
        adaptive=AdaptiveConfig(),
        executor=executor,
        store=store,
        progress=Progress(0, label),
    )
    try:
        return sweep.run()
    finally:
        if sweep.progress is not None:
            sweep.progress.close()
