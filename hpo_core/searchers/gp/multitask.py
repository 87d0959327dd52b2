"""A Gaussian process over (config, resource) rows: the joint ("gp_multitask") MOBSTER model.

Rows are ``(x, r)`` as in :mod:`hpo_core.searchers.gp.resource_kernels`; the kernel carries the
mean function, so :attr:`ResourceGPModel.params` ``= [*kernel.params, log s2_noise]``. Targets
are standardised before fitting; hyperparameters maximise the log marginal likelihood plus the
log priors (the kernel's and Gamma(1.1, 0.05) on the noise), by L-BFGS-B on exact gradients.

Acquisition functions see a posterior over configs at one resource level
(:meth:`ResourcePosterior.at_resource`), which has the members they use of
:class:`~hpo_core.searchers.gp.model.GPPosterior`: ``predict``, ``predict_joint`` and
``predict_with_gradient``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from scipy.linalg import LinAlgError

from hpo_core.searchers.gp.kernels import GammaPrior
from hpo_core.searchers.gp.model import (
    NOISE_PRIOR,
    ExactPosterior,
    gaussian_negative_log_likelihood,
    minimize_from_starts,
    single_threaded_blas,
    standardization,
)
from hpo_core.searchers.gp.resource_kernels import ResourceKernel


class ResourcePosterior(ExactPosterior):
    """:class:`~hpo_core.searchers.gp.model.ExactPosterior` over ``f(x, r)``: rows ``(x, r)``,
    shape ``(n, d + 1)``; the resource kernel carries the prior mean; gradients are taken in the
    config columns (the resource column held fixed)."""

    gradient_columns = slice(None, -1)

    def prior_mean(self, Xs: np.ndarray) -> np.ndarray:
        return np.asarray(self.kernel.mean(Xs))

    def with_data(self, X: np.ndarray, y: np.ndarray,
                  chol: np.ndarray | None = None) -> ResourcePosterior:
        return ResourcePosterior(kernel=self.kernel, noise=self.noise, X=X, y=y, chol=chol)

    def at_resource(self, resource: float) -> PosteriorAtResource:
        """The posterior over configs at normalised resource ``resource``."""
        return PosteriorAtResource(self, resource)


class PosteriorAtResource:
    """The posterior over encoded configs ``x`` at a fixed resource: ``f(x, resource)``."""

    def __init__(self, posterior: ResourcePosterior, resource: float) -> None:
        self.posterior, self.resource = posterior, resource

    def _rows(self, Xs: np.ndarray) -> np.ndarray:
        return np.hstack([Xs, np.full((Xs.shape[0], 1), self.resource)])

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.posterior.predict(self._rows(Xs))

    def predict_mean(self, Xs: np.ndarray) -> np.ndarray:
        return self.posterior.predict_mean(self._rows(Xs))

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.posterior.predict_joint(self._rows(Xs))

    def predict_with_gradient(
        self, Xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.posterior.predict_with_gradient(self._rows(Xs))


class ResourceGPModel:
    """The GP over ``(x, r)`` and its hyperparameter fitting.

    Observations are encoded configs ``X`` at resource levels; the model's rows are
    ``(x, level / max_t)``. It has the members of
    :class:`~hpo_core.searchers.gp.mobster.LevelModel`, which the multi-fidelity searchers use.

    Args:
        kernel: Resource kernel; its current parameters are the first starting point.
        max_t: The maximum resource (levels are divided by it).
        rng: Source of random restarts.
        opt_nstarts: L-BFGS-B runs per optimisation: from the current parameters, then from
            points drawn uniformly in the boxes (the mean from ``[-1, 1]``).
        opt_maxiter: Iteration limit of each run.
        noise_prior: Prior of the noise variance; ``None`` for none.
        noise_floor: Smallest noise variance (standardised units).

    Attributes:
        params: ``[*kernel.params, log s2_noise]``.
        num_fits: Calls of :meth:`fit`; ``num_optimizations``: those that optimised.
        y_mean, y_scale: The standardisation, ``y = y_mean + y_scale * y_standardised``.
    """

    def __init__(self, *, kernel: ResourceKernel, max_t: int, rng: np.random.Generator,
                 opt_nstarts: int = 2, opt_maxiter: int = 50,
                 noise_prior: GammaPrior | None = NOISE_PRIOR,
                 noise_floor: float = 1e-6) -> None:
        self.kernel = kernel
        self.max_t = max_t
        self.rng = rng
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self.noise_prior = noise_prior
        self.params = np.concatenate([kernel.params, [math.log(1e-3)]])
        self._bounds = np.vstack([kernel.param_bounds(),
                                  [math.log(noise_floor), math.log(10.0)]])
        self.num_fits = 0
        self.num_optimizations = 0
        self.y_mean, self.y_scale = 0.0, 1.0
        self._X = np.empty((0, kernel.dim))
        self._y = np.empty(0)
        self._posterior: ResourcePosterior | None = None

    @property
    def posterior(self) -> ResourcePosterior:
        """Posterior of the last fit, in standardised units."""
        if self._posterior is None:
            raise RuntimeError("the model has not been fitted")
        return self._posterior

    def standardize(self, y: np.ndarray) -> np.ndarray:
        return (y - self.y_mean) / self.y_scale

    def rows(self, X: np.ndarray, levels: np.ndarray | float) -> np.ndarray:
        """Model rows ``(x, level / max_t)`` of encoded configs ``X`` at ``levels``."""
        resources = np.broadcast_to(np.asarray(levels, dtype=float) / self.max_t, (len(X),))
        return np.hstack([X, resources[:, None]])

    def fit(self, X: np.ndarray, levels: np.ndarray, y: np.ndarray, *,
            optimize: bool = True) -> None:
        """Fit to encoded configs ``X`` observed at ``levels`` with targets ``y`` (lower is
        better), optimising the hyperparameters if ``optimize``."""
        if X.shape[0] == 0:
            raise ValueError("cannot fit a GP to no data")
        # rows of the same config next to each other (the order does not change the model),
        # which the exp-decay kernels exploit (ExpDecayKernel._config_gram)
        order = np.lexsort((levels, *X.T[::-1]))
        X, y = self.rows(X[order], np.asarray(levels)[order]), np.asarray(y)[order]
        with single_threaded_blas():
            self.num_fits += 1
            self.y_mean, self.y_scale = standardization(y)
            self._X, self._y = X, self.standardize(y)
            if optimize:
                self._optimize()
            kernel = self.kernel.with_params(self.params[:-1])
            assert isinstance(kernel, ResourceKernel)
            self._posterior = ResourcePosterior(kernel=kernel, noise=math.exp(self.params[-1]),
                                                X=X, y=self._y)

    def extend(self, X_new: np.ndarray, levels_new: np.ndarray, y_new: np.ndarray) -> None:
        """Add observations to the last fit without refitting: same hyperparameters and
        standardisation, the Cholesky factor extended by a block (``O(n^2)`` per row)."""
        with single_threaded_blas():
            self.num_fits += 1
            self._posterior = self.posterior.extend(self.rows(X_new, levels_new),
                                                    self.standardize(y_new))

    # -- the LevelModel members ------------------------------------------------------------------

    def posteriors(self, levels: Iterable[int]) -> dict[int, PosteriorAtResource]:
        """The fitted posterior over configs at each of ``levels`` (standardised units)."""
        posterior = self.posterior
        return {r: posterior.at_resource(r / self.max_t) for r in levels}

    def fantasized(self, levels: Iterable[int], X_pending: np.ndarray,
                   pending_levels: np.ndarray, *, num_samples: int,
                   rng: np.random.Generator) -> dict[int, PosteriorAtResource]:
        """Posteriors at ``levels`` after fantasizing the outcomes of the pending configs
        ``X_pending`` at ``pending_levels`` (one joint set of ``num_samples`` samples)."""
        joint = self.posterior.fantasize(self.rows(X_pending, pending_levels),
                                         num_samples=num_samples, rng=rng)
        return {r: joint.at_resource(r / self.max_t) for r in levels}

    def posterior_given(self, level: int, X: np.ndarray,
                        y: np.ndarray) -> Callable[[np.ndarray], PosteriorAtResource]:
        """Training rows -> the posterior at ``level`` given only those rows of ``(X, y)``
        (observed at ``level``, standardised), with the fitted hyperparameters."""
        base, rows = self.posterior, self.rows(X, level)
        return lambda train: base.with_data(rows[train], y[train]).at_resource(level / self.max_t)

    def _optimize(self) -> None:
        self.num_optimizations += 1
        self.params = minimize_from_starts(
            self.neg_log_posterior, self.params, self._bounds, rng=self.rng,
            nstarts=self.opt_nstarts, maxiter=self.opt_maxiter, mean_indices=np.array([0]))

    def neg_log_posterior(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """``-(log p(y | params) + log p(params))`` on the (standardised) training data and its
        gradient; a large value and a zero gradient where the matrix cannot be factorised."""
        kernel = self.kernel.with_params(params[:-1])
        assert isinstance(kernel, ResourceKernel)
        noise = math.exp(params[-1])
        X = self._X
        K, kernel_gradient = kernel.gram_with_param_gradient(X)
        K = K.copy()
        K[np.diag_indices_from(K)] += noise
        try:
            value, alpha, weights = gaussian_negative_log_likelihood(
                K, self._y - kernel.mean(X), overwrite_k=True)
        except LinAlgError:
            return 1e10, np.zeros_like(params)
        grad = np.empty_like(params)
        grad[:-1] = kernel_gradient(weights) - kernel.mean_param_gradient(X, alpha)
        grad[-1] = np.trace(weights) * noise
        prior_value, prior_grad = kernel.log_prior()
        value -= prior_value
        grad[:-1] -= prior_grad
        if self.noise_prior is not None:
            v, g = self.noise_prior.log_density(params[-1:])
            value -= v
            grad[-1] -= g[0]
        return value, grad

    def predict(self, Xs: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance at configs ``Xs`` and ``levels``, in target units."""
        mean, var = self.posterior.predict(self.rows(np.asarray(Xs, dtype=float), levels))
        return self.y_mean + self.y_scale * mean, self.y_scale**2 * var
