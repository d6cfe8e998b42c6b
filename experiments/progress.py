"""Progress of long runs, one line per phase ("simulating", "sensitivity"), on stderr.

On a terminal each phase is a live ``rich`` progress bar; its total shows as "counting" until
the phase knows it, and grows when an adaptive sweep asks for more replications. Elsewhere (CI,
logs, pipes) a phase writes a plain line at about every 10% and a last line when it closes, with
no control codes. The time left is estimated from the work computed in this invocation only:
replications found in the result store count as done but not towards the rate.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

Clock = Callable[[], float]


def _seconds(value: float) -> str:
    """A duration as ``42s``, ``3m05s`` or ``1h02m``."""
    s = max(0, round(value))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def eta_seconds(elapsed: float, done: int, reused: int, total: int) -> float | None:
    """Seconds left at the rate of computed work (``done - reused`` in ``elapsed``); None before any."""
    computed = done - reused
    if computed <= 0 or done >= total:
        return None
    return elapsed / computed * (total - done)


class _CountColumn(ProgressColumn):
    """``done/total share``, or "counting" while the phase does not know its total yet."""

    def render(self, task: Task) -> Text:
        """The count of ``task``."""
        if task.total is None:
            return Text("counting")
        share = task.completed / task.total if task.total else 1.0
        return Text(f"{int(task.completed)}/{int(task.total)} {share:4.0%}")


class _StatusColumn(ProgressColumn):
    """Results reused from the store, and the time left at the rate of computed work."""

    def render(self, task: Task) -> Text:
        """The status of ``task``."""
        parts = []
        reused = int(task.fields.get("reused", 0))
        if reused:
            parts.append(f"{reused} from store")
        if task.total is not None:
            working = (task.elapsed or 0.0) - float(task.fields.get("reading", 0.0))
            eta = eta_seconds(max(working, 0.0), int(task.completed), reused, int(task.total))
            if eta is not None:
                parts.append(f"ETA {_seconds(eta)}")
            elif task.completed >= task.total:
                parts.append("done")
        return Text("  ".join(parts))


class _Board:
    """One live display per console, shared by the phases open on it (one task line each)."""

    def __init__(self, console: Console, clock: Clock, width: int) -> None:
        self.console = console
        self.open = 0
        self.bars = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=width),
            _CountColumn(),
            TimeElapsedColumn(),
            _StatusColumn(),
            console=console,
            get_time=clock,
            refresh_per_second=4,  # the machine is busy simulating; 4 redraws a second are enough
        )
        self.bars.start()

    def stop(self) -> None:
        """Draw the last state of every line, restore the cursor and stdout/stderr."""
        self.bars.stop()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed file
        return False


_boards: dict[int, _Board] = {}  # by id of the file the console writes to
#: Phases not closed yet; held strongly: a phase dropped unclosed (an interrupted sweep) must still be closed.
_open: set[Progress] = set()


@atexit.register
def close_all() -> None:
    """Close every open phase and stop every live display, so that no exit path leaves a live bar or a hidden cursor."""
    for progress in list(_open):
        progress.close()
    for board in list(_boards.values()):  # none should be left; stopping twice is harmless
        board.stop()
    _boards.clear()


class Progress:
    """Counts the finished units of one phase of work and shows the rate and the time left."""

    def __init__(
        self,
        total: int,
        label: str,
        stream: TextIO | None = None,
        width: int = 28,
        *,
        console: Console | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """Open the phase ``label`` with ``total`` units (0: not known yet), shown on ``console`` or ``stream``.

        The default is stderr; a console that is not a terminal gets plain lines.
        """
        self.total = total
        self.label = label
        self.done = 0
        self.reused = 0  # found in the result store: done without work
        self.closed = False
        self._clock = clock
        self._start = clock()
        self._reading = 0.0  # seconds before the last store hit ahead of any computed result: reading, not computing
        if console is None:
            file = stream if stream is not None else sys.stderr
            # The stream decides, not FORCE_COLOR & co.: CI logs must not get control codes.
            console = Console(file=file) if _isatty(file) else Console(file=file, force_terminal=False)
        self._console = console
        self._live = console.is_terminal and not console.is_dumb_terminal
        self._printed: tuple[int, int] | None = None  # (done, total) of the last plain line
        self._tenth: int | None = None  # tenth of the share at the last plain line
        self._board: _Board | None = None
        self._task: TaskID | None = None
        _open.add(self)
        if self._live:
            key = id(console.file)
            board = _boards.get(key)
            if board is None:
                board = _boards[key] = _Board(self._console, clock, width)
            board.open += 1
            self._board = board
            self._task = board.bars.add_task(label, total=total or None, reused=0)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def grow(self, n: int, done: int = 0) -> None:
        """Add ``n`` units of work, ``done`` of which are already done (found in a store)."""
        self.total += n
        self.done += done
        self.reused += done
        if done and self.done == self.reused:
            # Until the first computed result, the computed work's rate is measured from here:
            # reading a large store first must not count as the time that result took. Later
            # hits (an adaptive sweep asking for more) must not drop the time already computed.
            self._reading = self._clock() - self._start
        # No plain line here: a sweep adds its variants one by one before any work starts, and
        # lines of those partial totals (20/20, 40/40, ...) would read as progress.
        self._update_live()

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more units done."""
        self.done += n
        if self._board is not None:
            self._update_live()
        elif not self.closed:
            self._plain_if_due()

    def close(self) -> None:
        """End the phase: its last line stays; the live display stops once no phase is open on it."""
        if self.closed:
            return
        self.closed = True
        _open.discard(self)
        if self._board is not None:
            board, self._board = self._board, None
            board.open -= 1
            if board.open == 0:
                _boards.pop(id(board.console.file), None)
                board.stop()
        elif self.total and self._printed != (self.done, self.total):
            self._plain()

    def eta(self) -> float | None:
        """Seconds left at the rate of the work computed since the store was read; None before any is."""
        return eta_seconds(self._clock() - self._start - self._reading, self.done, self.reused, self.total)

    def _update_live(self) -> None:
        if self._board is not None and self._task is not None:
            self._board.bars.update(
                self._task, total=self.total or None, completed=self.done, reused=self.reused, reading=self._reading
            )

    def _plain_if_due(self) -> None:
        """A plain line when the share enters another tenth (a grown total moves it back), or at the end."""
        tenth = int(self.done / self.total * 10) if self.total else 0
        finished = self.total > 0 and self.done >= self.total
        if tenth != self._tenth or (finished and self._printed != (self.done, self.total)):
            self._tenth = tenth
            self._plain()

    def _plain(self) -> None:
        elapsed = self._clock() - self._start
        share = self.done / self.total if self.total else 0.0
        parts = [f"{self.label}: {self.done}/{self.total} ({share:.0%})", f"{_seconds(elapsed)} elapsed"]
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {_seconds(eta)}")
        if self.reused:
            parts.append(f"{self.reused} from store")
        self._console.file.write(", ".join(parts) + "\n")
        self._console.file.flush()
        self._printed = (self.done, self.total)
