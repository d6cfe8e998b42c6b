"""Every YAML example and every command in README.md composes or runs, so the README cannot drift.

YAML examples name their file in a comment (``# conf/experiment/faster_approval.yaml``); they
are written to a temporary config directory added with ``hydra.searchpath`` (never into
``conf/``, which other tests read at the same time). Each ``salesboost`` command is composed
and validated in-process, the way the command does it (plan, then the pre-flight checks
unless it names a server or cluster); ``--help`` and ``--cfg job`` run as real commands, the
documented error line is reproduced by the real command, and the faster_approval example runs
end to end at test size (marked slow).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from experiments.paths import REPO_ROOT
from tests.conftest import mlflow_runs, small_args

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
SALESBOOST = str(Path(sys.executable).with_name("salesboost"))
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
#: Overrides that need a running MLflow server or Ray cluster: compose and validate only.
NEEDS_SERVICE = re.compile(r"^(tracking=server|tracking\.uri=https?:|ray=cluster|ray\.address=)")


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``."""
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def shell_commands() -> list[list[str]]:
    """Every command of the README's bash blocks and inline code, split like a shell, env assignments dropped."""
    lines = []
    for body in blocks("bash"):
        lines += body.replace("\\\n", " ").splitlines()
    lines += re.findall(r"`(\.venv/bin/salesboost [^`]*)`", README)
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        while words and ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words:
            commands.append(words)
    return commands


#: A documented bad command and the one error line it prints ("`cmd` stops with `line`").
ERROR_EXAMPLE = re.compile(r"`\.venv/bin/salesboost ([^`]*)` stops with\s+`(salesboost: error: [^`]*)`")


def salesboost_commands() -> list[list[str]]:
    """The arguments of every ``.venv/bin/salesboost`` command, once each (not the documented bad ones)."""
    bad = {shlex.join(shlex.split(m.group(1))) for m in ERROR_EXAMPLE.finditer(README)}
    seen: dict[str, list[str]] = {}
    for words in shell_commands():
        args = words[1:]
        if words[0] == ".venv/bin/salesboost" and args != ["..."] and shlex.join(args) not in bad:
            seen.setdefault(shlex.join(args), args)
    return list(seen.values())


def yaml_examples() -> dict[str, str]:
    """README YAML examples by the config file each names in a ``# conf/...yaml`` comment."""
    found = {}
    for body in blocks("yaml"):
        names = re.findall(r"^# (conf/[\w/]+\.yaml)\s*$", body, re.MULTILINE)
        assert names, f"a YAML example in README.md names no file (`# conf/<group>/<name>.yaml`):\n{body}"
        found[names[0]] = body
    return found


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config directory holding the README's YAML examples at their documented paths."""
    root = tmp_path_factory.mktemp("readme_conf")
    for name, body in yaml_examples().items():
        path = root / Path(name).relative_to("conf")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root


def searchpath(example_dir: Path) -> str:
    return f"hydra.searchpath=[file://{example_dir}]"


def runs_of(args: list[str]) -> list[list[str]]:
    """The override lists of one invocation: one per combination of a ``-m`` sweep, as the command sees them."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from experiments.cli import _OPEN_DICTS  # the command's own rewrite of dict-valued keys

    multirun = "-m" in args or "--multirun" in args
    overrides = [f"++{a}" if a.startswith(_OPEN_DICTS) else a for a in args if a not in ("-m", "--multirun")]
    if not multirun:
        return [overrides]
    combos: list[list[str]] = [[]]
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.get_key_element()
        values = list(override.sweep_string_iterator()) if override.is_sweep_override() else [override.value()]
        combos = [[*c, f"{key}={v}"] for c in combos for v in values]
    return combos


def test_readme_has_examples_and_commands():
    assert "conf/experiment/faster_approval.yaml" in yaml_examples()
    assert len(salesboost_commands()) >= 10


def test_yaml_examples_start_with_their_package_header():
    """Hydra reads ``# @package`` only before any other line; a comment above it silently disables it."""
    for name, body in yaml_examples().items():
        first = body.lstrip().splitlines()[0]
        if "@package" in body:
            assert first.startswith("# @package"), (name, first)
        yaml.safe_load(body)


@pytest.mark.parametrize("name", list(yaml_examples()))
def test_yaml_example_composes_and_validates(name: str, example_dir: Path):
    from experiments.app import plan
    from experiments.compose import compose_config

    group, option = Path(name).relative_to("conf").with_suffix("").as_posix().rsplit("/", 1)
    overrides = [searchpath(example_dir), f"{group}={option}"]
    validated = plan(compose_config(overrides), overrides)
    assert validated.variants


def group_choice(override: str) -> bool:
    """Whether ``override`` only picks a shipped config file (``experiment=rep_capacity``)."""
    from experiments.cli import config_groups

    group, _, option = override.partition("=")
    return option in config_groups().get(group, [])


@pytest.mark.parametrize("args", salesboost_commands(), ids=shlex.join)
def test_salesboost_command_composes_and_passes_preflight(args: list[str], example_dir: Path, tmp_path: Path):
    from experiments.app import plan
    from experiments.compose import compose_config, customers_of, experiment_of, ray_of, scenario_of, tracking_of
    from experiments.config import TrackingConfig
    from experiments.preflight import check_plan

    if args[0].startswith("-") and args[0] not in ("-m", "--multirun"):
        pytest.skip("a command-line option of Hydra or the app (run as a real command below)")
    for overrides in runs_of(args):
        every = [searchpath(example_dir), *overrides]
        cfg = compose_config(every)
        if experiment_of(cfg).kind == "customer_tiers":  # reads a file, simulates nothing: the file must exist
            transactions = customers_of(cfg).transactions
            assert transactions is not None
            assert (REPO_ROOT / transactions).resolve().is_file(), transactions
            continue
        if all(group_choice(o) for o in overrides):
            # Shipped files only: tests/config composes every variant of every shipped experiment.
            scenario_of(cfg), experiment_of(cfg), tracking_of(cfg), ray_of(cfg)
            continue
        validated = plan(cfg, every)
        assert validated.variants
        if not any(NEEDS_SERVICE.match(o) for o in overrides):
            local = TrackingConfig(uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
            check_plan(dataclasses.replace(validated, tracking=local), tmp_path / "out")


def run_salesboost(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [SALESBOOST, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False, cwd=REPO_ROOT
    )


def test_help_and_cfg_job_run():
    documented = {tuple(a) for a in salesboost_commands()}
    assert ("--help",) in documented
    assert ("--cfg", "job") in documented
    helped = run_salesboost("--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage:" in helped.stdout
    composed = run_salesboost("--cfg", "job", "tracking.enabled=false")
    assert composed.returncode == 0, composed.stderr
    assert yaml.safe_load(composed.stdout)["experiment"]["name"] == "cycle-time-gains"


def test_documented_error_line_is_what_the_command_prints(tmp_path: Path):
    match = ERROR_EXAMPLE.search(README)
    assert match, "README.md shows a bad command and the error line it prints"
    args, line = shlex.split(match.group(1)), match.group(2)
    done = run_salesboost(*args, f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 2
    assert done.stderr.strip() == line


def test_make_targets_exist():
    targets = {w[1] for w in shell_commands() if w[0] == "make" and len(w) > 1}
    assert {"run", "test", "ui"} <= targets
    for target in sorted(targets):
        dry = subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        assert dry.returncode == 0, (target, dry.stderr)


def test_scripts_exist():
    for words in shell_commands():
        scripts = [w for w in words if w.startswith("scripts/")]
        for script in scripts:
            assert (REPO_ROOT / script).is_file(), script
        if words[0].startswith(".venv/bin/"):
            assert (REPO_ROOT / words[0]).exists(), words[0]


@pytest.mark.slow  # about 20 s idle, more on a loaded machine; the example is composed and validated above
def test_faster_approval_example_runs_end_to_end(example_dir: Path, tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_salesboost(
        "experiment=faster_approval",
        searchpath(example_dir),
        *small_args("experiment=faster_approval"),
        "experiment.replications=2",
        "experiment.cache=false",
        "ray.num_cpus=1",
        f"tracking.uri={uri}",
        f"hydra.run.dir={tmp_path / 'out'}",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = sorted(r.info.run_name for r in mlflow_runs(uri, "faster-approval"))
    assert {"legacy", "online_approval", "online_3_managers"} <= set(names)
