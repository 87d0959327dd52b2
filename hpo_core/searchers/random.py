"""Random search: configurations drawn independently from the config space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.searchers.base import Searcher


class RandomSearcher(Searcher):
    """Draws each hyperparameter from its domain; never proposes the same config twice.

    Args:
        config_space: The configuration space.
        metric: Name of the metric to optimize.
        mode: ``"min"`` or ``"max"``.
        rng: The generator all draws come from.
        points_to_evaluate: Initial configs (see :class:`~hpo_core.searchers.base.Searcher`).
        max_retries: Draws to attempt before concluding that a finite space is exhausted.
    """

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            config_space, metric=metric, mode=mode, rng=rng, points_to_evaluate=points_to_evaluate
        )
        self.max_retries = max_retries
        self._seen: set[tuple[Any, ...]] = set()
        self._size = 1
        for domain in sp.hyperparameters(self.config_space).values():
            card = domain.cardinality
            self._size = self._size * card if card is not None and self._size else 0

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        while True:
            config = super().suggest(trial_id)
            if config is None:
                return None
            key = sp.config_key(self.config_space, config)
            if key not in self._seen:
                self._seen.add(key)
                return config
            if not self._initial and self._size and len(self._seen) >= self._size:
                return None

    def _suggest(self, trial_id: int) -> dict[str, Any] | None:
        if self._size and len(self._seen) >= self._size:
            return None
        for _ in range(self.max_retries):
            config = sp.sample_config(self.config_space, self.rng)
            if sp.config_key(self.config_space, config) not in self._seen:
                return config
        return None
