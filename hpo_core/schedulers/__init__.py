"""Schedulers and their registry."""

from hpo_core.schedulers.base import Scheduler
from hpo_core.schedulers.dehb import DEHBScheduler
from hpo_core.schedulers.fifo import FIFOScheduler
from hpo_core.schedulers.hyperband import HyperbandScheduler
from hpo_core.schedulers.synchronous import SynchronousHyperbandScheduler

#: Scheduler name -> class; every registered scheduler passes the contract test suite.
SCHEDULERS: dict[str, type[Scheduler]] = {
    "fifo": FIFOScheduler,
    "hyperband": HyperbandScheduler,
    "synchronous_hyperband": SynchronousHyperbandScheduler,
    "dehb": DEHBScheduler,
}

__all__ = ["SCHEDULERS", "DEHBScheduler", "FIFOScheduler", "HyperbandScheduler", "Scheduler",
           "SynchronousHyperbandScheduler"]
