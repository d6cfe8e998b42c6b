"""Same seed, same numbers: in process or on Ray, one worker or two, any task order."""

from __future__ import annotations

import math

from experiments.app import _tasks, plan
from experiments.compose import compose_config
from experiments.parallel import run_serially, run_tasks
from tests.conftest import SMALL


def _metrics(results):
    return [(r.replication, r.scenario.pipeline.name, r.metrics) for r in results]


def _same(a, b):
    assert len(a) == len(b)
    for (rep_a, name_a, m_a), (rep_b, name_b, m_b) in zip(a, b, strict=True):
        assert (rep_a, name_a) == (rep_b, name_b)
        assert m_a.keys() == m_b.keys()
        for key in m_a:
            both_nan = math.isnan(m_a[key]) and math.isnan(m_b[key])
            assert both_nan or m_a[key] == m_b[key], key


def test_same_numbers_for_one_or_two_ray_workers_and_any_order(ray_local, tmp_path):
    overrides = [*SMALL, "tracking.enabled=false"]
    tasks = _tasks(plan(compose_config(overrides), overrides), tmp_path)
    serial = _metrics(run_serially(tasks))
    one_at_a_time = _metrics(run_tasks(tasks, cpus_per_task=2))  # 2-CPU Ray: one task at a time
    two_at_a_time = _metrics(run_tasks(tasks, cpus_per_task=1))
    reversed_order = list(reversed(_metrics(run_tasks(list(reversed(tasks)), cpus_per_task=1))))
    _same(serial, one_at_a_time)
    _same(serial, two_at_a_time)
    _same(serial, reversed_order)


def test_different_replications_differ(tmp_path):
    overrides = [*SMALL, "tracking.enabled=false"]
    tasks = _tasks(plan(compose_config(overrides), overrides), tmp_path)
    legacy = [t for t in tasks if t.variant == "legacy"][:2]
    first, second = run_serially(legacy)
    assert first.metrics["leads"] != second.metrics["leads"] or first.metrics["revenue"] != second.metrics["revenue"]
