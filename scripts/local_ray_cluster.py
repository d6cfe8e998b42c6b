"""Start, inspect and stop a two-node Ray cluster on this machine, touching only its own processes.

Why this exists: ``salesboost ray.address=HOST:PORT`` ships the code to a Ray cluster as a
runtime environment (``working_dir``) and runs the replications on whichever nodes Ray picks.
A private local Ray (``ray.address`` null) never exercises that path, so the product must also
be checked on a real multi-node cluster. This tool builds one on a single machine: a head node
and a second node joining it, each with ``--num-cpus`` CPUs and its own ``--temp-dir`` below one
private directory in /tmp.

It never runs ``ray stop``: that command kills every Ray process on the machine, found by
process name, including other users' clusters and the test suite's own local Ray. ``stop``
instead ends only this cluster's processes: Ray processes whose command line names its private
directory or that carry its marker variable in their environment (``ray start`` runs with it and
every daemon inherits it), the PIDs recorded at start, and their descendants (the Ray workers,
which rename themselves to ``ray::IDLE``). Like ``ray stop`` it ends raylets first and the GCS
last, SIGTERM first and SIGKILL for whatever is left after a grace period.

Two details of Ray 2.60 on a single Linux host:

- Ray turns on token authentication by default; a node joining without ``RAY_AUTH_MODE=token``
  fails with ``InvalidAuthToken``. Every ``ray start`` and driver here runs with it (the token
  is ``~/.ray/auth_token``, which ``ray start --head`` creates if missing). Drivers that use the
  cluster need ``RAY_AUTH_MODE=token`` in their environment too.
- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (which keeps a single local Ray on 127.0.0.1) stops a
  second node from joining, so it is removed from the environment. The nodes then register
  with the host's own address (e.g. 192.0.2.2), while drivers connect through 127.0.0.1:PORT.

Usage (from the repository root)::

    .venv/bin/python scripts/local_ray_cluster.py start [--port 6390] [--cpus-per-node 1] [--state FILE]
    RAY_AUTH_MODE=token .venv/bin/salesboost ray.address=127.0.0.1:6390
    .venv/bin/python scripts/local_ray_cluster.py status [--state FILE]
    .venv/bin/python scripts/local_ray_cluster.py stop [--state FILE]

``start`` prints ``ray.address=127.0.0.1:PORT`` and the state file (JSON: address, private
directory, processes) it wrote, by default ``<private dir>/cluster.json``. Without ``--state``,
``status`` and ``stop`` act on the one cluster of this user found in the temporary directory.
Errors end with one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

#: Prefix of the private directory of each cluster, below the system temporary directory.
#: Kept short: Ray's Unix socket paths live below it and must fit in 107 characters.
DIR_PREFIX = "sb-ray-"
STATE_NAME = "cluster.json"
NODES = ("head", "worker")
DEFAULT_PORT = 6390
#: Environment variable set to the private directory for ``ray start``; its daemons inherit it.
MARKER = "SALESBOOST_RAY_CLUSTER"

#: A short-lived driver: waits until ``want`` nodes are alive (or the deadline passes), prints them as JSON.
NODES_DRIVER = """
import json, logging, sys, time
import ray
address, want, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
deadline = time.monotonic() + timeout
while True:
    nodes = ray.nodes()
    if sum(n["Alive"] for n in nodes) >= want or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(json.dumps([
    {"node_id": n["NodeID"], "ip": n["NodeManagerAddress"], "alive": n["Alive"], "head": "node:__internal_head__"
     in n.get("Resources", {}), "cpus": n.get("Resources", {}).get("CPU", 0.0)}
    for n in nodes
]))
ray.shutdown()
"""


class ClusterError(Exception):
    """A failure reported to the user in one line."""


def _import_psutil() -> ModuleType:
    """psutil: installed on its own, or the copy Ray ships in ``ray/thirdparty_files`` (found without importing Ray)."""
    try:
        return importlib.import_module("psutil")
    except ImportError:
        spec = importlib.util.find_spec("ray")
        if spec is None or spec.origin is None:
            raise
        sys.path.append(str(Path(spec.origin).parent / "thirdparty_files"))
        return importlib.import_module("psutil")


if TYPE_CHECKING:
    import psutil
else:
    psutil = _import_psutil()


def _ray_package_dir() -> str:
    """The directory of the installed ``ray`` package (its daemons' programs live below it)."""
    spec = importlib.util.find_spec("ray")
    if spec is None or spec.origin is None:
        raise ClusterError("Ray is not installed in this environment")
    return str(Path(spec.origin).parent) + os.sep


@dataclass(frozen=True)
class Recorded:
    """A process recorded in the state file; ``create_time`` guards against reused PIDs."""

    pid: int
    create_time: float
    name: str


def ray_env(temp_dir: str | None = None) -> dict[str, str]:
    """The environment for ``ray start`` (marked with ``temp_dir``) and drivers of this cluster."""
    env = dict(os.environ)
    env.pop(MARKER, None)
    if temp_dir is not None:
        env[MARKER] = temp_dir
    env["RAY_AUTH_MODE"] = "token"  # a joining node fails with InvalidAuthToken otherwise
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)  # "=0" makes a joining node PANIC
    env.pop("RAY_ADDRESS", None)  # never attach to some other cluster by accident
    return env


def ray_cli() -> Path:
    """The ``ray`` command of the environment running this script."""
    cli = Path(sys.executable).with_name("ray")
    if not cli.exists():
        raise ClusterError(f"{cli} not found; run this script with the project's .venv/bin/python")
    return cli


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something already listens on ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        try:
            s.bind(("", port))
        except OSError:
            return True
    return False


def last_line(text: str) -> str:
    """The last non-empty line of a command's output (Ray's error summary is usually there)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_ray(args: list[str], timeout: float, what: str, temp_dir: str) -> None:
    """Run ``ray ARGS`` for the cluster in ``temp_dir``; a one-line error if it fails or hangs."""
    try:
        proc = subprocess.run(
            [str(ray_cli()), *args], env=ray_env(temp_dir), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise ClusterError(f"{what} did not finish within {timeout:.0f} s") from error
    if proc.returncode != 0:
        raise ClusterError(f"{what} failed (exit {proc.returncode}): {last_line(proc.stderr + proc.stdout)}")


def query_nodes(address: str, want: int = 0, timeout: float = 0.0) -> list[dict[str, Any]]:
    """The cluster's nodes, as seen by a short-lived driver; waits up to ``timeout`` for ``want`` alive."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", NODES_DRIVER, address, str(want), str(timeout)],
            env=ray_env(),
            capture_output=True,
            text=True,
            timeout=timeout + 90,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ClusterError(f"could not reach the cluster at {address}: driver timed out") from error
    if proc.returncode != 0:
        raise ClusterError(f"could not reach the cluster at {address}: {last_line(proc.stderr)}")
    return list(json.loads(last_line(proc.stdout)))


def wait_for_nodes(address: str, timeout: float) -> list[dict[str, Any]]:
    """The alive nodes, once both are up; a one-line error if they are not within ``timeout``."""
    alive = [n for n in query_nodes(address, want=len(NODES), timeout=timeout) if n["alive"]]
    if len(alive) < len(NODES):
        raise ClusterError(f"only {len(alive)} of {len(NODES)} nodes alive after {timeout:.0f} s")
    return alive


# --- processes -------------------------------------------------------------------------------------


def cluster_processes(temp_dir: str, recorded: list[Recorded]) -> list[psutil.Process]:
    """Live processes of this cluster, never another's.

    Ray daemons with the private directory in their command line, processes with it in the
    :data:`MARKER` variable (``ray start`` passes its environment on to every daemon it spawns;
    the Ray client server's command line does not name the directory), the PIDs recorded at
    start, and all their descendants.
    """
    found: dict[int, psutil.Process] = {}
    ray_dir = _ray_package_dir()
    for proc in psutil.process_iter(["cmdline", "environ"]):
        cmdline = proc.info.get("cmdline") or []
        environ = proc.info.get("environ") or {}
        # A Ray daemon names its program under the ray package; `less .../raylet.out` is not ours to end.
        is_ray = any(part.startswith(ray_dir) for part in cmdline[:3])
        if environ.get(MARKER) == temp_dir or (is_ray and any(temp_dir in part for part in cmdline)):
            found[proc.pid] = proc
    for rec in recorded:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(rec.pid)
            if abs(proc.create_time() - rec.create_time) < 0.01:  # the same process, not a reused PID
                found[proc.pid] = proc
    for proc in list(found.values()):
        with contextlib.suppress(psutil.Error):
            for child in proc.children(recursive=True):
                found[child.pid] = child
    found.pop(os.getpid(), None)
    return list(found.values())


def describe(proc: psutil.Process) -> Recorded | None:
    """``proc`` as a state-file record, or None if it has gone."""
    try:
        cmdline = proc.cmdline()
        name = " ".join(cmdline)[:120].strip() if cmdline else proc.name()
        return Recorded(proc.pid, proc.create_time(), name)
    except psutil.Error:
        return None


def _name(proc: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(proc.cmdline())[:80] or proc.name()
    return "gone"


def _executable(proc: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        cmdline = proc.cmdline()
        return Path(cmdline[0]).name if cmdline else ""
    return ""


def terminate(procs: list[psutil.Process], grace: float) -> tuple[int, int]:
    """End ``procs`` in Ray's own order; return (ended on SIGTERM, killed).

    As ``ray stop`` does, but for these processes only: raylets first (their workers and agents
    follow them), then the other daemons, the GCS server last (a daemon whose GCS has gone can
    hang on SIGTERM). Each group gets SIGTERM and up to ``grace`` seconds; SIGKILL ends the rest.
    """
    groups: list[list[psutil.Process]] = [[], [], []]
    for proc in procs:
        exe = _executable(proc)
        groups[0 if exe == "raylet" else 2 if exe == "gcs_server" else 1].append(proc)
    leftovers: list[psutil.Process] = []
    for group in groups:
        for proc in group:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(group, timeout=grace)
        leftovers.extend(alive)
    if leftovers:
        names = ", ".join(f"{p.pid} ({_name(p)})" for p in leftovers)
        print(f"still running {grace:g} s after SIGTERM, sending SIGKILL: {names}", file=sys.stderr)
    for proc in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    _, still = psutil.wait_procs(leftovers, timeout=10)
    if still:
        pids = ", ".join(str(p.pid) for p in still)
        raise ClusterError(f"processes {pids} survived SIGKILL")
    return len(procs) - len(leftovers), len(leftovers)


# --- state file ------------------------------------------------------------------------------------


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def read_state(path: Path) -> dict[str, Any]:
    """The state written by ``start``."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ClusterError(f"no state file {path}") from error
    except (OSError, ValueError) as error:
        raise ClusterError(f"cannot read state file {path}: {error}") from error
    if not isinstance(state, dict) or not str(state.get("temp_dir", "")).strip("/"):
        raise ClusterError(f"state file {path} has no temp_dir; was it written by this script?")
    return state


def find_state(given: str | None) -> Path:
    """The state file named by ``--state``, or that of this user's one running cluster in the temporary directory."""
    if given:
        return Path(given)
    tmp = Path(tempfile.gettempdir())
    mine = sorted(p for p in tmp.glob(f"{DIR_PREFIX}*/{STATE_NAME}") if p.stat().st_uid == os.getuid())
    running = []
    for path in mine:
        with contextlib.suppress(ClusterError):
            state = read_state(path)
            if cluster_processes(str(state["temp_dir"]), recorded_of(state)):
                running.append(path)
    if not running:
        raise ClusterError(f"no running cluster found in {tmp}; pass --state FILE")
    if len(running) > 1:
        raise ClusterError(f"{len(running)} running clusters ({', '.join(map(str, running))}); pass --state FILE")
    return running[0]


def recorded_of(state: dict[str, Any]) -> list[Recorded]:
    """The processes listed in ``state``."""
    return [
        Recorded(int(p["pid"]), float(p["create_time"]), str(p.get("name", ""))) for p in state.get("processes", [])
    ]


# --- commands --------------------------------------------------------------------------------------


def start(port: int | None, cpus: int, state_arg: str | None, timeout: float) -> int:
    """Start the head and a joining node, wait for both, write the state file."""
    if cpus < 1:
        raise ClusterError(f"--cpus-per-node must be >= 1 (got {cpus})")
    port = port or DEFAULT_PORT
    if port_in_use(port):
        raise ClusterError(f"port {port} is already in use; pick another with --port")
    cli = ray_cli()
    temp_dir = tempfile.mkdtemp(prefix=DIR_PREFIX)
    state_path = Path(state_arg).resolve() if state_arg else Path(temp_dir) / STATE_NAME
    address = f"127.0.0.1:{port}"
    state: dict[str, Any] = {
        "address": address,
        "port": port,
        "temp_dir": temp_dir,
        "cpus_per_node": cpus,
        "ray": str(cli),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "processes": [],
    }
    # Written before anything starts, so `stop` can clean up after an interrupted start.
    write_state(state_path, state)
    common = [f"--num-cpus={cpus}", "--disable-usage-stats", "--log-style=record"]
    try:
        run_ray(
            [
                "start",
                "--head",
                f"--port={port}",
                "--include-dashboard=false",
                f"--ray-client-server-port={free_port()}",  # not the shared default 10001
                f"--dashboard-port={free_port()}",  # not the shared default 8265
                f"--dashboard-agent-listen-port={free_port()}",  # not the shared default 52365
                f"--temp-dir={temp_dir}/head",
                *common,
            ],
            timeout,
            "starting the head node",
            temp_dir,
        )
        run_ray(
            [
                "start",
                f"--address={address}",
                f"--dashboard-agent-listen-port={free_port()}",
                f"--temp-dir={temp_dir}/worker",
                *common,
            ],
            timeout,
            "starting the second node",
            temp_dir,
        )
        alive = wait_for_nodes(address, timeout)
        procs = [r for p in cluster_processes(temp_dir, []) if (r := describe(p)) is not None]
        state["processes"] = [vars(r) for r in sorted(procs, key=lambda r: r.pid)]
        state["nodes"] = alive
        write_state(state_path, state)
    except BaseException as error:
        with contextlib.suppress(ClusterError):
            terminate(cluster_processes(temp_dir, []), grace=10)
        if isinstance(error, ClusterError):
            raise ClusterError(f"{error} (stopped what had started; Ray's logs are in {temp_dir})") from error
        raise
    print(
        f"two-node Ray cluster up: {len(alive)} nodes, {sum(n['cpus'] for n in alive):g} CPUs, {len(procs)} processes"
    )
    print(f"state: {state_path}")
    print(f"use:   RAY_AUTH_MODE=token .venv/bin/salesboost ray.address={address}")
    print(f"stop:  {sys.executable} {Path(__file__).resolve()} stop --state {state_path}")
    print(f"ray.address={address}")
    return 0


def stop(state_arg: str | None, grace: float, keep: bool) -> int:
    """End this cluster's processes (never `ray stop`) and remove its private directory."""
    state_path = find_state(state_arg)
    state = read_state(state_path)
    temp_dir = str(state["temp_dir"])
    procs = cluster_processes(temp_dir, recorded_of(state))
    terminated, killed = terminate(procs, grace)
    print(f"stopped cluster {state.get('address')}: {terminated} processes ended on SIGTERM, {killed} killed")
    if not keep and Path(temp_dir).name.startswith(DIR_PREFIX):
        shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


def status(state_arg: str | None) -> int:
    """Print the cluster's nodes and how many of its processes are running."""
    state_path = find_state(state_arg)
    state = read_state(state_path)
    procs = cluster_processes(str(state["temp_dir"]), recorded_of(state))
    if not procs:
        raise ClusterError(f"cluster {state['address']} (state {state_path}) is not running")
    print(f"cluster {state['address']} (state {state_path}): {len(procs)} processes running")
    for node in query_nodes(str(state["address"])):
        role = "head" if node["head"] else "node"
        alive = "alive" if node["alive"] else "dead"
        print(f"  {role} {node['node_id'][:12]} {node['ip']} {alive} CPU={node['cpus']:g}")
    return 0


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start a head node and a second node joining it")
    p_start.add_argument("--port", type=int, default=None, help=f"head (GCS) port, default {DEFAULT_PORT}")
    p_start.add_argument("--cpus-per-node", type=int, default=1, help="CPUs of each node (default 1)")
    p_start.add_argument("--state", help="where to write the state file (default: <private dir>/cluster.json)")
    p_start.add_argument("--timeout", type=float, default=120, help="seconds to wait for each step (default 120)")
    p_stop = sub.add_parser("stop", help="end this cluster's processes only (never `ray stop`)")
    p_stop.add_argument("--state", help="state file written by start")
    p_stop.add_argument(
        "--grace",
        type=float,
        default=10,
        help="seconds each group of processes gets between SIGTERM and SIGKILL (default 10)",
    )
    p_stop.add_argument("--keep-logs", action="store_true", help="keep the private directory with Ray's logs")
    p_status = sub.add_parser("status", help="print the cluster's nodes")
    p_status.add_argument("--state", help="state file written by start")
    args = parser.parse_args(argv)
    # SIGTERM (e.g. a test's timeout) unwinds like Ctrl-C, so an interrupted start cleans up after itself.
    signal.signal(signal.SIGTERM, lambda *_: _raise_interrupt())
    try:
        if args.command == "start":
            return start(args.port, args.cpus_per_node, args.state, args.timeout)
        if args.command == "stop":
            return stop(args.state, args.grace, args.keep_logs)
        return status(args.state)
    except ClusterError as error:
        print(f"local_ray_cluster: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("local_ray_cluster: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
