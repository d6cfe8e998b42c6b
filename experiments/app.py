"""An experiment from composed config to recorded comparison.

``plan`` validates everything (every variant's scenario, the experiment, tracking and Ray
settings) before anything starts, so bad input never leaves a run behind. ``execute`` runs
the sweep (each variant's child run is written as soon as it is complete), then analyses
all variants together, writes tables and plots to the output directory, and closes the
parent run with the comparison. Interrupted or crashed at any moment, it leaves every
finished replication in the result store and the parent run closed (KILLED or FAILED) for
the same command to resume; one sweep runs in one invocation at a time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from omegaconf import DictConfig, OmegaConf

from experiments.compose import compose_variants, customers_of, experiment_of, ray_of, tracking_of
from experiments.config import ExperimentConfig, RayConfig, TrackingConfig
from experiments.progress import Progress
from experiments.scheduler import Executor, Sweep, SweepOutcome, VariantRun
from experiments.store import ResultStore, model_version
from experiments.variants import Variant, grid_points
from salesboost.build import stable_hash
from salesboost.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from analysis.selection import Selection


class Interrupted(KeyboardInterrupt):
    """The run was stopped (Ctrl-C, SIGTERM); what finished is kept for a resume. The text is the line to print."""


class VariantFailureError(RuntimeError):
    """Some variants raised in the simulation; the others were recorded."""


@dataclass(frozen=True)
class Plan:
    """A validated experiment, ready to run."""

    experiment: ExperimentConfig
    tracking: TrackingConfig
    ray: RayConfig
    variants: list[Variant]  # the baseline first
    overrides: tuple[str, ...]
    config_yaml: str
    ranges: dict[str, list[float]] = field(default_factory=dict)
    grid: dict[str, dict[str, Any]] = field(default_factory=dict)  # grid point -> parameter values


@dataclass(frozen=True)
class Outcome:
    """What an executed experiment produced."""

    plan: Plan
    runs: dict[str, VariantRun]
    table: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    selection: Selection | None
    sensitivity: pd.DataFrame | None
    output_dir: Path
    parent_run_id: str | None
    ui_hint: str | None


def plan(cfg: DictConfig, overrides: Sequence[str]) -> Plan:
    """Validate ``cfg`` and compose every variant on top of ``overrides``."""
    experiment = experiment_of(cfg)
    tracking = tracking_of(cfg)
    ray = ray_of(cfg)
    ranges = {str(k): [float(x) for x in v] for k, v in (OmegaConf.to_container(cfg.ranges) or {}).items()}  # type: ignore[union-attr]
    customers = customers_of(cfg)
    if customers.base == "fitted":  # the company's own purchase model under every variant
        from experiments.customer_tiers import fitted_purchase  # noqa: PLC0415 - pandas, scipy

        fitted = fitted_purchase(customers)
        overrides = [*(f"accounts.purchase.{key}={value}" for key, value in fitted.items()), *overrides]
        cfg = cfg.copy()  # the recorded config says what the variants run
        for key, value in fitted.items():
            OmegaConf.update(cfg, f"accounts.purchase.{key}", value)
    variants = compose_variants(experiment, overrides)
    names = [v.name for v in variants]
    sensitivity = experiment.sensitivity
    if sensitivity.enabled and sensitivity.variant != "best" and sensitivity.variant not in names:
        raise ConfigError(
            "experiment.sensitivity.variant", f"unknown variant {sensitivity.variant!r}; use best or a variant"
        )
    for group, members in experiment.report.groups.items():
        for i, member in enumerate(members):
            if member not in names:
                raise ConfigError(
                    f"experiment.report.groups.{group}[{i}]",
                    f"unknown variant {member!r}; variants: {', '.join(names)}",
                )
    _check_studies(experiment, names)
    for i, key in enumerate(sensitivity.parameters):
        if key not in ranges:
            raise ConfigError(
                f"experiment.sensitivity.parameters[{i}]", f"{key!r} has no range; ranges: {', '.join(ranges)}"
            )
    if sensitivity.enabled:  # every range end is a valid value, before a run is created
        from experiments.sensitivity import check_ranges  # noqa: PLC0415 - pandas

        best = sensitivity.variant == "best"
        targets = (variants[1:] or variants) if best else [v for v in variants if v.name == sensitivity.variant]
        check_ranges(targets, variants[0], ranges, sensitivity.parameters)
    return Plan(
        experiment=experiment,
        tracking=tracking,
        ray=ray,
        variants=variants,
        overrides=tuple(overrides),
        config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
        ranges=ranges,
        grid=grid_points(experiment),
    )


def _check_studies(experiment: ExperimentConfig, names: list[str]) -> None:
    """The studies' variant names exist (one line naming the key otherwise)."""
    refs = [
        ("experiment.pilot_design.null_variant", experiment.pilot_design.null_variant, experiment.pilot_design.enabled),
        (
            "experiment.early_warning.calm_variant",
            experiment.early_warning.calm_variant,
            experiment.early_warning.enabled,
        ),
        ("experiment.targets.lever_variant", experiment.targets.lever_variant, experiment.targets.enabled),
    ]
    for playbook, shocked in experiment.early_warning.responses.items():
        refs.append((f"experiment.early_warning.responses.{playbook}", playbook, experiment.early_warning.enabled))
        refs.append((f"experiment.early_warning.responses.{playbook}", shocked, experiment.early_warning.enabled))
    for key, name, enabled in refs:
        if enabled and name and name not in names:
            raise ConfigError(key, f"unknown variant {name!r}; variants: {', '.join(names)}")
    if experiment.targets.enabled:
        from salesboost.targets import targets_from_dict  # noqa: PLC0415

        targets_from_dict(
            {"targets": experiment.targets.targets} if experiment.targets.targets else {}, "experiment.targets"
        )


#: The runs table's name column shows about this many characters; details go to tags.
PARENT_NAME_CHARS = 24


def parent_run_name(experiment_name: str) -> str:
    """The parent run's name: the study's name, short enough to show whole in the runs table."""
    if len(experiment_name) <= PARENT_NAME_CHARS:
        return experiment_name
    return experiment_name[: PARENT_NAME_CHARS - 1].rstrip() + "…"


def sweep_key(plan: Plan) -> str:
    """A hash of everything that determines an invocation's results: the resume key."""
    experiment = OmegaConf.to_container(OmegaConf.structured(plan.experiment))
    assert isinstance(experiment, dict)
    for note in ("description", "caveats"):  # words about the study, not what determines its numbers
        experiment.pop(note, None)
    data = {
        "experiment": experiment,
        "variants": {v.name: v.scenario.config_hash() for v in plan.variants},
        "ranges": plan.ranges,
        "model": model_version(),
    }
    return stable_hash(data)


def execute(
    plan: Plan,
    output_dir: Path,
    stream: TextIO | None = None,
    *,
    executor: Executor | None = None,
    store: ResultStore | None = None,
) -> Outcome:
    """Run every variant's replications, analyse, write outputs and record them.

    Interrupted at any moment (``KeyboardInterrupt``), it raises :class:`Interrupted` with
    the line to print: the parent run is closed as KILLED, no child is left half-written and
    the same command resumes. Another invocation running the same sweep against the same
    store makes it raise :class:`experiments.locks.SweepBusyError` before anything is created.
    """
    from experiments.locks import deferred_interrupts  # noqa: PLC0415
    from experiments.preflight import check_plan  # noqa: PLC0415
    from experiments.recording import child_record, headline, runs_view_tags  # noqa: PLC0415 - pandas, mlflow
    from experiments.tracking import SweepRecorder, git_commit, open_tracker, sweep_lock  # noqa: PLC0415

    out = stream if stream is not None else sys.stdout
    started_ms = int(time.time() * 1000)
    experiment = plan.experiment
    check_plan(plan, output_dir)  # services, paths and sizes, before anything is created
    output_dir.mkdir(parents=True, exist_ok=True)
    recorder = None
    lock = None
    sweep: Sweep | None = None
    main_done = False
    try:
        if plan.tracking.enabled:
            tracker = open_tracker(plan.tracking, experiment.name)
            for tag, value in runs_view_tags(headline(experiment)).items():  # the runs table opens on the KPIs
                tracker.client.set_experiment_tag(tracker.experiment_id, tag, value)
            key = sweep_key(plan)
            lock = sweep_lock(tracker, key)  # before the parent run: never two parents for one sweep
            recorder = SweepRecorder(
                tracker, sweep_key=key, run_name=parent_run_name(experiment.name), started_ms=started_ms
            )
            with deferred_interrupts():  # a parent run is created (or resumed) whole, and known
                tags = {"git_commit": git_commit(), "root_seed": str(experiment.seed)}
                parent_id = recorder.open(_parent_params(plan), tags)
            if recorder.resumed:
                print(f"{experiment.name}: resuming MLflow run {parent_id}", file=out)
        if store is None and experiment.cache:
            store = ResultStore(Path(experiment.cache_dir)) if experiment.cache_dir else ResultStore()
        if executor is None:
            executor = _ray_executor(plan.ray)
        common_tags = {"git_commit": git_commit(), "root_seed": str(experiment.seed)}

        def on_done(run: VariantRun) -> None:
            if recorder is not None and not recorder.has(run.name):
                assert sweep is not None  # set before it runs
                record = child_record(
                    run, sweep.baseline, common_tags=common_tags, output_dir=output_dir, metrics=headline(experiment)
                )
                recorder.record(record)

        sweep = Sweep(
            plan.variants,
            seed=experiment.seed,
            replications=experiment.replications,
            adaptive=experiment.adaptive,
            executor=executor,
            store=store,
            progress=Progress(0, f"{experiment.name}: simulating"),
            on_done=on_done,
            event_log=_event_log_paths(experiment, output_dir),
        )
        try:
            outcome = sweep.run()
        finally:
            if sweep.progress is not None:
                sweep.progress.close()
        main_done = True
        if outcome.rerun_for_logs:
            print(
                f"{experiment.name}: {outcome.rerun_for_logs} stored replications were simulated again "
                "to write their event logs",
                file=out,
            )
        # Child runs still being written overlap the analysis; finish() waits for them.
        return _analyse_and_finish(plan, outcome, output_dir, out, executor=executor, store=store, recorder=recorder)
    except KeyboardInterrupt:
        if executor is not None:
            executor.cancel()
        if recorder is not None:
            recorder.stop("KILLED")
        raise Interrupted(_interrupted(sweep, main_done=main_done)) from None
    except BaseException:
        if executor is not None:
            executor.cancel()
        if recorder is not None:
            recorder.stop("FAILED")
        raise
    finally:
        if lock is not None:
            lock.release()


#: The end of every interruption message: what to do next.
RESUME_HINT = "run the same command again to resume where it stopped"


def _interrupted(sweep: Sweep | None, *, main_done: bool) -> str:
    """The one line that says what an interruption kept and how to go on."""
    if main_done:
        return f"interrupted after the main replications; every finished replication is saved; {RESUME_HINT}"
    progress = sweep.progress if sweep is not None else None
    if progress is None or not progress.done:
        return f"interrupted before any replication was saved; {RESUME_HINT}"
    return f"interrupted: {progress.done} of {progress.total} replications are saved; {RESUME_HINT}"


def _decomposition(plan: Plan, table: Any, results: dict[str, Any], output_dir: Path) -> dict[str, Any]:
    """Per metric, the decomposition of the study's combined change into its parts (and a CSV of it)."""
    parts = plan.experiment.report.decomposition
    if parts is None or any(v not in results for v in [plan.variants[0].name, parts.together, *parts.parts]):
        return {}
    from analysis.attribution import decompose  # noqa: PLC0415

    out = {
        metric: decompose(
            table, metric=metric, baseline=plan.variants[0].name, parts=parts.parts, together=parts.together
        )
        for metric in parts.metrics
    }
    rows = [frame.assign(metric=metric) for metric, frame in out.items()]
    if rows:
        import pandas as pd  # noqa: PLC0415

        pd.concat(rows).to_csv(output_dir / "decomposition.csv", index=False)
    return out


def _analyse_and_finish(
    plan: Plan,
    outcome: SweepOutcome,
    output_dir: Path,
    out: TextIO,
    *,
    executor: Executor,
    store: ResultStore | None,
    recorder: Any,
) -> Outcome:
    from analysis.compare import compare_to_baseline, replication_table, summarise  # noqa: PLC0415
    from analysis.groups import group_results  # noqa: PLC0415
    from analysis.selection import best_variant  # noqa: PLC0415
    from experiments.caveats import calibration_of  # noqa: PLC0415
    from experiments.html_report import write_report_html  # noqa: PLC0415
    from experiments.outputs import write_outputs  # noqa: PLC0415
    from experiments.recording import parent_metrics  # noqa: PLC0415
    from experiments.report import parent_note, report_lines  # noqa: PLC0415

    experiment = plan.experiment
    baseline = plan.variants[0].name
    results = {name: run.ordered() for name, run in outcome.runs.items() if run.error is None and run.results}
    table = replication_table(results)
    for key in experiment.grid:
        table[f"param.{key}"] = [plan.grid.get(v, {}).get(key) for v in table["variant"]]
    summary = summarise(table)
    comparison = compare_to_baseline(table, baseline) if baseline in results else table.iloc[0:0]
    report = experiment.report
    constraints = {k: (b.min, b.max) for k, b in report.constraints.items()}
    selection = best_variant(summary, report.objective, maximize=report.maximize, constraints=constraints)
    sensitivity = None
    if experiment.sensitivity.enabled:
        sensitivity = _sensitivity(plan, outcome, selection=selection, executor=executor, store=store, out=out)
    from experiments.studies import run_studies  # noqa: PLC0415

    studies = run_studies(plan, outcome, table, executor=executor, store=store, output_dir=output_dir)
    written = write_outputs(
        plan,
        outcome,
        table=table,
        summary=summary,
        comparison=comparison,
        selection=selection,
        sensitivity=sensitivity,
        output_dir=output_dir,
    )
    written.update(studies.written)
    failed = outcome.failed
    decomposition = _decomposition(plan, table, results, output_dir)
    groups = group_results(
        table,
        summary,
        report.groups,
        objective=report.objective,
        maximize=report.maximize,
        constraints=constraints,
    )
    calibrated = frozenset(
        (v.name, metric)
        for v in plan.variants
        for metric in experiment.report.metrics
        if calibration_of(v.config, metric) is not None
    )
    lines = report_lines(
        plan,
        summary,
        comparison,
        selection,
        outcome,
        sensitivity=sensitivity,
        decomposition=decomposition,
        calibrated=calibrated,
        groups=groups,
    )
    lines = [*lines, *studies.lines]
    report_html = write_report_html(
        plan,
        outcome,
        summary=summary,
        comparison=comparison,
        selection=selection,
        sensitivity=sensitivity,
        lines=lines,
        written=written,
        output_dir=output_dir,
        decomposition=decomposition,
        groups=groups,
        sections=studies.sections,
    )
    hint = None
    if recorder is not None:
        note = parent_note(plan, summary, comparison, selection, lines, groups=groups)
        recorder.finish(
            metrics={**parent_metrics(comparison, report.metrics, report.objective, selection.best), **studies.metrics},
            tags={
                "mlflow.note.content": note,
                "best_variant": selection.best or "none (no clear difference)",
                "failed_variants": str(len(failed)),
            },
            artifacts=[(output_dir, None)],
            status="FAILED" if failed else "FINISHED",
        )
        hint = recorder.tracker.ui_hint()
    print("", *lines, f"\nTables and plots: {output_dir}", f"Report: {report_html}", sep="\n", file=out)
    if hint:
        print(hint, file=out)
    result = Outcome(
        plan=plan,
        runs=outcome.runs,
        table=table,
        summary=summary,
        comparison=comparison,
        selection=selection,
        sensitivity=sensitivity,
        output_dir=output_dir,
        parent_run_id=recorder.parent_id if recorder is not None else None,
        ui_hint=hint,
    )
    if failed:
        details = "; ".join(f"{run.name!r}: {run.error}" for run in failed)
        raise VariantFailureError(
            f"{len(failed)} of {len(outcome.runs)} variants failed ({details}); "
            "the others are recorded" + (f" in MLflow run {result.parent_run_id}" if result.parent_run_id else "")
        )
    return result


def _sensitivity(
    plan: Plan,
    outcome: SweepOutcome,
    *,
    selection: Selection,
    executor: Executor,
    store: ResultStore | None,
    out: TextIO,
) -> pd.DataFrame | None:
    from experiments.scheduler import run_fixed  # noqa: PLC0415
    from experiments.sensitivity import probes, sensitivity_table  # noqa: PLC0415

    settings = plan.experiment.sensitivity
    name = selection.variant if settings.variant == "best" else settings.variant
    runs = outcome.runs
    baseline = plan.variants[0]
    if name is None or name not in runs or runs[name].error or runs[baseline.name].error:
        print(f"sensitivity: skipped (no usable variant {settings.variant!r})", file=out)
        return None
    target = runs[name].variant
    all_probes = probes(target, baseline, plan.ranges, settings.parameters)
    k = settings.replications
    distinct = {p.variant.name: p.variant for p in all_probes}  # an idle side appears once
    done = run_fixed(
        list(distinct.values()),
        seed=plan.experiment.seed,
        replications=k,
        executor=executor,
        store=store,
        label=f"{plan.experiment.name}: sensitivity",
    )
    probe_runs = {n: r.ordered() for n, r in done.runs.items() if r.error is None}
    default = (
        [runs[name].results[r] for r in range(k) if r in runs[name].results],
        [runs[baseline.name].results[r] for r in range(k) if r in runs[baseline.name].results],
    )
    if len(default[0]) < k or len(default[1]) < k:
        missing = Sweep(
            [target, baseline],
            seed=plan.experiment.seed,
            replications=k,
            adaptive=type(plan.experiment.adaptive)(),
            executor=executor,
            store=store,
        ).run()
        default = (missing.runs[target.name].ordered()[:k], missing.runs[baseline.name].ordered()[:k])
    return sensitivity_table(
        target, baseline, default=default, runs=probe_runs, all_probes=all_probes, metrics=settings.metrics
    )


def _ray_executor(config: RayConfig) -> Executor:
    from experiments.parallel import RayExecutor, ensure_ray  # noqa: PLC0415 - Ray only when running

    ensure_ray(config, watchdog=True)
    return RayExecutor()


def _event_log_paths(experiment: ExperimentConfig, output_dir: Path) -> Callable[[Variant, int], str | None] | None:
    if experiment.event_log == "none":
        return None
    from experiments.recording import safe_name  # noqa: PLC0415

    logs = output_dir / "event_logs"
    return lambda variant, r: str(logs / f"{safe_name(variant.name)}_rep{r:03d}.{experiment.event_log}")


def _parent_params(plan: Plan) -> dict[str, Any]:
    experiment = plan.experiment
    return {
        "experiment": experiment.name,
        "baseline": experiment.baseline,
        "replications": experiment.replications,
        "seed": experiment.seed,
        "variants": len(plan.variants),
        "grid": {k: list(v) for k, v in experiment.grid.items()},
        "overrides": list(plan.overrides),
        "adaptive": OmegaConf.to_container(OmegaConf.structured(experiment.adaptive)),
        "objective": experiment.report.objective,
        "constraints": {k: [b.min, b.max] for k, b in experiment.report.constraints.items()},
        "event_log": experiment.event_log,
    }
