"""The in-place linear algebra of the GP models against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import LinAlgError

from hpo_core.searchers.gp.kernels import Matern52
from hpo_core.searchers.gp.model import (
    _lower_cholesky,
    cholesky_inverse,
    gaussian_negative_log_likelihood,
)
from hpo_core.searchers.gp.resource_kernels import RESOURCE_KERNELS, make_resource_kernel

# sizes below, at and above the block size of the triangular inversion, odd and even
SIZES = [1, 2, 7, 64, 65, 130, 257]


def spd(n: int, seed: int, ridge: float = 1e-3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n + 2))
    return A @ A.T / n + ridge * np.eye(n)


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("n", SIZES)
def test_cholesky_inverse_equals_the_direct_inverse(n: int) -> None:
    K = spd(n, n)
    L = np.linalg.cholesky(K)
    garbage = L + np.triu(np.full((n, n), 7.0), 1)  # only the lower triangle may be read
    for factor in (L, np.asfortranarray(L), garbage):
        before = factor.copy()
        inverse = cholesky_inverse(factor)
        assert relative(inverse, np.linalg.inv(K)) < 1e-8
        assert np.array_equal(inverse, inverse.T)
        np.testing.assert_array_equal(factor, before)  # the factor is left as it was


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("overwrite", [False, True])
def test_negative_log_likelihood_equals_the_direct_computation(n: int, overwrite: bool) -> None:
    K = spd(n, 100 + n)
    resid = np.random.default_rng(n).standard_normal(n)
    inverse = np.linalg.inv(K)
    alpha_direct = inverse @ resid
    value_direct = (0.5 * resid @ alpha_direct + 0.5 * np.linalg.slogdet(K)[1]
                    + 0.5 * n * math.log(2 * math.pi))
    W_direct = 0.5 * (inverse - np.outer(alpha_direct, alpha_direct))
    argument = K.copy()
    value, alpha, W = gaussian_negative_log_likelihood(argument, resid, overwrite_k=overwrite)
    assert value == pytest.approx(value_direct, rel=1e-10)
    assert relative(alpha, alpha_direct) < 1e-8
    assert relative(W, W_direct) < 1e-8
    assert np.array_equal(W, W.T) and W.flags.c_contiguous
    if not overwrite:
        np.testing.assert_array_equal(argument, K)


def test_negative_log_likelihood_of_a_matrix_that_is_not_positive_definite() -> None:
    K = -np.eye(4)
    with pytest.raises(LinAlgError):
        gaussian_negative_log_likelihood(K, np.ones(4))


@pytest.mark.parametrize("n", SIZES)
def test_lower_cholesky_is_the_clean_factor(n: int) -> None:
    K = spd(n, 200 + n)
    before = K.copy()
    L = _lower_cholesky(K)
    np.testing.assert_allclose(L, np.linalg.cholesky(K), rtol=0, atol=1e-12)
    assert np.all(np.triu(L, 1) == 0.0)
    np.testing.assert_array_equal(K, before)


def test_lower_cholesky_adds_jitter_only_when_needed() -> None:
    x = np.linspace(0, 1, 5)
    K = np.outer(x, x) + np.outer(1 - x, 1 - x)  # rank 2: not positive definite
    L = _lower_cholesky(K)
    jitter = np.diag(L @ L.T - K)
    assert np.all(jitter > 0) and np.max(jitter) < 1e-3 * np.mean(np.diag(K))
    np.testing.assert_allclose(L @ L.T - np.diag(jitter), K, atol=1e-12)


def test_matern_gram_and_gradient_equal_the_direct_ones() -> None:
    rng = np.random.default_rng(3)
    k = Matern52(dim=4).with_params(rng.normal(scale=0.5, size=5))
    X = rng.random((40, 4))
    X[7] = X[3]  # a repeated input
    K, gradient = k.gram_with_param_gradient(X)
    np.testing.assert_allclose(K, k(X), rtol=1e-12, atol=1e-14)
    W = rng.standard_normal((40, 40))
    # the function takes symmetric weights; param_gradient any (the same sum for its symmetric
    # part, as the Gram matrix is symmetric)
    np.testing.assert_allclose(gradient(0.5 * (W + W.T)), k.param_gradient(X, W), rtol=1e-12)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_resource_kernel_gram_follows_new_inputs(name: str) -> None:
    """The exp-decay kernels cache the levels of the last inputs (shared by with_params
    copies): other inputs of the same shape, or a copy fitted to other ones, must not see
    stale levels."""
    rng = np.random.default_rng(5)
    k = make_resource_kernel(name, dim=3)
    k = k.with_params(k.default_params() + 0.1 * rng.standard_normal(k.num_params))
    levels = np.array([1 / 27, 3 / 27, 9 / 27, 1.0])
    X1 = np.hstack([rng.random((30, 3)), rng.choice(levels, (30, 1))])
    X2 = X1.copy()
    X2[:, -1] = rng.choice(levels[:3], 30)
    other = k.with_params(k.params + 0.05)
    W = rng.standard_normal((30, 30))
    W = W + W.T
    for X in (X1, X2, X1):
        for kern in (k, other):
            K, gradient = kern.gram_with_param_gradient(X)
            np.testing.assert_allclose(K, kern(X), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(gradient(W), kern.param_gradient(X, W), rtol=1e-12,
                                       atol=1e-12)
    X1[:, -1] = levels[0]  # modified in place: the cache compares values, not identity
    np.testing.assert_allclose(k.gram_with_param_gradient(X1)[0], k(X1), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("num_samples", [0, 5])
def test_predict_mean_is_the_mean_of_predict(num_samples: int) -> None:
    from hpo_core.searchers.gp.model import GPPosterior
    from hpo_core.searchers.gp.multitask import ResourcePosterior

    rng = np.random.default_rng(8)
    X = np.hstack([rng.random((25, 3)), rng.choice([1 / 9, 1 / 3, 1.0], (25, 1))])
    y = rng.standard_normal(25)
    Xs = np.hstack([rng.random((6, 3)), np.full((6, 1), 1.0)])
    exp_decay = make_resource_kernel("exp-decay-sum", dim=3)
    posteriors = [GPPosterior(kernel=Matern52(dim=4), mean=0.3, noise=0.01, X=X, y=y),
                  ResourcePosterior(kernel=exp_decay, noise=0.01, X=X, y=y)]
    for posterior in posteriors:
        fantasized = posterior.fantasize(Xs[:2], num_samples=num_samples, rng=rng)
        for p in (posterior, fantasized):
            np.testing.assert_array_equal(p.predict_mean(Xs), p.predict(Xs)[0])
        at = ResourcePosterior.at_resource(posterior, 1.0) if isinstance(
            posterior, ResourcePosterior) else None
        if at is not None:
            np.testing.assert_array_equal(at.predict_mean(Xs[:, :-1]),
                                          at.predict(Xs[:, :-1])[0])


@pytest.mark.parametrize("name", ["exp-decay-sum", "exp-decay-combined", "exp-decay-delta1"])
def test_exp_decay_gram_over_runs_of_equal_configs(name: str) -> None:
    """Configs repeated at several levels, in consecutive rows, are computed once per run: the
    Gram matrix and the gradient equal those of the same rows in an order without runs."""
    rng = np.random.default_rng(11)
    k = make_resource_kernel(name, dim=3)
    k = k.with_params(k.default_params() + 0.1 * rng.standard_normal(k.num_params))
    configs = rng.random((12, 3))
    levels = np.array([1 / 27, 3 / 27, 9 / 27, 1.0])
    rows = [np.append(c, r) for i, c in enumerate(configs) for r in levels[: 1 + i % 4]]
    X = np.array(rows)  # runs of equal configs
    perm = rng.permutation(len(X))
    while np.any(np.all(X[perm][1:, :-1] == X[perm][:-1, :-1], axis=1)):
        perm = rng.permutation(len(X))  # no two equal configs next to each other
    W = rng.standard_normal((len(X), len(X)))
    W = W + W.T
    K, gradient = k.gram_with_param_gradient(X)
    K_perm, gradient_perm = k.with_params(k.params).gram_with_param_gradient(X[perm])
    np.testing.assert_allclose(K[np.ix_(perm, perm)], K_perm, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(K, k(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gradient(W), gradient_perm(W[np.ix_(perm, perm)]), rtol=1e-10,
                               atol=1e-12)


def test_resource_model_fit_does_not_depend_on_the_row_order() -> None:
    from hpo_core.searchers.gp.multitask import ResourceGPModel

    rng = np.random.default_rng(12)
    configs = rng.random((15, 2))
    X = np.repeat(configs, 3, axis=0)
    levels = np.tile([1, 3, 9], 15)
    y = np.sin(3 * X[:, 0]) - 0.1 * np.log(levels) + 0.01 * rng.standard_normal(len(X))
    perm = rng.permutation(len(X))
    fits = []
    for order in (np.arange(len(X)), perm):
        model = ResourceGPModel(kernel=make_resource_kernel("exp-decay-sum", dim=2), max_t=9,
                                rng=np.random.default_rng(0), opt_maxiter=20)
        model.fit(X[order], levels[order], y[order], optimize=False)
        fits.append(model)
    values = [model.neg_log_posterior(model.params + 0.05) for model in fits]
    np.testing.assert_allclose(values[1][0], values[0][0], rtol=1e-10)
    np.testing.assert_allclose(values[1][1], values[0][1], rtol=1e-8, atol=1e-10)
    Xs = rng.random((5, 2))
    np.testing.assert_allclose(fits[0].predict(Xs, np.full(5, 9))[0],
                               fits[1].predict(Xs, np.full(5, 9))[0], rtol=1e-9)
