"""Independent GPs per resource level with shared lengthscales ("gp_independent").

Level ``r`` has its own process ``f_r(x) ~ GP(mu_r, s2_r * k(x, x'))``, where ``k`` is the
Matérn-5/2 ARD kernel with unit variance and lengthscales shared by all levels; one noise
variance. Hyperparameters ``[log l_1..l_d, (mu_r, log s2_r) per level, log s2_noise]`` maximise
the sum of the levels' log marginal likelihoods plus the log priors (lengthscales Gamma(3, 6)
once, each ``s2_r`` Gamma(2, 1), the noise Gamma(1.1, 0.05)), by L-BFGS-B on exact gradients.
Targets of all levels are standardised together.

:meth:`IndependentGPModel.posteriors` gives one
:class:`~hpo_core.searchers.gp.model.GPPosterior` per level with data, so that methods
combining the levels' predictions (Hyper-Tune) can use them directly. The model has the members
of :class:`~hpo_core.searchers.gp.mobster.LevelModel`, which the multi-fidelity searchers use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy.linalg import LinAlgError

from hpo_core.searchers.gp.kernels import LENGTHSCALE_PRIOR, VARIANCE_PRIOR, Matern52
from hpo_core.searchers.gp.model import (
    NOISE_PRIOR,
    GPPosterior,
    gaussian_negative_log_likelihood,
    minimize_from_starts,
    single_threaded_blas,
    standardization,
)
from hpo_core.searchers.gp.resource_kernels import MEAN_BOUNDS


class IndependentGPModel:
    """Independent GPs per level sharing lengthscales, fitted jointly.

    Args:
        dim: Dimension of the encoded configs.
        levels: The resource levels (rung levels and ``max_t``), increasing.
        rng: Source of random restarts.
        opt_nstarts: L-BFGS-B runs per optimisation (current parameters first, then uniform
            draws in the boxes, means from ``[-1, 1]``).
        opt_maxiter: Iteration limit of each run.
        noise_floor: Smallest noise variance (standardised units).

    Attributes:
        params: See the module docstring.
        num_fits, num_optimizations: Calls of :meth:`fit`, and those that optimised.
        y_mean, y_scale: The standardisation of the targets.
    """

    def __init__(self, *, dim: int, levels: Sequence[int], rng: np.random.Generator,
                 opt_nstarts: int = 2, opt_maxiter: int = 50, noise_floor: float = 1e-6) -> None:
        self.dim = dim
        self.levels = list(levels)
        self._index = {level: i for i, level in enumerate(self.levels)}
        self.rng = rng
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self._matern = Matern52(dim=dim, lengthscale_prior=None, variance_prior=None)
        num_levels = len(self.levels)
        per_level = np.tile([0.0, 0.0], num_levels)
        self.params = np.concatenate([np.full(dim, math.log(0.5)), per_level, [math.log(1e-3)]])
        ls_bounds = np.log(self._matern.lengthscale_bounds)
        var_bounds = np.log(self._matern.variance_bounds)
        self._bounds = np.vstack([np.tile(ls_bounds, (dim, 1)),
                                  np.tile([MEAN_BOUNDS, var_bounds], (num_levels, 1)),
                                  [math.log(noise_floor), math.log(10.0)]])
        self.num_fits = 0
        self.num_optimizations = 0
        self.y_mean, self.y_scale = 0.0, 1.0
        self._data: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._posteriors: dict[int, GPPosterior] = {}

    def _level_params(self, params: np.ndarray, i: int) -> tuple[float, np.ndarray]:
        """``mu_r`` and the Matérn parameters ``[log l, log s2_r]`` of level number ``i``."""
        j = self.dim + 2 * i
        return float(params[j]), np.concatenate([params[:self.dim], params[j + 1:j + 2]])

    def standardize(self, y: np.ndarray) -> np.ndarray:
        return (y - self.y_mean) / self.y_scale

    def fit(self, X: np.ndarray, levels: np.ndarray, y: np.ndarray, *,
            optimize: bool = True) -> None:
        """Fit to encoded configs ``X`` (shape ``(n, dim)``) observed at ``levels`` with
        targets ``y`` (lower is better). Observations at resources that are not among
        :attr:`levels` are ignored (also by :meth:`extend`): there is one process per level."""
        keep = np.isin(levels, self.levels)
        X, levels, y = X[keep], levels[keep], y[keep]
        if X.shape[0] == 0:
            raise ValueError(f"cannot fit a GP to no data at the levels {self.levels}")
        with single_threaded_blas():
            self.num_fits += 1
            self.y_mean, self.y_scale = standardization(y)
            ys = self.standardize(y)
            self._data = {int(level): (X[levels == level], ys[levels == level])
                          for level in self.levels if np.any(levels == level)}
            if optimize:
                self._optimize()
            self._posteriors = {level: self._level_posterior(level, Xr, yr)
                                for level, (Xr, yr) in self._data.items()}

    def extend(self, X_new: np.ndarray, levels_new: np.ndarray, y_new: np.ndarray) -> None:
        """Add observations to the last fit without refitting hyperparameters or the
        standardisation; the Cholesky factors of the levels that get data are extended."""
        with single_threaded_blas():
            self.num_fits += 1
            ys = self.standardize(y_new)
            for level in np.unique(levels_new).tolist():
                if level not in self._index:
                    continue
                mask = levels_new == level
                posterior = self._posteriors.get(level)
                self._posteriors[level] = (
                    self._level_posterior(level, X_new[mask], ys[mask]) if posterior is None
                    else posterior.extend(X_new[mask], ys[mask]))

    def _level_posterior(self, level: int, X: np.ndarray, y: np.ndarray) -> GPPosterior:
        mean, kernel_params = self._level_params(self.params, self._index[level])
        return GPPosterior(kernel=self._matern.with_params(kernel_params), mean=mean,
                           noise=math.exp(self.params[-1]), X=X, y=y)

    def posteriors(self, levels: Iterable[int] | None = None) -> dict[int, GPPosterior]:
        """Posterior of each of ``levels`` (default: all) that has data, in standardised
        units, from the last fit."""
        if self.num_fits == 0:
            raise RuntimeError("the model has not been fitted")
        if levels is None:
            return dict(self._posteriors)
        return {r: self._posteriors[r] for r in levels if r in self._posteriors}

    def fantasized(self, levels: Iterable[int], X_pending: np.ndarray,
                   pending_levels: np.ndarray, *, num_samples: int,
                   rng: np.random.Generator) -> dict[int, GPPosterior]:
        """Posteriors at ``levels`` (those with data) after fantasizing the outcomes of the
        pending configs ``X_pending``: only those heading to a level change its posterior."""
        return {r: posterior.fantasize(X_pending[pending_levels == r], num_samples=num_samples,
                                       rng=rng)
                for r, posterior in self.posteriors(levels).items()}

    def posterior_given(self, level: int, X: np.ndarray,
                        y: np.ndarray) -> Callable[[np.ndarray], GPPosterior] | None:
        """Training rows -> the posterior at ``level`` given only those rows of ``(X, y)``
        (standardised), with the fitted hyperparameters; ``None`` if ``level`` has no data."""
        fitted = self.posteriors([level]).get(level)
        if fitted is None:
            return None
        return lambda train: fitted.with_data(X[train], y[train])

    def predict(self, level: int, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of ``f_level`` at configs ``Xs``, in target units."""
        mean, var = self.posteriors()[level].predict(np.asarray(Xs, dtype=float))
        return self.y_mean + self.y_scale * mean, self.y_scale**2 * var

    def _optimize(self) -> None:
        self.num_optimizations += 1
        self.params = minimize_from_starts(
            self.neg_log_posterior, self.params, self._bounds, rng=self.rng,
            nstarts=self.opt_nstarts, maxiter=self.opt_maxiter,
            mean_indices=self.dim + 2 * np.arange(len(self.levels)))

    def neg_log_posterior(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """``-(sum_r log p(y_r | params) + log p(params))`` and its gradient; a large value and
        a zero gradient where a matrix cannot be factorised."""
        noise = math.exp(params[-1])
        value, grad = 0.0, np.zeros_like(params)
        for level, (X, y) in self._data.items():
            i = self._index[level]
            j = self.dim + 2 * i
            mean, kernel_params = self._level_params(params, i)
            K, kernel_gradient = self._matern.with_params(kernel_params).gram_with_param_gradient(X)
            K = K.copy()
            K[np.diag_indices_from(K)] += noise
            try:
                level_value, alpha, weights = gaussian_negative_log_likelihood(
                    K, y - mean, overwrite_k=True)
            except LinAlgError:
                return 1e10, np.zeros_like(params)
            value += level_value
            g = kernel_gradient(weights)
            grad[:self.dim] += g[:-1]
            grad[j] = -np.sum(alpha)
            grad[j + 1] = g[-1]
            grad[-1] += np.trace(weights) * noise
        v, g = LENGTHSCALE_PRIOR.log_density(params[:self.dim])
        value -= v
        grad[:self.dim] -= g
        variances = self.dim + 1 + 2 * np.arange(len(self.levels))
        v, g = VARIANCE_PRIOR.log_density(params[variances])
        value -= v
        grad[variances] -= g
        v, g = NOISE_PRIOR.log_density(params[-1:])
        value -= v
        grad[-1] -= g[0]
        return value, grad
