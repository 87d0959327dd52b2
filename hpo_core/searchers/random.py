"""Random search: configurations drawn independently from the config space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpo_core import space as sp
from hpo_core.searchers.base import Searcher, SearcherOptions, check_int

#: Configs whose uniform draws are taken from the generator at once.
DRAW_BLOCK = 64


@dataclass(frozen=True, kw_only=True)
class RandomSearchOptions(SearcherOptions):
    """Options of :class:`RandomSearcher`.

    Attributes:
        max_retries: Draws to attempt before concluding that a finite space is exhausted.
        restrict_configurations: If given, draw only from these configs (e.g. the configs a
            table holds), each at most once; initial points not among them are dropped.
    """

    max_retries: int = 100
    restrict_configurations: Sequence[Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("max_retries", self.max_retries, 1)
        if self.restrict_configurations is not None and not len(self.restrict_configurations):
            raise ValueError("restrict_configurations must not be empty")


class RandomSearcher(Searcher):
    """Draws each hyperparameter from its domain; never proposes the same config twice.

    Args:
        config_space: The configuration space.
        metric: Name of the metric to optimize.
        mode: ``"min"`` or ``"max"``.
        rng: The generator all draws come from.
        points_to_evaluate: Initial configs (see :class:`~hpo_core.searchers.base.Searcher`).
        options: See :class:`RandomSearchOptions` (default: its defaults).
    """

    options_type = RandomSearchOptions
    options: RandomSearchOptions

    def _setup(self) -> None:
        super()._setup()
        options = self.options
        self._seen: set[tuple[Any, ...]] = set()
        self._names = list(sp.hyperparameters(self.config_space))
        self._allowed: list[dict[str, Any]] | None = None
        if options.restrict_configurations is not None:
            self._allowed = [dict(c) for c in options.restrict_configurations]
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
        self._domains = list(sp.hyperparameters(self.config_space).items())
        #: Uniform draws of configs to come, last first: drawn DRAW_BLOCK configs at a time,
        #: the same stream as one ``rng.random(k)`` per config.
        self._draws: list[list[float]] = []

    def _sample(self) -> dict[str, Any]:
        """A random config, as :func:`~hpo_core.space.sample_config` draws it."""
        if not self._draws:
            block = self.rng.random((DRAW_BLOCK, len(self._domains))).tolist()
            block.reverse()
            self._draws = block
        config = dict(self.config_space)
        for (name, domain), u in zip(self._domains, self._draws.pop(), strict=True):
            config[name] = domain._quantile(u)
        return config

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
        for _ in range(self.options.max_retries):
            config = self._sample()
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
