"""ResultsStore tables and the results-file writer: the same text pandas' ``to_csv`` writes."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hpo_core.experiments.launcher import results_columns, write_results
from hpo_core.experiments.syne_tune_format import st_status
from hpo_core.results import Gathered, ResultsStore, csv_pieces, write_csv_zip
from hpo_core.trial import Decision

AWKWARD_FLOATS = [
    0.0, -0.0, 1.0, -2.0, 0.1, 1 / 3, 2.5e-4, 1e-4, 9.999999999999999e-05, 1e-5, 1e-7,
    5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e15, 1e16, 9999999999999998.0,
    1e16 + 2, 123456789012.345, 78448016871505.34, 1e22, -1.5e300, math.nan, math.inf,
    -math.inf, 12345.0, 0.30000000000000004,
]
AWKWARD_STRINGS: list[Any] = [
    "plain", "with,comma", 'with "quotes"', '"', "", " leading space", "trailing ", "tab\there",
    "line\nbreak", "carriage\rreturn", "ünïcödé", "a'b", None, "nan", "None", "1e5",
]


def member_text(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = archive.namelist()
        assert name == path.name.removesuffix(".zip")
        return archive.read(name)


def assert_written_as_pandas(tmp_path: Path, columns: dict[str, Any], **kwargs: Any) -> None:
    """Our file holds pandas' text byte for byte, and reads back as the same frame."""
    expected = tmp_path / "pandas" / "results.csv.zip"
    ours = tmp_path / "ours" / "results.csv.zip"
    expected.parent.mkdir(exist_ok=True)
    ours.parent.mkdir(exist_ok=True)
    frame = pd.DataFrame({k: v.to_numpy() if isinstance(v, Gathered) else v
                          for k, v in columns.items()})
    frame.to_csv(expected, index=False)
    write_csv_zip(ours, columns, **kwargs)
    assert member_text(ours) == member_text(expected)
    pd.testing.assert_frame_equal(pd.read_csv(ours), pd.read_csv(expected))


def awkward_columns(n: int, rng: np.random.Generator) -> dict[str, Any]:
    floats = np.array((AWKWARD_FLOATS * (n // len(AWKWARD_FLOATS) + 1))[:n])
    strings = np.array((AWKWARD_STRINGS * (n // len(AWKWARD_STRINGS) + 1))[:n], dtype=object)
    mixed = np.empty(n, dtype=object)
    pool: list[Any] = [1, 2.5, np.float64(0.1), None, math.nan, True, "x,y", [1, None], (2,),
                       np.int64(7), {"a": 1}, pd.NA]
    mixed[:] = [pool[i % len(pool)] for i in range(n)]
    return {
        "trial_id": np.arange(n, dtype=np.int64),
        "float": floats,
        "wide": 10.0 ** rng.uniform(-320, 308, n) * rng.choice([-1.0, 1.0], n),
        "uniform": rng.random(n),
        "rounded": np.round(rng.random(n) * 1000, 2),
        "float32": rng.random(n).astype(np.float32),
        "int": rng.integers(-(2**62), 2**62, n),
        "uint8": rng.integers(0, 255, n).astype(np.uint8),
        "bool": rng.random(n) < 0.5,
        "strings": strings,
        "str dtype": pd.array(strings, dtype="str") if pd.__version__ >= "3" else strings,
        "mixed": mixed,
        "category": pd.Categorical.from_codes(rng.integers(-1, 3, n), pd.Index(["a", "b,c", "d"])),
        "float category": pd.Categorical.from_codes(rng.integers(0, 2, n), pd.Index([0.1, 1e-9])),
        "nullable": pd.array([None if i % 3 == 0 else i for i in range(n)], dtype="Int64"),
        "ints with None": [None if i % 4 == 0 else i for i in range(n)],
        "lists": [[i, None] if i % 2 else None for i in range(n)],
        "gathered": Gathered(np.array(["p", 'q"r', None], dtype=object), np.arange(n) % 3),
        "gathered floats": Gathered(np.array([1e-20, 0.5, math.nan]), np.arange(n) % 3),
        "constant str": "synthetic, awkward",
        "constant int": 3,
        "constant float": 1e-5,
        "constant bool": False,
        "constant None": None,
        'header, "quoted"': np.zeros(n),
        "": np.ones(n, dtype=np.int64),
    }


@pytest.mark.parametrize("chunk_rows", [7, 1 << 16])
def test_awkward_table_written_exactly_as_pandas_writes_it(
    tmp_path: Path, chunk_rows: int
) -> None:
    rng = np.random.default_rng(0)
    assert_written_as_pandas(tmp_path, awkward_columns(500, rng), chunk_rows=chunk_rows)


def test_many_random_floats_have_pandas_text() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    values = np.concatenate([
        rng.random(n), 10.0 ** rng.uniform(-330, 308, n), rng.normal(0.0, 1e12, n),
        *(np.round(rng.normal(0.0, 1e4, n // 4), d) for d in range(4)),
        rng.integers(-(10**17), 10**17, n).astype(float),
        rng.standard_normal(n).astype(np.float32).astype(float),
    ])
    text = b"".join(bytes(p) for p in csv_pieces({"a": values, "b": 0}))
    assert text == pd.DataFrame({"a": values, "b": 0}).to_csv(index=False).encode()


@pytest.mark.parametrize(
    "columns",
    [
        {},
        {"only": np.array(["", "x", ""], dtype=object)},
        {"": np.array([1.0])},
        {"a": np.array([], dtype=float), "b": np.array([], dtype=object)},
        {"a": 1, "b": "x"},
    ],
    ids=["no columns", "one column", "unnamed", "no rows", "constants only"],
)
def test_edge_tables_written_as_pandas_writes_them(
    tmp_path: Path, columns: dict[str, Any]
) -> None:
    frame = pd.DataFrame(columns, index=[0] if columns and all(
        np.ndim(c) == 0 for c in columns.values()) else None)
    expected = frame.to_csv(index=False).encode()
    assert b"".join(bytes(p) for p in csv_pieces(columns)) == expected


def test_unsupported_and_mismatched_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unsupported"):
        write_csv_zip(tmp_path / "x.csv.zip", {"t": pd.date_range("2020", periods=3).array})
    with pytest.raises(ValueError, match="lengths"):
        write_csv_zip(tmp_path / "x.csv.zip", {"a": np.zeros(2), "b": np.zeros(3)})


def awkward_store() -> ResultsStore:
    """Results of several trials with awkward configs, metrics with gaps and extra columns."""
    store = ResultsStore(resource_attr="epoch", extra_keys=["num_at_level1", "rungs"])
    configs: list[dict[str, Any]] = [
        {"lr": 0.1, "units": 16, "opt": "adam", "flag": True, "maybe": None, "mix": 1},
        {"lr": 1e-7, "units": 512, "opt": 'sgd, "fast"', "flag": False, "maybe": 2.5, "mix": 2.5},
        {"lr": 1e20, "units": 33, "opt": "rms\nprop", "flag": True, "maybe": None, "mix": "x"},
        {"lr": 0.5, "units": 1, "opt": "never reported", "flag": None, "maybe": "s", "mix": None},
    ]
    for trial_id in (5, 2, 9, 11):
        store.configs[trial_id] = configs.pop(0)
    rows = [
        (5, 1, {"error": 0.5, "time": 1.0}, Decision.CONTINUE, {"num_at_level1": 1, "rungs": None}),
        (2, 1, {"error": math.nan}, Decision.STOP, None),
        (9, 1, {"error": 0.25, "time": 1e-9}, Decision.PAUSE,
         {"num_at_level1": 3, "rungs": [1, 2]}),
        (5, 2, {"error": 0.75, "time": math.inf}, Decision.CONTINUE,
         {"num_at_level1": 3, "rungs": "a,b"}),
        (9, 3, {"error": 0.125, "other": -0.0}, Decision.CONTINUE, {"num_at_level1": 4}),
    ]
    for i, (trial_id, resource, metrics, decision, extra) in enumerate(rows):
        store.append(trial_id, 0.1 * (i + 1), resource, metrics, decision)
        store.append_extra(extra)
    return store


def reference_dataframe(store: ResultsStore, metric: str | None, mode: str) -> pd.DataFrame:
    """The table built row by row with pandas, as ``to_dataframe`` used to build it."""
    trial_ids = np.frombuffer(store.trial_id, dtype=np.int64)
    data: dict[str, Any] = {
        "trial_id": trial_ids,
        "st_tuner_time": np.frombuffer(store.time, dtype=float),
        "st_decision": pd.Categorical([list(Decision)[c].value for c in store.decision],
                                      categories=[d.value for d in Decision]),
        store.resource_attr: np.frombuffer(store.resource, dtype=np.int64),
    }
    for name, column in store.metrics.items():
        data.setdefault(name, np.frombuffer(column, dtype=float))
    if metric is not None:
        values = pd.Series(np.frombuffer(store.metrics[metric], dtype=float))
        data[f"best_{metric}"] = (values.cummin() if mode == "min" else values.cummax()).to_numpy()
    for name in next(iter(store.configs.values())):
        per_row = np.empty(len(trial_ids), dtype=object)
        per_row[:] = [store.configs[t].get(name) for t in trial_ids.tolist()]
        data[f"config_{name}"] = pd.Series(per_row).infer_objects().to_numpy()
    for key, extra in store.extra.items():
        data[key] = extra
    return pd.DataFrame(data)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_to_dataframe_matches_row_by_row_table(mode: str) -> None:
    store = awkward_store()
    pd.testing.assert_frame_equal(store.to_dataframe(metric="error", mode=mode),
                                  reference_dataframe(store, "error", mode))
    pd.testing.assert_frame_equal(store.to_dataframe(), reference_dataframe(store, None, mode))


def test_results_file_is_what_pandas_wrote_before(tmp_path: Path) -> None:
    """The launcher's file: the table with st_status and constant columns, as pandas wrote it."""
    store = awkward_store()
    df = reference_dataframe(store, "error", "min")
    df["st_status"] = st_status(df["st_decision"], df["epoch"], 3)
    for key, value in (("benchmark", "synthetic"), ("method", "ASHA"), ("seed", 0)):
        df[key] = value
    df.to_csv(tmp_path / "before.csv.zip", index=False)
    constants = {"benchmark": "synthetic", "method": "ASHA", "seed": 0}
    write_results(store, tmp_path / "results.csv.zip", metric="error", mode="min",
                  max_resource=3, constants=constants)
    with zipfile.ZipFile(tmp_path / "before.csv.zip") as archive:
        before = archive.read("before.csv")
    assert member_text(tmp_path / "results.csv.zip") == before
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "results.csv.zip"),
                                  pd.read_csv(tmp_path / "before.csv.zip"))
    # max_resource defaults to the largest resource reported
    assert list(results_columns(store, metric="error", mode="min")["st_status"]) == [
        "InProgress", "Stopped", "Paused", "InProgress", "Completed"]


@pytest.mark.parametrize("unreported", [False, True])
def test_config_columns_of_consecutive_trial_ids(unreported: bool) -> None:
    """Trial ids 0..n-1 (the tuner's) index the configs directly; a trial without results
    still leaves the others' configs in place."""
    store = ResultsStore()
    for trial_id in range(4):
        store.configs[trial_id] = {"x": float(trial_id), "s": f"s{trial_id}"}
    for row, trial_id in enumerate([3, 0, 3] if unreported else [3, 0, 1, 2, 1]):
        store.append(trial_id, float(row), 1, {"error": 0.5}, Decision.CONTINUE)
    pd.testing.assert_frame_equal(store.to_dataframe(), reference_dataframe(store, None, "min"))


def test_a_failing_write_stops_the_formatting_and_is_raised() -> None:
    from hpo_core.results import _write_while_formatting

    written: list[bytes] = []
    produced: list[int] = []

    class Full:
        def write(self, piece: bytes) -> None:
            if len(written) == 2:
                raise OSError("no space left on device")
            written.append(piece)

    def pieces() -> Iterator[bytes]:
        for i in range(1000):
            produced.append(i)
            yield str(i).encode()

    with pytest.raises(OSError, match="no space left"):
        _write_while_formatting(Full(), pieces())
    assert written == [b"0", b"1"]
    assert len(produced) < 1000  # the formatting stopped soon after the failure
