"""Gaussian process based searchers: kernels, the GP model, acquisition and the BO searcher.

==============================  ==============================================================
``gp.kernels``                  :class:`Kernel` (log-parametrised, analytic gradients),
                                :class:`Matern52`, :class:`GammaPrior`
``gp.model``                    :class:`GPModel` (type-II ML / MAP fitting, refit policy,
                                subsampling), :class:`GPPosterior` (prediction, fantasies)
``gp.acquisition``              expected improvement, its gradient and its maximisation
``gp.searcher``                 :class:`GPSearcher`, registered as ``"bayesopt"``
==============================  ==============================================================

Names are imported on first use, so that the registry does not load scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GammaPrior": "hpo_core.searchers.gp.kernels",
    "Kernel": "hpo_core.searchers.gp.kernels",
    "Matern52": "hpo_core.searchers.gp.kernels",
    "GPModel": "hpo_core.searchers.gp.model",
    "GPPosterior": "hpo_core.searchers.gp.model",
    "expected_improvement": "hpo_core.searchers.gp.acquisition",
    "GPSearcher": "hpo_core.searchers.gp.searcher",
    "parse_map_reward": "hpo_core.searchers.gp.searcher",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
