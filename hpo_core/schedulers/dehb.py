"""DEHB: differential evolution in the brackets of synchronous Hyperband (Awad et al., 2021)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.schedulers.base import Scheduler, check_points_to_evaluate, metric_value
from hpo_core.schedulers.hyperband import resolve_max_t
from hpo_core.schedulers.rungs import RungInfo
from hpo_core.schedulers.sync_brackets import DEHBBracketManager, Slot, geometric_rung_systems
from hpo_core.searchers import Searcher
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion

#: The default searcher: configs drawn uniformly in the encoded unit cube.
RANDOM_ENCODED = "random_encoded"
#: Attempts at a config not suggested before; in the second half drawn at random.
MAX_RETRIES = 50
#: DE's rand/1 mutation needs three parents.
NUM_PARENTS = 3


@dataclass(slots=True)
class _Member:
    """A trial of the population: its encoded config and its value at its current level (None
    while it runs there)."""

    encoded: np.ndarray
    value: float | None = None


@dataclass(slots=True)
class _Job:
    bracket_id: int
    slot: Slot
    do_selection: bool = False


def match_key(space: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[Any, ...]:
    """Key of ``config`` for "suggested before": floats equal to 7 significant digits match,
    other values exactly (as Syne Tune's exclusion list compares configs)."""
    return tuple(f"{v:.6e}" if isinstance(v, float) else v
                 for v in sp.config_key(space, config))


def rand1_mutation(x0: np.ndarray, x1: np.ndarray, x2: np.ndarray, *, mutation_factor: float,
                   rng: np.random.Generator) -> np.ndarray:
    """DE's rand/1 mutant ``x0 + F (x1 - x2)``, entries outside ``[0, 1]`` redrawn uniformly."""
    mutant = x0 + mutation_factor * (x1 - x2)
    outside = np.flatnonzero((mutant > 1) | (mutant < 0))
    if outside.size:
        mutant[outside] = rng.uniform(0.0, 1.0, size=outside.size)
    return mutant


def binomial_crossover(mutant: np.ndarray, target: np.ndarray, *, slices: Sequence[slice],
                       crossover_probability: float, rng: np.random.Generator) -> np.ndarray:
    """DE's binomial crossover: each hyperparameter's entries (``slices`` of the encoded vector)
    from ``mutant`` with probability ``crossover_probability``, else from ``target``; at least
    one hyperparameter from ``mutant``."""
    take = rng.random(len(slices)) < crossover_probability
    if not take.any():
        take[int(rng.integers(len(slices)))] = True
    mask = np.zeros(len(mutant), dtype=bool)
    for hp_slice, taken in zip(slices, take.tolist(), strict=True):
        mask[hp_slice] = taken
    return np.where(mask, mutant, target)


def _check_unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


class DEHBScheduler(Scheduler):
    """Differential Evolution Hyperband (Awad et al., 2021), decided as Syne Tune 0.13.0's
    ``DifferentialEvolutionHyperbandScheduler`` decides.

    The brackets are those of synchronous Hyperband (:class:`~hpo_core.schedulers.
    sync_brackets.DEHBBracketManager`: a rung's size depends on its level only), cycled
    through. Configs live in the encoded unit cube (:class:`~hpo_core.space.SpaceEncoder`) and
    are decoded to run:

    * The first bracket is successive halving: its base rung is filled by the searcher, its
      higher rungs by promoting the best trials of the rung below (paused and resumed if
      ``support_pause_resume``, otherwise restarted under a new trial id).
    * In later brackets every slot gets a new config by DE: rand/1 mutation ``x0 + F (x1 -
      x2)`` of three parents drawn without replacement from the rung's parent pool (the parent
      slots of the previous bracket for a base rung, the best trials of the rung below
      otherwise; topped up from the values recorded at the level, then at other levels, if the
      rung has fewer than three slots), entries outside ``[0, 1]`` redrawn uniformly; binomial
      crossover with the *target* (the trial in the parent slot; a random member if there is
      none) per hyperparameter with probability ``crossover_probability`` (at least one from the
      mutant); selection: the slot keeps the target if the new trial is not strictly better.
      A base-rung slot without a parent slot gets a searcher config. These trials are stopped
      at their level.
    * A config suggested before (:func:`match_key`) is not suggested again: up to 50
      attempts, the second half drawn at random.

    Like :class:`~hpo_core.schedulers.synchronous.SynchronousHyperbandScheduler` no worker waits
    for a rung to be decided, and a failed trial counts as NaN at its rung. Where Syne Tune
    0.13.0 would fail (a parent pool of fewer than three members, or a rung to promote from
    that holds a failed trial), a random config is drawn, or the slot is failed, instead.

    Args:
        config_space: The configuration space (hyperparameters and constants).
        metric: Name of the reported metric to optimize.
        mode: ``"min"`` (default) or ``"max"``.
        resource_attr: Name of the reported resource.
        max_t: Maximum resource; default ``config_space[max_resource_attr]``.
        max_resource_attr: Name of the config-space constant holding the maximum resource.
        grace_period: Lowest rung level (default 1).
        reduction_factor: Ratio of successive rung levels, >= 2 (default 3).
        brackets: Bracket kinds cycled through (default ``None``: one per rung level).
        mutation_factor: DE's ``F`` in ``[0, 1]`` (default 0.5).
        crossover_probability: DE's crossover probability in ``[0, 1]`` (default 0.5).
        support_pause_resume: Resume promoted trials of the first bracket from their checkpoint
            (default True) rather than restart them.
        searcher: ``"random_encoded"`` (default: each encoded entry uniform in ``[0, 1]``, which
            gives discrete hyperparameters more spread than ``"random"``), or a searcher
            registry name or instance for the configs not made by DE.
        search_options: Keyword arguments for the searcher when given by name.
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
        mutation_factor: float = 0.5,
        crossover_probability: float = 0.5,
        support_pause_resume: bool = True,
        searcher: str | Searcher = RANDOM_ENCODED,
        search_options: Mapping[str, Any] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        random_seed: int | None = None,
    ) -> None:
        self._init_space(config_space, metric=metric, mode=mode)
        self.resource_attr = resource_attr
        self.max_resource_attr = max_resource_attr
        self.max_t = resolve_max_t(self.config_space, max_t, max_resource_attr)
        systems = geometric_rung_systems(grace_period=grace_period, max_t=self.max_t,
                                         reduction_factor=reduction_factor, brackets=brackets)
        self.mutation_factor = _check_unit("mutation_factor", mutation_factor)
        self.crossover_probability = _check_unit("crossover_probability",
                                                 crossover_probability)
        self.support_pause_resume = bool(support_pause_resume)
        self.reduction_factor = reduction_factor
        self.manager = DEHBBracketManager(systems[0], mode=mode, brackets=len(systems))
        self.rung_levels = [level for _, level in systems[0]]
        self._encoded_draws = searcher == RANDOM_ENCODED
        self._rng = self._init_searcher(
            "random" if self._encoded_draws else searcher, random_seed=random_seed,
            search_options=search_options, points_to_evaluate=points_to_evaluate,
            multi_fidelity=True)
        self.searcher.configure_resources(rung_levels=self.rung_levels[:-1], max_t=self.max_t)
        # the searcher's initial points are the searcher's own; random_encoded has none
        points = check_points_to_evaluate(points_to_evaluate)
        self._initial: deque[dict[str, Any]] = deque()
        if self._encoded_draws:
            self._initial.extend(
                [sp.midpoint_config(self.config_space)] if points is None
                else [sp.complete_config(self.config_space, p) for p in points])
        self._encoder = sp.SpaceEncoder(self.config_space)
        self._hp_slices = list(self._encoder.slices.values())
        self._size = math.prod(
            d.cardinality or 0 for d in sp.hyperparameters(self.config_space).values())
        self._members: dict[int, _Member] = {}
        self._member_ids: list[int] = []
        self._pool: dict[int, list[int]] = {level: [] for level in self.rung_levels}
        self._pending: dict[int, _Job] = {}
        self._suggested: set[tuple[Any, ...]] = set()
        self._failed: set[int] = set()
        self._levels = frozenset(self.rung_levels)
        self.num_selection_skipped = 0

    # -- suggest --------------------------------------------------------------------------------

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        if self._size and len(self._suggested) >= self._size:
            return None
        bracket_id, slot = self.manager.next_job()
        job = _Job(bracket_id, slot)
        encoded, promoted = self._new_encoded(job, trial_id)
        if encoded is None:
            self.manager.on_result(bracket_id, slot, slot.trial_id, math.nan)
            return None
        if promoted is not None and self.support_pause_resume:
            self._members[promoted].value = None
            self._pending[promoted] = job
            return TrialSuggestion.resume(promoted)
        config = self._encoder.decode(encoded)
        self._suggested.add(match_key(self.config_space, config))
        self._members[trial_id] = _Member(encoded)
        self._member_ids.append(trial_id)
        self._pending[trial_id] = job
        if self.searcher.wants_data:
            self.searcher.register_pending(trial_id, slot.level)
        return TrialSuggestion.start(config)

    def _new_encoded(self, job: _Job, trial_id: int) -> tuple[np.ndarray | None, int | None]:
        """(encoded config, trial it is promoted from or None); ``(None, None)`` if the
        searcher has nothing or the trial to promote failed."""
        slot, bracket_id = job.slot, job.bracket_id
        encoded: np.ndarray | None = None
        for attempt in range(MAX_RETRIES):
            promoted = None
            if attempt >= MAX_RETRIES // 2:
                encoded = self._from_searcher(trial_id, at_random=True)
            elif slot.rung_index == 0 and (bracket_id == 0 or self.manager.parent_trial(
                    bracket_id, slot.level, slot.slot_index) is None):
                encoded = self._from_searcher(trial_id)
            elif bracket_id == 0:
                promoted = self.manager.top_of_previous_rung(bracket_id, slot.slot_index)
                if promoted is None or promoted in self._failed:
                    return None, None
                return self._members[promoted].encoded, promoted
            else:
                encoded = self._mutation_crossover(job, trial_id)
            if encoded is None:
                return None, None
            config = self._encoder.decode(encoded)
            if match_key(self.config_space, config) not in self._suggested:
                return encoded, None
        return None, None

    def _from_searcher(self, trial_id: int, *, at_random: bool = False) -> np.ndarray | None:
        if self._initial:
            return self._encoder.encode(self._initial.popleft())
        if self._encoded_draws or at_random:
            return self._rng.uniform(0.0, 1.0, size=self._encoder.dim)
        config = self.searcher.suggest(trial_id)
        return None if config is None else self._encoder.encode(config)

    # -- differential evolution -----------------------------------------------------------------

    def _random_member(self) -> int:
        return self._member_ids[int(self._rng.integers(len(self._member_ids)))]

    def _target(self, job: _Job) -> int:
        """The trial in the job's parent slot, or a random member."""
        target = self.manager.parent_trial(job.bracket_id, job.slot.level, job.slot.slot_index)
        return self._random_member() if target is None else target

    def _mutation_crossover(self, job: _Job, trial_id: int) -> np.ndarray | None:
        job.do_selection = True
        parents = self._parents(job)
        if parents is None:
            job.do_selection = False
            return self._from_searcher(trial_id, at_random=True)
        x0, x1, x2 = (self._members[p].encoded for p in parents)
        mutant = rand1_mutation(x0, x1, x2, mutation_factor=self.mutation_factor, rng=self._rng)
        target = self._members[self._target(job)].encoded
        return binomial_crossover(mutant, target, slices=self._hp_slices,
                                  crossover_probability=self.crossover_probability,
                                  rng=self._rng)

    def _parents(self, job: _Job) -> list[int] | None:
        """Three parents drawn without replacement from the job's parent pool (``None`` if the
        pool has fewer than three members)."""
        bracket_id, slot = job.bracket_id, job.slot
        bracket = self.manager.brackets[bracket_id]
        rung_size = bracket.sizes[bracket.current_rung]
        extra: list[int] = []
        if rung_size < NUM_PARENTS:
            extra = list(self._pool[slot.level])
            for level in reversed(self.rung_levels):
                if rung_size + len(extra) >= NUM_PARENTS:
                    break
                if level != slot.level:
                    extra += self._pool[level]
            if rung_size + len(extra) < NUM_PARENTS:
                return None
        positions = self._rng.choice(rung_size + len(extra), NUM_PARENTS, replace=False)
        parents = []
        for position in positions.tolist():
            if position >= rung_size:
                parent = extra[position - rung_size]
            elif slot.rung_index == 0:
                parent = self.manager.parent_trial(bracket_id, slot.level, position)
            else:
                parent = self.manager.top_of_previous_rung(bracket_id, position)
            parents.append(self._random_member() if parent is None else parent)
        return parents

    # -- results --------------------------------------------------------------------------------

    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        trial_id = trial.trial_id
        job = self._pending.get(trial_id)
        if job is None:
            return Decision.STOP
        level, milestone = result.resource, job.slot.level
        if level < milestone:
            return Decision.CONTINUE
        if level > milestone:
            raise RuntimeError(f"trial {trial_id} reported resource {level} beyond its rung "
                               f"level {milestone} (rung levels must not be skipped)")
        del self._pending[trial_id]
        value = metric_value(result, self.metric)
        member = self._members[trial_id]
        member.value = value
        self._pool[milestone].append(trial_id)
        winner = self._selection(trial_id, job, value)
        winner_value = self._members[winner].value
        assert winner_value is not None, "a slot's winner has a value at the slot's level"
        self.manager.on_result(job.bracket_id, job.slot, winner, winner_value)
        if self.searcher.wants_data:
            self.searcher.observe(trial_id, self._encoder.decode(member.encoded), level,
                                  result.metrics[self.metric])
        if self.support_pause_resume and job.bracket_id == 0:
            return Decision.PAUSE
        return Decision.STOP

    def _selection(self, trial_id: int, job: _Job, value: float) -> int:
        """The slot's winner: the target if the new trial is not strictly better."""
        if not job.do_selection:
            return trial_id
        target = self._target(job)
        target_value = self._members[target].value
        if target_value is None:
            self.num_selection_skipped += 1
            return trial_id
        sign = -1.0 if self.mode == "max" else 1.0
        return target if sign * (value - target_value) >= 0 else trial_id

    def on_trial_error(self, trial: Trial) -> None:
        self._failed.add(trial.trial_id)
        job = self._pending.pop(trial.trial_id, None)
        if job is not None:
            self.manager.on_result(job.bracket_id, job.slot, trial.trial_id, math.nan)
        self.searcher.on_trial_error(trial.trial_id)

    def result_levels(self, trial: Trial) -> Container[int] | None:
        return self._levels

    def information_for_rungs(self) -> list[RungInfo]:
        """(level, results recorded there, fraction kept) per level below max_t, over all
        brackets."""
        return self.manager.rung_sizes(self.reduction_factor)

    def metadata(self) -> dict[str, Any]:
        return {**super().metadata(), "max_t": self.max_t,
                "rung_systems": self.manager.rung_systems,
                "mutation_factor": self.mutation_factor,
                "crossover_probability": self.crossover_probability,
                "support_pause_resume": self.support_pause_resume}
