"""Schedulers and their registry."""

from hpo_core.schedulers.base import Scheduler
from hpo_core.schedulers.fifo import FIFOScheduler
from hpo_core.schedulers.hyperband import HyperbandScheduler

#: Scheduler name -> class; every registered scheduler passes the contract test suite.
SCHEDULERS: dict[str, type[Scheduler]] = {
    "fifo": FIFOScheduler,
    "hyperband": HyperbandScheduler,
}

__all__ = ["SCHEDULERS", "FIFOScheduler", "HyperbandScheduler", "Scheduler"]
