"""One-line descriptions of what went wrong, for the command line."""

from __future__ import annotations

from pathlib import Path

from experiments.compose import VariantError
from experiments.paths import CONF_DIR
from salesboost.errors import ConfigError


def is_input_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the user's input (config, overrides) rather than a failure."""
    if isinstance(error, VariantError):
        return is_input_error(error.error)
    if isinstance(error, ConfigError):
        return True
    from hydra.errors import HydraException  # noqa: PLC0415
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    return isinstance(error, (HydraException, OmegaConfBaseException))


def describe_error(error: BaseException) -> str:
    """``error`` as one line that names the key and what is allowed."""
    if isinstance(error, VariantError):
        return f"{describe_error(error.error)} (in variant {error.variant!r})"
    from experiments.app import VariantFailureError  # noqa: PLC0415 - only on the error path

    if isinstance(error, (ConfigError, VariantFailureError)):
        return str(error)
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException  # noqa: PLC0415
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    if isinstance(error, MissingConfigException):
        return _missing_option(error)
    if isinstance(error, OverrideParseException):
        return _malformed_override(error)
    if isinstance(error, ConfigCompositionException) and isinstance(error.__cause__, OmegaConfBaseException):
        return _omegaconf(error.__cause__, str(error))
    if isinstance(error, OmegaConfBaseException):
        return _omegaconf(error, "")
    return _first_line(f"{type(error).__name__}: {error}")


def group_options(group: str) -> list[str]:
    """Options of config group ``group`` (the YAML files in ``conf/<group>``)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _missing_option(error: Exception) -> str:
    missing = getattr(error, "missing_cfg_file", None) or ""
    group, _, option = str(missing).rpartition("/")
    if group and (CONF_DIR / group).is_dir():
        return f"{group}={option}: unknown option; allowed: {', '.join(group_options(group))}"
    groups = sorted(p.name for p in Path(CONF_DIR).iterdir() if p.is_dir())
    return f"{_first_line(str(error))}; config groups: {', '.join(groups)}"


def _malformed_override(error: Exception) -> str:
    override = getattr(error, "override", None) or _first_line(str(error))
    reason = _first_line(getattr(error, "message", "") or "")
    return (
        f"cannot parse override {override!r} ({reason}); expected key=value, group=option, +key=value or ~key, "
        "with lists as [a,b] and quotes around values with spaces"
    )


def _omegaconf(error: Exception, context: str) -> str:
    key = getattr(error, "full_key", None) or ""
    message = _first_line(getattr(error, "msg", None) or str(error))
    if "not in" in message and key:
        parent = key.rpartition(".")[0]
        return f"{key}: unknown key; {message}" + (f" (see `salesboost --cfg job -p {parent}`)" if parent else "")
    if key:
        return f"{key}: {message}"
    return _first_line(context) or message


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
