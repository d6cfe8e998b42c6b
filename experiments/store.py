"""Finished replications on disk, so that an interrupted experiment resumes where it stopped.

A result is keyed by what determines it: the model's code, the scenario (its config hash),
the seed and the replication. Files are written to a temporary name and renamed, so a
crash never leaves a truncated result; anything unreadable is treated as missing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import cache
from pathlib import Path

from experiments.paths import REPO_ROOT
from salesboost.results import RunResult
from salesboost.scenario import Scenario

DEFAULT_STORE = REPO_ROOT / ".salesboost" / "results"
_MODEL_PACKAGES = ("sim", "salesboost")


@cache
def model_version() -> str:
    """A hash of the model's source code: results from other code are never reused."""
    digest = hashlib.sha256()
    for package in _MODEL_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class ResultStore:
    """Pickled RunResults under ``root/<model version>/<config hash>/<seed>-<replication>.pkl``."""

    def __init__(self, root: Path = DEFAULT_STORE) -> None:
        self.root = root

    def path(self, scenario: Scenario, seed: int, replication: int) -> Path:
        """Where the result of one replication lives."""
        return self.root / model_version() / scenario.config_hash() / f"{seed}-{replication}.pkl"

    def get(self, scenario: Scenario, seed: int, replication: int) -> RunResult | None:
        """The stored result, or None."""
        path = self.path(scenario, seed, replication)
        try:
            with path.open("rb") as handle:
                result = pickle.load(handle)  # our own files, written by put()
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return None
        return result if isinstance(result, RunResult) else None

    def put(self, result: RunResult) -> None:
        """Store ``result`` atomically."""
        path = self.path(result.scenario, result.seed, result.replication)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        with tmp.open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
