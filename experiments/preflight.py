"""Checks of services, paths and sizes, made before any run is created or Ray is started.

Each check raises :class:`salesboost.errors.ConfigError` naming the key to change and what
is allowed, so bad input ends in one line, a non-zero exit and nothing recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.app import Plan


def check_plan(plan: Plan, output_dir: Path) -> None:
    """Check that ``plan`` can run here and write to ``output_dir``; raise ConfigError if not."""
