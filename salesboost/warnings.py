"""Streaming early-warning detectors, and the rules that configure them.

One copy serves both sides: the simulation feeds each rule its monthly series at every month
end to switch playbooks on, and the analysis runs the same detectors over simulated series to
score them (false alarms a year, delay after a shock). A detector is fed one period at a time
(:meth:`Detector.update`) and says whether that period signals.

Two kinds of detector. The control charts (:class:`Shewhart`, :class:`Ewma`, :class:`Cusum`,
:class:`PChart`) carry an in-control mean and sd (or p0) and restart after a signal, so their
run lengths are the textbook ARLs (Montgomery; domain.md section 7). The plan's level rules
(:class:`Threshold`, :class:`Streak`, :class:`ChangeFrom`) signal at every period their
condition holds, so a rule that is always on (team retention below 80% against a ~73%
benchmark) shows as an alarm every month. A chart skips a NaN value (no signal, no change of
state); a level rule's run is broken by one.

Import this module by its full name (``from salesboost import warnings as warning_rules``):
its name is the standard library's ``warnings``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Protocol

from salesboost import checks
from salesboost.errors import ConfigError

#: The chart kinds a rule can use.
CHARTS: tuple[str, ...] = ("shewhart", "ewma", "cusum", "pchart", "threshold", "streak", "change")
#: Sides each chart allows; the first is its default.
CHART_SIDES: dict[str, tuple[str, ...]] = {
    "shewhart": ("both", "lower", "upper"),
    "ewma": ("both", "lower", "upper"),
    "cusum": ("lower", "upper", "both"),
    "pchart": ("upper", "lower", "both"),
    "threshold": ("below", "above"),
    "streak": ("below",),  # a streak watches falls: negative values or successive declines
    "change": ("above", "below"),
}
#: Design parameters each chart reads (besides indicator, chart, side and baseline_periods).
CHART_FIELDS: dict[str, tuple[str, ...]] = {
    "shewhart": ("L", "mean", "sd"),
    "ewma": ("lam", "L", "limits", "mean", "sd"),
    "cusum": ("k", "h", "mean", "sd"),
    "pchart": ("L", "exact", "p0"),
    "threshold": ("limit", "periods"),
    "streak": ("periods", "reading"),
    "change": ("change", "units"),
}
#: Defaults of the design parameters by chart (a threshold's limit and a change's size have none).
CHART_DEFAULTS: dict[str, dict[str, object]] = {
    "shewhart": {"L": 3.0},
    "ewma": {"lam": 0.1, "limits": "exact"},
    "cusum": {"k": 0.5, "h": 5.0},
    "pchart": {"L": 3.0, "exact": False},
    "threshold": {"periods": 1},
    "streak": {"periods": 3, "reading": "negative"},
    "change": {"units": "points"},
}
#: EWMA designs with in-control ARL ~500 (asymptotic limits, two-sided): lam -> L (Lucas & Saccucci 1990).
EWMA_ARL500: dict[float, float] = {0.05: 2.615, 0.10: 2.814, 0.20: 2.962}
#: EWMA limit kinds: with the start-up factor [1 - (1 - lam)^(2t)], or its limit.
EWMA_LIMITS: tuple[str, ...] = ("exact", "asymptotic")
#: Streak readings: values below zero, or each value below the one before.
STREAK_READINGS: tuple[str, ...] = ("negative", "decline")
#: ChangeFrom units: an absolute difference (0.05 = 5 percentage points of a share), or relative.
CHANGE_UNITS: tuple[str, ...] = ("points", "relative")
#: Slack for floating-point rounding in ChangeFrom's inclusive comparison (0.35 - 0.30 >= 0.05).
_SLACK = 1e-12


class Detector(Protocol):
    """A streaming detector: fed one period at a time, says whether the period signals."""

    def update(self, value: float, n: float = 1.0) -> bool:
        """Feed the next period's value (a p-chart: a count out of ``n`` trials); True when it signals."""

    def reset(self) -> None:
        """Return to the state before the first update."""


def _check_side(side: str, chart: str) -> None:
    checks.one_of("side", side, CHART_SIDES[chart])


def _check_mean_sd(mean: float, sd: float) -> None:
    if not math.isfinite(mean):
        raise ConfigError("mean", f"must be a finite number (got {mean})")
    checks.positive("sd", sd)


def upper_tail(count: float, n: int, p: float, *, stop: float = math.inf) -> float:
    """P(X >= count) for X ~ Binomial(n, p), summed in log space from ``count`` up.

    With ``stop`` the sum ends once it reaches ``stop``: a result >= ``stop`` then only says
    the tail is at least that (a test against a small tail stays cheap). ``0 < p < 1``.
    """
    c = math.ceil(count)
    if c <= 0:
        return 1.0
    if c > n:
        return 0.0
    if c <= math.floor(n * p):  # at or below the median: the tail is at least 1/2
        return 0.5 if stop <= 0.5 else 1.0 - _lower_sum(c - 1, n, p)
    return _upper_sum(c, n, p, stop)


def lower_tail(count: float, n: int, p: float, *, stop: float = math.inf) -> float:
    """P(X <= count) for X ~ Binomial(n, p), summed in log space from ``count`` down (see :func:`upper_tail`)."""
    c = math.floor(count)
    if c < 0:
        return 0.0
    if c >= n:
        return 1.0
    if c >= math.ceil(n * p):  # at or above the median: the tail is at least 1/2
        return 0.5 if stop <= 0.5 else 1.0 - _upper_sum(c + 1, n, p)
    return _lower_sum(c, n, p, stop)


def _log_pmf(x: int, n: int, p: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * math.log(p) + (n - x) * math.log1p(-p)


def _upper_sum(c: int, n: int, p: float, stop: float = math.inf) -> float:
    """Sum of the pmf from ``c`` to ``n``, for ``c`` above the mode (terms fall from the first)."""
    term = math.exp(_log_pmf(c, n, p))
    total = term
    odds = p / (1.0 - p)
    x = c
    while x < n and total < stop and term > total * 1e-17:
        term *= (n - x) / (x + 1) * odds
        total += term
        x += 1
    return min(total, 1.0)


def _lower_sum(c: int, n: int, p: float, stop: float = math.inf) -> float:
    """Sum of the pmf from 0 to ``c``, for ``c`` below the mode (terms fall from the first)."""
    if c < 0:
        return 0.0
    term = math.exp(_log_pmf(c, n, p))
    total = term
    odds = (1.0 - p) / p
    x = c
    while x > 0 and total < stop and term > total * 1e-17:
        term *= x / (n - x + 1) * odds
        total += term
        x -= 1
    return min(total, 1.0)


def normal_tail(L: float) -> float:  # noqa: N803 - L is the chart's name for it
    """One-sided standard normal tail 1 - Phi(L)."""
    return 0.5 * math.erfc(L / math.sqrt(2.0))


class Shewhart:
    """Individuals chart: signals when a value lies beyond mean +- L sd on the watched side."""

    __slots__ = ("L", "_high", "_low", "mean", "sd", "side")

    def __init__(self, mean: float, sd: float, L: float = 3.0, side: str = "both") -> None:  # noqa: N803
        _check_mean_sd(mean, sd)
        checks.positive("L", L)
        _check_side(side, "shewhart")
        self.mean, self.sd, self.L, self.side = mean, sd, L, side
        self._high = mean + L * sd if side != "lower" else math.inf
        self._low = mean - L * sd if side != "upper" else -math.inf

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002 - n is the p-chart's
        """Feed the next value; True when it is beyond a limit (NaN never signals)."""
        return value > self._high or value < self._low

    def reset(self) -> None:
        """Nothing to reset: the chart has no memory."""


class Ewma:
    """EWMA chart (Roberts 1959): z_t = lam x_t + (1 - lam) z_(t-1), z_0 = mean.

    Limits mean +- L sd sqrt(lam / (2 - lam) [1 - (1 - lam)^(2t)]) with ``limits="exact"``,
    without the bracket with ``"asymptotic"`` (the ARL tables' design). After a signal the
    chart restarts from z = mean, t = 0.
    """

    __slots__ = ("L", "_decay", "_keep", "_sides", "_width", "_z", "lam", "limits", "mean", "sd", "side")

    def __init__(
        self,
        mean: float,
        sd: float,
        lam: float,
        L: float,  # noqa: N803
        side: str = "both",
        *,
        limits: str = "exact",
    ) -> None:
        _check_mean_sd(mean, sd)
        if not (math.isfinite(lam) and 0 < lam <= 1):
            raise ConfigError("lam", f"must be in (0, 1] (got {lam})")
        checks.positive("L", L)
        _check_side(side, "ewma")
        checks.one_of("limits", limits, EWMA_LIMITS)
        self.mean, self.sd, self.lam, self.L, self.side, self.limits = mean, sd, lam, L, side, limits
        self._width = L * sd * math.sqrt(lam / (2.0 - lam))
        self._keep = (1.0 - lam) ** 2
        self._sides = side != "lower", side != "upper"
        self.reset()

    def reset(self) -> None:
        """Restart from z = mean at t = 0."""
        self._z = self.mean
        self._decay = 1.0 if self.limits == "exact" else 0.0  # (1 - lam)^(2t)

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002
        """Feed the next value; True when z leaves its limits (NaN is skipped)."""
        if math.isnan(value):
            return False
        z = self._z = self.lam * value + (1.0 - self.lam) * self._z
        decay = self._decay
        if decay > 1e-16:
            decay *= self._keep
            self._decay = decay
            width = self._width * math.sqrt(1.0 - decay)
        else:
            width = self._width
        upper, lower = self._sides
        if (upper and z > self.mean + width) or (lower and z < self.mean - width):
            self.reset()
            return True
        return False


class Cusum:
    """Tabular CUSUM (Page 1954) on z = (x - mean) / sd, reference k and decision interval h.

    S+ = max(0, S+ + z - k) watches a rise, S- = max(0, S- - z - k) a fall; a sum above ``h``
    signals and restarts from 0 (the other side's sum carries on). At k = 0.5 the in-control
    ARL is 168 (h = 4) or 465 (h = 5) with ``side="both"``, twice that on one side.
    """

    __slots__ = ("_high", "_low", "_lower", "_upper", "h", "k", "mean", "sd", "side")

    def __init__(self, mean: float, sd: float, k: float = 0.5, h: float = 5.0, side: str = "lower") -> None:
        _check_mean_sd(mean, sd)
        checks.non_negative("k", k)
        checks.positive("h", h)
        _check_side(side, "cusum")
        self.mean, self.sd, self.k, self.h, self.side = mean, sd, k, h, side
        self._upper = side != "lower"
        self._lower = side != "upper"
        self.reset()

    def reset(self) -> None:
        """Both sums back to 0."""
        self._high = 0.0
        self._low = 0.0

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002
        """Feed the next value; True when a watched sum exceeds h (NaN is skipped)."""
        if math.isnan(value):
            return False
        z = (value - self.mean) / self.sd
        signal = False
        if self._upper:
            s = self._high + z - self.k
            if s > self.h:
                s, signal = 0.0, True
            self._high = s if s > 0.0 else 0.0
        if self._lower:
            s = self._low - z - self.k
            if s > self.h:
                s, signal = 0.0, True
            self._low = s if s > 0.0 else 0.0
        return signal

    @property
    def sums(self) -> tuple[float, float]:
        """The current (S+, S-)."""
        return self._high, self._low


class PChart:
    """p-chart on a count out of ``n`` trials against an in-control proportion ``p0``.

    Normal limits: p = count / n beyond p0 +- L sqrt(p0 (1 - p0) / n). With ``exact`` the
    binomial tail on the watched side is tested against the normal chart's one-sided rate:
    an upper signal when P(X >= count | n, p0) < 1 - Phi(L) (a lower one mirrors it), so a
    rare count's false-alarm rate stays at or below the nominal 0.00135 at L = 3 for every n.
    A period with n <= 0 (or a NaN count) never signals; n is rounded to whole trials.
    """

    __slots__ = ("L", "_alpha", "_lower", "_upper", "exact", "p0", "side")

    def __init__(self, p0: float, L: float = 3.0, side: str = "upper", exact: bool = False) -> None:  # noqa: N803
        if not (math.isfinite(p0) and 0 < p0 < 1):
            raise ConfigError("p0", f"must be a proportion in (0, 1) (got {p0})")
        checks.positive("L", L)
        _check_side(side, "pchart")
        self.p0, self.L, self.side, self.exact = p0, L, side, exact
        self._alpha = normal_tail(L)
        self._upper = side != "lower"
        self._lower = side != "upper"

    def reset(self) -> None:
        """Nothing to reset: each period is judged on its own."""

    def update(self, value: float, n: float = 1.0) -> bool:
        """Feed the next period's count out of ``n`` trials; True when it is beyond a limit."""
        if math.isnan(n) or math.isnan(value) or n < 0.5:
            return False
        trials = round(n)
        p0 = self.p0
        if self.exact:
            alpha = self._alpha
            if self._upper and upper_tail(value, trials, p0, stop=alpha) < alpha:
                return True
            return self._lower and lower_tail(value, trials, p0, stop=alpha) < alpha
        width = self.L * math.sqrt(p0 * (1.0 - p0) / trials)
        share = value / trials
        return (self._upper and share > p0 + width) or (self._lower and share < p0 - width)


class Threshold:
    """Signals at each update where the value has been beyond ``limit`` for the last ``periods`` updates.

    ``side`` below: value < limit; above: value > limit. A NaN value breaks the run and never
    signals. ``Threshold(0.7, "below", 2)`` fires on the second month of a run below 70%, and
    on every further month of it.
    """

    __slots__ = ("_run", "limit", "periods", "side")

    def __init__(self, limit: float, side: str = "below", periods: int = 1) -> None:
        if not math.isfinite(limit):
            raise ConfigError("limit", f"must be a finite number (got {limit})")
        _check_side(side, "threshold")
        if periods < 1:
            raise ConfigError("periods", f"must be a whole number >= 1 (got {periods})")
        self.limit, self.side, self.periods = limit, side, periods
        self._run = 0

    def reset(self) -> None:
        """Forget the current run."""
        self._run = 0

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002
        """Feed the next value; True when the run beyond the limit is ``periods`` long or longer."""
        beyond = value < self.limit if self.side == "below" else value > self.limit  # False for NaN
        self._run = self._run + 1 if beyond else 0
        return self._run >= self.periods


class Streak:
    """Signals at each update ending a run of ``periods`` falls.

    ``reading`` negative: values < 0 (industry growth negative 3 months in a row); decline:
    each value below the one before (3 successive declines take 4 values). A NaN value breaks
    the run (and a decline needs two values after it).
    """

    __slots__ = ("_last", "_run", "periods", "reading")

    def __init__(self, periods: int = 3, reading: str = "negative") -> None:
        if periods < 1:
            raise ConfigError("periods", f"must be a whole number >= 1 (got {periods})")
        checks.one_of("reading", reading, STREAK_READINGS)
        self.periods, self.reading = periods, reading
        self.reset()

    def reset(self) -> None:
        """Forget the current run and the last value."""
        self._run = 0
        self._last = math.nan

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002
        """Feed the next value; True when the run of falls is ``periods`` long or longer."""
        fall = value < 0.0 if self.reading == "negative" else value < self._last  # False for NaN
        self._last = value
        self._run = self._run + 1 if fall else 0
        return self._run >= self.periods


class ChangeFrom:
    """A change from a reference set by the first ``baseline_periods`` values (Phase I).

    The reference is the mean of the first ``baseline_periods`` finite values, which never
    signal. Afterwards ``side`` above signals when value - ref >= change (``units`` points, an
    absolute difference: 0.05 = 5 percentage points of a share) or value / ref - 1 >= change
    (relative); below mirrors it (ref - value, or 1 - value / ref). A relative change from a
    reference of 0 never signals; NaN is skipped.
    """

    __slots__ = ("_baseline", "_ref", "baseline_periods", "change", "side", "units")

    def __init__(self, change: float, units: str = "points", side: str = "above", baseline_periods: int = 12) -> None:
        checks.positive("change", change)
        checks.one_of("units", units, CHANGE_UNITS)
        _check_side(side, "change")
        if baseline_periods < 1:
            raise ConfigError("baseline_periods", f"must be a whole number >= 1 (got {baseline_periods})")
        self.change, self.units, self.side, self.baseline_periods = change, units, side, baseline_periods
        self.reset()

    def reset(self) -> None:
        """Forget the reference: the next values are a new baseline."""
        self._baseline: list[float] = []
        self._ref = math.nan

    @property
    def reference(self) -> float:
        """The baseline mean (NaN while the baseline is still being read)."""
        return self._ref

    def update(self, value: float, n: float = 1.0) -> bool:  # noqa: ARG002
        """Feed the next value; True when it has moved by ``change`` or more from the reference."""
        if math.isnan(value):
            return False
        ref = self._ref
        if math.isnan(ref):  # still in the baseline
            self._baseline.append(value)
            if len(self._baseline) >= self.baseline_periods:
                self._ref = math.fsum(self._baseline) / len(self._baseline)
            return False
        diff = value - ref if self.side == "above" else ref - value
        if self.units == "relative":
            if ref == 0:
                return False
            diff /= abs(ref)
        return diff >= self.change - _SLACK


# -- rules as configuration ---------------------------------------------------------------------
_NUMBER_FIELDS = ("L", "lam", "k", "h", "limit", "change", "mean", "sd", "p0")
_INT_FIELDS = ("periods",)
_TEXT_FIELDS = ("side", "reading", "units", "limits")


@dataclass(kw_only=True)
class RuleConfig:
    """A warning rule: which monthly series it reads, the chart and the chart's design.

    Parameters a chart does not read must stay unset (:data:`CHART_FIELDS`); the ones it reads
    default per chart (:data:`CHART_DEFAULTS`; an EWMA's L defaults to the ARL0 ~500 design
    for lam 0.05, 0.10 or 0.20). ``mean``/``sd`` (``p0`` for a p-chart) are the in-control
    level; unset, the caller estimates them from the first ``baseline_periods`` values. A
    ``change`` rule sets its own reference from its first ``baseline_periods`` values.
    """

    indicator: str  # the monthly series the rule reads (salesboost.indicators.INDICATORS)
    chart: str  # shewhart | ewma | cusum | pchart | threshold | streak | change
    side: str | None = None  # per chart (CHART_SIDES); None: the chart's default
    L: float | None = None  # limit width in sds (shewhart, ewma, pchart)
    lam: float | None = None  # EWMA smoothing weight, in (0, 1]
    limits: str | None = None  # EWMA limits: exact | asymptotic
    k: float | None = None  # CUSUM reference value, sds
    h: float | None = None  # CUSUM decision interval, sds
    limit: float | None = None  # threshold level
    periods: int | None = None  # consecutive periods (threshold, streak)
    reading: str | None = None  # streak: negative | decline
    change: float | None = None  # change size (change)
    units: str | None = None  # change: points | relative
    exact: bool | None = None  # p-chart: exact binomial tail instead of normal limits
    mean: float | None = None  # in-control mean (None: estimated from the baseline)
    sd: float | None = None  # in-control sd (None: estimated from the baseline)
    p0: float | None = None  # in-control proportion (None: estimated from the baseline)
    baseline_periods: int = 12  # periods that estimate the in-control level, or a change's reference

    def __post_init__(self) -> None:
        if not isinstance(self.indicator, str) or not self.indicator.strip():
            raise ConfigError("indicator", "name the monthly series the rule reads")
        if not isinstance(self.chart, str):
            raise ConfigError("chart", f"must be one of: {', '.join(CHARTS)} (got {self.chart!r})")
        checks.one_of("chart", self.chart, CHARTS)
        chart = self.chart
        self._check_types()
        reads = CHART_FIELDS[chart]
        for name in (*_NUMBER_FIELDS, *_INT_FIELDS, *_TEXT_FIELDS, "exact"):
            if name != "side" and name not in reads and getattr(self, name) is not None:
                raise ConfigError(name, f"not read by a {chart} rule; it reads: side, {', '.join(reads)}")
        if self.side is None:
            self.side = CHART_SIDES[chart][0]
        _check_side(self.side, chart)
        for name, value in CHART_DEFAULTS[chart].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self._check_values()
        if chart == "ewma" and self.L is None:
            self.L = self._ewma_default_L()

    def _check_types(self) -> None:
        for name in _NUMBER_FIELDS:
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ConfigError(name, f"must be a number (got {value!r})")
                setattr(self, name, float(value))
        for name in (*_INT_FIELDS, "baseline_periods"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(name, f"must be a whole number (got {value!r})")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(name, f"must be a string (got {value!r})")
        if self.exact is not None and not isinstance(self.exact, bool):
            raise ConfigError("exact", f"must be true or false (got {self.exact!r})")

    def _ewma_default_L(self) -> float:  # noqa: N802
        lam = self.lam
        for design, width in EWMA_ARL500.items():
            if lam is not None and abs(lam - design) < 1e-12:
                return width
        designs = ", ".join(f"lam={a:g} L={b:g}" for a, b in EWMA_ARL500.items())
        raise ConfigError("L", f"an EWMA with lam={lam:g} needs L; the ARL0 ~500 designs are {designs}")

    def _check_values(self) -> None:
        for name in ("L", "h"):
            value = getattr(self, name)
            if value is not None:
                checks.positive(name, value)
        if self.lam is not None and not (math.isfinite(self.lam) and 0 < self.lam <= 1):
            raise ConfigError("lam", f"must be in (0, 1] (got {self.lam})")
        if self.limits is not None:
            checks.one_of("limits", self.limits, EWMA_LIMITS)
        if self.k is not None:
            checks.non_negative("k", self.k)
        if self.periods is not None and self.periods < 1:
            raise ConfigError("periods", f"must be a whole number >= 1 (got {self.periods})")
        if self.reading is not None:
            checks.one_of("reading", self.reading, STREAK_READINGS)
        if self.units is not None:
            checks.one_of("units", self.units, CHANGE_UNITS)
        if self.chart == "threshold" and (self.limit is None or not math.isfinite(self.limit)):
            raise ConfigError("limit", f"a threshold rule needs a finite limit (got {self.limit})")
        if self.chart == "change" and self.change is None:
            raise ConfigError("change", "a change rule needs the change size, > 0 (0.05: 5 points, or 5% relative)")
        if self.change is not None:
            checks.positive("change", self.change)
        if self.mean is not None and not math.isfinite(self.mean):
            raise ConfigError("mean", f"must be a finite number (got {self.mean})")
        if self.sd is not None:
            checks.positive("sd", self.sd)
        if self.p0 is not None and not (math.isfinite(self.p0) and 0 < self.p0 < 1):
            raise ConfigError("p0", f"must be a proportion in (0, 1) (got {self.p0})")
        least = 2 if self.chart in ("shewhart", "ewma", "cusum") and self.sd is None else 1
        if self.baseline_periods < least:
            why = " (an sd is estimated from it)" if least == 2 else ""
            raise ConfigError("baseline_periods", f"must be >= {least}{why} (got {self.baseline_periods})")

    def needs_baseline(self) -> bool:
        """Whether the caller must estimate the in-control level (mean and sd, or p0) before :meth:`build`."""
        if self.chart in ("shewhart", "ewma", "cusum"):
            return self.mean is None or self.sd is None
        if self.chart == "pchart":
            return self.p0 is None
        return False

    def build(self, mean: float | None = None, sd: float | None = None) -> Detector:
        """A fresh detector; ``mean``/``sd`` (a p-chart: ``mean`` is p0) win over the config's."""
        chart = self.chart
        side = str(self.side)
        if chart == "pchart":
            p0 = mean if mean is not None else self.p0
            if p0 is None:
                raise ConfigError("p0", "unknown: set p0 or estimate it from a baseline and pass it")
            return PChart(p0, float(self._get("L")), side, bool(self.exact))
        if chart in ("shewhart", "ewma", "cusum"):
            m = mean if mean is not None else self.mean
            s = sd if sd is not None else self.sd
            if m is None:
                raise ConfigError("mean", "unknown: set mean or estimate it from a baseline and pass it")
            if s is None:
                raise ConfigError("sd", "unknown: set sd or estimate it from a baseline and pass it")
            if chart == "shewhart":
                return Shewhart(m, s, float(self._get("L")), side)
            if chart == "ewma":
                return Ewma(m, s, float(self._get("lam")), float(self._get("L")), side, limits=str(self.limits))
            return Cusum(m, s, float(self._get("k")), float(self._get("h")), side)
        if chart == "threshold":
            return Threshold(float(self._get("limit")), side, int(self._get("periods")))
        if chart == "streak":
            return Streak(int(self._get("periods")), str(self.reading))
        return ChangeFrom(float(self._get("change")), str(self.units), side, self.baseline_periods)

    def _get(self, name: str) -> float:
        value = getattr(self, name)
        if value is None:  # __post_init__ fills every field a chart reads
            raise ConfigError(name, f"needed by a {self.chart} rule")
        return float(value)


#: Field names a rule's plain data may use.
RULE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RuleConfig))


def rule_from_dict(key: str, data: Mapping[str, object]) -> RuleConfig:
    """A rule from plain data (a YAML mapping); errors are keyed under ``key``."""
    if not isinstance(data, Mapping):
        raise ConfigError(key, f"a rule is a mapping of its fields: {', '.join(RULE_FIELDS)} (got {data!r})")
    for name in data:
        if name not in RULE_FIELDS:
            raise ConfigError(f"{key}.{name}", f"unknown field; allowed: {', '.join(RULE_FIELDS)}")
    if "indicator" not in data:
        raise ConfigError(f"{key}.indicator", "required: the monthly series the rule reads")
    if "chart" not in data:
        raise ConfigError(f"{key}.chart", f"required; one of: {', '.join(CHARTS)}")
    try:
        return RuleConfig(**data)  # type: ignore[arg-type]
    except ConfigError as error:
        raise error.under(key) from None


def run_length(detector: Detector, values: Iterable[float], ns: Iterable[float] | None = None) -> int | None:
    """The 1-based index of the first signal from a reset detector (``ns``: trials per period); None if none."""
    detector.reset()
    update = detector.update
    if ns is None:
        for i, value in enumerate(values, 1):
            if update(value):
                return i
        return None
    for i, (value, n) in enumerate(zip(values, ns, strict=True), 1):
        if update(value, n):
            return i
    return None


def alarms(detector: Detector, values: Iterable[float], ns: Iterable[float] | None = None) -> list[int]:
    """The 0-based indices of every signalling update from a reset detector (charts restart after each)."""
    detector.reset()
    update = detector.update
    if ns is None:
        return [i for i, value in enumerate(values) if update(value)]
    return [i for i, (value, n) in enumerate(zip(values, ns, strict=True)) if update(value, n)]


#: The plan's six triggers as written, with the reading of each made explicit.
PLAN_RULES: dict[str, RuleConfig] = {
    # "Industry growth down 3 consecutive months": read as 3 negative monthly growth prints in a row
    # (reading="decline", 3 successive falls of the growth rate, is the other reading; domain.md 7).
    "industry_growth_streak": RuleConfig(indicator="industry_growth", chart="streak", periods=3, reading="negative"),
    # "Main competitor's share +5%": read as a rise of 5 percentage points (0.30 -> 0.35) over the
    # mean of the baseline year, not a 5% relative rise.
    "competitor_share_up": RuleConfig(
        indicator="competitor_share", chart="change", change=0.05, units="points", side="above"
    ),
    # "Team retention below 80%": annualised retention over the trailing 12 months below 0.80, any month
    # (always on at the ~73% benchmark retention).
    "team_retention": RuleConfig(indicator="team_retention", chart="threshold", limit=0.8, side="below", periods=1),
    # "Attainment below 70% two months running": team-level monthly attainment (sales / quota of the
    # seats in post) below 0.70 in two consecutive months.
    "attainment_two_months": RuleConfig(
        indicator="team_attainment", chart="threshold", limit=0.7, side="below", periods=2
    ),
    # "Core-customer repurchase down 10% or more": the core accounts' repurchase rate 10% or more below
    # (relative) the mean of the baseline year, i.e. 0.50 -> 0.45 or lower.
    "core_repurchase_down": RuleConfig(
        indicator="core_repurchase", chart="change", change=0.10, units="relative", side="below"
    ),
    # "Complaint rate above 2%": complaints / accounts served in the month above 0.02, per team.
    "complaint_rate": RuleConfig(indicator="complaint_rate", chart="threshold", limit=0.02, side="above", periods=1),
}

#: Statistical alternatives (domain.md 7) on the same series; the in-control level is estimated from the
#: baseline year. The in-control ARLs below hold for independent normal values with a known level: a
#: baseline year's estimation error and autocorrelated series (industry growth, shares) alarm more often.
#: CUSUM k=0.5, h=5 on one side: ARL0 ~931 months, ~10.4 at a 1 sd shift (the published 465 is the
#: two-sided scheme's; one side alarms half as often). EWMA lam=0.10, L=2.814 is the two-sided ARL0 ~500
#: design; on one side its ARL0 is ~1,000 months.
CHART_RULES: dict[str, RuleConfig] = {
    # Team attainment drifting down: EWMA of monthly team attainment, lower side, exact (start-up) limits.
    "team_attainment_ewma": RuleConfig(indicator="team_attainment", chart="ewma", lam=0.10, L=2.814, side="lower"),
    # Industry growth falling: lower CUSUM on monthly industry growth.
    "industry_growth_cusum": RuleConfig(indicator="industry_growth", chart="cusum", k=0.5, h=5.0, side="lower"),
    # Competitor gaining: upper CUSUM on the competitor's share.
    "competitor_share_cusum": RuleConfig(indicator="competitor_share", chart="cusum", k=0.5, h=5.0, side="upper"),
    # Core accounts lapsing: lower CUSUM on the core accounts' repurchase rate.
    "core_repurchase_cusum": RuleConfig(indicator="core_repurchase", chart="cusum", k=0.5, h=5.0, side="lower"),
    # Sales falling: lower CUSUM on the company's monthly sales, standardised by the baseline year.
    "sales_cusum": RuleConfig(indicator="sales", chart="cusum", k=0.5, h=5.0, side="lower"),
    # Complaints up: upper p-chart on the month's complaint count out of accounts served, exact binomial tail
    # at the L=3 one-sided rate (0.00135 a month per team).
    "complaint_pchart": RuleConfig(indicator="complaint_rate", chart="pchart", L=3.0, side="upper", exact=True),
}
