from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from hpo_core.searchers.gp.kernels import GammaPrior, Matern52


def direct_matern52(x: np.ndarray, z: np.ndarray, lengthscales: np.ndarray, s2: float) -> float:
    r = math.sqrt(sum(((a - b) / ell) ** 2 for a, b, ell in zip(x, z, lengthscales, strict=True)))
    return s2 * (1 + math.sqrt(5) * r + 5 * r * r / 3) * math.exp(-math.sqrt(5) * r)


def finite_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


@pytest.fixture
def kernel() -> Matern52:
    k = Matern52(dim=3)
    k.params = np.log([0.3, 1.5, 0.7, 2.0])
    return k


def test_matches_the_formula(kernel: Matern52) -> None:
    rng = np.random.default_rng(0)
    X1, X2 = rng.random((4, 3)), rng.random((5, 3))
    K = kernel(X1, X2)
    assert K.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            expected = direct_matern52(X1[i], X2[j], np.array([0.3, 1.5, 0.7]), 2.0)
            assert K[i, j] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(np.diag(kernel(X1)), 2.0)
    np.testing.assert_allclose(kernel.diag(X1), 2.0)
    np.testing.assert_allclose(kernel(X1), kernel(X1).T)


def test_shared_lengthscale() -> None:
    k = Matern52(dim=2, ard=False)
    assert k.num_params == 2
    k.params = np.log([0.4, 1.2])
    x, z = np.array([[0.1, 0.9]]), np.array([[0.5, 0.2]])
    assert k(x, z)[0, 0] == pytest.approx(direct_matern52(x[0], z[0], np.array([0.4, 0.4]), 1.2))


@pytest.mark.parametrize("ard", [True, False])
def test_param_gradient_matches_finite_differences(ard: bool) -> None:
    rng = np.random.default_rng(1)
    k = Matern52(dim=3, ard=ard)
    X = rng.random((6, 3))
    X[5] = X[4]  # a repeated input (r = 0) must not break the gradient
    W = rng.normal(size=(6, 6))
    W = W + W.T
    theta = rng.normal(scale=0.5, size=k.num_params)

    def weighted_sum(params: np.ndarray) -> float:
        return float(np.sum(W * k.with_params(params)(X)))

    gram, gradient = k.with_params(theta).gram_with_param_gradient(X)
    np.testing.assert_allclose(gram, k.with_params(theta)(X), rtol=1e-12)
    np.testing.assert_allclose(gradient(W), k.with_params(theta).param_gradient(X, W))
    analytic = k.with_params(theta).param_gradient(X, W)
    np.testing.assert_allclose(analytic, finite_difference(weighted_sum, theta), rtol=1e-6,
                               atol=1e-8)


def test_input_gradient_matches_finite_differences(kernel: Matern52) -> None:
    rng = np.random.default_rng(2)
    X1, X2 = rng.random((2, 3)), rng.random((4, 3))
    G = kernel.input_gradient(X1, X2)
    assert G.shape == (2, 4, 3)
    for i in range(2):
        for j in range(4):
            def k_ij(x: np.ndarray, j: int = j) -> float:
                return float(kernel(x[None], X2[j:j + 1])[0, 0])

            fd = finite_difference(k_ij, X1[i])
            np.testing.assert_allclose(G[i, j], fd, rtol=1e-6, atol=1e-9)
    # at r = 0 the gradient is zero (the kernel is smooth there)
    np.testing.assert_allclose(kernel.input_gradient(X2[:1], X2[:1]), 0.0)


def test_params_round_trip_and_copy(kernel: Matern52) -> None:
    other = kernel.with_params(np.zeros(4))
    np.testing.assert_allclose(kernel.params, np.log([0.3, 1.5, 0.7, 2.0]))
    np.testing.assert_allclose(other.params, 0.0)
    with pytest.raises(ValueError, match="expected 4 kernel parameters"):
        kernel.params = np.zeros(3)
    assert kernel.param_bounds().shape == (4, 2)


def test_log_prior_is_the_gamma_density(kernel: Matern52) -> None:
    value, grad = kernel.log_prior()
    ls, s2 = np.array([0.3, 1.5, 0.7]), 2.0
    expected = (stats.gamma.logpdf(ls, a=3.0, scale=1 / 6.0).sum()
                + stats.gamma.logpdf(s2, a=2.0, scale=1.0))
    assert value == pytest.approx(expected, rel=1e-12)

    def prior(params: np.ndarray) -> float:
        return kernel.with_params(params).log_prior()[0]

    np.testing.assert_allclose(grad, finite_difference(prior, kernel.params), rtol=1e-6)
    no_prior = Matern52(dim=3, lengthscale_prior=None, variance_prior=None)
    assert no_prior.log_prior()[0] == 0.0


def test_gamma_prior_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="shape > 0 and rate > 0"):
        GammaPrior(0.0, 1.0)
