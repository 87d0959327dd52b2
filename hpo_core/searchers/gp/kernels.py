"""Covariance functions with log-parametrised hyperparameters and analytic gradients.

A kernel holds its hyperparameters as one flat vector of logs (:attr:`Kernel.params`), so a
surrogate model can optimise any kernel, or a composition of kernels, without knowing what the
entries mean. Every kernel gives the covariance matrix, its diagonal, the gradient of a weighted
sum of covariance entries with respect to the log-parameters (what the marginal likelihood
needs), the gradient with respect to the first input (what acquisition optimisation needs) and
the log density of its prior.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

_SQRT5 = math.sqrt(5.0)


@dataclass(frozen=True)
class GammaPrior:
    """Gamma prior ``p(theta) ∝ theta^(shape - 1) exp(-rate * theta)`` on a positive parameter.

    The parameter is optimised as ``u = log(theta)``; :meth:`log_density` is the density of
    ``theta`` (normalised, without the Jacobian of the log map) and its derivative in ``u``.

    Args:
        shape: Shape ``a > 0``; mean ``a / rate``, mode ``(a - 1) / rate`` for ``a >= 1``.
        rate: Rate ``b > 0``.
    """

    shape: float
    rate: float

    def __post_init__(self) -> None:
        if not (self.shape > 0 and self.rate > 0):
            raise ValueError(f"GammaPrior needs shape > 0 and rate > 0, got {self!r}")

    def log_density(self, log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Summed log density at ``theta = exp(log_theta)`` and its gradient in ``log_theta``."""
        theta = np.exp(log_theta)
        const = self.shape * math.log(self.rate) - math.lgamma(self.shape)
        value = np.sum((self.shape - 1.0) * log_theta - self.rate * theta + const)
        return float(value), (self.shape - 1.0) - self.rate * theta


#: Default prior of Matérn lengthscales: mean 0.5, mode 1/3, for inputs in ``[0, 1]``.
LENGTHSCALE_PRIOR = GammaPrior(3.0, 6.0)
#: Default prior of the signal variance: mode 1, mean 2, for standardised targets.
VARIANCE_PRIOR = GammaPrior(2.0, 1.0)


class Kernel(ABC):
    """A covariance function ``k(x, x')`` over encoded inputs of dimension :attr:`dim`."""

    dim: int

    def __init__(self) -> None:
        self._params = self.default_params()

    @property
    @abstractmethod
    def num_params(self) -> int:
        """Length of :attr:`params`."""

    @abstractmethod
    def default_params(self) -> np.ndarray:
        """Log-parameters to start from."""

    @abstractmethod
    def param_bounds(self) -> np.ndarray:
        """Box on the log-parameters, shape ``(num_params, 2)``."""

    @property
    def params(self) -> np.ndarray:
        """Hyperparameters as a flat vector of logs (a copy)."""
        return self._params.copy()

    @params.setter
    def params(self, value: np.ndarray) -> None:
        arr = np.array(value, dtype=float).reshape(-1)
        if arr.shape[0] != self.num_params:
            raise ValueError(f"expected {self.num_params} kernel parameters, got {arr.shape[0]}")
        self._params = arr

    def with_params(self, params: np.ndarray) -> Kernel:
        """A copy of this kernel with other parameters."""
        other = copy.copy(self)
        other.params = params
        return other

    @abstractmethod
    def __call__(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        """Covariance matrix ``k(X1[i], X2[j])``, shape ``(n1, n2)``; ``X2=None`` means ``X1``."""

    @abstractmethod
    def diag(self, X: np.ndarray) -> np.ndarray:
        """``k(X[i], X[i])``, shape ``(n,)``."""

    @abstractmethod
    def param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Gradient of ``sum_ab weights[a, b] * k(X[a], X[b])`` in :attr:`params`."""

    def gram_with_param_gradient(
        self, X: np.ndarray
    ) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """``self(X)`` and the function ``weights -> param_gradient(X, weights)`` for
        *symmetric* ``weights`` (as the marginal likelihood's are; :meth:`param_gradient` takes
        any).

        Kernels override this to share work between the two (the marginal likelihood needs
        both at every step). The function may read the returned matrix: do not modify it.
        """
        return self(X), lambda weights: self.param_gradient(X, weights)

    @abstractmethod
    def input_gradient(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        """``d k(X1[i], X2[j]) / d X1[i]``, shape ``(n1, n2, dim)``."""

    def diag_input_gradient(self, X: np.ndarray) -> np.ndarray:
        """``d k(X[i], X[i]) / d X[i]``, shape ``(n, dim)``; zero for stationary kernels."""
        return np.zeros_like(X)

    @abstractmethod
    def log_prior(self) -> tuple[float, np.ndarray]:
        """Log prior density of :attr:`params` and its gradient (zeros if there is none)."""


class Matern52(Kernel):
    """Matérn-5/2 kernel with ARD lengthscales and a signal variance.

    ``k(x, x') = s2 * (1 + sqrt(5) r + 5 r^2 / 3) * exp(-sqrt(5) r)`` with
    ``r^2 = sum_i (x_i - x'_i)^2 / l_i^2``. ``params = [log l_1, ..., log l_d, log s2]`` (a
    single shared lengthscale if ``ard=False``).

    Args:
        dim: Input dimension.
        ard: One lengthscale per input dimension (default) or one shared lengthscale.
        lengthscale_prior: Prior of each lengthscale; default Gamma(3, 6) (mean 0.5, suited to
            inputs in ``[0, 1]``); ``None`` for none.
        variance_prior: Prior of ``s2``; default Gamma(2, 1) (mode 1, suited to standardised
            targets); ``None`` for none.
        lengthscale_bounds: Box on each lengthscale (not log), default ``(0.01, 100)``.
        variance_bounds: Box on ``s2`` (not log), default ``(1e-3, 100)``.
    """

    def __init__(
        self,
        *,
        dim: int,
        ard: bool = True,
        lengthscale_prior: GammaPrior | None = LENGTHSCALE_PRIOR,
        variance_prior: GammaPrior | None = VARIANCE_PRIOR,
        lengthscale_bounds: tuple[float, float] = (0.01, 100.0),
        variance_bounds: tuple[float, float] = (1e-3, 100.0),
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = dim
        self.ard = ard
        self.lengthscale_prior = lengthscale_prior
        self.variance_prior = variance_prior
        self.lengthscale_bounds = lengthscale_bounds
        self.variance_bounds = variance_bounds
        super().__init__()

    @property
    def num_params(self) -> int:
        return (self.dim if self.ard else 1) + 1

    def default_params(self) -> np.ndarray:
        return np.concatenate([np.full(self.num_params - 1, math.log(0.5)), [0.0]])

    def param_bounds(self) -> np.ndarray:
        ls = np.log(self.lengthscale_bounds)
        return np.vstack([np.tile(ls, (self.num_params - 1, 1)), np.log(self.variance_bounds)])

    def _lengthscales(self) -> np.ndarray:
        ls = np.exp(self._params[:-1])
        return ls if self.ard else np.full(self.dim, ls[0])

    def _distance(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        ls = self._lengthscales()
        r = cdist(X1 / ls, X2 / ls, "sqeuclidean")
        return np.sqrt(r, out=r)

    def __call__(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        # s2 (1 + t + t^2 / 3) exp(-t), t = sqrt(5) r, in place
        t = self._distance(X1, X1 if X2 is None else X2)
        t *= _SQRT5
        decay = np.negative(t)
        np.exp(decay, out=decay)
        K = t * (1.0 / 3.0)
        K += 1.0
        K *= t
        K += 1.0
        K *= decay
        K *= math.exp(self._params[-1])
        return K

    def diag(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], math.exp(self._params[-1]))

    def _radial(self, r: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
        # -dk/dr / r: finite at r = 0, which is why gradients never divide by r.
        decay = np.exp(-_SQRT5 * r) if decay is None else decay
        return math.exp(self._params[-1]) * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * decay

    def param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        weights = np.asarray(weights, dtype=float)
        return self.gram_with_param_gradient(X)[1](0.5 * (weights + weights.T))

    def gram_with_param_gradient(
        self, X: np.ndarray
    ) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        # centred (differences are unchanged) to limit cancellation in the expansion below
        scaled = (X - X.mean(axis=0)) / self._lengthscales()
        s2 = math.exp(self._params[-1])
        # in place, a few passes over n x n arrays: t = sqrt(5) r, decay = exp(-t),
        # radial = s2 (5/3) (1 + t) decay, K = s2 (1 + t + t^2 / 3) decay
        t = cdist(scaled, scaled, "sqeuclidean")
        np.sqrt(t, out=t)
        t *= _SQRT5
        decay = np.negative(t)
        np.exp(decay, out=decay)
        radial = t + 1.0
        radial *= decay
        t *= t
        t *= decay
        t *= s2 / 3.0
        K = np.multiply(radial, s2, out=decay)
        K += t
        radial *= s2 * (5.0 / 3.0)

        def gradient(weights: np.ndarray) -> np.ndarray:
            # d k / d log l_i = radial * (x_i - x'_i)^2 / l_i^2, and for symmetric M
            # sum_ab M_ab (u_a - u_b)^2 = 2 (sum_a u_a^2 sum_b M_ab - u^T M u)
            m = weights * radial  # symmetric, as weights and radial are
            per_dim = 2.0 * (m.sum(axis=1) @ np.square(scaled)
                             - np.sum(scaled * (m @ scaled), axis=0))
            grad_ls = per_dim if self.ard else np.array([per_dim.sum()])
            return np.concatenate([grad_ls, [np.vdot(weights, K)]])

        return K, gradient

    def input_gradient(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        inv_l2 = 1.0 / np.square(self._lengthscales())
        diff = X1[:, None, :] - X2[None, :, :]
        scaled = diff * inv_l2
        radial = self._radial(np.sqrt(np.maximum(np.sum(diff * scaled, axis=2), 0.0)))
        return -radial[:, :, None] * scaled

    def log_prior(self) -> tuple[float, np.ndarray]:
        value, grad = 0.0, np.zeros(self.num_params)
        if self.lengthscale_prior is not None:
            v, g = self.lengthscale_prior.log_density(self._params[:-1])
            value, grad[:-1] = value + v, g
        if self.variance_prior is not None:
            v, g = self.variance_prior.log_density(self._params[-1:])
            value, grad[-1] = value + v, g[0]
        return value, grad
