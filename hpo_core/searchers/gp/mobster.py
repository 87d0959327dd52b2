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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.searchers.gp.searcher import GPSearcherBase, _check_fraction, _check_int

if TYPE_CHECKING:
    from hpo_core.searchers.gp.acquisition import ConfigPosterior
    from hpo_core.searchers.gp.independent import IndependentGPModel
    from hpo_core.searchers.gp.multitask import ResourceGPModel

MODELS = ("gp_multitask", "gp_independent")


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
        num_init_random: Number of initial (not model-based) configs; default 6.
        num_init_candidates: Random configs scored per suggestion; default 250.
        initial_scoring: ``"thompson_indep"`` (default) or ``"acq_func"``, see
            :class:`~hpo_core.searchers.gp.searcher.GPSearcherBase`.
        num_fantasy_samples: Samples fantasized per pending trial; default 20.
        opt_nstarts: Hyperparameter optimisation runs per fit; default 2.
        opt_maxiter: Iteration limit of each run; default 50.
        opt_skip_init_length: Hyperparameters are optimised in every fit up to this many
            observations; default 150.
        opt_skip_period: Beyond that, in every ``opt_skip_period``-th fit; default 1.
        max_size_data_for_model: Fit to at most this many observations: a fraction
            ``max_size_top_fraction`` of them those at the largest levels (the better ones first
            among equal levels), the rest drawn uniformly from the others (fresh in every fit);
            ``None``: all. Default 500.
        max_size_top_fraction: Default 0.25.
        map_reward: For ``mode="max"``: ``"minus_x"`` (default) or ``"<a>_minus_x"``.
        restrict_configurations: Suggest only these configs, each at most once (EI scored on
            all remaining ones, no local search).
        skip_local_optimization: Take the best-scoring candidate without local search.

    Raises:
        ValueError: If an option is out of range (naming it and the allowed values).
    """

    wants_data = True

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        model: str = "gp_multitask",
        gp_resource_kernel: str = "exp-decay-sum",
        resource_acq_bohb_threshold: int = 3,
        opt_skip_num_max_resource: bool = False,
        num_init_random: int = 6,
        num_init_candidates: int = 250,
        initial_scoring: str = "thompson_indep",
        num_fantasy_samples: int = 20,
        opt_nstarts: int = 2,
        opt_maxiter: int = 50,
        opt_skip_init_length: int = 150,
        opt_skip_period: int = 1,
        max_size_data_for_model: int | None = 500,
        max_size_top_fraction: float = 0.25,
        map_reward: str | None = None,
        restrict_configurations: Sequence[Mapping[str, Any]] | None = None,
        skip_local_optimization: bool = False,
    ) -> None:
        super().__init__(
            config_space, metric=metric, mode=mode, rng=rng, points_to_evaluate=points_to_evaluate,
            num_init_random=num_init_random, num_init_candidates=num_init_candidates,
            initial_scoring=initial_scoring, num_fantasy_samples=num_fantasy_samples,
            map_reward=map_reward, restrict_configurations=restrict_configurations,
            skip_local_optimization=skip_local_optimization,
        )
        if model not in MODELS:
            raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")
        from hpo_core.searchers.gp.resource_kernels import make_resource_kernel

        kernel = make_resource_kernel(gp_resource_kernel, dim=self._encoder.dim)
        self.model_name = model
        self.gp_resource_kernel = gp_resource_kernel
        self.resource_acq_bohb_threshold = _check_int(
            "resource_acq_bohb_threshold", resource_acq_bohb_threshold, 1)
        self.opt_skip_num_max_resource = bool(opt_skip_num_max_resource)
        self.opt_nstarts = _check_int("opt_nstarts", opt_nstarts, 1)
        self.opt_maxiter = _check_int("opt_maxiter", opt_maxiter, 1)
        self.opt_skip_init_length = _check_int("opt_skip_init_length", opt_skip_init_length, 0)
        self.opt_skip_period = _check_int("opt_skip_period", opt_skip_period, 1)
        if max_size_data_for_model is not None:
            _check_int("max_size_data_for_model", max_size_data_for_model, 2)
        self.max_size_data_for_model = max_size_data_for_model
        self.max_size_top_fraction = _check_fraction("max_size_top_fraction",
                                                     max_size_top_fraction)
        self.model: ResourceGPModel | IndependentGPModel | None = None
        self._kernel = kernel
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

        keep_freed_memory()

        if self.model_name == "gp_multitask":
            self.model = ResourceGPModel(kernel=self._kernel, rng=self.rng,
                                         opt_nstarts=self.opt_nstarts,
                                         opt_maxiter=self.opt_maxiter)
        else:
            self.model = IndependentGPModel(dim=self._encoder.dim, levels=self.levels,
                                            rng=self.rng, opt_nstarts=self.opt_nstarts,
                                            opt_maxiter=self.opt_maxiter)

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
            if self._count.get(level, 0) >= self.resource_acq_bohb_threshold:
                return level
        return min(self._count)

    # -- model-based suggestions ----------------------------------------------------------------

    def _training_rows(self) -> np.ndarray:
        from hpo_core.searchers.gp.model import top_count

        rows = np.flatnonzero(self._valid[:self._num_rows])
        size = self.max_size_data_for_model
        if size is None or len(rows) <= size:
            return rows
        # largest levels first, better values first among equal levels
        order = rows[np.lexsort((self._y[rows], -self._level[rows]))]
        num_top = top_count(size, self.max_size_top_fraction)
        rest = self.rng.choice(order[num_top:], size=size - num_top, replace=False)
        return np.sort(np.concatenate([order[:num_top], rest]))

    def _should_optimize(self, num_rows: int) -> bool:
        assert self.model is not None
        if self.model.num_optimizations == 0 or num_rows <= self.opt_skip_init_length:
            return True
        if self.opt_skip_num_max_resource:
            return self._count.get(self.max_t, 0) > self._max_t_count_at_optimization
        self._fits_beyond_init += 1
        return (self._fits_beyond_init - 1) % self.opt_skip_period == 0

    def _fit(self) -> None:
        """Optimise and refit, refit without optimising, or, if only rows were appended since
        the last fit, no optimisation is due and the data stays within
        ``max_size_data_for_model``, extend the last fit by them (its training set,
        standardisation and hyperparameters stay: ``O(n^2)`` per row instead of ``O(n^3)``)."""
        from hpo_core.searchers.gp.multitask import ResourceGPModel

        model = self.model
        assert model is not None
        optimize = self._should_optimize(int(np.count_nonzero(self._valid[:self._num_rows])))
        if optimize:
            self._max_t_count_at_optimization = self._count.get(self.max_t, 0)
        size = self.max_size_data_for_model
        too_large = size is not None and self._num_train + len(self._new_rows) > size
        if optimize or self._modified or too_large or model.num_fits == 0:
            rows = self._training_rows()
            self._num_train = len(rows)
            X, levels, y = self._X[rows], self._level[rows], self._y[rows]
            if isinstance(model, ResourceGPModel):
                model.fit(self._rows(X, levels), y, optimize=optimize)
            else:
                keep = np.isin(levels, self.levels)  # one process per level: rungs and max_t
                model.fit(X[keep], levels[keep], y[keep], optimize=optimize)
        else:
            rows = np.array(self._new_rows, dtype=np.int64)
            self._num_train += len(rows)
            X, levels, y = self._X[rows], self._level[rows], self._y[rows]
            if isinstance(model, ResourceGPModel):
                model.extend(self._rows(X, levels), y)
            else:
                model.extend(X, levels, y)
        self._new_rows = []
        self._modified = False
        self._data_changed = False

    def _rows(self, X: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return np.hstack([X, (levels / self.max_t)[:, None]])

    def acquisition_posterior(self) -> tuple[ConfigPosterior, int, np.ndarray]:
        """The posterior over configs at ``r_acq`` (pending trials fantasized), ``r_acq`` and
        the encoded configs observed at (or pending towards) ``r_acq``, where the incumbent of
        EI is taken. Fits the model first if the data changed."""
        level, X_incumbent = self._acquisition_level()
        return self._fantasized({level: 1.0})[level], level, X_incumbent

    def _acquisition_level(self) -> tuple[int, np.ndarray]:
        """``r_acq`` and the incumbent's configs (see :meth:`acquisition_posterior`), after
        fitting the model if the data changed."""
        from hpo_core.searchers.gp.independent import IndependentGPModel

        if self._data_changed:
            self._fit()
        level = self.resource_for_acquisition()
        if isinstance(self.model, IndependentGPModel):
            fitted = self.model.posteriors()
            if level not in fitted:  # subsampling dropped it: the largest level left
                level = max(fitted)
        rows = np.flatnonzero(self._valid[:self._num_rows] & (self._level[:self._num_rows]
                                                               == level))
        X_pending, pending_levels = self.pending_trials()
        return level, np.vstack([self._X[rows], X_pending[pending_levels == level]])

    def _fantasized(self, levels: Mapping[int, float]) -> dict[int, ConfigPosterior]:
        """Posteriors over configs at ``levels`` (those the model has) after fantasizing the
        outcomes of pending trials at the levels they head to, from one set of samples."""
        from hpo_core.searchers.gp.multitask import ResourceGPModel

        X_pending, pending_levels = self.pending_trials()
        num_samples, rng = self.num_fantasy_samples, self.rng
        if isinstance(self.model, ResourceGPModel):
            joint = self.model.posterior.fantasize(self._rows(X_pending, pending_levels),
                                                   num_samples=num_samples, rng=rng)
            return {r: joint.at_resource(r / self.max_t) for r in levels}
        assert self.model is not None
        # independent levels: only trials heading to a level change its posterior
        fitted = self.model.posteriors()
        return {r: fitted[r].fantasize(X_pending[pending_levels == r], num_samples=num_samples,
                                       rng=rng)
                for r in levels if r in fitted}

    def _bo_config(self) -> dict[str, Any] | None:
        from hpo_core.searchers.gp import acquisition as acq

        if self.model is None:
            raise ValueError(
                "searcher 'bayesopt_multifidelity' needs a multi-fidelity scheduler (such as "
                "HyperbandScheduler) to tell it the rung levels and max_t"
            )
        posterior, _, X_incumbent = self.acquisition_posterior()
        return self._select(posterior, acq.incumbent(posterior, X_incumbent))
