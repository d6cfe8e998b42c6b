"""Which YAML file, line and column an error in a config file comes from.

Hydra reports a broken config file as the config's name (``In 'experiment/mine'``) with the
reason on a later line, or not at all (a YAML syntax error carries only PyYAML's marks). These
helpers recover the file from the error, find the line of the offending key in it, and
recognise a ``# @package`` directive that Hydra ignored because it was not at the top.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import yaml

from experiments.paths import REPO_ROOT

#: A header line Hydra reads (``# @package _global_``); only at the top of a file.
_HEADER = re.compile(r"^\s*#\s*@(\w+)")


@dataclass(frozen=True)
class Location:
    """A place in a config file (line and column from 1)."""

    path: Path
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{shown_path(self.path)}:{self.line}:{self.column}"


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (``conf/market/baseline.yaml``)."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def yaml_syntax_error(error: BaseException) -> str | None:
    """One line for a PyYAML error: ``file:line:column: YAML syntax error: reason (context)``."""
    for link in chain(error):
        if isinstance(link, yaml.MarkedYAMLError):
            mark = link.problem_mark or link.context_mark
            if mark is None:
                return None
            where = Location(Path(mark.name), mark.line + 1, mark.column + 1)
            reason = link.problem or link.context or "cannot be parsed"
            context = ""
            if link.context and link.problem and link.context_mark is not None:
                start = link.context_mark
                context = f" ({link.context} that starts at line {start.line + 1}, column {start.column + 1})"
            hint = "; indent with spaces, not tabs" if "'\\t'" in reason else ""
            return f"{where}: YAML syntax error: {reason}{context}{hint}"
    return None


@dataclass(frozen=True)
class Source:
    """The config file Hydra was loading or merging when it failed, and its package."""

    path: Path
    package: str | None  # the dotted key its content went under ("" for _global_), if known


def failing_source(error: BaseException) -> Source | None:
    """The config file Hydra was reading or merging when ``error`` was raised, if any."""
    for frame in frames(error):
        local = frame.f_locals
        loaded, default = local.get("loaded"), local.get("default")
        if loaded is not None and default is not None and hasattr(loaded, "path") and hasattr(default, "config_path"):
            root = str(loaded.path or "")
            if root.startswith("file://"):
                path = Path(root.removeprefix("file://")) / f"{default.config_path}.yaml"
                return Source(path, getattr(default, "package", None))
        full_path = local.get("full_path")
        if (
            isinstance(full_path, str)
            and full_path.endswith((".yaml", ".yml"))
            and "load_config" in frame.f_code.co_name
        ):
            return Source(Path(full_path), None)
    return None


def key_location(source: Source, full_key: str) -> Location:
    """Where ``full_key`` (a key of the composed config) is written in ``source``'s file.

    Falls back to the deepest enclosing key found, or to the top of the file.
    """
    return _walk(source, full_key)[0]


def _walk(source: Source, full_key: str) -> tuple[Location, bool]:
    """The location of ``full_key`` (or of its deepest enclosing key) and whether it was found."""
    location = Location(source.path)
    try:
        node = yaml.compose(source.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return location, False
    package = source.package or ""
    key = full_key
    if package and (key == package or key.startswith(package + ".")):
        key = key[len(package) :].lstrip(".")
    for part in [p for p in re.split(r"\.|\[(\d+)\]", key) if p]:
        child = _child(node, part)
        if child is None:
            return location, False
        key_node, node = child
        location = Location(source.path, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return location, True


def _child(node: Any, part: str) -> tuple[Any, Any] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if str(key_node.value) == part:
                return key_node, value
    if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        item = node.value[int(part)]
        return item, item
    return None


def ignored_header(path: Path) -> str | None:
    """Why a ``# @package`` line in ``path`` has no effect, if it has none; else None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    first_other = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if _HEADER.match(line):
            if first_other is not None:
                return (
                    f"'{line.strip()}' on line {number} is ignored because Hydra reads it only at the top "
                    f"of the file and line {first_other} comes first: move it to line 1"
                )
        elif first_other is None:
            first_other = number
    return None


def decode_error_location(error: UnicodeDecodeError, path: Path) -> Location:
    """Where the undecodable byte of ``error`` sits in ``path``."""
    try:
        data = path.read_bytes()[: error.start]
    except OSError:
        return Location(path)
    line = data.count(b"\n") + 1
    return Location(path, line, error.start - (data.rfind(b"\n") + 1) + 1)


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the errors it was raised from, outermost first."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def frames(error: BaseException) -> Iterator[FrameType]:
    """Every frame in the tracebacks of ``error``'s chain, innermost first."""
    for link in chain(error):
        stack: list[FrameType] = []
        tb: TracebackType | None = link.__traceback__
        while tb is not None:
            stack.append(tb.tb_frame)
            tb = tb.tb_next
        yield from reversed(stack)


def key_source(key: str, overrides: Sequence[str]) -> Location | None:
    """Where the value of ``key`` in the config composed with ``overrides`` is written, if in a file.

    None when an override sets it (or a parent of it) on the command line, or when no file of
    the defaults list writes it. The last file of the defaults list that writes it wins, as
    in Hydra's merge.
    """
    from hydra import initialize_config_dir  # noqa: PLC0415 - on the error path only
    from hydra.core.global_hydra import GlobalHydra  # noqa: PLC0415
    from hydra.types import RunMode  # noqa: PLC0415

    from experiments.paths import CONF_DIR  # noqa: PLC0415

    dirs = [CONF_DIR, *_search_dirs(overrides)]
    # Set on the command line, whole or in part (a.b.c=1 changes what is checked under a.b).
    if any(key == k or _inside(key, k) or _inside(k, key) for k, _ in _value_overrides(overrides, dirs)):
        return None

    def defaults() -> list[Any]:
        loader = GlobalHydra.instance().config_loader()
        found = loader.compute_defaults_list(config_name="config", overrides=list(overrides), run_mode=RunMode.RUN)
        return list(found.defaults)

    try:
        if GlobalHydra.instance().is_initialized():
            entries = defaults()
        else:
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                entries = defaults()
    except Exception:  # a best effort on the error path; the key alone is still named
        return None
    for entry in reversed(entries):
        files = [d / f"{entry.config_path}.yaml" for d in dirs]
        path = next((f for f in files if f.is_file()), None)
        package = entry.package or ""
        if path is None or not (package in ("", key) or key.startswith(f"{package}.")):
            continue
        location, found = _walk(Source(path, package), key)
        if found:
            return location
    return None


def enclosing_override(key: str, overrides: Sequence[str]) -> str | None:
    """The override that sets the list or mapping ``key`` is part of (``a.b=[x]`` for ``a.b[0]``), if any."""
    from experiments.paths import CONF_DIR  # noqa: PLC0415

    found = [o for k, o in _value_overrides(overrides, [CONF_DIR, *_search_dirs(overrides)]) if _inside(key, k)]
    return found[-1] if found else None


def _inside(key: str, outer: str) -> bool:
    """Whether ``key`` is an entry of ``outer``: ``outer.x`` or ``outer[0]``."""
    return key.startswith((f"{outer}.", f"{outer}["))


def _value_overrides(overrides: Sequence[str], dirs: Sequence[Path]) -> list[tuple[str, str]]:
    """``(key, override)`` of the overrides that set a value (not a group choice: ``conf/<key>`` is a folder)."""
    keyed = [(o.split("=", 1)[0].lstrip("+~"), o) for o in overrides if "=" in o]
    return [(k, o) for k, o in keyed if not any((d / k).is_dir() for d in dirs)]


def _search_dirs(overrides: Sequence[str]) -> list[Path]:
    """Directories a ``hydra.searchpath=[file://...]`` override (or the running app) adds."""
    entries: list[str] = []
    for override in overrides:
        if override.split("=", 1)[0] == "hydra.searchpath":
            entries += [e.strip(" '\"") for e in override.split("=", 1)[1].strip("[]").split(",")]
    try:
        from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

        if HydraConfig.initialized():
            entries += [str(e) for e in HydraConfig.get().searchpath]
    except ImportError:
        pass
    return [Path(e.removeprefix("file://")) for e in entries if e.startswith("file://")]
