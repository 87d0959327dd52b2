"""Domains with a finite list of values: :class:`Categorical` (unordered categories),
:class:`FiniteRange` (equally spaced numbers) and :class:`Ordinal` (ordered categories)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core.space.domains import (
    Domain,
    _category_key,
    _check_categories,
    _increasing,
    _int_arg,
    _is_int,
    _is_real,
    _nearest_index,
    _number_arg,
    _set,
    _unit_indices,
    _unit_scalar,
    _unit_vector,
)

ORDINAL_KINDS = ("equal", "nn", "nn-log")

# Tolerance for membership of float grid values (finrange/logfinrange): grid values are computed,
# so a value typed in by a user may differ from them in the last bits.
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


def _indices(domain: _Listed | FiniteRange, values: Sequence[Any]) -> np.ndarray:
    """:meth:`index` of each value.

    Raises:
        ValueError: The error of :meth:`encode` for the first value not in ``domain``.
    """
    found = [domain.index(v) for v in values]
    if None in found:
        raise domain._outside(values[found.index(None)])
    return np.array(found, dtype=np.int64)


class _Listed(Domain):
    """Shared behaviour of domains that are a list of categories (exact, type-aware lookup).

    Subclasses set ``categories`` and ``_index`` (category key -> position).
    """

    categories: tuple[Any, ...]
    _index: dict[tuple[str, Any], int]

    def index(self, value: Any) -> int | None:
        """Position of ``value`` among the categories, None if it is not one of them."""
        key = _category_key(value)
        return None if key is None else self._index.get(key)

    def _quantile(self, u: float) -> Any:
        n = len(self.categories)
        return self.categories[min(int(u * n), n - 1)]

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        idx = _unit_indices(u, len(self.categories)).tolist()
        return list(map(self.categories.__getitem__, idx))

    def contains(self, value: Any) -> bool:
        return self.index(value) is not None

    @property
    def values(self) -> list[Any]:
        return list(self.categories)

    @property
    def cardinality(self) -> int:
        return len(self.categories)


@dataclass(frozen=True, repr=False)
class Categorical(_Listed):
    """Uniform choice among unordered categories (str, int, float or bool); one-hot encoded.

    Membership is exact (no tolerance) and type-aware: ``True`` is not category ``1``.
    """

    categories: tuple[Any, ...]
    _index: dict[tuple[str, Any], int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        categories = _check_categories("choice", self.categories)
        _set(self, "categories", categories)
        _set(self, "_index", {_category_key(c): i for i, c in enumerate(categories)})

    def midpoint(self) -> Any:
        return self.categories[0]

    @property
    def encoded_dim(self) -> int:
        return len(self.categories)

    def encode(self, value: Any) -> np.ndarray:
        i = self.index(value)
        if i is None:
            raise self._outside(value)
        x = np.zeros(len(self.categories))
        x[i] = 1.0
        return x

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        idx = _indices(self, values)
        x = np.zeros((len(idx), len(self.categories)))
        x[np.arange(len(idx)), idx] = 1.0
        return x

    def decode(self, x: Any) -> Any:
        # np.argmax returns the first maximum, so ties go to the earlier category.
        return self.categories[int(np.argmax(_unit_vector(self, x)))]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "choice", "categories": list(self.categories)}

    def __repr__(self) -> str:
        return f"choice({list(self.categories)!r})"


@dataclass(frozen=True, repr=False)
class FiniteRange(Domain):
    """The ``size`` values equally spaced between ``lower`` and ``upper`` (in log if ``log``).

    Value ``i`` is encoded at ``i / (size - 1)`` (``0.5`` if ``size == 1``); decoding picks the
    nearest index. With ``cast_int`` the values are rounded to ints and must stay distinct.
    Float values are matched with a relative tolerance of 1e-9, since grid values are computed.
    """

    lower: int | float
    upper: int | float
    size: int
    log: bool = False
    cast_int: bool = False
    _values: tuple[Any, ...] = field(init=False, compare=False)
    _index: dict[int, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        fn = "logfinrange" if self.log else "finrange"
        lower = _number_arg(fn, "lower", self.lower)
        upper = _number_arg(fn, "upper", self.upper)
        size = _int_arg(fn, "size", self.size)
        if size < 1:
            raise ValueError(f"{fn}: size must be >= 1, got {size}")
        for name in ("log", "cast_int"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{fn}: {name} must be a bool, got {getattr(self, name)!r}")
        if self.log and not lower > 0:
            raise ValueError(f"{fn}: lower must be > 0, got {lower!r}")
        if lower > upper or (size > 1 and lower == upper):
            op = "<" if size > 1 else "<="
            raise ValueError(
                f"{fn}: lower ({lower!r}) must be {op} upper ({upper!r}) for size {size}"
            )
        grid: list[Any] = [float(lower)]
        if size > 1:
            if self.log:
                log_lo, log_hi = math.log(lower), math.log(upper)
                step = (log_hi - log_lo) / (size - 1)
                grid = [math.exp(log_lo + i * step) for i in range(size)]
            else:
                step = (upper - lower) / (size - 1)
                grid = [lower + i * step for i in range(size)]
            # The ends should be the given bounds exactly, not exp(log(.)) of them.
            grid[0], grid[-1] = float(lower), float(upper)
        grid = [round(v) for v in grid] if self.cast_int else [float(v) for v in grid]
        if not _increasing(grid):
            raise ValueError(
                f"{fn}: values must be distinct, but {fn}({lower!r}, {upper!r}, {size}, "
                f"cast_int={self.cast_int}) gives {grid!r}; use a smaller size"
            )
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        _set(self, "size", size)
        _set(self, "_values", tuple(grid))
        _set(self, "_index", {v: i for i, v in enumerate(grid)} if self.cast_int else {})

    def _position(self, i: int) -> float:
        return i / (self.size - 1) if self.size > 1 else 0.5

    def index(self, value: Any) -> int | None:
        """Index of ``value`` in the grid, None if it is not a grid value."""
        if self.cast_int:
            return self._index.get(int(value)) if _is_int(value) else None
        if not _is_real(value) or not math.isfinite(value):
            return None
        i = _nearest_index(self._values, float(value))
        close = math.isclose(self._values[i], value, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
        return i if close else None

    def _quantile(self, u: float) -> Any:
        return self._values[min(int(u * self.size), self.size - 1)]

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        return list(map(self._values.__getitem__, _unit_indices(u, self.size).tolist()))

    def contains(self, value: Any) -> bool:
        return self.index(value) is not None

    def midpoint(self) -> Any:
        if self.log:
            mid = math.sqrt(self.lower) * math.sqrt(self.upper)
        else:
            mid = 0.5 * (self.lower + self.upper)
        return self._values[_nearest_index(self._values, mid)]

    def encode(self, value: Any) -> np.ndarray:
        i = self.index(value)
        if i is None:
            raise self._outside(value)
        return np.array([self._position(i)])

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        idx = _indices(self, values)
        return (idx / (self.size - 1) if self.size > 1 else np.full(len(idx), 0.5))[:, None]

    def decode(self, x: Any) -> Any:
        t = _unit_scalar(self, x)
        # ceil(. - 0.5) is nearest-index rounding with ties going to the lower index.
        i = math.ceil(t * (self.size - 1) - 0.5)
        return self._values[min(max(i, 0), self.size - 1)]

    @property
    def values(self) -> list[Any]:
        return list(self._values)

    @property
    def cardinality(self) -> int:
        return self.size

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "logfinrange" if self.log else "finrange",
            "lower": self.lower,
            "upper": self.upper,
            "size": self.size,
            "cast_int": self.cast_int,
        }

    def __repr__(self) -> str:
        fn = "logfinrange" if self.log else "finrange"
        cast = ", cast_int=True" if self.cast_int else ""
        return f"{fn}({self.lower!r}, {self.upper!r}, {self.size}{cast})"


@dataclass(frozen=True, repr=False)
class Ordinal(_Listed):
    """An ordered finite set, encoded as one position in ``[0, 1]``.

    ``kind`` places category ``i`` at

    * ``"equal"``: ``i / (n - 1)`` (categories may be any values),
    * ``"nn"``: proportional to its value between the first and the last category (numeric,
      strictly increasing),
    * ``"nn-log"``: proportional to its log value (numeric, positive, strictly increasing).

    Decoding returns the category whose position is nearest (ties go to the lower one).
    Sampling is uniform over the categories; membership is exact, as for :class:`Categorical`.
    """

    categories: tuple[Any, ...]
    kind: str = "nn"
    _index: dict[tuple[str, Any], int] = field(init=False, compare=False)
    _positions: tuple[float, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ORDINAL_KINDS:
            raise ValueError(
                f"ordinal: kind must be one of {list(ORDINAL_KINDS)}, got {self.kind!r}"
            )
        fn = "logordinal" if self.kind == "nn-log" else "ordinal"
        cats = _check_categories(fn, self.categories)
        n = len(cats)
        if self.kind == "equal":
            positions = [i / (n - 1) if n > 1 else 0.5 for i in range(n)]
        else:
            ok = all(_is_real(c) for c in cats) and _increasing(cats)
            if self.kind == "nn-log":
                ok = ok and cats[0] > 0
            if not ok:
                need = "positive " if self.kind == "nn-log" else ""
                raise ValueError(
                    f"{fn}: kind={self.kind!r} requires {need}numeric, strictly increasing "
                    f"categories, got {list(cats)!r}"
                )
            scale = [math.log(c) for c in cats] if self.kind == "nn-log" else list(cats)
            lo, width = scale[0], scale[-1] - scale[0]
            positions = [(s - lo) / width for s in scale] if n > 1 else [0.5]
            if not _increasing(positions):
                raise ValueError(f"{fn}: categories {list(cats)!r} are too close to be told apart")
        _set(self, "categories", cats)
        _set(self, "_index", {_category_key(c): i for i, c in enumerate(cats)})
        _set(self, "_positions", tuple(positions))

    def midpoint(self) -> Any:
        cats = self.categories
        if self.kind == "equal":
            return cats[(len(cats) - 1) // 2]
        if self.kind == "nn-log":
            mid = math.sqrt(cats[0]) * math.sqrt(cats[-1])
        else:
            mid = 0.5 * (cats[0] + cats[-1])
        return cats[_nearest_index(cats, mid)]

    def encode(self, value: Any) -> np.ndarray:
        i = self.index(value)
        if i is None:
            raise self._outside(value)
        return np.array([self._positions[i]])

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        return np.array(self._positions)[_indices(self, values)][:, None]

    def decode(self, x: Any) -> Any:
        return self.categories[_nearest_index(self._positions, _unit_scalar(self, x))]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ordinal", "categories": list(self.categories), "kind": self.kind}

    def __repr__(self) -> str:
        if self.kind == "nn-log":
            return f"logordinal({list(self.categories)!r})"
        return f"ordinal({list(self.categories)!r}, kind={self.kind!r})"
