"""Build typed config dataclasses from plain data, with errors that name the full key.

Hydra checks types while it composes; this builder is the boundary where plain containers
become the domain's dataclasses and where each ``__post_init__`` check runs. Any
:class:`~salesboost.errors.ConfigError` raised on the way gets the dotted path prefixed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, cast

from salesboost.errors import ConfigError

T = TypeVar("T")

_SCALARS: dict[type, str] = {float: "a number", int: "an integer", str: "a string", bool: "true or false"}


def build(cls: type[T], data: Mapping[str, Any], path: str = "") -> T:
    """Return ``cls(**data)`` with nested dataclasses built and every value checked."""
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping of {cls.__name__} fields (got {type(data).__name__})")
    hints = _hints(cast(type, cls))
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(_join(path, str(unknown[0])), f"unknown key; allowed: {', '.join(sorted(known))}")
    kwargs = {name: _convert(hints[name], value, _join(path, name)) for name, value in data.items()}
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(_join(path, missing[0]), "missing value")
    try:
        return cls(**kwargs)
    except ConfigError as error:
        raise error.under(path) from None


def stable_hash(data: Any) -> str:
    """A short hash of plain data that does not depend on key order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def to_dict(obj: Any) -> Any:
    """Return ``obj`` (a dataclass tree) as plain dicts and lists."""
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) and not isinstance(obj, type) else obj


def _convert(hint: Any, value: Any, path: str) -> Any:
    if value == "???":
        raise ConfigError(path, "missing value")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, path)
    if value is None:
        raise ConfigError(path, "must not be null")
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path)  # type: ignore[arg-type]
    if origin is list:
        (item,) = typing.get_args(hint)
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"expected a list (got {value!r})")
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, Mapping):
            raise ConfigError(path, f"expected a mapping (got {value!r})")
        return {str(k): _convert(item, v, _join(path, str(k))) for k, v in value.items()}
    return _scalar(hint, value, path)


def _scalar(hint: type, value: Any, path: str) -> Any:
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and isinstance(value, hint):
        return value
    if hint is Any:
        return value
    raise ConfigError(path, f"expected {_SCALARS.get(hint, hint.__name__)} (got {value!r})")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
