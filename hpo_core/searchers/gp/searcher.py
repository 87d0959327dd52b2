"""Bayesian optimisation with a Gaussian process surrogate and expected improvement."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core import space as sp
from hpo_core.searchers.base import (
    Searcher,
    SearcherOptions,
    check_choice,
    check_fraction,
    check_int,
)

if TYPE_CHECKING:
    from hpo_core.searchers.gp.acquisition import Best, ConfigPosterior
    from hpo_core.searchers.gp.model import GPModel

_MAP_REWARD = re.compile(r"^(?:(?P<offset>.+)_)?minus_x$")

#: Local searches per suggestion (from the best-scoring candidates).
NUM_LOCAL_STARTS = 1
#: Draws to attempt before concluding that a finite space is exhausted.
MAX_RETRIES = 100


def parse_map_reward(map_reward: str) -> float:
    """The offset ``a`` of ``map_reward``: ``"minus_x"`` -> 0, ``"<a>_minus_x"`` -> ``a``.

    The internal criterion is ``a - metric``. Raises ValueError naming ``map_reward`` otherwise.
    """
    match = _MAP_REWARD.match(map_reward) if isinstance(map_reward, str) else None
    offset = 0.0
    if match is not None and match["offset"] is not None:
        try:
            offset = float(match["offset"])
        except ValueError:
            match = None
    if match is None or not math.isfinite(offset):
        raise ValueError(
            f"map_reward must be 'minus_x' or '<a>_minus_x' with a finite number a (e.g. "
            f"'1_minus_x'), got {map_reward!r}"
        )
    return offset


@dataclass(frozen=True, kw_only=True)
class GPOptions(SearcherOptions):
    """Options of the GP searchers (:class:`GPSearcher`, and with more fields the
    multi-fidelity ones), each checked on construction.

    Attributes:
        num_init_random: Number of initial (not model-based) configs, see
            :class:`GPSearcherBase`; default 3.
        num_init_candidates: Random configs scored per suggestion; default 250.
        initial_scoring: How the candidates are scored to pick the start of local search:
            ``"thompson_indep"`` (default: an independent posterior sample each) or
            ``"acq_func"`` (EI).
        num_fantasy_samples: Joint posterior samples of the outcomes of pending trials; EI is
            averaged over them, so parallel workers are not sent to the same spot; default 20.
        opt_nstarts: Hyperparameter optimisation runs per fit; default 2.
        opt_maxiter: Iteration limit of each such run; default 50.
        opt_skip_init_length: Hyperparameters are optimised in every fit up to this many
            observations; default 150.
        opt_skip_period: Beyond that, in every ``opt_skip_period``-th fit only; default 1.
        max_size_data_for_model: Fit the model to at most this many observations (a fraction
            ``max_size_top_fraction`` of them the best ones, the rest a random draw of the
            others, fresh in every fit); default 500 (a fit costs O(n^3): without a cap, long
            runs slow down sharply); ``None``: all.
        max_size_top_fraction: Default 0.25.
        map_reward: For ``mode="max"``: ``"minus_x"`` (default; criterion ``-metric``) or
            ``"<a>_minus_x"`` (criterion ``a - metric``, e.g. ``"1_minus_x"``). Ignored for
            ``mode="min"``.
        restrict_configurations: If given, suggest only these configs (e.g. those a table
            holds), each at most once: EI is computed for all not yet suggested and the best is
            taken, without local search. Initial points not among them are dropped.
        skip_local_optimization: Take the best-scoring candidate instead of climbing EI from it
            with L-BFGS-B; default False.

    Raises:
        ValueError: If an option is out of range (naming it and the allowed values).
    """

    num_init_random: int = 3
    num_init_candidates: int = 250
    initial_scoring: str = "thompson_indep"
    num_fantasy_samples: int = 20
    opt_nstarts: int = 2
    opt_maxiter: int = 50
    opt_skip_init_length: int = 150
    opt_skip_period: int = 1
    max_size_data_for_model: int | None = 500
    max_size_top_fraction: float = 0.25
    map_reward: str | None = None
    restrict_configurations: Sequence[Mapping[str, Any]] | None = None
    skip_local_optimization: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        from hpo_core.searchers.gp.acquisition import INITIAL_SCORINGS  # scipy on first use

        check_int("num_init_random", self.num_init_random, 0)
        check_int("num_init_candidates", self.num_init_candidates, 1)
        check_choice("initial_scoring", self.initial_scoring, INITIAL_SCORINGS)
        check_int("num_fantasy_samples", self.num_fantasy_samples, 1)
        check_int("opt_nstarts", self.opt_nstarts, 1)
        check_int("opt_maxiter", self.opt_maxiter, 1)
        check_int("opt_skip_init_length", self.opt_skip_init_length, 0)
        check_int("opt_skip_period", self.opt_skip_period, 1)
        if self.max_size_data_for_model is not None:
            check_int("max_size_data_for_model", self.max_size_data_for_model, 2)
        check_fraction("max_size_top_fraction", self.max_size_top_fraction)
        parse_map_reward("minus_x" if self.map_reward is None else self.map_reward)
        if self.restrict_configurations is not None and not len(self.restrict_configurations):
            raise ValueError("restrict_configurations must not be empty")


class GPSearcherBase(Searcher):
    """What the GP searchers share: initial configs, no config twice, finite tables, the
    internal criterion and the choice of a config by expected improvement.

    The first ``max(num_init_random, len(points_to_evaluate))`` configs are the
    ``points_to_evaluate``, then random ones; later configs maximise EI of the internal criterion
    (the metric for ``mode="min"``, ``map_reward`` of it for ``mode="max"``) under the posterior
    a subclass builds (:meth:`_bo_config`), as long as some result has been observed (random
    until then). No config is suggested twice.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        options: The searcher's options (:class:`GPOptions` or a subclass).
    """

    wants_data = True
    options_type = GPOptions
    options: GPOptions
    #: Iteration limit of the local search.
    local_search_maxiter = 50

    def _setup(self) -> None:
        super()._setup()
        options = self.options
        self._offset = parse_map_reward("minus_x" if options.map_reward is None
                                        else options.map_reward)
        self._encoder = sp.SpaceEncoder(self.config_space)
        self._suggested: set[tuple[Any, ...]] = set()
        self._num_suggested = 0
        #: trial_id -> encoded config, for every suggested trial
        self._x: dict[int, np.ndarray] = {}
        self._size = 1
        for domain in sp.hyperparameters(self.config_space).values():
            card = domain.cardinality
            self._size = self._size * card if card is not None and self._size else 0
        self._table: list[dict[str, Any]] | None = None
        self._table_X = np.empty((0, self._encoder.dim))
        self._table_row: dict[tuple[Any, ...], int] = {}
        self._available = np.zeros(0, dtype=bool)
        if options.restrict_configurations is not None:
            self._init_table(options.restrict_configurations)

    def _init_table(self, configs: Sequence[Mapping[str, Any]]) -> None:
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for c in configs:
            config = sp.complete_config(self.config_space, c)
            rows.setdefault(self._key(config), config)  # a table may repeat a config
        if not rows:
            raise ValueError("restrict_configurations must not be empty")
        self._table = list(rows.values())
        self._table_X = self._encoder.encode_many(self._table)
        self._table_row = {key: i for i, key in enumerate(rows)}
        self._available = np.ones(len(self._table), dtype=bool)
        self._initial = type(self._initial)(c for c in self._initial
                                            if self._key(c) in self._table_row)

    def _key(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        return sp.config_key(self.config_space, config)

    def _is_new(self, config: Mapping[str, Any]) -> bool:
        return self._key(config) not in self._suggested

    def _criterion(self, value: float) -> float:
        """The minimised internal criterion of a metric value."""
        return float(value) if self.mode == "min" else self._offset - float(value)

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        config = None
        while self._initial and config is None:
            first = self._initial.popleft()
            config = first if self._is_new(first) else None
        if config is None:
            if self._num_suggested < self.options.num_init_random or not self._has_data():
                config = self._random_config()
            else:
                from hpo_core.searchers.gp.model import single_threaded_blas

                with single_threaded_blas():
                    config = self._bo_config()
                if config is None and self._table is None:
                    config = self._random_config()
        if config is None:
            return None
        key = self._key(config)
        self._suggested.add(key)
        self._num_suggested += 1
        self._x[trial_id] = self._encoder.encode(config)
        if self._table is not None and key in self._table_row:
            self._available[self._table_row[key]] = False
        return config

    def _suggest(self, trial_id: int) -> dict[str, Any] | None:  # pragma: no cover
        raise AssertionError("suggest() is overridden")

    def _random_config(self) -> dict[str, Any] | None:
        if self._table is not None:
            rows = np.flatnonzero(self._available)
            return None if not len(rows) else self._table[int(self.rng.choice(rows))]
        if self._size and len(self._suggested) >= self._size:
            return None
        for _ in range(MAX_RETRIES):
            config = sp.sample_config(self.config_space, self.rng)
            if self._is_new(config):
                return config
        return None

    def _has_data(self) -> bool:
        """Whether the model has something to learn from (else configs are random)."""
        raise NotImplementedError

    def _bo_config(self) -> dict[str, Any] | None:
        """A model-based config (BLAS single-threaded), ``None`` if none is new."""
        raise NotImplementedError

    def _select(self, posterior: ConfigPosterior, best: Best) -> dict[str, Any] | None:
        """The config of highest EI under ``posterior`` (see
        :func:`~hpo_core.searchers.gp.acquisition.select_config`), from the table if there is
        one; ``None`` if no new config is left."""
        from hpo_core.searchers.gp import acquisition as acq

        if self._table is not None:
            rows = np.flatnonzero(self._available)
            if not len(rows):
                return None
            return self._table[rows[acq.select_from_table(posterior, self._table_X[rows],
                                                          best=best)]]
        if self._size and len(self._suggested) >= self._size:
            return None
        candidates = sp.sample_configs(self.config_space, self.options.num_init_candidates,
                                       self.rng)
        return acq.select_config(
            posterior, encoder=self._encoder, best=best, candidates=candidates,
            is_new=self._is_new, initial_scoring=self.options.initial_scoring, rng=self.rng,
            num_local_starts=0 if self.options.skip_local_optimization else NUM_LOCAL_STARTS,
            local_maxiter=self.local_search_maxiter,
        )


class GPSearcher(GPSearcherBase):
    """Bayesian optimisation: a GP surrogate (Matérn-5/2 ARD) and expected improvement.

    Configs as in :class:`GPSearcherBase`. Configs suggested but not yet observed are
    *pending*: their outcomes are fantasized by ``num_fantasy_samples`` joint draws from the
    posterior, which lowers the uncertainty around them.

    The data holds one value per trial: the one at the highest resource observed (the latest
    one at equal resource), so the searcher also runs under multi-fidelity schedulers, where it
    models the latest values of all trials alike. Non-finite values are ignored.

    Args:
        config_space: The configuration space.
        metric: Name of the metric to optimise.
        mode: ``"min"`` or ``"max"``.
        rng: The generator all randomness comes from (random configs, candidates, restarts,
            subsampling, fantasies).
        points_to_evaluate: Initial configs (see :class:`~hpo_core.searchers.base.Searcher`).
        options: :class:`GPOptions` (default: its defaults).

    Raises:
        ValueError: If ``mode`` is neither ``"min"`` nor ``"max"``.
    """

    def _setup(self) -> None:
        super()._setup()
        options = self.options
        # scipy is imported here, not with the registry, so `import hpo_core` stays light.
        from hpo_core.searchers.gp.kernels import Matern52
        from hpo_core.searchers.gp.model import GPModel, keep_freed_memory

        keep_freed_memory()

        self.model: GPModel = GPModel(
            kernel=Matern52(dim=self._encoder.dim),
            rng=self.rng,
            opt_nstarts=options.opt_nstarts,
            opt_maxiter=options.opt_maxiter,
            opt_skip_init_length=options.opt_skip_init_length,
            opt_skip_period=options.opt_skip_period,
            max_size_data_for_model=options.max_size_data_for_model,
            max_size_top_fraction=options.max_size_top_fraction,
        )
        self._pending: set[int] = set()
        #: trial_id -> (encoded config, criterion, resource)
        self._data: dict[int, tuple[np.ndarray, float, int]] = {}
        self._data_changed = False

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        config = super().suggest(trial_id)
        if config is not None:
            self._pending.add(trial_id)
        return config

    def _has_data(self) -> bool:
        return bool(self._data)

    def _bo_config(self) -> dict[str, Any] | None:
        from hpo_core.searchers.gp import acquisition as acq

        if self._data_changed:
            X = np.array([x for x, _, _ in self._data.values()])
            y = np.array([v for _, v, _ in self._data.values()])
            self.model.fit(X, y)
            self._data_changed = False
        real = self.model.posterior
        pending = np.array([self._x[t] for t in self._pending]).reshape(-1, self._encoder.dim)
        posterior = real.fantasize(pending, num_samples=self.options.num_fantasy_samples,
                                   rng=self.rng)
        return self._select(posterior, acq.incumbent(posterior, posterior.X))

    def observe(
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        self._pending.discard(trial_id)
        if not math.isfinite(value):
            return
        previous = self._data.get(trial_id)
        if previous is not None and previous[2] > resource:
            return
        x = self._x.get(trial_id)
        self._data[trial_id] = (self._encoder.encode(config) if x is None else x,
                                self._criterion(value), resource)
        self._data_changed = True

    def on_trial_error(self, trial_id: int) -> None:
        self._pending.discard(trial_id)
