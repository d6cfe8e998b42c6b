"""The shipped config files are clean YAML whose Hydra headers take effect."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.config_files import ignored_header
from experiments.paths import CONF_DIR

FILES = sorted(CONF_DIR.rglob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CONF_DIR).as_posix())
def test_config_file_parses_and_its_header_is_on_top(path: Path):
    yaml.safe_load(path.read_text(encoding="utf-8"))
    assert ignored_header(path) is None


def test_a_header_after_a_comment_is_reported(tmp_path: Path):
    late = tmp_path / "late.yaml"
    late.write_text("# my study\n# @package _global_\nexperiment: {}\n")
    assert "line 2 is ignored" in (ignored_header(late) or "")
    early = tmp_path / "early.yaml"
    early.write_text("\n# @package _global_\n# my study\nexperiment: {}\n")
    assert ignored_header(early) is None
