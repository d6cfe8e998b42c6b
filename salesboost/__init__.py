"""salesboost: the domain vocabulary of the sales-strategy simulator.

Typed, validated configuration (a :class:`Scenario` and its parts), domain rules as pure
functions, and result types. No simulation engine, no tracking, no parallelism here.
"""

from salesboost.behaviour import BehaviourConfig, SpeedToLeadConfig
from salesboost.build import build
from salesboost.calendar import CalendarConfig
from salesboost.distributions import Dist
from salesboost.errors import ConfigError
from salesboost.histogram import LogHistogram
from salesboost.market import ChannelConfig, MarketConfig, SegmentConfig
from salesboost.metrics import HEADLINE_METRICS, METRIC_NAMES, METRICS, MetricSpec
from salesboost.pipeline import (
    ApprovalConfig,
    AssignmentConfig,
    ContractConfig,
    ErpConfig,
    FollowUpConfig,
    PipelineConfig,
    QuoteConfig,
)
from salesboost.results import FUNNEL, OUTCOMES, RunResult
from salesboost.scenario import HorizonConfig, KpiConfig, Scenario
from salesboost.team import EconomicsConfig, TeamConfig

__all__ = [
    "FUNNEL",
    "HEADLINE_METRICS",
    "METRICS",
    "METRIC_NAMES",
    "OUTCOMES",
    "ApprovalConfig",
    "AssignmentConfig",
    "BehaviourConfig",
    "CalendarConfig",
    "ChannelConfig",
    "ConfigError",
    "ContractConfig",
    "Dist",
    "EconomicsConfig",
    "ErpConfig",
    "FollowUpConfig",
    "HorizonConfig",
    "KpiConfig",
    "LogHistogram",
    "MarketConfig",
    "MetricSpec",
    "PipelineConfig",
    "QuoteConfig",
    "RunResult",
    "Scenario",
    "SegmentConfig",
    "SpeedToLeadConfig",
    "TeamConfig",
    "build",
]
