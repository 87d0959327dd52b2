from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.searchers import SEARCHERS, RandomSearcher
from hpo_core.searchers.gp.acquisition import expected_improvement, incumbent
from hpo_core.searchers.gp.mobster import MultiFidelityGPOptions, MultiFidelityGPSearcher
from hpo_core.searchers.gp.searcher import GPSearcher
from hpo_core.testing import SyntheticBlackbox
from hpo_core.tuner import StoppingCriterion, Tuner

SPACE = SyntheticBlackbox().config_space
SQUARE = {"x": sp.uniform(0.0, 1.0), "y": sp.uniform(0.0, 1.0)}
FAST = {"num_init_candidates": 50, "opt_maxiter": 20, "num_init_random": 3}


def searcher(model: str = "gp_multitask", **options: Any) -> MultiFidelityGPSearcher:
    s = MultiFidelityGPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(0),
                                options=MultiFidelityGPOptions(model=model, **{**FAST, **options}))
    s.configure_resources(rung_levels=[1, 3, 9], max_t=27)
    return s


def value(config: Mapping[str, float], level: int) -> float:
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.7) ** 2 + 0.5 / level


def test_registered_and_chosen_by_multi_fidelity_schedulers() -> None:
    assert SEARCHERS["bayesopt_multifidelity"] is MultiFidelityGPSearcher
    hyperband = HyperbandScheduler(SPACE, metric="error", max_resource_attr="epochs",
                                   searcher="bayesopt")
    assert isinstance(hyperband.searcher, MultiFidelityGPSearcher)
    assert hyperband.searcher.levels == [1, 3, 9, 27]
    assert isinstance(FIFOScheduler(SPACE, metric="error", searcher="bayesopt").searcher,
                      GPSearcher)


def test_registry_import_does_not_load_scipy() -> None:
    code = "import sys, hpo_core.searchers.gp.mobster; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("options", "message"),
    [({"model": "gp_issm"}, "model must be one of"),
     ({"gp_resource_kernel": "rbf"}, "gp_resource_kernel must be one of"),
     ({"opt_nstarts": 0}, "opt_nstarts"), ({"num_init_random": -1}, "num_init_random"),
     ({"map_reward": "one_minus_x"}, "map_reward"),
     ({"resource_acq_bohb_threshold": 0}, "resource_acq_bohb_threshold"),
     ({"opt_skip_period": 0}, "opt_skip_period"),
     ({"max_size_data_for_model": 1}, "max_size_data_for_model"),
     ({"num_fantasy_samples": 0}, "num_fantasy_samples"),
     ({"initial_scoring": "ucb"}, "initial_scoring"),
     ({"max_size_top_fraction": -0.1}, "max_size_top_fraction"),
     ({"num_samples": 3}, r"search_options \['num_samples'\]")],
)
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HyperbandScheduler(SPACE, metric="error", max_resource_attr="epochs",
                           searcher="bayesopt", search_options=options)


def test_needs_a_multi_fidelity_scheduler() -> None:
    s = MultiFidelityGPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(0),
                                options=MultiFidelityGPOptions(num_init_random=1))
    s.observe(0, s.suggest(0) or {}, 1, 0.5)
    with pytest.raises(ValueError, match="needs a multi-fidelity scheduler"):
        s.suggest(1)


def feed(s: MultiFidelityGPSearcher, counts: dict[int, int]) -> None:
    """``counts[level]`` trials observed at levels up to ``level``."""
    trial_id = 0
    for top, count in counts.items():
        for _ in range(count):
            config = sp.sample_config(SQUARE, s.rng)
            s._x[trial_id] = s._encoder.encode(config)
            for level in (1, 3, 9, 27):
                if level <= top:
                    s.observe(trial_id, config, level, value(config, level))
            trial_id += 1


@pytest.mark.parametrize(
    ("threshold", "counts", "expected"),
    [(3, {1: 5, 3: 2}, 1), (3, {1: 5, 3: 3}, 3), (3, {3: 4, 27: 3}, 27), (2, {9: 2}, 9),
     (5, {1: 2, 3: 2}, 1)],
)
def test_acquisition_level_follows_the_threshold(threshold: int, counts: dict[int, int],
                                                 expected: int) -> None:
    s = searcher(resource_acq_bohb_threshold=threshold)
    feed(s, counts)
    assert s.resource_for_acquisition() == expected
    _, level, X_incumbent = s.acquisition_posterior()
    assert level == expected
    assert len(X_incumbent) == s.num_observations(expected)


@pytest.mark.parametrize("model", ["gp_multitask", "gp_independent"])
def test_fantasizing_lowers_ei_at_pending_points(model: str) -> None:
    s = searcher(model=model)
    feed(s, {1: 6, 3: 4})
    posterior, level, X_incumbent = s.acquisition_posterior()
    assert level == 3
    pending = {"x": 0.35, "y": 0.65}
    x = s._encoder.encode(pending)[None, :]
    best = incumbent(posterior, X_incumbent)
    mean, var = posterior.predict(x)
    before = expected_improvement(mean, var, best)[0]
    s._x[100] = x[0]
    s.register_pending(100, 3)
    posterior, _, X_incumbent = s.acquisition_posterior()
    mean_after, var_after = posterior.predict(x)
    after = expected_improvement(mean_after, var_after, incumbent(posterior, X_incumbent))[0]
    # one mean per fantasy sample, one variance, lower near the pending config
    assert mean_after.shape == (1, s.options.num_fantasy_samples) and var_after < 0.7 * var
    assert after < 0.8 * before
    s.observe(100, pending, 3, value(pending, 3))  # clears the pending entry
    assert not s._pending


@pytest.mark.parametrize("model", ["gp_multitask", "gp_independent"])
def test_suggestions_approach_the_optimum(model: str) -> None:
    s = searcher(model=model, opt_skip_init_length=10, opt_skip_period=5)
    best = []
    for trial_id in range(25):
        config = s.suggest(trial_id)
        assert config is not None
        for level in (1, 3, 9, 27):
            s.observe(trial_id, config, level, value(config, level))
        best.append(value(config, 27))
    assert min(best[10:]) < min(best[:3])
    assert min(best) - 0.5 / 27 < 5e-3
    assert s.model is not None and s.model.num_optimizations >= 1


def test_refits_at_max_t_only_with_opt_skip_num_max_resource() -> None:
    s = searcher(opt_skip_init_length=0, opt_skip_num_max_resource=True)
    feed(s, {1: 4})
    s.acquisition_posterior()
    assert s.model is not None and s.model.num_optimizations == 1
    feed(s, {3: 2})
    s.acquisition_posterior()
    assert (s.model.num_fits, s.model.num_optimizations) == (2, 1)
    feed(s, {27: 1})
    s.acquisition_posterior()
    assert (s.model.num_fits, s.model.num_optimizations) == (3, 2)


def test_rungs_and_last_keeps_one_latest_value_per_trial() -> None:
    s = MultiFidelityGPSearcher(SQUARE, metric="f", mode="min", rng=np.random.default_rng(0))
    s.configure_resources(rung_levels=[1, 3, 9], max_t=27, searcher_data="rungs_and_last")
    config = {"x": 0.5, "y": 0.5}
    s.observe(0, config, 1, 0.9)
    s.observe(0, config, 2, 0.8, is_rung=False)
    s.observe(0, config, 3, 0.7)
    s.observe(0, config, 4, 0.6, is_rung=False)
    s.observe(0, config, 5, 0.5, is_rung=False)
    valid = s._valid[:s._num_rows]
    assert sorted(s._level[:s._num_rows][valid].tolist()) == [1, 3, 5]


def test_max_size_data_for_model_keeps_the_largest_levels() -> None:
    s = searcher(max_size_data_for_model=10, max_size_top_fraction=0.5)
    feed(s, {1: 20, 3: 6, 27: 2})
    rows = s._training_rows()
    assert len(rows) == 10
    levels = s._level[rows]
    # the top half: both rows at 27, both at 9 (of the same two trials), the best at 3
    assert [np.count_nonzero(levels == level) for level in (27, 9)] == [2, 2]
    assert np.count_nonzero(levels == 3) >= 1


class PendingRecorder(RandomSearcher):
    """Random proposals; records the scheduler's pending notices."""

    wants_data = True

    def __init__(self, space: dict[str, Any]) -> None:
        super().__init__(space, metric="error", mode="min", rng=np.random.default_rng(0))
        self.pending: list[tuple[int, int]] = []
        self.configured: dict[str, Any] = {}

    def configure_resources(self, *, rung_levels: Any, max_t: int,
                            searcher_data: str = "rungs") -> None:
        self.configured = {"rung_levels": list(rung_levels), "max_t": max_t}

    def register_pending(self, trial_id: int, resource: int) -> None:
        self.pending.append((trial_id, resource))


@pytest.mark.parametrize("type", ["stopping", "promotion"])
def test_scheduler_tells_where_trials_head(type: str) -> None:
    blackbox = SyntheticBlackbox(max_t=27)
    recorder = PendingRecorder(blackbox.config_space)
    scheduler = HyperbandScheduler(blackbox.config_space, metric="error",
                                   max_resource_attr="epochs", searcher=recorder, type=type,
                                   brackets=2, random_seed=0)
    assert recorder.configured == {"rung_levels": [1, 3, 9], "max_t": 27}
    tuner = Tuner(backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
                  scheduler=scheduler, stop_criterion=StoppingCriterion(
                      max_num_trials_started=40), n_workers=2)
    tuner.run()
    first = {}
    for trial_id, resource in recorder.pending:
        first.setdefault(trial_id, resource)
    assert set(first) == set(tuner.trials)
    assert all(first[t] == (1, 3)[scheduler._bracket_of[t]] for t in first)
    # every later notice is the next level after a result the trial reported
    reached: dict[int, set[int]] = {}
    for trial_id, resource in zip(tuner.results.trial_id, tuner.results.resource, strict=True):
        reached.setdefault(trial_id, set()).add(resource)
    following = {1: 3, 3: 9, 9: 27}
    seen: set[int] = set()
    for trial_id, resource in recorder.pending:
        if trial_id in seen:
            previous = {level for level, nxt in following.items() if nxt == resource}
            assert previous & reached[trial_id]
        seen.add(trial_id)
    assert len(recorder.pending) > len(first)
