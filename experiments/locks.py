"""Critical sections: inter-process file locks, and code that a signal does not cut in half.

File locks are ``flock`` locks, which the operating system releases when their holder dies,
so a killed invocation never blocks the next one. Interrupts: the ``salesboost`` command
turns the first SIGINT or SIGTERM into a ``KeyboardInterrupt`` (ignoring any later one while
it cleans up); inside :func:`deferred_interrupts` the signal waits until the section ends, so
a database migration or the creation of a run is done whole or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

#: The signals that stop an invocation: Ctrl-C and a polite kill.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class LockTimeoutError(TimeoutError):
    """A lock stayed held by another process for longer than the wait allowed."""


class SweepBusyError(RuntimeError):
    """The same sweep is being run by another process right now."""


@dataclass
class _InterruptState:
    installed: bool = False
    raised: bool = False  # the first signal became a KeyboardInterrupt; later ones are ignored
    deferring: int = 0  # depth of deferred_interrupts sections
    pending: bool = False  # a signal arrived inside a deferred section


_state = _InterruptState()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    if _state.raised:
        return  # already stopping: let the cleanup finish
    if _state.deferring:
        _state.pending = True
        return
    _state.raised = True
    raise KeyboardInterrupt


def install_interrupt_handlers() -> None:
    """Make SIGINT and SIGTERM raise ``KeyboardInterrupt`` once; later signals are ignored.

    Also when SIGINT was ignored at the start (a shell script's ``&`` job, some CI runners):
    a ``kill -INT`` then still stops the run cleanly instead of being lost.
    """
    for number in STOP_SIGNALS:
        signal.signal(number, _on_signal)
    _state.installed = True


def ignore_further_interrupts() -> None:
    """From now on a stop signal is ignored: the process is already on its way out, cleaning up."""
    _state.raised = True


def interrupt_from_signal() -> KeyboardInterrupt:
    """The interrupt to raise for a stop signal that another handler caught (Ray's, in ``ray.init``)."""
    _state.raised = True
    return KeyboardInterrupt()


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the body whole: a stop signal that arrives inside waits until it ends.

    Only where the handlers of :func:`install_interrupt_handlers` are installed and in the
    main thread; elsewhere (a library caller, a worker thread) the body runs as it is.
    """
    if not _state.installed or threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending and not _state.raised:
            _state.pending = False
            _state.raised = True
            raise KeyboardInterrupt


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created in its existing folder), waiting at most ``timeout`` seconds."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(f"{what}: still locked by another process after {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class SweepLock:
    """Held by the one process that runs a sweep; another one for the same sweep is refused.

    The lock file holds the holder's PID, host and start time, so the refusal names it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`SweepBusyError` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise SweepBusyError(
                f"the same sweep is already running in {holder}; "
                "wait for it to finish (or stop it), then run the same command again to reuse its results"
            ) from None
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"process {os.getpid()} on {socket.gethostname()} (started {started})\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let the next invocation of this sweep run."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read_holder(fd: int) -> str:
    # The holder writes its line right after locking; give it a moment if we came in between.
    for _ in range(20):
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "another process"
