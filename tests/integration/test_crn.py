"""Common random numbers keyed by entity: the same lead in every variant of a replication.

A lead is named by its source and number (``web-17``, ``A00042-1``) and draws everything it
can need from its source's streams, and each channel arrives on its own stream. So (a) two
variants that differ only in approval see the same leads with the same attributes and the
same call lengths; (b) raising one channel's volume leaves every other channel's leads as
they were, arrival instant included; (c) the paired interval of an uplift is narrower than
the one from independent streams.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from analysis.stats import paired_difference, paired_uplift
from salesboost import Scenario
from tests.support import sections

SEED = 20240404
ATTRIBUTES = ["lead_id", "region", "channel", "segment", "product"]


def read_log(path: Path) -> pd.DataFrame:
    """The event log with short names and times as UTC timestamps (microseconds, as stored)."""
    log = pd.read_parquet(path)
    return log.rename(
        columns={
            "concept:name": "activity",
            "org:resource": "resource",
            "start_timestamp": "start",
            "time:timestamp": "end",
        }
    )


def attributes(log: pd.DataFrame) -> pd.DataFrame:
    """One row per lead of a source that exists from the start: its id, attributes and arrival.

    Prospects and the initial accounts' requests (``A00042-1``) exist whatever happens; a won
    prospect's account (``web-17``) and its requests (``web-17-0``) exist only where it was won.
    """
    columns = ATTRIBUTES
    arrivals = log.loc[log["activity"] == "assign_lead", ["lead_id", "start"]].rename(columns={"start": "arrived"})
    leads = log[columns].drop_duplicates("lead_id").merge(arrivals, on="lead_id", how="left")
    initial = (leads["channel"] != "account") | leads["lead_id"].str.fullmatch(r"r\d+-A\d{5}-\d+")
    return leads[initial].sort_values("lead_id").reset_index(drop=True)


def run_logged(data: dict[str, Any], tmp_path: Path, name: str, replication: int = 0) -> pd.DataFrame:
    path = tmp_path / f"{name}.parquet"
    sim.run(Scenario.from_dict(data), SEED, replication, event_log=path, label=name)
    return read_log(path)


def always_open_legacy() -> dict[str, Any]:
    """The legacy pipeline on a 24/7 calendar without meetings or absences: a call's elapsed time is its work time."""
    data = sections("pipeline=legacy", "calendar=always_open")
    data["team"]["rep_time"].update(meetings=[], sick_days_per_year=0.0, leave_days_per_year=0.0)
    data["horizon"] = {"days": 35.0, "warmup_days": 0.0, "drain_days": 10.0}
    return data


def test_variants_that_differ_only_in_approval_see_the_same_leads(tmp_path):
    window = always_open_legacy()
    online = always_open_legacy()
    online["pipeline"]["approval"] = sections("pipeline=optimised")["pipeline"]["approval"]
    assert online["pipeline"]["approval"] != window["pipeline"]["approval"]
    logs = {"window": run_logged(window, tmp_path, "window"), "online": run_logged(online, tmp_path, "online")}
    a, b = attributes(logs["window"]), attributes(logs["online"])
    assert len(a) > 1000
    pd.testing.assert_frame_equal(a, b)  # the same leads, attributes and arrival instants
    # The same call lengths: a reaching call's work is contact_hours x the rep's speed, both the same
    # whenever the same rep makes it. A lead's call is the same in both variants, or its rep differs.
    calls = []
    for log in logs.values():
        rows = log.loc[log["activity"] == "first_contact"].copy()
        rows["hours"] = (rows["end"] - rows["start"]) / pd.Timedelta(hours=1)
        calls.append(rows.set_index("lead_id")[["resource", "hours"]])
    both = calls[0].join(calls[1], lsuffix="_w", rsuffix="_o", how="inner")
    same_rep = both[both["resource_w"] == both["resource_o"]]
    assert len(same_rep) > 0.9 * len(both) > 500
    pd.testing.assert_series_equal(same_rep["hours_w"], same_rep["hours_o"], check_names=False, atol=2e-6)
    # Approval did change something downstream, or the test would not say much.
    approvals = [(log["activity"] == "approve_quote").sum() for log in logs.values()]
    ends = [log.loc[log["activity"] == "approve_quote", "end"].sort_values().to_numpy() for log in logs.values()]
    assert approvals[0] > 50
    assert len(ends[0]) != len(ends[1]) or (ends[0] != ends[1]).any()


def raise_channel(data: dict[str, Any], channel: str, factor: float) -> dict[str, Any]:
    """``data`` with ``channel``'s lead rate times ``factor`` and every other channel's rate unchanged."""
    market = data["market"]
    total = market["leads_per_week"]
    rates = {name: c["share"] * total for name, c in market["channels"].items()}
    rates[channel] *= factor
    new_total = sum(rates.values())
    market["leads_per_week"] = new_total
    for name, c in market["channels"].items():
        c["share"] = rates[name] / new_total
    return data


def test_raising_one_channel_leaves_the_other_channels_leads_untouched(tmp_path):
    base = sections("pipeline=optimised")
    base["horizon"] = {"days": 42.0, "warmup_days": 0.0, "drain_days": 5.0}
    more = raise_channel(sections("pipeline=optimised"), "web", 1.6)
    more["horizon"] = base["horizon"]
    a = attributes(run_logged(base, tmp_path, "base"))
    b = attributes(run_logged(more, tmp_path, "more_web"))
    web_a, web_b = (x[x["channel"] == "web"] for x in (a, b))
    assert len(web_b) > 1.4 * len(web_a)  # web's volume did rise
    for channel in ("referral", "event", "account"):
        x = a[a["channel"] == channel].reset_index(drop=True)
        y = b[b["channel"] == channel].reset_index(drop=True)
        assert len(x) > 100, channel
        pd.testing.assert_frame_equal(x, y, obj=channel)
    # Web's own leads: the first ones keep their number and draws, so those present in both agree on
    # everything but the arrival instant (thinning at a higher rate moves every candidate).
    common = web_a.merge(web_b, on="lead_id", suffixes=("_a", "_b"))
    assert len(common) == len(web_a)
    for column in ("region", "segment", "product"):
        assert (common[f"{column}_a"] == common[f"{column}_b"]).all()


# -- (c) pairing narrows the interval ----------------------------------------------------------------

REPLICATIONS = 16
METRICS = ("orders", "revenue", "gross_profit")
# Independent half-width / paired half-width was 1.85-3.4 for these metrics over four seed sets
# (16 replications, 7-week window); it must be above this. (Mean first response pairs weakly,
# 1.1-1.3, because the legacy batch and the optimised CRM put different leads in the queue.)
MIN_NARROWING = 1.25


@pytest.fixture(scope="module")
def crn_runs() -> dict[str, dict[str, list[float]]]:
    def scenario(pipeline: str) -> Scenario:
        data = sections(f"pipeline={pipeline}")
        data["horizon"] = {"days": 49.0, "warmup_days": 7.0, "drain_days": 30.0}
        return Scenario.from_dict(data)

    legacy, optimised = scenario("legacy"), scenario("optimised")
    runs = {
        "legacy": [sim.run(legacy, SEED, r) for r in range(REPLICATIONS)],
        "optimised": [sim.run(optimised, SEED, r) for r in range(REPLICATIONS)],
        # Independent streams: another seed, so replication r shares nothing with legacy's r.
        "independent": [sim.run(optimised, SEED + 1, r) for r in range(REPLICATIONS)],
    }
    return {name: {m: [r.metrics[m] for r in results] for m in METRICS} for name, results in runs.items()}


@pytest.mark.parametrize("metric", METRICS)
def test_paired_interval_is_narrower_than_with_independent_streams(crn_runs, metric):
    paired = paired_difference(crn_runs["optimised"][metric], crn_runs["legacy"][metric])
    independent = paired_difference(crn_runs["independent"][metric], crn_runs["legacy"][metric])
    assert independent.half_width > MIN_NARROWING * paired.half_width, (paired, independent)


def test_paired_uplift_of_revenue_is_narrower_than_with_independent_streams(crn_runs):
    paired = paired_uplift(crn_runs["optimised"]["revenue"], crn_runs["legacy"]["revenue"])
    independent = paired_uplift(crn_runs["independent"]["revenue"], crn_runs["legacy"]["revenue"])
    assert paired.ci_low < paired.value < paired.ci_high
    assert paired.ci_low > 0  # the optimised pipeline's revenue uplift is resolved
    assert independent.half_width > MIN_NARROWING * paired.half_width


def test_touches_leave_an_accounts_own_purchase_timing_alone(monkeypatch):
    """Outreach adds requests to an account; the account's own requests keep their times.

    Accounts won during the run time their repeat purchases from their own stream; a request a
    touch made draws from another, so with and without outreach an account won at the same time
    buys again at the same times, until it leaves (a service touch may keep it longer: that is
    the policy's effect, and the prefix compared stops there).
    """
    from sim.customers import AccountBase

    times: dict[str, list[float]] = {}
    own_request = AccountBase.new_account_request

    def recorded(self: AccountBase, account: Any, t: float) -> tuple[float, ...]:
        times.setdefault(account.id, []).append(t)
        return own_request(self, account, t)

    monkeypatch.setattr(AccountBase, "new_account_request", recorded)

    def own_requests(*overrides: str) -> dict[str, list[float]]:
        times.clear()
        data = sections("experiment=channel_mix", "pipeline=optimised", *overrides)
        data["horizon"] = {"days": 200.0, "warmup_days": 28.0, "drain_days": 30.0}
        sim.run(Scenario.from_dict(data), 1, 0)
        return {k: v for k, v in times.items() if not k.startswith("A")}  # won during the run

    quiet = own_requests("outreach.strategy=off")
    touched = own_requests(
        "outreach.strategy=uniform", "outreach.budget_per_month=6000", "outreach.rep_hours_per_month=160"
    )
    paired = [k for k in set(quiet) & set(touched) if quiet[k][0] == touched[k][0]]
    assert len(paired) >= 10, "too few accounts won at the same time in both: the test would prove nothing"
    compared = [k for k in paired if min(len(quiet[k]), len(touched[k])) >= 2]
    assert compared
    for k in compared:
        n = min(len(quiet[k]), len(touched[k]))
        assert quiet[k][:n] == touched[k][:n], k


def test_a_seats_luck_for_one_purpose_is_the_same_under_every_scheme(monkeypatch):
    """Under a scorecard with a timeliness floor, reps draw whether to game first touches; under
    commission they never do. The seat's development calls and prospecting draw the same numbers
    under both (each purpose has its own stream), so the schemes are compared on the same luck."""
    from sim.agents import incentive_desk

    drawn: dict[str, list[float]] = {}

    class Recorded:
        def __init__(self, rng: Any, purpose: str) -> None:
            self._rng, self._purpose = rng, purpose

        def random(self, *size: int) -> Any:
            return self._keep(self._rng.random(*size))

        def poisson(self, lam: float) -> Any:
            return self._keep(self._rng.poisson(lam))

        def _keep(self, value: Any) -> Any:
            drawn.setdefault(self._purpose, []).extend(pd.Series(value, dtype=float).tolist())
            return value

    init = incentive_desk.IncentiveDesk.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._development_rngs[0] = Recorded(self._development_rngs[0], "development")
        self._prospect_rngs[0] = Recorded(self._prospect_rngs[0], "prospects")

    monkeypatch.setattr(incentive_desk.IncentiveDesk, "__init__", recording_init)
    runs = {}
    for scheme in ("commission", "scorecard"):
        drawn.clear()
        data = sections("experiment=incentive_schemes", "pipeline=optimised", f"incentive={scheme}")
        data["horizon"] = {"days": 120.0, "warmup_days": 28.0, "drain_days": 30.0}
        sim.run(Scenario.from_dict(data), 1, 0)
        runs[scheme] = dict(drawn)
    for purpose in ("development", "prospects"):
        a, b = runs["commission"].get(purpose, []), runs["scorecard"].get(purpose, [])
        assert min(len(a), len(b)) >= 5, (purpose, len(a), len(b))
        n = min(len(a), len(b))
        assert a[:n] == b[:n], purpose
