"""The ``salesboost`` command: a Hydra app around :mod:`experiments.app`.

``salesboost`` runs the default experiment; Hydra overrides (``market.leads_per_week=400``),
group choices (``pipeline=optimised``) and ``-m`` multirun work as usual. Bad input ends
with one line naming the key and what is allowed, exit status 2, and nothing recorded.
SIGINT (Ctrl-C) or SIGTERM at any moment ends with one line saying how to resume, exit
status 130, no MLflow run left RUNNING and no process of this invocation left behind. The
same sweep already running in another invocation ends this one with one line naming that
process, exit status 75 (try again later). ``--help`` is answered before Hydra is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from experiments.paths import CONF_DIR

HELP = """\
salesboost: simulate sales-pipeline strategies and compare them with confidence intervals.

Usage:
  salesboost [OVERRIDE ...]             run the experiment (default: experiment=cycle_time_gains;
                                        also experiment=pipeline_attribution)
  salesboost experiment=customer_tiers customers.transactions=FILE [customers.as_of=YYYY-MM-DD]
                                        a company's customers in the plan's RFM tiers, with a
                                        fitted purchase model (P(alive), expected value) and its
                                        check on the transactions after as_of
  salesboost -m KEY=A,B [OVERRIDE ...]  multirun: one experiment per value combination
  salesboost --cfg job [-p KEY]         print the composed config (or one key) and exit
  salesboost --info defaults            show which file each config group comes from
  salesboost --hydra-help               Hydra's own options

Overrides:
  group=option        choose a config file, e.g. pipeline=optimised calendar=cn_2024
                      or one stage of a pipeline, e.g. pipeline=legacy pipeline/approval=online
  key=value           change one value, e.g. market.leads_per_week=400 experiment.replications=30
  tracking.uri=URI    record to an MLflow server instead of ./mlflow.db (tracking.enabled=false: no recording)
  ray.address=ADDR    run on an existing Ray cluster ("auto" or host:port); ray.num_cpus=N limits local Ray

Config groups (options):
{groups}

Each run prints a summary table (mean [95% CI] per variant, paired change vs the baseline),
writes tables and plots under outputs/, and records a parent run with one child run per
variant in MLflow; `make ui` opens the MLflow UI. Docs: README.md, docs/model.md.
"""


def help_text() -> str:
    """The command's help, with the config groups found in ``conf/``."""
    lines = [f"  {group:<20} {', '.join(options)}" for group, options in config_groups().items()]
    return HELP.format(groups="\n".join(lines))


def config_groups() -> dict[str, list[str]]:
    """Config groups under ``conf/`` (nested ones as ``pipeline/approval``) and their options."""
    groups = {}
    for folder in sorted(p for p in CONF_DIR.rglob("*") if p.is_dir()):
        group = folder.relative_to(CONF_DIR).as_posix()
        options = sorted(f.stem for f in folder.glob("*.yaml"))
        # conf/anchors holds observed funnel figures for calibration (plain data, not a group).
        if options and not group.startswith(("hydra", "anchors")):
            groups[group] = options
    return groups


def _run_hydra_app() -> None:
    import hydra  # noqa: PLC0415 - not needed for --help
    from omegaconf import DictConfig  # noqa: PLC0415

    from experiments.compose import register_schema  # noqa: PLC0415

    register_schema()
    _check_multirun_jobs()
    # Hydra prints its own multi-line report for an error raised by a job; we keep the
    # error and raise it once Hydra has returned, to report it in one line.
    failures: list[Exception] = []

    @hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
    def app(cfg: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

        from experiments.app import execute, plan  # noqa: PLC0415

        if failures:  # a multirun stops at its first failed job
            return
        hydra_cfg = HydraConfig.get()
        output_dir = Path(hydra_cfg.runtime.output_dir)
        try:
            if cfg.experiment.get("kind", "sweep") == "customer_tiers":
                from experiments.customer_tiers import run  # noqa: PLC0415

                run(cfg, output_dir)
            else:
                execute(plan(cfg, list(hydra_cfg.overrides.task)), output_dir)
        except Exception as error:
            failures.append(error)

    app()
    if failures:
        raise failures[0]


def _check_multirun_jobs() -> None:
    """Plan every job of a ``-m`` sweep before the first one runs: a bad value in a later job stops them all.

    The jobs are those Hydra's basic sweeper makes of the command line; each is composed and
    validated as the job itself would be (:func:`experiments.app.plan`), and nothing is recorded.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # noqa: PLC0415 - Hydra's own split
    from hydra._internal.utils import get_args_parser  # noqa: PLC0415
    from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: PLC0415

    from experiments.app import plan  # noqa: PLC0415
    from experiments.compose import compose_config, customers_of, located  # noqa: PLC0415
    from salesboost.errors import ConfigError  # noqa: PLC0415

    args, _ = get_args_parser().parse_known_args(sys.argv[1:])
    own_config = args.config_path or args.config_name or args.config_dir
    only_shows = args.cfg or args.info or args.hydra_help or args.shell_completion or args.experimental_rerun
    if not (args.multirun or "hydra.mode=MULTIRUN" in args.overrides) or own_config or only_shows:
        return
    parsed = OverridesParser.create().parse_overrides(args.overrides)
    jobs = [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    for job in jobs if len(jobs) > 1 else []:  # a single job is checked when it starts
        cfg = compose_config(job)
        try:
            if cfg.experiment.get("kind", "sweep") == "customer_tiers":
                customers_of(cfg)
            else:
                plan(cfg, job)
        except ConfigError as error:
            raise located(error, job) from error


#: Dict-valued keys that take new entries from the command line; Hydra needs ``++`` for that.
_OPEN_DICTS = ("experiment.grid=", "experiment.variants=")
#: Why an empty mapping for one of them is refused: it would add nothing and change nothing.
_EMPTY_DICT = {
    "experiment.grid": "{} adds no grid axis (a mapping on the command line adds to the study's grid); "
    "give at least one axis, e.g. experiment.grid={team.managers:[1,2]}",
    "experiment.variants": "{} adds no variant (a mapping on the command line adds to the study's variants, "
    "it does not replace them); give at least one variant, e.g. experiment.variants={mine:['team.managers=3']}",
}


def _open_dict_args(argv: list[str]) -> list[str]:
    """``argv`` with ``++`` before the dict-valued keys; an empty mapping for one of them is an error."""
    from salesboost.errors import ConfigError  # noqa: PLC0415

    for arg in argv:
        key, sep, value = arg.lstrip("+").partition("=")
        if sep and key in _EMPTY_DICT and value.replace(" ", "") == "{}":
            raise ConfigError(key, _EMPTY_DICT[key])
    return [f"++{arg}" if arg.startswith(_OPEN_DICTS) else arg for arg in argv]


#: Exit statuses besides 0: a failure, bad input, the sweep busy elsewhere, an interruption.
FAILED, BAD_INPUT, BUSY, INTERRUPTED = 1, 2, 75, 130


def main() -> None:
    """Console entry point."""
    from experiments.locks import ignore_further_interrupts, install_interrupt_handlers  # noqa: PLC0415

    install_interrupt_handlers()  # first: a signal from now on ends in the clean stop below
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(help_text())
        return
    # Let errors reach us instead of Hydra's multi-line report; we print one line.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    status = 0
    message = None
    try:
        sys.argv = _open_dict_args(sys.argv)
        _run_hydra_app()
    except KeyboardInterrupt as interrupt:
        from experiments.app import RESUME_HINT  # noqa: PLC0415

        message = str(interrupt) or f"interrupted before any replication was saved; {RESUME_HINT}"
        status = INTERRUPTED
    except Exception as error:
        if os.environ.get("SALESBOOST_TRACEBACK"):
            raise
        from experiments.errors import describe_error, is_input_error  # noqa: PLC0415
        from experiments.locks import SweepBusyError  # noqa: PLC0415

        if isinstance(error, SweepBusyError):
            message, status = f"error: {error}", BUSY
        else:
            message = f"error: {describe_error(error)}"
            status = BAD_INPUT if is_input_error(error) else FAILED
    finally:
        ignore_further_interrupts()  # the stop below runs whole, whatever arrives now
        _stop_processes()
    if message is not None:
        if "experiments.progress" in sys.modules:  # a bar may be live: end it, so the message has its own line
            sys.modules["experiments.progress"].close_all()
        print(f"salesboost: {message}", file=sys.stderr)
    sys.exit(status)


def _stop_processes() -> None:
    """Stop Ray and every process it started, whatever state an interruption left them in."""
    if "ray" in sys.modules:
        from experiments.parallel import stop_ray  # noqa: PLC0415

        stop_ray()


if __name__ == "__main__":
    main()
