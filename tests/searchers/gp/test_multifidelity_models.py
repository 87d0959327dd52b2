from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hpo_core.searchers.gp.independent import IndependentGPModel
from hpo_core.searchers.gp.model import cholesky_inverse
from hpo_core.searchers.gp.multitask import ResourceGPModel
from hpo_core.searchers.gp.resource_kernels import RESOURCE_KERNELS, make_resource_kernel

LEVELS = [1, 3, 9, 27]


def finite_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def curves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Configs in [0, 1]^2 observed at rung levels: decaying curves towards a quadratic."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    levels = rng.choice(LEVELS, n)
    final = (X[:, 0] - 0.3) ** 2 + (X[:, 1] - 0.6) ** 2
    y = final + 0.5 * np.exp(-levels / 5.0) + 0.01 * rng.standard_normal(n)
    return X, levels, y


def rows(X: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return np.hstack([X, (levels / 27.0)[:, None]])


def fitted(name: str, n: int = 30, **kwargs: int) -> tuple[ResourceGPModel, np.ndarray,
                                                               np.ndarray]:
    X, levels, y = curves(n)
    model = ResourceGPModel(kernel=make_resource_kernel(name, dim=2), max_t=27,
                            rng=np.random.default_rng(1), **kwargs)
    model.fit(X, levels, y)
    return model, rows(X, levels), y


def test_cholesky_inverse() -> None:
    A = np.random.default_rng(0).standard_normal((6, 6))
    K = A @ A.T + np.eye(6)
    np.testing.assert_allclose(cholesky_inverse(np.linalg.cholesky(K)), np.linalg.inv(K),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_neg_log_posterior_gradient(name: str) -> None:
    model, _, _ = fitted(name, n=12, opt_maxiter=3)
    rng = np.random.default_rng(2)
    bounds = model._bounds
    params = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.uniform(0.3, 0.7, len(bounds))
    params[-1] = np.log(0.1)  # a noise the finite differences resolve
    _, grad = model.neg_log_posterior(params)
    expected = finite_difference(lambda p: model.neg_log_posterior(p)[0], params)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", RESOURCE_KERNELS)
def test_posterior_interpolates_a_tiny_dataset(name: str) -> None:
    model, X, y = fitted(name)
    assert model.num_optimizations == 1
    mean, var = model.predict(X[:, :-1], X[:, -1] * 27)
    assert np.sqrt(np.mean((mean - y) ** 2)) < 0.05 * np.std(y)
    assert model.predict(np.array([[0.5, 0.5]]), 13.5)[1][0] > np.max(var)


def test_exp_decay_learns_that_curves_decrease() -> None:
    model, _, _ = fitted("exp-decay-sum", n=40)
    x = np.tile([0.3, 0.6], (len(LEVELS), 1))
    assert np.all(np.diff(model.predict(x, np.array(LEVELS))[0]) < 0)


def test_extend_equals_a_refit_with_the_same_parameters() -> None:
    X, levels, y = curves(25)
    model = ResourceGPModel(kernel=make_resource_kernel("exp-decay-sum", dim=2), max_t=27,
                            rng=np.random.default_rng(1))
    model.fit(X[:20], levels[:20], y[:20])
    model.extend(X[20:], levels[20:], y[20:])
    reference = ResourceGPModel(kernel=make_resource_kernel("exp-decay-sum", dim=2), max_t=27,
                                rng=np.random.default_rng(1))
    reference.params = model.params
    reference.fit(X, levels, y, optimize=False)
    reference.y_mean, reference.y_scale = model.y_mean, model.y_scale
    reference._posterior = type(model.posterior)(
        kernel=model.posterior.kernel, noise=model.posterior.noise, X=rows(X, levels),
        y=model.standardize(y))
    test, test_levels = np.random.default_rng(3).random((5, 2)), np.array([*LEVELS, 2])
    for a, b in zip(model.predict(test, test_levels), reference.predict(test, test_levels),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_fantasies_keep_the_mean_and_lower_the_variance() -> None:
    model, _, _ = fitted("exp-decay-sum")
    pending = np.array([[0.8, 0.1, 1 / 27.0], [0.1, 0.9, 3 / 27.0]])
    before = model.posterior.predict(pending)
    after = model.posterior.fantasize(pending).predict(pending)
    np.testing.assert_allclose(after[0], before[0], rtol=1e-8, atol=1e-8)
    assert np.all(after[1] < before[1])


def test_predict_with_gradient_matches_finite_differences() -> None:
    model, _, _ = fitted("exp-decay-combined")
    view = model.posterior.at_resource(9 / 27.0)
    x = np.array([[0.4, 0.2]])
    mean, var, dmean, dvar = view.predict_with_gradient(x)
    np.testing.assert_allclose((mean, var), view.predict(x), rtol=1e-8)
    np.testing.assert_allclose(dmean[0], finite_difference(
        lambda z: float(view.predict(z[None, :])[0][0]), x[0]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dvar[0], finite_difference(
        lambda z: float(view.predict(z[None, :])[1][0]), x[0]), rtol=1e-5, atol=1e-7)


def independent(n: int = 40, **kwargs: int) -> tuple[IndependentGPModel, np.ndarray,
                                                        np.ndarray, np.ndarray]:
    X, levels, y = curves(n)
    model = IndependentGPModel(dim=2, levels=LEVELS, rng=np.random.default_rng(1), **kwargs)
    model.fit(X, levels, y)
    return model, X, levels, y


def test_independent_gradient() -> None:
    model, _, _, _ = independent(n=16, opt_maxiter=3)
    rng = np.random.default_rng(2)
    bounds = model._bounds
    params = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.uniform(0.3, 0.7, len(bounds))
    params[-1] = np.log(0.1)
    _, grad = model.neg_log_posterior(params)
    expected = finite_difference(lambda p: model.neg_log_posterior(p)[0], params)
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-5)


def test_independent_posteriors_per_level() -> None:
    model, X, levels, y = independent()
    posteriors = model.posteriors()
    assert sorted(posteriors) == sorted(set(levels.tolist()))
    # shared lengthscales, separate means and variances
    ls = [p.kernel.params[:2] for p in posteriors.values()]
    assert all(np.array_equal(ls[0], other) for other in ls[1:])
    assert len({p.mean for p in posteriors.values()}) == len(posteriors)
    for level in posteriors:
        mask = levels == level
        mean, _ = model.predict(level, X[mask])
        assert np.sqrt(np.mean((mean - y[mask]) ** 2)) < 0.2 * np.std(y)
    # the curves decrease: higher levels have lower means
    means = [model.predict(level, np.array([[0.3, 0.6]]))[0][0] for level in LEVELS]
    assert means[0] > means[-1]


def test_independent_extend_refactors_only_new_levels() -> None:
    model = independent()[0]
    before = model.posteriors()
    model.extend(np.array([[0.5, 0.5]]), np.array([27]), np.array([0.1]))
    after = model.posteriors()
    assert after[27].X.shape[0] == before[27].X.shape[0] + 1
    assert after[1] is before[1]


def test_independent_ignores_other_resources() -> None:
    X, levels, y = curves(40)
    model = IndependentGPModel(dim=2, levels=LEVELS, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"no data at the levels"):
        model.fit(np.zeros((1, 2)), np.array([5]), np.zeros(1))
    model.fit(np.vstack([X, np.zeros((3, 2))]), np.concatenate([levels, [2, 5, 30]]),
              np.concatenate([y, [9.0, 9.0, 9.0]]))
    reference = IndependentGPModel(dim=2, levels=LEVELS, rng=np.random.default_rng(0))
    reference.fit(X, levels, y)
    np.testing.assert_array_equal(model.params, reference.params)
    assert sorted(model.posteriors()) == sorted(reference.posteriors())
