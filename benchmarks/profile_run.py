"""Where one ``sim.run`` spends its time and memory: cProfile's top functions, tracemalloc's top sites.

    .venv/bin/python benchmarks/profile_run.py                        # legacy, 182 days, the working tree
    .venv/bin/python benchmarks/profile_run.py --pipeline optimised --days 730 --ref HEAD --top 30

Figures are relative (profiling slows the run down); use throughput.py for rates.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import pstats
import sys
import time
import tracemalloc
from typing import Any

from trees import ROOT, worktree


def count_events(sim: Any, scenario: Any, seed: int) -> None:
    """CPU time of a plain run, then SimPy events and finished worker tasks by kind of the same run."""
    import simpy

    cpu = time.process_time()
    leads = sim.run(scenario, seed, 0).leads_simulated
    cpu = time.process_time() - cpu
    events = [0]
    tasks: collections.Counter[str] = collections.Counter()
    step = simpy.Environment.step

    def counted_step(env: simpy.Environment) -> None:
        events[0] += 1
        step(env)

    patches = [(simpy.Environment, "step", counted_step)]
    with contextlib.suppress(ImportError):  # the agent engine (issue 7) has workers with task kinds
        from salesboost.work import TASK_KINDS
        from sim.agents.worker import Worker

        finished = Worker._finished

        def counted_finished(worker: Any, event: Any) -> None:
            tasks[TASK_KINDS[worker._current.kind]] += 1
            finished(worker, event)

        patches.append((Worker, "_finished", counted_finished))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, fn in patches:
        setattr(owner, name, fn)
    try:
        sim.run(scenario, seed, 0)
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)
    print(
        f"{leads:,} leads, {cpu:.2f} CPU-s: {leads / cpu:,.0f} leads/CPU-s, {1e6 * cpu / leads:.0f} us per lead; "
        f"{events[0]:,} SimPy events ({events[0] / leads:.2f} per lead, {1e6 * cpu / events[0]:.1f} us per event)"
    )
    if tasks:
        total = sum(tasks.values())
        print(
            f"worker tasks per lead: {total / leads:.2f} = "
            + ", ".join(f"{k} {v / leads:.2f}" for k, v in tasks.most_common())
        )


def main() -> None:
    """Profile one run and print the top entries."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="legacy")
    parser.add_argument("--days", type=float, default=182.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--memory", action="store_true", help="tracemalloc's top sites instead of cProfile")
    parser.add_argument("--events", action="store_true", help="count SimPy events and worker tasks by kind per lead")
    parser.add_argument("--ref", metavar="REF", help="profile this git commit instead of the working tree")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tree = stack.enter_context(worktree(args.ref, "--ref")) if args.ref else ROOT
        sys.path.insert(0, str(tree))
        import sim
        from experiments.compose import compose_config, scenario_of

        overrides = [f"pipeline={args.pipeline}", f"horizon.days={args.days}"]
        scenario = scenario_of(compose_config([*overrides, "horizon.warmup_days=28", "horizon.drain_days=60"]))
        if args.events:
            count_events(sim, scenario, args.seed)
            return
        if args.memory:
            tracemalloc.start(8)
            result = sim.run(scenario, args.seed, 0)
            snapshot = tracemalloc.take_snapshot()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"{result.leads_simulated:,} leads; traced peak {peak / 2**20:.2f} MB; live at the end, by site:")
            for stat in snapshot.statistics("lineno")[: args.top]:
                frame = stat.traceback[0]
                name = frame.filename.replace(str(tree) + "/", "")
                print(f"  {stat.size / 2**20:8.2f} MB {stat.count:>9,} blocks  {name}:{frame.lineno}")
            return
        profiler = cProfile.Profile()
        profiler.enable()
        result = sim.run(scenario, args.seed, 0)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(f"{result.leads_simulated:,} leads")
        print(out.getvalue().replace(str(tree) + "/", ""))


if __name__ == "__main__":
    main()
