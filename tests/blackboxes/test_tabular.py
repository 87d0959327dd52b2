"""Tabular blackbox: HDF5 round trip, indexed lookups, seeds, missing configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.blackboxes.tabular import ConfigNotInTableError, TabularBlackbox


def small_table() -> TabularBlackbox:
    space = {
        "lr": sp.loguniform(1e-4, 1e-1),
        "units": sp.logfinrange(16, 128, 4, cast_int=True),
        "act": sp.choice(["relu", "tanh"]),
        "epochs": 3,
    }
    rng = np.random.default_rng(0)
    configs = [sp.sample_config(space, rng) for _ in range(20)]
    objectives = rng.random((20, 2, 3, 2))
    objectives[:, :, :, 1] = np.cumsum(objectives[:, :, :, 1], axis=2)  # elapsed time
    seed_counts = np.array([2] * 10 + [1] * 10)
    objectives[10:, 1] = np.nan
    return TabularBlackbox(
        name="small",
        config_space=space,
        hyperparameters={k: np.array([c[k] for c in configs]) for k in ("lr", "units", "act")},
        objectives=objectives,
        objective_names=["loss", "time"],
        fidelity_name="epoch",
        fidelity_values=np.arange(1, 4),
        elapsed_time_attr="time",
        metric="loss",
        mode="min",
        provenance={"source": "made in the test", "licence": "CC0", "input_sha256": {}},
        seed_counts=seed_counts,
    )


def test_round_trip_through_hdf5(tmp_path: Path) -> None:
    table = small_table()
    table.save(tmp_path / "small.h5")
    loaded = TabularBlackbox.load(tmp_path / "small.h5")
    assert loaded.config_space == table.config_space
    assert loaded.provenance == table.provenance
    assert loaded.objective_names == ["loss", "time"]
    np.testing.assert_array_equal(loaded.objectives, table.objectives)
    assert loaded.configurations() == table.configurations()
    for row in (0, 7, 19):
        config = table.config(row)
        np.testing.assert_array_equal(loaded.curve(config, 0).objectives,
                                      table.objectives[row, 0])
    assert [p.name for p in tmp_path.iterdir()] == ["small.h5"]  # no temporary file left


def test_seeds_wrap_to_the_seeds_present() -> None:
    table = small_table()
    config = table.config(15)  # one seed only
    np.testing.assert_array_equal(table.curve(config, 1).objectives, table.objectives[15, 0])
    config = table.config(3)
    np.testing.assert_array_equal(table.curve(config, 1).objectives, table.objectives[3, 1])


def test_config_outside_the_table() -> None:
    table = small_table()
    outside = {**table.config(0), "lr": 0.0123456}
    with pytest.raises(ConfigNotInTableError, match="restrict_configurations"):
        table.curve(outside)
    table.surrogate = lambda config, seed: table.objectives[4, seed]
    np.testing.assert_array_equal(table.curve(outside).objectives, table.objectives[4, 0])


def test_shape_mismatch_is_named() -> None:
    table = small_table()
    with pytest.raises(ValueError, match="objectives must have shape"):
        TabularBlackbox(
            name="bad", config_space=table.config_space, hyperparameters=table.hyperparameters,
            objectives=table.objectives[:, :, :2], objective_names=["loss", "time"],
            fidelity_name="epoch", fidelity_values=np.arange(1, 4), elapsed_time_attr="time",
            metric="loss", mode="min", provenance={},
        )
