"""The reps as people under a scheme: lifecycle, the yield of discretionary work, response to pay.

Lifecycle covers ramp, training, exams, attrition and backfill.

Everything here is configuration with defaults, ranges, sources and grades in
``docs/model.md`` (section 12.1); the rules that use it are :mod:`salesboost.lifecycle`
(people) and :mod:`salesboost.effort` (effort). With no incentive scheme the whole section is
idle and the calibrated world is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class LifecycleConfig:
    """Ramp, training and exams, attrition, vacancies and the talent pool (domain.md section 3)."""

    enabled: bool = True
    ramp_months: float = 6.0  # R: months to full productivity, m(t) = max(start, min(1, (t / R)^shape))
    ramp_shape: float = 1.0  # kappa
    ramp_start: float = 0.15  # productivity of a new hire on day one (m cannot start at 0: nobody works)
    attrition_per_year: float = 0.27  # base annual exit rate of a rep at quota, past short tenure
    low_attainment: float = 0.7  # attainment below this raises the hazard
    low_attainment_odds: float = 2.0  # odds ratio of leaving in a month after a low period
    bonus_cut_odds: float = 1.5  # odds ratio after a period whose pay a floor cut
    short_tenure_months: float = 12.0  # reps newer than this leave more often
    short_tenure_odds: float = 1.5
    vacancy_months: float = 4.0  # mean hiring lag of an external hire (exponential)
    backups_per_region: int = 1  # talent pool: trained backups per region, ready at once
    backup_start_days: float = 10.0  # working days before a backup takes over
    backup_refill_months: float = 6.0  # months to train a new backup once one is used
    classroom_days: int = 10  # new hires: 2 weeks of classroom training (all of their time)
    mentoring_days: int = 21  # then a month of mentoring
    mentoring_share: float = 0.5  # share of a mentee's day spent with the mentor (training time)
    mentor_share: float = 0.1  # share of the mentor's day
    exam_validity: float = 0.4  # correlation of an exam score with latent skill (r 0.2-0.5)
    exam_mean: float = 92.0  # mean score of a new hire of average skill
    exam_sd: float = 6.0
    product_pass: float = 90.0  # the plan's pass marks
    roleplay_pass: float = 85.0
    retrain_days: int = 5  # extra classroom days after a failed exam, then a resit
    training_effect: float = 0.25  # d: rise of log productivity per completed programme, in sd of log ability
    programme_hours: float = 16.0  # training hours that make one programme
    training_half_life_months: float = 9.0  # a programme's effect halves in this time
    spillover: float = 0.15  # share of a rep's gain that reaches each peer in the region
    senior_topic_hours: float = 4.0  # seniors: monthly topic training
    workshop_hours: float = 8.0  # seniors: quarterly case workshop
    manager_programme_hours: float = 16.0  # managers: quarterly executive programme
    manager_peer_hours: float = 2.0  # managers: monthly peer learning

    def __post_init__(self) -> None:
        checks.positive("ramp_months", self.ramp_months)
        checks.positive("ramp_shape", self.ramp_shape)
        checks.probability("ramp_start", self.ramp_start)
        checks.probability("attrition_per_year", self.attrition_per_year, below_one=True)
        checks.non_negative("low_attainment", self.low_attainment)
        for key in ("low_attainment_odds", "bonus_cut_odds", "short_tenure_odds"):
            checks.positive(key, getattr(self, key))
        checks.non_negative("short_tenure_months", self.short_tenure_months)
        checks.positive("vacancy_months", self.vacancy_months)
        if self.backups_per_region < 0:
            raise ConfigError("backups_per_region", f"must be >= 0 (got {self.backups_per_region})")
        checks.non_negative("backup_start_days", self.backup_start_days)
        checks.positive("backup_refill_months", self.backup_refill_months)
        for key in ("classroom_days", "mentoring_days", "retrain_days"):
            if getattr(self, key) < 0:
                raise ConfigError(key, f"must be >= 0 (got {getattr(self, key)})")
        checks.probability("mentoring_share", self.mentoring_share)
        checks.probability("mentor_share", self.mentor_share)
        checks.probability("exam_validity", self.exam_validity)
        checks.positive("exam_sd", self.exam_sd)
        checks.non_negative("training_effect", self.training_effect)
        checks.positive("programme_hours", self.programme_hours)
        checks.positive("training_half_life_months", self.training_half_life_months)
        checks.probability("spillover", self.spillover)
        for key in ("senior_topic_hours", "workshop_hours", "manager_programme_hours", "manager_peer_hours"):
            checks.non_negative(key, getattr(self, key))


@dataclass(kw_only=True)
class WorkReturns:
    """What an hour of discretionary work yields: prospecting, account development, and the complaints of neglect."""

    prospect_leads_per_hour: float = 0.25  # outbound prospects reached per hour of prospecting
    prospect_qualify_prob: float = 0.35  # P(an outbound prospect qualifies)
    development_calls_per_hour: float = 2.0  # account development calls per hour
    development_request_prob: float = 0.04  # P(a call to a live account turns into a purchase request)
    late_complaint_prob: float = 0.04  # P(an account whose request waited past the SLA complains)
    repeat_call_complaint_prob: float = 0.02  # P(complaint) for a second or later call in a month
    chunk_hours: float = 0.5  # discretionary work comes in tasks of this length
    admin_value_per_hour: float = 25.0  # what a rep under a scheme counts an hour of admin as worth
    satisfaction_base: float = 3.6  # customer satisfaction (1-5) of a rep with no timely response, no complaint
    satisfaction_timely: float = 1.2  # + this x follow-up timeliness
    satisfaction_complaint: float = 30.0  # - this x complaint rate
    data_use_per_hour: float = 0.15  # P(a training hour lets the rep find a latent need in CRM data) per month

    def __post_init__(self) -> None:
        for key in (
            "prospect_leads_per_hour",
            "development_calls_per_hour",
            "admin_value_per_hour",
            "satisfaction_timely",
            "satisfaction_complaint",
            "data_use_per_hour",
        ):
            checks.non_negative(key, getattr(self, key))
        for key in (
            "prospect_qualify_prob",
            "development_request_prob",
            "late_complaint_prob",
            "repeat_call_complaint_prob",
        ):
            checks.probability(key, getattr(self, key))
        checks.positive("chunk_hours", self.chunk_hours)
        if not 1.0 <= self.satisfaction_base <= 5.0:
            raise ConfigError("satisfaction_base", f"must be a score in [1, 5] (got {self.satisfaction_base})")


@dataclass(kw_only=True)
class ResponseConfig:
    """How reps respond to pay (domain.md section 2): cost of effort, present bias, ratchet foresight, games."""

    effort_cost: float = 40.0  # c: pay per day that a rep needs for e hours/day is c e^2 / 2
    present_bias: float = 0.85  # beta of beta-delta discounting: pay after this month is worth beta
    monthly_discount: float = 0.99  # delta per month
    ratchet_foresight: float = 1.0  # share of a quota ratchet's future cost a rep foresees (0: myopic)
    revenue_cv: float = 0.35  # sd of a rep's period revenue as a share of its expectation (Poisson deals and sizes)
    timing_window_days: float = 10.0  # working days before a period ends in which timing games happen
    pull_gap: float = 0.25  # a rep short of quota by less than this share of it pulls deals forward
    pull_prob: float = 0.3  # P(a deal awaiting the customer is pulled forward with a discount)
    pull_discount: float = 0.08  # discount that closes a pulled deal at once
    push_prob: float = 0.15  # P(a deal is pushed into the next period once the bonus is secured or capped)
    gaming_share: float = 0.1  # P(a rep makes a perfunctory first touch when timeliness is gated)

    def __post_init__(self) -> None:
        checks.positive("effort_cost", self.effort_cost)
        checks.probability("present_bias", self.present_bias)
        checks.probability("monthly_discount", self.monthly_discount)
        checks.probability("ratchet_foresight", self.ratchet_foresight)
        checks.positive("revenue_cv", self.revenue_cv)
        checks.non_negative("timing_window_days", self.timing_window_days)
        checks.probability("pull_gap", self.pull_gap)
        checks.probability("pull_prob", self.pull_prob)
        checks.probability("pull_discount", self.pull_discount, below_one=True)
        checks.probability("push_prob", self.push_prob)
        checks.probability("gaming_share", self.gaming_share)


@dataclass(kw_only=True)
class RepsConfig:
    """The reps' lifecycle, the yield of their discretionary work, and their response to pay."""

    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    work: WorkReturns = field(default_factory=WorkReturns)
    response: ResponseConfig = field(default_factory=ResponseConfig)
