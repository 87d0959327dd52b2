"""Search options that make each registered searcher cheap enough for contract tests.

The model-based searchers' defaults (250 candidates, two hyperparameter optimisations of 50
iterations per fit, up to 500 observations) are right for studies and far too slow for test
suites that run hundreds of short tunings. :data:`FAST_SEARCH_OPTIONS` holds, per searcher
registry name, small values that exercise the same code paths (model fits, hyperparameter
optimisation and its skipping, subsampling of the data, fantasies, Hyper-Tune's level weights)
in a fraction of the time. Every name of :data:`hpo_core.searchers.SEARCHERS` has an entry (an
empty one for model-free searchers), so that a new searcher cannot slip into the contract suites
with slow defaults: :func:`fast_search_options` refuses a name without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpo_core.searchers import MULTI_FIDELITY_NAMES, SEARCHERS

#: The GP searchers' options: few candidates, no local search of EI, one short hyperparameter
#: optimisation per fit, re-optimised in every 10th fit beyond 20 observations, and at most 20
#: observations in the model.
FAST_GP_OPTIONS: dict[str, Any] = {
    "num_init_candidates": 20,
    "skip_local_optimization": True,
    "opt_nstarts": 1,
    "opt_maxiter": 5,
    "max_size_data_for_model": 20,
    "opt_skip_init_length": 20,
    "opt_skip_period": 10,
}

#: Searcher registry name -> search options that keep it fast.
FAST_SEARCH_OPTIONS: dict[str, dict[str, Any]] = {
    "random": {},
    "bayesopt": dict(FAST_GP_OPTIONS),
    "bayesopt_multifidelity": dict(FAST_GP_OPTIONS),
    # ... and fewer ranking-loss samples for the level weights
    "hypertune": {**FAST_GP_OPTIONS, "hypertune_distribution_num_samples": 10},
    # The KDE's defaults are fast; a larger good set lets it fit its densities within the
    # 30 suggestions of the searcher contract (its space has 5 hyperparameters).
    "kde": {"top_n_percent": 30},
    "kde_multifidelity": {"top_n_percent": 30},
}


def fast_search_options(searcher: str, *, multi_fidelity: bool = False) -> dict[str, Any]:
    """The fast search options of searcher ``searcher`` (a registry name), as a new dict.

    ``multi_fidelity=True`` maps the name as a multi-fidelity scheduler does
    (:data:`~hpo_core.searchers.MULTI_FIDELITY_NAMES`) first.

    Raises:
        KeyError: If ``searcher`` has no entry in :data:`FAST_SEARCH_OPTIONS` (naming it).
    """
    if multi_fidelity:
        searcher = MULTI_FIDELITY_NAMES.get(searcher, searcher)
    if searcher not in FAST_SEARCH_OPTIONS:
        raise KeyError(
            f"searcher {searcher!r} has no entry in hpo_core.testing.fast_options."
            f"FAST_SEARCH_OPTIONS (entries: {sorted(FAST_SEARCH_OPTIONS)}); add one (an empty "
            "dict if its defaults are fast)"
        )
    return dict(FAST_SEARCH_OPTIONS[searcher])


def missing_fast_options(searchers: Mapping[str, Any] = SEARCHERS) -> list[str]:
    """Names of ``searchers`` (default: the registry) without fast options."""
    return sorted(set(searchers) - set(FAST_SEARCH_OPTIONS))
