"""Where the project keeps its configs and outputs."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
DEFAULT_TRACKING_DB = REPO_ROOT / "mlflow.db"
DEFAULT_ARTIFACT_ROOT = REPO_ROOT / "mlartifacts"


def default_tracking_uri() -> str:
    """The SQLite store at the repository root, as an absolute URI."""
    return f"sqlite:///{DEFAULT_TRACKING_DB}"
