"""Gaussian process based searchers: kernels, the GP model, acquisition and the BO searcher.

==============================  ==============================================================
``gp.kernels``                  :class:`Kernel` (log-parametrised, analytic gradients),
                                :class:`Matern52`, :class:`GammaPrior`
``gp.model``                    :class:`GPModel` (type-II ML / MAP fitting, refit policy,
                                subsampling), :class:`GPPosterior` (prediction, fantasies)
``gp.acquisition``              expected improvement, its gradient and its maximisation for any
                                posterior over configs (Thompson or EI scoring, batched local
                                search, fantasy samples)
``gp.searcher``                 :class:`GPSearcherBase` (what GP searchers share),
                                :class:`GPSearcher`, registered as ``"bayesopt"``
``gp.resource_kernels``         kernels and means over (config, resource):
                                :func:`make_resource_kernel` (exp-decay-sum/-combined/-delta1,
                                matern52, matern52-res-warp)
``gp.multitask``                :class:`ResourceGPModel`, :class:`ResourcePosterior` (the joint
                                multi-fidelity GP, "gp_multitask")
``gp.independent``              :class:`IndependentGPModel` (one GP per level, shared
                                lengthscales, "gp_independent"; a posterior per level)
``gp.mobster``                  :class:`MultiFidelityGPSearcher`, registered as
                                ``"bayesopt_multifidelity"`` (``"bayesopt"`` under Hyperband)
``gp.hypertune``                :class:`HyperTuneSearcher`, registered as ``"hypertune"``
                                (ranking-loss level weights, ensemble posterior, brackets)
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
    "RESOURCE_KERNELS": "hpo_core.searchers.gp.resource_kernels",
    "ResourceKernel": "hpo_core.searchers.gp.resource_kernels",
    "make_resource_kernel": "hpo_core.searchers.gp.resource_kernels",
    "ResourceGPModel": "hpo_core.searchers.gp.multitask",
    "ResourcePosterior": "hpo_core.searchers.gp.multitask",
    "IndependentGPModel": "hpo_core.searchers.gp.independent",
    "MultiFidelityGPSearcher": "hpo_core.searchers.gp.mobster",
    "HyperTuneSearcher": "hpo_core.searchers.gp.hypertune",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
