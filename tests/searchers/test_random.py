from __future__ import annotations

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.searchers import RandomSearcher, RandomSearchOptions
from hpo_core.testing import SyntheticBlackbox

SPACE = SyntheticBlackbox().config_space


def test_restricted_to_given_configs_each_once_then_exhausted() -> None:
    rng = np.random.default_rng(0)
    table = [sp.sample_config(SPACE, rng) for _ in range(25)]
    searcher = RandomSearcher(SPACE, metric="error", mode="min", rng=np.random.default_rng(1),
                              options=RandomSearchOptions(restrict_configurations=table))
    drawn = [searcher.suggest(i) for i in range(25)]
    keys = [sp.config_key(SPACE, c) for c in drawn if c is not None]
    assert sorted(keys) == sorted(sp.config_key(SPACE, c) for c in table)
    assert searcher.suggest(25) is None
    # the midpoint default is not a table config, so it was dropped
    assert sp.config_key(SPACE, sp.midpoint_config(SPACE)) not in keys


def test_restricted_keeps_initial_points_in_the_table() -> None:
    rng = np.random.default_rng(0)
    table = [sp.sample_config(SPACE, rng) for _ in range(5)]
    searcher = RandomSearcher(SPACE, metric="error", mode="min", rng=np.random.default_rng(1),
                              points_to_evaluate=[table[3]],
                              options=RandomSearchOptions(restrict_configurations=table))
    assert searcher.suggest(0) == table[3]


def test_restrict_through_search_options() -> None:
    rng = np.random.default_rng(0)
    table = [sp.sample_config(SPACE, rng) for _ in range(10)]
    scheduler = HyperbandScheduler(SPACE, metric="error", max_resource_attr="epochs",
                                   search_options={"restrict_configurations": table})
    keys = {sp.config_key(SPACE, c) for c in table}
    for trial_id in range(10):
        suggestion = scheduler.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        assert sp.config_key(SPACE, suggestion.config) in keys
    assert scheduler.suggest(10) is None


def test_finite_space_is_exhausted() -> None:
    space = {"a": sp.choice(["x", "y"]), "b": sp.randint(1, 3)}
    searcher = RandomSearcher(space, metric="m", mode="min", rng=np.random.default_rng(0))
    drawn = [searcher.suggest(i) for i in range(6)]
    assert all(c is not None for c in drawn)
    assert len({sp.config_key(space, c) for c in drawn if c}) == 6
    assert searcher.suggest(6) is None


def test_empty_restriction_is_an_error() -> None:
    with pytest.raises(ValueError, match="restrict_configurations"):
        RandomSearcher(SPACE, metric="error", mode="min", rng=np.random.default_rng(0),
                       options=RandomSearchOptions(restrict_configurations=[]))


def test_draws_the_stream_of_sample_config() -> None:
    # uniforms are taken from the generator a block at a time: the same configs as one
    # sample_config call per trial
    from hpo_core.searchers.random import DRAW_BLOCK
    from hpo_core.testing import synthetic_config_space

    space = synthetic_config_space(27)
    searcher = RandomSearcher(space, metric="error", mode="min", rng=np.random.default_rng(3),
                              points_to_evaluate=[])
    rng = np.random.default_rng(3)
    expected = [sp.sample_config(space, rng) for _ in range(3 * DRAW_BLOCK + 5)]
    assert [searcher.suggest(i) for i in range(len(expected))] == expected
