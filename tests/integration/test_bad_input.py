"""Bad input: one line naming the key and what is allowed, exit status 2, no MLflow run.

Each case runs the real ``salesboost`` command against a real SQLite store in which the
experiment already exists, so "no run was created" is checked, not assumed.
"""

from __future__ import annotations

import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from experiments.config import TrackingConfig
from experiments.tracking import open_tracker
from tests.conftest import mlflow_runs, small_args

SALESBOOST = str(Path(sys.executable).with_name("salesboost"))

CASES = {
    "unknown group option": (["pipeline=turbo"], ["pipeline=turbo", "unknown option", "legacy, optimised"]),
    "malformed override": (["market.leads_per_week=[1,"], ["cannot parse override", "market.leads_per_week=[1,"]),
    "unknown key": (["pipeline.approval.colour=red"], ["pipeline.approval.colour", "unknown key"]),
    "wrong type": (["experiment.replications=many"], ["experiment.replications", "many"]),
    "negative rate": (["market.leads_per_week=-5"], ["market.leads_per_week", "must be > 0", "-5"]),
    "probability above 1": (["team.manager_away_prob=1.5"], ["team.manager_away_prob", "probability in [0, 1)"]),
    "probability below 0": (
        ["market.channels.web.qualify_prob=-0.1"],
        ["market.channels.web.qualify_prob", "probability in [0, 1]"],
    ),
    "unknown distribution": (
        ["pipeline.quote.prep_hours.dist=weibull"],
        ["pipeline.quote.prep_hours.dist", "unknown distribution 'weibull'", "lognormal", "empirical"],
    ),
    "cv not positive": (["pipeline.quote.prep_hours.cv=0"], ["pipeline.quote.prep_hours.cv", "must be > 0"]),
    "region without reps": (["team.reps.south=0"], ["team.reps.south", "no reps", "at least 1 rep"]),
    "unknown stage policy": (
        ["pipeline.approval.policy=fax"],
        ["pipeline.approval.policy", "unknown value 'fax'", "window, online"],
    ),
    "baseline not a variant": (
        ["experiment.baseline=nobody"],
        ["experiment.baseline", "variants: legacy, crm_assignment"],
    ),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with the default experiment already created (and no runs)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    open_tracker(TrackingConfig(uri=uri), "cycle-time-gains")
    return uri


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_with_one_line_and_records_nothing(case: str, store: str, tmp_path: Path):
    overrides, expected = CASES[case]
    _fails_with_one_line([*overrides, f"tracking.uri={store}", f"hydra.run.dir={tmp_path / 'out'}"], {}, expected)
    assert mlflow_runs(store, "cycle-time-gains") == []


# --- Services, paths, sizes and config files: checked before any run is created. ---
#
# Placeholders: {tmp} a scratch directory holding `afile` (a regular file) and `garbage.db`
# (not a database), {conf} a user config directory of broken YAML files (added with
# hydra.searchpath), {closed} a local port nobody listens on, {http} a local HTTP server that
# is not MLflow. Pseudo-overrides: OUT=path sets the output directory (hydra.run.dir),
# ENV:NAME=value sets an environment variable.

BROKEN_FILES = {
    "experiment/bad_syntax.yaml": "# @package _global_\nexperiment:\n  name: [unclosed\n",
    "experiment/bad_tab.yaml": "# @package _global_\nexperiment:\n\tname: x\n",
    "experiment/bad_duplicate.yaml": "# @package _global_\nexperiment:\n  name: x\n  name: y\n",
    # The README's old example: a comment above the header makes Hydra ignore the header.
    "experiment/bad_header_order.yaml": (
        "# conf/experiment/faster_approval.yaml\n# @package _global_\nexperiment:\n  name: faster-approval\n"
        "  baseline: legacy\n  variants:\n    legacy: [pipeline=legacy]\n"
    ),
    "experiment/bad_type.yaml": (
        "# @package _global_\nexperiment:\n  name: x\n  baseline: legacy\n  variants:\n"
        "    legacy: [pipeline=legacy]\n  replications: many\n"
    ),
    "experiment/bad_key.yaml": (
        "# @package _global_\nexperiment:\n  name: x\n  baseline: legacy\n  colour: red\n"
        "  variants:\n    legacy: [pipeline=legacy]\n"
    ),
    "experiment/bad_list.yaml": "- legacy\n- optimised\n",
    "experiment/bad_package_line.yaml": "# @package\nexperiment: {}\n",
    "experiment/bad_interpolation.yaml": (
        "# @package _global_\nexperiment:\n  name: ${nowhere}\n  baseline: legacy\n  variants:\n"
        "    legacy: [pipeline=legacy]\n"
    ),
    "experiment/bad_variant.yaml": (
        "# @package _global_\nexperiment:\n  name: mine\n  baseline: legacy\n  variants:\n"
        "    legacy: [pipeline=legacy]\n    thin: [pipeline=legacy, team.reps.south=0]\n"
    ),
    "market/bad_value.yaml": "leads_per_week: lots\n",
    "market/bad_flow.yaml": "defaults:\n  - baseline\n  - _self_\nleads_per_week: [1\n",
    "market/bad_shares.yaml": (
        "defaults:\n  - baseline\n  - _self_\nregions:\n  north: 0.5\n  east: 0.35\n  south: 0.25\n"
    ),
    "experiment/bad_seed.yaml": (
        "# @package _global_\nexperiment:\n  name: x\n  baseline: legacy\n  variants:\n"
        "    legacy: [pipeline=legacy]\n  seed: -5\n"
    ),
    "team/bad_nested.yaml": "defaults:\n  - baseline\n  - _self_\nreps:\n  north: 2\n  south: many\n",
}
BINARY_FILE = "experiment/bad_bytes.yaml"

#: name -> (overrides, fragments the one error line must contain)
PREFLIGHT_CASES: dict[str, tuple[list[str], list[str]]] = {
    # tracking.uri
    "tracking scheme unknown": (
        ["tracking.uri=nonsense://x"],
        ["tracking.uri", "'nonsense'", "sqlite:////", "http(s)://"],
    ),
    "tracking no scheme": (["tracking.uri=databricks"], ["tracking.uri", "no scheme"]),
    "tracking file store": (["tracking.uri=file:///tmp/mlruns"], ["tracking.uri", "'file'"]),
    "tracking empty": (["tracking.uri="], ["tracking.uri", "must not be empty"]),
    "sqlite relative": (["tracking.uri=sqlite:///mlflow.db"], ["tracking.uri", "absolute file path"]),
    "sqlite no path": (["tracking.uri=sqlite://"], ["tracking.uri", "absolute file path"]),
    "sqlite in memory": (["tracking.uri=sqlite:///:memory:"], ["tracking.uri", "absolute file path"]),
    "sqlite under a file": (["tracking.uri=sqlite:///{tmp}/afile/mlflow.db"], ["tracking.uri", "is a file"]),
    "sqlite is a directory": (["tracking.uri=sqlite:///{tmp}"], ["tracking.uri", "is a directory"]),
    "sqlite not a database": (["tracking.uri=sqlite:///{tmp}/garbage.db"], ["tracking.uri", "not a SQLite database"]),
    "sqlite unwritable": (["tracking.uri=sqlite:////proc/salesboost/mlflow.db"], ["tracking.uri", "cannot write"]),
    "server refused": (["tracking.uri=http://127.0.0.1:{closed}"], ["tracking.uri", "no MLflow server answers"]),
    "https server refused": (["tracking.uri=https://127.0.0.1:{closed}"], ["tracking.uri", "connection refused"]),
    "server not mlflow": (["tracking.uri=http://127.0.0.1:{http}"], ["tracking.uri", "not an MLflow server", "404"]),
    "server no host": (["tracking.uri=http:///x"], ["tracking.uri", "no host"]),
    "postgres": (["tracking.uri=postgresql://u@127.0.0.1:{closed}/db"], ["tracking.uri", "postgresql"]),
    "mysql": (["tracking.uri=mysql://u@127.0.0.1:{closed}/db"], ["tracking.uri", "mysql"]),
    # ray.address
    "ray refused": (["ray.address=127.0.0.1:{closed}"], ["ray.address", "no Ray cluster answers"]),
    "ray client refused": (["ray.address=ray://127.0.0.1:{closed}"], ["ray.address", "no Ray cluster answers"]),
    "ray no port": (["ray.address=localhost"], ["ray.address", "host:port"]),
    "ray bad port": (["ray.address=127.0.0.1:99999"], ["ray.address", "1..65535"]),
    "ray unknown host": (["ray.address=nohost.invalid:6379"], ["ray.address", "unknown host"]),
    "ray auto via RAY_ADDRESS": (
        ["ray.address=auto", "ENV:RAY_ADDRESS=127.0.0.1:{closed}"],
        ["ray.address", "auto found 127.0.0.1:"],
    ),
    "ray num_cpus zero": (["ray.num_cpus=0"], ["ray.num_cpus", "must be >= 1"]),
    # paths
    "cache dir is a file": (["experiment.cache_dir={tmp}/afile"], ["experiment.cache_dir", "is a file"]),
    "cache dir under a file": (["experiment.cache_dir={tmp}/afile/results"], ["experiment.cache_dir", "is a file"]),
    "cache dir unwritable": (["experiment.cache_dir=/proc/salesboost"], ["experiment.cache_dir", "cannot write"]),
    "cache dir empty": (["experiment.cache_dir="], ["experiment.cache_dir", "must not be empty"]),
    "output dir under a file": (["OUT={tmp}/afile/out"], ["hydra.run.dir", "is a file"]),
    "output dir unwritable": (["OUT=/proc/salesboost/out"], ["hydra.run.dir", "cannot"]),
    # sizes
    "leads beyond memory": (["market.leads_per_week=1e9"], ["market.leads_per_week", "memory", "horizon.days"]),
    "horizon beyond memory": (["horizon.days=1e8"], ["market.leads_per_week", "horizon.days", "memory"]),
    "too many workers for memory": (
        ["market.leads_per_week=400000", "ray.num_cpus=16"],
        ["ray.num_cpus", "memory", "ray.num_cpus="],
    ),
    "replications beyond memory": (["experiment.replications=100000000"], ["experiment.replications", "memory"]),
    "adaptive beyond memory": (
        ["experiment.adaptive.enabled=true", "experiment.adaptive.max_replications=100000000"],
        ["experiment.adaptive.max_replications", "memory"],
    ),
    "sensitivity beyond memory": (
        ["experiment.sensitivity.replications=100000000"],
        ["experiment.sensitivity.replications", "memory"],
    ),
    # values
    "one replication": (["experiment.replications=1"], ["experiment.replications", "must be >= 2"]),
    "negative seed": (["experiment.seed=-1"], ["experiment.seed", ">= 0"]),
    "event log format": (["experiment.event_log=xml"], ["experiment.event_log", "csv", "parquet"]),
    "adaptive metric": (["experiment.adaptive.metric=happiness"], ["experiment.adaptive.metric", "unknown metric"]),
    "adaptive minimum": (["experiment.adaptive.min_replications=1"], ["experiment.adaptive.min_replications"]),
    "report objective": (["experiment.report.objective=fun"], ["experiment.report.objective", "unknown metric"]),
    "sensitivity variant": (["experiment.sensitivity.variant=nobody"], ["experiment.sensitivity.variant"]),
    "sensitivity parameter": (["experiment.sensitivity.parameters=[nope]"], ["experiment.sensitivity.parameters[0]"]),
    "empty grid axis": (["experiment.grid={team.managers:[]}"], ["experiment.grid.team.managers", "at least one"]),
    "empty name": (["experiment.name="], ["experiment.name", "must not be empty"]),
    "negative horizon": (["horizon.days=-1"], ["horizon.days", "> 0"]),
    "leads not a number": (["market.leads_per_week=nan"], ["market.leads_per_week", "> 0"]),
    "leads infinite": (["market.leads_per_week=inf"], ["market.leads_per_week", "> 0"]),
    "unknown calendar": (["calendar=mars"], ["calendar=mars", "unknown option", "business_week"]),
    # config files in a user's config directory
    "yaml syntax": (["experiment=bad_syntax"], ["experiment/bad_syntax.yaml:4:1", "YAML syntax error", "line 3"]),
    "yaml tab": (["experiment=bad_tab"], ["experiment/bad_tab.yaml:3:1", "tabs"]),
    "yaml duplicate key": (["experiment=bad_duplicate"], ["experiment/bad_duplicate.yaml:4:3", "duplicate key"]),
    "header after a comment": (
        ["experiment=bad_header_order"],
        ["experiment/bad_header_order.yaml:3:1", "experiment.experiment", "move it to line 1"],
    ),
    "file wrong type": (["experiment=bad_type"], ["experiment/bad_type.yaml:7:3", "experiment.replications", "many"]),
    "file unknown key": (["experiment=bad_key"], ["experiment/bad_key.yaml:5:3", "experiment.colour", "unknown key"]),
    "file is a list": (["experiment=bad_list"], ["experiment/bad_list.yaml:1:1", "list"]),
    "file bad header": (["experiment=bad_package_line"], ["experiment/bad_package_line.yaml:1:1", "header"]),
    "file not utf-8": (["experiment=bad_bytes"], ["experiment/bad_bytes.yaml:3:9", "not UTF-8"]),
    "file interpolation": (["experiment=bad_interpolation"], ["experiment.name", "nowhere"]),
    "file bad variant": (["experiment=bad_variant"], ["team.reps.south", "in variant 'thin'"]),
    "market file wrong type": (["market=bad_value"], ["market/bad_value.yaml:1:1", "market.leads_per_week", "lots"]),
    "market file syntax": (["market=bad_flow"], ["market/bad_flow.yaml:5:1", "YAML syntax error"]),
    "market file bad shares": (
        ["market=bad_shares"],
        ["market/bad_shares.yaml:4:1", "market.regions", "shares must sum to 1", "in variant 'legacy'"],
    ),
    "file bad value": (["experiment=bad_seed"], ["experiment.seed", "must be >= 0"]),
    "team file nested type": (["team=bad_nested"], ["team/bad_nested.yaml:6:3", "team.reps.south", "many"]),
}
#: A representative subset that also runs through the real `salesboost` command.
SUBPROCESS_CASES = [
    "tracking scheme unknown",
    "server refused",
    "ray refused",
    "cache dir under a file",
    "output dir under a file",
    "leads beyond memory",
    "yaml syntax",
    "header after a comment",
    "file bad variant",
    "file bad value",
]
#: What the real command adds to a case's line: in the command, settings validated after
#: composing are traced to the file that writes them too.
COMMAND_FRAGMENTS = {"file bad value": ["experiment/bad_seed.yaml:7:3"]}


class NotMlflow(http.server.BaseHTTPRequestHandler):
    """A web server that is not MLflow: every path is 404."""

    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def all_runs(uri: str) -> list:
    """Every run of every experiment in the store at ``uri`` (a bad input must create none)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids, max_results=1000) if ids else []


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Values of the placeholders: scratch files, a user config dir, a closed port, a non-MLflow server."""
    tmp = tmp_path_factory.mktemp("places")
    (tmp / "afile").write_text("not a directory\n")
    (tmp / "garbage.db").write_text("not a database\n")
    conf = tmp / "conf"
    for name, text in BROKEN_FILES.items():
        (conf / name).parent.mkdir(parents=True, exist_ok=True)
        (conf / name).write_text(text, encoding="utf-8")
    (conf / BINARY_FILE).write_bytes(b"# @package _global_\nexperiment:\n  name: \xff\xfe\n")
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotMlflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"tmp": str(tmp), "conf": str(conf), "closed": str(closed), "http": str(server.server_address[1])}
    server.shutdown()
    server.server_close()


def resolve_case(name: str, places: dict[str, str], out: Path) -> tuple[list[str], dict[str, str], Path]:
    """The case's overrides with placeholders filled, its environment and its output directory."""
    overrides, env = [], {}
    for item in PREFLIGHT_CASES[name][0]:
        text = item
        for key, value in places.items():  # not str.format: overrides contain braces
            text = text.replace(f"{{{key}}}", value)
        if text.startswith("OUT="):
            out = Path(text.removeprefix("OUT="))
        elif text.startswith("ENV:"):
            key, _, value = text.removeprefix("ENV:").partition("=")
            env[key] = value
        else:
            overrides.append(text)
    overrides.append(f"hydra.searchpath=[file://{places['conf']}]")
    return overrides, env, out


@pytest.mark.parametrize("case", list(PREFLIGHT_CASES))
def test_bad_setting_fails_before_any_run_in_process(
    case: str, store: str, places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The command's own path (compose, plan, pre-flight checks) gives one line naming the key or file."""
    from experiments.app import plan
    from experiments.cli import _OPEN_DICTS  # the command's own rewrite of dict-valued keys
    from experiments.compose import compose_config
    from experiments.errors import describe_error, is_input_error
    from experiments.preflight import check_plan

    overrides, env, out = resolve_case(case, places, tmp_path / "out")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    every = [f"++{o}" if o.startswith(_OPEN_DICTS) else o for o in small_args(f"tracking.uri={store}", *overrides)]
    started = time.monotonic()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error; what matters is how it is described
        check_plan(plan(compose_config(every), every), out)
    line = describe_error(caught.value)
    assert is_input_error(caught.value), line
    assert "\n" not in line, line
    for fragment in PREFLIGHT_CASES[case][1]:
        assert fragment in line, (fragment, line)
    assert time.monotonic() - started < 35, "bounded waits stay within about 30 s"
    assert not out.exists()
    assert all_runs(store) == []


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_setting_fails_before_any_run_in_the_command(case: str, store: str, places: dict[str, str], tmp_path: Path):
    overrides, extra_env, out = resolve_case(case, places, tmp_path / "out")
    fragments = [*PREFLIGHT_CASES[case][1], *COMMAND_FRAGMENTS.get(case, [])]
    _fails_with_one_line(small_args(f"tracking.uri={store}", *overrides, f"hydra.run.dir={out}"), extra_env, fragments)
    assert all_runs(store) == []


def test_long_run_warns_in_one_line_and_is_not_refused(tmp_path: Path):
    from experiments.preflight import check_plan
    from tests.conftest import small_plan

    warnings = io.StringIO()
    check_plan(small_plan("market.leads_per_week=20000", "experiment.replications=200"), tmp_path, warnings=warnings)
    lines = warnings.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("salesboost: warning: ")
    assert "experiment.replications" in lines[0]


def test_preflight_of_a_good_plan_is_quick_and_silent(tmp_path: Path):
    from experiments.preflight import check_plan
    from tests.conftest import small_plan

    validated = small_plan(f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}")
    warnings = io.StringIO()
    started = time.monotonic()
    check_plan(validated, tmp_path / "out", warnings=warnings)
    assert time.monotonic() - started < 1.0
    assert warnings.getvalue() == ""
    assert not (tmp_path / "out").exists(), "a check creates nothing"
    assert not (tmp_path / "mlflow.db").exists(), "a check creates nothing"


def test_ray_auto_without_a_reachable_cluster_names_ray_address(monkeypatch: pytest.MonkeyPatch):
    """``ray.address=auto`` finds nothing, or only a cluster that is gone: one line either way."""
    from ray._private.services import find_gcs_addresses

    from experiments.services import check_ray_address
    from salesboost.errors import ConfigError

    if find_gcs_addresses():
        pytest.skip("a Ray cluster runs on this machine (another user's or test's); auto would join it")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError) as caught:
        check_ray_address("auto")
    assert caught.value.key == "ray.address"
    assert "no Ray cluster" in str(caught.value)


def _fails_with_one_line(args: list[str], extra_env: dict[str, str], fragments: list[str]) -> None:
    """``salesboost args`` exits 2 with one ``salesboost: error:`` line holding every fragment, no traceback."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **extra_env}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.run([SALESBOOST, *args], capture_output=True, text=True, timeout=120, env=env, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("salesboost: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("overrides", [["--days", "-5"], ["market.nope=1"]])
def test_calibrate_reports_a_bad_option_or_override_in_one_line(overrides):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "experiments.calibrate", "--check", *overrides],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "horizon.days" in lines[0] or "market.nope" in lines[0]
