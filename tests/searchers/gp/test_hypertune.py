"""Hyper-Tune's searcher: ranking losses, level weights, ensemble posterior, brackets."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.searchers import make_searcher
from hpo_core.searchers.gp.hypertune import (
    MIN_DATA_PER_LEVEL,
    EnsemblePosterior,
    HyperTuneOptions,
    HyperTuneSearcher,
    cross_validation_losses,
    hypertune_bracket_distribution,
    level_weights,
    ranking_losses,
    sample_joint,
)
from hpo_core.searchers.gp.kernels import Matern52
from hpo_core.searchers.gp.model import GPPosterior
from hpo_core.testing import synthetic_config_space

SPACE: dict[str, Any] = {"x": sp.uniform(0.0, 1.0), "y": sp.uniform(0.0, 1.0), "epochs": 9}


def searcher(model: str = "gp_independent", seed: int = 0, **options: Any) -> HyperTuneSearcher:
    s = HyperTuneSearcher(SPACE, metric="error", mode="min", rng=np.random.default_rng(seed),
                          options=HyperTuneOptions(model=model, opt_nstarts=1,
                                                    opt_maxiter=20, **options))
    s.configure_resources(rung_levels=[1, 3], max_t=9)
    return s


def observe_levels(s: HyperTuneSearcher, n: int, *, seed: int = 1) -> None:
    """``n`` configs observed at all levels: level 1 orders them exactly like level 9 (a
    monotone map of its values), level 3 in an unrelated order; the values at 9 are rough in x,
    so a model of level 9 alone cannot predict their order."""
    rng = np.random.default_rng(seed)
    top = rng.permutation(n).astype(float)
    unrelated = rng.permutation(n).astype(float)
    for trial_id in range(n):
        config = {"x": float(rng.uniform()), "y": float(rng.uniform()), "epochs": 9}
        s.observe(trial_id, config, 1, 10.0 + 2.0 * top[trial_id])
        s.observe(trial_id, config, 3, 5.0 + unrelated[trial_id])
        s.observe(trial_id, config, 9, top[trial_id])


# -- building blocks --------------------------------------------------------------------------


def test_ranking_losses_count_misordered_pairs() -> None:
    targets = np.array([0.0, 1.0, 2.0, 3.0])
    samples = np.column_stack([targets, -targets, [0.0, 2.0, 1.0, 3.0]])
    np.testing.assert_allclose(ranking_losses(samples, targets), [0.0, 1.0, 1.0 / 6.0])


def test_ranking_losses_agree_with_a_pair_by_pair_count() -> None:
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 5, size=15).astype(float)  # with ties
    samples = rng.normal(size=(15, 7))
    expected = [
        np.mean([(samples[j, s] < samples[k, s]) != (targets[j] < targets[k])
                 for j in range(15) for k in range(j + 1, 15)])
        for s in range(7)
    ]
    np.testing.assert_allclose(ranking_losses(samples, targets), expected)


def test_sample_joint_has_the_given_moments() -> None:
    mean = np.array([1.0, -1.0])
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    draws = sample_joint(mean, cov, 20_000, np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(draws), cov, atol=0.05)
    singular = sample_joint(mean, np.ones((2, 2)), 5, np.random.default_rng(0))
    assert np.all(np.isfinite(singular))


def test_level_weights_count_wins_and_ties() -> None:
    losses = np.array([[0.1, 0.1, 0.3, 0.2],
                       [0.2, 0.1, 0.2, 0.4],
                       [0.3, 0.5, 0.1, 0.3]])
    # wins: level 0 in samples 0, 1 (tie), 3; level 1 in sample 1 (tie); level 2 in sample 2
    np.testing.assert_allclose(level_weights(losses), [3 / 5, 1 / 5, 1 / 5])


def test_cross_validation_uses_at_most_five_folds_of_at_least_two() -> None:
    sizes: list[int] = []
    X = np.random.default_rng(0).uniform(size=(13, 2))
    y = np.arange(13.0)
    kernel = Matern52(dim=2)

    def posterior_given(train: np.ndarray) -> GPPosterior:
        sizes.append(13 - len(train))
        return GPPosterior(kernel=kernel, mean=0.0, noise=1e-3, X=X[train], y=y[train])

    losses = cross_validation_losses(posterior_given, X, y, num_samples=4,
                                     rng=np.random.default_rng(0))
    assert sizes == [3, 3, 3, 2, 2] and losses.shape == (4,)
    assert np.all((losses >= 0) & (losses <= 1))


def test_ensemble_posterior_is_the_weighted_combination() -> None:
    rng = np.random.default_rng(0)
    parts = [GPPosterior(kernel=Matern52(dim=2), mean=m, noise=1e-2, X=rng.uniform(size=(8, 2)),
                         y=rng.normal(size=8)) for m in (0.0, 0.5)]
    ensemble = EnsemblePosterior([(0.3, parts[0]), (0.7, parts[1])])
    Xs = rng.uniform(size=(5, 2))
    (m0, v0), (m1, v1) = parts[0].predict(Xs), parts[1].predict(Xs)
    mean, var = ensemble.predict(Xs)
    np.testing.assert_allclose(mean, 0.3 * m0 + 0.7 * m1)
    np.testing.assert_allclose(var, 0.09 * v0 + 0.49 * v1)
    mean_g, var_g, dmean, dvar = ensemble.predict_with_gradient(Xs)
    np.testing.assert_allclose(mean_g, mean)
    np.testing.assert_allclose(var_g, var, atol=1e-10)
    step = 1e-6
    shifted = Xs.copy()
    shifted[:, 1] += step
    m_s, v_s = ensemble.predict(shifted)
    np.testing.assert_allclose((m_s - mean) / step, dmean[:, 1], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose((v_s - var) / step, dvar[:, 1], rtol=1e-3, atol=1e-5)


def test_bracket_distribution_from_weights() -> None:
    default = [0.5, 0.3, 0.2]
    full = hypertune_bracket_distribution([0.2, 0.3, 0.5], [1, 3, 9], default)
    expected = np.array([0.2, 0.1, 0.5 / 9])
    np.testing.assert_allclose(full, expected / expected.sum())
    # fewer weighted levels than brackets: the head keeps Hyperband's mass, the tail stays
    head = hypertune_bracket_distribution([0.25, 0.75], [1, 3], default)
    np.testing.assert_allclose(head, [0.8 * 0.25 / 0.5, 0.8 * 0.25 / 0.5, 0.2])
    # more weighted levels than brackets: cut to the brackets
    cut = hypertune_bracket_distribution([0.0, 0.0, 1.0], [1, 3, 9], [0.6, 0.4])
    assert cut == [1.0, 0.0]  # no mass on the head: all on bracket 0
    for probabilities in (full, head, cut):
        assert min(probabilities) >= 0 and math.isclose(sum(probabilities), 1.0)


# -- the searcher -----------------------------------------------------------------------------


def test_level_that_ranks_the_top_data_perfectly_gets_the_largest_weight() -> None:
    s = searcher("gp_independent")
    observe_levels(s, 14)
    s.acquisition_posterior()
    assert s.supported_levels == [1, 3, 9]
    weights = s.level_weights
    assert weights is not None
    assert math.isclose(float(np.sum(weights)), 1.0)
    assert int(np.argmax(weights)) == 0, weights
    assert math.isclose(sum(s.ensemble_weights().values()), 1.0)


def test_joint_model_weights_are_a_distribution() -> None:
    # the joint GP couples the levels, so no level is "unrelated" to the others here
    s = searcher("gp_multitask")
    observe_levels(s, 14)
    s.acquisition_posterior()
    weights = s.level_weights
    assert s.supported_levels == [1, 3, 9] and weights is not None
    assert np.all(weights >= 0) and math.isclose(float(np.sum(weights)), 1.0)
    assert math.isclose(sum(s.ensemble_weights().values()), 1.0)


def test_weights_are_deterministic_under_a_fixed_seed() -> None:
    runs = []
    for _ in range(2):
        s = searcher(seed=5)
        observe_levels(s, 10)
        s.acquisition_posterior()
        runs.append(s.level_weights)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_no_weights_before_a_second_level_has_enough_data() -> None:
    s = searcher()
    rng = np.random.default_rng(0)
    for trial_id in range(12):
        config = {"x": float(rng.uniform()), "y": 0.5, "epochs": 9}
        s.observe(trial_id, config, 1, float(rng.normal()))
        if trial_id < MIN_DATA_PER_LEVEL - 1:
            s.observe(trial_id, config, 3, float(rng.normal()))
    s.acquisition_posterior()
    assert s.level_weights is None
    assert s.ensemble_weights() == {1: 1.0}
    assert s.bracket_distribution([0.7, 0.3]) is None


@pytest.mark.parametrize("model", ["gp_independent", "gp_multitask"])
def test_acquisition_posterior_combines_the_level_posteriors(model: str) -> None:
    s = searcher(model)
    observe_levels(s, 10)
    posterior, _, _ = s.acquisition_posterior()
    weights = s.ensemble_weights()
    Xs = np.random.default_rng(3).uniform(size=(6, 2))
    mean, var = posterior.predict(Xs)
    assert s.model is not None
    fitted = s.model.posteriors(weights)
    level_moments = [fitted[r].predict_joint(Xs) for r in weights]
    np.testing.assert_allclose(
        mean, sum(w * m for w, (m, _) in zip(weights.values(), level_moments, strict=True)))
    np.testing.assert_allclose(
        var, sum(w**2 * np.diag(c) for w, (_, c) in zip(weights.values(), level_moments,
                                                          strict=True)), atol=1e-9)


def test_bracket_distribution_departs_from_hyperband_once_weights_exist() -> None:
    s = searcher()
    default = [0.6, 0.3, 0.1]
    assert s.bracket_distribution(default) is None
    observe_levels(s, 14)
    s.acquisition_posterior()
    learned = s.bracket_distribution(default)
    assert learned is not None and len(learned) == 3
    assert min(learned) >= 0 and math.isclose(sum(learned), 1.0)
    assert not np.allclose(learned, default)


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [({"model": "gp_issm"}, "model"), ({"hypertune_distribution_num_samples": 0},
                                        "hypertune_distribution_num_samples"),
     ({"gp_resource_kernel": "rbf"}, "gp_resource_kernel")],
)
def test_bad_options_name_the_option(options: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make_searcher("hypertune", SPACE, metric="error", mode="min",
                      rng=np.random.default_rng(0), search_options=options)
    with pytest.raises(ValueError, match=name):
        HyperbandScheduler(synthetic_config_space(27), metric="error", searcher="hypertune",
                           max_resource_attr="epochs", search_options=options)


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match="num_brackets"):
        make_searcher("hypertune", SPACE, metric="error", mode="min",
                      rng=np.random.default_rng(0), search_options={"num_brackets": 2})


def test_default_model_is_independent() -> None:
    s = make_searcher("hypertune", SPACE, metric="error", mode="min",
                      rng=np.random.default_rng(0))
    assert isinstance(s, HyperTuneSearcher)
    assert s.options.model == "gp_independent"
    assert s.options.hypertune_distribution_num_samples == 50
