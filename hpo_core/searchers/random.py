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
        restrict_configurations: If given, draw only from these configs (e.g. the configs a
            table holds), each at most once; initial points not among them are dropped.
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
        restrict_configurations: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            config_space, metric=metric, mode=mode, rng=rng, points_to_evaluate=points_to_evaluate
        )
        self.max_retries = max_retries
        self._seen: set[tuple[Any, ...]] = set()
        self._names = list(sp.hyperparameters(self.config_space))
        self._allowed: list[dict[str, Any]] | None = None
        if restrict_configurations is not None:
            self._allowed = [dict(c) for c in restrict_configurations]
            if not self._allowed:
                raise ValueError("restrict_configurations must not be empty")
            keys = {sp.config_key(self.config_space, c) for c in self._allowed}
            self._initial = type(self._initial)(
                c for c in self._initial if sp.config_key(self.config_space, c) in keys
            )
            #: Positions in _allowed not drawn yet; swap-remove keeps each draw O(1).
            self._remaining = list(range(len(self._allowed)))
        self._size = 1
        for domain in sp.hyperparameters(self.config_space).values():
            card = domain.cardinality
            self._size = self._size * card if card is not None and self._size else 0

    def _key(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(config[name] for name in self._names)

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        while self._initial:
            config = self._initial.popleft()
            key = self._key(config)
            if key not in self._seen:
                self._seen.add(key)
                return config
        return self._suggest(trial_id)

    def _suggest(self, trial_id: int) -> dict[str, Any] | None:
        if self._allowed is not None:
            return self._draw_allowed()
        if self._size and len(self._seen) >= self._size:
            return None
        for _ in range(self.max_retries):
            config = sp.sample_config(self.config_space, self.rng)
            key = self._key(config)
            if key not in self._seen:
                self._seen.add(key)
                return config
        return None

    def _draw_allowed(self) -> dict[str, Any] | None:
        assert self._allowed is not None
        remaining = self._remaining
        while remaining:
            i = int(self.rng.integers(len(remaining)))
            remaining[i], remaining[-1] = remaining[-1], remaining[i]
            config = self._allowed[remaining.pop()]
            key = self._key(config)
            if key not in self._seen:
                self._seen.add(key)
                return config
        return None
