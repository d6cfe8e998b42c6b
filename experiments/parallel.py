"""Executors for the sweep engine: Ray tasks (local or a cluster) or this process.

A Ray task runs a batch of replications of one variant: ``sim.run`` for each, pure, so a
retried task gives the same results and the worker count or finishing order cannot change
any number. Only the driver records results; workers import neither Hydra nor MLflow.

Stopping: tasks are never cancelled with ``ray.cancel``. In Ray 2.60 a cancel that races
with the reply of a task just finishing makes the driver's core worker fail a check
(``TaskManager::CompletePendingTask``: "Tried to complete task that was not pending") and
abort with a C++ stack trace and exit status 1: what a Ctrl-C printed about one run in five.
The driver forgets its pending tasks instead, and :func:`stop_ray` ends the processes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from experiments.config import RayConfig
from experiments.paths import REPO_ROOT
from experiments.scheduler import Batch
from experiments.variants import Variant
from experiments.worker import simulate_batch
from salesboost.results import RunResult

#: Paths a cluster's runtime environment does not ship with the code.
RUNTIME_EXCLUDES = [
    ".git",
    ".venv",
    ".tools",
    ".salesboost",
    "outputs",
    "multirun",
    "mlartifacts",
    "mlruns",
    "mlflow.db",
    "benchmarks/results",
]
#: Ray re-runs a task whose worker process died (killed, out of memory) this many times.
WORKER_RETRIES = 3


def ensure_ray(config: RayConfig, *, watchdog: bool = False) -> None:
    """Start a private local Ray, or join the cluster at ``config.address``, unless connected.

    With ``watchdog``, a local Ray's processes are also stopped when this process dies
    without cleaning up (SIGKILL, a crash): see :func:`start_watchdog`.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray  # noqa: PLC0415 - Ray is heavy; only experiments that run tasks need it

    if ray.is_initialized():
        return
    # Ray announces its default token authentication at every start; it is not a problem.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    if config.address is None:
        if watchdog:
            start_watchdog()
        # address="local" never attaches to another user's cluster on a shared machine.
        with _sigterm_kept(), _node_processes_in_own_session():
            ray.init(
                address="local",
                num_cpus=config.num_cpus or os.cpu_count(),
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
    else:
        with _sigterm_kept():
            ray.init(
                address=config.address,
                runtime_env={"working_dir": str(REPO_ROOT), "excludes": RUNTIME_EXCLUDES},
                log_to_driver=False,
                logging_level=logging.WARNING,
            )


@contextlib.contextmanager
def _node_processes_in_own_session() -> Iterator[None]:
    """Start a local Ray's node processes (GCS, raylet and so its workers) in a session of their own.

    A signal to the whole process group (a service manager's SIGTERM, ``kill -TERM -PGID``) then
    reaches only the driver, which stops Ray in order. Otherwise the raylet dies of it first and
    Ray's core worker ends the driver at once (exit 1, the parent run left open). Ray does the
    same on Windows (``CREATE_NEW_PROCESS_GROUP`` in ``ray._private.services.ConsolePopen``) but
    has no option for it on POSIX, hence the subclass; the descendants stay ours (the parent of
    each is unchanged), so :func:`stop_ray` and the watchdog still find them.
    """
    if sys.platform == "win32":
        yield
        return
    from ray._private import services  # noqa: PLC0415

    original = services.ConsolePopen

    class _OwnSession(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("start_new_session", True)
            super().__init__(*args, **kwargs)

    services.ConsolePopen = _OwnSession  # type: ignore[misc]
    try:
        yield
    finally:
        services.ConsolePopen = original  # type: ignore[misc]


@contextlib.contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Keep this process's SIGTERM handler across ``ray.init``.

    ``ray.init`` installs its own, which exits with status 15 at once: a SIGTERM during or
    after it would skip the clean stop. One that arrives during it becomes an interrupt.
    """
    from experiments.locks import interrupt_from_signal  # noqa: PLC0415

    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    except SystemExit as stop:
        if stop.code == signal.SIGTERM:
            raise interrupt_from_signal() from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


#: Seconds a process gets to exit after Ray's shutdown asked it to, before it is killed.
STOP_GRACE_SECONDS = 2.0


def stop_ray() -> None:
    """Disconnect from Ray and end every process this one started, within a few seconds.

    Safe at any moment, also after an interrupted ``ray.init`` (when ``ray.is_initialized()``
    is still false but the GCS and raylet may already run). Only descendants of this process
    are touched, never another invocation's Ray (no ``ray stop``). They are listed before the
    shutdown, because the raylet's agents outlive it by a minute and lose their parent then.
    """
    ray = sys.modules.get("ray")
    if ray is None:
        return
    import psutil  # noqa: PLC0415 - only when stopping Ray

    try:
        started = [p for p in psutil.Process().children(recursive=True) if p.pid != _watchdog_pid()]
    except psutil.Error:
        started = []
    with contextlib.suppress(Exception):  # a half-initialised Ray may fail to disconnect; we kill it below
        ray.shutdown()
    _, alive = psutil.wait_procs(started, timeout=STOP_GRACE_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=STOP_GRACE_SECONDS)


#: Runs beside the driver: every 0.5 s it notes the driver's descendants (pid and start
#: time); when the driver's end of the pipe closes (it exited or was killed) it kills those
#: still alive. Pure standard library and /proc, so it starts in milliseconds.
_WATCHDOG = r"""
import os, select, signal, sys
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)
driver, me, known = int(sys.argv[1]), os.getpid(), {}
def stat(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[1]), int(fields[19])
def scan():
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = stat(int(name))
            if found:
                children.setdefault(found[0], []).append((int(name), found[1]))
    frontier = [driver]
    while frontier:
        for pid, start in children.get(frontier.pop(), ()):
            if pid != me:
                known[pid] = start
                frontier.append(pid)
while True:
    scan()
    ready, _, _ = select.select([0], [], [], 0.5)
    if ready and not os.read(0, 4096):
        break
for pid, start in known.items():
    found = stat(pid)
    if found and found[1] == start:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""

_watchdog: subprocess.Popen[bytes] | None = None


def start_watchdog() -> None:
    """Make sure this process's descendants die with it, even when it is killed (Linux only).

    Ray makes its GCS and raylet die with the driver, but not the raylet's agents
    (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``): they notice the raylet is gone, then
    wait about 60 s to report it to the dead GCS. Workers take about 2 s. The watchdog is in
    its own session, so a Ctrl-C at the terminal does not reach it.
    """
    global _watchdog  # noqa: PLW0603 - one per process
    if _watchdog is not None or not sys.platform.startswith("linux"):
        return
    _watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def _watchdog_pid() -> int | None:
    return _watchdog.pid if _watchdog is not None else None


class RayExecutor:
    """Runs batches as Ray tasks on the connected cluster."""

    def __init__(self, cpus_per_task: float = 1) -> None:
        import ray  # noqa: PLC0415

        self._ray = ray
        self._remote = ray.remote(max_retries=WORKER_RETRIES, num_cpus=cpus_per_task)(simulate_batch)
        self._pending: dict[Any, Batch] = {}
        self._scenario_refs: dict[str, Any] = {}

    def submit(self, variant: Variant, batch: Batch, seed: int, event_logs: Sequence[str | None]) -> None:
        """Start ``batch`` as one task."""
        ref = self._scenario_refs.get(variant.name)
        if ref is None:
            ref = self._scenario_refs[variant.name] = self._ray.put(variant.scenario)
        task = self._remote.remote(ref, seed, list(batch.replications), variant.name, list(event_logs))
        self._pending[task] = batch

    def pending(self) -> int:
        """Tasks not yet handed back."""
        return len(self._pending)

    def wait(self) -> list[tuple[Batch, list[RunResult] | BaseException]]:
        """Block until a task is done; return every task that is."""
        ray = self._ray
        ready, _ = ray.wait(list(self._pending), num_returns=1)
        more, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=0)
        out: list[tuple[Batch, list[RunResult] | BaseException]] = []
        for ref in dict.fromkeys([*ready, *more]):
            batch = self._pending.pop(ref)
            try:
                out.append((batch, ray.get(ref)))
            except (ray.exceptions.RayTaskError, ray.exceptions.WorkerCrashedError) as error:
                out.append((batch, error))
        return out

    def cancel(self) -> None:
        """Forget every pending task; their results are dropped (see the module's note on ``ray.cancel``)."""
        self._pending.clear()


class LocalExecutor:
    """Runs batches one after another in this process (tests, baselines, debugging)."""

    def __init__(self) -> None:
        self._queue: list[tuple[Variant, Batch, int, list[str | None]]] = []

    def submit(self, variant: Variant, batch: Batch, seed: int, event_logs: Sequence[str | None]) -> None:
        """Queue ``batch``."""
        self._queue.append((variant, batch, seed, list(event_logs)))

    def pending(self) -> int:
        """Batches queued."""
        return len(self._queue)

    def wait(self) -> list[tuple[Batch, list[RunResult] | BaseException]]:
        """Run the oldest queued batch."""
        variant, batch, seed, logs = self._queue.pop(0)
        try:
            return [(batch, simulate_batch(variant.scenario, seed, batch.replications, variant.name, logs))]
        except Exception as error:  # a failing variant is data, as on Ray
            return [(batch, error)]

    def cancel(self) -> None:
        """Drop the queue."""
        self._queue.clear()
