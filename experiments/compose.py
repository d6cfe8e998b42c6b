"""Compose configs with Hydra and turn them into validated scenarios.

Variants are bundles of Hydra overrides, composed on top of the user's own overrides; a
variant's override wins over the user's for the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from experiments.config import AppConfig, CustomersConfig, ExperimentConfig, RayConfig, TrackingConfig
from experiments.config_files import Location, enclosing_override, key_source
from experiments.paths import CONF_DIR
from experiments.variants import Variant, expand
from salesboost.build import build
from salesboost.errors import ConfigError
from salesboost.scenario import SCENARIO_SECTIONS, Scenario

SCHEMA_NAME = "base_config"
T = TypeVar("T")


def register_schema() -> None:
    """Register the typed schema that ``conf/config.yaml`` lists first in its defaults."""
    ConfigStore.instance().store(name=SCHEMA_NAME, node=AppConfig)


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/config.yaml`` with ``overrides`` (initialising Hydra if needed)."""
    register_schema()
    if GlobalHydra.instance().is_initialized():
        return compose(config_name="config", overrides=with_search_path(overrides))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def with_search_path(overrides: Sequence[str]) -> list[str]:
    """``overrides`` plus the running app's ``hydra.searchpath``, unless they set it.

    Inside the ``salesboost`` command the overrides of a variant are the task's only, without
    ``hydra.*``; a user's config directory added on the command line must still be searched.
    """
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

    if any(override_key(o) == "hydra.searchpath" for o in overrides) or not HydraConfig.initialized():
        return list(overrides)
    paths = [str(p) for p in HydraConfig.get().searchpath]
    if not paths:
        return list(overrides)
    quoted = ",".join("'" + p.replace("\\", "\\\\").replace("'", "\\'") + "'" for p in paths)
    return [f"hydra.searchpath=[{quoted}]", *overrides]


def scenario_sections(cfg: DictConfig) -> dict[str, Any]:
    """The scenario part of a composed config, resolved to plain data."""
    data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert isinstance(data, dict)
    return {key: data[key] for key in SCENARIO_SECTIONS}


def scenario_of(cfg: DictConfig) -> Scenario:
    """The validated scenario of a composed config."""
    return Scenario.from_dict(scenario_sections(cfg))


def experiment_of(cfg: DictConfig) -> ExperimentConfig:
    """The validated experiment section."""
    return _section(ExperimentConfig, cfg, "experiment")


def customers_of(cfg: DictConfig) -> CustomersConfig:
    """The validated customers section (a company's transactions and tier rules)."""
    return _section(CustomersConfig, cfg, "customers")


def tracking_of(cfg: DictConfig) -> TrackingConfig:
    """The validated tracking section."""
    return _section(TrackingConfig, cfg, "tracking")


def ray_of(cfg: DictConfig) -> RayConfig:
    """The validated ray section."""
    return _section(RayConfig, cfg, "ray")


def _section(cls: type[T], cfg: DictConfig, key: str) -> T:
    try:
        return build(cls, OmegaConf.to_container(cfg[key], resolve=True), key)  # type: ignore[arg-type]
    except ConfigError as error:
        raise located(error, _app_overrides()) from None


class LocatedConfigError(ConfigError):
    """A bad value written in a config file: the message starts with ``file:line:column``."""

    def __init__(self, error: ConfigError, location: Location) -> None:
        super().__init__(error.key, error.problem)
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {super().__str__()}"


class OverrideConfigError(ConfigError):
    """A bad entry of a list or mapping given on the command line: the message names the override."""

    def __init__(self, error: ConfigError, override: str) -> None:
        super().__init__(error.key, error.problem)
        self.override = override

    def __str__(self) -> str:
        return f"{super().__str__()} (from the command-line override {self.override.lstrip('+')})"


def located(
    error: ConfigError, overrides: Sequence[str] | None, command_line: Sequence[str] | None = None
) -> ConfigError:
    """``error`` with the file, line and column of its key, when a config file (not an override) sets it.

    An entry of a list or mapping that one of ``command_line`` (default: ``overrides``) sets
    names that override instead.
    """
    if overrides is None or not error.key or isinstance(error, (LocatedConfigError, OverrideConfigError)):
        return error
    override = enclosing_override(error.key, overrides if command_line is None else command_line)
    if override is not None:
        return OverrideConfigError(error, override)
    location = key_source(error.key, overrides)
    return LocatedConfigError(error, location) if location else error


def _app_overrides() -> list[str] | None:
    """The running ``salesboost`` command's task overrides; None outside the command."""
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

    if not HydraConfig.initialized():
        return None
    return with_search_path(list(HydraConfig.get().overrides.task))


def override_key(override: str) -> str:
    """The key an override sets: ``pipeline`` for ``pipeline=optimised``, ``a.b`` for ``+a.b=1``."""
    return override.split("=", 1)[0].lstrip("+~")


def merge_overrides(base: Sequence[str], variant: Sequence[str]) -> list[str]:
    """``base`` overrides without the keys ``variant`` sets, then ``variant``'s."""
    taken = {override_key(o) for o in variant}
    return [o for o in base if override_key(o) not in taken] + list(variant)


class VariantError(Exception):
    """Composing or validating one variant failed; ``error`` says why."""

    def __init__(self, variant: str, error: Exception) -> None:
        self.variant = variant
        self.error = error
        super().__init__(f"variant {variant!r}: {error}")


def compose_variants(experiment: ExperimentConfig, user_overrides: Sequence[str]) -> list[Variant]:
    """Every variant of ``experiment``, composed on top of ``user_overrides`` and validated."""
    variants = []
    for name, overrides in expand(experiment).items():
        merged = merge_overrides(user_overrides, overrides)
        try:
            cfg = compose_config(merged)
            sections = scenario_sections(cfg)
            scenario = Scenario.from_dict(sections)
        except ConfigError as error:
            from_user = merged[: len(merged) - len(overrides)]  # the command line's, not the variant's
            raise VariantError(name, located(error, with_search_path(merged), from_user)) from error
        except Exception as error:
            raise VariantError(name, error) from error
        variants.append(Variant(name=name, overrides=tuple(overrides), config=sections, scenario=scenario))
    return variants
