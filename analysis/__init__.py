"""analysis: what the results mean.

Replication statistics, paired comparisons against a baseline and plots. Works on
:class:`salesboost.RunResult` values and pandas tables; never runs a simulation.
"""

from analysis.compare import compare_to_baseline, replication_table, summarise
from analysis.stats import Estimate, mean_interval, paired_difference, paired_uplift, welch_difference

__all__ = [
    "Estimate",
    "compare_to_baseline",
    "mean_interval",
    "paired_difference",
    "paired_uplift",
    "replication_table",
    "summarise",
    "welch_difference",
]
