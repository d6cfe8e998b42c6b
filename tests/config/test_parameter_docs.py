"""Every parameter of the world has a row in a docs table: default, range, source and grade.

The keys come from the composed config itself (the default and every option of every group),
so a key added to a schema or a config file without a row in ``docs/`` fails here. A row
names its key in its first cell, in backticks: a full dotted key (``market.leads_per_week``),
a subtree (``outreach.channels.phone`` covers its keys), a wildcard segment (``*`` or
``<stage>``), or a sibling of the cell's previous key (``.alpha_days`` or ``exam_sd``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from experiments.compose import compose_config
from experiments.paths import CONF_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Run and measurement settings, not the world's parameters (the README documents them), and
#: the sensitivity ranges themselves (``conf/ranges``: each of their keys is a parameter above).
NOT_PARAMETERS = ("hydra", "experiment", "tracking", "ray", "ranges")
#: Groups whose options are whole studies, data sets or infrastructure, not variants of the world.
SKIPPED_GROUPS = {"experiment", "hydra", "tracking", "ray", "anchors"}
#: A table row documents a key when it has at least these cells: key, default, range, source, grade.
MIN_CELLS = 5
_KEY = re.compile(r"`(\.?[A-Za-z_<*][A-Za-z0-9_.*<>\[\]]*)`")


def group_options() -> list[str]:
    """One override per option of every config group: ``pipeline/approval=online`` and so on."""
    overrides = []
    for path in sorted(CONF_DIR.rglob("*.yaml")):
        group = path.parent.relative_to(CONF_DIR).as_posix()
        if group != "." and group.split("/")[0] not in SKIPPED_GROUPS:
            overrides.append(f"{group}={path.stem}")
    return overrides


def row_keys(cell: str) -> list[str]:
    """The dotted keys a table row's first cell names (siblings expanded)."""
    keys: list[str] = []
    parent = None
    for token in _KEY.findall(cell):
        name = token.replace("[]", "")
        if "." in name.lstrip("."):
            name = name.removeprefix(".")
            keys.append(name)
            parent = name.rsplit(".", 1)[0]
        elif parent is not None:
            keys.append(f"{parent}.{name.lstrip('.')}")
    return keys


def table_rows(doc: Path, min_cells: int = MIN_CELLS) -> Iterator[list[str]]:
    """The cells of every table row of ``doc`` with at least ``min_cells`` cells."""
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= min_cells:
            yield cells


def documented_keys() -> set[str]:
    """The keys named in the first cell of the tables of ``docs/*.md`` with enough columns."""
    return {key for doc in sorted(DOCS.glob("*.md")) for cells in table_rows(doc) for key in row_keys(cells[0])}


def leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """The dotted keys of the leaves of a plain config tree (a list or an empty map is a leaf)."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaves(value, (*path, str(key)))
    else:
        yield ".".join(path)


def _matches(pattern: str, parts: list[str]) -> bool:
    segments = pattern.split(".")
    return len(segments) == len(parts) and all(
        s in (p, "*") or (s.startswith("<") and s.endswith(">")) for s, p in zip(segments, parts, strict=True)
    )


def is_documented(key: str, keys: set[str]) -> bool:
    """Whether ``key`` or one of its ancestors matches a documented key."""
    parts = key.split(".")
    return any(_matches(pattern, parts[:n]) for n in range(len(parts), 0, -1) for pattern in keys)


@cache
def _config_leaves(override: str | None) -> tuple[str, ...]:
    cfg = compose_config([override] if override else [])
    tree = OmegaConf.to_container(cfg, resolve=False)
    return tuple(k for k in leaves(tree) if k.split(".")[0] not in NOT_PARAMETERS)


@pytest.mark.parametrize("override", [None, *group_options()])
def test_every_parameter_has_a_docs_row(override: str | None):
    keys = documented_keys()
    missing = [k for k in _config_leaves(override) if not is_documented(k, keys)]
    assert not missing, f"no docs table row (key, default, range, source, grade) for: {', '.join(missing)}"


def test_the_checker_finds_keys_in_each_form_a_row_uses():
    keys = documented_keys()
    assert is_documented("market.leads_per_week", keys)  # a full key
    assert is_documented("accounts.purchase.alpha_days", keys)  # a sibling, `.alpha_days`
    assert is_documented("outreach.channels.phone.conversion", keys)  # a subtree
    assert is_documented("economics.running_costs.quote.manual.per_month", keys)  # `<stage>.<policy>`
    assert not is_documented("market.no_such_key", keys)
    assert not is_documented("market", keys)


# The sensitivity's side: docs/parameters.md's rows of calibrated, behavioural and placeholder
# parameters each have a range in conf/ranges/documented.yaml or a reason in its table of keys
# without one (two columns: key, why).
PARAMETERS = DOCS / "parameters.md"
SWEPT_KINDS = ("calibrated", "behaviour", "placeholder")


def ranges() -> dict[str, list[float]]:
    """The documented ranges, by dotted key."""
    tree = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "ranges" / "documented.yaml"))
    assert isinstance(tree, dict)
    return {str(k): v for k, v in tree.items()}


def unswept() -> dict[str, str]:
    """The keys docs/parameters.md says have no range, with the reason."""
    rows = [c for c in table_rows(PARAMETERS, 2) if len(c) == 2 and c[0].startswith("`")]
    return {row_keys(c[0])[0]: c[1] for c in rows}


def _overlaps(pattern: str, key: str) -> bool:
    """Whether a row's key (maybe with wildcards) names ``key`` or one of its ancestors or descendants."""
    a, b = pattern.split("."), key.split(".")
    n = min(len(a), len(b))
    return _matches(".".join(a[:n]), b[:n])


def test_every_calibrated_behavioural_or_placeholder_parameter_has_a_range_or_a_reason():
    swept, reasons = list(ranges()), unswept()
    missing = []
    for cells in table_rows(PARAMETERS, 7):
        keys = row_keys(cells[0])
        if not keys or not any(kind in cells[6] for kind in SWEPT_KINDS):
            continue
        if not any(_overlaps(k, r) for k in keys for r in swept) and not any(k in reasons for k in keys):
            missing.append(keys[0])
    assert not missing, f"no range in conf/ranges/documented.yaml and no reason in docs/parameters.md for: {missing}"


def test_every_reason_names_a_documented_parameter_and_every_range_a_config_key():
    rows = {k for cells in table_rows(PARAMETERS, 7) for k in row_keys(cells[0])}
    stale = [k for k in unswept() if k not in rows]
    assert not stale, f"docs/parameters.md gives a reason for keys it has no row for: {stale}"
    known = {k for override in [None, *group_options()] for k in _config_leaves(override)}
    unknown = [r for r in ranges() if not any(k == r or k.startswith(f"{r}.") for k in known)]
    assert not unknown, f"conf/ranges/documented.yaml has ranges for keys no config has: {unknown}"
