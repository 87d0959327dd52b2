"""Searchers and their registry (names as Syne Tune users know them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core.searchers.base import Searcher, SearcherOptions
from hpo_core.searchers.gp.hypertune import HyperTuneOptions, HyperTuneSearcher
from hpo_core.searchers.gp.mobster import MultiFidelityGPOptions, MultiFidelityGPSearcher
from hpo_core.searchers.gp.searcher import GPOptions, GPSearcher
from hpo_core.searchers.kde import (
    KDEOptions,
    KDESearcher,
    MultiFidelityKDEOptions,
    MultiFidelityKDESearcher,
)
from hpo_core.searchers.random import RandomSearcher, RandomSearchOptions

#: Searcher name -> class. Model-based searchers join here as they land.
SEARCHERS: dict[str, type[Searcher]] = {"random": RandomSearcher}
SEARCHERS["bayesopt"] = GPSearcher
SEARCHERS["bayesopt_multifidelity"] = MultiFidelityGPSearcher
SEARCHERS["hypertune"] = HyperTuneSearcher
SEARCHERS["kde"] = KDESearcher
SEARCHERS["kde_multifidelity"] = MultiFidelityKDESearcher

#: Names that mean another searcher under a multi-fidelity scheduler, as in Syne Tune:
#: ``searcher="bayesopt"`` with :class:`~hpo_core.schedulers.HyperbandScheduler` is MOBSTER.
MULTI_FIDELITY_NAMES: dict[str, str] = {"bayesopt": "bayesopt_multifidelity",
                                        "kde": "kde_multifidelity"}


def make_searcher(
    searcher: str | Searcher,
    config_space: Mapping[str, Any],
    *,
    metric: str,
    mode: str,
    rng: np.random.Generator,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    search_options: Mapping[str, Any] | None = None,
    multi_fidelity: bool = False,
) -> Searcher:
    """A searcher instance from a registry name (or the instance itself).

    ``multi_fidelity=True`` (multi-fidelity schedulers) maps names by
    :data:`MULTI_FIDELITY_NAMES` first. ``search_options`` become the searcher's options
    dataclass (its :attr:`~hpo_core.searchers.Searcher.options_type`).

    Raises:
        ValueError: For an unknown name, or ``search_options`` that the searcher does not take
            (naming them and the allowed ones) or that are out of range.
    """
    if isinstance(searcher, Searcher):
        if search_options:
            raise ValueError("search_options only apply when searcher is given by name")
        return searcher
    if searcher not in SEARCHERS:
        raise ValueError(f"searcher must be one of {sorted(SEARCHERS)}, got {searcher!r}")
    if multi_fidelity:
        searcher = MULTI_FIDELITY_NAMES.get(searcher, searcher)
    cls = SEARCHERS[searcher]
    options = cls.options_type.from_mapping(search_options, searcher=searcher)
    factory: Callable[..., Searcher] = cls
    return factory(config_space, metric=metric, mode=mode, rng=rng,
                   points_to_evaluate=points_to_evaluate, options=options)


__all__ = [
    "MULTI_FIDELITY_NAMES",
    "SEARCHERS",
    "GPOptions",
    "GPSearcher",
    "HyperTuneOptions",
    "HyperTuneSearcher",
    "KDEOptions",
    "KDESearcher",
    "MultiFidelityGPOptions",
    "MultiFidelityGPSearcher",
    "MultiFidelityKDEOptions",
    "MultiFidelityKDESearcher",
    "RandomSearchOptions",
    "RandomSearcher",
    "Searcher",
    "SearcherOptions",
    "make_searcher",
]
