"""MOBSTER's searcher: Bayesian optimisation over configs and resource levels.

Under a multi-fidelity scheduler (:class:`~hpo_core.schedulers.HyperbandScheduler`), the
searcher models the metric of every observed (config, resource) pair the scheduler forwards and
proposes the config of highest expected improvement at one resource level ``r_acq``: the largest
level (rung levels and ``max_t``) with at least ``resource_acq_bohb_threshold`` observations
(BOHB's rule), else the lowest level with observations (Klein et al., 2020, "Model-based
asynchronous hyperparameter and neural architecture search").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from hpo_core.searchers.base import check_choice, check_int
from hpo_core.searchers.gp.searcher import GPOptions, GPSearcherBase

if TYPE_CHECKING:
    from hpo_core.searchers.gp.acquisition import ConfigPosterior, JointPosterior

#: The models over configs and resource levels, see :class:`MultiFidelityGPOptions`.
MODELS = ("gp_multitask", "gp_independent")


class LevelModel(Protocol):
    """A GP model of the metric over (config, resource level): what the multi-fidelity
    searchers need of it. :class:`~hpo_core.searchers.gp.multitask.ResourceGPModel` (one GP over
    both) and :class:`~hpo_core.searchers.gp.independent.IndependentGPModel` (one per level)
    have these members. Posteriors are in standardised units."""

    num_fits: int
    num_optimizations: int

    def fit(self, X: np.ndarray, levels: np.ndarray, y: np.ndarray, *,
            optimize: bool = True) -> None:
        """Fit to encoded configs ``X`` observed at ``levels`` with targets ``y``."""
        ...

    def extend(self, X_new: np.ndarray, levels_new: np.ndarray, y_new: np.ndarray) -> None:
        """Add observations to the last fit, hyperparameters and standardisation kept."""
        ...

    def standardize(self, y: np.ndarray) -> np.ndarray:
        """``y`` in the standardised units of the last fit."""
        ...

    def posteriors(self, levels: Iterable[int]) -> Mapping[int, JointPosterior]:
        """The posterior over configs at each of ``levels`` the model has."""
        ...

    def fantasized(self, levels: Iterable[int], X_pending: np.ndarray,
                   pending_levels: np.ndarray, *, num_samples: int,
                   rng: np.random.Generator) -> Mapping[int, ConfigPosterior]:
        """Posteriors at ``levels`` after fantasizing pending configs at their levels."""
        ...

    def posterior_given(self, level: int, X: np.ndarray, y: np.ndarray
                        ) -> Callable[[np.ndarray], JointPosterior] | None:
        """Training rows -> the posterior at ``level`` given only those rows of ``(X, y)``."""
        ...


@dataclass(frozen=True, kw_only=True)
class MultiFidelityGPOptions(GPOptions):
    """Options of the multi-fidelity GP searchers: those of
    :class:`~hpo_core.searchers.gp.searcher.GPOptions` (``num_init_random`` defaults to 6
    here), and:

    Attributes:
        model: ``"gp_multitask"`` (default: one GP over (config, resource) with the
            ``gp_resource_kernel``) or ``"gp_independent"`` (independent GPs per level sharing
            lengthscales, :mod:`hpo_core.searchers.gp.independent`).
        gp_resource_kernel: For ``gp_multitask``, one of
            :data:`~hpo_core.searchers.gp.resource_kernels.RESOURCE_KERNELS`; default
            ``"exp-decay-sum"``.
        resource_acq_bohb_threshold: Observations a level needs to be ``r_acq``; default 3.
        opt_skip_num_max_resource: Beyond ``opt_skip_init_length`` observations, optimise the
            hyperparameters only when a trial has reached ``max_t`` since the last optimisation
            (instead of every ``opt_skip_period``-th fit); default False.

    ``max_size_data_for_model`` keeps, of the observations, a fraction
    ``max_size_top_fraction`` at the largest levels (the better ones first among equal levels)
    and draws the rest uniformly from the others (fresh in every fit).
    """

    num_init_random: int = 6
    model: str = "gp_multitask"
    gp_resource_kernel: str = "exp-decay-sum"
    resource_acq_bohb_threshold: int = 3
    opt_skip_num_max_resource: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        from hpo_core.searchers.gp.resource_kernels import RESOURCE_KERNELS  # scipy

        check_choice("model", self.model, MODELS)
        check_choice("gp_resource_kernel", self.gp_resource_kernel, RESOURCE_KERNELS)
        check_int("resource_acq_bohb_threshold", self.resource_acq_bohb_threshold, 1)


class MultiFidelityGPSearcher(GPSearcherBase):
    """GP-based multi-fidelity searcher (MOBSTER), registered as ``"bayesopt_multifidelity"``;
    ``searcher="bayesopt"`` under a multi-fidelity scheduler selects it.

    The scheduler tells it the rung levels and ``max_t``
    (:meth:`~hpo_core.searchers.Searcher.configure_resources`), forwards results at rung levels
    (or all of them, per its ``searcher_data``) and says where each running trial is heading
    (:meth:`~hpo_core.searchers.Searcher.register_pending`). Configs follow
    :class:`~hpo_core.searchers.gp.searcher.GPSearcherBase`: ``points_to_evaluate``, random ones
    up to ``num_init_random`` configs, then maximisers of EI at ``r_acq``. Outcomes of pending
    trials are fantasized at the level they are heading to (``num_fantasy_samples`` joint
    posterior draws). Resources enter the model as ``level / max_t``.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        options: :class:`MultiFidelityGPOptions` (default: its defaults).

    Raises:
        ValueError: If ``mode`` is neither ``"min"`` nor ``"max"``.
    """

    wants_data = True
    options_type = MultiFidelityGPOptions
    options: MultiFidelityGPOptions

    def _setup(self) -> None:
        super()._setup()
        self.model: LevelModel | None = None
        self.levels: list[int] = []
        self.max_t = 0
        self.searcher_data = "rungs"
        # observations: rows (x, level) and criterion values in growing buffers
        self._X = np.empty((64, self._encoder.dim))
        self._level = np.zeros(64, dtype=np.int64)
        self._y = np.empty(64)
        self._valid = np.zeros(64, dtype=bool)
        self._num_rows = 0
        self._row_of: dict[tuple[int, int], int] = {}
        self._last_row: dict[int, int] = {}
        self._count: dict[int, int] = {}
        self._pending: dict[int, int] = {}
        self._data_changed = False
        #: rows appended since the last fit, and whether earlier rows changed since then
        self._new_rows: list[int] = []
        self._modified = False
        self._num_train = 0
        self._fits_beyond_init = 0
        self._max_t_count_at_optimization = -1

    # -- configuration of resources -------------------------------------------------------------

    def configure_resources(
        self, *, rung_levels: Sequence[int], max_t: int, searcher_data: str = "rungs"
    ) -> None:
        self.levels = sorted({*rung_levels, max_t})
        self.max_t = max_t
        self.searcher_data = searcher_data
        from hpo_core.searchers.gp.independent import IndependentGPModel
        from hpo_core.searchers.gp.model import keep_freed_memory
        from hpo_core.searchers.gp.multitask import ResourceGPModel
        from hpo_core.searchers.gp.resource_kernels import make_resource_kernel

        keep_freed_memory()

        options = self.options
        if options.model == "gp_multitask":
            kernel = make_resource_kernel(options.gp_resource_kernel, dim=self._encoder.dim)
            self.model = ResourceGPModel(kernel=kernel, max_t=max_t, rng=self.rng,
                                         opt_nstarts=options.opt_nstarts,
                                         opt_maxiter=options.opt_maxiter)
        else:
            self.model = IndependentGPModel(dim=self._encoder.dim, levels=self.levels,
                                            rng=self.rng, opt_nstarts=options.opt_nstarts,
                                            opt_maxiter=options.opt_maxiter)

    def _has_data(self) -> bool:
        return bool(self._count)

    # -- data -----------------------------------------------------------------------------------

    def observe(
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        pending = self._pending.get(trial_id)
        if pending is not None and pending <= resource:
            del self._pending[trial_id]
        if not math.isfinite(value):
            return
        x = self._x.get(trial_id)
        if x is None:
            x = self._x[trial_id] = self._encoder.encode(config)
        criterion = self._criterion(value)
        if self.searcher_data == "rungs_and_last" and not is_rung:
            row = self._last_row.get(trial_id)
            if row is None:
                row = self._last_row[trial_id] = self._append()
            else:
                self._modified = True
        else:
            last = self._last_row.pop(trial_id, None)
            if last is not None:
                self._valid[last] = False
                self._modified = True
            key = (trial_id, resource)
            row = self._row_of.get(key)
            if row is None:
                row = self._row_of[key] = self._append()
                self._count[resource] = self._count.get(resource, 0) + 1
            else:
                self._modified = True
        self._set_row(row, x, resource, criterion)
        self._data_changed = True

    def _append(self) -> int:
        if self._num_rows == len(self._y):
            size = 2 * len(self._y)
            self._X = np.resize(self._X, (size, self._X.shape[1]))
            self._level = np.resize(self._level, size)
            self._y = np.resize(self._y, size)
            valid = np.zeros(size, dtype=bool)
            valid[:self._num_rows] = self._valid[:self._num_rows]
            self._valid = valid
        self._num_rows += 1
        self._new_rows.append(self._num_rows - 1)
        return self._num_rows - 1

    def _set_row(self, row: int, x: np.ndarray, resource: int, criterion: float) -> None:
        self._X[row], self._level[row], self._y[row] = x, resource, criterion
        self._valid[row] = True

    def register_pending(self, trial_id: int, resource: int) -> None:
        self._pending[trial_id] = resource

    def on_trial_error(self, trial_id: int) -> None:
        self._pending.pop(trial_id, None)

    def num_observations(self, level: int) -> int:
        """Trials observed at ``level``."""
        return self._count.get(level, 0)

    def observations(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Encoded configs observed at ``level`` and their criterion values (lower is better),
        in the order they were observed."""
        rows = np.flatnonzero(self._valid[:self._num_rows]
                              & (self._level[:self._num_rows] == level))
        return self._X[rows], self._y[rows]

    def pending_trials(self) -> tuple[np.ndarray, np.ndarray]:
        """Encoded configs of the running trials and the levels they are heading to."""
        pending_ids = [t for t in self._pending if t in self._x]
        X = np.array([self._x[t] for t in pending_ids]).reshape(-1, self._encoder.dim)
        return X, np.array([self._pending[t] for t in pending_ids], dtype=np.int64)

    def resource_for_acquisition(self) -> int:
        """``r_acq``: the largest level with at least ``resource_acq_bohb_threshold``
        observations, else the lowest level with any (see the module docstring)."""
        for level in reversed(self.levels):
            if self._count.get(level, 0) >= self.options.resource_acq_bohb_threshold:
                return level
        return min(self._count)

    # -- model-based suggestions ----------------------------------------------------------------

    def _training_rows(self) -> np.ndarray:
        from hpo_core.searchers.gp.model import top_count

        rows = np.flatnonzero(self._valid[:self._num_rows])
        size = self.options.max_size_data_for_model
        if size is None or len(rows) <= size:
            return rows
        # largest levels first, better values first among equal levels
        order = rows[np.lexsort((self._y[rows], -self._level[rows]))]
        num_top = top_count(size, self.options.max_size_top_fraction)
        rest = self.rng.choice(order[num_top:], size=size - num_top, replace=False)
        return np.sort(np.concatenate([order[:num_top], rest]))

    def _should_optimize(self, num_rows: int) -> bool:
        assert self.model is not None
        if self.model.num_optimizations == 0 or num_rows <= self.options.opt_skip_init_length:
            return True
        if self.options.opt_skip_num_max_resource:
            return self._count.get(self.max_t, 0) > self._max_t_count_at_optimization
        self._fits_beyond_init += 1
        return (self._fits_beyond_init - 1) % self.options.opt_skip_period == 0

    def _fit(self) -> None:
        """Optimise and refit, refit without optimising, or, if only rows were appended since
        the last fit, no optimisation is due and the data stays within
        ``max_size_data_for_model``, extend the last fit by them (its training set,
        standardisation and hyperparameters stay: ``O(n^2)`` per row instead of ``O(n^3)``)."""
        model = self.model
        assert model is not None
        optimize = self._should_optimize(int(np.count_nonzero(self._valid[:self._num_rows])))
        if optimize:
            self._max_t_count_at_optimization = self._count.get(self.max_t, 0)
        size = self.options.max_size_data_for_model
        too_large = size is not None and self._num_train + len(self._new_rows) > size
        if optimize or self._modified or too_large or model.num_fits == 0:
            rows = self._training_rows()
            self._num_train = len(rows)
            model.fit(self._X[rows], self._level[rows], self._y[rows], optimize=optimize)
        else:
            rows = np.array(self._new_rows, dtype=np.int64)
            self._num_train += len(rows)
            model.extend(self._X[rows], self._level[rows], self._y[rows])
        self._new_rows = []
        self._modified = False
        self._data_changed = False

    def acquisition_posterior(self) -> tuple[ConfigPosterior, int, np.ndarray]:
        """The posterior over configs at ``r_acq`` (pending trials fantasized), ``r_acq`` and
        the encoded configs observed at (or pending towards) ``r_acq``, where the incumbent of
        EI is taken. Fits the model first if the data changed."""
        level, X_incumbent = self._acquisition_level()
        return self._fantasized({level: 1.0})[level], level, X_incumbent

    def _acquisition_level(self) -> tuple[int, np.ndarray]:
        """``r_acq`` and the incumbent's configs (see :meth:`acquisition_posterior`), after
        fitting the model if the data changed."""
        if self._data_changed:
            self._fit()
        assert self.model is not None
        level = self.resource_for_acquisition()
        fitted = self.model.posteriors(self.levels)
        if level not in fitted:  # subsampling left it without data: the largest level left
            level = max(fitted)
        rows = np.flatnonzero(self._valid[:self._num_rows] & (self._level[:self._num_rows]
                                                               == level))
        X_pending, pending_levels = self.pending_trials()
        return level, np.vstack([self._X[rows], X_pending[pending_levels == level]])

    def _fantasized(self, levels: Mapping[int, float]) -> dict[int, ConfigPosterior]:
        """Posteriors over configs at ``levels`` (those the model has) after fantasizing the
        outcomes of pending trials at the levels they head to, from one set of samples."""
        assert self.model is not None
        X_pending, pending_levels = self.pending_trials()
        return dict(self.model.fantasized(levels, X_pending, pending_levels,
                                          num_samples=self.options.num_fantasy_samples,
                                          rng=self.rng))

    def _bo_config(self) -> dict[str, Any] | None:
        from hpo_core.searchers.gp import acquisition as acq

        if self.model is None:
            raise ValueError(
                "searcher 'bayesopt_multifidelity' needs a multi-fidelity scheduler (such as "
                "HyperbandScheduler) to tell it the rung levels and max_t"
            )
        posterior, _, X_incumbent = self.acquisition_posterior()
        return self._select(posterior, acq.incumbent(posterior, X_incumbent))
