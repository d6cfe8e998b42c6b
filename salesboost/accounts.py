"""The customer base: accounts that exist beyond one lead and come back to buy again.

By default every account sends repeat requests at one constant rate (Poisson). With
``purchase`` set, each account buys by the BG/NBD process instead (Fader, Hardie and Lee 2005):
its own rate drawn from a gamma distribution, and after each repeat request it leaves for good
with its own probability drawn from a beta distribution, so the base has heterogeneity and
dropout. The parameters are in days, as ``experiment=customer_tiers`` fits them
(``btyd.json``), so a company's fitted purchase model can drive its simulated accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from salesboost import checks
from salesboost.distributions import Dist
from salesboost.errors import ConfigError


@dataclass(kw_only=True)
class BgNbdPurchase:
    """BG/NBD purchase timing: rate ~ Gamma(r, rate alpha) per day, dropout after a purchase ~ Beta(a, b)."""

    r: float
    alpha_days: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for key in ("r", "alpha_days", "a", "b"):
            checks.positive(key, getattr(self, key))

    def mean_purchases_per_year(self) -> float:
        """The base's mean purchase rate while alive, per year (r / alpha x 365.25)."""
        return self.r / self.alpha_days * 365.25


#: How accounts time their repeat purchases.
PURCHASE_MODELS = ("poisson", "bgnbd")


@dataclass(kw_only=True)
class PurchaseConfig:
    """The purchase model as config: ``model`` picks it; the BG/NBD parameters apply to ``bgnbd``.

    The BG/NBD defaults are illustrative (a B2B-like base: about 5 purchases a year while alive,
    a mean 15% chance of leaving after each; *judgment*); fit a company's own with
    ``experiment=customer_tiers`` (``btyd.json``, parameters in days).
    """

    model: str = "poisson"
    r: float = 0.8
    alpha_days: float = 60.0
    a: float = 0.9
    b: float = 5.0

    def __post_init__(self) -> None:
        checks.one_of("model", self.model, PURCHASE_MODELS)
        for key in ("r", "alpha_days", "a", "b"):
            checks.positive(key, getattr(self, key))

    def bgnbd(self) -> BgNbdPurchase | None:
        """The BG/NBD parameters if the model is ``bgnbd``, else None (Poisson at ``repeat_per_year``)."""
        if self.model != "bgnbd":
            return None
        return BgNbdPurchase(r=self.r, alpha_days=self.alpha_days, a=self.a, b=self.b)


#: How an account's order values differ from another's.
SPEND_MODELS = ("segment", "gamma_gamma")


@dataclass(kw_only=True)
class SpendConfig:
    """Spend heterogeneity across accounts: ``segment`` (none) or gamma-gamma's per-account mean.

    In the gamma-gamma model (Fader, Hardie and Lee 2005b) an account's order values have the mean
    p / nu with nu ~ Gamma(q, gamma); here each account's deal sizes are the segment's, times its
    own multiplier (q - 1) / w with w ~ Gamma(q, 1), which has mean 1, so the base's mean deal
    size stays the segment's (q > 1; variance 1 / (q - 2) for q > 2). ``correlation`` ties the
    multiplier to the purchase rate through a Gaussian copula (BG/NBD only; 0: independent).
    """

    model: str = "segment"
    q: float = 3.74  # CDNOW (Fader and Hardie 2013 note): spread of the accounts' mean spend
    correlation: float = 0.0  # Gaussian copula between purchase rate and spend multiplier

    def __post_init__(self) -> None:
        checks.one_of("model", self.model, SPEND_MODELS)
        if not self.q > 1.0:
            raise ConfigError("q", f"must be > 1 (the mean spend is finite only then) (got {self.q})")
        if not -1.0 < self.correlation < 1.0:
            raise ConfigError("correlation", f"must be strictly between -1 and 1 (got {self.correlation})")


@dataclass(kw_only=True)
class AccountsConfig:
    """Existing accounts at the start, their repeat purchases and the service work they need."""

    initial: int  # accounts at clock 0, spread over regions by market.regions
    repeat_per_year: float  # repeat-purchase leads per account per year (Poisson)
    qualify_prob: float  # P(a repeat request becomes an opportunity) if answered within speed_to_lead.t0
    service_hours_per_month: float  # rep service work per account per month (reviews, issues, visits)
    service_task_hours: Dist  # length of one service task; tasks come at the monthly rate / mean length
    tags: dict[str, float] = field(default_factory=dict)  # tag -> share of accounts carrying it
    purchase: PurchaseConfig = field(default_factory=PurchaseConfig)  # poisson (repeat_per_year) or bgnbd
    spend: SpendConfig = field(default_factory=SpendConfig)  # segment (no heterogeneity) or gamma_gamma
    # P(a repeat request is a direct reorder): it skips the call and qualification and starts at the quote.
    reorder_share: float = 0.0
    # Speed-to-lead decay of an account's request; None: the same as a prospect's (behaviour.speed_to_lead.beta).
    speed_to_lead_beta: float | None = None

    def __post_init__(self) -> None:
        if self.initial < 0:
            raise ConfigError("initial", f"must be >= 0 (got {self.initial})")
        checks.non_negative("repeat_per_year", self.repeat_per_year)
        checks.probability("qualify_prob", self.qualify_prob)
        checks.non_negative("service_hours_per_month", self.service_hours_per_month)
        for tag, share in self.tags.items():
            checks.probability(f"tags.{tag}", share)
        checks.probability("reorder_share", self.reorder_share)
        if self.speed_to_lead_beta is not None:
            checks.non_negative("speed_to_lead_beta", self.speed_to_lead_beta)
