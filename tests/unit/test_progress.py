"""The progress display: one line per phase, plain lines off a terminal, a clean terminal after Ctrl-C."""

from __future__ import annotations

import gc
import io
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from experiments import progress as progress_module
from experiments.progress import Progress, close_all

REPO = Path(__file__).resolve().parents[2]
CONTROL = re.compile(r"\x1b|\r")
SHOW_CURSOR = "\x1b[?25h"
HIDE_CURSOR = "\x1b[?25l"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plain(buf: io.StringIO) -> list[str]:
    return buf.getvalue().splitlines()


def tty_console(buf: io.StringIO) -> Console:
    return Console(file=buf, force_terminal=True, width=120, color_system=None)


def test_plain_lines_about_every_tenth_without_control_codes() -> None:
    buf, clock = io.StringIO(), Clock()
    progress = Progress(0, "study: simulating", stream=buf, clock=clock)
    for _ in range(4):  # a sweep adds its variants one by one before any work starts
        progress.grow(25)
    assert buf.getvalue() == ""  # no line of a partial total
    for _ in range(100):
        clock.now += 0.5
        progress.advance()
    progress.close()
    lines = plain(buf)
    assert not CONTROL.search(buf.getvalue())
    assert 9 <= len(lines) <= 11, lines
    assert all(line.startswith("study: simulating: ") for line in lines)
    assert all("/100 (" in line for line in lines)  # the total never jumps: it is the phase's own
    assert lines[-1].startswith("study: simulating: 100/100 (100%), 50s elapsed")
    assert "ETA" not in lines[-1]
    assert "study: simulating: 50/100 (50%), 25s elapsed, ETA 25s" in lines


def test_eta_counts_only_computed_work() -> None:
    buf, clock = io.StringIO(), Clock()
    progress = Progress(0, "p", stream=buf, clock=clock)
    progress.grow(100, done=60)  # found in the result store: done without work
    assert progress.eta() is None  # nothing computed yet: no rate to extrapolate
    clock.now = 10.0
    progress.advance(10)  # 10 computed in 10 s, 30 left
    assert progress.eta() == pytest.approx(30.0)
    assert (progress.done, progress.total, progress.reused) == (70, 100, 60)
    assert plain(buf) == ["p: 70/100 (70%), 10s elapsed, ETA 30s, 60 from store"]


def test_eta_does_not_count_the_time_spent_reading_the_store() -> None:
    buf, clock = io.StringIO(), Clock()
    progress = Progress(0, "p", stream=buf, clock=clock)
    clock.now = 8.0
    progress.grow(100, done=90)  # a large store took 8 s to read
    clock.now = 10.0
    progress.advance(1)  # the first computed result 2 s after it: 9 left at 2 s each
    assert progress.eta() == pytest.approx(18.0)  # not 10 s / 1 x 9 = 90 s


def test_store_hits_after_computed_work_keep_its_time() -> None:
    progress = Progress(0, "p", stream=io.StringIO(), clock=(clock := Clock()))
    progress.grow(20)
    clock.now = 10.0
    progress.advance(10)  # 10 computed in 10 s
    clock.now = 20.0
    progress.advance(5)  # 15 computed in 20 s
    progress.grow(20, done=10)  # an adaptive sweep asks for more; 10 of them are in the store
    assert progress.eta() == pytest.approx(20.0 / 15 * 15)  # the rate of all 20 s, not of the time since


def test_phase_served_from_the_store_prints_one_line_at_close() -> None:
    buf = io.StringIO()
    progress = Progress(0, "study: simulating", stream=buf, clock=Clock())
    progress.grow(20, done=20)
    progress.grow(20, done=20)
    progress.close()
    progress.close()  # idempotent
    assert plain(buf) == ["study: simulating: 40/40 (100%), 0s elapsed, 40 from store"]


def test_each_phase_has_its_own_line_and_total() -> None:
    buf, clock = io.StringIO(), Clock()
    simulating = Progress(0, "study: simulating", stream=buf, clock=clock)
    simulating.grow(40)
    simulating.advance(40)
    simulating.close()
    sensitivity = Progress(0, "study: sensitivity", stream=buf, clock=clock)
    sensitivity.grow(60)
    sensitivity.advance(60)
    sensitivity.close()
    lines = plain(buf)
    assert [line.split(",")[0] for line in lines] == [
        "study: simulating: 40/40 (100%)",
        "study: sensitivity: 60/60 (100%)",
    ]


def test_adaptive_growth_moves_the_share_back() -> None:
    buf = io.StringIO()
    progress = Progress(0, "p", stream=buf, clock=Clock())
    progress.grow(10)
    progress.advance(10)
    progress.grow(10)  # the adaptive sweep asks for more replications
    for _ in range(10):
        progress.advance()
    progress.close()
    counts = [line.split(" ")[1] for line in plain(buf)]
    assert counts == ["10/10", "11/20", "12/20", "14/20", "16/20", "18/20", "20/20"]


def test_default_stream_is_stderr_and_force_color_does_not_bring_control_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    progress = Progress(0, "p")
    progress.grow(2)
    progress.advance(2)
    progress.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("p: 2/2 (100%)")
    assert not CONTROL.search(captured.err)


def test_terminal_shows_counting_until_the_total_is_known_then_stops_cleanly() -> None:
    buf, clock = io.StringIO(), Clock()
    stderr = sys.stderr
    progress = Progress(0, "study: sensitivity", console=tty_console(buf), clock=clock)
    assert "counting" in buf.getvalue()  # drawn at once, before the sweep knows its total
    assert HIDE_CURSOR in buf.getvalue()
    progress.grow(30, done=10)
    clock.now = 4.0
    progress.advance(20)
    progress.close()
    out = buf.getvalue()
    last = out.rsplit("\r", 1)[-1]
    assert "study: sensitivity" in last
    assert "30/30 100%" in last
    assert "10 from store" in last
    assert "done" in last
    assert out.endswith("\n" + SHOW_CURSOR)
    assert sys.stderr is stderr  # rich's redirection of stderr is undone
    assert not progress_module._boards


def test_terminal_eta_counts_only_computed_work() -> None:
    buf, clock = io.StringIO(), Clock()
    console = tty_console(buf)
    progress = Progress(0, "p", console=console, clock=clock)
    clock.now = 2.0
    progress.grow(100, done=60)  # 2 s reading the store
    clock.now = 12.0
    progress.advance(10)
    board = progress_module._boards[id(buf)]
    console.print(board.bars.get_renderable())
    progress.close()
    assert "70/100  70%" in buf.getvalue()
    assert "60 from store  ETA 30s" in buf.getvalue()


def test_phases_open_together_share_one_live_display() -> None:
    buf = io.StringIO()
    console = tty_console(buf)
    first = Progress(0, "study: simulating", console=console, clock=Clock())
    second = Progress(0, "study: sensitivity", console=console, clock=Clock())  # no "only one live display"
    first.grow(4)
    first.advance(4)
    second.grow(2)
    first.close()
    assert progress_module._boards  # still live: one phase is open
    second.advance(2)
    second.close()
    assert not progress_module._boards
    final = buf.getvalue().rsplit(HIDE_CURSOR, 1)[-1]
    assert "4/4" in final
    assert "2/2" in final
    assert buf.getvalue().endswith(SHOW_CURSOR)


def test_interrupt_inside_a_phase_leaves_the_terminal_clean() -> None:
    buf = io.StringIO()
    progress = Progress(10, "p", console=tty_console(buf), clock=Clock())

    def interrupted_phase() -> None:
        with progress:
            progress.advance(3)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_phase()
    assert progress.closed
    assert buf.getvalue().endswith(SHOW_CURSOR)
    assert not progress_module._boards


def test_close_all_closes_a_phase_nobody_closed() -> None:
    buf = io.StringIO()
    progress = Progress(10, "p", console=tty_console(buf), clock=Clock())
    progress.advance(3)
    close_all()  # registered with atexit
    assert progress.closed
    assert buf.getvalue().endswith(SHOW_CURSOR)


def test_close_all_closes_a_phase_dropped_unclosed() -> None:
    """An interrupted sweep drops its phase without closing it; the live display must still stop."""
    buf = io.StringIO()

    def interrupted_sweep() -> None:
        Progress(10, "p", console=tty_console(buf), clock=Clock()).advance(3)

    interrupted_sweep()
    gc.collect()
    close_all()
    assert buf.getvalue().endswith(SHOW_CURSOR)
    assert not progress_module._boards


#: A phase on a real terminal that is interrupted by SIGINT and never closed: the sweep that held it is gone.
CHILD = """
import gc, sys, time
from experiments.progress import Progress
def sweep():
    progress = Progress(0, "study: sensitivity")
    progress.grow(1000)
    print("ready", file=sys.__stdout__, flush=True)
    while True:
        progress.advance()
        time.sleep(0.01)
try:
    sweep()
except KeyboardInterrupt:
    gc.collect()
    print("interrupted: run the same command again to resume", file=sys.stderr)
    sys.exit(130)
"""


def read_until_exit(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end
                chunk = b""
            out += chunk
            if not chunk and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    return out


def test_ctrl_c_on_a_real_terminal_restores_the_cursor() -> None:
    primary, secondary = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env=env,
        stdin=secondary,
        stderr=secondary,
        stdout=subprocess.PIPE,
    )
    os.close(secondary)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.5)  # a few redraws
        proc.send_signal(signal.SIGINT)
        out = read_until_exit(primary, proc, timeout=20)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    text = out.decode(errors="replace")
    assert HIDE_CURSOR in text
    assert "study: sensitivity" in text
    assert "interrupted: run the same command again to resume" in text
    assert text.rfind(SHOW_CURSOR) > text.rfind(HIDE_CURSOR)  # the cursor is back
