"""FIFO scheduling: every trial runs to its maximum resource (random search, BO)."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Any

from hpo_core.schedulers.base import (
    DEFAULT_SEARCHER,
    Scheduler,
)
from hpo_core.searchers import Searcher
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion

_NO_LEVELS: frozenset[int] = frozenset()


class FIFOScheduler(Scheduler):
    """Starts a new config whenever a worker is free and never stops or pauses a trial.

    With ``searcher="random"`` this is random search.

    Args:
        config_space: The configuration space (hyperparameters and constants).
        metric: Name of the reported metric to optimize.
        mode: ``"min"`` (default) or ``"max"``.
        searcher: Registry name of the searcher (see :data:`hpo_core.searchers.SEARCHERS`) or a
            searcher instance.
        search_options: Keyword arguments for the searcher when given by name.
        points_to_evaluate: Configs to evaluate first; ``None`` = one midpoint config, ``[]`` =
            none; partial configs are completed by the midpoint rule.
        random_seed: Seed of all randomness; drawn at random (and kept in ``random_seed``) if
            ``None``.
    """

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str = "min",
        searcher: str | Searcher = DEFAULT_SEARCHER,
        search_options: Mapping[str, Any] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        random_seed: int | None = None,
    ) -> None:
        self._init_space(config_space, metric=metric, mode=mode)
        self._init_searcher(searcher, random_seed=random_seed, search_options=search_options,
                            points_to_evaluate=points_to_evaluate)

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        config = self.searcher.suggest(trial_id)
        return None if config is None else TrialSuggestion.start(config)

    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        return Decision.CONTINUE

    def on_trial_complete(self, trial: Trial, result: TrialResult | None) -> None:
        if result is not None and self.searcher.wants_data:
            self.searcher.observe(
                trial.trial_id, trial.config, result.resource, result.metrics[self.metric]
            )

    def on_trial_error(self, trial: Trial) -> None:
        self.searcher.on_trial_error(trial.trial_id)

    def result_levels(self, trial: Trial) -> Container[int] | None:
        # Decisions never depend on intermediate results; the final one arrives with
        # on_trial_complete.
        return _NO_LEVELS
