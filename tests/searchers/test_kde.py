"""Tests of the KDE searcher (BOHB's model): densities, the good/bad split, the choice among
candidates, the multi-fidelity level, Syne Tune's feature map and a comparison with random
search."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm

from hpo_core import space as sp
from hpo_core.searchers import (
    KDEOptions,
    KDESearcher,
    MultiFidelityKDEOptions,
    MultiFidelityKDESearcher,
    RandomSearcher,
    make_searcher,
)
from hpo_core.searchers.kde import ProductKernelDensity, _encoded_column, _syne_tune_column

MIXED = {"x": sp.uniform(-5.0, 5.0), "lr": sp.loguniform(1e-4, 1.0), "n": sp.randint(1, 8),
         "opt": sp.choice(["sgd", "adam", "rmsprop"]), "epochs": 9}


def _mixed_data(rng: np.random.Generator, n: int) -> np.ndarray:
    """Columns c (continuous), o (levels k / 5), u (two of the three levels 0, 0.5, 1)."""
    return np.column_stack([rng.random(n), rng.integers(0, 6, n) / 5,
                            rng.choice([0.0, 0.5], n)])


def _direct_bandwidths(data: list[list[float]], min_bandwidth: float) -> list[float]:
    n, d = len(data), len(data[0])
    out = []
    for j in range(d):
        column = [row[j] for row in data]
        mean = sum(column) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in column) / n)
        out.append(max(1.06 * std * n ** (-1 / (4 + d)), min_bandwidth))
    return out


def _direct_pdf(data: list[list[float]], kinds: str, bw: list[float], x: list[float]) -> float:
    total = 0.0
    for row in data:
        product = 1.0
        for j, kind in enumerate(kinds):
            h, xi = bw[j], row[j]
            if kind == "c":
                k = math.exp(-0.5 * ((x[j] - xi) / h) ** 2) / (math.sqrt(2 * math.pi) * h)
            elif x[j] == xi:
                k = 1 - h
            elif kind == "o":
                k = 0.5 * (1 - h) * h ** abs(x[j] - xi)
            else:
                k = h / (len({r[j] for r in data}) - 1)  # levels seen in the data
            product *= k
        total += product
    return total / len(data)


def _queries(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # 7 points (not 3 = d: statsmodels would transpose a 3 x 3 array), some equal to data
    x = np.column_stack([rng.random(7), rng.integers(0, 6, 7) / 5, rng.choice([0.0, 0.5, 1.0], 7)])
    x[:2] = data[:2]
    return x


def test_bandwidths_and_density_against_a_direct_computation() -> None:
    rng = np.random.default_rng(0)
    data = _mixed_data(rng, 15)
    kde = ProductKernelDensity.fit(data, "cou", min_bandwidth=0.05)
    bw = _direct_bandwidths(data.tolist(), 0.05)
    np.testing.assert_allclose(kde.bw, bw, rtol=1e-12)
    x = _queries(data, rng)
    expected = [_direct_pdf(data.tolist(), "cou", bw, row) for row in x.tolist()]
    np.testing.assert_allclose(kde.pdf(x), expected, rtol=1e-12)


def _statsmodels(data: np.ndarray, kinds: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels 0.15 warns that it has no rng
        return sm.nonparametric.KDEMultivariate(data=data, var_type=kinds, bw="normal_reference")


def test_bandwidths_and_density_against_statsmodels() -> None:
    rng = np.random.default_rng(1)
    data = _mixed_data(rng, 20)
    reference = _statsmodels(data, "cou")
    np.testing.assert_allclose(ProductKernelDensity.fit(data, "cou").bw, reference.bw, rtol=1e-12)
    kde = ProductKernelDensity.fit(data, "cou", min_bandwidth=0.08)
    reference.bw = np.clip(reference.bw, 0.08, None)  # as Syne Tune does after fitting
    x = _queries(data, rng)
    np.testing.assert_allclose(kde.pdf(x), reference.pdf(x), rtol=1e-10)


def test_an_unordered_column_of_one_value_gives_statsmodels_inf() -> None:
    rng = np.random.default_rng(2)
    data = np.column_stack([rng.random(8), np.zeros(8)])
    kde = ProductKernelDensity.fit(data, "cu", min_bandwidth=0.1)
    reference = _statsmodels(data, "cu")
    reference.bw = np.clip(reference.bw, 0.1, None)
    x = np.array([[0.3, 0.0], [0.3, 0.5], [0.6, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = reference.pdf(x)
    assert np.isfinite(expected[0]) and np.isinf(expected[1:]).all()
    np.testing.assert_allclose(kde.pdf(x), expected, rtol=1e-10)


def _two_floats() -> dict[str, Any]:
    return {"a": sp.uniform(0.0, 1.0), "b": sp.uniform(0.0, 1.0)}


def _searcher(space: dict[str, Any], seed: int = 0, cls: type[KDESearcher] = KDESearcher,
              mode: str = "min", **options: Any) -> KDESearcher:
    return cls(space, metric="m", mode=mode, rng=np.random.default_rng(seed),
               points_to_evaluate=[], options=cls.options_type(**options))


def _observe_random(searcher: KDESearcher, n: int, seed: int = 5, resource: int = 1,
                    start: int = 0) -> list[tuple[dict[str, Any], float]]:
    rng = np.random.default_rng(seed)
    points = []
    for t in range(start, start + n):
        config = sp.sample_config(searcher.config_space, rng)
        value = float(rng.random())
        searcher.observe(t, config, resource, value)
        points.append((config, value))
    return points


@pytest.mark.parametrize(("mode", "num_min", "n_good"), [("min", None, 7), ("max", None, 7),
                                                         ("min", 10, 10)])
def test_good_set_is_the_best_n_good(mode: str, num_min: int | None, n_good: int) -> None:
    searcher = _searcher(_two_floats(), mode=mode, num_min_data_points=num_min)
    points = _observe_random(searcher, 50)
    sign = 1 if mode == "min" else -1
    ranked = sorted(points, key=lambda p: sign * p[1])
    model = searcher.fit_model()
    assert model is not None
    good, bad = model
    assert len(good.data) == n_good == max(num_min or 2, 15 * 50 // 100)
    assert len(bad.data) == 50 - n_good
    expected = [[c["a"], c["b"]] for c, _ in ranked[:n_good]]
    np.testing.assert_allclose(good.data, expected)


def test_ties_keep_the_order_of_observation() -> None:
    searcher = _searcher(_two_floats())
    configs = [{"a": i / 40, "b": 0.5} for i in range(40)]
    for t, config in enumerate(configs):
        searcher.observe(t, config, 1, 0.0 if t in (3, 9, 20, 30, 31) else 1.0)
    model = searcher.fit_model()
    assert model is not None  # n_good = max(2, 6) = 6: the five zeros, then the first one
    np.testing.assert_allclose(model[0].data[:, 0], [3 / 40, 9 / 40, 20 / 40, 30 / 40,
                                                    31 / 40, 0.0])


@pytest.mark.parametrize("num_min", [None, 4])
def test_model_only_with_enough_data_for_both_densities(num_min: int | None) -> None:
    searcher = _searcher(_two_floats(), num_min_data_points=num_min)
    for n in range(1, 45):
        _observe_random(searcher, 1, seed=n, start=n)
        n_good = max(num_min or 2, 15 * n // 100)
        enough = n_good > 2 and n - n_good > 2
        assert (searcher.fit_model() is not None) == enough, n


def _capture(searcher: KDESearcher, monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """The candidates of each model-based suggestion, from now on."""
    captured: list[np.ndarray] = []
    draw = searcher._candidates

    def spy(good: ProductKernelDensity) -> np.ndarray:
        captured.append(draw(good))
        return captured[-1]

    monkeypatch.setattr(searcher, "_candidates", spy)
    return captured


def _forbid(searcher: KDESearcher, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> Any:
        raise AssertionError(f"{method} was called")

    monkeypatch.setattr(searcher, method, fail)


def test_random_while_too_little_data(monkeypatch: pytest.MonkeyPatch) -> None:
    searcher = _searcher(_two_floats(), random_fraction=0.0)
    _observe_random(searcher, 19)  # 20 are needed with 2 hyperparameters
    _forbid(searcher, "_candidates", monkeypatch)
    for t in range(5):
        config = searcher.suggest(100 + t)
        assert config is not None
        sp.validate_config(searcher.config_space, config)


@pytest.mark.parametrize(("fraction", "forbidden"), [(1.0, "_candidates"),
                                                     (0.0, "_random_config")])
def test_random_fraction(fraction: float, forbidden: str, monkeypatch: pytest.MonkeyPatch) -> None:
    searcher = _searcher(MIXED, random_fraction=fraction)
    _observe_random(searcher, 60)
    assert searcher.fit_model() is not None
    _forbid(searcher, forbidden, monkeypatch)
    for t in range(20):
        assert searcher.suggest(100 + t) is not None


def test_finite_space_no_duplicates_then_none(monkeypatch: pytest.MonkeyPatch) -> None:
    space = {"n": sp.randint(1, 6), "opt": sp.choice(["a", "b", "c", "d", "e"])}
    searcher = _searcher(space, random_fraction=0.0)
    captured = _capture(searcher, monkeypatch)
    configs = []
    for t in range(31):
        config = searcher.suggest(t)
        if config is None:
            break
        configs.append(config)
        searcher.observe(t, config, 1, config["n"] + 3 * (config["opt"] != "b"))
    assert len({sp.config_key(space, c) for c in configs}) == len(configs) == 30
    # the model is fitted from 20 points on: 10 suggestions, then a vain search before None
    assert len(captured) == 11
    assert searcher.suggest(31) is None


def test_allow_duplicates_repeats_configs() -> None:
    space = {"n": sp.randint(1, 4), "opt": sp.choice(["a", "b"])}
    searcher = _searcher(space, allow_duplicates=True)
    configs = []
    for t in range(40):
        config = searcher.suggest(t)
        assert config is not None
        configs.append(config)
        searcher.observe(t, config, 1, float(config["n"]))
    assert len({sp.config_key(space, c) for c in configs}) < len(configs)


def _fitted_pair(seed: int, points: list[Any] | None = None) -> KDESearcher:
    return KDESearcher(MIXED, metric="m", mode="min", rng=np.random.default_rng(seed),
                       points_to_evaluate=points or [], options=KDEOptions(random_fraction=0.0))


def test_the_candidate_of_lowest_score_that_is_new_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _fitted_pair(3)
    _observe_random(first, 60)
    captured = _capture(first, monkeypatch)
    config = first.suggest(0)
    model = first.fit_model()
    assert model is not None and captured
    good, bad = model
    x = captured[0]
    scores = np.maximum(1e-32, bad.pdf(x)) / np.maximum(good.pdf(x), 1e-32)
    order = np.argsort(scores, kind="stable")
    assert config == first._decode(x[order[0]])
    # The same state, the best candidate suggested before: the second best comes instead.
    second = _fitted_pair(3, points=[config])
    assert second.suggest(0) == config  # the initial point, drawing nothing
    _observe_random(second, 60)
    assert second.suggest(1) == first._decode(x[order[1]]) != config


def test_equal_scores_the_first_candidate_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    searcher = _fitted_pair(4)
    _observe_random(searcher, 60)
    monkeypatch.setattr(ProductKernelDensity, "pdf", lambda self, x: np.ones(len(x)))
    captured = _capture(searcher, monkeypatch)
    assert searcher.suggest(0) == searcher._decode(captured[0][0])


def _drive(searcher: KDESearcher, num: int, levels: tuple[int, ...] = (1,)) -> list[Any]:
    configs = []
    for t in range(num):
        config = searcher.suggest(t)
        assert config is not None
        configs.append(config)
        for level in levels[:1 + t % len(levels)]:
            searcher.observe(t, config, level, (config["x"] - 1) ** 2 / level
                             + (config["opt"] != "adam"))
    return configs


@pytest.mark.parametrize("cls", [KDESearcher, MultiFidelityKDESearcher])
def test_same_seed_same_suggestions(cls: type[KDESearcher]) -> None:
    levels = (1, 3, 9)
    first = _drive(_searcher(MIXED, 7, cls, random_fraction=0.2), 60, levels)
    assert first == _drive(_searcher(MIXED, 7, cls, random_fraction=0.2), 60, levels)
    assert first != _drive(_searcher(MIXED, 8, cls, random_fraction=0.2), 60, levels)


def _multi_fidelity(**options: Any) -> MultiFidelityKDESearcher:
    searcher = _searcher(_two_floats(), cls=MultiFidelityKDESearcher, **options)
    assert isinstance(searcher, MultiFidelityKDESearcher)
    searcher.configure_resources(rung_levels=[1, 3, 9], max_t=27)
    return searcher


def _rows(model: Any) -> list[tuple[float, ...]]:
    return sorted(map(tuple, np.vstack([model[0].data, model[1].data]).tolist()))


def test_multi_fidelity_fits_on_the_highest_level_with_enough_data() -> None:
    searcher = _multi_fidelity()
    _observe_random(searcher, 40, seed=1, resource=1)
    at_3 = _observe_random(searcher, 25, seed=2, resource=3)
    at_9 = _observe_random(searcher, 10, seed=3, resource=9)  # n_good = max(2, 1): too few
    model = searcher.fit_model()
    assert model is not None
    assert _rows(model) == sorted((c["a"], c["b"]) for c, _ in at_3)
    at_9 += _observe_random(searcher, 10, seed=4, resource=9, start=10)  # 20 at level 9
    _observe_random(searcher, 10, seed=3, resource=9)  # the same reports again: no new points
    model = searcher.fit_model()
    assert model is not None
    assert _rows(model) == sorted((c["a"], c["b"]) for c, _ in at_9)


def test_multi_fidelity_counts_a_repeated_report_once_with_its_latest_value() -> None:
    searcher = _multi_fidelity()
    points = _observe_random(searcher, 20, resource=3)
    config, _ = points[4]
    searcher.observe(4, config, 3, -1.0)  # trial 4 again: now the best
    model = searcher.fit_model()
    assert model is not None and len(model[0].data) + len(model[1].data) == 20
    np.testing.assert_allclose(model[0].data[0], [config["a"], config["b"]])


def test_multi_fidelity_latest_non_rung_value_replaces_the_previous_one() -> None:
    searcher = _multi_fidelity()
    searcher.configure_resources(rung_levels=[1, 3, 9], max_t=27,
                                 searcher_data="rungs_and_last")
    config = {"a": 0.2, "b": 0.3}
    searcher.observe(0, config, 2, 0.5, is_rung=False)
    searcher.observe(0, config, 4, 0.4, is_rung=False)
    assert [p[0] for p in searcher._points.values()] == [4]
    searcher.observe(0, config, 9, 0.3)
    assert [p[0] for p in searcher._points.values()] == [9]


@pytest.mark.parametrize("name", ["kde", "kde_multifidelity"])
def test_restrict_configurations_is_refused_with_the_alternative(name: str) -> None:
    with pytest.raises(ValueError, match=r"cannot be restricted.*surrogate"):
        make_searcher(name, MIXED, metric="m", mode="min", rng=np.random.default_rng(0),
                      search_options={"restrict_configurations": [sp.midpoint_config(MIXED)]})


@pytest.mark.parametrize(("option", "value"), [
    ("top_n_percent", 0), ("top_n_percent", 100), ("min_bandwidth", 0.0),
    ("num_candidates", 0), ("bandwidth_factor", -1.0), ("random_fraction", 1.5),
    ("allow_duplicates", 1), ("features", "onehot"), ("num_min_data_points", 0),
])
def test_bad_options_are_named(option: str, value: Any) -> None:
    with pytest.raises(ValueError, match=option):
        KDEOptions(**{option: value})


def test_option_defaults_and_space_checks() -> None:
    assert MultiFidelityKDEOptions().min_bandwidth == 0.1 and KDEOptions().min_bandwidth == 1e-3
    with pytest.raises(ValueError, match=r"num_min_data_points must be >= .* \(4\)"):
        _searcher(MIXED, num_min_data_points=3)


def test_variable_types() -> None:
    space = {"lr": sp.loguniform(1e-4, 1.0), "units": sp.lograndint(16, 512),
             "opt": sp.choice(["a", "b"]), "bs": sp.logfinrange(8, 128, 5, cast_int=True),
             "f": sp.finrange(0.0, 1.0, 5), "o": sp.ordinal([1, 2, 4])}
    assert _searcher(space)._var_types == "couoco"
    assert _searcher(space, features="syne_tune")._var_types == "couocu"


def test_encoded_random_levels_are_uniform_over_the_integers() -> None:
    column = _encoded_column(sp.lograndint(1, 1000))
    values = [column.decode(f) for f in column.levels(np.random.default_rng(0).random(4000))]
    assert 450 < np.mean(values) < 550  # log-uniform draws would average about 145


def test_syne_tune_feature_map_by_hand() -> None:
    """Values from Syne Tune 0.13.0's _to_feature / _from_feature (and by hand)."""
    small = _syne_tune_column(sp.randint(0, 5))  # a = 1/12, b = 5
    features = small.encode([0, 2, 5]).tolist()
    assert features == pytest.approx([-1 / 59, 23 / 59, 1.0], rel=1e-15)
    assert features == [-0.016949152542372878, 0.3898305084745763, 1.0]
    assert [small.decode(f) for f in features] == [1, 3, 5]  # ceil of round-off, as in ST
    shifted = _syne_tune_column(sp.randint(5, 10))  # a = 1/12, b = 10
    assert shifted.encode([5]).tolist() == [0.49579831932773116] == pytest.approx([59 / 119])
    assert shifted.decode(0.49579831932773116) == 5
    # random levels (s - 5) / 5 for s = 5..9: Syne Tune decodes them as 1, 3, 5, 7, 9
    assert [shifted.decode(f) for f in (0.0, 0.2, 0.4, 0.6, 0.8)] == [5, 5, 5, 7, 9]
    assert sorted(set(shifted.levels(np.linspace(0, 0.999, 50)).tolist())) == [0, .2, .4, .6, .8]
    categories = _syne_tune_column(sp.choice(list(range(22))))
    assert categories.encode([15]).tolist() == [15 / 22]
    assert categories.decode(15 / 22) == 14  # int(15 / 22 * 22) = 14, as in Syne Tune
    log = _syne_tune_column(sp.loguniform(1e-3, 1.0))  # linear, though log-scaled
    assert log.encode([0.01]).tolist() == [(0.01 - 1e-3) / (1.0 - 1e-3)]
    assert log.decode((0.01 - 1e-3) / (1.0 - 1e-3)) == 0.010000000000000002
    grid = _syne_tune_column(sp.logfinrange(8, 128, 5, cast_int=True))  # 8, 16, 32, 64, 128
    a = 1 / (2 * (128 - 8 + 1))
    assert grid.encode([32]).tolist() == [(32 - a) / (128 - a)]
    assert grid.decode((32 - a) / (128 - a)) == 32 and grid.decode(0.3) == 32
    assert _syne_tune_column(sp.ordinal([1, 2, 4])).encode([4]).tolist() == [2 / 3]


def _sphere(config: dict[str, Any]) -> float:
    return float((config["x"] - 13) ** 2 + (config["y"] + 21) ** 2)


def _best_of(searcher: Any, num: int = 60) -> float:
    best = math.inf
    for t in range(num):
        config = searcher.suggest(t)
        value = _sphere(config)
        best = min(best, value)
        searcher.observe(t, config, 1, value)
    return best


def test_beats_random_search_on_a_smooth_objective() -> None:
    space = {"x": sp.uniform(-50.0, 50.0), "y": sp.uniform(-50.0, 50.0)}
    # With the single-fidelity floor min_bandwidth=1e-3 the good density collapses onto the
    # first good points and 60 evaluations do not beat random search reliably (Syne Tune's
    # KDE alike); its multi-fidelity floor 0.1 is used.
    kde = [_best_of(_searcher(space, seed, min_bandwidth=0.1)) for seed in range(8)]
    rs = [_best_of(RandomSearcher(space, metric="m", mode="min", rng=np.random.default_rng(seed),
                                  points_to_evaluate=[])) for seed in range(8)]
    assert np.mean(kde) < 0.3 * np.mean(rs), (kde, rs)
    assert sum(k < r for k, r in zip(kde, rs, strict=True)) >= 6, (kde, rs)
