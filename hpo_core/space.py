"""Configuration spaces: hyperparameter domains, sampling, the midpoint rule and encodings.

A configuration space is a plain ``dict[str, Domain | Any]``. Values that are :class:`Domain`
instances are hyperparameters; any other value is a constant that is passed through unchanged
to every configuration (e.g. ``"epochs": 81``). The semantics follow Syne Tune's config space::

    config_space = {
        "lr": loguniform(1e-4, 1.0),
        "batch_size": logfinrange(8, 64, 4, cast_int=True),
        "activation": choice(["tanh", "relu"]),
        "epochs": 81,
    }

Every domain can

* draw values (:meth:`Domain.sample`, :meth:`Domain.sample_many`) from a
  :class:`numpy.random.Generator` that the caller passes in; there is no global random state,
* test membership (:meth:`Domain.contains`),
* give its default value by the *midpoint rule* (:meth:`Domain.midpoint`), which is what
  ``points_to_evaluate`` defaults to,
* map values to vectors in ``[0, 1]^d`` and back (:meth:`Domain.encode`, :meth:`Domain.decode`),
  which model-based searchers work with. Decoding accepts any vector (entries are clipped to
  ``[0, 1]`` first) and returns the nearest valid value, so an optimizer working in the unit cube
  always ends up with a valid configuration. ``decode(encode(v)) == v`` holds exactly for every
  discrete domain.

Midpoint rule (ties between two equally near values resolve to the lower one):

==================  ========================================================================
``uniform``         ``(lower + upper) / 2``
``loguniform``      ``sqrt(lower * upper)``
``randint``         ``(lower + upper) / 2`` rounded half up, e.g. ``randint(1, 10)`` -> 6
``lograndint``      ``sqrt(lower * upper)`` rounded to the nearest int
``choice``          the first category
``finrange``        the grid value nearest (in value) to ``(lower + upper) / 2``
``logfinrange``     the grid value nearest (in value) to ``sqrt(lower * upper)``, e.g.
                    ``logfinrange(8, 64, 4, cast_int=True)`` -> 16 (``sqrt(512)`` ~ 22.6)
``ordinal``         ``kind="equal"``: ``categories[(n - 1) // 2]``; ``kind="nn"``: the category
                    nearest to the middle of ``[first, last]``; ``kind="nn-log"``: the category
                    nearest to ``sqrt(first * last)``
==================  ========================================================================
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Categorical",
    "Domain",
    "FiniteRange",
    "LogRandInt",
    "LogUniform",
    "Ordinal",
    "RandInt",
    "SpaceEncoder",
    "Uniform",
    "check_space",
    "choice",
    "complete_config",
    "config_key",
    "constants",
    "finrange",
    "hyperparameters",
    "logfinrange",
    "logordinal",
    "lograndint",
    "loguniform",
    "midpoint_config",
    "ordinal",
    "randint",
    "sample_config",
    "space_from_dict",
    "space_from_json",
    "space_to_dict",
    "space_to_json",
    "uniform",
    "validate_config",
]

ORDINAL_KINDS = ("equal", "nn", "nn-log")

# Tolerance for membership of float grid values (finrange/logfinrange): grid values are computed,
# so a value typed in by a user may differ from them in the last bits.
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


# ---------------------------------------------------------------------------------------------
# Argument checking helpers
# ---------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    """Integral number, bools excluded (``True`` is not a batch size)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    """Real number (ints included), bools excluded."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _plain(value: Any) -> Any:
    """Python scalar for a numpy scalar, so values hash, compare and serialise like builtins."""
    return value.item() if isinstance(value, np.generic) else value


def _real_arg(fn: str, name: str, value: Any) -> float:
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{fn}: {name} must be a finite real number, got {value!r}")
    return float(value)


def _number_arg(fn: str, name: str, value: Any) -> int | float:
    """Like :func:`_real_arg` but keeps ints as ints (for ``repr`` and JSON fidelity)."""
    if _is_int(value):
        return int(value)
    return _real_arg(fn, name, value)


def _int_arg(fn: str, name: str, value: Any) -> int:
    if not _is_int(value):
        raise ValueError(f"{fn}: {name} must be an int, got {value!r}")
    return int(value)


def _set(obj: object, name: str, value: Any) -> None:
    # Domains are frozen dataclasses; normalised fields and caches are set once in __post_init__.
    object.__setattr__(obj, name, value)


def _category_key(value: Any) -> tuple[str, Any] | None:
    """Lookup key of a category value, or None if the value cannot be a category.

    Bools get their own tag because ``True == 1`` would otherwise let ``True`` match category
    ``1``; ints and floats share one tag so that ``1`` and ``1.0`` are the same category.
    """
    if isinstance(value, bool | np.bool_):
        return ("bool", bool(value))
    if isinstance(value, str):
        return ("str", str(value))
    if isinstance(value, numbers.Real):
        plain = _plain(value)
        if isinstance(plain, float) and not math.isfinite(plain):
            return None
        return ("num", plain)
    return None


def _check_categories(fn: str, categories: Any) -> tuple[Any, ...]:
    if (
        isinstance(categories, str | bytes)
        or not isinstance(categories, Sequence | np.ndarray)
        or len(categories) == 0
    ):
        raise ValueError(f"{fn}: categories must be a non-empty list, got {categories!r}")
    result = []
    seen: set[tuple[str, Any]] = set()
    for value in categories:
        value = _plain(value)
        key = _category_key(value)
        if key is None:
            raise ValueError(
                f"{fn}: categories must be finite str, int, float or bool values, got {value!r}"
            )
        if key in seen:
            raise ValueError(f"{fn}: categories must be distinct, got {value!r} twice")
        seen.add(key)
        result.append(value)
    return tuple(result)


def _increasing(seq: Sequence[Any]) -> bool:
    return all(a < b for a, b in itertools.pairwise(seq))


def _unit_vector(domain: Domain, x: Any) -> np.ndarray:
    """``x`` as a flat float vector of the domain's encoded size, clipped to ``[0, 1]``."""
    arr = np.asarray(x, dtype=float).reshape(-1)
    if arr.shape[0] != domain.encoded_dim:
        raise ValueError(
            f"{domain!r}: expected an encoded vector of length {domain.encoded_dim}, "
            f"got shape {np.shape(x)}"
        )
    if np.isnan(arr).any():
        # NaN has no nearest valid value; it signals a bug upstream that clipping would hide.
        raise ValueError(f"{domain!r}: cannot decode a vector containing NaN: {arr.tolist()}")
    return np.clip(arr, 0.0, 1.0)


def _unit_scalar(domain: Domain, x: Any) -> float:
    return float(_unit_vector(domain, x)[0])


def _nearest_index(points: Sequence[float], target: float) -> int:
    """Index of the point nearest to ``target`` in an increasing sequence; ties go low."""
    i = bisect.bisect_left(points, target)
    if i == 0:
        return 0
    if i == len(points):
        return len(points) - 1
    return i - 1 if target - points[i - 1] <= points[i] - target else i


def _check_size(size: Any) -> int:
    if not _is_int(size) or size < 0:
        raise ValueError(f"sample_many: size must be an int >= 0, got {size!r}")
    return int(size)


def _random_indices(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    # Same transform as the scalar path (int(r * n)), so one seed means one stream of indices.
    return np.minimum((rng.random(size) * n).astype(np.int64), n - 1)


# ---------------------------------------------------------------------------------------------
# Domains
# ---------------------------------------------------------------------------------------------


class Domain(ABC):
    """A hyperparameter's set of values, with sampling, midpoint rule and ``[0, 1]`` encoding.

    Domains are immutable, compare equal by value and are hashable. Values they return are plain
    Python scalars (never numpy scalars), so configurations are JSON-serialisable.
    """

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn from the domain's distribution.

        Args:
            rng: Source of all randomness.

        Returns:
            A plain Python value inside the domain.
        """
        return self._quantile(rng.random())

    @abstractmethod
    def _quantile(self, u: float) -> Any:
        """The value that a draw ``u`` uniform in ``[0, 1)`` maps to (inverse-CDF sampling).

        Every domain samples by transforming one uniform draw, which lets
        :func:`sample_config` draw the uniforms of all hyperparameters in one numpy call.
        """

    @abstractmethod
    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        """``size`` values drawn with one vectorised numpy call.

        Args:
            rng: Source of all randomness.
            size: Number of values, ``>= 0``.

        Returns:
            A list of plain Python values inside the domain.
        """

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this domain."""

    @abstractmethod
    def midpoint(self) -> Any:
        """The default value by the midpoint rule (see the module docstring)."""

    @property
    def encoded_dim(self) -> int:
        """Length of the vectors :meth:`encode` returns."""
        return 1

    @abstractmethod
    def encode(self, value: Any) -> np.ndarray:
        """``value`` as a vector of shape ``(encoded_dim,)`` with entries in ``[0, 1]``.

        Raises:
            ValueError: If ``value`` is not in the domain.
        """

    @abstractmethod
    def decode(self, x: Any) -> Any:
        """The valid value nearest to the encoded vector ``x``.

        Entries outside ``[0, 1]`` are clipped first, so any finite or infinite vector decodes.

        Raises:
            ValueError: If ``x`` has the wrong length or contains NaN.
        """

    @property
    def values(self) -> list[Any] | None:
        """All values of a finite domain in increasing/listed order, None for continuous ones."""
        return None

    @property
    def cardinality(self) -> int | None:
        """Number of values of a finite domain, None for continuous ones."""
        return None

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description, inverse of :func:`space_from_dict` for one domain."""

    @abstractmethod
    def __repr__(self) -> str:
        """Factory syntax, e.g. ``loguniform(0.0001, 1.0)``."""

    def __str__(self) -> str:
        return repr(self)

    def _outside(self, value: Any) -> ValueError:
        return ValueError(f"cannot encode {value!r}: it is outside the domain {self!r}")


@dataclass(frozen=True, repr=False)
class Uniform(Domain):
    """Real values uniform in ``[lower, upper]``; encoded linearly."""

    lower: float
    upper: float
    _width: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        lower = _real_arg("uniform", "lower", self.lower)
        upper = _real_arg("uniform", "upper", self.upper)
        if not lower < upper:
            raise ValueError(f"uniform: lower ({lower!r}) must be < upper ({upper!r})")
        if not math.isfinite(upper - lower):
            raise ValueError(f"uniform: upper - lower must be finite, got [{lower!r}, {upper!r}]")
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        _set(self, "_width", upper - lower)

    def _from_unit(self, t: float) -> float:
        return min(max(self.lower + t * self._width, self.lower), self.upper)

    def _quantile(self, u: float) -> float:
        return self._from_unit(u)

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        vals = np.clip(self.lower + rng.random(size) * self._width, self.lower, self.upper)
        return list(vals.tolist())

    def contains(self, value: Any) -> bool:
        return _is_real(value) and self.lower <= value <= self.upper

    def midpoint(self) -> float:
        return self._from_unit(0.5)

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        return np.array([min(max((float(value) - self.lower) / self._width, 0.0), 1.0)])

    def decode(self, x: Any) -> float:
        return self._from_unit(_unit_scalar(self, x))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "uniform", "lower": self.lower, "upper": self.upper}

    def __repr__(self) -> str:
        return f"uniform({self.lower!r}, {self.upper!r})"


@dataclass(frozen=True, repr=False)
class LogUniform(Domain):
    """Real values ``exp(x)``, ``x`` uniform in ``[log lower, log upper]``; encoded in log."""

    lower: float
    upper: float
    _log_lower: float = field(init=False, compare=False)
    _log_width: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        lower = _real_arg("loguniform", "lower", self.lower)
        upper = _real_arg("loguniform", "upper", self.upper)
        if not lower > 0:
            raise ValueError(f"loguniform: lower must be > 0, got {lower!r}")
        if not lower < upper:
            raise ValueError(f"loguniform: lower ({lower!r}) must be < upper ({upper!r})")
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        _set(self, "_log_lower", math.log(lower))
        _set(self, "_log_width", math.log(upper) - math.log(lower))

    def _from_unit(self, t: float) -> float:
        # exp(log(x)) may miss the bounds by an ulp; clipping keeps values inside the domain.
        value = math.exp(self._log_lower + t * self._log_width)
        return min(max(value, self.lower), self.upper)

    def _quantile(self, u: float) -> float:
        return self._from_unit(u)

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        vals = np.exp(self._log_lower + rng.random(size) * self._log_width)
        return list(np.clip(vals, self.lower, self.upper).tolist())

    def contains(self, value: Any) -> bool:
        return _is_real(value) and self.lower <= value <= self.upper

    def midpoint(self) -> float:
        # sqrt(l) * sqrt(u) rather than sqrt(l * u): the product can overflow or underflow.
        return min(max(math.sqrt(self.lower) * math.sqrt(self.upper), self.lower), self.upper)

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        t = (math.log(value) - self._log_lower) / self._log_width
        return np.array([min(max(t, 0.0), 1.0)])

    def decode(self, x: Any) -> float:
        return self._from_unit(_unit_scalar(self, x))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "loguniform", "lower": self.lower, "upper": self.upper}

    def __repr__(self) -> str:
        return f"loguniform({self.lower!r}, {self.upper!r})"


@dataclass(frozen=True, repr=False)
class RandInt(Domain):
    """Integers uniform in ``lower..upper`` (inclusive).

    Encoding: integer ``k`` sits at the centre ``(k - lower + 0.5) / n`` of its cell of width
    ``1 / n``, ``n = upper - lower + 1``; decoding returns the integer whose cell contains the
    point, so every point of ``[0, 1]`` maps to its nearest integer.
    """

    lower: int
    upper: int

    def __post_init__(self) -> None:
        lower = _int_arg("randint", "lower", self.lower)
        upper = _int_arg("randint", "upper", self.upper)
        if lower > upper:
            raise ValueError(f"randint: lower ({lower}) must be <= upper ({upper})")
        _set(self, "lower", lower)
        _set(self, "upper", upper)

    @property
    def _n(self) -> int:
        return self.upper - self.lower + 1

    def _quantile(self, u: float) -> int:
        n = self._n
        return self.lower + min(int(u * n), n - 1)

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        return list((self.lower + _random_indices(rng, self._n, size)).tolist())

    def contains(self, value: Any) -> bool:
        return _is_int(value) and self.lower <= value <= self.upper

    def midpoint(self) -> int:
        # Round half up: (l + u + 1) // 2 is exact for any size of int, unlike float rounding.
        return (self.lower + self.upper + 1) // 2

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        return np.array([(int(value) - self.lower + 0.5) / self._n])

    def decode(self, x: Any) -> int:
        n = self._n
        return self.lower + min(math.floor(_unit_scalar(self, x) * n), n - 1)

    @property
    def values(self) -> list[Any]:
        """``[lower, ..., upper]``, built on each access: mind wide ranges, prefer
        :attr:`cardinality` for counting."""
        return list(range(self.lower, self.upper + 1))

    @property
    def cardinality(self) -> int:
        return self._n

    def to_dict(self) -> dict[str, Any]:
        return {"type": "randint", "lower": self.lower, "upper": self.upper}

    def __repr__(self) -> str:
        return f"randint({self.lower}, {self.upper})"


@dataclass(frozen=True, repr=False)
class LogRandInt(Domain):
    """Integers log-uniform in ``lower..upper``: ``round(exp(x))``, ``x`` uniform in
    ``[log(lower - 0.5), log(upper + 0.5)]``, so each integer gets the log-width of its cell.

    The encoding is linear in that log scale; decoding rounds to the nearest integer.
    """

    lower: int
    upper: int
    _log_lower: float = field(init=False, compare=False)
    _log_width: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        lower = _int_arg("lograndint", "lower", self.lower)
        upper = _int_arg("lograndint", "upper", self.upper)
        if lower < 1:
            raise ValueError(f"lograndint: lower must be >= 1, got {lower}")
        if lower > upper:
            raise ValueError(f"lograndint: lower ({lower}) must be <= upper ({upper})")
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        _set(self, "_log_lower", math.log(lower - 0.5))
        _set(self, "_log_width", math.log(upper + 0.5) - math.log(lower - 0.5))

    def _from_unit(self, t: float) -> int:
        value = math.floor(math.exp(self._log_lower + t * self._log_width) + 0.5)
        return min(max(value, self.lower), self.upper)

    def _quantile(self, u: float) -> int:
        return self._from_unit(u)

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        vals = np.floor(np.exp(self._log_lower + rng.random(size) * self._log_width) + 0.5)
        return list(np.clip(vals, self.lower, self.upper).astype(np.int64).tolist())

    def contains(self, value: Any) -> bool:
        return _is_int(value) and self.lower <= value <= self.upper

    def midpoint(self) -> int:
        value = math.floor(math.sqrt(self.lower) * math.sqrt(self.upper) + 0.5)
        return min(max(value, self.lower), self.upper)

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        t = (math.log(value) - self._log_lower) / self._log_width
        return np.array([min(max(t, 0.0), 1.0)])

    def decode(self, x: Any) -> int:
        return self._from_unit(_unit_scalar(self, x))

    @property
    def values(self) -> list[Any]:
        """``[lower, ..., upper]``, built on each access (see :attr:`RandInt.values`)."""
        return list(range(self.lower, self.upper + 1))

    @property
    def cardinality(self) -> int:
        return self.upper - self.lower + 1

    def to_dict(self) -> dict[str, Any]:
        return {"type": "lograndint", "lower": self.lower, "upper": self.upper}

    def __repr__(self) -> str:
        return f"lograndint({self.lower}, {self.upper})"


@dataclass(frozen=True, repr=False)
class Categorical(Domain):
    """Uniform choice among unordered categories (str, int, float or bool); one-hot encoded.

    Membership is exact (no tolerance) and type-aware: ``True`` is not category ``1``.
    """

    categories: tuple[Any, ...]
    _index: dict[tuple[str, Any], int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        categories = _check_categories("choice", self.categories)
        _set(self, "categories", categories)
        _set(self, "_index", {_category_key(c): i for i, c in enumerate(categories)})

    def index(self, value: Any) -> int | None:
        """Position of ``value`` among the categories, None if it is not one of them."""
        key = _category_key(value)
        return None if key is None else self._index.get(key)

    def _quantile(self, u: float) -> Any:
        n = len(self.categories)
        return self.categories[min(int(u * n), n - 1)]

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        cats = self.categories
        return [cats[i] for i in _random_indices(rng, len(cats), size).tolist()]

    def contains(self, value: Any) -> bool:
        return self.index(value) is not None

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

    def decode(self, x: Any) -> Any:
        # np.argmax returns the first maximum, so ties go to the earlier category.
        return self.categories[int(np.argmax(_unit_vector(self, x)))]

    @property
    def values(self) -> list[Any]:
        return list(self.categories)

    @property
    def cardinality(self) -> int:
        return len(self.categories)

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

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        vals = self._values
        return [vals[i] for i in _random_indices(rng, self.size, size).tolist()]

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
class Ordinal(Domain):
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

    def index(self, value: Any) -> int | None:
        """Position of ``value`` in the category list, None if it is not one of them."""
        key = _category_key(value)
        return None if key is None else self._index.get(key)

    def _quantile(self, u: float) -> Any:
        n = len(self.categories)
        return self.categories[min(int(u * n), n - 1)]

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        size = _check_size(size)
        cats = self.categories
        return [cats[i] for i in _random_indices(rng, len(cats), size).tolist()]

    def contains(self, value: Any) -> bool:
        return self.index(value) is not None

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

    def decode(self, x: Any) -> Any:
        return self.categories[_nearest_index(self._positions, _unit_scalar(self, x))]

    @property
    def values(self) -> list[Any]:
        return list(self.categories)

    @property
    def cardinality(self) -> int:
        return len(self.categories)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ordinal", "categories": list(self.categories), "kind": self.kind}

    def __repr__(self) -> str:
        if self.kind == "nn-log":
            return f"logordinal({list(self.categories)!r})"
        return f"ordinal({list(self.categories)!r}, kind={self.kind!r})"


# ---------------------------------------------------------------------------------------------
# Factories
# ---------------------------------------------------------------------------------------------


def uniform(lower: float, upper: float) -> Uniform:
    """Real values uniform in ``[lower, upper]`` (``lower < upper``)."""
    return Uniform(lower, upper)


def loguniform(lower: float, upper: float) -> LogUniform:
    """Real values uniform in log scale in ``[lower, upper]`` (``0 < lower < upper``)."""
    return LogUniform(lower, upper)


def randint(lower: int, upper: int) -> RandInt:
    """Integers uniform in ``lower..upper``, both ends included."""
    return RandInt(lower, upper)


def lograndint(lower: int, upper: int) -> LogRandInt:
    """Integers log-uniform in ``lower..upper``, both ends included (``lower >= 1``)."""
    return LogRandInt(lower, upper)


def choice(categories: Sequence[Any]) -> Categorical:
    """Uniform choice among distinct str/int/float/bool categories (unordered)."""
    return Categorical(_check_categories("choice", categories))


def finrange(lower: float, upper: float, size: int, *, cast_int: bool = False) -> FiniteRange:
    """The ``size`` values ``lower + i * (upper - lower) / (size - 1)``, ``i = 0..size-1``.

    Args:
        lower: First value.
        upper: Last value.
        size: Number of values; ``size == 1`` gives just ``lower``.
        cast_int: Round the values to ints.
    """
    return FiniteRange(lower, upper, size, log=False, cast_int=cast_int)


def logfinrange(lower: float, upper: float, size: int, *, cast_int: bool = False) -> FiniteRange:
    """Like :func:`finrange` but equally spaced in log scale (``lower > 0``).

    Example: ``logfinrange(8, 64, 4, cast_int=True)`` has values ``[8, 16, 32, 64]``.
    """
    return FiniteRange(lower, upper, size, log=True, cast_int=cast_int)


def ordinal(categories: Sequence[Any], *, kind: str = "nn") -> Ordinal:
    """An ordered finite set; ``kind`` is ``"equal"``, ``"nn"`` or ``"nn-log"`` (see
    :class:`Ordinal`)."""
    fn = "logordinal" if kind == "nn-log" else "ordinal"
    return Ordinal(_check_categories(fn, categories), kind)


def logordinal(categories: Sequence[Any]) -> Ordinal:
    """``ordinal(categories, kind="nn-log")``."""
    return ordinal(categories, kind="nn-log")


# ---------------------------------------------------------------------------------------------
# Spaces and configurations
# ---------------------------------------------------------------------------------------------


def hyperparameters(space: Mapping[str, Any]) -> dict[str, Domain]:
    """The hyperparameters (:class:`Domain` entries) of ``space``, in insertion order."""
    return {k: v for k, v in space.items() if isinstance(v, Domain)}


def constants(space: Mapping[str, Any]) -> dict[str, Any]:
    """The constants (non-:class:`Domain` entries) of ``space``, in insertion order."""
    return {k: v for k, v in space.items() if not isinstance(v, Domain)}


def check_space(space: Any) -> None:
    """Raise if ``space`` is not a usable configuration space.

    Raises:
        ValueError: If ``space`` is not a mapping with str keys or has no hyperparameter.
    """
    if not isinstance(space, Mapping):
        raise ValueError(
            f"config_space must be a dict of str -> Domain or constant, got {type(space).__name__}"
        )
    bad = [k for k in space if not isinstance(k, str)]
    if bad:
        raise ValueError(f"config_space keys must be str, got {bad!r}")
    if not any(isinstance(v, Domain) for v in space.values()):
        raise ValueError(f"config_space has no hyperparameters to search over: {dict(space)!r}")


def sample_config(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A random configuration: every hyperparameter sampled, constants passed through.

    The space is not re-validated here (this runs once per trial); call :func:`check_space` once
    up front.

    Args:
        space: The configuration space.
        rng: Source of all randomness.

    Returns:
        A dict with all keys of ``space``, in its order.
    """
    config = dict(space)
    hps = [(k, v) for k, v in config.items() if isinstance(v, Domain)]
    # One vectorised draw for all hyperparameters: the same stream as calling each domain's
    # sample() in turn, at a fraction of the per-call overhead of rng.random().
    for (k, v), u in zip(hps, rng.random(len(hps)).tolist(), strict=True):
        config[k] = v._quantile(u)
    return config


def midpoint_config(space: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration by the midpoint rule (the default ``points_to_evaluate``)."""
    check_space(space)
    return {k: v.midpoint() if isinstance(v, Domain) else v for k, v in space.items()}


def complete_config(space: Mapping[str, Any], partial: Mapping[str, Any]) -> dict[str, Any]:
    """``partial`` with missing hyperparameters set by the midpoint rule and constants added.

    Args:
        space: The configuration space.
        partial: Values for some hyperparameters (and possibly constants). Values are kept as
            given, except that numpy scalars become Python scalars.

    Returns:
        A full configuration in the space's key order.

    Raises:
        ValueError: If ``partial`` has unknown keys or a value outside its domain, or a constant
            differs from the space's value.
    """
    check_space(space)
    if not isinstance(partial, Mapping):
        raise ValueError(f"a config must be a dict, got {type(partial).__name__}")
    config: dict[str, Any] = {}
    for name, entry in space.items():
        if name in partial:
            # numpy scalars (e.g. from a searcher's arrays) become builtins, as sampled values are.
            config[name] = _plain(partial[name])
        else:
            config[name] = entry.midpoint() if isinstance(entry, Domain) else entry
    # Unknown keys of ``partial`` are kept so that validation reports them.
    config.update({k: v for k, v in partial.items() if k not in space})
    validate_config(space, config)
    return config


def _same_constant(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return False


def validate_config(space: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise unless ``config`` is a valid configuration of ``space``.

    Constants may be left out of ``config``; if present they must equal the space's value.

    Raises:
        ValueError: Naming the hyperparameter and its domain (or the constant, or the unknown
            keys together with the allowed ones).
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a config must be a dict, got {type(config).__name__}")
    unknown = [k for k in config if k not in space]
    if unknown:
        raise ValueError(f"config has unknown key(s) {unknown!r}; allowed keys are {list(space)!r}")
    for name, entry in space.items():
        if isinstance(entry, Domain):
            if name not in config:
                raise ValueError(f"config is missing hyperparameter {name!r} (domain {entry!r})")
            value = config[name]
            if not entry.contains(value):
                raise ValueError(
                    f"hyperparameter {name!r} = {value!r} is outside its domain {entry!r}"
                )
        elif name in config and not _same_constant(config[name], entry):
            raise ValueError(f"constant {name!r} must be {entry!r}, got {config[name]!r}")


def config_key(space: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[Any, ...]:
    """Hashable key of ``config`` over the hyperparameters of ``space`` (for duplicate checks).

    Values are used as given (floats are not rounded), in the space's hyperparameter order.

    Raises:
        ValueError: If ``config`` lacks a hyperparameter.
    """
    try:
        return tuple(config[k] for k, v in space.items() if isinstance(v, Domain))
    except KeyError as err:
        raise ValueError(f"config is missing hyperparameter {err.args[0]!r}") from None


_FROM_DICT = {
    "uniform": lambda d: Uniform(d["lower"], d["upper"]),
    "loguniform": lambda d: LogUniform(d["lower"], d["upper"]),
    "randint": lambda d: RandInt(d["lower"], d["upper"]),
    "lograndint": lambda d: LogRandInt(d["lower"], d["upper"]),
    "choice": lambda d: choice(d["categories"]),
    "finrange": lambda d: finrange(
        d["lower"], d["upper"], d["size"], cast_int=d.get("cast_int", False)
    ),
    "logfinrange": lambda d: logfinrange(
        d["lower"], d["upper"], d["size"], cast_int=d.get("cast_int", False)
    ),
    "ordinal": lambda d: ordinal(d["categories"], kind=d.get("kind", "nn")),
    "constant": lambda d: d["value"],
}


def space_to_dict(space: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready description of ``space``; constants become ``{"type": "constant", ...}``."""
    check_space(space)
    return {
        k: v.to_dict() if isinstance(v, Domain) else {"type": "constant", "value": v}
        for k, v in space.items()
    }


def space_from_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`space_to_dict`.

    Raises:
        ValueError: If an entry has an unknown ``type`` or lacks a field.
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"space description must be a dict, got {type(d).__name__}")
    space: dict[str, Any] = {}
    for name, entry in d.items():
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if not isinstance(kind, str) or kind not in _FROM_DICT:
            raise ValueError(
                f"space entry {name!r}: type must be one of {sorted(_FROM_DICT)}, got {entry!r}"
            )
        try:
            space[name] = _FROM_DICT[kind](entry)
        except KeyError as err:
            raise ValueError(
                f"space entry {name!r} lacks field {err.args[0]!r}: {entry!r}"
            ) from None
    check_space(space)
    return space


def space_to_json(space: Mapping[str, Any]) -> str:
    """:func:`space_to_dict` as a JSON string.

    Raises:
        ValueError: If a constant is not JSON-serialisable.
    """
    try:
        return json.dumps(space_to_dict(space), allow_nan=False)
    except TypeError as err:
        raise ValueError(
            f"config_space has a constant that is not JSON-serialisable: {err}"
        ) from None


def space_from_json(s: str) -> dict[str, Any]:
    """Inverse of :func:`space_to_json`."""
    return space_from_dict(json.loads(s))


class SpaceEncoder:
    """Maps configurations of a space to vectors in ``[0, 1]^dim`` and back.

    Each hyperparameter owns the slice ``slices[name]`` of the vector (one entry, or one per
    category for :class:`Categorical`). Decoding returns full configurations (constants
    included); for discrete spaces ``decode(encode(c)) == c`` exactly.

    Args:
        space: The configuration space.

    Attributes:
        dim: Length of the encoded vectors.
        names: The hyperparameters, in the space's order.
        slices: For each hyperparameter, its slice of the vector.
    """

    def __init__(self, space: Mapping[str, Any]) -> None:
        check_space(space)
        self.space = dict(space)
        self._domains = hyperparameters(space)
        self.names: list[str] = list(self._domains)
        self.slices: dict[str, slice] = {}
        start = 0
        for name, domain in self._domains.items():
            self.slices[name] = slice(start, start + domain.encoded_dim)
            start += domain.encoded_dim
        self.dim: int = start

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """``config`` as a vector of shape ``(dim,)``.

        Raises:
            ValueError: If a hyperparameter is missing or outside its domain.
        """
        x = np.empty(self.dim)
        self._encode_into(config, x)
        return x

    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``configs`` as an array of shape ``(len(configs), dim)``."""
        out = np.empty((len(configs), self.dim))
        for row, config in zip(out, configs, strict=True):
            self._encode_into(config, row)
        return out

    def _encode_into(self, config: Mapping[str, Any], out: np.ndarray) -> None:
        for name, domain in self._domains.items():
            if name not in config:
                raise ValueError(f"config is missing hyperparameter {name!r} (domain {domain!r})")
            try:
                out[self.slices[name]] = domain.encode(config[name])
            except ValueError as err:
                raise ValueError(f"hyperparameter {name!r}: {err}") from None

    def decode(self, x: Any) -> dict[str, Any]:
        """The valid configuration nearest to ``x`` (any real vector of length ``dim``).

        Raises:
            ValueError: If ``x`` has the wrong length or contains NaN.
        """
        arr = np.asarray(x, dtype=float).reshape(-1)
        if arr.shape[0] != self.dim:
            raise ValueError(f"expected a vector of length {self.dim}, got shape {np.shape(x)}")
        return {
            k: v.decode(arr[self.slices[k]]) if isinstance(v, Domain) else v
            for k, v in self.space.items()
        }

    def decode_many(self, xs: Any) -> list[dict[str, Any]]:
        """:meth:`decode` for each row of an array of shape ``(n, dim)``."""
        arr = np.asarray(xs, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"expected an array of shape (n, {self.dim}), got {arr.shape}")
        return [self.decode(row) for row in arr]
