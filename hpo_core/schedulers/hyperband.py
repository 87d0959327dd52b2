"""Asynchronous successive halving and Hyperband: ASHA (stopping, promotion) and PASHA."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Container, Mapping, Sequence
from typing import Any

from hpo_core import space as sp
from hpo_core.schedulers.base import DEFAULT_SEARCHER, Scheduler, metric_value
from hpo_core.schedulers.pasha import PashaMaxResource
from hpo_core.schedulers.rungs import Rung, RungInfo, geometric_rung_levels
from hpo_core.searchers import Searcher
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion

TYPES = ("stopping", "promotion", "pasha")
SEARCHER_DATA = ("rungs", "all", "rungs_and_last")
#: Config-space entries from which max_t is inferred when neither max_t nor max_resource_attr is
#: given, in this order.
MAX_T_KEYS = ("epochs", "max_t", "max-t", "max_epochs", "max-epochs")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def resolve_max_t(
    config_space: Mapping[str, Any], max_t: int | None, max_resource_attr: str | None
) -> int:
    """max_t, else the constant ``config_space[max_resource_attr]``, else an entry of
    :data:`MAX_T_KEYS`."""
    if max_t is not None:
        return _check_int("max_t", max_t, 1)
    if max_resource_attr is not None:
        value = config_space.get(max_resource_attr)
        if isinstance(value, sp.Domain) or value is None:
            raise ValueError(
                f"max_resource_attr={max_resource_attr!r} must name a constant int in "
                f"config_space, got {value!r}"
            )
        return _check_int(f"config_space[{max_resource_attr!r}]", value, 1)
    for key in MAX_T_KEYS:
        value = config_space.get(key)
        if value is not None and not isinstance(value, sp.Domain):
            return _check_int(f"config_space[{key!r}]", value, 1)
    raise ValueError(
        "max_t is needed: pass max_t or max_resource_attr (a constant int in config_space), or "
        f"put one of {list(MAX_T_KEYS)} in config_space"
    )


class HyperbandScheduler(Scheduler):
    """Asynchronous successive halving with optional Hyperband brackets.

    Trials report the metric at resource levels 1, 2, ... (e.g. epochs). At rung level ``r_j``
    with next level ``r_{j+1}`` (or ``max_t``) a value *passes* if it is at least as good as
    ``np.quantile(values, r_j / r_{j+1})`` of all values recorded at the rung, its own included
    (linear interpolation; ``1 - r_j / r_{j+1}`` for ``mode="max"``), as Syne Tune 0.13 decides:

    * ``type="stopping"``: a trial continues if its value passes, otherwise it is stopped. A rung
      with fewer than 2 entries lets every trial continue. (Syne Tune's documentation says
      "fewer than ``reduction_factor`` values"; its code, followed here, says 2.)
    * ``type="promotion"`` (ASHA): a trial reaching a rung level is always paused there. When a
      worker is free, the rungs are scanned from the highest level down and the best paused
      trial of the first rung where it passes is resumed (of equal values, the one paused
      first); a rung with fewer than 2 entries promotes none. If no trial can be resumed, a new
      trial starts.
    * ``type="pasha"``: promotion type whose maximum resource starts at the second rung level and
      grows while the ranking in the top two rungs changes (see :mod:`hpo_core.schedulers.pasha`).

    With several brackets, a bracket is drawn at every :meth:`suggest`; with
    ``rung_system_per_bracket`` only the rungs of the drawn bracket are scanned for a trial to
    resume, and a new trial starts in that bracket.

    Args:
        config_space: The configuration space (hyperparameters and constants).
        metric: Name of the reported metric to optimize.
        mode: ``"min"`` (default) or ``"max"``.
        resource_attr: Name of the reported resource (a positive int, e.g. ``"epoch"``).
        type: ``"stopping"`` (default), ``"promotion"`` or ``"pasha"``.
        max_t: Maximum resource. If not given, taken from ``config_space[max_resource_attr]``
            or inferred from the config space (:data:`MAX_T_KEYS`).
        max_resource_attr: Name of the config-space constant holding the maximum resource.
        grace_period: Smallest rung level (default 1).
        reduction_factor: Ratio of successive rung levels, >= 2 (default 3).
        rung_levels: Explicit rung levels (strictly increasing positive ints below max_t),
            instead of ``grace_period`` and ``reduction_factor``.
        brackets: Number of Hyperband brackets (default 1: successive halving), at most one
            more than the number of rung levels (a larger value is capped to that, as in Syne
            Tune; :attr:`brackets` holds the number used). Bracket ``b`` starts its trials at
            the ``b``-th rung level; brackets are drawn with Hyperband's
            proportions (more trials in brackets that stop earlier), or from the searcher's
            distribution once it offers one
            (:meth:`~hpo_core.searchers.Searcher.bracket_distribution`, e.g. Hyper-Tune's).
        rung_system_per_bracket: With several brackets, whether each bracket has its own rungs
            (default False: all trials compete in one rung system).
        searcher: Searcher registry name or instance (default ``"random"``: ASHA).
            ``"bayesopt"`` is the multi-fidelity GP searcher here (``"bayesopt_multifidelity"``,
            MOBSTER, as in Syne Tune); the searcher is told the rung levels and ``max_t``
            (:meth:`~hpo_core.searchers.Searcher.configure_resources`) and where each running
            trial is heading (:meth:`~hpo_core.searchers.Searcher.register_pending`).
        search_options: Keyword arguments for the searcher when given by name.
        searcher_data: Which results a model-based searcher sees: ``"rungs"`` (default, results
            at rung levels and max_t), ``"all"``, or ``"rungs_and_last"`` (rung results plus each
            trial's latest one).
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
        type: str = "stopping",  # the name users know, though it shadows a builtin
        max_t: int | None = None,
        max_resource_attr: str | None = None,
        grace_period: int = 1,
        reduction_factor: float = 3,
        rung_levels: Sequence[int] | None = None,
        brackets: int = 1,
        rung_system_per_bracket: bool = False,
        searcher: str | Searcher = DEFAULT_SEARCHER,
        search_options: Mapping[str, Any] | None = None,
        searcher_data: str = "rungs",
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        random_seed: int | None = None,
    ) -> None:
        self._init_space(config_space, metric=metric, mode=mode)
        if type not in TYPES:
            raise ValueError(f"type must be one of {list(TYPES)}, got {type!r}")
        if searcher_data not in SEARCHER_DATA:
            raise ValueError(
                f"searcher_data must be one of {list(SEARCHER_DATA)}, got {searcher_data!r}"
            )
        self.resource_attr = resource_attr
        self.type = type
        self.max_resource_attr = max_resource_attr
        self.max_t = resolve_max_t(self.config_space, max_t, max_resource_attr)
        self.levels = self._rung_levels(grace_period, reduction_factor, rung_levels)
        self.reduction_factor = reduction_factor
        _check_int("brackets", brackets, 1)
        if type == "pasha" and brackets != 1:
            raise ValueError(f"type='pasha' supports brackets=1 only, got {brackets}")
        brackets = min(brackets, len(self.levels) + 1)
        self.brackets = brackets
        self.rung_system_per_bracket = rung_system_per_bracket
        self.searcher_data = searcher_data
        self._rng = self._init_searcher(searcher, random_seed=random_seed,
                                        search_options=search_options,
                                        points_to_evaluate=points_to_evaluate,
                                        multi_fidelity=True)
        self.searcher.configure_resources(rung_levels=list(self.levels), max_t=self.max_t,
                                          searcher_data=searcher_data)
        self._sign = 1.0 if mode == "min" else -1.0
        bounds = [*self.levels, self.max_t]
        # One rung system for all brackets, or one per bracket; a rung system maps level -> Rung.
        num_systems = brackets if rung_system_per_bracket else 1
        self._rung_systems = [
            {lvl: Rung(lvl, nxt, mode=mode) for lvl, nxt in itertools.pairwise(bounds)}
            for _ in range(num_systems)
        ]
        self._bracket_levels = [frozenset([*self.levels[b:], self.max_t]) for b in range(brackets)]
        self._bracket_cdf = self._bracket_distribution()
        self._bracket_of: dict[int, int] = {}
        self._paused_at: dict[int, Rung] = {}
        self._pasha = PashaMaxResource(self.levels, self.max_t) if type == "pasha" else None
        self._forward_all = self.searcher.wants_data and searcher_data != "rungs"
        self._bounds = bounds

    def _rung_levels(
        self, grace_period: int, reduction_factor: float, rung_levels: Sequence[int] | None
    ) -> list[int]:
        if rung_levels is not None:
            levels = list(rung_levels)
            if not levels or any(
                isinstance(r, bool) or not isinstance(r, int) or r < 1 for r in levels
            ) or any(a >= b for a, b in itertools.pairwise(levels)):
                raise ValueError(
                    f"rung_levels must be strictly increasing positive ints, got {rung_levels!r}"
                )
            if levels[-1] >= self.max_t:
                raise ValueError(
                    f"rung_levels must all be below max_t={self.max_t}, got {rung_levels!r}"
                )
            return levels
        _check_int("grace_period", grace_period, 1)
        if grace_period > self.max_t:
            raise ValueError(
                f"grace_period must be between 1 and max_t={self.max_t}, got {grace_period}"
            )
        if (
            isinstance(reduction_factor, bool)
            or not isinstance(reduction_factor, int | float)
            or not reduction_factor >= 2
        ):
            raise ValueError(f"reduction_factor must be a number >= 2, got {reduction_factor!r}")
        return geometric_rung_levels(
            grace_period=grace_period, reduction_factor=reduction_factor, max_t=self.max_t
        )

    def _bracket_distribution(self) -> list[float]:
        # Hyperband starts n_b ~ (max_t / r_b) / (s_b + 1) trials in the bracket whose first
        # level is r_b and which has s_b rung levels below max_t.
        bounds = [*self.levels, self.max_t]
        weights = [
            (self.max_t / bounds[b]) / (len(self.levels) - b + 1) for b in range(self.brackets)
        ]
        total = sum(weights)
        cdf = list(math.fsum(weights[: b + 1]) / total for b in range(self.brackets))
        cdf[-1] = 1.0
        return cdf

    def bracket_probabilities(self) -> list[float]:
        return [b - a for a, b in zip([0.0, *self._bracket_cdf[:-1]], self._bracket_cdf,
                                      strict=True)]

    def _current_bracket_cdf(self) -> list[float]:
        """Hyperband's CDF over brackets, or that of the searcher's distribution if it has one."""
        probabilities = self.searcher.bracket_distribution(self.bracket_probabilities())
        if probabilities is None:
            return self._bracket_cdf
        total = math.fsum(probabilities)
        if len(probabilities) != self.brackets or min(probabilities) < 0 or not total > 0:
            raise ValueError(
                f"the searcher's bracket_distribution must give {self.brackets} non-negative "
                f"probabilities with a positive sum, got {probabilities!r}"
            )
        cdf = [math.fsum(probabilities[: b + 1]) / total for b in range(self.brackets)]
        cdf[-1] = 1.0
        return cdf

    def _rungs_of(self, trial_id: int) -> dict[int, Rung]:
        if self.rung_system_per_bracket:
            return self._rung_systems[self._bracket_of[trial_id]]
        return self._rung_systems[0]

    # -- contract -------------------------------------------------------------------------------

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        bracket = self._draw_bracket()
        if self.type != "stopping":
            promoted = self._promotable_trial(bracket)
            if promoted is not None:
                rung = self._paused_at.pop(promoted)
                rung.unpause(promoted)
                if self.searcher.wants_data:
                    self.searcher.register_pending(promoted, rung.next_level)
                return TrialSuggestion.resume(promoted)
        config = self.searcher.suggest(trial_id)
        if config is None:
            return None
        self._bracket_of[trial_id] = bracket
        if self.searcher.wants_data:
            self.searcher.register_pending(trial_id, self._bounds[bracket])
        return TrialSuggestion.start(config)

    def _draw_bracket(self) -> int:
        """The bracket of this suggest: drawn from the bracket distribution (0 if only one)."""
        if self.brackets == 1:
            return 0
        bracket = bisect.bisect_right(self._current_bracket_cdf(), float(self._rng.random()))
        return min(bracket, self.brackets - 1)

    def _promotable_trial(self, bracket: int) -> int | None:
        """The trial to resume: the first rung from the top (below the current maximum
        resource) whose best paused trial passes; only the drawn bracket's rungs if each
        bracket has its own."""
        if not self._paused_at:
            return None
        system = self._rung_systems[bracket if self.rung_system_per_bracket else 0]
        for level in reversed(self.levels):
            if level >= self.max_resource:
                continue
            trial_id = system[level].promotable()
            if trial_id is not None:
                return trial_id
        return None

    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        level = result.resource
        value = self._value(result)
        trial_id = trial.trial_id
        rungs = self._rungs_of(trial_id)
        rung = rungs.get(level)
        is_rung = level in self._bracket_levels[self._bracket_of[trial_id]]
        if self._forward_all or (is_rung and self.searcher.wants_data):
            self.searcher.observe(
                trial_id, trial.config, level, result.metrics[self.metric], is_rung=is_rung
            )
        if level >= self.max_t:
            return Decision.STOP
        if rung is not None and is_rung:
            rung.add(trial_id, value)
        else:
            rung = None
        if self._pasha is not None:
            self._pasha_update(trial_id, level, value, rungs)
        if rung is None:
            return Decision.CONTINUE
        if self.type == "stopping":
            if rung.passes(value) is False:
                return Decision.STOP
            if self.searcher.wants_data:
                self.searcher.register_pending(trial_id, rung.next_level)
            return Decision.CONTINUE
        rung.pause(trial_id)
        self._paused_at[trial_id] = rung
        return Decision.PAUSE

    def _pasha_update(self, trial_id: int, level: int, value: float,
                      rungs: dict[int, Rung]) -> None:
        """PASHA after every result: re-estimate epsilon, grow if the top rungs reordered."""
        assert self._pasha is not None
        self._pasha.observe(trial_id, level, self._sign * value)
        upper, lower = self._pasha.top_two_levels()
        self._pasha.grow_if_reordered(rungs[upper], rungs[lower])

    def _value(self, result: TrialResult) -> float:
        value = metric_value(result, self.metric)
        return math.inf if math.isnan(value) else self._sign * value

    def on_trial_error(self, trial: Trial) -> None:
        rung = self._paused_at.pop(trial.trial_id, None)
        if rung is not None:
            rung.unpause(trial.trial_id)
        self.searcher.on_trial_error(trial.trial_id)

    def result_levels(self, trial: Trial) -> Container[int] | None:
        if self._forward_all or self._pasha is not None:  # PASHA learns from every result
            return None
        return self._bracket_levels[self._bracket_of[trial.trial_id]]

    # -- introspection --------------------------------------------------------------------------

    @property
    def max_resource(self) -> int:
        """Largest resource a trial may currently reach (grows over time for PASHA)."""
        return self._pasha.max_resource if self._pasha is not None else self.max_t

    def information_for_rungs(self) -> list[RungInfo]:
        """(level, number of entries, keep fraction) for every rung level, lowest first."""
        return [
            RungInfo(
                level,
                sum(len(system[level]) for system in self._rung_systems),
                self._rung_systems[0][level].level / self._rung_systems[0][level].next_level,
            )
            for level in self.levels
        ]

    def metadata(self) -> dict[str, Any]:
        return {
            **super().metadata(),
            "type": self.type,
            "max_t": self.max_t,
            "rung_levels": self.levels,
            "brackets": self.brackets,
            "rung_system_per_bracket": self.rung_system_per_bracket,
            "searcher_data": self.searcher_data,
        }
