"""Order entry into the ERP: sales ops key orders in daily batches, or the CRM syncs them."""

from __future__ import annotations

from salesboost import checks
from salesboost.pipeline import ErpConfig
from sim.calendar import Calendar
from sim.servers import ServerPool


class OrderEntry:
    """Books signed orders; an entry with an error is keyed again at the next batch."""

    def __init__(self, config: ErpConfig, calendar: Calendar, clerks: ServerPool) -> None:
        self._calendar = calendar
        self._clerks = clerks
        self._batch = config.policy == "daily_batch"
        self._times = checks.clock_times("batch_times", config.batch_times or []) if self._batch else ()

    def book(self, ready: float, hours: float) -> tuple[float, float, str]:
        """Start, end and resource of an entry of ``hours`` for an order ready at ``ready``."""
        if not self._batch:
            return ready, ready + hours, "erp_sync"
        batch = self._calendar.next_daily_instant(ready, self._times)
        clerk = self._clerks.pick()
        start, end = clerk.schedule(batch, hours)
        return start, end, clerk.name
