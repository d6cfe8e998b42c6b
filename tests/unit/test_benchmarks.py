"""The benchmark scripts run in --quick mode and print one JSON object with the documented keys.

No timing is asserted: the figures depend on the machine's load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "bench"


def _json_of(script: str, *args: str, results: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--json", "--results", str(results), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, out.stdout  # one object on stdout, progress on stderr
    return json.loads(lines[0])


@pytest.mark.slow
@pytest.mark.skipif(not (BENCH / "run_one.py").is_file(), reason="reference engines ../shared/bench not present")
def test_throughput_quick_prints_one_json_object(tmp_path):
    report = _json_of("throughput.py", "--rounds", "1", results=tmp_path)
    for key in (
        "legacy_leads_per_cpu_s",
        "optimised_leads_per_cpu_s",
        "reference_simpy_basic_per_cpu_s",
        "reference_simpy_opt_per_cpu_s",
    ):
        assert report[key] > 0, key
        assert report[f"{key}_min"] <= report[key] <= report[f"{key}_max"], key
    assert report["legacy_vs_simpy_basic"] == pytest.approx(
        report["legacy_leads_per_cpu_s"] / report["reference_simpy_basic_per_cpu_s"]
    )
    assert isinstance(report["meets_target"], bool)
    assert "1.5" in report["target"]
    rows = report["memory"]["working tree"]["rows"]
    assert [r["horizon_days"] for r in rows] == [91.0, 182.0]
    assert rows[0]["leads"] < rows[1]["leads"]
    assert all(r["traced_peak_mb"] > 0 and r["rss_peak_mb"] > 0 for r in rows)
    assert json.loads((tmp_path / "throughput.json").read_text())["rounds"] == 1


@pytest.mark.slow
def test_crn_quick_prints_one_json_object(tmp_path):
    report = _json_of("crn.py", results=tmp_path)
    assert report["replications"] == 6
    for kpi in ("revenue", "orders", "win_rate"):
        m = report["metrics"][kpi]
        assert m["variance_reduction_low"] <= m["variance_reduction_high"], kpi
        assert m["half_width_paired"] > 0, kpi
        assert m["half_width_independent"] > 0, kpi
        assert report[f"{kpi}_variance_reduction"] == m["variance_reduction"], kpi
    assert (tmp_path / "crn.json").is_file()
