"""The sweep engine: same numbers on 1 or 2 Ray workers and in any finishing order, a killed
worker retried, a failing variant kept as data while the others complete."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import threading
import time
from pathlib import Path

from experiments.config import AdaptiveConfig
from experiments.parallel import LocalExecutor, RayExecutor
from experiments.scheduler import Sweep
from experiments.variants import Variant
from tests.conftest import metrics_by_run, small_plan


class ShuffledExecutor(LocalExecutor):
    """Finishes queued batches in a random order: a stand-in for workers racing."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._rng = random.Random(seed)

    def wait(self):
        i = self._rng.randrange(len(self._queue))
        self._queue.append(self._queue.pop(i))
        self._queue.insert(0, self._queue.pop())
        return super().wait()


def _sweep(plan, executor, **kwargs):
    return Sweep(
        plan.variants,
        seed=plan.experiment.seed,
        replications=plan.experiment.replications,
        adaptive=kwargs.pop("adaptive", AdaptiveConfig()),
        executor=executor,
        store=None,
        **kwargs,
    ).run()


def test_same_numbers_in_process_on_one_or_two_ray_workers_and_in_any_order(ray_local):
    plan = small_plan("experiment.replications=4")
    reference = metrics_by_run(_sweep(plan, LocalExecutor()).runs)
    assert len(reference) == 8
    assert metrics_by_run(_sweep(plan, RayExecutor(cpus_per_task=2)).runs) == reference  # one task at a time
    assert metrics_by_run(_sweep(plan, RayExecutor(cpus_per_task=1)).runs) == reference  # two at a time
    for seed in (1, 2):
        assert metrics_by_run(_sweep(plan, ShuffledExecutor(seed)).runs) == reference


def _ray_worker_pids(title: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith(title):
            pids.append(int(entry.name))
    return pids


def test_a_worker_killed_mid_task_is_retried_and_the_numbers_do_not_change(ray_local):
    # Long enough replications (about 1 s each) that the kill lands while a task runs.
    plan = small_plan("experiment.replications=2", "horizon.days=1500", "horizon.drain_days=30")
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in _ray_worker_pids("ray::simulate_batch"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    survived = _sweep(plan, RayExecutor())
    killer.join()
    assert killed, "no running task was found to kill"
    assert not survived.failed
    assert metrics_by_run(survived.runs) == metrics_by_run(_sweep(plan, LocalExecutor()).runs)


def broken_variant(plan) -> Variant:
    """A variant that passed validation but raises when simulated (an error only a run can find)."""
    good = plan.variants[1]
    broken = dataclasses.replace(good.scenario, pipeline=dataclasses.replace(good.scenario.pipeline, approval=None))
    return Variant("broken", ("pipeline.approval=???",), good.config, broken)


def test_a_variant_that_raises_is_marked_failed_and_the_others_complete(ray_local):
    plan = small_plan()
    variants = [*plan.variants, broken_variant(plan)]
    outcome = _sweep(dataclasses.replace(plan, variants=variants), RayExecutor())
    assert [r.name for r in outcome.failed] == ["broken"]
    assert "AttributeError" in outcome.runs["broken"].error
    for name in ("legacy", "optimised"):
        assert outcome.runs[name].error is None
        assert len(outcome.runs[name].results) == plan.experiment.replications
