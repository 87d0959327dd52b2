"""Columnar store of reported results: one row per result, configs kept once per trial.

:func:`write_csv_zip` writes a table of such columns as ``pandas.DataFrame.to_csv`` writes it to a
``.zip`` path (same text, so ``pandas.read_csv`` reads back the same frame), in chunks of rows
formatted with pyarrow, without building a data frame.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
import zipfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.trial import Decision

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DECISIONS = list(Decision)
DECISION_CODE = {d: i for i, d in enumerate(DECISIONS)}
#: :meth:`ResultsStore.extend` adds fewer rows than this with Python lists, more with numpy.
_SHORT = 32


@dataclass(frozen=True)
class Gathered:
    """A column ``values[index]`` kept unexpanded: e.g. one value per trial, one index per row.

    ``values`` is a 1-d numpy array or pandas extension array; ``index`` an integer array.
    """

    values: Any
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def to_numpy(self) -> np.ndarray:
        values = self.values if isinstance(self.values, np.ndarray) else np.asarray(self.values)
        return values[self.index]


class ResultsStore:
    """Rows ``(trial_id, tuner time, resource, decision, metrics..., extra...)``.

    Numeric columns are compact arrays, so a run with hundreds of thousands of results stays
    small; :meth:`to_dataframe` builds the Syne Tune-compatible table (``trial_id``,
    ``st_tuner_time``, ``st_decision``, the resource and metric columns, ``config_*`` columns, and
    best-so-far columns); :meth:`columns` gives the same columns without building the table, for
    :func:`write_csv_zip`.
    """

    def __init__(self, *, resource_attr: str = "epoch", extra_keys: list[str] | None = None):
        self.resource_attr = resource_attr
        self.trial_id = array("q")
        self.time = array("d")
        self.resource = array("q")
        self.decision = array("b")
        self.metrics: dict[str, array[float]] = {}
        self.extra: dict[str, list[Any]] = {k: [] for k in extra_keys or []}
        self.configs: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.time)

    def append(
        self,
        trial_id: int,
        time: float,
        resource: int,
        metrics: Mapping[str, float],
        decision: Decision,
    ) -> None:
        n = len(self.time)
        self.trial_id.append(trial_id)
        self.time.append(time)
        self.resource.append(resource)
        self.decision.append(DECISION_CODE[decision])
        columns = self.metrics
        if len(metrics) != len(columns) or not columns.keys() >= metrics.keys():
            for name in metrics:
                if name not in columns:
                    columns[name] = array("d", [math.nan]) * n
        for name, column in columns.items():
            column.append(metrics.get(name, math.nan))

    def append_extra(self, values: Mapping[str, Any] | None) -> None:
        for key, column in self.extra.items():
            column.append(None if values is None else values.get(key))

    def extend(
        self,
        trial_id: int,
        times: Sequence[float] | np.ndarray,
        resources: Sequence[int] | np.ndarray,
        objectives: np.ndarray,
        names: Sequence[str],
        decision: Decision,
    ) -> None:
        """Rows of one trial in bulk: ``times[k]``, ``resources[k]`` and the metrics
        ``objectives[k]`` (columns named ``names``), all with ``decision``. Extra columns get
        ``None`` (see :meth:`set_extra`)."""
        m = len(times)
        if not m:
            return
        n = len(self.time)
        columns = self.metrics
        for name in names:
            if name not in columns:
                columns[name] = array("d", [math.nan]) * n
        position = {name: k for k, name in enumerate(names)}
        if m < _SHORT:  # a few rows: Python lists beat numpy's per-call cost
            self.trial_id.extend([trial_id] * m)
            self.time.extend(times.tolist() if isinstance(times, np.ndarray) else times)
            self.resource.extend(
                resources.tolist() if isinstance(resources, np.ndarray) else resources)
            self.decision.extend([DECISION_CODE[decision]] * m)
            by_column = np.asarray(objectives, dtype=float).T.tolist()
            for name, column in columns.items():
                k = position.get(name)
                column.extend(by_column[k] if k is not None else [math.nan] * m)
        else:
            self.trial_id.frombytes(np.full(m, trial_id, dtype=np.int64).tobytes())
            self.time.frombytes(np.ascontiguousarray(times, dtype=float).tobytes())
            self.resource.frombytes(np.ascontiguousarray(resources, dtype=np.int64).tobytes())
            self.decision.frombytes(np.full(m, DECISION_CODE[decision], dtype=np.int8).tobytes())
            values = np.asarray(objectives, dtype=float)
            for name, column in columns.items():
                k = position.get(name)
                column.frombytes(np.ascontiguousarray(values[:, k]).tobytes() if k is not None
                                 else np.full(m, math.nan).tobytes())
        for extra in self.extra.values():
            extra.extend([None] * m)

    def set_extra(self, rows: Sequence[int], values: Sequence[Mapping[str, Any] | None]) -> None:
        """Extra columns of ``rows`` (e.g. rows added by :meth:`extend`)."""
        for key, column in self.extra.items():
            for row, value in zip(rows, values, strict=True):
                column[row] = None if value is None else value.get(key)

    def reorder(self, order: np.ndarray) -> None:
        """Put the rows in the order ``order`` (a permutation of the row indices), one column
        at a time (each copied once)."""

        def permuted(column: array[Any], dtype: type) -> array[Any]:
            new = array(column.typecode, [0]) * len(column)
            np.take(np.frombuffer(column, dtype=dtype), order,
                    out=np.frombuffer(new, dtype=dtype))
            return new

        self.trial_id = permuted(self.trial_id, np.int64)
        self.time = permuted(self.time, np.float64)
        self.resource = permuted(self.resource, np.int64)
        self.decision = permuted(self.decision, np.int8)
        for name in list(self.metrics):
            self.metrics[name] = permuted(self.metrics[name], np.float64)
        if self.extra:
            positions = order.tolist()
            self.extra = {key: [column[i] for i in positions]
                          for key, column in self.extra.items()}

    def best(self, metric: str, mode: str) -> tuple[int, float] | None:
        """(row index, value) of the best result so far, or None if there is none."""
        if metric not in self.metrics or not len(self):
            return None
        values = np.frombuffer(self.metrics[metric], dtype=float)
        if np.all(np.isnan(values)):
            return None
        row = int(np.nanargmin(values) if mode == "min" else np.nanargmax(values))
        return row, float(values[row])

    def decision_codes(self) -> np.ndarray:
        """Each row's decision as its index in :data:`DECISIONS` (a view, no copy)."""
        return np.frombuffer(self.decision, dtype=np.int8)

    def resources(self) -> np.ndarray:
        """Each row's resource level (a view, no copy)."""
        return np.frombuffer(self.resource, dtype=np.int64)

    def columns(self, *, metric: str | None = None, mode: str = "min") -> dict[str, Any]:
        """The columns of :meth:`to_dataframe`, in its order, mostly without copies.

        Numeric columns are views of the store's arrays, ``st_decision`` a categorical, the
        per-trial config columns :class:`Gathered` (one inferred value per trial), extra
        columns lists; :func:`write_csv_zip` writes them as the frame would be written.
        """
        import pandas as pd

        trial_ids = np.frombuffer(self.trial_id, dtype=np.int64)
        data: dict[str, Any] = {
            "trial_id": trial_ids,
            "st_tuner_time": np.frombuffer(self.time, dtype=float),
            "st_decision": pd.Categorical.from_codes(
                self.decision_codes(), pd.Index([d.value for d in DECISIONS])
            ),
            self.resource_attr: self.resources(),
        }
        for name, column in self.metrics.items():
            data.setdefault(name, np.frombuffer(column, dtype=float))
        if metric is not None and metric in self.metrics:
            data[f"best_{metric}"] = best_so_far(
                np.frombuffer(self.metrics[metric], dtype=float), mode
            )
        if self.configs:
            unique_ids = np.array(sorted(self.configs), dtype=np.int64)
            consecutive = bool(len(unique_ids)) and unique_ids[0] == 0 and (
                unique_ids[-1] == len(unique_ids) - 1)
            # ids 0..n-1 (the tuner's) are their own positions
            position = trial_ids if consecutive else np.searchsorted(unique_ids, trial_ids)
            # Only trials with a result count for the columns' inferred types.
            present = np.zeros(len(unique_ids), dtype=bool)
            present[position] = True
            index: np.ndarray
            if present.all():
                index = position
            else:
                index = (np.cumsum(present) - 1).astype(np.int32)[position]
            del position
            reported = unique_ids[present].tolist()
            names = list(next(iter(self.configs.values())))
            for name in names:
                per_trial = np.empty(len(reported), dtype=object)
                per_trial[:] = [self.configs[t].get(name) for t in reported]
                values = pd.Series(per_trial).infer_objects().array
                data[f"config_{name}"] = Gathered(
                    np.asarray(values) if isinstance(values.dtype, np.dtype) else values, index
                )
        for key, extra in self.extra.items():
            data[key] = extra
        return data

    def to_dataframe(self, *, metric: str | None = None, mode: str = "min") -> pd.DataFrame:
        """The results as a table; with ``metric``, adds ``best_<metric>`` (best so far)."""
        import pandas as pd

        data = {
            name: column.to_numpy() if isinstance(column, Gathered) else column
            for name, column in self.columns(metric=metric, mode=mode).items()
        }
        return pd.DataFrame(data)


def best_so_far(values: np.ndarray, mode: str) -> np.ndarray:
    """Running minimum (``mode="min"``) or maximum, as ``pandas.Series.cummin``/``cummax`` give
    it: NaN entries stay NaN and are skipped."""
    best = (np.fmin if mode == "min" else np.fmax).accumulate(values)
    best[np.isnan(values)] = np.nan
    return best


# --- Writing ------------------------------------------------------------------------------------

#: Rows formatted and compressed at a time by :func:`write_csv_zip`.
CHUNK_ROWS = 1 << 14
#: zlib level of :func:`write_csv_zip`. Deflating takes most of its time: level 1 takes about a
#: quarter of the time of zlib's default (6, which pandas uses) for files about 20% larger.
COMPRESSLEVEL = 1


def _quote_characters() -> str:
    """Characters that make the csv module, called as pandas calls it, quote a field."""
    found = ""
    for char in ',"\r\n\t \'':
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
        writer.writerow([f"a{char}b", "c"])
        if out.getvalue().startswith('"'):
            found += char
    return found


_QUOTE_CHARACTERS = _quote_characters()
_QUOTE_PATTERN = "[" + "".join(f"\\x{ord(c):02x}" for c in _QUOTE_CHARACTERS) + "]"


def _quote_text(text: str) -> str:
    if any(c in text for c in _QUOTE_CHARACTERS):
        return '"' + text.replace('"', '""') + '"'
    return text


def _quote(text: pa.Array) -> pa.Array:
    """CSV fields of strings: quoted (quotes doubled) where the csv module quotes them."""
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(text, _QUOTE_PATTERN)
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _format_objects(values: Any) -> pa.Array:
    """Fields of an object or extension array: ``str`` of each value, missing ones
    (``pandas.isna``) empty, quoted where needed: what pandas hands the csv module."""
    import pandas as pd
    import pyarrow as pa

    objects = values if isinstance(values, np.ndarray) else np.asarray(values.astype(object))
    missing = pd.isna(objects).tolist()
    texts = ["" if m else str(v) for v, m in zip(objects.tolist(), missing, strict=True)]
    return _quote(pa.array(texts, type=pa.string()))


def _format_floats(values: np.ndarray) -> pa.Array:
    """Fields of a float64 array as pandas writes them: numpy's ``str`` (Python's ``repr``: the
    shortest text that reads back as the same float), NaN empty.

    pyarrow prints the same shortest digits in a notation of its own. Its text is kept where
    it is in Python's positional notation (``1e-4 <= |x| < 1e16`` or zero, and no exponent),
    with ``.0`` added where it has no decimal point; the remaining values are printed by
    Python.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.ascontiguousarray(values)
    text = pc.cast(pa.array(values), pa.string())
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        plain = ((magnitude >= 1e-4) & (magnitude < 1e16)) | (values == 0.0)
    plain &= ~np.asarray(pc.match_substring(text, "e"))
    integral = plain & ~np.asarray(pc.match_substring(text, "."))
    if integral.any():
        text = pc.if_else(integral, pc.binary_join_element_wise(text, ".0", ""), text)
    missing = np.isnan(values)
    if missing.any():
        text = pc.if_else(missing, "", text)
    others = ~plain & ~missing
    if others.any():
        replacements = pa.array([repr(v) for v in values[others].tolist()], pa.string())
        text = pc.replace_with_mask(text, pa.array(others), replacements)
    return text


def _format_array(values: Any) -> pa.Array:
    """CSV fields of a 1-d numpy array or pandas extension array, as ``to_csv`` writes them."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.dtype.kind in "mM" or isinstance(values.dtype, pd.PeriodDtype | pd.IntervalDtype):
        raise TypeError(f"write_csv_zip: unsupported column dtype {values.dtype}")
    if isinstance(values, pd.Categorical):
        categories = _format_array(np.asarray(values.categories))
        codes = np.asarray(values.codes, dtype=np.int64)
        codes = np.where(codes < 0, len(categories), codes)
        return pa.concat_arrays([categories, pa.array([""], pa.string())]).take(codes)
    if not isinstance(values, np.ndarray) or values.dtype.kind == "O":
        return _format_objects(values)
    if values.dtype == np.float64:
        return _format_floats(values)
    if values.dtype.kind in "iu":
        return pc.cast(pa.array(values), pa.string())
    if values.dtype.kind == "b":
        return pc.if_else(pa.array(values), "True", "False")
    if values.dtype.kind == "f":  # other widths: numpy's text, as pandas writes them
        text = values.astype(str).astype(object)
        text[np.isnan(values)] = ""
        return pa.array(text.tolist(), type=pa.string())
    raise TypeError(f"write_csv_zip: unsupported column dtype {values.dtype}")


def _as_array(column: Any) -> Any:
    """A numpy array, or a pandas extension array where pandas would keep one."""
    import pandas as pd

    if isinstance(column, pd.Series | pd.Index):
        column = column.array
    elif isinstance(column, list | tuple):  # typed as the frame constructor types a list
        column = pd.Series(column).array
    elif not isinstance(column, np.ndarray) and not hasattr(column, "dtype"):
        column = np.asarray(column)
    if isinstance(column, pd.arrays.NumpyExtensionArray):
        return column.to_numpy()
    return column


class _PreparedColumn:
    """A column ready to write: :meth:`fields` is the text of its rows ``start:stop``, either a
    string array or (for a constant) a string scalar."""

    def __init__(self, column: Any) -> None:
        import pandas as pd

        self.constant: pa.Scalar | None = None
        self.values: Any = None
        self.index: np.ndarray | None = None
        self.text: pa.Array | None = None
        if isinstance(column, Gathered):
            self.text, self.index = _format_array(_as_array(column.values)), column.index
        elif isinstance(column, pd.Categorical):
            self.text = _format_array(pd.Categorical.from_codes(
                np.arange(-1, len(column.categories)), dtype=column.dtype
            ))
            self.index = np.asarray(column.codes, dtype=np.int64) + 1
        elif not isinstance(column, list | tuple) and np.ndim(column) == 0:
            self.constant = _format_array(_as_array(pd.Series([column])))[0]
        else:
            self.values = _as_array(column)

    @property
    def length(self) -> int | None:
        """Number of rows; None for a constant."""
        if self.constant is not None:
            return None
        return len(self.index if self.index is not None else self.values)

    def fields(self, start: int, stop: int) -> Any:
        if self.constant is not None:
            return self.constant
        if self.index is not None and self.text is not None:
            return self.text.take(self.index[start:stop])
        return _format_array(self.values[start:stop])


def _lines(fields: list[Any], rows: int) -> pa.Array:
    """Rows of CSV text (line terminator included) from each column's fields."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not any(isinstance(f, pa.Array) for f in fields):
        fields = [pa.array([fields[0].as_py()] * rows, pa.string()), *fields[1:]]
    if len(fields) == 1:  # the csv module quotes the only field of a row when it is empty
        fields = [pc.if_else(pc.equal(fields[0], ""), '""', fields[0])]
    parts: list[Any] = []
    for field in fields:
        parts += [field, ","]
    parts[-1] = os.linesep
    return pc.binary_join_element_wise(*parts, "")


def _text(lines: pa.Array) -> memoryview:
    """The concatenated UTF-8 text of a string array without nulls, without a copy."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(lines.buffers()[2])[int(first):int(last)]


def _prepare(columns: Mapping[str, Any]) -> tuple[list[_PreparedColumn], int]:
    prepared = [_PreparedColumn(column) for column in columns.values()]
    lengths = {column.length for column in prepared if column.length is not None}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return prepared, lengths.pop() if lengths else (1 if prepared else 0)


def csv_pieces(
    columns: Mapping[str, Any], *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[bytes | memoryview]:
    """The UTF-8 text of ``pandas.DataFrame(columns).to_csv(index=False)``, in pieces: the
    header, then up to ``chunk_rows`` rows at a time.

    Columns may be numpy arrays (numbers, bools, objects), pandas extension arrays
    (categoricals, strings, nullable types) or series, :class:`Gathered`, lists (typed as the
    frame constructor types them), or scalars (repeated on every row, as when a scalar is
    assigned to a frame's column). Date and time types are not supported.

    Raises:
        ValueError: If the columns differ in length.
        TypeError: For an unsupported type of column.
    """
    prepared, length = _prepare(columns)
    return _pieces(list(columns), prepared, length, chunk_rows)


def _pieces(
    names: list[Any], prepared: list[_PreparedColumn], length: int, chunk_rows: int
) -> Iterator[bytes | memoryview]:
    header = [_quote_text(str(name)) for name in names]
    if header == [""]:
        header = ['""']
    yield (",".join(header) + os.linesep).encode()
    for start in range(0, length, chunk_rows):
        stop = min(start + chunk_rows, length)
        yield _text(_lines([column.fields(start, stop) for column in prepared], stop - start))


def write_csv_zip(
    path: str | os.PathLike[str],
    columns: Mapping[str, Any],
    *,
    compresslevel: int | None = COMPRESSLEVEL,
    chunk_rows: int = CHUNK_ROWS,
) -> None:
    """Write ``columns`` as ``pandas.DataFrame(columns).to_csv(path, index=False)`` does for a
    ``.zip`` path: one deflated member named as the file without ``.zip``, holding the same
    text (see :func:`csv_pieces` for the columns accepted), formatted and compressed a chunk of
    rows at a time. ``compresslevel`` None is zlib's default, as pandas writes.
    """
    path = Path(path)
    member = path.with_suffix("").name if path.suffix == ".zip" else path.name
    prepared, length = _prepare(columns)
    pieces = _pieces(list(columns), prepared, length, chunk_rows)
    header, first = next(pieces), next(pieces, b"")
    # Zip64 only when the text may outgrow the plain format, which pandas' writer does too.
    estimate = len(header) + 1.5 * len(first) * max(1.0, length / chunk_rows)
    with (
        zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        ) as archive,
        archive.open(member, "w", force_zip64=estimate > zipfile.ZIP64_LIMIT) as out,
    ):
        out.write(header)
        out.write(first)
        _write_while_formatting(out, pieces)


def _write_while_formatting(out: Any, pieces: Iterator[bytes | memoryview]) -> None:
    """Write ``pieces`` in order to ``out``: a thread compresses one piece (zlib and the CRC
    release the GIL) while this one formats the next. The bytes are those of writing them in
    turn (pieces are immutable: new bytes, or views of pyarrow's immutable buffers)."""
    queue: Queue[bytes | memoryview | None] = Queue(maxsize=2)
    failure: list[BaseException] = []

    def write() -> None:
        while (piece := queue.get()) is not None:
            if not failure:
                try:
                    out.write(piece)
                except BaseException as err:  # re-raised by the formatting thread
                    failure.append(err)

    writer = threading.Thread(target=write, name="results-writer", daemon=True)
    writer.start()
    try:
        for piece in pieces:
            if failure:
                break
            queue.put(piece)
    finally:
        queue.put(None)
        writer.join()
    if failure:
        raise failure[0]
