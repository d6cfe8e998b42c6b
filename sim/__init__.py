"""sim: the SimPy world that plays a salesboost scenario out.

The one entry point is :func:`run`; everything else is the model's parts.
"""

from sim.calendar import Calendar
from sim.runner import run
from sim.streams import Streams

__all__ = ["Calendar", "Streams", "run"]
