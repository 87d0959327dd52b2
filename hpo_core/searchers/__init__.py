"""Searchers and their registry (names as Syne Tune users know them)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core.searchers.base import Searcher
from hpo_core.searchers.gp.hypertune import HyperTuneSearcher
from hpo_core.searchers.gp.mobster import MultiFidelityGPSearcher
from hpo_core.searchers.gp.searcher import GPSearcher
from hpo_core.searchers.random import RandomSearcher

#: Searcher name -> class. Model-based searchers join here as they land.
SEARCHERS: dict[str, type[Searcher]] = {"random": RandomSearcher}
SEARCHERS["bayesopt"] = GPSearcher
SEARCHERS["bayesopt_multifidelity"] = MultiFidelityGPSearcher
SEARCHERS["hypertune"] = HyperTuneSearcher

#: Names that mean another searcher under a multi-fidelity scheduler, as in Syne Tune:
#: ``searcher="bayesopt"`` with :class:`~hpo_core.schedulers.HyperbandScheduler` is MOBSTER.
MULTI_FIDELITY_NAMES: dict[str, str] = {"bayesopt": "bayesopt_multifidelity"}


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
    :data:`MULTI_FIDELITY_NAMES` first.
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
    options = dict(search_options or {})
    fixed = {"config_space", "metric", "mode", "rng", "points_to_evaluate", "self"}
    allowed = sorted(set(inspect.signature(cls.__init__).parameters) - fixed)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"search_options {unknown} do not apply to searcher {searcher!r}; allowed: {allowed}"
        )
    return cls(
        config_space,
        metric=metric,
        mode=mode,
        rng=rng,
        points_to_evaluate=points_to_evaluate,
        **options,
    )


__all__ = ["MULTI_FIDELITY_NAMES", "SEARCHERS", "RandomSearcher", "Searcher", "make_searcher"]
