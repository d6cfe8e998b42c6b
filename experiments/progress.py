"""A small progress bar with ETA for long runs (a terminal line, or periodic lines in logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts finished units of work and shows the rate and the time left."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 28) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.reused = 0  # found in the result store: done without work
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._width = width
        self._start = time.monotonic()
        self._last_print = 0.0
        self._next_share = 0.1
        self._draw()

    def grow(self, n: int, done: int = 0) -> None:
        """Add ``n`` units of work, ``done`` of which are already done (found in a store)."""
        self.total += n
        self.done += done
        self.reused += done
        self._draw_if_due()

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more units done."""
        self.done += n
        self._draw_if_due()

    def _draw_if_due(self) -> None:
        now = time.monotonic()
        share = self.done / self.total if self.total else 1.0
        if self._tty and (now - self._last_print >= 0.1 or self.done == self.total):
            self._draw()
        elif not self._tty and (share >= self._next_share or self.done == self.total):
            self._next_share = share + 0.1
            self._draw()

    def close(self) -> None:
        """Finish the line."""
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self) -> None:
        self._last_print = time.monotonic()
        elapsed = self._last_print - self._start
        share = self.done / self.total if self.total else 0.0
        computed = self.done - self.reused
        if computed > 0 and self.done < self.total:
            eta = f"ETA {elapsed / computed * (self.total - self.done):.0f}s"
        else:
            eta = "" if self.done else "starting"
        if self.reused:
            eta = f"{self.reused} from store  {eta}"
        filled = int(share * self._width)
        bar = "#" * filled + "." * (self._width - filled)
        line = f"{self.label} [{bar}] {self.done}/{self.total} {share:4.0%}  {elapsed:.0f}s elapsed  {eta}"
        if self._tty:
            self._stream.write("\r" + line.ljust(100))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
