"""Start, inspect and stop a two-node Ray cluster on this machine, touching only its own processes.

Why: ``salesboost ray.address=HOST:PORT`` ships the code to a Ray cluster as a runtime
environment (``working_dir``) and runs replications on whichever nodes Ray picks, a path a
private local Ray never exercises. The nodes are Ray's own ``ray.cluster_utils.Cluster`` (what
Ray's test suite uses for several nodes on one machine): a head and a second node with
``--cpus-per-node`` CPUs each, each with its own Ray directory below one private directory in
/tmp, every server on 127.0.0.1.

A ``Cluster`` lives in the process that created it, so ``start`` runs it in a server process of
its own session and returns once both nodes are up (``--foreground``: it waits, and Ctrl-C stops
the cluster). Every process of the cluster (the server, Ray's daemons, its workers, which change
their process group but not their session) is in that session, so ``stop`` ends exactly those:
SIGTERM to the server, which calls ``Cluster.shutdown()``, then SIGKILL to whatever of the
session is left after ``--grace`` seconds. Never ``ray stop``: it kills every Ray process on the
machine, other users' clusters included.

Ray 2.60 on one Linux host: the nodes and their drivers need ``RAY_AUTH_MODE=token`` (token in
``~/.ray/auth_token``, created if missing), and drivers need ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``,
or Ray rewrites ``127.0.0.1`` to the host's own IP, where nothing of this cluster listens.
``Cluster`` writes its address where ``ray.init(address="auto")`` looks, so ``RAY_TMPDIR`` points
at the private directory rather than the machine's shared /tmp/ray.

Usage (from the repository root)::

    .venv/bin/python scripts/local_ray_cluster.py start [--port 6390] [--cpus-per-node 1] [--state FILE] [--foreground]
    RAY_AUTH_MODE=token RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 .venv/bin/salesboost ray.address=127.0.0.1:6390
    .venv/bin/python scripts/local_ray_cluster.py status [--state FILE]
    .venv/bin/python scripts/local_ray_cluster.py stop [--state FILE] [--keep-logs]

``start`` prints the state file (JSON: address, private directory, the server's PID and start
time; ``<private dir>/cluster.json``, and ``--state FILE`` too if given) and, last,
``ray.address=127.0.0.1:PORT``. Without ``--state``, ``status`` and ``stop`` act on this user's
one running cluster in the temporary directory. Errors: one line on stderr, non-zero exit.
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
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

#: Prefix of each cluster's private directory in /tmp; short, as Ray's Unix sockets live below it (107 characters).
DIR_PREFIX = "sb-ray-"
STATE_NAME = "cluster.json"
LOG_NAME = "server.log"
FAILED = "Ray did not start: "  # the server's line in its log when it fails
REGISTER_TIMEOUT = "timed out during startup"  # Ray's message when a node misses its 30 s to register
NODES = ("head", "worker")
DEFAULT_PORT = 6390
HOST = "127.0.0.1"
#: What a driver of this cluster needs (see the module docstring).
DRIVER_ENV = {"RAY_AUTH_MODE": "token", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
DRIVER_PREFIX = " ".join(f"{k}={v}" for k, v in DRIVER_ENV.items())

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


class Stop(Exception):  # noqa: N818 - a request, not an error
    """SIGTERM asked this process to stop."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise Stop


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


def driver_env() -> dict[str, str]:
    """This environment, made fit to drive the cluster."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # never some other cluster by accident
    return {**env, **DRIVER_ENV, "RAY_USAGE_STATS_ENABLED": "0"}


def server_env(temp_dir: str) -> dict[str, str]:
    """The environment of the server of the cluster in ``temp_dir`` (and so of all its Ray processes)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    return {
        **env,
        "RAY_AUTH_MODE": "token",  # a joining node fails with InvalidAuthToken otherwise
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_TMPDIR": temp_dir,  # Ray's "current cluster" file goes here, not to the shared /tmp/ray
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",  # a node stops at once, not after draining up to 30 s
    }


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
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


def query_nodes(address: str, want: int = 0, timeout: float = 0.0) -> list[dict[str, Any]]:
    """The cluster's nodes, as a short-lived driver sees them; waits up to ``timeout`` for ``want`` alive."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", NODES_DRIVER, address, str(want), str(timeout)],
            env=driver_env(),
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


# --- state file and the cluster's processes --------------------------------------------------------


def write_state(paths: list[Path], state: dict[str, Any]) -> None:
    """Write ``state`` atomically to each of ``paths``."""
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)


def read_state(path: Path) -> dict[str, Any]:
    """The state written by the server."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ClusterError(f"no state file {path}") from error
    except (OSError, ValueError) as error:
        raise ClusterError(f"cannot read state file {path}: {error}") from error
    if not isinstance(state, dict) or not {"temp_dir", "pid", "create_time"} <= set(state):
        raise ClusterError(f"state file {path} has no temp_dir, pid or create_time; was it written by this script?")
    return state


def session(state: dict[str, Any]) -> list[psutil.Process]:
    """The live processes of the cluster: its server's session, started no earlier than the server."""
    sid, since = int(state["pid"]), float(state["create_time"]) - 0.01  # a guard against a reused PID
    found = []
    for pid in psutil.pids():
        with contextlib.suppress(OSError, psutil.Error):
            if pid != os.getpid() and os.getsid(pid) == sid and (proc := psutil.Process(pid)).create_time() >= since:
                found.append(proc)
    return found


def server(state: dict[str, Any]) -> psutil.Process | None:
    """The cluster's live server process, if any."""
    return next((p for p in session(state) if p.pid == int(state["pid"])), None)


def end(state: dict[str, Any], grace: float) -> tuple[bool, int]:
    """SIGTERM the server (it shuts the nodes down), SIGKILL what is left of the session after ``grace`` s.

    Returns whether the server was running and how many processes needed SIGKILL.
    """
    main = server(state)
    if main is not None:
        with contextlib.suppress(psutil.NoSuchProcess):
            main.terminate()
        psutil.wait_procs([main], timeout=grace)
    return main is not None, kill_rest(state, settle=3.0 if main is not None else 0.0)


def kill_rest(state: dict[str, Any], settle: float) -> int:
    """SIGKILL the processes of the cluster (but this one) still there after ``settle`` s; how many there were."""
    deadline = time.monotonic() + settle  # Ray's workers exit on their own soon after their raylet
    while (left := session(state)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for proc in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    _, alive = psutil.wait_procs(left, timeout=10)
    if alive:
        raise ClusterError(f"processes {', '.join(str(p.pid) for p in alive)} survived SIGKILL")
    return len(left)


def find_state(given: str | None) -> Path:
    """The state file named by ``--state``, or that of this user's one running cluster in the temporary directory."""
    if given:
        return Path(given)
    tmp = Path(tempfile.gettempdir())
    running = []
    for path in sorted(tmp.glob(f"{DIR_PREFIX}*/{STATE_NAME}")):
        with contextlib.suppress(ClusterError, OSError):
            if path.stat().st_uid == os.getuid() and server(read_state(path)) is not None:
                running.append(path)
    if not running:
        raise ClusterError(f"no running cluster found in {tmp}; pass --state FILE")
    if len(running) > 1:
        raise ClusterError(f"{len(running)} running clusters ({', '.join(map(str, running))}); pass --state FILE")
    return running[0]


# --- the server: the process that holds the Cluster ------------------------------------------------


def serve(temp_dir: str, port: int, cpus: int, paths: list[Path]) -> int:
    """Hold the two-node cluster until SIGTERM; always shut it down. Runs as the leader of its own session."""
    Path(temp_dir, "ray").mkdir(parents=True, exist_ok=True)  # $RAY_TMPDIR/ray holds Ray's address file
    me = psutil.Process()
    state: dict[str, Any] = {
        "address": f"{HOST}:{port}",
        "temp_dir": temp_dir,
        "cpus_per_node": cpus,
        "pid": me.pid,
        "create_time": me.create_time(),
        "status": "starting",
    }
    write_state(paths, state)
    signal.signal(signal.SIGTERM, _raise_stop)
    cluster = None
    try:
        from ray.cluster_utils import Cluster  # noqa: PLC0415 - only the server needs Ray itself

        _ensure_token()
        cluster = Cluster(shutdown_at_exit=True)
        node: dict[str, Any] = {"num_cpus": cpus, "node_ip_address": HOST, "include_log_monitor": True}
        cluster.add_node(
            **node,
            gcs_server_port=port,
            include_dashboard=False,
            dashboard_port=free_port(),  # its process runs anyway: not on the shared default 8265
            dashboard_agent_listen_port=free_port(),  # nor on 52365
            temp_dir=f"{temp_dir}/{NODES[0]}",
        )
        cluster.add_node(**node, temp_dir=f"{temp_dir}/{NODES[1]}")
        cluster.wait_for_nodes(timeout=120)
        signal.signal(signal.SIGTERM, _raise_stop)  # the nodes installed Ray's handler (sys.exit mid-work)
        state["status"] = "up"
        write_state(paths, state)
        print(f"cluster up at {state['address']}", flush=True)
        while True:
            time.sleep(3600)
    except (Stop, KeyboardInterrupt):
        print("stopping the cluster", flush=True)
        return 0
    except Exception as error:  # Ray's own errors: one line here, the details are in Ray's logs
        print(f"{FAILED}{type(error).__name__}: {last_line(str(error))}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the shutdown short
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.shutdown()
        # A node interrupted half-way (not yet in the Cluster) leaves processes: they are in this session.
        with contextlib.suppress(ClusterError):
            kill_rest(state, settle=3.0)
        state["status"] = "stopped"
        write_state(paths, state)


def _ensure_token() -> None:
    """Create ``~/.ray/auth_token`` if it is missing (``ray.init`` of a new local cluster does the same)."""
    from ray._private.authentication.authentication_token_setup import (  # noqa: PLC0415
        ensure_token_if_auth_enabled,
    )

    ensure_token_if_auth_enabled(None, create_token_if_missing=True)


# --- commands --------------------------------------------------------------------------------------


def start(port: int | None, cpus: int, state_arg: str | None, timeout: float, foreground: bool) -> int:
    """Start the cluster's server in a session of its own; return once both nodes are up, or wait (``foreground``)."""
    if cpus < 1:
        raise ClusterError(f"--cpus-per-node must be >= 1 (got {cpus})")
    port = port or DEFAULT_PORT
    if port_in_use(port):
        raise ClusterError(f"port {port} is already in use; pick another with --port")
    deadline = time.monotonic() + timeout
    paths = [Path(state_arg).resolve()] if state_arg else []
    try:
        proc, state = launch(port, cpus, paths, deadline)
    except ClusterError as error:
        # Ray 2.60 gives a node a fixed 30 s to register with the GCS; a loaded machine can miss that once.
        if REGISTER_TIMEOUT not in str(error) or time.monotonic() > deadline:
            raise
        print(f"local_ray_cluster: {error}; trying once more", file=sys.stderr)
        proc, state = launch(port, cpus, paths, deadline)
    state_path = paths[0] if paths else Path(state["temp_dir"]) / STATE_NAME
    print(f"two-node Ray cluster up: {2 * cpus} CPUs, server PID {proc.pid}, log {state['temp_dir']}/{LOG_NAME}")
    print(f"state: {state_path}")
    print(f"use:   {DRIVER_PREFIX} .venv/bin/salesboost ray.address={state['address']}")
    if foreground:
        print("Ctrl-C stops it")
    else:
        print(f"stop:  {sys.executable} {Path(__file__).resolve()} stop --state {state_path}")
    print(f"ray.address={state['address']}", flush=True)
    if foreground:
        try:
            proc.wait()
        except (KeyboardInterrupt, Stop):
            end(state, grace=30)
            proc.wait()
            shutil.rmtree(state["temp_dir"], ignore_errors=True)  # as `stop` does
        print(f"the cluster stopped (server exit {proc.returncode})")
    return 0


def launch(port: int, cpus: int, paths: list[Path], deadline: float) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Run the server in a new session and wait for both nodes; on any failure, end what it started."""
    temp_dir = tempfile.mkdtemp(prefix=DIR_PREFIX)
    own = Path(temp_dir) / STATE_NAME
    log = Path(temp_dir) / LOG_NAME
    command = [sys.executable, str(Path(__file__).resolve()), "serve", temp_dir, str(port), str(cpus)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, str(own), *map(str, paths)],
            env=server_env(temp_dir),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the cluster's processes are exactly this session's
        )
    try:
        return proc, _wait_until_up(proc, own, log, deadline)
    except BaseException as error:
        state = _read_or_none(own)
        if state is not None:
            with contextlib.suppress(ClusterError):
                end(state, grace=30)
        else:  # it had not written its state yet, so it had started nothing
            proc.kill()
        proc.wait()
        if isinstance(error, ClusterError):
            raise ClusterError(f"{error} (stopped what had started; Ray's logs are in {temp_dir})") from error
        shutil.rmtree(temp_dir, ignore_errors=True)  # interrupted: nothing worth keeping
        raise


def _read_or_none(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(ClusterError):
        return read_state(path)
    return None


def _wait_until_up(proc: subprocess.Popen[bytes], path: Path, log: Path, deadline: float) -> dict[str, Any]:
    """The server's state once it says "up"; a one-line error if the server exits or the deadline passes."""
    while (state := _read_or_none(path)) is None or state.get("status") != "up":
        if proc.poll() is not None:
            lines = log.read_text(errors="replace").splitlines()
            reason = next((line for line in reversed(lines) if line.startswith(FAILED)), last_line("\n".join(lines)))
            raise ClusterError(f"the cluster did not start: {reason.removeprefix(FAILED)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"the cluster was not up in time (status {(state or {}).get('status', 'none')})")
        time.sleep(0.5)
    return state


def stop(state_arg: str | None, grace: float, keep_logs: bool) -> int:
    """End the cluster's processes (never `ray stop`); remove its private directory unless ``keep_logs``."""
    state = read_state(find_state(state_arg))
    was_running, killed = end(state, grace)
    note = f", {killed} processes needed SIGKILL" if killed else ""
    print(f"cluster {state.get('address')} {'stopped' if was_running else 'was not running'}{note}")
    temp_dir = Path(str(state["temp_dir"]))
    if not keep_logs and temp_dir.name.startswith(DIR_PREFIX):
        shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


def status(state_arg: str | None) -> int:
    """Print the cluster's nodes."""
    path = find_state(state_arg)
    state = read_state(path)
    if server(state) is None:
        raise ClusterError(f"cluster {state['address']} (state {path}) is not running")
    print(f"cluster {state['address']} (state {path}): server PID {state['pid']}, {len(session(state))} processes")
    for node in query_nodes(str(state["address"])):
        role = "head" if node["head"] else "node"
        print(
            f"  {role} {node['node_id'][:12]} {node['ip']} {'alive' if node['alive'] else 'dead'} CPU={node['cpus']:g}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start a head node and a second node joining it")
    p_start.add_argument("--port", type=int, default=None, help=f"head (GCS) port, default {DEFAULT_PORT}")
    p_start.add_argument("--cpus-per-node", type=int, default=1, help="CPUs of each node (default 1)")
    p_start.add_argument("--state", help="also write the state file here")
    p_start.add_argument("--timeout", type=float, default=240, help="seconds to wait for both nodes (default 240)")
    p_start.add_argument("--foreground", action="store_true", help="wait; Ctrl-C stops the cluster")
    p_serve = sub.add_parser("serve", help="(internal) the process that holds the cluster")
    p_serve.add_argument("temp_dir")
    p_serve.add_argument("port", type=int)
    p_serve.add_argument("cpus", type=int)
    p_serve.add_argument("paths", nargs="+", type=Path, help="state files to write, the private one first")
    p_stop = sub.add_parser("stop", help="end this cluster's processes only (never `ray stop`)")
    p_stop.add_argument("--state", help="state file written by start")
    p_stop.add_argument("--grace", type=float, default=30, help="seconds between SIGTERM and SIGKILL (default 30)")
    p_stop.add_argument("--keep-logs", action="store_true", help="keep the private directory with Ray's logs")
    p_status = sub.add_parser("status", help="print the cluster's nodes")
    p_status.add_argument("--state", help="state file written by start")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.temp_dir, args.port, args.cpus, args.paths)
    # SIGTERM (e.g. a test's timeout) unwinds like Ctrl-C, so an interrupted start cleans up after itself.
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        if args.command == "start":
            return start(args.port, args.cpus_per_node, args.state, args.timeout, args.foreground)
        if args.command == "stop":
            return stop(args.state, args.grace, args.keep_logs)
        return status(args.state)
    except ClusterError as error:
        print(f"local_ray_cluster: error: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        print("local_ray_cluster: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
