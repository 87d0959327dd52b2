"""LCBench: 2,000 Auto-PyTorch MLP configurations on 35 OpenML datasets, one seed.

Two published layouts are read:

* the LCBenchLite parquet copy (:func:`convert`), one folder per dataset with
  ``config.parquet.gzip`` (the configurations), ``results.parquet.gzip`` (``final_*`` values)
  and, for the datasets in :data:`CURVE_DATASETS` only, ``metrics.parquet.gzip`` (52-point
  per-epoch curves);
* the original LCBench JSON (``data_2k.json`` / ``data_2k_lw.json`` from figshare
  ``data_2k_lw.zip``; :func:`convert_original`), which holds curves for every dataset.

Config space (LCBench's published domains; all 2,000 tabulated configurations lie inside them)::

    batch_size     lograndint(16, 512)      observed 16..511
    learning_rate  loguniform(1e-4, 1e-1)
    momentum       uniform(0.1, 0.99)
    weight_decay   uniform(1e-5, 1e-1)      observed from about 4.9e-5
    num_layers     randint(1, 5)            observed 1..4
    max_units      lograndint(64, 1024)
    max_dropout    uniform(0.0, 1.0)
    epochs         50 (constant: the largest fidelity, for ``max_resource_attr``)

The other configuration entries of LCBench (optimizer, scheduler, activation, ...) have one value
each and are left out. ``num_layers`` goes up to 5 as LCBench (and Syne Tune) publish it,
although the table only holds 1..4: a sampled 5 is always answered by the 1-NN surrogate.

Fidelity ``epoch``, as Syne Tune 0.13's LCBench recipe has it: the published curves have 52
points; point 0 is an evaluation before the first update (learning rate 0, elapsed time about
0 s) and the last point repeats training beyond the 50-epoch budget, so both are dropped and
points 1..50 become epochs 1..50; the elapsed times are counted from point 0 (its time is
subtracted). Datasets without curves have the single fidelity 50 and their ``final_*`` values.
The convention is recorded in ``provenance["curve_convention"]``.

Objectives:

===========================  ================================  =================================
objective                    log key (curves)                  results column (final values)
===========================  ================================  =================================
``val_accuracy``             ``Train/val_accuracy``            ``final_val_accuracy``
``val_balanced_accuracy``    ``Train/val_balanced_accuracy``   ``final_val_balanced_accuracy``
``val_cross_entropy``        ``Train/val_cross_entropy``       ``final_val_cross_entropy``
``test_accuracy``            ``Train/test_result``             ``final_test_accuracy``
``test_balanced_accuracy``   ``Train/test_balanced_accuracy``  ``final_test_balanced_accuracy``
``test_cross_entropy``       ``Train/test_cross_entropy``      ``final_test_cross_entropy``
``train_accuracy``           ``Train/train_accuracy``          ``final_train_accuracy``
``train_balanced_accuracy``  ``Train/train_balanced_accuracy`` ``final_train_balanced_accuracy``
``train_loss``               ``Train/loss``                    ``final_train_cross_entropy``
``train_cross_entropy``      ``Train/train_cross_entropy``     (none)
``time``                     ``time``                          (none)
===========================  ================================  =================================

Accuracies are percentages (0..100), balanced accuracies fractions (0..1), as published.
``final_train_cross_entropy`` equals the ``Train/loss`` log, not ``Train/train_cross_entropy``
(a different quantity), hence the name ``train_loss``. ``time`` is the cumulative
wall-clock time in seconds since the start of training. The results files have neither a time
column nor ``train_cross_entropy``, so datasets without curves lack these two objectives and
declare no elapsed-time objective (``elapsed_time_attr`` is None): the simulator backend cannot
replay them on a time budget. Default metric: ``val_accuracy``, maximised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.safe_pickle import sha256_of
from hpo_core.blackboxes.tabular import TabularBlackbox

__all__ = [
    "CURVE_CONVENTION",
    "CURVE_DATASETS",
    "FAMILY",
    "MAX_EPOCHS",
    "NUM_CURVE_POINTS",
    "VERSION",
    "config_space",
    "convert",
    "convert_original",
    "datasets",
    "inputs",
]

FAMILY = "lcbench"
VERSION = "2.0"

#: Points per published curve (point 0 before training; epochs 1..50 are points 1..50).
NUM_CURVE_POINTS = 52
#: The largest fidelity: the training budget in epochs.
MAX_EPOCHS = 50
#: How curve points become fidelities (see the module docstring).
CURVE_CONVENTION = (
    "syne-tune-0.13: the first point (before training) and the last are dropped, points 1..50 "
    "are epochs 1..50, elapsed times count from point 0"
)

_DATASETS = (
    "APSFailure",
    "Amazon_employee_access",
    "Australian",
    "Fashion-MNIST",
    "KDDCup09_appetency",
    "MiniBooNE",
    "adult",
    "airlines",
    "albert",
    "bank-marketing",
    "blood-transfusion-service-center",
    "car",
    "christine",
    "cnae-9",
    "connect-4",
    "covertype",
    "credit-g",
    "dionis",
    "fabert",
    "helena",
    "higgs",
    "jannis",
    "jasmine",
    "jungle_chess_2pcs_raw_endgame_complete",
    "kc1",
    "kr-vs-kp",
    "mfeat-factors",
    "nomao",
    "numerai28.6",
    "phoneme",
    "segment",
    "shuttle",
    "sylvine",
    "vehicle",
    "volkert",
)

#: Datasets whose per-epoch curves (``metrics.parquet.gzip``) are in the LCBenchLite copy.
CURVE_DATASETS = frozenset({"blood-transfusion-service-center"})

#: (objective, log key in curves, column of results.parquet.gzip or None).
_OBJECTIVES: tuple[tuple[str, str, str | None], ...] = (
    ("val_accuracy", "Train/val_accuracy", "final_val_accuracy"),
    ("val_balanced_accuracy", "Train/val_balanced_accuracy", "final_val_balanced_accuracy"),
    ("val_cross_entropy", "Train/val_cross_entropy", "final_val_cross_entropy"),
    ("test_accuracy", "Train/test_result", "final_test_accuracy"),
    ("test_balanced_accuracy", "Train/test_balanced_accuracy", "final_test_balanced_accuracy"),
    ("test_cross_entropy", "Train/test_cross_entropy", "final_test_cross_entropy"),
    ("train_accuracy", "Train/train_accuracy", "final_train_accuracy"),
    ("train_balanced_accuracy", "Train/train_balanced_accuracy",
     "final_train_balanced_accuracy"),
    ("train_loss", "Train/loss", "final_train_cross_entropy"),
    ("train_cross_entropy", "Train/train_cross_entropy", None),
    ("time", "time", None),
)

TIME = "time"
METRIC = "val_accuracy"
MODE = "max"
FIDELITY = "epoch"

_LICENCE = "Apache-2.0"
_DATA_DOI = "10.6084/m9.figshare.11662422.v1"
_CITATION = (
    "Zimmer, L., Lindauer, M. and Hutter, F. (2021). Auto-PyTorch Tabular: Multi-Fidelity "
    "MetaLearning for Efficient and Robust AutoDL. IEEE TPAMI 43(9), 3079-3090. "
    f"Data: Zimmer, L. (2020). data_2k_lw.zip. figshare. doi:{_DATA_DOI}"
)
_LITE_SOURCE = {
    "name": "LCBench, parquet copy LCBenchLite",
    "repository": "https://github.com/ltiao/LCBenchLite",
    "commit": "42ea3c2f1138920d62a089fefd793490a801233e",
    "original_data": f"https://doi.org/{_DATA_DOI}",
}
_ORIGINAL_SOURCE = {
    "name": "LCBench, original JSON (data_2k_lw.zip)",
    "original_data": f"https://doi.org/{_DATA_DOI}",
}

_CURVE_NOTES = (
    "Epoch k is curve point k as logged (k = 1..50), as in Syne Tune 0.13's LCBench recipe: "
    "point 0 is an evaluation before the first update (Train/lr 0, time about 0 s) and point "
    "51 lies beyond the 50-epoch budget (final_* values equal it); both are dropped.",
    "time is the cumulative wall-clock time in seconds since point 0 (its time subtracted).",
)
_COMMON_NOTES = (
    "Accuracies are percentages (0..100), balanced accuracies fractions (0..1), as published.",
    "train_loss is the Train/loss log, which final_train_cross_entropy equals (checked on "
    "blood-transfusion-service-center); train_cross_entropy (Train/train_cross_entropy, curves "
    "only) is a different quantity.",
    "One seed per configuration. The tabulated configurations are random samples of the space; "
    "other configurations need restrict_configurations or a surrogate.",
)
_FINAL_ONLY_NOTES = (
    "Final values only: the LCBenchLite copy has no per-epoch curves for this dataset. The "
    "single fidelity is the 50-epoch budget (final_* equal the last logged curve point, which "
    "the datasets with curves drop).",
    "results.parquet.gzip has no time or runtime column (nor train_cross_entropy): this "
    "blackbox has no elapsed-time objective (elapsed_time_attr None), so the simulator backend "
    "cannot replay it.",
)


def datasets() -> list[str]:
    """The 35 LCBench datasets (OpenML dataset names, as the LCBenchLite folders)."""
    return list(_DATASETS)


def _check_dataset(dataset: str) -> None:
    if dataset not in _DATASETS:
        raise ValueError(f"unknown LCBench dataset {dataset!r}; known: {list(_DATASETS)}")


def inputs(dataset: str) -> list[str]:
    """Catalogue paths of the files :func:`convert` reads for ``dataset``.

    Raises:
        ValueError: If ``dataset`` is not an LCBench dataset.
    """
    _check_dataset(dataset)
    names = ["config", "results"] + (["metrics"] if dataset in CURVE_DATASETS else [])
    return [f"{FAMILY}/{dataset}/{name}.parquet.gzip" for name in names]


def config_space(num_epochs: int = MAX_EPOCHS) -> dict[str, Any]:
    """LCBench's config space, with the constant ``epochs`` (largest fidelity)."""
    return {
        "batch_size": sp.lograndint(16, 512),
        "learning_rate": sp.loguniform(1e-4, 1e-1),
        "momentum": sp.uniform(0.1, 0.99),
        "weight_decay": sp.uniform(1e-5, 1e-1),
        "num_layers": sp.randint(1, 5),
        "max_units": sp.lograndint(64, 1024),
        "max_dropout": sp.uniform(0.0, 1.0),
        "epochs": num_epochs,
    }


def _columns(space: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Hyperparameter columns of ``table`` as int64/float64 arrays, checked against ``space``.

    Raises:
        ValueError: If a column is missing, an int column holds a non-integral value, or a value
            lies outside its domain.
    """
    columns: dict[str, np.ndarray] = {}
    for name, domain in sp.hyperparameters(space).items():
        if name not in table:
            raise ValueError(f"the configurations lack hyperparameter {name!r}")
        values = np.asarray(table[name], dtype=np.float64)
        column: np.ndarray
        if isinstance(domain, sp.RandInt | sp.LogRandInt):
            if not np.all(np.isfinite(values) & (values == np.round(values))):
                raise ValueError(f"hyperparameter {name!r} has non-integral values")
            column = values.astype(np.int64)
        else:
            column = values
        # Every domain of the space is an interval: checking the extremes checks all values
        # (a NaN makes both fail); the value-by-value scan only runs to name the culprits.
        ends = (column.min().item(), column.max().item()) if len(column) else ()
        if not all(domain.contains(v) for v in ends):
            outside = [v for v in np.unique(column).tolist() if not domain.contains(v)]
            raise ValueError(
                f"hyperparameter {name!r} has values outside its domain {domain!r}: "
                f"{outside[:5]}"
            )
        columns[name] = column
    return columns


def _observed_ranges(columns: Mapping[str, np.ndarray]) -> dict[str, list[float | int]]:
    return {k: [v.min().item(), v.max().item()] for k, v in columns.items()}


def _blackbox(
    dataset: str,
    columns: dict[str, np.ndarray],
    objectives: np.ndarray,
    objective_names: list[str],
    fidelity_values: np.ndarray,
    provenance: dict[str, Any],
) -> TabularBlackbox:
    has_time = TIME in objective_names
    return TabularBlackbox(
        name=f"{FAMILY}-{dataset}",
        config_space=config_space(int(fidelity_values[-1])),
        hyperparameters=columns,
        objectives=objectives,
        objective_names=objective_names,
        fidelity_name=FIDELITY,
        fidelity_values=fidelity_values,
        elapsed_time_attr=TIME if has_time else None,
        metric=METRIC,
        mode=MODE,
        provenance=provenance,
    )


def _converter_provenance(function: str | None = None) -> dict[str, str]:
    name = __name__ if function is None else f"{__name__}.{function}"
    return {"converter": name, "converter_version": VERSION}


def convert(dataset: str, files: Mapping[str, str | Path]) -> TabularBlackbox:
    """Blackbox of ``dataset`` from the LCBenchLite parquet files.

    Rows follow the ``trial`` index of ``config.parquet.gzip`` (0..1999); results and curves are
    joined on ``trial``. Datasets in :data:`CURVE_DATASETS` get epochs ``1..50`` from
    ``metrics.parquet.gzip`` (index ``(trial, epoch)``, points ``0..51``; see the module
    docstring) and all objectives of the module docstring; the others get the single fidelity
    50 from the ``final_*`` columns.

    Args:
        dataset: One of :func:`datasets`.
        files: Maps each path of :func:`inputs` to a local copy.

    Returns:
        The blackbox; ``provenance["input_sha256"]`` maps each input path to its sha256.

    Raises:
        ValueError: If ``dataset`` is unknown, an input is missing from ``files``, or the files
            do not have the expected index, columns or value ranges.
    """
    paths = inputs(dataset)
    missing = [p for p in paths if p not in files]
    if missing:
        raise ValueError(f"files lacks inputs {missing} of LCBench dataset {dataset!r}")
    config_path, results_path = (Path(files[p]) for p in paths[:2])

    import pandas as pd  # only converting needs it, not the benchmark registry

    space = config_space()
    configs = pd.read_parquet(config_path).sort_index()
    trials = configs.index.to_numpy()
    if len(np.unique(trials)) != len(trials):
        raise ValueError(f"{config_path}: duplicate trial ids")
    columns = _columns(space, {k: configs[k].to_numpy() for k in configs.columns})

    results = pd.read_parquet(results_path)
    if sorted(results.index.tolist()) != trials.tolist():
        raise ValueError(f"{results_path}: trials differ from those of {config_path}")
    results = results.loc[trials]
    task_ids = results["OpenML_task_id"].unique().tolist()

    notes: list[str]
    if dataset in CURVE_DATASETS:
        metrics_path = Path(files[paths[2]])
        names = [name for name, _, _ in _OBJECTIVES]
        objectives = _epochs_of_points(
            _read_curves(metrics_path, trials, [key for _, key, _ in _OBJECTIVES]), names
        )
        fidelity_values = np.arange(1, MAX_EPOCHS + 1)
        notes = [*_CURVE_NOTES, *_COMMON_NOTES]
    else:
        finals = [(name, column) for name, _, column in _OBJECTIVES if column is not None]
        names = [name for name, _ in finals]
        values = results[[column for _, column in finals]].to_numpy(dtype=np.float64)
        objectives = values.reshape(len(trials), 1, 1, len(finals))
        fidelity_values = np.array([MAX_EPOCHS])
        notes = [*_FINAL_ONLY_NOTES, *_COMMON_NOTES]

    provenance = {
        "source": dict(_LITE_SOURCE),
        "licence": _LICENCE,
        "citation": _CITATION,
        "input_sha256": {p: sha256_of(files[p]) for p in paths},
        **_converter_provenance(),
        "dataset": dataset,
        "curve_convention": CURVE_CONVENTION,
        "openml_task_id": task_ids[0] if len(task_ids) == 1 else task_ids,
        "observed_ranges": _observed_ranges(columns),
        "notes": notes,
    }
    return _blackbox(dataset, columns, objectives, names, fidelity_values, provenance)


def _epochs_of_points(points: np.ndarray, names: list[str]) -> np.ndarray:
    """Curves of ``(configs, seeds, points, objectives)`` as epochs: the first and last points
    dropped, ``time`` counted from the first point."""
    epochs = points[:, :, 1:-1].copy()
    time = names.index("time")
    epochs[..., time] -= points[:, :, :1, time]
    return epochs


def _read_curves(path: Path, trials: np.ndarray, keys: list[str]) -> np.ndarray:
    """Curves ``(len(trials), 1, 52, len(keys))`` from ``metrics.parquet.gzip``.

    Raises:
        ValueError: If the index is not every ``(trial, epoch)`` pair, epochs ``0..51``.
    """
    import pandas as pd

    metrics = pd.read_parquet(path, columns=keys).sort_index()
    index = metrics.index
    expected = pd.MultiIndex.from_product(
        [trials, np.arange(NUM_CURVE_POINTS)], names=index.names
    )
    if index.nlevels != 2 or not index.equals(expected):
        raise ValueError(
            f"{path}: index must hold every (trial, epoch) pair with epochs "
            f"0..{NUM_CURVE_POINTS - 1} for the {len(trials)} trials of the configurations"
        )
    values = metrics[keys].to_numpy(dtype=np.float64)
    return values.reshape(len(trials), 1, NUM_CURVE_POINTS, len(keys))


def convert_original(dataset: str, data_2k_json: Path) -> TabularBlackbox:
    """Blackbox of ``dataset`` from the original LCBench JSON (``data_2k.json``/``_lw.json``).

    Layout read (the whole file is parsed at once, as LCBench's own API does)::

        {dataset: {config_id: {"config": {...}, "log": {...}, "results": {...}}}}

    Fields read, for every ``config_id`` (decimal strings, rows in numerical order):

    * ``config``: ``batch_size``, ``learning_rate``, ``momentum``, ``weight_decay``,
      ``num_layers``, ``max_units``, ``max_dropout`` (numbers; the int ones may be written as
      integral floats). Other entries (constants of LCBench) are ignored.
    * ``log``: the log keys of the objective table in the module docstring (``Train/...`` and
      ``time``), each a list with one number per curve point; all lists of all configs must have
      the same length ``L`` (52 in the published data, at least 3), giving epochs
      ``1..L - 2`` as :func:`convert` does (first and last point dropped, time counted from the
      first). Other keys (``epoch``, ``Train/lr``, gradient statistics) are ignored.
    * ``results`` is not read (in the LCBenchLite copy its ``final_*`` values equal the last
      curve point).

    Args:
        dataset: Top-level key of the file (need not be one of :func:`datasets`).
        data_2k_json: Path of the JSON file.

    Returns:
        The blackbox, with all objectives including ``time`` (the elapsed-time objective).

    Raises:
        ValueError: If ``dataset`` is absent, a field is missing, curve lengths differ, or a
            value lies outside the config space.
    """
    path = Path(data_2k_json)
    with path.open("rb") as f:
        data = json.load(f)
    if not isinstance(data, dict) or dataset not in data:
        known = sorted(data) if isinstance(data, dict) else []
        raise ValueError(f"{path}: no dataset {dataset!r}; it has {known}")
    runs = data[dataset]
    ids = sorted(runs, key=int)
    if not ids:
        raise ValueError(f"{path}: dataset {dataset!r} has no configurations")
    names = [name for name, _, _ in _OBJECTIVES]
    keys = [key for _, key, _ in _OBJECTIVES]
    hp_names = list(sp.hyperparameters(config_space()))
    table: dict[str, list[Any]] = {name: [] for name in hp_names}
    curves: list[list[list[float]]] = []
    length: int | None = None
    for config_id in ids:
        run = runs[config_id]
        try:
            config, log = run["config"], run["log"]
            for name in hp_names:
                table[name].append(config[name])
            curve = [log[key] for key in keys]
        except KeyError as err:
            raise ValueError(
                f"{path}: dataset {dataset!r}, config {config_id}: missing field {err.args[0]!r}"
            ) from None
        lengths = {len(values) for values in curve}
        if length is None:
            length = len(curve[0])
        if lengths != {length} or length < 3:
            raise ValueError(
                f"{path}: dataset {dataset!r}, config {config_id}: every curve must have the "
                f"same length of at least 3 points ({length} for the first config), got "
                f"{sorted(lengths)}"
            )
        curves.append(curve)
    assert length is not None
    # (configs, objectives, points) -> (configs, 1 seed, points, objectives)
    points = np.asarray(curves, dtype=np.float64).transpose(0, 2, 1)[:, None]
    objectives = _epochs_of_points(points, names)
    columns = _columns(config_space(length - 2), table)
    fidelity_values = np.arange(1, length - 1)
    notes = [*_CURVE_NOTES, *_COMMON_NOTES] if length == NUM_CURVE_POINTS else [
        f"Curves of {length} points (the published data has {NUM_CURVE_POINTS}); epoch k is "
        "curve point k, the first and last points dropped.",
        *_COMMON_NOTES,
    ]
    provenance = {
        "source": dict(_ORIGINAL_SOURCE),
        "licence": _LICENCE,
        "citation": _CITATION,
        "input_sha256": {path.name: sha256_of(path)},
        **_converter_provenance("convert_original"),
        "dataset": dataset,
        "curve_convention": CURVE_CONVENTION,
        "observed_ranges": _observed_ranges(columns),
        "notes": notes,
    }
    return _blackbox(dataset, columns, objectives, names, fidelity_values, provenance)
