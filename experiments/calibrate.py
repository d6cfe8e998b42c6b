"""Calibrate the legacy pipeline's behavioural parameters on observed funnel anchors.

    python -m experiments.calibrate [--anchors FILE] [--replications N] [--days D] [--check]
                                    [--fit-volume [ANCHOR]] [OVERRIDE ...]

Composes the default config with ``pipeline=legacy`` (and any Hydra overrides), then solves one
behavioural parameter per anchored figure so that the model's mean over ``N`` replications (common
seeds, so the model is a deterministic function of the parameters) hits the anchor's value:

- the channels' ``qualify_prob`` (one scale; the ratio referral / web from the data, event / web
  kept from the config because the data has no event leads) against lead -> qualified;
- the segments' ``accept_prob`` (one shift on the log-odds, keeping new below existing) against
  lead -> won;
- the median of ``market.decision_days`` (a lognormal; its cv held) against the median time to close;
- with ``--fit-volume [ANCHOR]``, ``market.leads_per_week`` against won deals per rep and month, or
  another anchor such as the approval time the legacy desk keeps (the volume is the company's own
  figure, so by default it stays as configured).

The parameters interact (slower decisions lose more deals to competitors), so the solver sweeps
them in turn (Gauss-Seidel, ``scipy.optimize.brentq`` per parameter) until they settle. It prints
the table (anchor, interval, model fit with its Monte Carlo interval) and a YAML snippet of the
calibrated values, and exits 0 only if every target (an anchor with a model metric and role
``target``, or the one the volume is fitted to) is inside its interval, 1 otherwise, 2 on bad
input. Anchors with role ``report`` are shown beside the model's figure and never fail.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.optimize import brentq
from scipy.special import expit, logit

from analysis.anchors import DEFAULT_ANCHORS, Anchor, AnchorError, load_anchors
from analysis.stats import mean_interval
from experiments.errors import describe_error, is_input_error

DEFAULT_SEED = 20240101
DAYS_PER_MONTH = 365.25 / 12
#: The anchor the lead volume is fitted to with ``--fit-volume``.
VOLUME_ANCHOR = "wins_per_rep_month"
DEFAULT_REPLICATIONS = 8
#: Histogram quantiles the anchors may name as ``<histogram>_p<percent>``.
QUANTILES = {"p25": 0.25, "p50": 0.5, "p75": 0.75}
HISTOGRAMS = ("lead_to_order_days",)


def legacy_sections(overrides: Sequence[str] = (), days: float | None = None) -> dict[str, Any]:
    """The scenario sections of the default config with ``pipeline=legacy`` and ``overrides``."""
    from experiments.compose import compose_config, scenario_sections  # noqa: PLC0415 (Hydra only when run)

    data = scenario_sections(compose_config(["pipeline=legacy", *overrides]))
    if days is not None:
        data["horizon"] = {**data["horizon"], "days": float(days)}
    return data


def model_figures(data: Mapping[str, Any], seed: int, replications: int) -> dict[str, list[float]]:
    """Per-replication model figures: ``RunResult.metrics`` plus histogram quantiles."""
    import sim  # noqa: PLC0415 (keeps `--help` and bad-input errors fast)
    from salesboost import Scenario  # noqa: PLC0415

    scenario = Scenario.from_dict(copy.deepcopy(dict(data)))
    reps = sum(int(n) for n in data["team"]["reps"].values())
    months = (float(data["horizon"]["days"]) - float(data["horizon"]["warmup_days"])) / DAYS_PER_MONTH
    out: dict[str, list[float]] = {}
    for r in range(replications):
        result = sim.run(scenario, seed, r)
        figures = dict(result.metrics)
        for name in HISTOGRAMS:
            hist = result.histograms.get(name)
            for suffix, q in QUANTILES.items():
                figures[f"{name}_{suffix}"] = hist.quantile(q) if hist is not None else math.nan
        figures.update(prospect_figures(result.panels.get("pipeline") if hasattr(result, "panels") else None, figures))
        figures["new_orders_per_rep_month"] = figures["new_orders"] / reps / months
        for k, v in figures.items():
            out.setdefault(k, []).append(float(v))
    return out


def prospect_figures(pipeline: Any, metrics: Mapping[str, float]) -> dict[str, float]:
    """Figures of the measured cohort's new prospects (segment ``new``), from the run's panel.

    The anchors are about marketing-qualified leads, i.e. new prospects; the run's totals also
    count existing accounts' repeat requests. Without a panel the totals stand in.
    """
    if pipeline is None:
        return {
            "new_leads": metrics["leads"],
            "new_orders": metrics["orders"],
            "new_lead_conversion_rate": metrics["lead_conversion_rate"],
            "new_qualification_rate": metrics["qualification_rate"],
        }
    cols = pipeline.columns
    keep = [i for i, (c, seg) in enumerate(zip(cols["cohort"], cols["segment"], strict=True)) if c and seg == "new"]
    leads, qualified, orders = (float(sum(cols[k][i] for i in keep)) for k in ("leads", "qualified", "orders"))
    return {
        "new_leads": leads,
        "new_orders": orders,
        "new_lead_conversion_rate": orders / leads if leads else math.nan,
        "new_qualification_rate": qualified / leads if leads else math.nan,
    }


def summarise(figures: Mapping[str, list[float]]) -> dict[str, float]:
    """Mean over replications of each figure."""
    return {k: float(np.mean(v)) for k, v in figures.items()}


# --- the knobs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """One behavioural parameter (a scalar ``x`` mapped onto config values) and its anchor."""

    name: str
    anchor: str
    low: float
    high: float
    get: Callable[[Mapping[str, Any]], float]
    put: Callable[[dict[str, Any], float], None]
    keys: Callable[[Mapping[str, Any]], dict[str, float]]


def _qualify_knob(data: Mapping[str, Any], anchors: Mapping[str, Anchor]) -> Knob:
    channels = data["market"]["channels"]
    base = {c: float(v["qualify_prob"]) for c, v in channels.items()}
    ref = "web" if "web" in base else next(iter(base))
    ratio = {c: base[c] / base[ref] for c in base}
    for c in base:  # the data's ratio where it observes the channel, the config's elsewhere
        a, b = anchors.get(f"lead_to_won.{c}"), anchors.get(f"lead_to_won.{ref}")
        if a is not None and b is not None and b.value > 0:
            ratio[c] = a.value / b.value

    def put(d: dict[str, Any], x: float) -> None:
        for c in base:
            d["market"]["channels"][c]["qualify_prob"] = x * ratio[c]

    def keys(d: Mapping[str, Any]) -> dict[str, float]:
        return {f"market.channels.{c}.qualify_prob": float(d["market"]["channels"][c]["qualify_prob"]) for c in base}

    return Knob(
        "qualify_prob scale", "lead_to_qualified", 1e-3, 1.0 / max(ratio.values()),
        lambda d: float(d["market"]["channels"][ref]["qualify_prob"]), put, keys,
    )  # fmt: skip


def _accept_knob(data: Mapping[str, Any]) -> Knob:
    base = {s: float(v["accept_prob"]) for s, v in data["market"]["segments"].items()}

    def put(d: dict[str, Any], x: float) -> None:
        for s, p in base.items():
            d["market"]["segments"][s]["accept_prob"] = float(expit(logit(p) + x))

    def get(d: Mapping[str, Any]) -> float:
        s = next(iter(base))
        return float(logit(d["market"]["segments"][s]["accept_prob"]) - logit(base[s]))

    def keys(d: Mapping[str, Any]) -> dict[str, float]:
        return {f"market.segments.{s}.accept_prob": float(d["market"]["segments"][s]["accept_prob"]) for s in base}

    return Knob("accept_prob log-odds shift", "lead_to_won", -5.0, 5.0, get, put, keys)


def _decision(d: Mapping[str, Any]) -> dict[str, Any]:
    return d["market"]["decision_days"]


def _lognormal_median(dist: Mapping[str, Any]) -> float:
    return float(dist["mean"]) / math.sqrt(1.0 + float(dist["cv"]) ** 2)


def _decision_keys(d: Mapping[str, Any]) -> dict[str, float]:
    return {f"market.decision_days.{k}": float(_decision(d)[k]) for k in ("mean", "cv")}


def _decision_median_knob() -> Knob:
    """The customer's median decision time (the lognormal's cv held), against median time to close."""

    def put(d: dict[str, Any], x: float) -> None:
        _decision(d)["mean"] = x * math.sqrt(1.0 + float(_decision(d)["cv"]) ** 2)

    return Knob(
        "decision_days median", "time_to_close_median", 0.5, 60.0, lambda d: _lognormal_median(_decision(d)), put,
        _decision_keys,
    )  # fmt: skip


def _volume_knob(base: float, anchor: str = VOLUME_ANCHOR) -> Knob:
    """Leads per week from new prospects, against ``anchor`` (by default won deals per rep and month)."""

    def put(d: dict[str, Any], x: float) -> None:
        d["market"]["leads_per_week"] = x

    def keys(d: Mapping[str, Any]) -> dict[str, float]:
        return {"market.leads_per_week": float(d["market"]["leads_per_week"])}

    return Knob(
        "leads_per_week",
        anchor,
        base / 8,
        base * 2,
        lambda d: float(d["market"]["leads_per_week"]),
        put,
        keys,
    )


def default_knobs(
    data: Mapping[str, Any], anchors: Mapping[str, Anchor], *, fit_volume: str | None = None
) -> list[Knob]:
    """The knobs whose anchor is a target in ``anchors``, in solving order.

    The lead volume is the company's own figure (from its CRM), so it is fitted only on request,
    against the anchor ``fit_volume`` names (won deals per rep and month, or the approval time
    the legacy desk must keep), which then counts as a target.
    """
    knobs = [_qualify_knob(data, anchors), _accept_knob(data)]
    if data["market"]["decision_days"].get("dist") == "lognormal":  # the median is the lognormal's
        knobs.append(_decision_median_knob())
    if fit_volume:  # last: the rates hardly depend on it until a queue saturates
        if fit_volume not in anchors or not anchors[fit_volume].metric:
            raise AnchorError(f"--fit-volume {fit_volume}: no such anchor with a model metric")
        knobs.append(_volume_knob(float(data["market"]["leads_per_week"]), fit_volume))
    wanted = {n for n, a in anchors.items() if a.metric and (a.role == "target" or n == fit_volume)}
    return [k for k in knobs if k.anchor in wanted]


# --- solving ----------------------------------------------------------------------------------


def solve(gap: Callable[[float], float], x0: float, low: float, high: float, probes: int = 6) -> tuple[float, bool]:
    """A root of ``gap`` in ``[low, high]`` next to ``x0``, and whether one was found.

    The model is monotone in each knob only locally (a queue that saturates turns more leads
    into fewer orders), and each evaluation is a batch of simulations. So the search starts at
    the current value, takes a secant step from a small probe, and widens the step (doubling,
    within the range) until the sign changes, in the secant's direction first and then in the
    other; ``brentq`` then solves inside that bracket. Without a sign change after ``probes`` steps
    each way the point nearest the target is returned.
    """
    x0 = min(max(x0, low), high)
    g0 = gap(x0)
    if g0 == 0:
        return x0, True
    best, g_best = x0, g0
    step = 0.05 * (high - low) if x0 in (low, high) else 0.1 * min(x0 - low, high - x0) or 0.05 * (high - low)
    x1 = x0 + step if x0 + step <= high else x0 - step
    g1 = gap(x1)
    if g1 * g0 <= 0:
        a, b = sorted((x0, x1))
        return float(brentq(gap, a, b, xtol=1e-3 * max(1.0, abs(x0)), rtol=1e-3, maxiter=40)), True
    if abs(g1) < abs(g_best):
        best, g_best = x1, g1
    slope = (g1 - g0) / (x1 - x0)
    # The secant's direction first, then the other (a flat or noisy stretch can point the wrong way).
    first = -math.copysign(1.0, g0 * slope) if slope != 0 else math.copysign(1.0, x1 - x0)
    for direction in (first, -first):
        end = high if direction > 0 else low
        guess = x0 - g0 / slope if slope != 0 else end
        ahead = slope != 0 and (guess - x0) * direction > 0
        dist = abs(guess - x0) if ahead and direction == first else abs(x1 - x0)
        start, g_start = x0, g0
        for _ in range(probes):
            x = min(max(start + direction * dist * 1.25, low), high)
            if x == start:
                break
            g = gap(x)
            if g * g_start <= 0:
                a, b = sorted((start, x))
                return float(brentq(gap, a, b, xtol=1e-3 * max(1.0, abs(x0)), rtol=1e-3, maxiter=40)), True
            if abs(g) < abs(g_best):
                best, g_best = x, g
            if x == end:
                break
            start, g_start, dist = x, g, dist * 2
    return best, False


@dataclass
class Calibration:
    """The calibrated sections, the solver's log and the final fit."""

    data: dict[str, Any]
    knobs: list[Knob]
    fit: dict[str, list[float]]
    evaluations: int
    at_bound: list[str]


def calibrate(
    data: Mapping[str, Any],
    anchors: Mapping[str, Anchor],
    *,
    seed: int = DEFAULT_SEED,
    replications: int = DEFAULT_REPLICATIONS,
    sweeps: int = 6,
    fit_volume: str | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Calibration:
    """Solve each knob for its anchor in turn until no parameter moves by more than 1%."""
    current = copy.deepcopy(dict(data))
    knobs = default_knobs(current, anchors, fit_volume=fit_volume)
    count = 0

    def model(metric: str, d: Mapping[str, Any]) -> float:
        nonlocal count
        count += 1
        return summarise(model_figures(d, seed, replications))[metric]

    at_bound: list[str] = []
    for sweep in range(sweeps):
        moved = 0.0
        at_bound = []
        for knob in knobs:
            anchor = anchors[knob.anchor]
            metric = anchor.metric or ""

            def gap(x: float, knob: Knob = knob, metric: str = metric, target: float = anchor.value) -> float:
                trial = copy.deepcopy(current)
                knob.put(trial, x)
                return model(metric, trial) - target

            before = knob.get(current)
            x, reached = solve(gap, before, knob.low, knob.high)
            if not reached:
                at_bound.append(knob.name)
            knob.put(current, x)
            moved = max(moved, abs(x - before) / max(abs(before), 1e-2))
            log(f"sweep {sweep + 1}: {knob.name} = {x:.4g} (for {knob.anchor} = {anchor.value:.4g})")
        if moved < 0.01:
            break
    fit = model_figures(current, seed, replications)
    return Calibration(current, knobs, fit, count, at_bound)


# --- reporting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One anchor against the model."""

    name: str
    anchor: Anchor
    model: float
    model_low: float
    model_high: float
    calibrated_by: str

    @property
    def inside(self) -> bool:
        """Whether the model's mean lies inside the anchor's interval."""
        return self.anchor.contains(self.model)

    @property
    def fails(self) -> bool:
        """A target outside its interval."""
        return self.anchor.role == "target" and not self.inside


def compare(anchors: Mapping[str, Anchor], figures: Mapping[str, list[float]], knobs: Sequence[Knob] = ()) -> list[Row]:
    """The anchors that name a model metric, each against the model's mean and t interval.

    An anchor a knob solves for counts as a target whatever its role.
    """
    by_anchor = {k.anchor: k.name for k in knobs}
    anchors = {n: replace(a, role="target") if n in by_anchor else a for n, a in anchors.items()}
    rows = []
    for name, a in anchors.items():
        if not a.metric:
            continue
        if a.metric not in figures:
            raise AnchorError(
                f"anchors.{name}.metric: the model has no figure {a.metric!r}; known: {', '.join(sorted(figures))}"
            )
        est = mean_interval(figures[a.metric])
        role = by_anchor.get(name, "check") if a.role == "target" else "report only"
        rows.append(Row(name, a, est.value, est.ci_low, est.ci_high, role))
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    """The comparison table."""
    head = ("anchor", "target", "95% interval", "model (95% MC)", "inside", "calibrated by")
    body = [
        (
            r.name,
            f"{r.anchor.value:.4g}",
            f"[{r.anchor.low:.4g}, {r.anchor.high:.4g}]",
            f"{r.model:.4g} [{r.model_low:.4g}, {r.model_high:.4g}]",
            ("yes" if r.inside else "NO") if r.anchor.role == "target" else ("yes" if r.inside else "no"),
            r.calibrated_by,
        )
        for r in rows
    ]
    table = [head, *body]
    widths = [max(len(t[i]) for t in table) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip() for t in table)


def calibrated_values(cal: Calibration) -> dict[str, float]:
    """Flat config keys and their calibrated values (rounded to 4 significant digits)."""
    out: dict[str, float] = {}
    for knob in cal.knobs:
        out.update({k: float(f"{v:.4g}") for k, v in knob.keys(cal.data).items()})
    return out


def nested(flat: Mapping[str, float]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *path, leaf = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Calibrate the legacy pipeline on an anchors file and report the fit."""
    parser = argparse.ArgumentParser(prog="python -m experiments.calibrate", description=main.__doc__)
    parser.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS, help="anchors YAML (default: %(default)s)")
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS, help="replications per evaluation")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="root seed (common to every evaluation)")
    parser.add_argument("--days", type=float, default=None, help="horizon.days (default: the config's)")
    parser.add_argument("--check", action="store_true", help="only compare the config as it is, do not solve")
    parser.add_argument(
        "--fit-volume",
        nargs="?",
        const=VOLUME_ANCHOR,
        default=None,
        metavar="ANCHOR",
        help=f"also fit market.leads_per_week, to ANCHOR (default {VOLUME_ANCHOR}; e.g. quote_approval_hours)",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. team.managers=3")
    args = parser.parse_args(argv)
    if args.replications < 2:
        print("error: --replications must be at least 2 (the fit's interval needs two)", file=sys.stderr)
        return 2
    try:
        anchors = load_anchors(args.anchors)
        data = legacy_sections(args.overrides, args.days)
        if args.check:
            knobs = default_knobs(data, anchors, fit_volume=args.fit_volume)
            cal = Calibration(data, knobs, model_figures(data, args.seed, args.replications), 1, [])
        else:
            cal = calibrate(
                data, anchors, seed=args.seed, replications=args.replications, fit_volume=args.fit_volume, log=print
            )
        rows = compare(anchors, cal.fit, cal.knobs)
    except AnchorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bad override or option: one line, as the main command gives
        if not is_input_error(exc):
            raise
        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return 2
    print()
    print(f"legacy pipeline, {args.replications} replications of seed {args.seed}, {cal.evaluations} model evaluations")
    print(format_rows(rows))
    for name in cal.at_bound:
        print(f"note: {name} stopped at the end of its range: its anchor is out of reach")
    print("\n# calibrated values (conf/market/baseline.yaml)")
    print(yaml.safe_dump(nested(calibrated_values(cal)), sort_keys=False).rstrip())
    print("# as overrides: " + " ".join(f"{k}={v}" for k, v in calibrated_values(cal).items()))
    outside = [r.name for r in rows if r.fails]
    if outside:
        print(f"outside their interval: {', '.join(outside)}")
        return 1
    print("every target is inside its interval")
    return 0


if __name__ == "__main__":
    sys.exit(main())
