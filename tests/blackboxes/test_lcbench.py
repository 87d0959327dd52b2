"""LCBench converter: the real LCBenchLite files and the original JSON layout."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from rawdata import published_mirror, raw_file, raw_files

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.catalogue import load_catalogue
from hpo_core.blackboxes.converters import lcbench as lc
from hpo_core.blackboxes.safe_pickle import sha256_of
from hpo_core.blackboxes.tabular import TabularBlackbox

BLOOD = "blood-transfusion-service-center"
HYPERPARAMETERS = [
    "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
    "max_dropout",
]
#: objective -> column of results.parquet.gzip
FINAL_COLUMNS = {
    "val_accuracy": "final_val_accuracy",
    "val_balanced_accuracy": "final_val_balanced_accuracy",
    "val_cross_entropy": "final_val_cross_entropy",
    "test_accuracy": "final_test_accuracy",
    "test_balanced_accuracy": "final_test_balanced_accuracy",
    "test_cross_entropy": "final_test_cross_entropy",
    "train_accuracy": "final_train_accuracy",
    "train_balanced_accuracy": "final_train_balanced_accuracy",
    "train_loss": "final_train_cross_entropy",
}
#: objective -> column of metrics.parquet.gzip (= log key of the original JSON)
CURVE_COLUMNS = {
    "val_accuracy": "Train/val_accuracy",
    "val_balanced_accuracy": "Train/val_balanced_accuracy",
    "val_cross_entropy": "Train/val_cross_entropy",
    "test_accuracy": "Train/test_result",
    "test_balanced_accuracy": "Train/test_balanced_accuracy",
    "test_cross_entropy": "Train/test_cross_entropy",
    "train_accuracy": "Train/train_accuracy",
    "train_balanced_accuracy": "Train/train_balanced_accuracy",
    "train_loss": "Train/loss",
    "train_cross_entropy": "Train/train_cross_entropy",
    "time": "time",
}


def files_of(dataset: str) -> dict[str, Path]:
    return raw_files(lc.inputs(dataset))


def catalogue_sha256() -> dict[str, str]:
    return {path: entry.sha256 for path, entry in load_catalogue().entries.items()}


def source_configs(configs: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Trial -> hyperparameters of a config.parquet.gzip table, as plain Python values."""
    return cast(dict[int, dict[str, Any]], configs[HYPERPARAMETERS].to_dict("index"))


@pytest.fixture(scope="module")
def blood(tmp_path_factory: pytest.TempPathFactory) -> tuple[TabularBlackbox, Path]:
    path = tmp_path_factory.mktemp("lcbench") / f"{BLOOD}.h5"
    lc.convert(BLOOD, files_of(BLOOD)).save(path)
    return TabularBlackbox.load(path), path


def test_datasets_and_inputs_match_the_published_folders() -> None:
    folders = sorted(p.name for p in (published_mirror() / "lcbench").iterdir() if p.is_dir())
    assert lc.datasets() == folders
    assert len(folders) == 35
    assert lc.inputs(BLOOD) == [
        f"lcbench/{BLOOD}/config.parquet.gzip",
        f"lcbench/{BLOOD}/results.parquet.gzip",
        f"lcbench/{BLOOD}/metrics.parquet.gzip",
    ]
    assert lc.inputs("adult") == [
        "lcbench/adult/config.parquet.gzip", "lcbench/adult/results.parquet.gzip"
    ]
    for dataset in folders:
        assert all(path.is_file() for path in files_of(dataset).values())
    with pytest.raises(ValueError, match="unknown LCBench dataset 'mnist'"):
        lc.inputs("mnist")


def test_published_domains() -> None:
    space = lc.config_space()
    assert space == {
        "batch_size": sp.lograndint(16, 512),
        "learning_rate": sp.loguniform(1e-4, 1e-1),
        "momentum": sp.uniform(0.1, 0.99),
        "weight_decay": sp.uniform(1e-5, 1e-1),
        "num_layers": sp.randint(1, 5),
        "max_units": sp.lograndint(64, 1024),
        "max_dropout": sp.uniform(0.0, 1.0),
        "epochs": 50,
    }


@pytest.mark.parametrize("dataset", lc.datasets())
def test_every_dataset_converts_and_round_trips(
    dataset: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if dataset == BLOOD:  # converted, saved and loaded once for the module
        table: TabularBlackbox = request.getfixturevalue("blood")[0]
    else:
        lc.convert(dataset, files_of(dataset)).save(tmp_path / "bb.h5")
        table = TabularBlackbox.load(tmp_path / "bb.h5")
    configs = pd.read_parquet(raw_file(f"lcbench/{dataset}/config.parquet.gzip"))
    records = source_configs(configs)
    results = pd.read_parquet(raw_file(f"lcbench/{dataset}/results.parquet.gzip"))

    assert len(table) == 2000
    assert table.name == f"lcbench-{dataset}"
    assert (table.metric, table.mode, table.fidelity_name) == ("val_accuracy", "max", "epoch")
    assert table.config_space == lc.config_space()
    for name in HYPERPARAMETERS:
        np.testing.assert_array_equal(table.hyperparameters[name], configs[name].to_numpy())

    sums = catalogue_sha256()
    assert table.provenance["input_sha256"] == {p: sums[p] for p in lc.inputs(dataset)}
    # One configuration file for all datasets: validating it once (on blood) covers all.
    assert sums[f"lcbench/{dataset}/config.parquet.gzip"] == sums[
        f"lcbench/{BLOOD}/config.parquet.gzip"
    ]
    assert table.provenance["licence"] == "Apache-2.0"
    assert table.provenance["source"]["commit"].startswith("42ea3c2f")
    assert table.provenance["converter_version"] == lc.VERSION
    assert table.provenance["openml_task_id"] == results["OpenML_task_id"].iloc[0]

    assert table.provenance["curve_convention"] == lc.CURVE_CONVENTION
    last = table.objectives[:, 0, -1, :]
    if dataset == BLOOD:
        assert table.fidelity_values.tolist() == list(range(1, 51))
        assert table.objective_names == list(CURVE_COLUMNS)
        assert table.elapsed_time_attr == "time"
        # README: the final values equal the last published curve point (max abs difference
        # 4e-6), the one dropped after epoch 50.
        metrics = pd.read_parquet(raw_file(f"lcbench/{BLOOD}/metrics.parquet.gzip"))
        point_51 = metrics.xs(51, level=1).sort_index()
        for objective, column in FINAL_COLUMNS.items():
            np.testing.assert_allclose(point_51[CURVE_COLUMNS[objective]].to_numpy(),
                                       results[column].to_numpy(), rtol=0, atol=1e-5)
    else:
        assert table.fidelity_values.tolist() == [50]
        assert table.objective_names == list(FINAL_COLUMNS)
        assert table.elapsed_time_attr is None
        np.testing.assert_array_equal(last, results[list(FINAL_COLUMNS.values())].to_numpy())
        finals = results[list(FINAL_COLUMNS.values())]
        for trial in np.random.default_rng(0).choice(2000, size=10, replace=False).tolist():
            curve = table.curve(records[trial]).objectives
            np.testing.assert_array_equal(curve, finals.loc[[trial]].to_numpy())


def test_every_config_validates(blood: tuple[TabularBlackbox, Path]) -> None:
    table, _ = blood
    configs = table.configurations()
    assert len(configs) == len({sp.config_key(table.config_space, c) for c in configs}) == 2000
    for config in configs:
        sp.validate_config(table.config_space, config)
    assert table.provenance["observed_ranges"] == {
        "batch_size": [16, 511],
        "learning_rate": [pytest.approx(1.0010e-4, rel=1e-4), pytest.approx(0.09903, rel=1e-4)],
        "momentum": [pytest.approx(0.100004, rel=1e-5), pytest.approx(0.98226, rel=1e-5)],
        "weight_decay": [pytest.approx(4.9356e-5, rel=1e-4), pytest.approx(0.099997, rel=1e-5)],
        "num_layers": [1, 4],
        "max_units": [64, 1024],
        "max_dropout": [pytest.approx(5.3575e-4, rel=1e-4), pytest.approx(0.99995, rel=1e-5)],
    }


def test_blood_curves_round_trip_at_every_epoch(blood: tuple[TabularBlackbox, Path]) -> None:
    table, _ = blood
    records = source_configs(pd.read_parquet(raw_file(f"lcbench/{BLOOD}/config.parquet.gzip")))
    metrics = pd.read_parquet(raw_file(f"lcbench/{BLOOD}/metrics.parquet.gzip"))
    time = list(CURVE_COLUMNS).index("time")
    for trial in np.random.default_rng(1).choice(2000, size=30, replace=False).tolist():
        curve = table.curve({**records[trial], "epochs": 50}).objectives
        rows = metrics.loc[trial].sort_index()
        assert rows.index.tolist() == list(range(52))
        points = rows[list(CURVE_COLUMNS.values())].to_numpy()
        expected = points[1:51].copy()  # Syne Tune's recipe: points 1..50 are epochs 1..50
        expected[:, time] -= points[0, time]
        np.testing.assert_array_equal(curve, expected)


def test_blood_curve_facts_stated_in_the_notes(blood: tuple[TabularBlackbox, Path]) -> None:
    table, _ = blood
    elapsed = table.objectives[:, 0, :, table.objective_index("time")]
    assert (elapsed[:, 0] > 0).all()  # epoch 1 costs time: the untrained point is gone
    assert (np.diff(elapsed, axis=1) > 0).all()  # every epoch trains
    # final_train_cross_entropy matches Train/loss, not Train/train_cross_entropy
    results = pd.read_parquet(raw_file(f"lcbench/{BLOOD}/results.parquet.gzip"))
    cross_entropy = table.objectives[:, 0, -1, table.objective_index("train_cross_entropy")]
    assert np.abs(cross_entropy - results["final_train_cross_entropy"].to_numpy()).max() > 0.1
    notes = " ".join(table.provenance["notes"])
    assert "point 0 is an evaluation before the first update" in notes
    assert "both are dropped" in notes


def test_blood_loads_in_under_a_second(blood: tuple[TabularBlackbox, Path]) -> None:
    _, path = blood
    start = time.perf_counter()
    table = TabularBlackbox.load(path)
    table.curve(table.config(0))
    assert time.perf_counter() - start < 1.0


def test_simulator_needs_the_time_objective(blood: tuple[TabularBlackbox, Path]) -> None:
    table, _ = blood
    assert SimulatorBackend(blackbox=table).elapsed_time_attr == "time"
    final_only = lc.convert("credit-g", files_of("credit-g"))
    with pytest.raises(ValueError, match="elapsed_time_attr"):
        SimulatorBackend(blackbox=final_only)


def test_missing_input_is_named() -> None:
    files = files_of(BLOOD)
    del files[f"lcbench/{BLOOD}/metrics.parquet.gzip"]
    with pytest.raises(ValueError, match=r"metrics\.parquet\.gzip"):
        lc.convert(BLOOD, files)


# -- original data_2k.json layout -------------------------------------------------------------


def original_run(config: dict[str, Any], curves: dict[str, list[float]]) -> dict[str, Any]:
    """One ``data[dataset][config_id]`` entry as in data_2k_lw.json (extra keys included)."""
    length = len(curves["time"])
    return {
        "config": {**config, "optimizer": "sgd", "cosine_annealing_T_max": 50},
        "log": {
            **curves,
            "epoch": list(range(1, length + 1)),
            "Train/lr": [0.0] + [config["learning_rate"]] * (length - 1),
        },
        "results": {"final_val_accuracy": curves["Train/val_accuracy"][-1], "budget": 50},
    }


def toy_curves(rng: np.random.Generator, length: int) -> dict[str, list[float]]:
    curves = {key: rng.random(length).tolist() for key in CURVE_COLUMNS.values()}
    curves["time"] = np.cumsum(rng.random(length)).tolist()
    return curves


TOY_CONFIGS = {
    "0": {"batch_size": 71, "learning_rate": 0.002, "momentum": 0.2, "weight_decay": 0.02,
          "num_layers": 2, "max_units": 300, "max_dropout": 0.1},
    "10": {"batch_size": 16.0, "learning_rate": 0.0001, "momentum": 0.99, "weight_decay": 0.1,
           "num_layers": 1.0, "max_units": 1024, "max_dropout": 0},
    "2": {"batch_size": 511, "learning_rate": 0.09, "momentum": 0.5, "weight_decay": 5e-5,
          "num_layers": 4, "max_units": 64, "max_dropout": 0.99},
}


def write_original(path: Path, runs: dict[str, Any]) -> Path:
    other = {"0": original_run(TOY_CONFIGS["0"], toy_curves(np.random.default_rng(9), 4))}
    path.write_text(json.dumps({"toy": runs, "other": other}))
    return path


def test_original_layout_converts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    curves = {i: toy_curves(rng, 6) for i in TOY_CONFIGS}
    runs = {i: original_run(c, curves[i]) for i, c in TOY_CONFIGS.items()}
    path = write_original(tmp_path / "data_2k_lw.json", runs)

    lc.convert_original("toy", path).save(tmp_path / "toy.h5")
    table = TabularBlackbox.load(tmp_path / "toy.h5")

    assert len(table) == 3
    assert table.fidelity_values.tolist() == [1, 2, 3, 4]  # 6 points, first and last dropped
    assert table.config_space == lc.config_space(4)
    assert table.objective_names == list(CURVE_COLUMNS)
    assert (table.elapsed_time_attr, table.metric, table.mode) == ("time", "val_accuracy", "max")
    assert table.provenance["input_sha256"] == {"data_2k_lw.json": sha256_of(path)}
    assert table.provenance["converter"].endswith("lcbench.convert_original")
    for row, config_id in enumerate(["0", "2", "10"]):  # numerical order of the ids
        config = table.config(row)
        assert config == {**{k: TOY_CONFIGS[config_id][k] for k in HYPERPARAMETERS}, "epochs": 4}
        assert isinstance(config["num_layers"], int) and isinstance(config["max_dropout"], float)
        sp.validate_config(table.config_space, config)
        points = np.array([curves[config_id][key] for key in CURVE_COLUMNS.values()]).T
        expected = points[1:-1].copy()
        expected[:, list(CURVE_COLUMNS).index("time")] -= points[0, -1]
        np.testing.assert_array_equal(table.curve(config).objectives, expected)


def test_original_layout_with_52_points_gets_the_curve_notes(tmp_path: Path) -> None:
    runs = {"0": original_run(TOY_CONFIGS["0"], toy_curves(np.random.default_rng(2), 52))}
    table = lc.convert_original("toy", write_original(tmp_path / "d.json", runs))
    assert table.fidelity_values.tolist() == list(range(1, 51))
    assert table.config_space["epochs"] == 50
    assert "both are dropped" in " ".join(table.provenance["notes"])


def test_original_layout_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    good = {i: original_run(c, toy_curves(rng, 4)) for i, c in TOY_CONFIGS.items()}
    path = write_original(tmp_path / "d.json", good)
    with pytest.raises(ValueError, match=r"no dataset 'nope'; it has \['other', 'toy'\]"):
        lc.convert_original("nope", path)

    short = json.loads(json.dumps(good))
    short["2"]["log"]["time"] = short["2"]["log"]["time"][:2]
    with pytest.raises(ValueError, match="config 2: every curve must have the same"):
        lc.convert_original("toy", write_original(tmp_path / "d.json", short))

    no_key = json.loads(json.dumps(good))
    del no_key["10"]["log"]["Train/test_result"]
    with pytest.raises(ValueError, match="config 10: missing field 'Train/test_result'"):
        lc.convert_original("toy", write_original(tmp_path / "d.json", no_key))

    outside = json.loads(json.dumps(good))
    outside["0"]["config"]["num_layers"] = 6
    with pytest.raises(ValueError, match=r"'num_layers' has values outside .*randint\(1, 5\)"):
        lc.convert_original("toy", write_original(tmp_path / "d.json", outside))

    missing_value = json.loads(json.dumps(good))
    missing_value["2"]["config"]["momentum"] = None
    with pytest.raises(ValueError, match=r"'momentum' has values outside .*: \[nan\]"):
        lc.convert_original("toy", write_original(tmp_path / "d.json", missing_value))

    fractional = json.loads(json.dumps(good))
    fractional["0"]["config"]["batch_size"] = 70.5
    with pytest.raises(ValueError, match="'batch_size' has non-integral values"):
        lc.convert_original("toy", write_original(tmp_path / "d.json", fractional))


def test_one_nn_answers_as_syne_tunes_recipe(blood: tuple[TabularBlackbox, Path]) -> None:
    # Syne Tune's LCBench surrogate compares raw hyperparameter values standardised over the
    # table; hpo_core's default does the same, the [0, 1] encoding picks other rows.
    from hpo_core.blackboxes.surrogate import NearestNeighbourSurrogate
    from tests.blackboxes.test_surrogate import recipe_rows

    table, _ = blood
    rng = np.random.default_rng(0)
    configs = [sp.sample_config(table.config_space, rng) for _ in range(500)]
    expected = recipe_rows(table, configs)
    ours = NearestNeighbourSurrogate(table)
    encoded = NearestNeighbourSurrogate(table, features="encoded")
    assert [int(ours.neighbours(c)[0]) for c in configs] == expected
    same = np.mean([int(encoded.neighbours(c)[0]) == r for c, r in zip(configs, expected,
                                                                        strict=True)])
    assert 0.2 < same < 0.6
