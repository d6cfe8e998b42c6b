"""Every parameter of the world has a row in a docs table: default, range, source and grade.

The keys come from the composed config itself (the default and every option of every group),
so a key added to a schema or a config file without a row in ``docs/`` fails here. A row
names its key in its first cell, in backticks: a full dotted key (``market.leads_per_week``),
a subtree (``outreach.channels.phone`` covers its keys), a wildcard segment (``*`` or
``<stage>``), or a sibling of the cell's previous key (``.alpha_days`` or ``exam_sd``).

The sensitivity's side: every key of every calibrated, behavioural or placeholder row has a range
in ``conf/ranges/documented.yaml`` or a reason in docs/parameters.md, and the range a docs table
states for a key (its "range" column) is the range that file sweeps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    """The keys docs/parameters.md says have no range (every key a row names), with the reason."""
    rows = [c for c in table_rows(PARAMETERS, 2) if len(c) == 2 and c[0].startswith("`")]
    return {key: c[1] for c in rows for key in row_keys(c[0])}


def _overlaps(pattern: str, key: str) -> bool:
    """Whether a row's key (maybe with wildcards) names ``key`` or one of its ancestors or descendants."""
    a, b = pattern.split("."), key.split(".")
    n = min(len(a), len(b))
    return _matches(".".join(a[:n]), b[:n])


def test_every_calibrated_behavioural_or_placeholder_parameter_has_a_range_or_a_reason():
    swept, reasons = list(ranges()), unswept()
    missing = []
    for cells in table_rows(PARAMETERS, 7):
        if not any(kind in cells[6] for kind in SWEPT_KINDS):
            continue
        # every key of the row: `outreach.effects.lift`, `.lift_days` needs both covered
        missing += [k for k in row_keys(cells[0]) if not any(_overlaps(k, r) for r in swept) and k not in reasons]
    assert not missing, f"no range in conf/ranges/documented.yaml and no reason in docs/parameters.md for: {missing}"


def test_every_reason_names_a_documented_parameter_and_every_range_a_config_key():
    rows = {k for cells in table_rows(PARAMETERS, 7) for k in row_keys(cells[0])}
    stale = [k for k in unswept() if k not in rows]
    assert not stale, f"docs/parameters.md gives a reason for keys it has no row for: {stale}"
    known = {k for override in [None, *group_options()] for k in _config_leaves(override)}
    unknown = [r for r in ranges() if not any(k == r or k.startswith(f"{r}.") for k in known)]
    assert not unknown, f"conf/ranges/documented.yaml has ranges for keys no config has: {unknown}"


# The ranges the docs state against the ranges file. A table whose header has a "range" column
# states a key's range there, in one of the forms the docs use: "1-8" with a hyphen, an en dash
# or an em dash, "[1, 8]", "0.5 to 2", thousands with commas, a minus sign, "1/2x-2x" written with
# the half and times signs (relative to the configured value); with a label when the row has
# several keys or the range is a part of the key ("mean 0.32-1.28", "odds 1-4"), in the row's key
# order otherwise ("1.0-2.5, 7-90" for `.lift`, `.lift_days`). Parenthesised notes, code and
# italics are not ranges. A cell without a range ("from CRM", "option", a dash) states none:
# skipped. A subtree row (`outreach.channels.phone`) states a leaf's swept range beside its
# default ("conversion 0.20 *swept 0.05-0.4*").
EN, EM, MINUS, TIMES, HALF = "\u2013", "\u2014", "\u2212", "\u00d7", "\u00bd"
_NUMBER = rf"[{MINUS}-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d*\.\d+|\d+|{HALF})(?:\s*[{TIMES}x](?![A-Za-z]))?"
_RANGE = re.compile(
    rf"\[\s*(?P<low>{_NUMBER})\s*,\s*(?P<high>{_NUMBER})\s*\]"
    rf"|(?P<lo>{_NUMBER})\s*(?:{EN}|{EM}|-|\bto\b)\s*(?P<hi>{_NUMBER})"
)
_NOTES = re.compile(r"\([^()]*\)|`[^`]*`|\*[^*]*\*")


@dataclass(frozen=True)
class Stated:
    """A range a docs cell states: its label (``mean``, ``odds`` or empty), its ends, relative or not."""

    label: str
    low: float
    high: float
    relative: bool = False


def _number(text: str) -> tuple[float, bool]:
    relative = text.rstrip().endswith((TIMES, "x"))
    text = text.rstrip().rstrip(TIMES + "x").strip().replace(MINUS, "-").replace(",", "")
    return (0.5 if text == HALF else float(text)), relative


def stated_ranges(cell: str) -> list[Stated]:
    """The ranges a range cell states, in order, each with the words before it as its label."""
    text = cell
    while (stripped := _NOTES.sub(" ", text)) != text:
        text = stripped
    found, start = [], 0
    for m in _RANGE.finditer(text):
        (low, rel_low), (high, rel_high) = (_number(m["low"] or m["lo"]), _number(m["high"] or m["hi"]))
        label = text[start : m.start()].strip(" ,;:").strip().lower()
        found.append(Stated(label, low, high, rel_low and rel_high))
        start = m.end()
    return found


def range_rows(doc: Path) -> Iterator[tuple[int, list[str], str]]:
    """(line number, cells, range cell) of every row of the tables of ``doc`` that have a "range" column."""
    column = None
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if not line.startswith("|"):
            column = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column is None:  # a table's first line is its header
            names = [c.lower() for c in cells]
            column = names.index("range") if "range" in names else -1
        elif column >= 0 and not set(line) <= set("|-: ") and len(cells) > column:
            yield number, cells, cells[column]


def _names_range(row_key: str, key: str) -> bool:
    """Whether a row's key is the ranges file's key, or the distribution whose mean it moves."""
    parts = key.split(".")
    return _matches(row_key, parts) or (parts[-1] == "mean" and _matches(row_key, parts[:-1]))


def _labels(label: str, key: str) -> bool:
    leaf = key.rsplit(".", 1)[-1]
    return bool(label) and (leaf == label or leaf.endswith(f"_{label}"))


def _choose(stated: list[Stated], keys: list[str], row_key: str, key: str) -> Stated | None:
    """The range of the row that is ``key``'s: the one labelled for it, else by the row's key order."""
    labelled = [r for r in stated if _labels(r.label, key)]
    if labelled:
        return labelled[0]
    if len(stated) == len(keys) and not any(r.label for r in stated):
        return stated[keys.index(row_key)]
    if len(stated) == 1 and len(keys) == 1:
        return stated[0]
    return None


@cache
def _defaults() -> Any:
    return compose_config([])


@dataclass(frozen=True)
class Check:
    """A key of the ranges file, where the docs state its range, and what they state (None: unreadable)."""

    key: str
    where: str
    stated: Stated | None


@cache
def range_checks() -> tuple[Check, ...]:
    """Every statement of a swept key's range in a docs table with a "range" column."""
    swept = ranges()
    checks = []
    for doc in sorted(DOCS.glob("*.md")):
        for number, cells, cell in range_rows(doc):
            keys = row_keys(cells[0])
            where = f"{doc.name}:{number}"
            stated = stated_ranges(cell)
            for key in swept:
                named = [k for k in keys if _names_range(k, key)]
                if named and stated:
                    checks.append(Check(key, where, _choose(stated, keys, named[0], key)))
                elif not named:  # a leaf of a subtree row: its "*swept a-b*" beside the default
                    for k in keys:
                        if _matches(k, key.split(".")[: k.count(".") + 1]):  # an ancestor of the key
                            leaf = re.escape(key.rsplit(".", 1)[-1])
                            m = re.search(rf"\b{leaf}\b[^*|]*\*swept\s+([^*]+)\*", " | ".join(cells))
                            if m:
                                checks.append(Check(key, where, (stated_ranges(m[1]) or [None])[0]))
    return tuple(checks)


def _agrees(stated: Stated, key: str, low: float, high: float) -> bool:
    scale = 1.0
    if stated.relative:
        value = OmegaConf.select(_defaults(), key)
        if not isinstance(value, int | float):
            return False
        scale = float(value)
    return all(
        math.isclose(a * scale, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in ((stated.low, low), (stated.high, high))
    )


def test_the_range_parser_reads_each_format_the_docs_use():
    def ends(cell: str) -> list[tuple[str, float, float, bool]]:
        return [(r.label, r.low, r.high, r.relative) for r in stated_ranges(cell)]

    for cell in ("1-8", f"1{EN}8", f"1 {EN} 8", f"1{EM}8", "[1, 8]", "1 to 8", f"1{EN}8 (`conf/ranges`: 1.5 h, 2 h)"):
        assert ends(cell) == [("", 1.0, 8.0, False)], cell
    assert ends("0.5 to 2") == [("", 0.5, 2.0, False)]
    assert ends(f"{MINUS}0.5{EN}0.5") == [("", -0.5, 0.5, False)]
    assert ends(f"1,250{EN}5,000 ({HALF}{TIMES}{EN}2{TIMES})") == [("", 1250.0, 5000.0, False)]
    assert ends(f"{HALF}{TIMES}{EN}2{TIMES}") == [("", 0.5, 2.0, True)]
    assert ends(f"mean 0.32{EN}1.28 (`conf/ranges`)") == [("mean", 0.32, 1.28, False)]
    assert ends(f"1.0{EN}2.5, 7{EN}90 *swept*") == [("", 1.0, 2.5, False), ("", 7.0, 90.0, False)]
    assert ends(f"response 0.002{EN}0.10; fee 0.032{EN}0.045") == [
        ("response", 0.002, 0.1, False),
        ("fee", 0.032, 0.045, False),
    ]
    for cell in ("from CRM", "option", EM, "", "fixed", "`month`, `week` (ISO weeks)", "at least 1"):
        assert ends(cell) == [], cell


def test_every_range_the_docs_state_is_the_range_the_sensitivity_sweeps():
    swept = ranges()
    unreadable = [f"{c.where} {c.key}" for c in range_checks() if c.stated is None]
    assert not unreadable, f"a docs row states ranges but not which is this key's (label it): {unreadable}"
    wrong = [
        f"{c.where} {c.key}: docs {c.stated.low:g}-{c.stated.high:g}{'x' if c.stated.relative else ''}, "
        f"conf/ranges/documented.yaml {swept[c.key]}"
        for c in range_checks()
        if c.stated is not None and not _agrees(c.stated, c.key, *swept[c.key])
    ]
    assert not wrong, "docs state another range than the sensitivity sweeps: " + "; ".join(wrong)


def test_every_swept_range_is_stated_in_a_docs_table():
    stated = {c.key for c in range_checks()}
    missing = [k for k in ranges() if k not in stated]
    assert not missing, f"no docs table states the range conf/ranges/documented.yaml sweeps for: {missing}"
