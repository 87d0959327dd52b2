from __future__ import annotations

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.blackboxes.surrogate import NearestNeighbourSurrogate
from tests.blackboxes.test_tabular import small_table


def brute_force_nearest(table, config, k):  # type: ignore[no-untyped-def]
    encoder = sp.SpaceEncoder(table.config_space)
    x = encoder.encode(config)
    table_x = encoder.encode_many(table.configurations())
    return np.argsort(((table_x - x) ** 2).sum(axis=1), kind="stable")[:k]


@pytest.mark.parametrize("k", [1, 3])
def test_nearest_neighbours_match_brute_force(k: int) -> None:
    table = small_table()
    surrogate = NearestNeighbourSurrogate(table, n_neighbors=k)
    table.surrogate = surrogate
    rng = np.random.default_rng(1)
    for _ in range(30):
        config = sp.sample_config(table.config_space, rng)
        rows = brute_force_nearest(table, config, k)
        assert set(surrogate.neighbours(config)) == set(rows)
        expected = np.mean([table.objectives[r, 0] for r in rows], axis=0)
        np.testing.assert_allclose(table.curve(config, 0).objectives, expected)


def test_tabulated_configs_are_their_own_nearest_neighbour() -> None:
    table = small_table()
    surrogate = NearestNeighbourSurrogate(table)
    for row in range(len(table)):
        assert surrogate.neighbours(table.config(row))[0] == row


def test_bad_n_neighbors() -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        NearestNeighbourSurrogate(small_table(), n_neighbors=0)
