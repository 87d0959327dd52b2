"""Synchronous Hyperband and successive halving (SYNCHB, SYNCSH; with a KDE searcher BOHB, with
the multi-fidelity GP searcher SyncMOBSTER)."""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from typing import Any

from hpo_core.schedulers.base import DEFAULT_SEARCHER, Scheduler, metric_value
from hpo_core.schedulers.hyperband import resolve_max_t
from hpo_core.schedulers.rungs import RungInfo
from hpo_core.schedulers.sync_brackets import BracketManager, Slot, geometric_rung_systems
from hpo_core.searchers import Searcher
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion

SEARCHER_DATA = ("rungs", "all")


class SynchronousHyperbandScheduler(Scheduler):
    """Synchronous Hyperband (Li et al., 2018): successive halving in brackets, decided rung by
    rung.

    Bracket ``b`` starts ``n_b`` trials at its lowest level; when every one of them has reported
    there (the rung is *decided*), the best ``n_b / reduction_factor`` are resumed to the next
    level, and so on up to ``max_t`` (:func:`~hpo_core.schedulers.sync_brackets.
    geometric_rung_systems` gives the levels and sizes). Brackets are cycled through, largest
    first; ``brackets=1`` is synchronous successive halving. A trial that reaches its rung's
    level is paused; a trial that fails counts as a NaN value there, ranked last.

    No worker waits for a rung to be decided: while every free slot of the oldest active
    bracket is pending, jobs go to the next active bracket, or to a new one (as Syne Tune
    0.13.0 does), so workers are idle only when the searcher has nothing to suggest. Decisions
    are those of Syne Tune 0.13.0's ``SynchronousGeometricHyperbandScheduler`` fed the same
    events, except that a trial that failed is never resumed (Syne Tune would resume it when
    its rung has fewer valid results than the next rung has slots; here it fails there again at
    once). Unlike Syne Tune the trial's config is not rewritten to the level it runs to
    (``max_resource_attr`` stays ``max_t``): the scheduler pauses it there.

    Args:
        config_space: The configuration space (hyperparameters and constants).
        metric: Name of the reported metric to optimize.
        mode: ``"min"`` (default) or ``"max"``.
        resource_attr: Name of the reported resource (a positive int, e.g. ``"epoch"``).
        max_t: Maximum resource; default ``config_space[max_resource_attr]`` (or inferred, see
            :func:`~hpo_core.schedulers.hyperband.resolve_max_t`).
        max_resource_attr: Name of the config-space constant holding the maximum resource.
        grace_period: Lowest rung level (default 1).
        reduction_factor: Ratio of successive rung levels, >= 2 (default 3).
        brackets: Number of brackets (default ``None``: as many as the levels allow; larger
            values are capped to that); 1 is successive halving.
        searcher: Searcher registry name or instance (default ``"random"``; ``"kde"`` gives
            BOHB, ``"bayesopt"`` SyncMOBSTER). It is told the rung levels and where each new
            trial is heading.
        search_options: Keyword arguments for the searcher when given by name.
        searcher_data: Which results a model-based searcher sees: ``"rungs"`` (default: those
            at the levels trials are decided at) or ``"all"``.
        points_to_evaluate: Configs to evaluate first; ``None`` = one midpoint config, ``[]`` =
            none.
        random_seed: Seed of all randomness; drawn at random if ``None``.
    """

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str = "min",
        resource_attr: str = "epoch",
        max_t: int | None = None,
        max_resource_attr: str | None = None,
        grace_period: int = 1,
        reduction_factor: float = 3,
        brackets: int | None = None,
        searcher: str | Searcher = DEFAULT_SEARCHER,
        search_options: Mapping[str, Any] | None = None,
        searcher_data: str = "rungs",
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        random_seed: int | None = None,
    ) -> None:
        self._init_space(config_space, metric=metric, mode=mode)
        if searcher_data not in SEARCHER_DATA:
            raise ValueError(
                f"searcher_data must be one of {list(SEARCHER_DATA)}, got {searcher_data!r}")
        self.resource_attr = resource_attr
        self.max_resource_attr = max_resource_attr
        self.max_t = resolve_max_t(self.config_space, max_t, max_resource_attr)
        systems = geometric_rung_systems(grace_period=grace_period, max_t=self.max_t,
                                         reduction_factor=reduction_factor, brackets=brackets)
        self.reduction_factor = reduction_factor
        self.brackets = len(systems)
        self.searcher_data = searcher_data
        self.manager = BracketManager(systems, mode=mode)
        #: Levels of the first (largest) bracket, max_t included.
        self.rung_levels = [level for _, level in systems[0]]
        self._init_searcher(searcher, random_seed=random_seed, search_options=search_options,
                            points_to_evaluate=points_to_evaluate, multi_fidelity=True)
        self.searcher.configure_resources(rung_levels=self.rung_levels[:-1], max_t=self.max_t,
                                          searcher_data=searcher_data)
        self._levels = frozenset(self.rung_levels)
        self._forward_all = self.searcher.wants_data and searcher_data == "all"
        self._pending: dict[int, tuple[int, Slot]] = {}
        self._configs: dict[int, dict[str, Any]] = {}
        self._failed: set[int] = set()

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        bracket_id, slot = self.manager.next_job()
        while slot.trial_id in self._failed:
            # promoted only because its rung had too few valid results: it fails there again
            self.manager.on_result(bracket_id, slot, slot.trial_id, math.nan)
            bracket_id, slot = self.manager.next_job()
        if slot.trial_id is not None:
            self._pending[slot.trial_id] = (bracket_id, slot)
            return TrialSuggestion.resume(slot.trial_id)
        config = self.searcher.suggest(trial_id)
        if config is None:
            # the slot cannot be filled: it counts as failed, so that the rung can be decided
            self.manager.on_result(bracket_id, slot, None, math.nan)
            return None
        slot.trial_id = trial_id
        self._configs[trial_id] = config
        self._pending[trial_id] = (bracket_id, slot)
        if self.searcher.wants_data:
            self.searcher.register_pending(trial_id, slot.level)
        return TrialSuggestion.start(config)

    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        trial_id = trial.trial_id
        pending = self._pending.get(trial_id)
        if pending is None:
            return Decision.STOP
        bracket_id, slot = pending
        level, milestone = result.resource, slot.level
        if level > milestone:
            raise RuntimeError(f"trial {trial_id} reported resource {level} beyond its rung "
                               f"level {milestone} (rung levels must not be skipped)")
        value = metric_value(result, self.metric)
        decision = Decision.CONTINUE
        if level == milestone:
            del self._pending[trial_id]
            self.manager.on_result(bracket_id, slot, trial_id, value)
            decision = Decision.PAUSE
        if (self.searcher.wants_data and (self._forward_all or level == milestone)
                and level > self.manager.previous_level(bracket_id, milestone)):
            self.searcher.observe(trial_id, self._configs[trial_id], level, value)
        return decision

    def on_trial_error(self, trial: Trial) -> None:
        self._failed.add(trial.trial_id)
        pending = self._pending.pop(trial.trial_id, None)
        if pending is not None:
            self.manager.on_result(*pending, trial.trial_id, math.nan)
        self.searcher.on_trial_error(trial.trial_id)

    def result_levels(self, trial: Trial) -> Container[int] | None:
        return None if self._forward_all else self._levels

    # -- introspection --------------------------------------------------------------------------

    def information_for_rungs(self) -> list[RungInfo]:
        """(level, results recorded there, fraction kept) per level below max_t, over all
        brackets."""
        return self.manager.rung_sizes(self.reduction_factor)

    def metadata(self) -> dict[str, Any]:
        return {**super().metadata(), "max_t": self.max_t,
                "rung_systems": self.manager.rung_systems, "searcher_data": self.searcher_data}
