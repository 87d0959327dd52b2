"""Covariance and mean functions over (config, resource) inputs, for multi-fidelity GP models.

An input row is ``(x, r)``: the encoded config ``x`` in ``[0, 1]^d`` followed by the resource
``r`` normalised to ``(0, 1]`` (``r = level / max_t``). A :class:`ResourceKernel` is a kernel
*and* a mean function over such rows; its :attr:`~Kernel.params` include the mean's parameters,
so that a model fits both together. Five are available by name (:func:`make_resource_kernel`):

``exp-decay-sum`` (default), ``exp-decay-combined``, ``exp-decay-delta1``
    :class:`ExpDecayKernel`: learning curves as exponential decays towards ``f(x)`` (the
    freeze-thaw kernel of Swersky et al., 2014, centred and generalised by Klein et al., 2020,
    "Model-based asynchronous hyperparameter and neural architecture search"):
    ``f(x, r) = f(x) (1 - delta e^(-lambda r)) + gamma e^(-lambda r)`` with ``f ~ GP(mu, k_x)``
    (Matérn-5/2 ARD), a decay rate ``lambda ~ Gamma(alpha, beta)`` shared by all curves and
    ``delta`` 0 (sum), 1 (delta1) or fitted in ``[0, 1]`` (combined). With
    ``kappa(r) = E[e^(-lambda r)] = (beta / (r + beta))^alpha``:

        mean      m(x, r) = mu + c kappa(r),             c = gamma - delta mu
        kernel    k_x(x, x') (1 - delta (kappa(r) + kappa(r') - delta kappa(r + r')))
                  + c^2 (kappa(r + r') - kappa(r) kappa(r'))

``matern52``
    Matérn-5/2 ARD over ``(x, r)`` and a constant mean.
``matern52-res-warp``
    The same over ``(x, w(r))`` with the Kumaraswamy warping ``w(r) = 1 - (1 - r^a)^b``.

Parameters are logs of positive quantities, except the mean ``mu`` and ``delta`` (plain values
in their boxes). Input gradients cover all ``d + 1`` columns; the mean does not depend on ``x``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable

import numpy as np
from scipy.spatial.distance import cdist

from hpo_core.searchers.gp.kernels import GammaPrior, Kernel, Matern52

RESOURCE_KERNELS = (
    "exp-decay-sum", "exp-decay-combined", "exp-decay-delta1", "matern52", "matern52-res-warp",
)
#: Box on the constant mean (standardised targets).
MEAN_BOUNDS = (-10.0, 10.0)
#: Prior of the warping exponents: mode 1 (no warping).
WARPING_PRIOR = GammaPrior(2.0, 1.0)

_SQRT5 = math.sqrt(5.0)

Gradient = Callable[[np.ndarray], np.ndarray]


class ResourceKernel(Kernel):
    """A kernel and a mean function over rows ``(x, r)``; :attr:`params` hold both."""

    @abstractmethod
    def mean(self, X: np.ndarray) -> np.ndarray:
        """Prior mean at the rows of ``X``, shape ``(n,)``."""

    @abstractmethod
    def mean_param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Gradient of ``weights @ mean(X)`` in :attr:`params`."""


class ConstantMeanKernel(ResourceKernel):
    """A kernel over ``(x, r)`` with a constant mean: ``params = [mu, *base.params]``.

    Args:
        base: Kernel over rows ``(x, r)``.
    """

    def __init__(self, base: Kernel) -> None:
        self.dim = base.dim
        self._base = base
        super().__init__()

    @property
    def num_params(self) -> int:
        return 1 + self._base.num_params

    def default_params(self) -> np.ndarray:
        return np.concatenate([[0.0], self._base.default_params()])

    def param_bounds(self) -> np.ndarray:
        return np.vstack([MEAN_BOUNDS, self._base.param_bounds()])

    def base(self) -> Kernel:
        """The kernel with the current parameters."""
        return self._base.with_params(self._params[1:])

    def __call__(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        return self.base()(X1, X2)

    def diag(self, X: np.ndarray) -> np.ndarray:
        return self.base().diag(X)

    def param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], self.base().param_gradient(X, weights)])

    def gram_with_param_gradient(self, X: np.ndarray) -> tuple[np.ndarray, Gradient]:
        K, gradient = self.base().gram_with_param_gradient(X)
        return K, lambda weights: np.concatenate([[0.0], gradient(weights)])

    def input_gradient(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        return self.base().input_gradient(X1, X2)

    def diag_input_gradient(self, X: np.ndarray) -> np.ndarray:
        return self.base().diag_input_gradient(X)

    def log_prior(self) -> tuple[float, np.ndarray]:
        value, grad = self.base().log_prior()
        return value, np.concatenate([[0.0], grad])

    def mean(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], self._params[0])

    def mean_param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        grad = np.zeros(self.num_params)
        grad[0] = np.sum(weights)
        return grad


class WarpedMatern52(Kernel):
    """Matérn-5/2 ARD over ``(x, w(r))``, ``w(r) = 1 - (1 - u^a)^b``, ``u = eps + (1 - 2 eps) r``.

    ``params = [*Matern52(dim).params, log a, log b]``; ``a, b`` in ``[0.25, 4]`` with a
    Gamma(2, 1) prior each (mode 1, the identity warping). ``u`` keeps ``r`` off 0 and 1, where
    derivatives of ``w`` may be infinite.

    Args:
        dim: Input dimension ``d + 1`` (the resource is the last column).
    """

    EPS = 1e-4
    BOUNDS = (0.25, 4.0)

    def __init__(self, *, dim: int) -> None:
        self.dim = dim
        self._matern = Matern52(dim=dim)
        super().__init__()

    @property
    def num_params(self) -> int:
        return self._matern.num_params + 2

    def default_params(self) -> np.ndarray:
        return np.concatenate([self._matern.default_params(), [0.0, 0.0]])

    def param_bounds(self) -> np.ndarray:
        return np.vstack([self._matern.param_bounds(), np.tile(np.log(self.BOUNDS), (2, 1))])

    def _base(self) -> Matern52:
        return self._matern.with_params(self._params[:-2])  # type: ignore[return-value]

    def _warp(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Warped inputs and ``dw/dr``, ``dw/dlog a``, ``dw/dlog b`` of each row."""
        a, b = np.exp(self._params[-2:])
        u = self.EPS + (1.0 - 2.0 * self.EPS) * X[:, -1]
        ua = u**a
        t = 1.0 - ua
        tb = t**b
        U = X.copy()
        U[:, -1] = 1.0 - tb
        tb1 = b * t ** (b - 1.0)
        dr = tb1 * a * u ** (a - 1.0) * (1.0 - 2.0 * self.EPS)
        dloga = tb1 * ua * np.log(u) * a
        dlogb = -tb * np.log(t) * b
        return U, dr, dloga, dlogb

    def __call__(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        U1 = self._warp(X1)[0]
        return self._base()(U1, U1 if X2 is None else self._warp(X2)[0])

    def diag(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], math.exp(self._params[-3]))

    def param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        weights = np.asarray(weights, dtype=float)
        return self.gram_with_param_gradient(X)[1](0.5 * (weights + weights.T))

    def gram_with_param_gradient(self, X: np.ndarray) -> tuple[np.ndarray, Gradient]:
        base = self._base()
        U, _, dloga, dlogb = self._warp(X)
        K, base_gradient = base.gram_with_param_gradient(U)
        ls = np.exp(self._params[: self.dim])
        scaled = U / ls
        rho = np.sqrt(cdist(scaled, scaled, "sqeuclidean"))
        s2 = math.exp(self._params[-3])
        # d k(u_a, u_b) / d u_a[last]; antisymmetric in (a, b)
        D = -s2 * (5.0 / 3.0) * (1.0 + _SQRT5 * rho) * np.exp(-_SQRT5 * rho) * (
            (U[:, -1][:, None] - U[:, -1][None, :]) / ls[-1] ** 2)

        def gradient(weights: np.ndarray) -> np.ndarray:
            # sum_ab W_ab (D_ab dw_a - D_ab dw_b) = 2 sum_a dw_a sum_b (W o D)_ab, W symmetric
            s = np.sum(weights * D, axis=1)
            return np.concatenate([base_gradient(weights), [2.0 * s @ dloga, 2.0 * s @ dlogb]])

        return K, gradient

    def input_gradient(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        U1, dr, _, _ = self._warp(X1)
        G = self._base().input_gradient(U1, self._warp(X2)[0])
        G[:, :, -1] *= dr[:, None]
        return G

    def log_prior(self) -> tuple[float, np.ndarray]:
        value, grad = self._base().log_prior()
        v, g = WARPING_PRIOR.log_density(self._params[-2:])
        return value + v, np.concatenate([grad, g])


class ExpDecayKernel(ResourceKernel):
    """Exponential-decay learning-curve kernel and mean (see the module docstring).

    ``params = [mu, *Matern52(d).params, log alpha, log mean_lam, log gamma(, delta)]`` with
    ``beta = alpha / mean_lam`` (``mean_lam`` is the mean decay rate); ``delta`` is a parameter
    only if ``delta`` is ``None``. Boxes: ``alpha`` in ``[1e-6, 250]``, ``mean_lam`` in
    ``[1e-4, 50]``, ``gamma`` in ``[1e-4, 10]`` (standardised targets), ``delta`` in ``[0, 1]``.
    Only the Matérn part has priors.

    Args:
        dim: Input dimension ``d + 1`` (the resource is the last column).
        delta: Fixed ``delta`` (0: exp-decay-sum, 1: exp-decay-delta1), or ``None`` to fit it
            (exp-decay-combined).
    """

    def __init__(self, *, dim: int, delta: float | None = 0.0) -> None:
        if dim < 2:
            raise ValueError(f"dim must be >= 2 (config and resource), got {dim}")
        if delta is not None and not 0.0 <= delta <= 1.0:
            raise ValueError(f"delta must be in [0, 1] or None, got {delta}")
        self.dim = dim
        self.fixed_delta = delta
        self._kx = Matern52(dim=dim - 1)
        self._nx = self._kx.num_params
        # resource column -> its distinct values and one-hot rows; shared by the copies
        # with_params makes, so an optimisation over fixed inputs computes it once
        self._levels_cache: dict[str, np.ndarray] = {}
        super().__init__()

    @property
    def num_params(self) -> int:
        return 1 + self._nx + 3 + (self.fixed_delta is None)

    def default_params(self) -> np.ndarray:
        rest = [math.log(1.0), math.log(0.5), math.log(0.5)]
        if self.fixed_delta is None:
            rest.append(0.5)
        return np.concatenate([[0.0], self._kx.default_params(), rest])

    def param_bounds(self) -> np.ndarray:
        rows = [MEAN_BOUNDS, *self._kx.param_bounds(), np.log([1e-6, 250.0]),
                np.log([1e-4, 50.0]), np.log([1e-4, 10.0])]
        if self.fixed_delta is None:
            rows.append((0.0, 1.0))
        return np.vstack(rows)

    # -- parameters and curve terms -------------------------------------------------------------

    def kernel_x(self) -> Matern52:
        """The Matérn kernel over configs, with the current parameters."""
        return self._kx.with_params(self._params[1:1 + self._nx])  # type: ignore[return-value]

    def _scalars(self) -> tuple[float, float, float, float, float]:
        """``mu, alpha, beta, gamma, delta``."""
        p = self._params
        i = 1 + self._nx
        alpha, mean_lam, gamma = np.exp(p[i:i + 3])
        delta = float(p[i + 3]) if self.fixed_delta is None else self.fixed_delta
        return float(p[0]), float(alpha), float(alpha / mean_lam), float(gamma), delta

    def _kappa(self, r: np.ndarray) -> np.ndarray:
        _, alpha, beta, _, _ = self._scalars()
        return np.exp(-alpha * np.log1p(r / beta))

    def _kappa_gradients(
        self, r: np.ndarray, kappa: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``d kappa / d log alpha``, ``d kappa / d log mean_lam`` and ``d kappa / d r``."""
        _, alpha, beta, _, _ = self._scalars()
        frac = r / (r + beta)
        d_alpha = kappa * alpha * (frac - np.log1p(r / beta))
        d_lam = -kappa * alpha * frac
        return d_alpha, d_lam, -alpha / (r + beta) * kappa

    # -- kernel ---------------------------------------------------------------------------------
    # Resources take few distinct values (rung levels), so terms in r + r' are computed on the
    # distinct pairs and spread out (np.take, or products with one-hot matrices), and weighted
    # sums over them are first summed per pair of distinct values: O(n^2) cheap operations
    # instead of n^2 logs.

    def _pairs(self, r1: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                np.ndarray, np.ndarray]:
        """Distinct values ``u1, u2``, the index of each row in them, and ``pair`` (shape
        ``(n1, n2)``): the flat index of ``(u1[i], u2[j])`` in a ``(len(u1), len(u2))`` table."""
        u1, i1 = np.unique(r1, return_inverse=True)
        u2, i2 = np.unique(r2, return_inverse=True)
        return u1, i1, u2, i2, i1[:, None] * len(u2) + i2[None, :]

    def __call__(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        u1, P1 = _one_hot(X1[:, -1])
        u2, P2 = (u1, P1) if X2 is None else _one_hot(X2[:, -1])
        X2 = X1 if X2 is None else X2
        k1, k2 = self._kappa(u1), self._kappa(u2)
        k12 = self._kappa(u1[:, None] + u2[None, :])
        Kx = self.kernel_x()(X1[:, :-1], X2[:, :-1])
        c = gamma - delta * mu
        if delta:
            Kx *= P1 @ (1.0 - delta * (k1[:, None] + k2[None, :] - delta * k12)) @ P2.T
        K = P1 @ ((c * c) * (k12 - np.outer(k1, k2))) @ P2.T
        K += Kx
        return K

    def diag(self, X: np.ndarray) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        k, k2 = self._kappa(X[:, -1]), self._kappa(2.0 * X[:, -1])
        c = gamma - delta * mu
        return self.kernel_x().diag(X[:, :-1]) * (1.0 - delta * (2.0 * k - delta * k2)) + (
            c * c * (k2 - k * k))

    def param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        weights = np.asarray(weights, dtype=float)
        return self.gram_with_param_gradient(X)[1](0.5 * (weights + weights.T))

    def _levels(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values ``u`` of ``r`` and the one-hot matrix ``P`` (``P[a, k] = 1`` iff
        ``r[a] == u[k]``), cached for the last ``r``: ``P M P^T`` spreads a table ``M`` over
        distinct pairs to all pairs of rows (exactly: one product with 1 per entry), and
        ``P^T W P`` sums ``W`` per distinct pair, both as small matrix products."""
        cache = self._levels_cache
        cached = cache.get("r")
        if cached is None or cached.shape != r.shape or not np.array_equal(cached, r):
            u, onehot = _one_hot(r)
            cache.update(r=r.copy(), u=u, onehot=onehot)
        return cache["u"], cache["onehot"]

    def _config_runs(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Starts and lengths of the runs of equal consecutive rows of ``Xc`` (cached for the
        last ``Xc``), or ``None`` if they would save little (fewer than a fifth of the rows
        repeat the one before)."""
        cache = self._levels_cache
        cached = cache.get("Xc")
        if cached is None or cached.shape != Xc.shape or not np.array_equal(cached, Xc):
            new_run = np.ones(len(Xc), dtype=bool)
            new_run[1:] = np.any(Xc[1:] != Xc[:-1], axis=1)
            starts = np.flatnonzero(new_run)
            if len(starts) >= 0.8 * len(Xc):
                starts = starts[:0]  # not worth it
            cache.update(Xc=Xc.copy(), starts=starts,
                         lengths=np.diff(np.append(starts, len(Xc))))
        starts, lengths = cache["starts"], cache["lengths"]
        return (starts, lengths) if len(starts) else None

    def _config_gram(self, Xc: np.ndarray) -> tuple[np.ndarray, Gradient]:
        """The Matérn Gram matrix over the config columns and its gradient function.

        A config observed at several levels is one row per level; where such rows are
        consecutive (:class:`~hpo_core.searchers.gp.multitask.ResourceGPModel` sorts its rows
        so), the kernel is computed once per run of equal rows and repeated, and the weights
        of the gradient are first summed per pair of runs (the same sums, in fewer terms).
        """
        runs = self._config_runs(Xc)
        if runs is None:
            return self.kernel_x().gram_with_param_gradient(Xc)
        starts, lengths = runs
        Ku, gradient_u = self.kernel_x().gram_with_param_gradient(Xc[starts])
        K = np.repeat(np.repeat(Ku, lengths, axis=0), lengths, axis=1)

        def gradient(weights: np.ndarray) -> np.ndarray:
            return gradient_u(np.add.reduceat(np.add.reduceat(weights, starts, axis=0), starts,
                                              axis=1))

        return K, gradient

    def gram_with_param_gradient(self, X: np.ndarray) -> tuple[np.ndarray, Gradient]:
        mu, _, _, gamma, delta = self._scalars()
        u, P = self._levels(X[:, -1])
        ku = self._kappa(u)
        U2 = u[:, None] + u[None, :]
        kuu = self._kappa(U2)
        Cu = kuu - np.outer(ku, ku)
        Kx, kx_gradient = self._config_gram(X[:, :-1])
        T = (P @ (1.0 - delta * (ku[:, None] + ku[None, :] - delta * kuu)) @ P.T if delta
             else None)
        c = gamma - delta * mu
        K = P @ ((c * c) * Cu) @ P.T
        K += Kx * T if T is not None else Kx

        def per_pair(M: np.ndarray) -> np.ndarray:
            return P.T @ (M @ P)

        def gradient(weights: np.ndarray) -> np.ndarray:
            W = weights  # symmetric
            grad = np.zeros(self.num_params)
            i = 1 + self._nx
            grad[1:i] = kx_gradient(W * T if T is not None else W)
            Wu = per_pair(W)
            WKu = per_pair(W * Kx) if delta or self.fixed_delta is None else None
            WC = float(np.sum(Wu * Cu))
            du_alpha, du_lam, _ = self._kappa_gradients(u, ku)
            duu_alpha, duu_lam, _ = self._kappa_gradients(U2, kuu)
            Wk = Wu @ ku
            for j, (du, duu) in enumerate(((du_alpha, duu_alpha), (du_lam, duu_lam))):
                value = c * c * (float(np.sum(Wu * duu)) - 2.0 * float(du @ Wk))
                if delta:
                    assert WKu is not None
                    value += -2.0 * delta * float(WKu.sum(axis=1) @ du) + delta * delta * float(
                        np.sum(WKu * duu))
                grad[i + j] = value
            grad[i + 2] = 2.0 * c * gamma * WC
            grad[0] = -2.0 * c * delta * WC
            if self.fixed_delta is None:
                assert WKu is not None
                grad[i + 3] = (-2.0 * float(WKu.sum(axis=1) @ ku)
                               + 2.0 * delta * float(np.sum(WKu * kuu)) - 2.0 * c * mu * WC)
            return grad

        return K, gradient

    def input_gradient(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        u1, _, u2, _, pair = self._pairs(X1[:, -1], X2[:, -1])
        k1, k2 = self._kappa(u1), self._kappa(u2)
        R = u1[:, None] + u2[None, :]
        k12 = self._kappa(R)
        dk1 = self._kappa_gradients(u1, k1)[2]
        dk12 = self._kappa_gradients(R, k12)[2]
        kx = self.kernel_x()
        G = np.empty((X1.shape[0], X2.shape[0], self.dim))
        G[:, :, :-1] = kx.input_gradient(X1[:, :-1], X2[:, :-1])
        c = gamma - delta * mu
        G[:, :, -1] = np.take(c * c * (dk12 - np.outer(dk1, k2)), pair)
        if delta:
            G[:, :, :-1] *= np.take(1.0 - delta * (k1[:, None] + k2[None, :] - delta * k12),
                                    pair)[:, :, None]
            G[:, :, -1] -= kx(X1[:, :-1], X2[:, :-1]) * np.take(
                delta * (dk1[:, None] - delta * dk12), pair)
        return G

    def diag_input_gradient(self, X: np.ndarray) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        r = X[:, -1]
        k, k2 = self._kappa(r), self._kappa(2.0 * r)
        dk, dk2 = self._kappa_gradients(r, k)[2], self._kappa_gradients(2.0 * r, k2)[2]
        c = gamma - delta * mu
        G = np.zeros_like(X)
        G[:, -1] = self.kernel_x().diag(X[:, :-1]) * (-2.0 * delta * (dk - delta * dk2)) + (
            c * c * (2.0 * dk2 - 2.0 * k * dk))
        return G

    def log_prior(self) -> tuple[float, np.ndarray]:
        value, g = self.kernel_x().log_prior()
        grad = np.zeros(self.num_params)
        grad[1:1 + self._nx] = g
        return value, grad

    # -- mean -----------------------------------------------------------------------------------

    def mean(self, X: np.ndarray) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        return mu + (gamma - delta * mu) * self._kappa(X[:, -1])

    def mean_param_gradient(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        mu, _, _, gamma, delta = self._scalars()
        r = X[:, -1]
        k = self._kappa(r)
        d_alpha, d_lam, _ = self._kappa_gradients(r, k)
        c = gamma - delta * mu
        grad = np.zeros(self.num_params)
        i = 1 + self._nx
        grad[0] = float(weights @ (1.0 - delta * k))
        grad[i] = c * float(weights @ d_alpha)
        grad[i + 1] = c * float(weights @ d_lam)
        grad[i + 2] = gamma * float(weights @ k)
        if self.fixed_delta is None:
            grad[i + 3] = -mu * float(weights @ k)
        return grad


def _one_hot(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values ``u`` of ``r`` and ``P`` with ``P[a, k] = 1`` iff ``r[a] == u[k]``, else
    0: ``P1 M P2^T`` is the table ``M`` of distinct pairs spread to all pairs of rows (exactly:
    each entry is one product with 1 plus zeros)."""
    u, index = np.unique(r, return_inverse=True)
    onehot = np.zeros((len(r), len(u)))
    onehot[np.arange(len(r)), index] = 1.0
    return u, onehot


def make_resource_kernel(name: str, *, dim: int) -> ResourceKernel:
    """The resource kernel ``name`` (one of :data:`RESOURCE_KERNELS`) for configs of dimension
    ``dim`` (inputs have ``dim + 1`` columns).

    Raises:
        ValueError: Naming ``gp_resource_kernel`` and the allowed values.
    """
    if name == "exp-decay-sum":
        return ExpDecayKernel(dim=dim + 1, delta=0.0)
    if name == "exp-decay-delta1":
        return ExpDecayKernel(dim=dim + 1, delta=1.0)
    if name == "exp-decay-combined":
        return ExpDecayKernel(dim=dim + 1, delta=None)
    if name == "matern52":
        return ConstantMeanKernel(Matern52(dim=dim + 1))
    if name == "matern52-res-warp":
        return ConstantMeanKernel(WarpedMatern52(dim=dim + 1))
    raise ValueError(f"gp_resource_kernel must be one of {list(RESOURCE_KERNELS)}, got {name!r}")
