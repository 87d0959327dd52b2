"""The :class:`Domain` base class and the private helpers that the domains share.

The semantics of domains (sampling, membership, midpoint rule, encoding) are described in the
:mod:`hpo_core.space` docstring.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

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


def _clip(x: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``np.clip`` of a NaN-free array, with less per-call overhead on small arrays."""
    return np.minimum(np.maximum(x, lower), upper)


def _unit_indices(u: np.ndarray, n: int) -> np.ndarray:
    """Indices ``min(int(u * n), n - 1)`` of ``n`` equally likely values for draws ``u``."""
    return np.minimum((u * n).astype(np.int64), n - 1)


# Int bounds below this magnitude cannot overflow int64; ints below _EXACT_INT are exact floats.
_INT64_SAFE = 2**62
_EXACT_INT = 2.0**53


def _check_all(domain: Domain, values: Sequence[Any]) -> None:
    """Raise the error of :meth:`Domain.encode` for the first value outside ``domain``."""
    for value in values:
        if not domain.contains(value):
            raise domain._outside(value)


# ---------------------------------------------------------------------------------------------
# Base class
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
    def _quantiles(self, u: np.ndarray) -> list[Any]:
        """:meth:`_quantile` of each draw of the 1-d float array ``u``, with a few numpy calls.

        The batch path of :meth:`sample_many` and :func:`sample_configs`; it returns a list of
        plain Python values.
        """

    def sample_many(self, rng: np.random.Generator, size: int) -> list[Any]:
        """``size`` values drawn with one vectorised numpy call (the stream of :meth:`sample`).

        Args:
            rng: Source of all randomness.
            size: Number of values, ``>= 0``.

        Returns:
            A list of plain Python values inside the domain.
        """
        return self._quantiles(rng.random(_check_size(size)))

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this domain."""

    @abstractmethod
    def midpoint(self) -> Any:
        """The default value by the midpoint rule (see the :mod:`hpo_core.space` docstring)."""

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
    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        """``values`` encoded with a few numpy calls: shape ``(len(values), encoded_dim)``.

        Row ``i`` equals ``encode(values[i])`` (to the bit, except that the log-scale domains
        :class:`LogUniform` and :class:`LogRandInt` use numpy's log here and :func:`math.log`
        there, which may differ by one ulp). Every value is checked with :meth:`contains`;
        the arithmetic is vectorised.

        Raises:
            ValueError: The error of :meth:`encode` for the first value not in the domain.
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
