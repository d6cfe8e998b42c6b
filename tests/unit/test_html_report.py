"""report.html from real (small) experiments: self-contained, complete and true to the tables.

Two experiments run in-process once per module (no Ray, no MLflow): the default study with a
short sensitivity analysis, and a 2 x 2 approval-capacity grid with its SLA constraint. The
page is parsed with the standard library's HTML parser and compared with the tables the
experiment produced.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from experiments.app import Outcome, execute
from experiments.caveats import CALIBRATIONS, calibration_of, sensitivity_metric, swings
from experiments.html_report import write_report_html
from experiments.parallel import LocalExecutor
from experiments.report import fmt, pct, report_lines, stability_warnings
from tests.conftest import small_plan

_VOID = {"meta", "img", "br", "wbr", "hr", "input", "link", "source", "col"}


class _Page(HTMLParser):
    """Tags, attributes, text and tables (as rows of cell texts) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self._answer: list[str] | None = None
        self.answer = ""

    def _separate(self, tag: str) -> None:
        """Text of different elements is separate words; ``<wbr>`` only marks where a line may break."""
        if tag != "wbr":
            for part in (self._cell, self._heading, self._answer):
                if part is not None:
                    part.append(" ")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, k, v or "") for k, v in attrs]
        self._separate(tag)
        if tag in _VOID:
            return
        self.open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h2", "h3"):
            self._heading = []
        elif tag == "div" and any(k == "class" and "answer" in (v or "").split() for k, v in attrs):
            self._answer = []

    def handle_endtag(self, tag: str) -> None:
        self._separate(tag)
        if tag in _VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.unbalanced.append(tag)
            return
        self.open.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None
        elif tag == "div" and self._answer is not None and "div" not in self.open[-1:]:
            self.answer = " ".join("".join(self._answer).split())
            self._answer = None

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("style", "title"):
            return
        self.text.append(data)
        for part in (self._cell, self._heading, self._answer):
            if part is not None:
                part.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _written(output_dir: Path) -> dict[str, Path]:
    """What ``write_outputs`` wrote: the files of the output directory but the child runs' own plots."""
    files = {str(p.relative_to(output_dir)): p for p in sorted(output_dir.rglob("*")) if p.is_file()}
    return {n: p for n, p in files.items() if p.suffix != ".png" or n.startswith("plots/")}


@dataclasses.dataclass(frozen=True)
class _Ran:
    """An executed experiment, what it printed and its MLflow store (None: not tracked)."""

    outcome: Outcome
    printed: str
    uri: str | None


def _run(tmp: Path, *overrides: str, uri: str | None = None) -> _Ran:
    tracking = [f"tracking.uri={uri}"] if uri else []
    plan = small_plan("experiment.cache=false", *tracking, *overrides)
    out = io.StringIO()
    outcome = execute(plan, tmp / "out", out, executor=LocalExecutor())
    return _Ran(outcome, out.getvalue(), uri)


@pytest.fixture(scope="module")
def default_ran(tmp_path_factory: pytest.TempPathFactory) -> _Ran:
    """The default study (legacy vs optimised) with a short sensitivity analysis, recorded in MLflow."""
    tmp = tmp_path_factory.mktemp("default")
    return _run(
        tmp,
        # Eight replications and the revenue objective: optimised's revenue is then clearly ahead at
        # this short horizon (a replication's revenue varies by about 25%).
        "experiment.replications=8",
        "experiment.report.objective=revenue",
        "experiment.sensitivity.replications=2",
        "experiment.sensitivity.parameters=[behaviour.speed_to_lead.beta,behaviour.loss_hazard_per_day]",
        uri=f"sqlite:///{tmp / 'mlflow.db'}",
    )


@pytest.fixture(scope="module")
def default_run(default_ran: _Ran) -> Outcome:
    """The outcome of the default study."""
    return default_ran.outcome


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """approval_capacity on a 2 x 2 grid: five variants, an SLA constraint, no sensitivity."""
    return _run(
        tmp_path_factory.mktemp("grid"),
        "experiment=approval_capacity",
        "experiment.replications=3",
        "++experiment.grid={team.managers:[1,2],pipeline.approval.escalate_after_hours:[0.5,2.0]}",
        "experiment.report.metrics=[approval_sla_breach_rate,team_cost]",  # fewer plots: a faster test
    ).outcome


def _rewrite(run: Outcome, tmp: Path, **changes: Any) -> str:
    """report.html of ``run`` written again into ``tmp`` with some inputs replaced; its text."""
    outcome = changes.pop("outcome", None) or _sweep_outcome(run)
    args: dict[str, Any] = {
        "summary": run.summary,
        "comparison": run.comparison,
        "selection": run.selection,
        "sensitivity": run.sensitivity,
        "lines": [],
        "written": _written(run.output_dir),
        "output_dir": tmp,
        **changes,
    }
    return write_report_html(run.plan, outcome, **args).read_text(encoding="utf-8")


def _sweep_outcome(run: Outcome) -> Any:
    from experiments.scheduler import SweepOutcome

    return SweepOutcome(runs=run.runs)


def _page(run: Outcome) -> tuple[str, _Page]:
    text = (run.output_dir / "report.html").read_text(encoding="utf-8")
    return text, _parse(text)


# --- self-contained and well formed ------------------------------------------------------------


@pytest.mark.parametrize("which", ["default_run", "grid_run"])
def test_the_page_refers_to_nothing_outside_itself(which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(which)
    text, page = _page(run)
    assert page.unbalanced == [], "every element is closed in order"
    assert page.open == []
    links = [(tag, k, v) for tag, k, v in page.attributes if k in ("src", "href", "srcset", "data", "action")]
    assert links, "the plots are images"
    assert all(v.startswith(("data:", "#")) for _, _, v in links), [v[:60] for _, _, v in links]
    tags = {tag for tag, _, _ in page.attributes} | set(re.findall(r"<\s*([a-zA-Z]+)", text))
    assert not tags & {"script", "link", "iframe", "object", "embed"}
    assert not re.search(r"https?://", text), "no external reference of any kind"
    assert "@import" not in text
    assert not re.search(r"url\((?!['\"]?data:)", text)


@pytest.mark.parametrize("which", ["default_run", "grid_run"])
def test_every_plot_is_embedded(which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(which)
    text, page = _page(run)
    plots = {n: p for n, p in _written(run.output_dir).items() if p.suffix == ".png"}
    assert len(plots) >= 8
    sources = [v for tag, k, v in page.attributes if tag == "img" and k == "src"]
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in sources}
    for name, path in plots.items():
        assert path.read_bytes() in embedded, name
        assert name in text, f"the caption names {name}"
    assert len(sources) == len(plots)


# --- the figures ------------------------------------------------------------------------------


def _cell(row: list[str], header: list[str], column: str) -> str:
    return row[header.index(column)]


def test_the_headline_table_shows_each_mean_interval_and_change(default_run: Outcome) -> None:
    _, page = _page(default_run)
    run = default_run
    table = next(t for t in page.tables if t and t[0] and t[0][0] == "metric")
    header = [re.sub(r"\s*(baseline|chosen)$", "", h).strip() for h in table[0]]
    rows = {r[0].split()[0]: r for r in table[1:]}
    assert list(rows) == list(run.plan.experiment.report.metrics)
    s = run.summary.set_index(["variant", "metric"])
    c = run.comparison.set_index(["variant", "metric"])
    for metric, row in rows.items():
        for variant in ("legacy", "optimised"):
            e = s.loc[(variant, metric)]
            cell = _cell(row, header, variant)
            assert cell.startswith(fmt(e["mean"])), (metric, variant, cell)
            assert cell.endswith(f"[{fmt(e['ci_low'])}, {fmt(e['ci_high'])}]"), (metric, variant, cell)
        d = c.loc[("optimised", metric)]
        cell = _cell(row, header, "optimised vs legacy")
        assert cell.startswith(pct(d["uplift"])), (metric, cell)
        assert cell.endswith(f"[{pct(d['uplift_ci_low'])}, {pct(d['uplift_ci_high'])}]"), (metric, cell)
        assert "%" in cell


def test_a_sweep_has_one_row_per_variant_with_the_objective_and_constraint(grid_run: Outcome) -> None:
    _, page = _page(grid_run)
    run = grid_run
    report = run.plan.experiment.report
    table = next(t for t in page.tables if t and t[0][:2] == ["variant", "n"])
    header = table[0]
    assert header[2:4] == [report.objective, *report.constraints]
    names = [v.name for v in run.plan.variants]
    assert len(table) - 1 == len(names) == 5
    s = run.summary.set_index(["variant", "metric"])
    c = run.comparison.set_index(["variant", "metric"])
    for name, row in zip(names, table[1:], strict=True):
        assert row[0].startswith(name)
        for metric in (report.objective, *report.constraints):
            e = s.loc[(name, metric)]
            assert _cell(row, header, metric) == f"{fmt(e['mean'])} [{fmt(e['ci_low'])}, {fmt(e['ci_high'])}]"
        change = row[-1]
        if name == run.plan.experiment.baseline:
            assert change == "baseline", "the baseline's own change is shown as such, never NaN"
        else:
            d = c.loc[(name, report.objective)]
            assert change == f"{pct(d['uplift'])} [{pct(d['uplift_ci_low'])}, {pct(d['uplift_ci_high'])}]"
    assert "nan" not in " ".join(" ".join(r) for r in table).lower()


def test_the_variants_table_shows_overrides_and_grid_values(grid_run: Outcome) -> None:
    _, page = _page(grid_run)
    table = next(t for t in page.tables if t and t[0][:2] == ["variant", "overrides"])
    rows = {r[0].split()[0]: r for r in table[1:]}
    assert "pipeline=legacy" in rows["legacy"][1]
    grid = grid_run.plan.grid
    for name, values in grid.items():
        row = rows[name]
        assert "pipeline=optimised" in row[1]
        assert row[2] == f"{values['team.managers']:g}"
        assert row[3] == f"{values['pipeline.approval.escalate_after_hours']:g}"
        assert "team.managers=" not in row[1], "grid values are columns, not repeated as overrides"


# --- the decision -----------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["default_run", "grid_run"])
def test_the_answer_is_the_selections_own_words(which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(which)
    _, page = _page(run)
    assert run.selection is not None
    assert run.selection.describe() in page.answer
    assert page.headings.index("The question") < page.headings.index("The answer")


def test_rejected_variants_are_listed_with_their_reason(grid_run: Outcome) -> None:
    _, page = _page(grid_run)
    selection = grid_run.selection
    assert selection is not None
    assert selection.rejected, "legacy breaches the SLA"
    table = next(t for t in page.tables if t and t[0] == ["variant", "why"])
    assert {r[0]: r[1] for r in table[1:]} == selection.rejected


def test_when_no_variant_qualifies_the_page_says_so(grid_run: Outcome, tmp_path: Path) -> None:
    selection = grid_run.selection
    assert selection is not None
    none = dataclasses.replace(
        selection, variant=None, feasible=[], rejected={**selection.rejected, **dict.fromkeys(selection.feasible, "x")}
    )
    page = _parse(_rewrite(grid_run, tmp_path, selection=none))
    assert none.describe() in page.answer
    classes = [v for _, k, v in page.attributes if k == "class"]
    assert "tag best" not in classes, "no variant is marked as chosen"
    assert "answer unclear" in classes


def test_no_variant_is_called_chosen_without_a_clear_difference(default_run: Outcome, tmp_path: Path) -> None:
    selection = default_run.selection
    assert selection is not None
    assert selection.clear, "optimised is clearly ahead of legacy"
    unclear = dataclasses.replace(selection, tied=["legacy"])
    assert "No clear difference" in unclear.describe()
    page = _parse(_rewrite(default_run, tmp_path, selection=unclear))
    assert unclear.describe() in page.answer
    classes = [v for _, k, v in page.attributes if k == "class"]
    assert "tag best" not in classes
    assert "answer unclear" in classes
    assert "No clear difference among these 2 variants" in page.headings
    table = next(t for t in page.tables if t and t[0][0] == "variant" and t[0][1] == "revenue")
    assert [r[0] for r in table[1:]] == ["optimised", "legacy"]


def test_the_word_constraints_appears_only_when_constraints_are_set(default_run: Outcome, grid_run: Outcome) -> None:
    assert not default_run.plan.experiment.report.constraints
    _, page = _page(default_run)
    assert "constraint" not in " ".join(page.text).lower()
    _, grid_page = _page(grid_run)
    assert "Constraints" in " ".join(grid_page.text)


# --- the caveats ------------------------------------------------------------------------------


def test_calibrated_figures_are_marked_and_listed(default_run: Outcome) -> None:
    _, page = _page(default_run)
    body = " ".join(" ".join(page.text).split())
    assert "Calibrated inputs and predictions" in page.headings
    assert "quote_approval_hours_mean of legacy: the plan's current approval time of about 24 h" in body
    assert "contract_cycle_days_mean of legacy: the plan's current contract cycle of about 7 days" in body
    assert "contract_cycle_days_mean of optimised" not in body, "the optimised contract cycle is a prediction"
    assert "quote_approval_hours_mean of optimised" not in body, "the optimised approval time is a prediction"
    assert "prediction" in body
    table = next(t for t in page.tables if t and t[0] and t[0][0] == "metric")
    marked = {r[0].split()[0]: r for r in table[1:] if "†" in " ".join(r)}
    assert set(marked) == {"quote_approval_hours_mean", "contract_cycle_days_mean"}


def test_steady_state_warnings_and_sensitivity_are_reported(default_run: Outcome, tmp_path: Path) -> None:
    run = default_run
    _, page = _page(run)
    body = " ".join(" ".join(page.text).split())
    assert {"Steady state", "Sensitivity"} <= set(page.headings)
    warnings = stability_warnings(_sweep_outcome(run), run.sensitivity)
    for line in warnings:
        assert line.removeprefix("WARNING ") in body
    if not warnings:
        assert "queues keep up" in body
    assert run.sensitivity is not None
    metric = sensitivity_metric(run.sensitivity, run.plan.experiment.report.objective)
    assert metric == "revenue_uplift"
    rows = run.sensitivity[run.sensitivity["metric"] == metric].set_index(["parameter", "level"])["mean"]
    widest = max({p for p, _ in rows.index}, key=lambda p: abs(rows[(p, "high")] - rows[(p, "low")]))
    assert f"moves most with {widest}" in body
    shares = run.sensitivity[run.sensitivity["metric"].str.endswith("in_flight_share")]
    unsteady = shares[(shares["parameter"] == widest) & (shares["mean"] > 0.01)]
    assert (f"At {widest} = " in body) == (not unsteady.empty)
    table = next(t for t in page.tables if t and t[0] and t[0][0] == "parameter")
    assert [r[0] for r in table[1:]] == [s.parameter for s in swings(run.sensitivity, metric)]
    assert table[1][0] == widest
    assert all("%" in r[2] and "%" in r[4] for r in table[1:]), "uplift in percent"


def test_unsteady_runs_are_warned_about(default_run: Outcome, tmp_path: Path) -> None:
    """A variant that leaves many leads open gets the steady-state warning on the page."""
    runs = copy.copy(default_run.runs)
    legacy = copy.copy(runs["legacy"])
    legacy.results = {
        k: dataclasses.replace(r, metrics={**r.metrics, "in_flight": r.metrics["leads"] * 0.2})
        for k, r in legacy.results.items()
    }
    runs["legacy"] = legacy
    from experiments.scheduler import SweepOutcome

    outcome = SweepOutcome(runs=runs)
    page = _parse(_rewrite(default_run, tmp_path, outcome=outcome))
    body = " ".join(" ".join(page.text).split())
    assert "legacy: 20.0% of cohort leads are still open at the end" in body


def test_failed_variants_are_reported(default_run: Outcome, tmp_path: Path) -> None:
    lines = [
        *report_lines(
            default_run.plan,
            default_run.summary,
            default_run.comparison,
            default_run.selection,
            _sweep_outcome(default_run),
        ),
        "FAILED optimised: boom",
    ]
    page = _parse(_rewrite(default_run, tmp_path, lines=lines))
    assert "FAILED optimised: boom" in " ".join(page.text)


# --- which figures are calibrated ---------------------------------------------------------------


def _config(run: Outcome, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(v.config for v in run.plan.variants if v.name == name))


def test_calibration_follows_the_inputs_it_rests_on(default_run: Outcome) -> None:
    legacy, optimised = _config(default_run, "legacy"), _config(default_run, "optimised")
    assert calibration_of(legacy, "quote_approval_hours_mean") is CALIBRATIONS[0]
    assert calibration_of(legacy, "contract_cycle_days_mean") is CALIBRATIONS[1]
    # Nothing of the optimised pipeline was set to match a target: all its figures are predictions.
    assert calibration_of(optimised, "contract_cycle_days_mean") is None
    assert calibration_of(optimised, "quote_approval_hours_mean") is None
    assert calibration_of(legacy, "win_rate") is None
    absent = copy.deepcopy(legacy)
    absent["team"]["manager_away_prob"] = 0.3
    assert calibration_of(absent, "quote_approval_hours_mean") is None
    assert CALIBRATIONS[0].changed(absent) == ["team.manager_away_prob"]
    # The contract waits for the rep's time, so the reps' load is part of its calibration too.
    busier = copy.deepcopy(legacy)
    busier["accounts"]["service_hours_per_month"] = 0.3
    assert calibration_of(busier, "contract_cycle_days_mean") is None
    crm = copy.deepcopy(legacy)
    crm["pipeline"]["assignment"] = copy.deepcopy(optimised["pipeline"]["assignment"])
    assert calibration_of(crm, "quote_approval_hours_mean") is None, "other quote volume and timing: a prediction"


def test_the_report_is_logged_on_the_parent_run_and_its_path_printed(default_ran: _Ran, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    run = default_ran.outcome
    report = run.output_dir / "report.html"
    assert f"Report: {report}" in default_ran.printed.splitlines()
    assert run.parent_run_id is not None
    client = MlflowClient(tracking_uri=default_ran.uri)
    assert "report.html" in [a.path for a in client.list_artifacts(run.parent_run_id)]
    logged = Path(client.download_artifacts(run.parent_run_id, "report.html", str(tmp_path)))
    assert logged.read_bytes() == report.read_bytes()


def test_no_figure_is_marked_calibrated_when_its_inputs_change(default_run: Outcome, tmp_path: Path) -> None:
    variants = []
    for v in default_run.plan.variants:
        config = copy.deepcopy(v.config)
        config["team"]["manager_away_prob"] = 0.3
        config["pipeline"]["contract"]["legal_review_hours"]["mean"] = 12.0
        variants.append(dataclasses.replace(v, config=config))
    plan = dataclasses.replace(default_run.plan, variants=variants)
    changed = dataclasses.replace(default_run, plan=plan)
    page = _parse(_rewrite(changed, tmp_path))
    body = " ".join(" ".join(page.text).split())
    assert "No figure on this page is a calibration target" in body
    assert "†" not in body


def test_text_from_configs_is_escaped(default_run: Outcome, tmp_path: Path) -> None:
    hostile = "<script>alert('x')</script> & <b>"
    experiment = dataclasses.replace(default_run.plan.experiment, description=hostile, name="a<b>")
    plan = dataclasses.replace(default_run.plan, experiment=experiment, overrides=(f"market.name={hostile}",))
    text = _rewrite(dataclasses.replace(default_run, plan=plan), tmp_path)
    page = _parse(text)
    assert "<script" not in text
    assert "<b>" not in text
    assert hostile in " ".join(page.text)
    assert page.unbalanced == []


def test_the_study_caveats_of_the_config_are_shown(grid_run: Outcome) -> None:
    _, page = _page(grid_run)
    assert "Study notes" in page.headings
    assert "Reviews, escalations (the escalation call and the review) and countersignatures are charged" in " ".join(
        page.text
    )


def test_a_swing_spans_the_configured_mean_too_as_the_tornado_sorts():
    rows = [
        {"parameter": p, "level": level, "value": v, "metric": "m", "mean": mean, "ci_low": mean, "ci_high": mean}
        for p, means in {"both_above": (1.1, 1.0, 1.1), "apart": (0.95, 1.0, 1.05)}.items()
        for (level, v), mean in zip((("low", 0.0), ("default", 1.0), ("high", 2.0)), means, strict=True)
    ]
    found = {s.parameter: s.width for s in swings(pd.DataFrame(rows), "m")}
    # both ends 0.1 above the configured mean: a swing of 0.1, not |high - low| = 0
    assert found == pytest.approx({"both_above": 0.1, "apart": 0.1})


def test_the_plots_section_names_the_variants_its_plots_leave_out(
    grid_run: Outcome, default_run: Outcome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments import outputs

    assert "left out:" not in _page(default_run)[0]  # every variant drawn: no note
    monkeypatch.setattr(outputs, "MAX_PLOTTED_VARIANTS", 3)
    drawn = outputs.plotted_variants(grid_run.plan, grid_run.summary, grid_run.selection)
    left_out = [v.name for v in grid_run.plan.variants if v.name not in drawn]
    assert len(drawn) == 3
    assert left_out
    text = _rewrite(grid_run, tmp_path)
    note = re.search(r"draw 3 of (\d+) variants.*?left out: (.*?)\. The tables above", text)
    assert note is not None
    assert int(note.group(1)) == len(grid_run.plan.variants)
    assert note.group(2).split(", ") == left_out
