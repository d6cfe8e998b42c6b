"""The shipped legacy defaults reproduce the anchored targets; the calibration command's solver and errors.

The model's own Monte Carlo error widens each anchor's interval: the model's mean over R
replications is compared with [low - h, high + h], h the half-width of its 95% t interval, so
a model that sits on an edge is not failed by its own noise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.anchors import DATA_DIR, load_anchors
from analysis.stats import mean_interval
from experiments.calibrate import DEFAULT_SEED, compare, legacy_sections, main, model_figures, solve

REPLICATIONS = 6


@pytest.fixture(scope="module")
def figures():
    return model_figures(legacy_sections(), DEFAULT_SEED, REPLICATIONS)


def test_shipped_legacy_defaults_reproduce_the_anchored_rates(figures):
    anchors = load_anchors()
    rows = compare(anchors, figures)
    targets = [r for r in rows if r.anchor.role == "target" and r.anchor.unit == "share"]
    assert {r.name for r in targets} == {"lead_to_won", "lead_to_qualified"}
    misses = []
    for r in targets:
        half = (r.model_high - r.model_low) / 2
        if not r.anchor.contains(r.model, widen=half):
            bounds = f"[{r.anchor.low:.4g}, {r.anchor.high:.4g}]"
            misses.append(f"{r.name}: model {r.model:.4g} +- {half:.2g}, anchor {bounds}")
    assert not misses, "; ".join(misses)


def test_the_model_names_every_metric_the_shipped_anchors_use(figures):
    anchors = load_anchors()
    assert {a.metric for a in anchors.values() if a.metric} <= set(figures)
    rates = mean_interval(figures["lead_conversion_rate"])
    assert 0 < rates.value < 1


def test_solve_brackets_next_to_the_start_when_the_response_turns():
    # more leads give more orders until a queue saturates, then fewer: two roots, take the near one
    def gap(x: float) -> float:
        return x * (10 - x) - 9  # roots at 1 and 9, maximum at 5

    x, found = solve(gap, 2.0, 0.1, 10.0)
    assert found
    assert x == pytest.approx(1.0, abs=1e-2)
    x, found = solve(lambda v: v * (10 - v) - 30, 2.0, 0.1, 10.0)  # out of reach: the best point
    assert not found
    assert x == pytest.approx(5.0, abs=1.5)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data/pipeline is not beside the checkout")
def test_the_command_checks_and_exits_on_bad_input(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("anchors:\n  x: {value: 1}\n")
    assert main(["--anchors", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}: anchors.x: missing key 'low'"
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(
        "anchors:\n  x: {value: 1, low: 0, high: 2, source: s, grade: judgment, definition: d, metric: no_such}\n"
    )
    assert main(["--anchors", str(unknown), "--check", "--replications", "2", "--days", "60"]) == 2
    assert "anchors.x.metric: the model has no figure 'no_such'" in capsys.readouterr().err
    assert main(["--replications", "1"]) == 2
    assert main(["--check", "--replications", "2", "--days", "60", "--fit-volume", "nope"]) == 2
    assert "--fit-volume nope: no such anchor with a model metric" in capsys.readouterr().err
