"""The sales pipeline as configuration: one policy and its parameters per stage.

Policies name mechanisms (a daily batch vs immediate assignment, review windows vs online
approval, paper vs e-signature, batch order entry vs ERP sync). Parameters that only one
policy uses are optional and required when that policy is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError

ASSIGNMENT_POLICIES = ("daily_batch", "immediate")
ASSIGNMENT_RULES = ("round_robin", "least_loaded")
QUOTE_POLICIES = ("manual", "template")
APPROVAL_POLICIES = ("window", "online")
CONTRACT_POLICIES = ("paper", "esign")
ERP_POLICIES = ("daily_batch", "auto_sync")


def _require(owner: object, policy: str, *names: str) -> None:
    for name in names:
        if getattr(owner, name) is None:
            raise ConfigError(name, f"required when policy is {policy}")


@dataclass(kw_only=True)
class AssignmentConfig:
    """How new leads reach a rep: a manager's daily batch or CRM assignment at once."""

    policy: str
    rule: str  # which rep in the lead's region gets it
    batch_times: list[str] | None = None  # daily_batch: times of day the batch is handed out

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, ASSIGNMENT_POLICIES)
        checks.one_of("rule", self.rule, ASSIGNMENT_RULES)
        if self.policy == "daily_batch":
            _require(self, self.policy, "batch_times")
            checks.clock_times("batch_times", self.batch_times or [])


@dataclass(kw_only=True)
class FollowUpConfig:
    """First contact: the assigned rep calls when free (FIFO with the rep's other work)."""

    contact_hours: Dist  # rep work time of the first contact


@dataclass(kw_only=True)
class QuoteConfig:
    """Quote preparation by the rep; a quote can come back from approval for rework."""

    policy: str
    prep_hours: Dist  # rep work time to prepare a quote
    rework_prob: float  # P(an approval round sends the quote back)
    rework_hours: Dist  # rep work time per rework

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, QUOTE_POLICIES)
        checks.probability("rework_prob", self.rework_prob, below_one=True)


@dataclass(kw_only=True)
class ApprovalConfig:
    """Manager approval of quotes: daily review windows, or an online inbox with an SLA."""

    policy: str
    review_hours: Dist  # manager work time per quote
    windows: list[str] | None = None  # window: times of day the tray is reviewed
    window_hours: float | None = None  # window: manager time budget per window
    online_hours: list[str] | None = None  # online: hours a manager answers (mobile)
    check_interval_hours: float | None = None  # online: mean gap between inbox checks
    escalate_after_hours: float | None = None  # online: escalate a request still pending this long
    escalation_response_hours: Dist | None = None  # online: delay of the escalation response
    away_reachable_prob: float | None = None  # online: P(a manager who is away still answers on mobile)

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, APPROVAL_POLICIES)
        if self.policy == "window":
            _require(self, self.policy, "windows", "window_hours")
            checks.clock_times("windows", self.windows or [])
            checks.positive("window_hours", self.window_hours or 0.0)
        else:
            _require(
                self,
                self.policy,
                "online_hours",
                "check_interval_hours",
                "escalate_after_hours",
                "escalation_response_hours",
                "away_reachable_prob",
            )
            checks.probability("away_reachable_prob", self.away_reachable_prob or 0.0)
            checks.intervals("online_hours", self.online_hours or [])
            checks.positive("check_interval_hours", self.check_interval_hours or 0.0)
            checks.positive("escalate_after_hours", self.escalate_after_hours or 0.0)


@dataclass(kw_only=True)
class ContractConfig:
    """Contract from acceptance to countersignature: paper by courier, or e-signature."""

    policy: str
    prep_hours: Dist  # rep work to draft the contract (and each revision)
    legal_review_hours: Dist  # customer legal review, working hours of the customer
    revision_prob: float  # P(legal review asks for another round)
    sign_days: Dist  # customer signatory's delay after legal approval, elapsed days
    courier_days: Dist | None = None  # paper: courier transit each way, elapsed days
    countersign_times: list[str] | None = None  # paper: times of day our signatory signs

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, CONTRACT_POLICIES)
        checks.probability("revision_prob", self.revision_prob, below_one=True)
        if self.policy == "paper":
            _require(self, self.policy, "courier_days", "countersign_times")
            checks.clock_times("countersign_times", self.countersign_times or [])


@dataclass(kw_only=True)
class ErpConfig:
    """Order entry: sales ops key orders in daily batches, or the CRM syncs them to the ERP."""

    policy: str
    entry_hours: Dist  # daily_batch: ops work per order; auto_sync: sync delay (elapsed)
    error_prob: float  # P(an entry is wrong and is keyed again at the next batch)
    batch_times: list[str] | None = None  # daily_batch: times of day orders are keyed

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, ERP_POLICIES)
        checks.probability("error_prob", self.error_prob, below_one=True)
        if self.policy == "daily_batch":
            _require(self, self.policy, "batch_times")
            checks.clock_times("batch_times", self.batch_times or [])


@dataclass(kw_only=True)
class PipelineConfig:
    """The pipeline variant: a name and one config per stage."""

    name: str
    assignment: AssignmentConfig
    followup: FollowUpConfig
    quote: QuoteConfig
    approval: ApprovalConfig
    contract: ContractConfig
    erp: ErpConfig
