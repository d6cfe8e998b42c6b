"""One-line descriptions of what went wrong, for the command line."""

from __future__ import annotations

from pathlib import Path

import yaml

from experiments.compose import VariantError
from experiments.config_files import (
    Location,
    chain,
    decode_error_location,
    failing_source,
    frames,
    ignored_header,
    key_location,
    yaml_syntax_error,
)
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

    if isinstance(error, (HydraException, OmegaConfBaseException)):
        return True
    if any(isinstance(link, yaml.YAMLError) for link in chain(error)):
        return True
    if isinstance(error, OSError) and _output_key(error):
        return True
    return isinstance(error, ValueError) and failing_source(error) is not None


def describe_error(error: BaseException) -> str:
    """``error`` as one line that names the key (or the file, line and column) and what is allowed."""
    if isinstance(error, VariantError):
        return f"{describe_error(error.error)} (in variant {error.variant!r})"
    from experiments.app import VariantFailureError  # noqa: PLC0415 - only on the error path

    if isinstance(error, (ConfigError, VariantFailureError)):
        return str(error)
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException  # noqa: PLC0415
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    syntax = yaml_syntax_error(error)
    if syntax:
        return syntax
    if isinstance(error, MissingConfigException):
        return _missing_option(error)
    if isinstance(error, OverrideParseException):
        return _malformed_override(error)
    if isinstance(error, OSError) and _output_key(error):
        return _output_dir(error)
    cause = next((link for link in chain(error) if isinstance(link, OmegaConfBaseException)), None)
    if isinstance(error, ConfigCompositionException) and cause is not None:
        return _in_file(error, _omegaconf(cause, str(error)), getattr(cause, "full_key", None) or "")
    if isinstance(error, OmegaConfBaseException):
        return _omegaconf(error, "")
    if isinstance(error, ValueError) and failing_source(error) is not None:
        return _in_file(error, _first_line(str(error)), "")
    return _first_line(f"{type(error).__name__}: {error}")


def _in_file(error: BaseException, message: str, full_key: str) -> str:
    """``message`` prefixed with the file, line and column it comes from, when known."""
    source = failing_source(error)
    if source is None:
        return message
    if isinstance(error, UnicodeDecodeError):
        where = decode_error_location(error, source.path)
        return f"{where}: not UTF-8 text (byte 0x{error.object[error.start]:02x}); save the file as UTF-8"
    where = key_location(source, full_key) if full_key else Location(source.path)
    header = ignored_header(source.path)
    return f"{where}: {message}" + (f"; {header}" if header else "")


def _output_key(error: OSError) -> str | None:
    """The Hydra key of the output directory that ``error`` failed to create, if that is what failed."""
    for frame in frames(error):
        if frame.f_code.co_name == "run_job" and "job_dir_key" in frame.f_locals:
            return str(frame.f_locals["job_dir_key"])
    return None


def _output_dir(error: OSError) -> str:
    from experiments.services import writable_dir  # noqa: PLC0415

    key = _output_key(error) or "hydra.run.dir"
    if error.filename:
        try:  # the same diagnosis as the pre-flight check of the output directory
            writable_dir(Path(error.filename), key, "the output directory")
        except ConfigError as diagnosed:
            return str(diagnosed)
    reason = error.strerror or type(error).__name__
    where = f" {error.filename}" if error.filename else ""
    return f"{key}: cannot create the output directory{where}: {reason}; choose a writable directory"


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
    return message or _first_line(context)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
