"""``experiment=customer_tiers``: a company's own customers in the plan's tiers, beside the purchase model.

    salesboost experiment=customer_tiers customers.transactions=PATH [customers.as_of=YYYY-MM-DD]
               [customers.columns.customer=NAME customers.columns.date=NAME customers.columns.amount=NAME]

Reads and checks the transactions file (a bad row ends the job with one line naming the file and
the row, exit status 2, nothing written or recorded), puts every customer in a tier as of
``as_of`` (:mod:`salesboost.tiers`), fits the BG/NBD purchase model (and gamma-gamma spend when
there are amounts) by maximum likelihood, and checks its prediction on the transactions after
``as_of``. Writes ``customers.csv``, ``tiers_summary.csv``, ``btyd.json``, ``holdout.csv`` and the
plots into the output directory, then records one MLflow run with the same files, the
parameters and the headline figures, whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from omegaconf import DictConfig

from experiments.compose import customers_of, experiment_of, tracking_of
from experiments.config import CustomersConfig, TrackingConfig
from salesboost.errors import ConfigError
from salesboost.tiers import TierConfig

if TYPE_CHECKING:
    from analysis.customer_base import CustomerBase


def run(cfg: DictConfig, output_dir: Path, stream: TextIO | None = None) -> CustomerBase:
    """Run the job of the composed config ``cfg``; return what it found."""
    from analysis.customer_base import analyse  # noqa: PLC0415 - pandas, scipy: not for --help

    out = stream if stream is not None else sys.stdout
    experiment = experiment_of(cfg)
    tracking = tracking_of(cfg)
    customers = customers_of(cfg)
    tiers = TierConfig.from_dict(customers.tiers, where="customers.tiers")
    if tracking.enabled:  # before any output is written, as the study's pre-flight does
        from experiments.services import check_tracking_uri  # noqa: PLC0415 - network checks: not for --help

        check_tracking_uri(tracking.uri)
    started = time.perf_counter()
    started_ms = int(time.time() * 1000)
    path, tx, as_of = _load(customers)
    try:
        base = analyse(tx, as_of=as_of, tiers=tiers, holdout_days=customers.holdout_days)
    except ValueError as error:
        key, _, problem = str(error).partition(": ")
        raise ConfigError(key if key.startswith("customers.") else "customers.transactions", problem or key) from None
    files = _write(base, output_dir)
    recorded = (
        _record(tracking, experiment.name, base, _params(base, customers, tiers, path), files, started_ms=started_ms)
        if tracking.enabled
        else None
    )
    print(_summary(base, path, output_dir, recorded, time.perf_counter() - started), file=out)
    return base


def fitted_purchase(customers: CustomersConfig) -> dict[str, Any]:
    """``accounts.purchase`` for the BG/NBD fitted to the company's transactions (``customers.base=fitted``).

    The same fit as this job's (every customer, up to ``as_of``), in the units the simulation
    reads (days).
    """
    from analysis import btyd  # noqa: PLC0415 - scipy: only when asked for
    from analysis.transactions import rfm_table  # noqa: PLC0415

    _, tx, as_of = _load(customers)
    try:
        snapshot = tx["date"].max() if as_of is None else as_of
        rfm = rfm_table(tx, snapshot)
        fit = btyd.fit_bgnbd(*(rfm[c].to_numpy(dtype=float) for c in ("x", "t_x", "T")))
    except ValueError as error:
        raise ConfigError("customers.base", f"fitted: {error}") from None
    p = fit.params
    return {"model": "bgnbd", "r": p.r, "alpha_days": p.alpha, "a": p.a, "b": p.b}


def _load(customers: CustomersConfig) -> tuple[Path, Any, dt.date | None]:
    """The transactions file, its rows (a bad row: one ConfigError line) and the snapshot date."""
    from analysis.transactions import Columns, TransactionsError, read_transactions  # noqa: PLC0415 - pandas

    path = _transactions_path(customers)
    as_of = _as_of(customers.as_of)
    names = customers.columns
    columns = Columns(customer=names.customer, date=names.date, amount=names.amount)
    try:
        return path, read_transactions(path, columns, where="customers.columns"), as_of
    except TransactionsError as error:
        raise ConfigError("customers.transactions", str(error)) from None


def _transactions_path(customers: CustomersConfig) -> Path:
    if not customers.transactions:
        raise ConfigError(
            "customers.transactions", "give the CSV or Parquet file of transactions (one row per transaction)"
        )
    path = Path(customers.transactions).expanduser()
    if not path.is_file():
        raise ConfigError("customers.transactions", f"no such file: {path}")
    return path


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError("customers.as_of", f"expected a date YYYY-MM-DD, got {value!r}") from None


def _write(base: CustomerBase, output_dir: Path) -> list[Path]:
    """Write every output into ``output_dir``, through a scratch folder so that a failure leaves none."""
    from analysis.customer_plots import write_customer_plots  # noqa: PLC0415 - matplotlib

    output_dir.mkdir(parents=True, exist_ok=True)
    scratch = output_dir / ".customer_tiers.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        base.customers.to_csv(scratch / "customers.csv", index=False)
        base.summary_table.to_csv(scratch / "tiers_summary.csv", index=False)
        (scratch / "btyd.json").write_text(json.dumps(base.model_json(), indent=2, default=_json_default) + "\n")
        if base.holdout is not None:
            base.holdout.customers.to_csv(scratch / "holdout.csv", index=False)
        write_customer_plots(base, scratch)
        files = []
        for item in sorted(scratch.iterdir()):
            target = output_dir / item.name
            item.replace(target)
            files.append(target)
        return files
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _record(
    tracking: TrackingConfig,
    name: str,
    base: CustomerBase,
    params: dict[str, Any],
    files: list[Path],
    *,
    started_ms: int,
) -> tuple[str, str]:
    """One MLflow run with the parameters, headline figures and files; closed FINISHED, or FAILED on error.

    Returns the run's id and how to look at it in the MLflow UI.
    """
    from experiments.locks import deferred_interrupts  # noqa: PLC0415
    from experiments.recording import columns_view, view_tags  # noqa: PLC0415 - mlflow
    from experiments.tracking import git_commit, log_values, open_tracker  # noqa: PLC0415

    tracker = open_tracker(tracking, name)
    client = tracker.client
    # The runs table opens on the snapshot, the tier shares and the held-out error.
    columns = ["params.`as_of`", "metrics.`customers`"]
    columns += [f"metrics.`tier_share/{tier}`" for tier in base.summary.counts]
    columns += ["metrics.`holdout/predicted_mae`", "metrics.`holdout/predicted_total_error`"]
    for tag, value in view_tags(columns_view(columns)).items():
        client.set_experiment_tag(tracker.experiment_id, tag, value)
    tags = {
        "salesboost.kind": "customer_tiers",
        "git_commit": git_commit(),
        "mlflow.runName": f"tiers {base.as_of.date()}",
    }
    with deferred_interrupts():  # the run is written whole: a Ctrl-C waits for it
        run = client.create_run(tracker.experiment_id, start_time=started_ms, tags=tags)
        run_id = str(run.info.run_id)
        try:
            log_values(client, run_id, params, _metrics(base), {}, now=int(time.time() * 1000))
            for file in files:
                client.log_artifact(run_id, str(file))
        except BaseException:
            client.set_terminated(run_id, "FAILED")
            raise
        client.set_terminated(run_id, "FINISHED")
    return run_id, tracker.ui_hint()


def _params(base: CustomerBase, customers: CustomersConfig, tiers: TierConfig, path: Path) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return {
        "transactions": str(path),
        "transactions_sha256": digest,
        "as_of": base.as_of.date().isoformat(),
        "columns": f"{customers.columns.customer},{customers.columns.date},{customers.columns.amount or '-'}",
        "window_days": tiers.window_days,
        "precedence": ",".join(tiers.precedence),
        "residual": tiers.residual,
        "holdout_days": base.holdout.days if base.holdout is not None else "none",
    }


def _metrics(base: CustomerBase) -> dict[str, float]:
    summary = base.summary
    metrics: dict[str, float] = {"customers": float(summary.total), "transactions": float(base.transactions)}
    for tier, count in summary.counts.items():
        metrics[f"tier_count/{tier}"] = float(count)
        metrics[f"tier_share/{tier}"] = summary.shares[tier]
    for gap, count in summary.gap_counts.items():
        metrics[f"gap_count/{gap}"] = float(count)
    fit = base.purchase_model
    if fit is not None:
        for key, value in fit.params.to_dict().items():
            metrics[f"bgnbd/{key}"] = value
            metrics[f"bgnbd/{key}_se"] = fit.standard_errors[key]
        metrics["bgnbd/log_likelihood"] = fit.log_likelihood
    if base.holdout is not None:
        for key, value in base.holdout.metrics.items():
            metrics[f"holdout/{key}"] = value
    return metrics


def _summary(base: CustomerBase, path: Path, output_dir: Path, recorded: tuple[str, str] | None, seconds: float) -> str:
    summary = base.summary
    lines = [
        f"customer_tiers: {path.name}, {base.transactions:,} transactions, {summary.total:,} customers as of "
        f"{base.as_of.date()} ({seconds:.1f} s)"
    ]
    width = max(len(t) for t in summary.counts)
    for tier, count in summary.counts.items():
        revenue = "" if summary.revenue_shares is None else f", {summary.revenue_shares[tier]:.0%} of revenue"
        lines.append(f"  {tier:<{width}}  {count:>7,}  {summary.shares[tier]:6.1%}{revenue}")
    gaps = ", ".join(f"{g.split('_')[0]} {n:,}" for g, n in summary.gap_counts.items() if n)
    overlaps = ", ".join(f"{a}&{b} {n:,}" for (a, b), n in summary.overlap_counts.items() if n)
    lines.append(f"  in the rules' gaps: {gaps or 'none'}; meeting two rules: {overlaps or 'none'}")
    if not summary.monetary_known:
        lines.append("  no amount column: M conditions not applied, no expected value (columns.amount=NAME to add)")
    fit = base.purchase_model
    if fit is None:
        lines.append(f"  {base.model_note}")
    else:
        estimates = ", ".join(f"{k} {v:.3g} +- {fit.standard_errors[k]:.2g}" for k, v in fit.params.to_dict().items())
        lines.append(f"  BG/NBD (days): {estimates}; log-likelihood {fit.log_likelihood:,.1f}")
        lines.append(_holdout_line(base))
    lines.append(f"  outputs: {output_dir}" + (f"; MLflow run {recorded[0]}" if recorded else ""))
    if recorded:
        lines.append(f"  {recorded[1]}")
    return "\n".join(lines)


def _holdout_line(base: CustomerBase) -> str:
    if base.holdout is None:
        return "  held-out check: no transactions after as_of (set customers.as_of earlier to have one)"
    m = base.holdout.metrics
    return (
        f"  held-out {base.holdout.days} days: {m['actual_total']:,.0f} purchases, "
        f"predicted {m['predicted_total']:,.0f} ({m['predicted_total_error']:+.1%}); "
        f"per customer MAE {m['predicted_mae']:.2f}, RMSE {m['predicted_rmse']:.2f} "
        f"(naive past-rate forecast: MAE {m['naive_mae']:.2f}, total {m['naive_total_error']:+.1%})"
    )
