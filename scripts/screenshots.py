"""Screenshots of an experiment in the MLflow UI and of its report, taken with headless Chromium.

Starts ``mlflow ui`` for a SQLite store on 127.0.0.1 (a free port, one worker, no job
execution), photographs the runs page (the link the ``salesboost`` command prints: the
model-training view with the headline columns), the latest parent run and its ``report.html``
in MLflow's artifact viewer, one child run and its plots, the compare view of the parent's
children and the report itself (a file URL), then stops the server by its process group. It
starts nothing else and leaves nothing running.

The browser reaches the server as ``mlflow.localhost`` (mapped to 127.0.0.1): MLflow 3.17 opens
its assistant panel on a browser's first visit to ``localhost``/``127.0.0.1``, and every
screenshot here is a first visit with a fresh profile; a user closes the panel once.

Usage (from the repository root)::

    .venv/bin/python scripts/screenshots.py --store mlflow.db [--experiment cycle-time-gains] [--out screenshots]

Without ``--experiment`` the experiment of the most recent parent run is used; ``--report``
names another report file (default: the parent's ``report.html`` artifact). PNG files
(``runs.png``, ``parent.png``, ``parent_report.png``, ``child.png``, ``child_plots.png``,
``compare.png``, ``report.png``) are written to ``--out``; their paths are printed. Errors end
with one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from experiments.recording import runs_view_url  # noqa: E402 - after the path is set

MLFLOW = REPO_ROOT / ".venv" / "bin" / "mlflow"
#: Seconds to wait for the server to answer /health.
SERVER_START_TIMEOUT = 90
#: Chromium runs the page's scripts for this long (virtual time, ms) before the screenshot.
VIRTUAL_TIME_MS = 15_000
WINDOW = "1600,1000"
#: Seconds a screenshot may take before the browser is stopped.
CHROMIUM_TIMEOUT = 120
#: The name the browser uses for the server (see the module docstring).
HOST_ALIAS = "mlflow.localhost"


class ScreenshotError(RuntimeError):
    """Something the screenshots need is missing; the message is one line."""


@dataclass(frozen=True)
class Targets:
    """What to photograph: an experiment, its latest parent run, a child run and the report."""

    experiment_id: str
    parent_id: str
    child_id: str
    child_ids: list[str]
    report: Path | None


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="SQLite MLflow store (e.g. mlflow.db)")
    parser.add_argument("--experiment", help="experiment name (default: that of the most recent parent run)")
    parser.add_argument("--report", type=Path, help="report file to photograph (default: the parent's report.html)")
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output directory")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    try:
        for path in screenshots(
            args.store, args.out, experiment=args.experiment, report=args.report, browser=args.chromium
        ):
            print(path)
    except ScreenshotError as error:
        print(f"screenshots: error: {error}", file=sys.stderr)
        return 1
    return 0


def screenshots(
    store: Path, out: Path, *, experiment: str | None = None, report: Path | None = None, browser: str = "chromium"
) -> list[Path]:
    """Photograph the runs page, a parent, a child, the compare view and the report; return the PNGs."""
    store = store.resolve()
    if not store.is_file():
        raise ScreenshotError(f"--store {store}: no such SQLite file")
    if shutil.which(browser) is None:
        raise ScreenshotError(f"--chromium {browser}: not found; install Chromium or name its binary")
    uri = f"sqlite:///{store}"
    targets = find_targets(uri, experiment)
    report = report.resolve() if report is not None else targets.report
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with mlflow_ui(uri) as base:
        e, p, c = targets.experiment_id, targets.parent_id, targets.child_id
        ml = "workflowType=machine_learning"  # MLflow 3.17's model-training sidebar (see runs_view_url)
        runs, experiments = json.dumps(targets.child_ids), json.dumps([e])
        pages = {
            "runs.png": runs_view_url(base, e),
            "parent.png": f"{base}/#/experiments/{e}/runs/{p}?{ml}",
            "parent_report.png": f"{base}/#/experiments/{e}/runs/{p}/artifacts/report.html?{ml}",
            "child.png": f"{base}/#/experiments/{e}/runs/{c}?{ml}",
            "child_plots.png": f"{base}/#/experiments/{e}/runs/{c}/artifacts/distributions.png?{ml}",
            "compare.png": f"{base}/#/compare-runs?runs={runs}&experiments={experiments}&{ml}",
        }
        for name, url in pages.items():
            # The compare view's metric table is below its plot: a taller window shows both.
            shots.append(capture(browser, url, out / name, height=2600 if name == "compare.png" else None))
    if report is not None and report.is_file():
        shots.append(capture(browser, report.as_uri(), out / "report.png", height=3000))
    return shots


def find_targets(uri: str, experiment: str | None) -> Targets:
    """The experiment, its most recent parent run, its children (the first non-baseline one) and report."""
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from mlflow import MlflowClient  # noqa: PLC0415 - heavy, and only after the arguments are checked

    client = MlflowClient(tracking_uri=uri)
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            names = ", ".join(e.name for e in client.search_experiments())
            raise ScreenshotError(f"--experiment {experiment!r}: not in the store (has: {names})")
        ids = [found.experiment_id]
    else:
        ids = [e.experiment_id for e in client.search_experiments()]
    parents = client.search_runs(
        ids, filter_string="tags.sweep_role = 'parent'", order_by=["attributes.start_time DESC"], max_results=1
    )
    if not parents:
        raise ScreenshotError(f"{uri}: no parent run (tag sweep_role=parent); run salesboost first")
    parent = parents[0]
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=50,
    )
    if not children:
        raise ScreenshotError(f"parent run {parent.info.run_id} has no child runs")
    others = [r for r in children if r.data.tags.get("baseline") != "true"] or children
    return Targets(
        experiment_id=parent.info.experiment_id,
        parent_id=parent.info.run_id,
        child_id=others[0].info.run_id,
        child_ids=[r.info.run_id for r in children[:10]],
        report=_artifact_file(parent.info.artifact_uri, "report.html"),
    )


def _artifact_file(artifact_uri: str, name: str) -> Path | None:
    """The local file of artifact ``name``, if the artifact store is a local directory."""
    if not artifact_uri.startswith("file://"):
        return None
    path = Path(urllib.request.url2pathname(artifact_uri.removeprefix("file://"))) / name
    return path if path.is_file() else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def mlflow_ui(uri: str) -> Iterator[str]:
    """A lean ``mlflow ui`` for ``uri`` on 127.0.0.1; yields its base URL, stops its process group after."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    command = [str(MLFLOW), "ui", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port", str(port)]
    hosts = ",".join(f"{h}:{port}" for h in (HOST_ALIAS, "127.0.0.1", "localhost"))
    origin = f"http://{HOST_ALIAS}:{port}"
    command += ["--workers", "1", "--allowed-hosts", hosts, "--cors-allowed-origins", origin]
    log = tempfile.NamedTemporaryFile(prefix="mlflow-ui-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server, Path(log.name))
        yield origin
    finally:
        _stop(server)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _wait_healthy(base: str, server: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ScreenshotError(f"mlflow ui exited with status {server.returncode}: {tail[0]}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{base}/health", timeout=2) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.5)
    raise ScreenshotError(f"mlflow ui did not answer {base}/health within {SERVER_START_TIMEOUT} s")


def _stop(server: subprocess.Popen[Any]) -> None:
    """End the server's process group (the server and its worker): SIGTERM, then SIGKILL."""
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # workers left in the group after the master exited
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=5)


def capture(browser: str, url: str, path: Path, *, height: int | None = None) -> Path:
    """A headless Chromium screenshot of ``url`` into ``path`` (a fresh profile each time)."""
    window = WINDOW if height is None else f"{WINDOW.split(',', maxsplit=1)[0]},{height}"
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--host-resolver-rules=MAP {HOST_ALIAS} 127.0.0.1",
            f"--user-data-dir={profile}",
            f"--window-size={window}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            f"--screenshot={path.resolve()}",
            url,
        ]
        # Its own process group: on a timeout the browser and every helper it forked are ended.
        browser_process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            _, stderr = browser_process.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            stderr = f"no screenshot after {CHROMIUM_TIMEOUT} s"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(browser_process.pid, signal.SIGKILL)
            browser_process.wait()
    if not path.is_file():
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise ScreenshotError(f"chromium wrote no screenshot of {url}: {last}")
    return path


if __name__ == "__main__":
    sys.exit(main())
