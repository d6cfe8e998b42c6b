"""Finished replications on disk, so that an interrupted experiment resumes where it stopped.

A result is keyed by what determines it: the model's code, the scenario (its config hash),
the seed and the replication. Each is one JSON file (``RunResult.to_dict`` plus the model
version) written to a temporary name and renamed, so a crash never leaves a truncated result.

Reading loads data only, never code: the store may sit in a cache directory that others can
write to. A file that is not a result of this schema (damaged, from another version, for
another scenario, too large) is reported in one line on stderr and treated as missing, so
that replication is simulated again and the file overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from functools import cache
from pathlib import Path
from typing import TextIO

from experiments.paths import REPO_ROOT
from salesboost.results import ResultFormatError, RunResult
from salesboost.scenario import Scenario

DEFAULT_STORE = REPO_ROOT / ".salesboost" / "results"
#: File name suffix of a stored result.
SUFFIX = ".json"
#: A stored result is a few kilobytes; anything much larger is not one of ours.
MAX_BYTES = 4_000_000
#: Rejected files reported one by one; the rest only counted.
MAX_REPORTED = 5
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
    """RunResults as JSON under ``root/<model version>/<config hash>/<seed>-<replication>.json``."""

    def __init__(self, root: Path = DEFAULT_STORE, *, warnings: TextIO | None = None) -> None:
        self.root = root
        self._warnings = warnings
        self.rejected: list[tuple[Path, str]] = []  # files ignored, with the reason

    def path(self, scenario: Scenario, seed: int, replication: int) -> Path:
        """Where the result of one replication lives."""
        return self.root / model_version() / scenario.config_hash() / f"{seed}-{replication}{SUFFIX}"

    def files(self) -> list[Path]:
        """Every stored result file under the root (any model version)."""
        return sorted(self.root.rglob(f"*{SUFFIX}")) if self.root.exists() else []

    def get(self, scenario: Scenario, seed: int, replication: int) -> RunResult | None:
        """The stored result, or None when there is none or it cannot be used."""
        path = self.path(scenario, seed, replication)
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the read for ever
                self._reject(path, "not a regular file")
                return None
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            self._reject(path, f"unreadable ({error.strerror or error})")
            return None
        try:
            return _decode(raw, scenario, seed, replication)
        except ResultFormatError as error:
            self._reject(path, str(error))
            return None

    def put(self, result: RunResult) -> None:
        """Store ``result`` atomically."""
        path = self.path(result.scenario, result.seed, result.replication)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"model_version": model_version(), **result.to_dict()}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        try:
            tmp.write_text(json.dumps(data, allow_nan=False, separators=(",", ":")), encoding="utf-8")
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _reject(self, path: Path, reason: str) -> None:
        """Note a file that cannot be used; say so on stderr (the first few in full)."""
        self.rejected.append((path, reason))
        out = self._warnings if self._warnings is not None else sys.stderr
        n = len(self.rejected)
        if n <= MAX_REPORTED:
            print(f"salesboost: warning: result store: ignored {path}: {reason}; simulating it again", file=out)
        elif n == MAX_REPORTED + 1:
            print(
                f"salesboost: warning: result store: more unusable files under {self.root}; they are simulated again",
                file=out,
            )


def _decode(raw: bytes, scenario: Scenario, seed: int, replication: int) -> RunResult:
    """The result in ``raw`` (a stored file's bytes); raises ResultFormatError saying why not."""
    if len(raw) > MAX_BYTES:
        raise ResultFormatError(f"larger than {MAX_BYTES:,} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ResultFormatError(f"not JSON ({str(error).splitlines()[0]:.80})") from None
    if not isinstance(data, dict):
        raise ResultFormatError(f"expected an object, got {type(data).__name__}")
    if data.get("model_version") != model_version():
        raise ResultFormatError(f"model_version {data.get('model_version')!r:.40} is not {model_version()!r}")
    result = RunResult.from_dict(data, scenario)
    if (result.seed, result.replication) != (seed, replication):
        raise ResultFormatError(f"holds seed {result.seed} replication {result.replication}")
    return result
