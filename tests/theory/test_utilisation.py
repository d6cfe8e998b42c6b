"""Rep utilisation counts all work: pipeline calls, planned admin and training, and meetings.

On a 24/7 calendar with Poisson leads, every call of mean length 1 / mu, and work the rep
plans each day (admin in chunks, a daily meeting blocked out of the calendar), a stable rep
pool is busy ``lambda / (c mu)`` of the time with calls, plus the planned hours a day over 24.
At this light load every planned task is done the day it is planned, so the expected value
is exact in the long run.
"""

from __future__ import annotations

import sim
from salesboost import Scenario
from tests.support import mmc_sections
from tests.theory.test_queueing import assert_reference_in_ci

SEED = 20240505
SERVERS, LAM, MU = 3, 1.2, 1.0
ADMIN_HOURS = 2.0  # a day, in 0.5 h chunks
MEETING = ("09:00-09:30",)  # 0.5 h a day, counted as admin work


def scenario() -> Scenario:
    data = mmc_sections(servers=SERVERS, arrival_rate=LAM, service_mean=1 / MU, days=90.0, warmup_days=3.0)
    data["team"]["rep_time"].update(admin_hours_per_day=ADMIN_HOURS, admin_chunk_hours=0.5, meetings=list(MEETING))
    return Scenario.from_dict(data)


def test_theory_rep_utilisation_counts_calls_admin_and_meetings():
    runs = [sim.run(scenario(), SEED, r) for r in range(6)]
    planned = (ADMIN_HOURS + 0.5) / 24.0
    assert_reference_in_ci([r.metrics["rep_utilisation"] for r in runs], LAM / (SERVERS * MU) + planned)
    # Selling time is the customer-facing part only: the calls.
    assert_reference_in_ci([r.metrics["rep_selling_share"] for r in runs], LAM / (SERVERS * MU))
