from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.searchers import SEARCHERS
from hpo_core.searchers.gp.searcher import GPOptions, GPSearcher, parse_map_reward
from hpo_core.testing import SyntheticBlackbox
from hpo_core.tuner import StoppingCriterion, Tuner

SPACE = SyntheticBlackbox().config_space
SQUARE = {"x": sp.uniform(0.0, 1.0), "y": sp.uniform(0.0, 1.0)}
FAST = {"num_init_candidates": 50, "opt_maxiter": 20}


def quadratic(config: dict[str, Any]) -> float:
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.7) ** 2


def searcher(space: dict[str, Any] = SQUARE, seed: int = 0, mode: str = "min",
             **options: Any) -> GPSearcher:
    return GPSearcher(space, metric="f", mode=mode, rng=np.random.default_rng(seed),
                      options=GPOptions(**{**FAST, **options}))


def optimise(s: GPSearcher, n: int, sign: float = 1.0) -> list[dict[str, Any]]:
    configs = []
    for trial_id in range(n):
        config = s.suggest(trial_id)
        assert config is not None
        s.observe(trial_id, config, 1, sign * quadratic(config))
        configs.append(config)
    return configs


def test_registered_as_bayesopt() -> None:
    assert SEARCHERS["bayesopt"] is GPSearcher


def test_registry_import_does_not_load_scipy() -> None:
    code = "import sys, hpo_core.searchers; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("spec", "offset"),
    [("minus_x", 0.0), ("1_minus_x", 1.0), ("2.5_minus_x", 2.5), ("-3_minus_x", -3.0)],
)
def test_map_reward_parses(spec: str, offset: float) -> None:
    assert parse_map_reward(spec) == offset


@pytest.mark.parametrize("spec", ["x", "minus_y", "a_minus_x", "_minus_x", "inf_minus_x", "", 1])
def test_map_reward_errors_name_the_option(spec: Any) -> None:
    with pytest.raises(ValueError, match="map_reward must be 'minus_x' or '<a>_minus_x'"):
        parse_map_reward(spec)


@pytest.mark.parametrize(
    ("options", "name"),
    [({"opt_nstarts": 0}, "opt_nstarts"), ({"num_init_random": -1}, "num_init_random"),
     ({"map_reward": "one_minus_x"}, "map_reward"), ({"opt_maxiter": 0}, "opt_maxiter"),
     ({"opt_skip_period": 0}, "opt_skip_period"), ({"num_init_candidates": 0},
                                                   "num_init_candidates"),
     ({"max_size_data_for_model": 1}, "max_size_data_for_model"),
     ({"restrict_configurations": []}, "restrict_configurations"),
     ({"num_fantasy_samples": 0}, "num_fantasy_samples"),
     ({"initial_scoring": "ucb"}, "initial_scoring"),
     ({"max_size_top_fraction": 1.5}, "max_size_top_fraction"),
     ({"num_samples": 3}, r"search_options \['num_samples'\]")],
)
def test_bad_options_are_named(options: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        FIFOScheduler(SPACE, metric="error", searcher="bayesopt", search_options=options)


def test_initial_points_then_random_then_model() -> None:
    first, second = {"x": 0.1, "y": 0.1}, {"x": 0.9}
    s = GPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(3),
                   points_to_evaluate=[first, second],
                   options=GPOptions(num_init_random=4))
    configs = optimise(s, 4)
    assert configs[0] == first and configs[1] == {"x": 0.9, "y": 0.5}
    reference = np.random.default_rng(3)
    assert configs[2:] == [sp.sample_config(SQUARE, reference) for _ in range(2)]
    assert s.model.num_fits == 0
    optimise(s, 1)
    assert s.model.num_fits == 1


def test_random_until_something_is_observed() -> None:
    s = searcher(num_init_random=0)
    for trial_id in range(3):
        assert s.suggest(trial_id) is not None  # the midpoint, then random: no data yet
    assert s.model.num_fits == 0
    s.observe(1, {"x": 0.2, "y": 0.2}, 1, float("nan"))  # non-finite values are ignored
    s.suggest(3)
    assert s.model.num_fits == 0


def test_finds_the_optimum_of_a_quadratic() -> None:
    configs = optimise(searcher(), 25)
    assert min(quadratic(c) for c in configs) < 1e-3


def test_mode_max_minimises_minus_the_metric() -> None:
    low = optimise(searcher(seed=5), 10)
    high = optimise(searcher(seed=5, mode="max"), 10, sign=-1.0)
    assert low == high
    # the offset vanishes in the standardisation, up to rounding
    offset = optimise(searcher(seed=5, mode="max", map_reward="1_minus_x"), 4, sign=-1.0)
    assert offset[:3] == low[:3]
    for key in ("x", "y"):
        assert offset[3][key] == pytest.approx(low[3][key], abs=1e-6)


def test_same_seed_same_suggestions() -> None:
    assert optimise(searcher(seed=1), 8) == optimise(searcher(seed=1), 8)
    assert optimise(searcher(seed=1), 8) != optimise(searcher(seed=2), 8)


@pytest.mark.parametrize("failed", [False, True])
def test_pending_configs_are_fantasised_until_observed_or_failed(failed: bool) -> None:
    # every config of the table has a twin 1e-4 away, which has nearly the same EI
    grid = [{"x": x, "y": y} for x in (0.1, 0.3, 0.5, 0.7, 0.9) for y in (0.1, 0.3, 0.5, 0.7, 0.9)]
    table = grid + [{"x": c["x"] + 1e-4, "y": c["y"] + 1e-4} for c in grid]
    initial = [{"x": 0.1, "y": 0.1}, {"x": 0.9, "y": 0.9}, {"x": 0.1, "y": 0.9},
               {"x": 0.9, "y": 0.1}, {"x": 0.5, "y": 0.5}, {"x": 0.3, "y": 0.3}]
    s = GPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(0),
                   points_to_evaluate=initial,
                   options=GPOptions(num_init_random=0, restrict_configurations=table))
    assert optimise(s, 6) == initial
    first = s.suggest(6)
    if failed:
        s.on_trial_error(6)
    second = s.suggest(7)
    assert first is not None and second is not None
    distance = np.hypot(first["x"] - second["x"], first["y"] - second["y"])
    if failed:  # nothing pending: the twin of the first choice is next
        assert distance < 1e-3
    else:  # the first choice is pending: its fantasy removes the twin's EI
        assert distance > 0.1


def test_parallel_suggestions_spread_out() -> None:
    s = searcher(seed=0)
    optimise(s, 6)
    batch = [s.suggest(trial_id) for trial_id in range(6, 10)]
    points = np.array([[c["x"], c["y"]] for c in batch if c is not None])
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(points) for b in points[i + 1:]]
    assert len(points) == 4 and min(gaps) > 0.01


def test_keeps_the_value_at_the_highest_resource() -> None:
    s = searcher(num_init_random=0)
    config = s.suggest(0)
    assert config is not None
    s.observe(0, config, 1, 5.0)
    s.observe(0, config, 3, 1.0)
    s.observe(0, config, 2, 100.0)  # a lower resource arriving late does not replace it
    s.observe(0, config, 3, 2.0, is_rung=False)  # the latest value at the same resource does
    other = s.suggest(1)
    assert other is not None
    s.observe(1, other, 1, 4.0)
    s.suggest(2)
    targets = sorted(s.model.y_mean + s.model.y_scale * s.model.y_train)
    np.testing.assert_allclose(targets, [2.0, 4.0])


def test_finite_space_each_config_once_then_none() -> None:
    space = {"a": sp.choice(["p", "q", "r"]), "b": sp.randint(1, 3), "c": 7}
    s = searcher(space=space)
    seen = set()
    for trial_id in range(9):
        config = s.suggest(trial_id)
        assert config is not None
        seen.add(sp.config_key(space, config))
        s.observe(trial_id, config, 1, float(config["b"]) + (config["a"] == "q"))
    assert len(seen) == 9
    assert s.suggest(9) is None


def test_restricted_to_the_table() -> None:
    rng = np.random.default_rng(0)
    table = [sp.sample_config(SQUARE, rng) for _ in range(12)]
    s = GPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(1),
                   points_to_evaluate=[table[5], {"x": 0.5}],
                   options=GPOptions(restrict_configurations=table))
    configs = optimise(s, 12)
    assert configs[0] == table[5]  # the midpoint is not in the table: dropped
    assert sorted(map(str, configs)) == sorted(map(str, table))
    assert s.model.num_fits > 0
    assert s.suggest(12) is None


def test_restricted_table_with_repeated_configs() -> None:
    table = [{"x": 0.2, "y": 0.2}, {"x": 0.4, "y": 0.9}, {"x": 0.2, "y": 0.2}]
    s = GPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(0),
                   points_to_evaluate=[], options=GPOptions(restrict_configurations=table))
    configs = optimise(s, 2)
    assert sorted(map(str, configs)) == sorted(map(str, table[:2]))
    assert s.suggest(2) is None


def test_bad_mode() -> None:
    with pytest.raises(ValueError, match=r"mode must be one of \['min', 'max'\]"):
        GPSearcher(SQUARE, metric="f", mode="maximize", rng=np.random.default_rng(0))


def test_restricted_bo_picks_the_best_ei_row() -> None:
    rng = np.random.default_rng(0)
    table = [sp.sample_config(SQUARE, rng) for _ in range(200)]
    s = GPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(1),
                   points_to_evaluate=[], options=GPOptions(restrict_configurations=table))
    configs = optimise(s, 15)
    best_in_table = min(quadratic(c) for c in table)
    assert min(quadratic(c) for c in configs) < best_in_table + 0.01


def run_tuner(method: str, seed: int) -> float:
    blackbox = SyntheticBlackbox(max_t=3)
    scheduler = FIFOScheduler(blackbox.config_space, metric="error", searcher=method,
                              search_options=FAST if method == "bayesopt" else None,
                              random_seed=seed)
    tuner = Tuner(backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
                  scheduler=scheduler, stop_criterion=StoppingCriterion(
                      max_num_trials_completed=20), n_workers=2)
    best = tuner.run().best_metric
    assert best is not None
    return best


def test_beats_random_search_on_the_synthetic_blackbox() -> None:
    seeds = range(3)
    bo = [run_tuner("bayesopt", seed) for seed in seeds]
    rs = [run_tuner("random", seed) for seed in seeds]
    assert np.mean(bo) < np.mean(rs)


def test_runs_under_hyperband() -> None:
    blackbox = SyntheticBlackbox(max_t=9)
    scheduler = HyperbandScheduler(blackbox.config_space, metric="error",
                                   max_resource_attr="epochs", searcher="bayesopt",
                                   search_options=FAST, random_seed=0)
    tuner = Tuner(backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
                  scheduler=scheduler, stop_criterion=StoppingCriterion(
                      max_num_trials_started=15), n_workers=2)
    tuner.run()
    assert scheduler.searcher.model.num_fits > 0  # type: ignore[attr-defined]
