from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hpo_core.searchers.gp.kernels import Kernel, Matern52
from hpo_core.searchers.gp.model import NOISE_PRIOR, GPModel, GPPosterior


def finite_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def data(n: int, dim: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, dim))
    return X, np.sin(3 * X[:, 0]) + (X[:, -1] - 0.4) ** 2 + 0.01 * rng.normal(size=n)


def model(**kwargs: Any) -> GPModel:
    return GPModel(kernel=Matern52(dim=2), rng=np.random.default_rng(0), opt_maxiter=30,
                   **kwargs)


def direct_posterior(
    kernel: Kernel, mean: float, noise: float, X: np.ndarray, y: np.ndarray, Xs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    K = kernel(X, X) + noise * np.eye(len(X))
    Ks = kernel(Xs, X)
    mu = mean + Ks @ np.linalg.solve(K, y - mean)
    var = kernel.diag(Xs) - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    return mu, var


def test_posterior_matches_the_closed_form() -> None:
    X, y = data(6)
    kernel = Matern52(dim=2).with_params(np.log([0.4, 0.8, 1.3]))
    post = GPPosterior(kernel=kernel, mean=0.2, noise=0.01, X=X, y=y)
    Xs = np.random.default_rng(5).random((7, 2))
    mu, var = post.predict(Xs)
    mu_direct, var_direct = direct_posterior(kernel, 0.2, 0.01, X, y, Xs)
    np.testing.assert_allclose(mu, mu_direct, rtol=1e-9)
    np.testing.assert_allclose(var, var_direct, rtol=1e-7)
    mu2, var2, dmu, dvar = post.predict_with_gradient(Xs)
    np.testing.assert_allclose(mu2, mu, rtol=1e-12)
    np.testing.assert_allclose(var2, var, rtol=1e-7)
    for i in range(len(Xs)):
        np.testing.assert_allclose(
            dmu[i], finite_difference(lambda x: post.predict(x[None])[0][0], Xs[i]), rtol=1e-5)
        np.testing.assert_allclose(
            dvar[i], finite_difference(lambda x: post.predict(x[None])[1][0], Xs[i]),
            rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("num_samples", [0, 3])
def test_extend_and_fantasize_equal_conditioning_on_all_data(num_samples: int) -> None:
    X, y = data(9)
    kernel = Matern52(dim=2).with_params(np.log([0.4, 0.8, 1.3]))
    post = GPPosterior(kernel=kernel, mean=0.2, noise=0.01, X=X[:6], y=y[:6])
    Xs = np.random.default_rng(5).random((7, 2))
    extended = post.extend(X[6:], y[6:])
    mu, var = extended.predict(Xs)
    mu_direct, var_direct = direct_posterior(kernel, 0.2, 0.01, X, y, Xs)
    np.testing.assert_allclose(mu, mu_direct, rtol=1e-9)
    np.testing.assert_allclose(var, var_direct, rtol=1e-7)
    # fantasies: the same variance as real observations at the pending inputs; each sample's
    # mean is the posterior given that sample's targets
    rng = np.random.default_rng(0)
    fantasized = post.fantasize(X[6:], num_samples=num_samples, rng=rng)
    mu_f, var_f = fantasized.predict(Xs)
    np.testing.assert_allclose(var_f, var_direct, rtol=1e-7)
    targets = fantasized.y[6:] if num_samples else post.predict(X[6:])[0][:, None]
    for s in range(targets.shape[1]):
        expected = direct_posterior(kernel, 0.2, 0.01, X, np.concatenate([y[:6], targets[:, s]]),
                                    Xs)[0]
        np.testing.assert_allclose(mu_f[:, s] if num_samples else mu_f, expected, rtol=1e-8)


def test_model_predicts_in_target_units() -> None:
    X, y = data(12)
    m = model()
    m.fit(X, 10.0 + 5.0 * y)
    mean, kparams, noise = m.params[0], m.params[1:-1], math.exp(m.params[-1])
    ys = (10.0 + 5.0 * y - m.y_mean) / m.y_scale
    np.testing.assert_allclose(ys, m.y_train)
    assert m.y_mean == pytest.approx(np.mean(10 + 5 * y)) and m.y_scale == pytest.approx(
        np.std(10 + 5 * y))
    Xs = np.random.default_rng(3).random((4, 2))
    mu_s, var_s = direct_posterior(m.kernel.with_params(kparams), mean, noise, X, ys, Xs)
    mu, var = m.predict(Xs)
    np.testing.assert_allclose(mu, m.y_mean + m.y_scale * mu_s, rtol=1e-8)
    np.testing.assert_allclose(var, m.y_scale**2 * var_s, rtol=1e-6)
    assert np.all(var >= 0)


def test_log_marginal_likelihood_is_the_gaussian_log_density() -> None:
    X, y = data(8)
    m = model()
    m.fit(X, y)
    params = np.array([0.3, math.log(0.5), math.log(0.2), math.log(1.7), math.log(0.05)])
    K = Matern52(dim=2).with_params(params[1:-1])(X) + 0.05 * np.eye(8)
    expected = stats.multivariate_normal.logpdf(m.y_train, mean=np.full(8, 0.3), cov=K)
    assert m.log_marginal_likelihood(params) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("priors", [True, False])
def test_objective_and_its_gradient(priors: bool) -> None:
    X, y = data(9)
    kernel = Matern52(dim=2) if priors else Matern52(
        dim=2, lengthscale_prior=None, variance_prior=None)
    m = GPModel(kernel=kernel, rng=np.random.default_rng(0),
                noise_prior=NOISE_PRIOR if priors else None)
    m.fit(X, y)
    theta = np.array([-0.2, math.log(0.3), math.log(0.9), math.log(1.4), math.log(0.02)])
    value, grad = m.neg_log_posterior(theta)
    log_prior = 0.0
    if priors:
        log_prior = (stats.gamma.logpdf([0.3, 0.9], a=3, scale=1 / 6).sum()
                     + stats.gamma.logpdf(1.4, a=2, scale=1.0)
                     + stats.gamma.logpdf(0.02, a=1.1, scale=1 / 0.05))
    assert value == pytest.approx(-m.log_marginal_likelihood(theta) - log_prior, rel=1e-10)
    fd = finite_difference(lambda t: m.neg_log_posterior(t)[0], theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_fit_improves_the_objective_and_respects_the_noise_floor() -> None:
    X, y = data(15)
    m = model()
    m.fit(X, y)
    start = np.concatenate([[0.0], Matern52(dim=2).params, [math.log(1e-3)]])
    assert m.neg_log_posterior(m.params)[0] < m.neg_log_posterior(start)[0]
    noiseless = model(noise_floor=1e-4)
    noiseless.fit(X, np.sin(3 * X[:, 0]))
    assert math.exp(noiseless.params[-1]) >= 1e-4 * (1 - 1e-9)


def test_refit_policy_counts_optimisations() -> None:
    X, y = data(12)
    m = model(opt_skip_init_length=5, opt_skip_period=3, opt_nstarts=1)
    counts = []
    for n in range(3, 13):
        before = m.params.copy()
        m.fit(X[:n], y[:n])
        counts.append(m.num_optimizations)
        if counts[-1] == (counts[-2] if len(counts) > 1 else 0):
            np.testing.assert_array_equal(m.params, before)  # skipped: parameters kept ...
        assert m.X_train.shape[0] == n  # ... but the data is new
    # n = 3, 4, 5: every fit; beyond 5 (n = 6..12): the 1st, 4th, 7th such fit
    assert counts == [1, 2, 3, 4, 4, 4, 5, 5, 5, 6]
    assert m.num_fits == 10


def test_subsampling_keeps_the_best_points() -> None:
    X, y = data(40)
    m = model(max_size_data_for_model=10, max_size_top_fraction=0.5)
    m.fit(X, y)
    assert m.X_train.shape == (10, 2)
    kept = m.y_mean + m.y_scale * m.y_train
    best5 = np.sort(y)[:5]
    assert np.all(np.isin(best5, kept))
    first = m.X_train.copy()
    m.fit(X, y)
    assert not np.array_equal(first, m.X_train)  # the random half is drawn afresh
    np.testing.assert_allclose(np.sort(y)[:5], np.sort(m.y_mean + m.y_scale * m.y_train)[:5])


def test_fantasies_keep_the_mean_and_shrink_the_variance() -> None:
    X, y = data(10)
    m = model()
    m.fit(X, y)
    pending = np.array([[0.9, 0.1], [0.15, 0.85]])
    near = pending + 0.03
    fantasy = m.posterior.fantasize(pending)
    for Z in (pending, near):
        mu0, var0 = m.posterior.predict(Z)
        mu1, var1 = fantasy.predict(Z)
        np.testing.assert_allclose(mu1, mu0, atol=1e-8)
        assert np.all(var1 < var0)
    # one pending point: conditioning on a noisy value there gives v * noise / (v + noise)
    one = pending[:1]
    v, noise = m.posterior.predict(one)[1][0], math.exp(m.params[-1])
    assert m.posterior.fantasize(one).predict(one)[1][0] == pytest.approx(
        v * noise / (v + noise), rel=1e-6)
    assert m.posterior.fantasize(np.empty((0, 2))) is m.posterior


def test_constant_targets_and_single_points() -> None:
    m = model()
    m.fit(np.array([[0.5, 0.5]]), np.array([3.0]))
    assert m.predict(np.array([[0.5, 0.5]]))[0][0] == pytest.approx(3.0, abs=1e-3)
    m.fit(np.array([[0.1, 0.5], [0.7, 0.2]]), np.array([2.0, 2.0]))
    mu, var = m.predict(np.array([[0.3, 0.3]]))
    assert np.isfinite(mu).all() and np.isfinite(var).all()


def test_bad_input() -> None:
    m = model()
    with pytest.raises(RuntimeError, match="not been fitted"):
        _ = m.posterior
    with pytest.raises(ValueError, match="expected X of shape"):
        m.fit(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="no data"):
        m.fit(np.zeros((0, 2)), np.zeros(0))


def test_same_generator_same_fit() -> None:
    X, y = data(20)
    a, b = model(opt_nstarts=3), model(opt_nstarts=3)
    a.fit(X, y)
    b.fit(X, y)
    np.testing.assert_array_equal(a.params, b.params)
