from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from hpo_core.searchers.gp.resource_kernels import (
    RESOURCE_KERNELS,
    ExpDecayKernel,
    ResourceKernel,
    make_resource_kernel,
)

DIM = 3


def finite_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def inputs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.hstack([rng.random((n, DIM)), rng.choice([1 / 27, 3 / 27, 9 / 27, 1.0], (n, 1))])


def kernel(name: str, seed: int = 0) -> ResourceKernel:
    k = make_resource_kernel(name, dim=DIM)
    bounds = k.param_bounds()
    rng = np.random.default_rng(seed)
    # away from the box edges, and delta away from 0 and 1
    k.params = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.uniform(0.3, 0.7, len(bounds))
    return k


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_param_gradient_matches_finite_differences(name: str) -> None:
    k = kernel(name)
    X = inputs(6, 1)
    W = np.random.default_rng(2).standard_normal((6, 6))
    W = W + W.T

    def weighted(params: np.ndarray) -> float:
        return float(np.sum(W * k.with_params(params)(X)))

    expected = finite_difference(weighted, k.params)
    np.testing.assert_allclose(k.param_gradient(X, W), expected, rtol=1e-5, atol=1e-7)
    K, gradient = k.gram_with_param_gradient(X)
    np.testing.assert_allclose(K, k(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gradient(W), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_mean_gradient_matches_finite_differences(name: str) -> None:
    k = kernel(name, seed=3)
    X = inputs(5, 4)
    w = np.random.default_rng(5).standard_normal(5)
    expected = finite_difference(lambda p: float(w @ k.with_params(p).mean(X)), k.params)
    np.testing.assert_allclose(k.mean_param_gradient(X, w), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_input_gradients_match_finite_differences(name: str) -> None:
    k = kernel(name, seed=6)
    X1 = inputs(3, 7)
    X1[:, -1] = [0.2, 0.5, 0.8]  # inside (0, 1), so both sides of a difference are valid
    X2 = inputs(4, 8)
    G = k.input_gradient(X1, X2)
    D = k.diag_input_gradient(X1)
    for i in range(3):
        def cross(x: np.ndarray, i: int = i) -> np.ndarray:
            return k(x[None, :], X2)[0]

        for j in range(DIM + 1):
            step = np.zeros(DIM + 1)
            step[j] = 1e-6
            fd = (cross(X1[i] + step) - cross(X1[i] - step)) / 2e-6
            np.testing.assert_allclose(G[i, :, j], fd, rtol=1e-5, atol=1e-7)
            fd_diag = (k.diag((X1[i] + step)[None, :]) - k.diag((X1[i] - step)[None, :]))[0]
            assert D[i, j] == pytest.approx(fd_diag / 2e-6, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_gram_is_symmetric_positive_definite_with_its_diagonal(name: str) -> None:
    k = kernel(name, seed=9)
    X = inputs(40, 10)
    K = k(X)
    np.testing.assert_allclose(K, K.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(K), k.diag(X), rtol=1e-10)
    assert np.linalg.eigvalsh(K).min() > -1e-9
    np.testing.assert_allclose(k(X[:7], X[7:12]), K[:7, 7:12], rtol=1e-10)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_log_prior_gradient(name: str) -> None:
    k = kernel(name, seed=11)
    value, grad = k.log_prior()
    assert math.isfinite(value)
    expected = finite_difference(lambda p: k.with_params(p).log_prior()[0], k.params)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_exp_decay_matches_its_closed_form() -> None:
    k = ExpDecayKernel(dim=2, delta=None)
    # [mu, log l, log s2, log alpha, log mean_lam, log gamma, delta]
    k.params = np.array([0.3, math.log(0.4), math.log(1.5), math.log(2.0), math.log(0.5),
                         math.log(0.8), 0.25])
    mu, s2, alpha, beta, gamma, delta = 0.3, 1.5, 2.0, 4.0, 0.8, 0.25

    def kappa(r: float) -> float:
        return (beta / (r + beta)) ** alpha

    def matern(x: float, z: float) -> float:
        d = abs(x - z) / 0.4
        return s2 * (1 + math.sqrt(5) * d + 5 * d * d / 3) * math.exp(-math.sqrt(5) * d)

    a, b = (0.2, 0.3), (0.7, 1.0)
    c = gamma - delta * mu
    expected = matern(a[0], b[0]) * (
        1 - delta * (kappa(a[1]) + kappa(b[1]) - delta * kappa(a[1] + b[1]))
    ) + c * c * (kappa(a[1] + b[1]) - kappa(a[1]) * kappa(b[1]))
    assert k(np.array([a]), np.array([b]))[0, 0] == pytest.approx(expected, rel=1e-12)
    assert k.mean(np.array([a]))[0] == pytest.approx(mu + c * kappa(a[1]), rel=1e-12)


def test_exp_decay_mean_decreases_towards_mu() -> None:
    k = make_resource_kernel("exp-decay-sum", dim=2)
    X = np.array([[0.5, 0.5, r] for r in (0.05, 0.2, 0.5, 1.0)])
    mean = k.mean(X)
    assert np.all(np.diff(mean) < 0) and np.all(mean > 0.0)


def test_unknown_kernel_is_named() -> None:
    with pytest.raises(ValueError, match="gp_resource_kernel must be one of"):
        make_resource_kernel("rbf", dim=2)
