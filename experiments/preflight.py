"""Checks of services, paths and sizes, made before any run is created or Ray is started.

Each check raises :class:`salesboost.errors.ConfigError` naming the key to change and what
is allowed, so bad input ends in one line, a non-zero exit and nothing recorded. The local
checks come first and cost milliseconds; the services are asked last, with bounded waits.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from experiments.estimate import Estimate, available_memory, estimate, human_bytes, human_seconds
from experiments.services import check_ray_address, check_tracking_uri, writable_dir
from experiments.store import DEFAULT_STORE
from salesboost.errors import ConfigError

if TYPE_CHECKING:
    from experiments.app import Plan

#: Warn (not refuse) when the simulations are expected to take longer than this.
LONG_RUN_SECONDS = 600.0
#: Event-log bytes per lead: about 8 activities a lead, about 120 bytes a CSV row and a
#: third of that in Parquet (rounded up from the logs of the default experiment).
EVENT_LOG_BYTES_PER_LEAD = {"csv": 1000, "parquet": 400}
SIZE_KEYS = "market.leads_per_week, horizon.days or horizon.drain_days"


def check_plan(plan: Plan, output_dir: Path, *, warnings: TextIO | None = None) -> None:
    """Check that ``plan`` can run here and write to ``output_dir``; raise ConfigError if not.

    A run that fits but will take long gets one warning line on ``warnings`` (stderr).
    """
    check_paths(plan, output_dir)
    size = check_size(plan, output_dir)
    if size.wall_seconds > LONG_RUN_SECONDS:
        print(
            f"salesboost: warning: {size.replications:,} simulations of up to {size.largest_replication_leads:,.0f} "
            f"leads will take about {human_seconds(size.wall_seconds)} on {size.workers} CPU(s) (estimate); "
            f"lower experiment.replications or {SIZE_KEYS} for a quicker run",
            file=warnings if warnings is not None else sys.stderr,
        )
    if plan.tracking.enabled:
        check_tracking_uri(plan.tracking.uri)
    check_ray_address(plan.ray.address)


def output_key() -> str:
    """The Hydra key that sets the output directory of this invocation."""
    try:
        from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415
        from hydra.types import RunMode  # noqa: PLC0415

        if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
            return "hydra.sweep.dir"
    except (ImportError, ValueError):
        pass
    return "hydra.run.dir"


def check_paths(plan: Plan, output_dir: Path) -> None:
    """The output directory and the result store must be writable directories."""
    writable_dir(output_dir, output_key(), "the output directory")
    experiment = plan.experiment
    if experiment.cache:
        if experiment.cache_dir is not None and not experiment.cache_dir.strip():
            raise ConfigError("experiment.cache_dir", "must not be empty; use null for .salesboost/results")
        cache = Path(experiment.cache_dir).expanduser() if experiment.cache_dir else DEFAULT_STORE
        writable_dir(cache, "experiment.cache_dir", "the result store")


def check_size(plan: Plan, output_dir: Path) -> Estimate:
    """Refuse a plan whose memory cannot fit this machine or whose event logs cannot fit the disk."""
    size = estimate(plan)
    local = plan.ray.address is None
    free = available_memory()
    if free is not None:
        base = size.peak_bytes - size.workers * size.worker_bytes  # Ray's processes and the driver
        one = base + size.worker_bytes
        if size.driver_bytes > free:
            raise ConfigError(
                _replications_key(plan),
                f"{size.replications:,} simulations keep about {human_bytes(size.driver_bytes)} of results in memory; "
                f"this machine has {human_bytes(free)} available; use fewer replications or variants",
            )
        if local and one > free:
            raise ConfigError(
                "market.leads_per_week",
                f"one simulation of {size.largest_replication_leads:,.0f} leads may need up to "
                f"{human_bytes(size.worker_bytes)} of memory and this machine has {human_bytes(free)} available; "
                f"lower {SIZE_KEYS}",
            )
        if local and size.peak_bytes > free:
            fits = max(1, int((free - base) // size.worker_bytes))
            raise ConfigError(
                "ray.num_cpus",
                f"{size.workers} simulations at once may need up to {human_bytes(size.peak_bytes)} of memory and "
                f"this machine has {human_bytes(free)} available; set ray.num_cpus={fits} or lower {SIZE_KEYS}",
            )
    log_format = plan.experiment.event_log
    if log_format in EVENT_LOG_BYTES_PER_LEAD:
        needed = size.leads * EVENT_LOG_BYTES_PER_LEAD[log_format]
        disk = _free_disk(output_dir)
        if disk is not None and needed > disk:
            raise ConfigError(
                "experiment.event_log",
                f"the {log_format} event logs of {size.leads:,.0f} leads need about {human_bytes(needed)} "
                f"and {output_dir} has {human_bytes(disk)} free; use none or lower {SIZE_KEYS}",
            )
    return size


def _replications_key(plan: Plan) -> str:
    """The key that sets most of the replications of ``plan``."""
    experiment = plan.experiment
    main = experiment.replications * len(plan.variants)
    if experiment.adaptive.enabled and experiment.adaptive.max_replications > experiment.replications:
        main = experiment.adaptive.max_replications * len(plan.variants)
        key = "experiment.adaptive.max_replications"
    else:
        key = "experiment.replications"
    sensitivity = experiment.sensitivity
    probes = len(sensitivity.parameters or plan.ranges) * 4 if sensitivity.enabled else 0
    return "experiment.sensitivity.replications" if probes * sensitivity.replications > main else key


def _free_disk(path: Path) -> int | None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        return shutil.disk_usage(existing).free
    except OSError:
        return None
