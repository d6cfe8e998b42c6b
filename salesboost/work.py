"""How a rep or manager chooses the next task: the work policy, as configuration.

The config is flat (Hydra's structured configs cannot hold a union of dataclasses); it is
parsed once, at construction, into one typed policy of a tagged union, which is all the
simulation sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.errors import ConfigError

#: Kinds of rep and manager work a policy can rank.
TASK_KINDS: tuple[str, ...] = (
    "first_contact",
    "quote",
    "contract",
    "account",
    "prospecting",
    "admin",
    "training",
    "approval",
    "escalation",
    "countersign",
    "duties",
    "order_entry",
)
WORK_POLICIES = ("fifo", "oldest_first", "expected_value", "priority")


@dataclass(frozen=True)
class Fifo:
    """The task asked for first is done first."""

    kind: str = "fifo"


@dataclass(frozen=True)
class OldestFirst:
    """The task of the oldest request (lead or account, by arrival) is done first."""

    kind: str = "oldest_first"


@dataclass(frozen=True)
class ExpectedValue:
    """The task with the highest expected gross profit per hour of work is done first.

    ``account_value_per_hour`` prices work on existing accounts and ``admin_value_per_hour``
    the admin and training the policy can defer; ties go to the task asked for first.
    """

    account_value_per_hour: float
    admin_value_per_hour: float
    kind: str = "expected_value"


@dataclass(frozen=True)
class Priority:
    """Static ranks by task kind, then by lead channel (lower first); FIFO within a rank."""

    kind_ranks: dict[str, int]
    channel_ranks: dict[str, int]
    kind: str = "priority"


WorkPolicy = Fifo | OldestFirst | ExpectedValue | Priority


@dataclass(kw_only=True)
class WorkPolicyConfig:
    """A work policy: ``kind`` and the parameters that kind uses."""

    kind: str
    account_value_per_hour: float | None = None  # expected_value
    admin_value_per_hour: float | None = None  # expected_value
    kind_ranks: dict[str, int] = field(default_factory=dict)  # priority
    channel_ranks: dict[str, int] = field(default_factory=dict)  # priority

    def __post_init__(self) -> None:
        checks.one_of("kind", self.kind, WORK_POLICIES)
        self._policy = self._parse()

    def _parse(self) -> WorkPolicy:
        if self.kind == "fifo":
            return Fifo()
        if self.kind == "oldest_first":
            return OldestFirst()
        if self.kind == "expected_value":
            for key in ("account_value_per_hour", "admin_value_per_hour"):
                value = getattr(self, key)
                if value is None:
                    raise ConfigError(key, "required when kind is expected_value")
                checks.non_negative(key, value)
            return ExpectedValue(float(self.account_value_per_hour or 0.0), float(self.admin_value_per_hour or 0.0))
        for name in self.kind_ranks:
            if name not in TASK_KINDS:
                raise ConfigError(f"kind_ranks.{name}", f"unknown task kind; allowed: {', '.join(TASK_KINDS)}")
        return Priority(dict(self.kind_ranks), dict(self.channel_ranks))

    def policy(self) -> WorkPolicy:
        """The parsed, typed policy."""
        return self._policy
