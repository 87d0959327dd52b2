"""Gaussian process regression with type-II maximum likelihood (MAP) hyperparameters.

The model has a constant mean ``m``, a kernel (:mod:`hpo_core.searchers.gp.kernels`) and Gaussian
noise of variance ``s2_noise``. Targets are standardised to mean 0 and variance 1 before
fitting; :attr:`GPModel.params` ``= [m, *kernel.params, log s2_noise]`` live in these units.

Hyperparameters maximise ``log p(y | params) + log p(params)``, the log marginal likelihood plus
the log priors (the kernel's, and a Gamma(1.1, 0.05) prior on ``s2_noise``, which is nearly flat
over the values that matter; ``m`` has none), with L-BFGS-B on exact gradients within boxes.
The noise box starts at ``noise_floor`` (1e-6 of the target variance), so the covariance matrix
stays well conditioned even with repeated inputs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, solve_triangular
from scipy.linalg.blas import dtrmm
from scipy.linalg.lapack import dlauum, dpotrf, dtrtri
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from hpo_core.searchers.gp.kernels import GammaPrior, Kernel

#: Default prior of the noise variance (in standardised units).
NOISE_PRIOR = GammaPrior(1.1, 0.05)

_LOG_2PI = math.log(2.0 * math.pi)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    # Created once: it scans the loaded libraries (numpy's and scipy's BLAS are loaded by now).
    return ThreadpoolController()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS / LAPACK on one thread inside the block.

    GP matrices here are small (hundreds of rows at most): BLAS threads cost more than they gain
    on them, and on a busy machine (parallel experiments) they slow a fit down tenfold.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


def _lower_cholesky(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of the symmetric ``K`` (zeros above the diagonal, Fortran-ordered),
    adding diagonal jitter only if the plain one fails. ``K`` is not modified."""
    # a symmetric C-ordered matrix is its own Fortran-ordered transpose: no copy for LAPACK
    factor, info = dpotrf(K.T if K.flags.c_contiguous else K, lower=1, clean=1)
    if info == 0:
        return factor
    scale = float(np.mean(np.diag(K)))
    for exponent in range(-10, -3):
        jittered = np.array(K, order="F")
        jittered[np.diag_indices_from(jittered)] += scale * 10.0**exponent
        factor, info = dpotrf(jittered, lower=1, clean=1, overwrite_a=1)
        if info == 0:
            return factor
    raise LinAlgError("covariance matrix is not positive definite, even with jitter")


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed blocks of up to 256 MB for reuse (once per process).

    Fitting and querying a GP over hundreds of rows allocates and frees matrices of a few MB
    thousands of times per run; by default glibc returns such blocks to the system and takes
    them back on the next allocation, and the page faults cost about a third of a MOBSTER run's
    CPU time (system time). Returns whether the setting was applied (glibc only).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    size = 256 * 1024 * 1024
    return bool(mallopt(m_mmap_threshold, size)) and bool(mallopt(m_trim_threshold, size))


@functools.lru_cache(maxsize=8)
def _strict_upper(n: int) -> np.ndarray:
    """Boolean mask of the strict upper triangle of an ``n x n`` matrix (read-only)."""
    mask = np.triu(np.ones((n, n), dtype=bool), 1)
    mask.flags.writeable = False
    return mask


#: Tile size of :func:`_mirror_lower`.
_MIRROR_BLOCK = 64


def _mirror_lower(A: np.ndarray) -> np.ndarray:
    """``A`` with its strict upper triangle overwritten by the transposed lower one, in place.

    Copied in column blocks, each from a block of rows: the transposed reads stay within
    tiles that fit the cache (several times faster than one masked copy of ``A.T``).
    """
    n, b = A.shape[0], _MIRROR_BLOCK
    for i in range(0, n, b):
        A[:i, i:i + b] = A[i:i + b, :i].T
        block = A[i:i + b, i:i + b]
        np.copyto(block, block.T, where=_strict_upper(block.shape[0]))
    return A


#: Blocks up to this size are inverted by LAPACK's ``trtri`` in :func:`_invert_lower`.
_TRTRI_BLOCK = 64


def _invert_lower(L: np.ndarray) -> np.ndarray:
    """``L^-1`` of a lower-triangular Fortran-ordered ``L``, in place (only the lower triangle
    is read and written).

    Recursive blocking, ``[[A, 0], [B, C]]^-1 = [[A^-1, 0], [-C^-1 B A^-1, C^-1]]``, with the
    off-diagonal block from two triangular matrix products (BLAS ``trmm``): the same
    arithmetic as LAPACK's ``trtri``, but most of it in level-3 BLAS kernels, which the
    OpenBLAS builds here run several times faster than its ``trtri`` on matrices of a few
    hundred rows.
    """
    n = L.shape[0]
    if n <= _TRTRI_BLOCK:
        inv, info = dtrtri(L, lower=1)
        if info != 0:
            raise LinAlgError(f"trtri failed with info={info}")
        L[...] = inv
        return L
    h = n // 2
    A, C = L[:h, :h], L[h:, h:]
    _invert_lower(A)
    _invert_lower(C)
    B = dtrmm(-1.0, np.asfortranarray(C), np.array(L[h:, :h], order="F"), side=0, lower=1,
              overwrite_b=1)
    L[h:, :h] = dtrmm(1.0, np.asfortranarray(A), B, side=1, lower=1, overwrite_b=1)
    return L


def _inverse_from_factor(factor: np.ndarray) -> np.ndarray:
    """``(L L^T)^-1`` from the Fortran-ordered buffer holding the lower factor ``L`` (the
    upper triangle is ignored), in that buffer: ``L^-1`` (:func:`_invert_lower`), then
    ``L^-T L^-1`` (LAPACK ``lauum``), then the lower triangle mirrored. What LAPACK's ``potri``
    computes, with its triangular inversion blocked as above."""
    _invert_lower(factor)
    inverse, info = dlauum(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise LinAlgError(f"lauum failed with info={info}")
    return _mirror_lower(inverse)


def cholesky_inverse(L: np.ndarray) -> np.ndarray:
    """``(L L^T)^-1`` from a lower Cholesky factor ``L`` (a third of the work of solving
    against the identity). Only ``L``'s lower triangle is read."""
    return _inverse_from_factor(np.array(L, order="F"))


def minimize_from_starts(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    params: np.ndarray,
    bounds: np.ndarray,
    *,
    rng: np.random.Generator,
    nstarts: int,
    maxiter: int,
    mean_indices: np.ndarray,
) -> np.ndarray:
    """The best of ``nstarts`` L-BFGS-B runs of ``objective`` (value and gradient) in ``bounds``.

    The first run starts from ``params`` (clipped to the box), the others from uniform draws in
    the box whose constant-mean entries (``mean_indices``) are drawn from ``[-1, 1]``. Returns
    ``params`` if no run ends at a finite value.
    """
    lower, upper = bounds[:, 0], bounds[:, 1]
    starts = [np.clip(params, lower, upper)]
    for _ in range(nstarts - 1):
        start = rng.uniform(lower, upper)
        start[mean_indices] = rng.uniform(-1.0, 1.0, len(mean_indices))
        starts.append(start)
    best_value, best_params = math.inf, params
    for start in starts:
        result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": maxiter})
        if np.isfinite(result.fun) and result.fun < best_value:
            best_value, best_params = float(result.fun), result.x
    return np.asarray(best_params, dtype=float)


def top_count(size: int, top_fraction: float) -> int:
    """How many of ``size`` subsampled points are the best ones (see ``GPModel``)."""
    return min(size, round(size * top_fraction))


def standardization(y: np.ndarray) -> tuple[float, float]:
    """Offset and scale that standardise targets ``y`` (scale 1 if ``y`` is constant)."""
    mean, std = float(np.mean(y)), float(np.std(y))
    return mean, (std if std > 1e-12 * max(1.0, abs(mean)) else 1.0)


def gaussian_negative_log_likelihood(
    K: np.ndarray, resid: np.ndarray, *, overwrite_k: bool = False
) -> tuple[float, np.ndarray, np.ndarray]:
    """``-log N(resid | 0, K)``, ``alpha = K^-1 resid`` and ``W = (K^-1 - alpha alpha^T) / 2``.

    The derivative of the value in a covariance parameter ``t`` is ``sum(W * dK/dt)``; in a
    prior-mean parameter it is ``-alpha . dm/dt``. ``K`` must be symmetric; ``W`` is exactly
    symmetric. With ``overwrite_k``, ``K``'s memory is reused (its contents are lost). Raises
    ``LinAlgError`` if ``K`` is not positive definite.

    The factor, the inverse and ``W`` are computed in one Fortran-ordered buffer (a symmetric
    C-ordered matrix is its own Fortran-ordered transpose), so LAPACK and BLAS work in place.
    """
    buffer = K.T if overwrite_k and K.flags.c_contiguous else np.array(K, order="F")
    factor, info = dpotrf(buffer, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        raise LinAlgError(f"covariance matrix is not positive definite (potrf info={info})")
    log_det_half = float(np.sum(np.log(np.diag(factor))))
    inverse = _inverse_from_factor(factor)
    alpha = inverse @ resid
    value = 0.5 * float(resid @ alpha) + log_det_half + 0.5 * len(resid) * _LOG_2PI
    # K^-1 - a a^T in place, element by element (a BLAS rank-1 update may fuse multiply and
    # add in some blocks only, which breaks the exact symmetry)
    weights = np.subtract(inverse, np.multiply.outer(alpha, alpha), out=inverse)
    weights *= 0.5
    return value, alpha, weights.T  # symmetric: the transpose is the C-ordered view


class ExactPosterior:
    """Posterior over the latent function of a GP given data, for fixed hyperparameters.

    Subclasses give the prior mean function (:meth:`prior_mean`) and say which input columns
    gradients are taken in (:attr:`gradient_columns`). Targets may have a sample axis (fantasies,
    see :meth:`fantasize`): then means have one column per sample, while variances are common to
    all samples.

    Args:
        kernel: The kernel, with its parameters set.
        noise: Noise variance.
        X: Inputs, shape ``(n, dim)``.
        y: Targets, shape ``(n,)`` or ``(n, S)``.
        chol: Lower Cholesky factor of ``kernel(X) + noise I`` if already known.
    """

    #: Input columns that :meth:`predict_with_gradient` differentiates in.
    gradient_columns = slice(None)

    def __init__(self, *, kernel: Any, noise: float, X: np.ndarray, y: np.ndarray,
                 chol: np.ndarray | None = None) -> None:
        self.kernel, self.noise, self.X, self.y = kernel, noise, X, y
        if chol is None:
            K = kernel(X)
            K[np.diag_indices_from(K)] += noise
            chol = _lower_cholesky(K)
        self._L = chol
        self._alpha = cho_solve((chol, True), y - self._column(self.prior_mean(X)),
                                check_finite=False)
        self._inverse: np.ndarray | None = None

    def prior_mean(self, Xs: np.ndarray) -> np.ndarray:
        """Prior mean at the rows of ``Xs``, shape ``(m,)``."""
        raise NotImplementedError

    def with_data(self, X: np.ndarray, y: np.ndarray, chol: np.ndarray | None = None) -> Self:
        """The posterior of the same prior (hyperparameters) given data ``(X, y)`` instead."""
        raise NotImplementedError

    def _column(self, mean: np.ndarray) -> np.ndarray:
        return mean[:, None] if self.y.ndim == 2 else mean

    def _mean(self, Xs: np.ndarray, Ks: np.ndarray) -> np.ndarray:
        return self._column(self.prior_mean(Xs)) + Ks @ self._alpha

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (``(m,)``, or ``(m, S)`` with fantasy samples) and variance (``(m,)``, floored
        at 0) of the latent function at the rows of ``Xs``."""
        Ks = self.kernel(Xs, self.X)
        v = solve_triangular(self._L, Ks.T, lower=True, check_finite=False)
        var = self.kernel.diag(Xs) - np.sum(v * v, axis=0)
        return self._mean(Xs, Ks), np.maximum(var, 0.0)

    def predict_mean(self, Xs: np.ndarray) -> np.ndarray:
        """The mean :meth:`predict` gives, without the variance's triangular solve."""
        return self._mean(Xs, self.kernel(Xs, self.X))

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance matrix of the latent function at the rows of ``Xs`` (for joint
        samples: fantasies, Hyper-Tune's ranking losses)."""
        Ks = self.kernel(Xs, self.X)
        v = solve_triangular(self._L, Ks.T, lower=True, check_finite=False)
        return self._mean(Xs, Ks), self.kernel(Xs) - v.T @ v

    def predict_with_gradient(
        self, Xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`predict` plus the gradients of mean (``(m, [S,] d)``) and variance
        (``(m, d)``) in the :attr:`gradient_columns` of each input row.

        Meant for many calls on few rows (local search): the variance comes from the inverse
        covariance matrix, computed once, which agrees with :meth:`predict` up to rounding.
        """
        if self._inverse is None:
            self._inverse = cholesky_inverse(self._L)
        columns = self.gradient_columns
        Ks = self.kernel(Xs, self.X)
        G = self.kernel.input_gradient(Xs, self.X)[:, :, columns]  # (m, n, d)
        beta = Ks @ self._inverse  # rows: K^-1 k(x, X)
        var = self.kernel.diag(Xs) - np.sum(Ks * beta, axis=1)
        dmean = np.matmul(self._alpha.T, G)
        dvar = (self.kernel.diag_input_gradient(Xs)[:, columns]
                - 2.0 * np.matmul(beta[:, None, :], G)[:, 0])
        return self._mean(Xs, Ks), np.maximum(var, 0.0), dmean, dvar

    def extend(self, X_new: np.ndarray, y_new: np.ndarray) -> Self:
        """The posterior after also observing ``y_new`` at ``X_new``, same hyperparameters
        (``y_new`` of shape ``(p,)``, or ``(p, S)`` for ``S`` fantasy samples).

        The Cholesky factor is extended by a block, in ``O(n^2 p)`` for ``p`` new rows. With
        samples, the observed targets are repeated in each sample's column.
        """
        if X_new.shape[0] == 0:
            return self
        B = solve_triangular(self._L, self.kernel(self.X, X_new), lower=True,
                             check_finite=False)
        S = self.kernel(X_new) - B.T @ B
        S[np.diag_indices_from(S)] += self.noise
        n, p = self.X.shape[0], X_new.shape[0]
        L = np.zeros((n + p, n + p))
        L[:n, :n] = self._L
        L[n:, :n] = B.T
        L[n:, n:] = _lower_cholesky(S)
        y = self.y
        if y_new.ndim == 2 and y.ndim == 1:
            y = np.repeat(y[:, None], y_new.shape[1], axis=1)
        return self.with_data(np.vstack([self.X, X_new]), np.concatenate([y, y_new]), L)

    def fantasize(
        self, X_pending: np.ndarray, *, num_samples: int = 0,
        rng: np.random.Generator | None = None,
    ) -> Self:
        """The posterior after also observing fantasized outcomes at ``X_pending``.

        With ``num_samples`` >= 1, outcomes are that many joint draws from the posterior (noise
        included; ``rng`` required), giving means with a sample axis. With ``0``, the outcome is
        the posterior mean: the mean stays the same everywhere. Either way the variance drops at
        and near the pending inputs.
        """
        if X_pending.shape[0] == 0:
            return self
        if not num_samples:
            return self.extend(X_pending, self.predict_mean(X_pending))
        assert rng is not None and self.y.ndim == 1
        mean, cov = self.predict_joint(X_pending)
        cov[np.diag_indices_from(cov)] += self.noise
        L = _lower_cholesky(cov)
        draws = rng.standard_normal((X_pending.shape[0], num_samples))
        return self.extend(X_pending, mean[:, None] + L @ draws)


class GPPosterior(ExactPosterior):
    """:class:`ExactPosterior` of a GP with constant prior mean ``mean``."""

    def __init__(self, *, kernel: Kernel, mean: float, noise: float, X: np.ndarray,
                 y: np.ndarray, chol: np.ndarray | None = None) -> None:
        self.mean = mean
        super().__init__(kernel=kernel, noise=noise, X=X, y=y, chol=chol)

    def prior_mean(self, Xs: np.ndarray) -> np.ndarray:
        return np.full(Xs.shape[0], self.mean)

    def with_data(self, X: np.ndarray, y: np.ndarray,
                  chol: np.ndarray | None = None) -> GPPosterior:
        return GPPosterior(kernel=self.kernel, mean=self.mean, noise=self.noise, X=X, y=y,
                           chol=chol)


class GPModel:
    """A GP surrogate that refits its hyperparameters as data arrives.

    Args:
        kernel: Covariance function; its current parameters are the first starting point.
        rng: Source of random restarts and of subsampling.
        opt_nstarts: L-BFGS-B runs per optimisation: the first from the current parameters (the
            previous optimum, or the defaults), the others from points drawn uniformly in the
            boxes (the mean from ``[-1, 1]``).
        opt_maxiter: Iteration limit of each run.
        opt_skip_init_length: Hyperparameters are optimised in every fit while the data has at
            most this many points ...
        opt_skip_period: ... and beyond that only in every ``opt_skip_period``-th fit (the first
            such fit included); the other fits keep the parameters and refactor the matrix.
        max_size_data_for_model: If the data is larger, fit on ``max_size_data_for_model``
            points: the fraction ``max_size_top_fraction`` of them with the lowest targets, the
            rest drawn uniformly without replacement from the others (fresh in every fit).
            ``None``: all.
        max_size_top_fraction: See above; default 0.25.
        noise_prior: Prior of the noise variance; ``None`` for none.
        noise_floor: Smallest noise variance (standardised units).

    Attributes:
        params: Current hyperparameters ``[m, *kernel.params, log s2_noise]``.
        num_fits: Calls of :meth:`fit`.
        num_optimizations: Fits that optimised the hyperparameters.
        X_train: Inputs of the last fit (after subsampling).
        y_train: Standardised targets of the last fit.
        y_mean: Offset of the standardisation, ``y = y_mean + y_scale * y_train``.
        y_scale: Scale of the standardisation.
    """

    def __init__(
        self,
        *,
        kernel: Kernel,
        rng: np.random.Generator,
        opt_nstarts: int = 2,
        opt_maxiter: int = 50,
        opt_skip_init_length: int = 150,
        opt_skip_period: int = 1,
        max_size_data_for_model: int | None = None,
        max_size_top_fraction: float = 0.25,
        noise_prior: GammaPrior | None = NOISE_PRIOR,
        noise_floor: float = 1e-6,
    ) -> None:
        self.kernel = kernel
        self.rng = rng
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self.opt_skip_init_length = opt_skip_init_length
        self.opt_skip_period = opt_skip_period
        self.max_size_data_for_model = max_size_data_for_model
        self.max_size_top_fraction = max_size_top_fraction
        self.noise_prior = noise_prior
        self.noise_floor = noise_floor
        self.params = np.concatenate([[0.0], kernel.params, [math.log(1e-3)]])
        self._bounds = np.vstack([[-10.0, 10.0], kernel.param_bounds(),
                                  [math.log(noise_floor), math.log(10.0)]])
        self.num_fits = 0
        self.num_optimizations = 0
        self._num_fits_beyond_init = 0
        self.X_train = np.empty((0, kernel.dim))
        self.y_train = np.empty(0)
        self.y_mean, self.y_scale = 0.0, 1.0
        self._posterior: GPPosterior | None = None

    @property
    def posterior(self) -> GPPosterior:
        """Posterior of the last fit, in standardised units."""
        if self._posterior is None:
            raise RuntimeError("the model has not been fitted")
        return self._posterior

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit to inputs ``X`` (shape ``(n, dim)``) and targets ``y`` (lower is better)."""
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.kernel.dim or y.shape != (X.shape[0],):
            raise ValueError(f"expected X of shape (n, {self.kernel.dim}) and y of shape (n,), "
                             f"got {X.shape} and {y.shape}")
        if X.shape[0] == 0:
            raise ValueError("cannot fit a GP to no data")
        with single_threaded_blas():
            self._fit(X, y)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.num_fits += 1
        optimize = True
        if X.shape[0] > self.opt_skip_init_length:
            self._num_fits_beyond_init += 1
            optimize = (self._num_fits_beyond_init - 1) % self.opt_skip_period == 0
        X, y = self._subsample(X, y)
        self.y_mean, self.y_scale = standardization(y)
        self.X_train, self.y_train = X, (y - self.y_mean) / self.y_scale
        if optimize:
            self._optimize()
        mean, kernel_params, log_noise = self._split(self.params)
        self._posterior = GPPosterior(kernel=self.kernel.with_params(kernel_params), mean=mean,
                                      noise=math.exp(log_noise), X=X, y=self.y_train)

    def _subsample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = self.max_size_data_for_model
        if size is None or X.shape[0] <= size:
            return X, y
        order = np.argsort(y, kind="stable")
        num_top = top_count(size, self.max_size_top_fraction)
        rest = self.rng.choice(order[num_top:], size=size - num_top, replace=False)
        keep = np.sort(np.concatenate([order[:num_top], rest]))
        return X[keep], y[keep]

    def _optimize(self) -> None:
        self.num_optimizations += 1
        self.params = minimize_from_starts(
            self.neg_log_posterior, self.params, self._bounds, rng=self.rng,
            nstarts=self.opt_nstarts, maxiter=self.opt_maxiter, mean_indices=np.array([0]))

    def _split(self, params: np.ndarray) -> tuple[float, np.ndarray, float]:
        return float(params[0]), params[1:-1], float(params[-1])

    def _negative_log_likelihood(
        self, params: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray], float]:
        mean, kernel_params, log_noise = self._split(params)
        noise = math.exp(log_noise)
        gram, kernel_gradient = self.kernel.with_params(kernel_params).gram_with_param_gradient(
            self.X_train)
        K = gram.copy()  # the gradient function may still read the Gram matrix
        K[np.diag_indices_from(K)] += noise
        value, alpha, weights = gaussian_negative_log_likelihood(K, self.y_train - mean,
                                                                 overwrite_k=True)
        return value, alpha, weights, kernel_gradient, noise

    def log_marginal_likelihood(self, params: np.ndarray) -> float:
        """``log p(y | params)`` of the standardised training data (no priors)."""
        return -self._negative_log_likelihood(np.asarray(params, dtype=float))[0]

    def neg_log_posterior(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """``-(log p(y | params) + log p(params))`` on the training data, and its gradient.

        This is what :meth:`fit` minimises. Where the covariance matrix cannot be factorised,
        a large value and a zero gradient are returned, so the line search backs off.
        """
        try:
            value, alpha, weights, kernel_gradient, noise = self._negative_log_likelihood(params)
        except LinAlgError:
            return 1e10, np.zeros_like(params)
        grad = np.concatenate([[-np.sum(alpha)], kernel_gradient(weights),
                               [np.trace(weights) * noise]])
        prior_value, prior_grad = self.kernel.with_params(params[1:-1]).log_prior()
        value -= prior_value
        grad[1:-1] -= prior_grad
        if self.noise_prior is not None:
            v, g = self.noise_prior.log_density(params[-1:])
            value -= v
            grad[-1] -= g[0]
        return value, grad

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent function, in the units of the targets."""
        mean, var = self.posterior.predict(np.asarray(Xs, dtype=float))
        return self.y_mean + self.y_scale * mean, self.y_scale**2 * var
