"""The result store: JSON data only, an exact round trip, and every unusable file reported and recomputed."""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import math
import os
import pickle
from pathlib import Path

import pytest

import sim
from experiments.store import MAX_BYTES, SUFFIX, ResultStore, model_version
from salesboost.results import SCHEMA_VERSION, ResultFormatError, RunResult
from tests.conftest import sweep_in_process
from tests.support import small_scenario


@pytest.fixture(scope="module")
def result() -> RunResult:
    return sim.run(small_scenario("legacy", days=28.0), 11, replication=3)


def _same(a: RunResult, b: RunResult) -> bool:
    """Equal field by field, NaN equal to NaN."""

    def norm(value):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    return all(
        norm(getattr(a, f.name)) == norm(getattr(b, f.name)) and type(getattr(a, f.name)) is type(getattr(b, f.name))
        for f in dataclasses.fields(RunResult)
    )


def test_round_trip_gives_the_same_result(tmp_path, result):
    store = ResultStore(tmp_path)
    store.put(result)
    path = store.path(result.scenario, result.seed, result.replication)
    assert path.suffix == SUFFIX
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    loaded = store.get(result.scenario, result.seed, result.replication)
    assert loaded is not None
    assert _same(loaded, result)
    assert loaded.scenario is result.scenario
    assert store.rejected == []
    # Strict JSON (no NaN tokens), readable by any tool, with its versions.
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert data["schema"] == SCHEMA_VERSION
    assert data["model_version"] == model_version()
    assert data["config_hash"] == result.scenario.config_hash()
    assert path.stat().st_size < 100_000  # the monthly panel: about 30 KB for a 4-week run


def test_non_finite_values_round_trip(result):
    odd = dataclasses.replace(result, metrics={**result.metrics, "a": math.nan, "b": math.inf, "c": -math.inf})
    back = RunResult.from_dict(json.loads(json.dumps(odd.to_dict(), allow_nan=False)), result.scenario)
    assert math.isnan(back.metrics["a"])
    assert back.metrics["b"] == math.inf
    assert back.metrics["c"] == -math.inf


def test_a_result_of_another_scenario_is_refused(result):
    other = small_scenario("optimised", days=28.0)
    with pytest.raises(ResultFormatError, match="config_hash"):
        RunResult.from_dict(result.to_dict(), other)


def test_a_malicious_pickle_in_the_store_is_never_executed(tmp_path, result):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Exploit())
    pickle.loads(payload)  # the payload works: unpickling it creates the marker
    assert marker.exists()
    marker.unlink()

    store = ResultStore(tmp_path / "store", warnings=io.StringIO())
    path = store.path(result.scenario, result.seed, result.replication)
    path.parent.mkdir(parents=True)
    path.write_bytes(payload)  # where the result would be
    path.with_suffix(".pkl").write_bytes(payload)  # and where the pickle store used to keep it
    assert store.get(result.scenario, result.seed, result.replication) is None
    assert not marker.exists()
    assert [p for p, _ in store.rejected] == [path]


def _damaged(result: RunResult) -> dict[str, bytes]:
    good = {"model_version": model_version(), **result.to_dict()}

    def edit(**changes) -> bytes:
        return json.dumps({**good, **changes}).encode()

    return {
        "empty": b"",
        "truncated": json.dumps(good).encode()[:200],
        "not utf-8": b"\xff\xfe\x00garbage",
        "a list": b"[1, 2, 3]",
        "deep nesting": b"[" * 100_000 + b"]" * 100_000,
        "too large": b" " * (MAX_BYTES + 1),
        "old schema": edit(schema=0),
        "future schema": edit(schema=SCHEMA_VERSION + 1),
        "other model": edit(model_version="0123456789abcdef"),
        "other scenario": edit(config_hash="feedfacecafebeef"),
        "other replication": edit(replication=result.replication + 1),
        "metric as text": edit(metrics={**good["metrics"], "win_rate": "high"}),
        "negative count": edit(outcomes={**good["outcomes"], "won": -1}),
        "missing funnel step": edit(funnel={k: v for k, v in good["funnel"].items() if k != "ordered"}),
        "histogram bins": edit(histograms={"quote_approval_hours": {"bins": 3, "nonzero": []}}),
        "histogram index": edit(histograms={"quote_approval_hours": {"bins": 402, "nonzero": [[9999, 1]]}}),
        "no stages": edit(stages=None),
        "boolean seed": edit(seed=True),
    }


def test_every_damaged_file_is_reported_in_one_line_and_recomputed(tmp_path, result):
    for name, content in _damaged(result).items():
        warnings = io.StringIO()
        store = ResultStore(tmp_path / name.replace(" ", "_"), warnings=warnings)
        path = store.path(result.scenario, result.seed, result.replication)
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        assert store.get(result.scenario, result.seed, result.replication) is None, name
        lines = warnings.getvalue().splitlines()
        assert len(lines) == 1, (name, lines)
        assert lines[0].startswith(f"salesboost: warning: result store: ignored {path}: "), name
        assert lines[0].endswith("simulating it again"), name
        assert len(lines[0]) < 300 + len(str(path)), name
        # Recomputed and stored again: the next read is clean.
        store.put(result)
        assert store.get(result.scenario, result.seed, result.replication) is not None, name
        assert len(store.rejected) == 1, name


def test_many_bad_files_are_summarised(tmp_path, result):
    warnings = io.StringIO()
    store = ResultStore(tmp_path, warnings=warnings)
    for r in range(8):
        path = store.path(result.scenario, result.seed, r)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        assert store.get(result.scenario, result.seed, r) is None
    lines = warnings.getvalue().splitlines()
    assert len(lines) == 6
    assert "more unusable files" in lines[-1]
    assert len(store.rejected) == 8


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_something_else_at_the_path_is_reported_without_blocking(tmp_path, result, kind):
    store = ResultStore(tmp_path, warnings=io.StringIO())
    path = store.path(result.scenario, result.seed, result.replication)
    path.parent.mkdir(parents=True)
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    assert store.get(result.scenario, result.seed, result.replication) is None
    assert store.rejected == [(path, "not a regular file")]


def test_an_unreadable_file_is_reported(tmp_path, result):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    store = ResultStore(tmp_path, warnings=io.StringIO())
    store.put(result)
    path = store.path(result.scenario, result.seed, result.replication)
    path.chmod(0)
    assert store.get(result.scenario, result.seed, result.replication) is None
    assert "unreadable" in store.rejected[0][1]


def test_a_missing_file_is_silent(tmp_path, result):
    store = ResultStore(tmp_path, warnings=io.StringIO())
    assert store.get(result.scenario, result.seed, result.replication) is None
    assert store.rejected == []
    assert store.files() == []
    store.put(result)
    assert store.files() == [store.path(result.scenario, result.seed, result.replication)]


@pytest.mark.parametrize("module", ["experiments/store.py", "salesboost/results.py"])
def test_the_store_imports_no_code_loader(module):
    tree = ast.parse((Path(__file__).parents[2] / module).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}


def test_a_sweep_over_a_tampered_store_recomputes_and_runs_no_code(tmp_path):
    from tests.conftest import metrics_by_run, small_plan

    plan = small_plan("experiment.sensitivity.enabled=false")
    first = sweep_in_process(plan, ResultStore(tmp_path / "store"))
    files = ResultStore(tmp_path / "store").files()
    assert len(files) == 6
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    files[0].write_bytes(pickle.dumps(Exploit()))
    files[1].write_text(files[1].read_text()[:-20])  # truncated
    warnings = io.StringIO()
    store = ResultStore(tmp_path / "store", warnings=warnings)
    again = sweep_in_process(plan, store)
    assert not marker.exists()
    assert sorted(p for p, _ in store.rejected) == files[:2]
    assert len(warnings.getvalue().splitlines()) == 2
    assert sum(run.cached for run in again.runs.values()) == 4
    assert metrics_by_run(again.runs) == metrics_by_run(first.runs)
    # Both files were written again: the store is clean.
    clean = ResultStore(tmp_path / "store", warnings=io.StringIO())
    assert sum(run.cached for run in sweep_in_process(plan, clean).runs.values()) == 6
    assert clean.rejected == []
