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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hpo_core.searchers.base import check_int
from hpo_core.searchers.gp.mobster import MultiFidelityGPOptions, MultiFidelityGPSearcher

if TYPE_CHECKING:  # scipy-backed modules load on first use
    from hpo_core.searchers.gp.acquisition import ConfigPosterior, JointPosterior

#: Observations the highest level used for the weights needs (and the minimum for any weights).
MIN_DATA_PER_LEVEL = 6
#: Largest number of cross-validation folds at the highest level.
MAX_FOLDS = 5
#: Levels with a weight up to this are left out of the ensemble.
MIN_WEIGHT = 0.01
#: Pairwise comparisons held in memory at once by :func:`ranking_losses`.
_MAX_COMPARISONS = 1 << 22


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


@dataclass(frozen=True, kw_only=True)
class HyperTuneOptions(MultiFidelityGPOptions):
    """Options of :class:`HyperTuneSearcher`: those of
    :class:`~hpo_core.searchers.gp.mobster.MultiFidelityGPOptions`, with ``model`` defaulting
    to ``"gp_independent"`` (as in the paper), and:

    Attributes:
        hypertune_distribution_num_samples: Ranking-loss samples per level; default 50.
    """

    model: str = "gp_independent"
    hypertune_distribution_num_samples: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("hypertune_distribution_num_samples", self.hypertune_distribution_num_samples,
                  1)


class HyperTuneSearcher(MultiFidelityGPSearcher):
    """Hyper-Tune's searcher (see the module docstring), registered as ``"hypertune"``: use it
    with :class:`~hpo_core.schedulers.HyperbandScheduler` (``searcher="hypertune"``), whose
    ``brackets`` it then draws.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        options: :class:`HyperTuneOptions` (default: its defaults).

    Attributes:
        level_weights: ``theta`` over :attr:`supported_levels` (``None`` until learned).
        supported_levels: The levels up to ``r*``, lowest first.
    """

    options_type = HyperTuneOptions
    options: HyperTuneOptions

    def _setup(self) -> None:
        super()._setup()
        self.level_weights: np.ndarray | None = None
        self.supported_levels: list[int] = []
        self._signature: tuple[int, int] | None = None

    # -- level weights --------------------------------------------------------------------------

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
        posterior_given = self.model.posterior_given(levels[-1], X_top, y_top)
        if posterior_given is None:  # subsampling left r* without data: keep the weights
            return
        self._signature = (top, len(y_top))
        num_samples = self.options.hypertune_distribution_num_samples
        losses = np.full((len(levels), num_samples), np.inf)
        below = self.model.posteriors(levels[:-1])
        for i, level in enumerate(levels[:-1]):
            if level in below:
                mean, cov = below[level].predict_joint(X_top)
                losses[i] = ranking_losses(sample_joint(mean, cov, num_samples, self.rng), y_top)
        losses[-1] = cross_validation_losses(posterior_given, X_top, y_top,
                                             num_samples=num_samples, rng=self.rng)
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
