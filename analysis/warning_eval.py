"""Warning rules scored on simulated worlds: detection delay after a shock, false alarms a year without one.

The rules and the indicators are the ones the simulation's playbooks use
(:mod:`salesboost.warnings`, :mod:`salesboost.indicators`), run here over the recorded
``market`` panel table of every replication. An alarm is raised at the end of the period
it reads; a shocked world's alarms before its shock are identical to the calm world's
(common random numbers) and count only there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats import wilson_interval
from salesboost.indicators import FACT_COLUMNS, Watch, series_for

ALARM_COLUMNS = ("variant", "replication", "rule", "team", "period_index", "period_start")


def _rows_by_team(frame: pd.DataFrame) -> dict[str, list[dict[str, float]]]:
    out: dict[str, list[dict[str, float]]] = {}
    ordered = frame.sort_values("period_start", kind="stable")
    for team, group in ordered.groupby("team", sort=False):
        values = group[list(FACT_COLUMNS)].astype(float).to_dict("records")
        out[str(team)] = values
    return out


def alarms(market: pd.DataFrame, rules: Mapping[str, Any]) -> pd.DataFrame:
    """Every alarm of every rule in every (variant, replication) of the stacked ``market`` table."""
    rows: list[tuple[object, ...]] = []
    for (variant, replication), run in market.groupby(["variant", "replication"], sort=False):
        starts = sorted(run["period_start"].unique())
        by_team = _rows_by_team(run)
        for name, rule in rules.items():
            for team, series in series_for(rule, by_team).items():
                watch = Watch(rule)
                for p, (value, n) in enumerate(series):
                    if watch.update(value, n):
                        rows.append((variant, replication, name, team, p, starts[p]))
    return pd.DataFrame(rows, columns=list(ALARM_COLUMNS))


def _months_between(a: str, b: str) -> int:
    """Whole calendar months from ISO date ``a`` to ``b``."""
    ya, ma = int(a[:4]), int(a[5:7])
    yb, mb = int(b[:4]), int(b[5:7])
    return (yb - ya) * 12 + (mb - ma)


def score(
    alarm_table: pd.DataFrame,
    market: pd.DataFrame,
    rules: Sequence[str],
    *,
    calm: str,
    shocks: Mapping[str, str],
    live_from: str,
    within_months: int = 6,
) -> pd.DataFrame:
    """Per rule: false alarms a year in the calm world, and per shock the detection share and delay.

    ``shocks`` maps a shocked variant to its shock's start (ISO date). False alarms count the
    calm variant's alarms in periods starting on or after ``live_from`` (after the rules'
    baseline), per year of those periods and replication, over all teams a rule watches. A
    shock is detected when the rule's first alarm on or after the start's month that the calm
    world of the same replication does not also raise (common random numbers: that alarm is
    the shock's doing) comes within ``within_months``; the delay is the months from the start
    to the end of the alarm's period (an alarm on the month of the start has delay 1: it is
    raised at that month's end). ``<shock>_already_on`` is the share of runs in which the rule
    was alarming (in the calm world, hence also the shocked one) in the ``within_months``
    before the start: a detection then tells a manager nothing new.
    """
    calm_runs = market[market["variant"] == calm]
    live = sorted(p for p in calm_runs["period_start"].unique() if p >= live_from)
    replications = calm_runs["replication"].nunique()
    years = len(live) / 12.0 * replications
    rows = []
    for rule in rules:
        mine = alarm_table[alarm_table["rule"] == rule]
        calm_alarms = mine[(mine["variant"] == calm) & (mine["period_start"] >= live_from)]
        row: dict[str, Any] = {
            "rule": rule,
            "false_alarms_per_year": len(calm_alarms) / years if years else math.nan,
            "years_watched": years,
            "calm_runs_with_alarm": calm_alarms["replication"].nunique() / replications if replications else math.nan,
        }
        calm_of = {
            r: set(zip(g["team"], g["period_start"], strict=True))
            for r, g in mine[mine["variant"] == calm].groupby("replication")
        }
        for variant, start in shocks.items():
            runs = market[market["variant"] == variant]["replication"].unique()
            month = start[:8] + "01"
            hit = mine[(mine["variant"] == variant) & (mine["period_start"] >= month)]
            delays = []
            already = 0
            for r in runs:
                twin = calm_of.get(r, set())
                already += any(0 < _months_between(p, month) <= within_months for _t, p in twin)
                own = hit[hit["replication"] == r]
                caused = [p for t, p in zip(own["team"], own["period_start"], strict=True) if (t, p) not in twin]
                if caused:
                    delay = _months_between(start, min(caused)) + 1
                    if delay <= within_months:
                        delays.append(delay)
            detected = len(delays)
            low, high = wilson_interval(detected, len(runs)) if len(runs) else (math.nan, math.nan)
            row[f"{variant}_detected"] = detected / len(runs) if len(runs) else math.nan
            row[f"{variant}_detected_low"] = low
            row[f"{variant}_detected_high"] = high
            row[f"{variant}_delay_months"] = float(np.median(delays)) if delays else math.nan
            row[f"{variant}_already_on"] = already / len(runs) if len(runs) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def recovery(
    table: pd.DataFrame, responses: Mapping[str, str], *, calm: str, metrics: Sequence[str] = ("net_profit", "revenue")
) -> pd.DataFrame:
    """Per playbook variant: what its shock cost against calm, what the playbook got back, and at what cost.

    Paired by replication (common random numbers): ``lost`` = mean(calm - shocked),
    ``recovered`` = mean(playbook - shocked), ``share`` = recovered / lost. ``table`` is the
    replication table (one row per variant and replication).
    """
    rows = []
    indexed = table.set_index(["variant", "replication"])
    for playbook, shocked in responses.items():
        row: dict[str, Any] = {"playbook": playbook, "shock": shocked}
        for metric in metrics:
            base = indexed.loc[calm, metric]
            hit = indexed.loc[shocked, metric]
            answer = indexed.loc[playbook, metric]
            common = base.index.intersection(hit.index).intersection(answer.index)
            lost = float((base[common] - hit[common]).mean())
            got = float((answer[common] - hit[common]).mean())
            sd = float((answer[common] - hit[common]).std(ddof=1)) if len(common) > 1 else math.nan
            row[f"{metric}_lost"] = lost
            row[f"{metric}_recovered"] = got
            row[f"{metric}_recovered_se"] = sd / math.sqrt(len(common)) if len(common) else math.nan
            row[f"{metric}_share"] = got / lost if lost else math.nan
        if "playbook_cost" in indexed.columns:
            row["playbook_cost"] = float(indexed.loc[playbook, "playbook_cost"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def switch_on_months(market: pd.DataFrame, variants: Sequence[str]) -> pd.DataFrame:
    """Per playbook variant and replication: the first period whose close found a playbook on (None: never)."""
    rows = []
    company = market[(market["team"] == "all") & market["variant"].isin(list(variants))]
    for (variant, replication), run in company.groupby(["variant", "replication"], sort=False):
        on = run[run["playbooks_on"].fillna(0) > 0]["period_start"]
        rows.append({"variant": variant, "replication": replication, "first_on": on.min() if len(on) else None})
    return pd.DataFrame(rows, columns=["variant", "replication", "first_on"])


def plot_scores(scores: pd.DataFrame, shocks: Sequence[str], path: Path) -> Path:
    """Per rule, false alarms a year (left) and the median detection delay per shock (right)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rules = list(scores["rule"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.45 * len(rules) + 1.8), sharey=True)
    y = np.arange(len(rules))
    left.barh(y, scores["false_alarms_per_year"], color="#c44e52")
    left.set_yticks(y, rules)
    left.invert_yaxis()
    left.set_xlabel("false alarms per year, calm world")
    height = 0.8 / max(1, len(shocks))
    for i, shock in enumerate(shocks):
        delays = scores[f"{shock}_delay_months"].to_numpy(dtype=float)
        detected = scores[f"{shock}_detected"].to_numpy(dtype=float)
        right.barh(y - 0.4 + height * (i + 0.5), np.nan_to_num(delays, nan=0.0), height=height, label=shock)
        for yy, d, s in zip(y - 0.4 + height * (i + 0.5), delays, detected, strict=True):
            right.text(
                (0 if math.isnan(d) else d) + 0.05, yy, f"{s:.0%}" if not math.isnan(s) else "", va="center", fontsize=6
            )
    right.set_xlabel("median months to the alarm (label: share of shocks detected in time)")
    right.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, path)


def plot_recovery(recovered: pd.DataFrame, path: Path) -> Path:
    """Per playbook, the share of its shock's net-profit loss it recovers (± 2 standard errors) and of revenue."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = list(recovered["playbook"])
    y = np.arange(len(names))
    lost = recovered["net_profit_lost"].to_numpy(dtype=float)
    share = recovered["net_profit_share"].to_numpy(dtype=float)
    error = 2.0 * recovered["net_profit_recovered_se"].to_numpy(dtype=float) / np.where(lost != 0, np.abs(lost), np.nan)
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(names) + 1.6))
    ax.barh(y - 0.2, share, height=0.4, xerr=error, color="#4c72b0", label="net profit (± 2 se)")
    ax.barh(y + 0.2, recovered["revenue_share"].to_numpy(dtype=float), height=0.4, color="#dd8452", label="revenue")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yticks(y, [f"{n}\n({s})" for n, s in zip(names, recovered["shock"], strict=True)], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of the shock's loss recovered (1 = all of it), paired by replication")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    from analysis.plots import save_png  # noqa: PLC0415

    return save_png(fig, path)
