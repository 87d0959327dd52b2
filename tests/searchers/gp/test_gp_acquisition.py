from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

from hpo_core import space as sp
from hpo_core.searchers.gp.acquisition import (
    expected_improvement,
    expected_improvement_with_gradient,
    incumbent,
    select_config,
    select_from_table,
    thompson_scores,
)
from hpo_core.searchers.gp.kernels import Matern52
from hpo_core.searchers.gp.model import GPModel, GPPosterior


def fitted(n: int = 12, seed: int = 0) -> GPPosterior:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    y = (X[:, 0] - 0.3) ** 2 + (X[:, 1] - 0.7) ** 2
    m = GPModel(kernel=Matern52(dim=2), rng=rng, opt_maxiter=30)
    m.fit(X, y)
    return m.posterior


@pytest.mark.parametrize(
    ("mean", "var", "best"),
    [(0.0, 1.0, 0.0), (0.3, 0.04, 0.1), (-1.0, 2.0, 0.5), (2.0, 0.25, 0.0), (0.0, 1e-4, 1.0)],
)
def test_ei_matches_numerical_integration(mean: float, var: float, best: float) -> None:
    s = math.sqrt(var)
    expected, _ = integrate.quad(
        lambda f: (best - f) * stats.norm.pdf(f, loc=mean, scale=s), mean - 40 * s, best,
        epsabs=0.0, epsrel=1e-11, limit=200)
    ei = expected_improvement(np.array([mean]), np.array([var]), best)[0]
    assert ei == pytest.approx(max(expected, 0.0), rel=1e-8, abs=1e-300)


def test_ei_matches_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(0.4, 0.7, size=1_000_000)
    mc = np.mean(np.maximum(0.2 - f, 0.0))
    ei = expected_improvement(np.array([0.4]), np.array([0.49]), 0.2)[0]
    assert ei == pytest.approx(mc, rel=5e-3)


def test_ei_is_safe_for_extreme_inputs() -> None:
    mean = np.array([1.0, -1.0, 1.0, 50.0, -50.0, 0.0])
    var = np.array([0.0, 0.0, 1e-30, 1e-2, 1e-2, -1e-18])
    ei = expected_improvement(mean, var, 0.0)
    assert np.all(np.isfinite(ei)) and np.all(ei >= 0)
    np.testing.assert_allclose(ei[[0, 1, 2, 5]], [0.0, 1.0, 0.0, 0.0])
    assert ei[3] == 0.0  # z = -500: underflows to zero, no NaN
    assert ei[4] == pytest.approx(50.0)
    # for z << 0 the erfcx form keeps relative accuracy where phi + z Phi cancels
    tail = expected_improvement(np.array([8.0]), np.array([1.0]), 0.0)[0]
    quad, _ = integrate.quad(lambda f: -f * stats.norm.pdf(f, loc=8.0), -40.0, 0.0,
                             epsabs=0.0, epsrel=1e-12, limit=400)
    assert tail == pytest.approx(quad, rel=1e-6)


@pytest.mark.parametrize(("fantasy", "seed", "points"), [(False, 4, 5), (True, 8, 4)])
def test_ei_gradient_matches_finite_differences(fantasy: bool, seed: int, points: int) -> None:
    post = sampled_fantasy() if fantasy else fitted()
    best = incumbent(post, post.X)
    for x in np.random.default_rng(seed).random((points, 2)):
        ei, grad = expected_improvement_with_gradient(post, x, best)
        assert ei == pytest.approx(expected_improvement(*post.predict(x[None]), best)[0],
                                   rel=1e-6)
        eps = 1e-6
        fd = np.array([
            (expected_improvement(*post.predict((x + eps * e)[None]), best)[0]
             - expected_improvement(*post.predict((x - eps * e)[None]), best)[0]) / (2 * eps)
            for e in np.eye(2)
        ])
        np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-9)


def test_fantasizing_lowers_ei_at_and_near_pending_points() -> None:
    post = fitted()
    best = incumbent(post, post.X)
    grid = np.random.default_rng(1).random((500, 2))
    ei = expected_improvement(*post.predict(grid), best)
    pending = grid[np.argmax(ei)][None, :]
    fantasy = post.fantasize(pending)
    # the believed outcome at the pending point is below the incumbent, so it becomes the bar
    assert post.predict(pending)[0][0] < best
    assert incumbent(fantasy, fantasy.X) == pytest.approx(post.predict(pending)[0][0])
    for z in (pending, pending + 0.02, pending - 0.02):
        before = expected_improvement(*post.predict(z), best)[0]
        after = expected_improvement(*fantasy.predict(z), incumbent(fantasy, fantasy.X))[0]
        assert after < 0.5 * before
    # a pending point whose EI comes from uncertainty: the fantasy removes that uncertainty
    mean, var = post.predict(grid)
    uncertain = grid[np.argmax(np.where(mean > best, var, -1.0))][None, :]
    fantasy = post.fantasize(uncertain)
    assert incumbent(fantasy, fantasy.X) == pytest.approx(best)
    for z in (uncertain, uncertain + 0.02, uncertain - 0.02):
        before = expected_improvement(*post.predict(z), best)[0]
        after = expected_improvement(*fantasy.predict(z), best)[0]
        assert after < 0.5 * before


def test_select_config_climbs_ei_and_avoids_duplicates() -> None:
    space = {"x": sp.uniform(0.0, 1.0), "y": sp.uniform(0.0, 1.0)}
    encoder = sp.SpaceEncoder(space)
    post = fitted()
    best = incumbent(post, post.X)
    rng = np.random.default_rng(2)
    candidates = [sp.sample_config(space, rng) for _ in range(30)]
    scores = expected_improvement(*post.predict(encoder.encode_many(candidates)), best)
    chosen = select_config(post, encoder=encoder, best=best, candidates=candidates,
                           extra_starts=post.X[:2], is_new=lambda c: True)
    assert chosen is not None
    chosen_ei = expected_improvement(*post.predict(encoder.encode(chosen)[None]), best)[0]
    assert chosen_ei >= scores.max()
    assert chosen not in candidates  # local search moved off the random candidates
    # without local search: the best candidate; nothing new: None
    top = select_config(post, encoder=encoder, best=best, candidates=candidates,
                        extra_starts=post.X[:0], is_new=lambda c: True, num_local_starts=0)
    assert top == candidates[int(np.argmax(scores))]
    assert select_config(post, encoder=encoder, best=best, candidates=candidates,
                         extra_starts=post.X[:2], is_new=lambda c: False) is None


def test_select_config_falls_back_to_an_unseen_candidate() -> None:
    space = {"x": sp.randint(0, 4), "y": sp.choice(["a", "b"])}
    encoder = sp.SpaceEncoder(space)
    rng = np.random.default_rng(0)
    pairs = [(x, y) for x in range(5) for y in "ab" if (x, y) != (4, "a")]
    seen: list[dict[str, Any]] = [{"x": x, "y": y} for x, y in pairs]
    m = GPModel(kernel=Matern52(dim=encoder.dim), rng=rng, opt_maxiter=20)
    m.fit(encoder.encode_many(seen), np.array([x + (y == "b") for x, y in pairs], float))
    keys = {sp.config_key(space, c) for c in seen}
    candidates = [sp.sample_config(space, rng) for _ in range(40)]
    assert {"x": 4, "y": "a"} in candidates
    chosen = select_config(m.posterior, encoder=encoder, best=incumbent(m.posterior, m.posterior.X),
                           candidates=candidates, extra_starts=m.posterior.X[:3],
                           is_new=lambda c: sp.config_key(space, c) not in keys)
    assert chosen == {"x": 4, "y": "a"}


@pytest.mark.parametrize("batch_size", [1, 7, 4096])
def test_select_from_table_takes_the_argmax(batch_size: int) -> None:
    post = fitted()
    best = incumbent(post, post.X)
    table = np.random.default_rng(3).random((50, 2))
    row = select_from_table(post, table, best=best, batch_size=batch_size)
    assert row == int(np.argmax(expected_improvement(*post.predict(table), best)))


def sampled_fantasy(num_samples: int = 20) -> GPPosterior:
    pending = np.array([[0.3, 0.7], [0.8, 0.2]])
    return fitted().fantasize(pending, num_samples=num_samples, rng=np.random.default_rng(5))


def test_fantasy_samples_are_joint_draws_of_the_pending_outcomes() -> None:
    post = fitted()
    pending = np.array([[0.3, 0.7], [0.32, 0.69], [0.8, 0.2]])
    fantasy = post.fantasize(pending, num_samples=20_000, rng=np.random.default_rng(6))
    n = post.X.shape[0]
    draws = fantasy.y[n:]
    assert fantasy.y.shape == (n + 3, 20_000)
    np.testing.assert_array_equal(fantasy.y[:n], np.repeat(post.y[:, None], 20_000, axis=1))
    mean, cov = post.predict_joint(pending)
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(draws), cov + post.noise * np.eye(3), atol=0.03)
    # the two close pending points are strongly correlated in the draws
    assert np.corrcoef(draws)[0, 1] > 0.8


def test_ei_averages_over_fantasy_samples_with_one_incumbent_each() -> None:
    fantasy = sampled_fantasy()
    grid = np.random.default_rng(7).random((50, 2))
    mean, var = fantasy.predict(grid)
    assert mean.shape == (50, 20) and var.shape == (50,)
    best = incumbent(fantasy, fantasy.X)
    assert best.shape == (20,)
    direct = np.mean([expected_improvement(mean[:, s], var, best[s]) for s in range(20)], axis=0)
    np.testing.assert_allclose(expected_improvement(mean, var, best), direct, rtol=1e-12)


def test_sampled_fantasies_lower_ei_at_pending_points() -> None:
    post = fitted()
    best = incumbent(post, post.X)
    grid = np.random.default_rng(1).random((500, 2))
    pending = grid[np.argmax(expected_improvement(*post.predict(grid), best))][None, :]
    fantasy = post.fantasize(pending, num_samples=20, rng=np.random.default_rng(2))
    for z in (pending, pending + 0.02):
        before = expected_improvement(*post.predict(z), best)[0]
        after = expected_improvement(*fantasy.predict(z), incumbent(fantasy, fantasy.X))[0]
        assert after < 0.5 * before


def test_thompson_scoring_starts_local_search_from_the_best_sample() -> None:
    space = {"x": sp.uniform(0.0, 1.0), "y": sp.uniform(0.0, 1.0)}
    encoder = sp.SpaceEncoder(space)
    post = fitted()
    best = incumbent(post, post.X)
    rng = np.random.default_rng(3)
    candidates = [sp.sample_config(space, rng) for _ in range(30)]
    X = encoder.encode_many(candidates)
    scores = thompson_scores(post, X, np.random.default_rng(9))
    # one posterior sample per candidate: centred on the mean, spread by the variance
    mean, var = post.predict(X)
    many = np.array([thompson_scores(post, X, np.random.default_rng(s)) for s in range(4000)])
    np.testing.assert_allclose(many.mean(axis=0), -mean, atol=4 * np.sqrt(var.max() / 4000))
    np.testing.assert_allclose(many.var(axis=0), var, rtol=0.15)
    # without local search: the candidate of the best sample, drawn from the same stream
    top = select_config(post, encoder=encoder, best=best, candidates=candidates,
                        is_new=lambda c: True, initial_scoring="thompson_indep",
                        rng=np.random.default_rng(9), num_local_starts=0)
    assert top == candidates[int(np.argmax(scores))]
    # with it: EI climbed from there
    chosen = select_config(post, encoder=encoder, best=best, candidates=candidates,
                           is_new=lambda c: True, initial_scoring="thompson_indep",
                           rng=np.random.default_rng(9))
    assert chosen is not None
    start_ei = expected_improvement(*post.predict(X[[int(np.argmax(scores))]]), best)[0]
    assert expected_improvement(*post.predict(encoder.encode(chosen)[None]), best)[0] >= start_ei
    with pytest.raises(ValueError, match="initial_scoring"):
        select_config(post, encoder=encoder, best=best, candidates=candidates,
                      is_new=lambda c: True, initial_scoring="ucb")
