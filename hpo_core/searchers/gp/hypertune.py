"""Hyper-Tune's searcher: MOBSTER's models, an ensemble over resource levels, learned brackets.

Li et al. (2022), "Hyper-Tune: towards efficient hyper-parameter tuning at scale" (PVLDB;
arXiv:2201.06834). The searcher fits the same models to the same data as MOBSTER
(:mod:`hpo_core.searchers.gp.mobster`): independent GPs per level (``"gp_independent"``, the
default here) or the joint GP over (config, resource) (``"gp_multitask"``). On top:

* **Level weights** ``theta_r``. Let ``r*`` be the highest level (rung levels and ``max_t``) with
  at least :data:`MIN_DATA_PER_LEVEL` observations; it needs a level below it. For each level
  ``r < r*``, ``num_samples`` joint samples of the posterior at ``r`` at the configs observed at
  ``r*`` are compared with the values observed there: a sample's *ranking loss* is the fraction of
  pairs of configs it orders differently. The loss of ``r*`` itself comes from k-fold
  cross-validation (``k = min(n // 2, 5)`` contiguous folds of its ``n`` observations, each fold
  sampled from ``r*``'s posterior given the other folds, same hyperparameters; losses averaged
  over folds). ``theta_r`` is the fraction of samples in which level ``r`` has the smallest loss
  (a tie counts for every tied level). Recomputed when ``r*`` or its number of observations
  changes.
* **Acquisition**: EI under the ensemble predictive distribution, mean
  ``sum_r theta_r mu_r(x)`` and variance ``sum_r theta_r^2 sigma_r^2(x)``, over the levels with
  ``theta_r`` above :data:`MIN_WEIGHT` (renormalised); pending trials are fantasized as in
  MOBSTER, each at the level it heads to, once per suggestion. Until ``theta`` is known: the
  posterior at the lowest level with data. The incumbent is MOBSTER's (the configs observed at
  ``r_acq``).
* **Brackets**: bracket ``b`` starts at level ``r_b``; a new trial's bracket is drawn with
  probabilities ``w_b ~ theta_{r_b} / r_b``. If fewer levels have weights than there are brackets,
  these replace Hyperband's probabilities of the first brackets, keeping their total mass
  (:meth:`HyperTuneSearcher.bracket_distribution`, used by
  :class:`~hpo_core.schedulers.HyperbandScheduler`).

The defaults (50 samples, 6 observations, at most 5 folds) are those of Syne Tune's
implementation, which, like this one, starts learning weights once the second level has enough
data rather than waiting for the starting level of the last bracket.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from hpo_core.searchers.gp.mobster import MultiFidelityGPSearcher
from hpo_core.searchers.gp.searcher import _check_int

if TYPE_CHECKING:  # scipy-backed modules load on first use
    from hpo_core.searchers.gp.acquisition import ConfigPosterior

#: Observations the highest level used for the weights needs (and the minimum for any weights).
MIN_DATA_PER_LEVEL = 6
#: Largest number of cross-validation folds at the highest level.
MAX_FOLDS = 5
#: Levels with a weight up to this are left out of the ensemble.
MIN_WEIGHT = 0.01
#: Pairwise comparisons held in memory at once by :func:`ranking_losses`.
_MAX_COMPARISONS = 1 << 22


class JointPosterior(Protocol):
    """A posterior that gives the joint distribution at several configs."""

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance matrix at the rows of ``Xs``."""
        ...


def sample_joint(mean: np.ndarray, cov: np.ndarray, num_samples: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``num_samples`` draws from ``N(mean, cov)`` as the columns of an ``(n, num_samples)``
    array (diagonal jitter only if the Cholesky factorisation needs it)."""
    n = len(mean)
    cov = 0.5 * (cov + cov.T)
    scale = max(float(np.mean(np.diag(cov))), 1e-12)
    factor = None
    for jitter in (0.0, 1e-10, 1e-8, 1e-6, 1e-4):
        try:
            factor = np.linalg.cholesky(cov + (jitter * scale) * np.eye(n))
            break
        except np.linalg.LinAlgError:
            continue
    if factor is None:  # numerically indefinite: the nearest PSD matrix's square root
        eigenvalues, vectors = np.linalg.eigh(cov)
        factor = vectors * np.sqrt(np.maximum(eigenvalues, 0.0))
    return mean[:, None] + factor @ rng.standard_normal((n, num_samples))


def ranking_losses(samples: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per column of ``samples`` (shape ``(n, S)``), the fraction of the ``n (n - 1) / 2`` pairs
    it orders differently from ``targets`` (strict comparisons on both sides)."""
    n, num_samples = samples.shape
    target_less = targets[:, None] < targets[None, :]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    by_sample = samples.T
    wrong = np.empty(num_samples)
    # all pairs of a few samples at a time: fast comparisons, bounded memory
    chunk = max(1, _MAX_COMPARISONS // (n * n))
    for start in range(0, num_samples, chunk):
        block = by_sample[start:start + chunk]
        sample_less = block[:, :, None] < block[:, None, :]
        wrong[start:start + chunk] = np.count_nonzero((sample_less != target_less) & upper,
                                                      axis=(1, 2))
    return wrong / (n * (n - 1) / 2)


def cross_validation_losses(
    posterior_given: Callable[[np.ndarray], JointPosterior], X: np.ndarray, y: np.ndarray,
    *, num_samples: int, rng: np.random.Generator,
) -> np.ndarray:
    """Ranking-loss samples of a level's model on its own data ``(X, y)`` (``n >= 4`` rows):
    ``min(n // 2, 5)`` contiguous folds, each predicted by ``posterior_given(training rows)``;
    the losses are averaged over folds."""
    n = len(y)
    losses = np.zeros(num_samples)
    folds = np.array_split(np.arange(n), min(n // 2, MAX_FOLDS))
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        mean, cov = posterior_given(train).predict_joint(X[test])
        losses += ranking_losses(sample_joint(mean, cov, num_samples, rng), y[test])
    return losses / len(folds)


def level_weights(losses: np.ndarray) -> np.ndarray:
    """``theta`` from ranking-loss samples of shape ``(levels, samples)``: the fraction of
    samples in which each level's loss is the smallest (ties count for every tied level)."""
    wins = np.sum(losses == np.min(losses, axis=0, keepdims=True), axis=1).astype(float)
    return wins / np.sum(wins)


def hypertune_bracket_distribution(
    theta: Sequence[float], levels: Sequence[int], default: Sequence[float]
) -> list[float]:
    """Probabilities of the brackets (bracket ``b`` starts at ``levels[b]``): ``theta_b / r_b``
    normalised over the first ``min(len(default), len(theta))`` brackets; Hyperband's
    ``default`` for the brackets beyond, the head keeping the default's mass. All mass on
    bracket 0 if ``theta`` vanishes on the head."""
    num_brackets = len(default)
    head = min(num_brackets, len(theta))
    weights = np.asarray(theta[:head], dtype=float) / np.asarray(levels[:head], dtype=float)
    total = float(np.sum(weights))
    if not total > 0:
        weights = np.zeros(head)
        weights[0] = total = 1.0
    weights /= total
    if head == num_brackets:
        return weights.tolist()
    return [*(weights * math.fsum(default[:head])).tolist(), *default[head:]]


class EnsemblePosterior:
    """Weighted combination of posteriors over configs: mean ``sum_r w_r mu_r``, variance
    ``sum_r w_r^2 sigma_r^2`` (the levels treated as independent Gaussians).

    Args:
        parts: ``(weight, posterior)`` pairs.
    """

    def __init__(self, parts: Sequence[tuple[float, ConfigPosterior]]) -> None:
        if not parts:
            raise ValueError("an ensemble needs at least one posterior")
        self.parts = list(parts)

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var = self._combine(Xs, with_gradient=False)[:2]
        return mean, var

    def predict_with_gradient(
        self, Xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        mean, var, dmean, dvar = self._combine(Xs, with_gradient=True)
        assert dmean is not None and dvar is not None
        return mean, var, dmean, dvar

    def _combine(self, Xs: np.ndarray, *, with_gradient: bool) -> tuple[
            np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        # Means carry a sample axis throughout (size 1 for parts without fantasy samples, which
        # broadcast over the others), dropped at the end if no part had samples.
        m_rows, d = Xs.shape
        mean, var = np.zeros((m_rows, 1)), np.zeros(m_rows)
        dmean, dvar = np.zeros((m_rows, 1, d)), np.zeros((m_rows, d))
        for weight, posterior in self.parts:
            if with_gradient:
                m, v, dm, dv = posterior.predict_with_gradient(Xs)
                dmean = dmean + weight * (dm if m.ndim == 2 else dm[:, None, :])
                dvar = dvar + weight**2 * dv
            else:
                m, v = posterior.predict(Xs)
            mean = mean + weight * (m if m.ndim == 2 else m[:, None])
            var = var + weight**2 * v
        if mean.shape[1] == 1:
            mean, dmean = mean[:, 0], dmean[:, 0]
        return mean, var, (dmean if with_gradient else None), (dvar if with_gradient else None)


class HyperTuneSearcher(MultiFidelityGPSearcher):
    """Hyper-Tune's searcher (see the module docstring), registered as ``"hypertune"``: use it
    with :class:`~hpo_core.schedulers.HyperbandScheduler` (``searcher="hypertune"``), whose
    ``brackets`` it then draws.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        model: ``"gp_independent"`` (default, as in the paper) or ``"gp_multitask"``.
        hypertune_distribution_num_samples: Ranking-loss samples per level; default 50.
        gp_resource_kernel, resource_acq_bohb_threshold, opt_skip_num_max_resource,
        num_init_random, num_init_candidates, initial_scoring, num_fantasy_samples, opt_nstarts,
        opt_maxiter, opt_skip_init_length, opt_skip_period, max_size_data_for_model,
        max_size_top_fraction, map_reward, restrict_configurations,
        skip_local_optimization: As for
            :class:`~hpo_core.searchers.gp.mobster.MultiFidelityGPSearcher`, same defaults.

    Attributes:
        level_weights: ``theta`` over :attr:`supported_levels` (``None`` until learned).
        supported_levels: The levels up to ``r*``, lowest first.

    Raises:
        ValueError: If an option is out of range (naming it and the allowed values).
    """

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        model: str = "gp_independent",
        hypertune_distribution_num_samples: int = 50,
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
            config_space, metric=metric, mode=mode, rng=rng,
            points_to_evaluate=points_to_evaluate, model=model,
            gp_resource_kernel=gp_resource_kernel,
            resource_acq_bohb_threshold=resource_acq_bohb_threshold,
            opt_skip_num_max_resource=opt_skip_num_max_resource, num_init_random=num_init_random,
            num_init_candidates=num_init_candidates, initial_scoring=initial_scoring,
            num_fantasy_samples=num_fantasy_samples, opt_nstarts=opt_nstarts,
            opt_maxiter=opt_maxiter, opt_skip_init_length=opt_skip_init_length,
            opt_skip_period=opt_skip_period, max_size_data_for_model=max_size_data_for_model,
            max_size_top_fraction=max_size_top_fraction,
            map_reward=map_reward, restrict_configurations=restrict_configurations,
            skip_local_optimization=skip_local_optimization,
        )
        self.num_samples = _check_int("hypertune_distribution_num_samples",
                                      hypertune_distribution_num_samples, 1)
        self.level_weights: np.ndarray | None = None
        self.supported_levels: list[int] = []
        self._signature: tuple[int, int] | None = None

    # -- level weights --------------------------------------------------------------------------

    def _level_posterior(self, level: int) -> JointPosterior | None:
        """The fitted posterior at ``level`` (no fantasies), ``None`` if the model has none."""
        from hpo_core.searchers.gp.multitask import ResourceGPModel

        assert self.model is not None
        if isinstance(self.model, ResourceGPModel):
            return self.model.posterior.at_resource(level / self.max_t)
        return self.model.posteriors().get(level)

    def _posterior_given(self, level: int, X: np.ndarray,
                         y: np.ndarray) -> Callable[[np.ndarray], JointPosterior] | None:
        """Rows -> the posterior at ``level`` conditioned on those rows of ``(X, y)`` only,
        with the fitted hyperparameters."""
        from hpo_core.searchers.gp.multitask import ResourceGPModel

        assert self.model is not None
        if isinstance(self.model, ResourceGPModel):
            base = self.model.posterior
            resource = level / self.max_t
            rows = np.hstack([X, np.full((X.shape[0], 1), resource)])
            return lambda train: base.with_data(rows[train], y[train]).at_resource(resource)
        fitted = self.model.posteriors().get(level)
        if fitted is None:
            return None
        return lambda train: fitted.with_data(X[train], y[train])

    def update_level_weights(self) -> None:
        """Recompute :attr:`level_weights` if ``r*`` or its data changed (model fitted)."""
        assert self.model is not None
        for top in range(len(self.levels) - 1, 0, -1):
            X_top, y_top = self.observations(self.levels[top])
            if len(y_top) >= MIN_DATA_PER_LEVEL:
                break
        else:
            return
        if self._signature == (top, len(y_top)):
            return
        levels = self.levels[:top + 1]
        y_top = self.model.standardize(y_top)
        posterior_given = self._posterior_given(levels[-1], X_top, y_top)
        if posterior_given is None:  # subsampling left r* without data: keep the weights
            return
        self._signature = (top, len(y_top))
        losses = np.full((len(levels), self.num_samples), np.inf)
        for i, level in enumerate(levels[:-1]):
            posterior = self._level_posterior(level)
            if posterior is not None:
                mean, cov = posterior.predict_joint(X_top)
                losses[i] = ranking_losses(sample_joint(mean, cov, self.num_samples, self.rng),
                                           y_top)
        losses[-1] = cross_validation_losses(posterior_given, X_top, y_top,
                                             num_samples=self.num_samples, rng=self.rng)
        self.level_weights = level_weights(losses)
        self.supported_levels = list(levels)

    def ensemble_weights(self) -> dict[int, float]:
        """Level -> weight in the acquisition's ensemble (see the module docstring)."""
        if self.level_weights is None:
            lowest = min((r for r in self.levels if self.num_observations(r) > 0), default=None)
            return {} if lowest is None else {lowest: 1.0}
        kept = {r: float(w) for r, w in zip(self.supported_levels, self.level_weights,
                                            strict=True) if w > MIN_WEIGHT}
        total = math.fsum(kept.values())
        return {r: w / total for r, w in kept.items()}

    # -- hooks ----------------------------------------------------------------------------------

    def acquisition_posterior(self) -> tuple[ConfigPosterior, int, np.ndarray]:
        """The ensemble posterior (pending trials fantasized at their levels), and MOBSTER's
        ``r_acq`` and incumbent configs."""
        level, X_incumbent = self._acquisition_level()
        self.update_level_weights()
        weights = self.ensemble_weights()
        parts = [(weights[r], p) for r, p in self._fantasized(weights).items()]
        if not parts:
            return self._fantasized({level: 1.0})[level], level, X_incumbent
        total = math.fsum(w for w, _ in parts)
        return EnsemblePosterior([(w / total, p) for w, p in parts]), level, X_incumbent

    def bracket_distribution(self, default: Sequence[float]) -> list[float] | None:
        if self.level_weights is None:
            return None
        return hypertune_bracket_distribution(self.level_weights.tolist(),
                                              self.supported_levels, default)
