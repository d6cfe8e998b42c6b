"""Source trees to benchmark: the working tree, or a temporary ``git worktree`` of a commit."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str) -> str:
    """Output of a git command in the repository (empty on failure)."""
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


@contextlib.contextmanager
def worktree(ref: str, option: str = "--compare-ref") -> Iterator[Path]:
    """A temporary detached ``git worktree`` of ``ref``, removed afterwards."""
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not commit:
        raise SystemExit(f"{option} {ref}: not a commit of {ROOT}")
    with tempfile.TemporaryDirectory(prefix="salesboost-ref-") as tmp:
        path = Path(tmp) / "tree"
        add = ["git", "worktree", "add", "--detach", str(path), commit]
        subprocess.run(add, cwd=ROOT, capture_output=True, check=True)
        try:
            yield path
        finally:
            for cmd in (["worktree", "remove", "--force", str(path)], ["worktree", "prune"]):
                subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, check=False)
