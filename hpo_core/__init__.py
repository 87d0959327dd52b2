"""hpo_core: benchmark hyperparameter optimization methods, in simulated or real time.

Public names are imported lazily, so ``import hpo_core`` stays fast:

    >>> from hpo_core import Tuner, StoppingCriterion, uniform
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Tuner": "hpo_core.tuner",
    "StoppingCriterion": "hpo_core.tuner",
    "TunerCallback": "hpo_core.tuner",
    "TuningSummary": "hpo_core.tuner",
    "Decision": "hpo_core.trial",
    "Trial": "hpo_core.trial",
    "TrialResult": "hpo_core.trial",
    "TrialSuggestion": "hpo_core.trial",
    "FIFOScheduler": "hpo_core.schedulers",
    "HyperbandScheduler": "hpo_core.schedulers",
    "SynchronousHyperbandScheduler": "hpo_core.schedulers",
    "DEHBScheduler": "hpo_core.schedulers",
    "SimulatorBackend": "hpo_core.backends.simulator",
    "uniform": "hpo_core.space",
    "loguniform": "hpo_core.space",
    "randint": "hpo_core.space",
    "lograndint": "hpo_core.space",
    "choice": "hpo_core.space",
    "finrange": "hpo_core.space",
    "logfinrange": "hpo_core.space",
    "ordinal": "hpo_core.space",
    "logordinal": "hpo_core.space",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hpo_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
