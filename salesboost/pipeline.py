"""The sales pipeline as configuration: one policy and its parameters per stage.

Policies name mechanisms (a daily batch vs immediate assignment, review windows vs online
approval, paper vs e-signature, batch order entry vs ERP sync). Parameters that only one
policy uses are optional and required when that policy is chosen. Hydra's structured configs
cannot hold unions of dataclasses, so each stage config is flat; it is parsed once, on
construction, into ``mechanism``: one typed member of a tagged union, with clock times as
hours. The simulation reads only the mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError

ASSIGNMENT_POLICIES = ("daily_batch", "immediate")
ASSIGNMENT_RULES = ("round_robin", "least_loaded", "pooled")
QUOTE_POLICIES = ("manual", "template")
APPROVAL_POLICIES = ("window", "online")
CONTRACT_POLICIES = ("paper", "esign")
ERP_POLICIES = ("daily_batch", "auto_sync")


def _require(owner: object, policy: str, *names: str) -> None:
    for name in names:
        if getattr(owner, name) is None:
            raise ConfigError(name, f"required when policy is {policy}")


@dataclass(frozen=True)
class DailyBatch:
    """A manager hands out the leads collected since the last batch at ``times`` (hours)."""

    times: tuple[float, ...]
    rule: str


@dataclass(frozen=True)
class Immediate:
    """The CRM assigns a lead the moment it arrives."""

    rule: str


@dataclass(frozen=True)
class ReviewWindows:
    """Managers review the tray at ``times`` on working days, up to ``budget_hours`` each."""

    times: tuple[float, ...]
    budget_hours: float


@dataclass(frozen=True)
class OnlineInbox:
    """Managers answer requests between other work while ``hours``; late ones are escalated."""

    hours: tuple[tuple[float, float], ...]
    escalate_after_hours: float
    escalation_hours: Dist
    away_reachable_prob: float


@dataclass(frozen=True)
class PaperContract:
    """Printed contract by courier both ways, countersigned by a manager at ``countersign_times``."""

    courier_days: Dist
    countersign_times: tuple[float, ...]


@dataclass(frozen=True)
class ESignature:
    """Contract sent and countersigned electronically."""


@dataclass(frozen=True)
class ErpBatch:
    """Sales ops key orders at ``times``; a wrong entry is keyed again at the next batch."""

    times: tuple[float, ...]


@dataclass(frozen=True)
class ErpSync:
    """The CRM pushes the order to the ERP after a short sync delay."""


Assignment = DailyBatch | Immediate
Approval = ReviewWindows | OnlineInbox
Contract = PaperContract | ESignature
OrderEntry = ErpBatch | ErpSync


@dataclass(kw_only=True)
class AssignmentConfig:
    """How new leads reach a rep: a manager's daily batch or CRM assignment at once."""

    policy: str
    rule: str  # which rep in the lead's region gets it
    batch_times: list[str] | None = None  # daily_batch: times of day the batch is handed out

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, ASSIGNMENT_POLICIES)
        checks.one_of("rule", self.rule, ASSIGNMENT_RULES)
        self.mechanism: Assignment
        if self.policy == "daily_batch":
            _require(self, self.policy, "batch_times")
            self.mechanism = DailyBatch(checks.clock_times("batch_times", self.batch_times or []), self.rule)
        else:
            self.mechanism = Immediate(self.rule)


@dataclass(kw_only=True)
class FollowUpConfig:
    """First contact: the assigned rep calls when the work policy picks it, and tries again.

    An attempt that does not reach the lead takes ``attempt_hours``; the next attempt is due
    ``retry_gap_hours`` of working time later, up to ``max_attempts`` in all.
    """

    contact_hours: Dist  # rep work time of the call that reaches the lead (call plus CRM notes)
    attempt_hours: Dist  # rep work time of an attempt that does not reach the lead
    max_attempts: int
    retry_gap_hours: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("max_attempts", f"must be >= 1 (got {self.max_attempts})")
        checks.non_negative("retry_gap_hours", self.retry_gap_hours)


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
    escalate_after_hours: float | None = None  # online: escalate a request still pending this long
    escalation_response_hours: Dist | None = None  # online: delay of the escalation response
    away_reachable_prob: float | None = None  # online: P(a manager who is away still answers on mobile)

    def __post_init__(self) -> None:
        checks.one_of("policy", self.policy, APPROVAL_POLICIES)
        self.mechanism: Approval
        if self.policy == "window":
            _require(self, self.policy, "windows", "window_hours")
            checks.positive("window_hours", self.window_hours or 0.0)
            self.mechanism = ReviewWindows(
                checks.clock_times("windows", self.windows or []), float(self.window_hours or 0)
            )
        else:
            _require(
                self,
                self.policy,
                "online_hours",
                "escalate_after_hours",
                "escalation_response_hours",
                "away_reachable_prob",
            )
            checks.probability("away_reachable_prob", self.away_reachable_prob or 0.0)
            checks.positive("escalate_after_hours", self.escalate_after_hours or 0.0)
            assert self.escalation_response_hours is not None  # required above
            self.mechanism = OnlineInbox(
                checks.intervals("online_hours", self.online_hours or []),
                float(self.escalate_after_hours or 0.0),
                self.escalation_response_hours,
                float(self.away_reachable_prob or 0.0),
            )


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
        self.mechanism: Contract
        if self.policy == "paper":
            _require(self, self.policy, "courier_days", "countersign_times")
            assert self.courier_days is not None  # required above
            times = checks.clock_times("countersign_times", self.countersign_times or [])
            self.mechanism = PaperContract(self.courier_days, times)
        else:
            self.mechanism = ESignature()


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
        self.mechanism: OrderEntry
        if self.policy == "daily_batch":
            _require(self, self.policy, "batch_times")
            self.mechanism = ErpBatch(checks.clock_times("batch_times", self.batch_times or []))
        else:
            self.mechanism = ErpSync()


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

    def options(self) -> dict[str, str]:
        """The option in use per stage (the keys of economics.running_costs)."""
        return {
            "assignment": self.assignment.policy,
            "quote": self.quote.policy,
            "approval": self.approval.policy,
            "contract": self.contract.policy,
            "erp": self.erp.policy,
        }
