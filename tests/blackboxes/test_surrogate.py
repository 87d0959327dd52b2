from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hpo_core import space as sp
from hpo_core.blackboxes.surrogate import NearestNeighbourSurrogate
from hpo_core.blackboxes.tabular import TabularBlackbox
from hpo_core.space.finite import Categorical, Ordinal
from tests.blackboxes.test_tabular import small_table


def brute_force_nearest(table, config, k):  # type: ignore[no-untyped-def]
    encoder = sp.SpaceEncoder(table.config_space)
    x = encoder.encode(config)
    table_x = encoder.encode_many(table.configurations())
    return np.argsort(((table_x - x) ** 2).sum(axis=1), kind="stable")[:k]


@pytest.mark.parametrize("k", [1, 3])
def test_nearest_neighbours_match_brute_force(k: int) -> None:
    table = small_table()
    surrogate = NearestNeighbourSurrogate(table, n_neighbors=k, features="encoded")
    table.surrogate = surrogate
    rng = np.random.default_rng(1)
    for _ in range(30):
        config = sp.sample_config(table.config_space, rng)
        rows = brute_force_nearest(table, config, k)
        assert set(surrogate.neighbours(config)) == set(rows)
        expected = np.mean([table.objectives[r, 0] for r in rows], axis=0)
        np.testing.assert_allclose(table.curve(config, 0).objectives, expected)


def syne_tune_recipe(table: TabularBlackbox) -> Pipeline:
    """Syne Tune 0.13's surrogate pipeline for a tabulated blackbox, built from scikit-learn:
    one-hot categoricals, standardised raw numericals, every column scaled, then 1-NN."""
    names = list(table.hyperparameters)
    categorical = [n for n in names if isinstance(table.config_space[n], Categorical | Ordinal)]
    numeric = [n for n in names if n not in categorical]
    union = []
    if categorical:
        union.append(("categorical", ColumnTransformer(
            [("c", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), categorical)])))
    if numeric:
        union.append(("numeric", ColumnTransformer([("n", StandardScaler(), numeric)])))
    pipeline = Pipeline([("features", FeatureUnion(union)),
                         ("scale", StandardScaler(with_mean=False)),
                         ("model", KNeighborsRegressor(n_neighbors=1))])
    frame = pd.DataFrame({n: table.hyperparameters[n] for n in names})
    return pipeline.fit(frame, np.arange(len(table)))


def recipe_rows(table: TabularBlackbox, configs: list[dict[str, Any]]) -> list[int]:
    names = list(table.hyperparameters)
    frame = pd.DataFrame([{n: c[n] for n in names} for c in configs])
    return [int(r) for r in syne_tune_recipe(table).predict(frame)]


def test_standardized_features_pick_the_rows_of_syne_tunes_recipe() -> None:
    table = small_table()
    surrogate = NearestNeighbourSurrogate(table)
    rng = np.random.default_rng(2)
    configs = [sp.sample_config(table.config_space, rng) for _ in range(300)]
    assert [int(surrogate.neighbours(c)[0]) for c in configs] == recipe_rows(table, configs)


def test_the_two_feature_choices_disagree_on_log_domains() -> None:
    # A learning rate is compared on its raw value by Syne Tune's recipe, on its log by the
    # encoding: between rows at 1e-4 and 5e-2, 1e-2 is nearer the first on the raw scale and
    # the second on the log scale.
    table = small_table()
    table.hyperparameters["lr"][:2] = [1e-4, 5e-2]
    table.hyperparameters["units"][:2] = 64
    table.hyperparameters["act"][:2] = "relu"
    keep = np.array([0, 1])
    two = TabularBlackbox(
        name="two", config_space=table.config_space,
        hyperparameters={k: v[keep] for k, v in table.hyperparameters.items()},
        objectives=table.objectives[keep], objective_names=table.objective_names,
        fidelity_name="epoch", fidelity_values=table.fidelity_values, elapsed_time_attr="time",
        metric="loss", mode="min", provenance=table.provenance,
    )
    query = {"lr": 1e-2, "units": 64, "act": "relu", "epochs": 3}
    assert NearestNeighbourSurrogate(two).neighbours(query)[0] == 0
    assert NearestNeighbourSurrogate(two, features="encoded").neighbours(query)[0] == 1


def test_a_category_the_table_lacks_is_all_zeros() -> None:
    table = small_table()
    config = {**table.config(0), "act": "sigmoid"}
    row = NearestNeighbourSurrogate(table).neighbours(config)[0]
    assert row == recipe_rows(table, [config])[0]


@pytest.mark.parametrize("features", ["standardized", "encoded"])
def test_tabulated_configs_are_their_own_nearest_neighbour(features: str) -> None:
    table = small_table()
    surrogate = NearestNeighbourSurrogate(table, features=features)
    for row in range(len(table)):
        assert surrogate.neighbours(table.config(row))[0] == row


def test_bad_n_neighbors_and_features() -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        NearestNeighbourSurrogate(small_table(), n_neighbors=0)
    with pytest.raises(ValueError, match=r"features must be one of \['standardized', 'encoded'\]"):
        NearestNeighbourSurrogate(small_table(), features="raw")
