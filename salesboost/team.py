"""The sales organisation: reps and managers as agents with their time, and sales operations."""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError
from salesboost.work import WorkPolicyConfig


@dataclass(kw_only=True)
class RepTimeConfig:
    """A rep's working time that is not pipeline work, and the rep's own traits.

    Meetings are blocked out of the rep's calendar (nothing runs in them); admin and training
    are tasks the work policy schedules; absences are whole days out.
    """

    meetings: list[str]  # daily internal meetings, e.g. ["09:00-09:30"]
    admin_hours_per_day: float  # CRM, reporting, internal e-mail: planned each working morning
    admin_chunk_hours: float  # admin comes in tasks of this length
    training_hours_per_week: float  # planned on training_weekday
    training_weekday: str
    sick_days_per_year: float  # working days off sick, at random
    leave_days_per_year: float  # working days of leave, in blocks of leave_block_days
    leave_block_days: int
    ability_cv: float  # spread of the persistent productivity multiplier (mean 1)

    def __post_init__(self) -> None:
        checks.non_negative("admin_hours_per_day", self.admin_hours_per_day)
        checks.positive("admin_chunk_hours", self.admin_chunk_hours)
        checks.non_negative("training_hours_per_week", self.training_hours_per_week)
        checks.weekdays("training_weekday", [self.training_weekday])
        checks.non_negative("sick_days_per_year", self.sick_days_per_year)
        checks.non_negative("leave_days_per_year", self.leave_days_per_year)
        if self.sick_days_per_year + self.leave_days_per_year > 200:
            raise ConfigError("leave_days_per_year", "sick and leave days together must be <= 200 a year")
        if self.leave_block_days < 1:
            raise ConfigError("leave_block_days", f"must be >= 1 (got {self.leave_block_days})")
        checks.non_negative("ability_cv", self.ability_cv)
        self.meeting_intervals: tuple[tuple[float, float], ...] = (
            checks.intervals("meetings", self.meetings) if self.meetings else ()
        )
        self.training_day: int = min(checks.weekdays("training_weekday", [self.training_weekday]))


@dataclass(kw_only=True)
class ManagerTimeConfig:
    """A manager's other duties; approvals, escalations and countersignatures fit around them."""

    duties_share: float  # share of working time on coaching, meetings, own accounts, reporting
    duty_chunk_hours: float  # duties come in blocks; inbox and tray are looked at between blocks
    countersign_hours: Dist  # manager time per countersigned paper contract

    def __post_init__(self) -> None:
        checks.probability("duties_share", self.duties_share, below_one=True)
        checks.positive("duty_chunk_hours", self.duty_chunk_hours)


@dataclass(kw_only=True)
class TeamConfig:
    """Headcount per role, how people spend their time and how reps choose their work."""

    reps: dict[str, int]  # reps per region
    managers: int  # managers who approve quotes and countersign contracts
    sales_ops: int  # staff who enter orders into the ERP
    manager_away_prob: float  # P(a manager is away on a given working day)
    rep_time: RepTimeConfig
    manager_time: ManagerTimeConfig
    work_policy: WorkPolicyConfig

    def __post_init__(self) -> None:
        for region, count in self.reps.items():
            if count < 0:
                raise ConfigError(f"reps.{region}", f"must be >= 0 (got {count})")
        if self.managers < 1:
            raise ConfigError("managers", f"must be >= 1 (got {self.managers})")
        if self.sales_ops < 1:
            raise ConfigError("sales_ops", f"must be >= 1 (got {self.sales_ops})")
        checks.probability("manager_away_prob", self.manager_away_prob, below_one=True)


@dataclass(kw_only=True)
class RunningCost:
    """What a pipeline option costs to run: per seat (reps, managers, sales ops) and per month."""

    per_seat_month: float
    per_month: float

    def __post_init__(self) -> None:
        checks.non_negative("per_seat_month", self.per_seat_month)
        checks.non_negative("per_month", self.per_month)


@dataclass(kw_only=True)
class EconomicsConfig:
    """Costs that turn volumes into money (placeholders: set them from your P&L).

    ``running_costs`` is keyed by stage, then policy (``running_costs.quote.template``): a
    pipeline pays for the options it uses.
    """

    rep_cost_per_week: float  # loaded cost of one rep
    manager_cost_per_week: float
    sales_ops_cost_per_week: float
    running_costs: dict[str, dict[str, RunningCost]]

    def __post_init__(self) -> None:
        checks.non_negative("rep_cost_per_week", self.rep_cost_per_week)
        checks.non_negative("manager_cost_per_week", self.manager_cost_per_week)
        checks.non_negative("sales_ops_cost_per_week", self.sales_ops_cost_per_week)

    def team_cost(self, team: TeamConfig, weeks: float) -> float:
        """Cost of ``team`` over ``weeks``."""
        weekly = (
            sum(team.reps.values()) * self.rep_cost_per_week
            + team.managers * self.manager_cost_per_week
            + team.sales_ops * self.sales_ops_cost_per_week
        )
        return weekly * weeks

    def running_cost(self, options: dict[str, str], team: TeamConfig, weeks: float) -> float:
        """Cost of running the pipeline ``options`` (stage -> policy) for ``team`` over ``weeks``."""
        seats = sum(team.reps.values()) + team.managers + team.sales_ops
        months = weeks * 7.0 / (365.25 / 12.0)
        total = 0.0
        for stage, policy in options.items():
            cost = self.running_costs.get(stage, {}).get(policy)
            if cost is not None:
                total += (cost.per_seat_month * seats + cost.per_month) * months
        return total
