"""Domains over a range of numbers: :class:`Uniform`, :class:`LogUniform`, :class:`RandInt`
and :class:`LogRandInt`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core.space.domains import (
    _EXACT_INT,
    _INT64_SAFE,
    Domain,
    _check_all,
    _clip,
    _int_arg,
    _is_int,
    _is_real,
    _real_arg,
    _set,
    _unit_indices,
    _unit_scalar,
)


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

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        return list(_clip(self.lower + u * self._width, self.lower, self.upper).tolist())

    def contains(self, value: Any) -> bool:
        return _is_real(value) and self.lower <= value <= self.upper

    def midpoint(self) -> float:
        return self._from_unit(0.5)

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        return np.array([min(max((float(value) - self.lower) / self._width, 0.0), 1.0)])

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        _check_all(self, values)
        x = np.array(values, dtype=float)
        return _clip((x - self.lower) / self._width, 0.0, 1.0)[:, None]

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

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        vals = np.exp(self._log_lower + u * self._log_width)
        return list(_clip(vals, self.lower, self.upper).tolist())

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

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        _check_all(self, values)
        t = (np.log(np.array(values, dtype=float)) - self._log_lower) / self._log_width
        return _clip(t, 0.0, 1.0)[:, None]

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

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        n = self._n
        if self.lower > -_INT64_SAFE and self.upper < _INT64_SAFE:
            return list((self.lower + _unit_indices(u, n)).tolist())
        # Bounds beyond int64: exact Python ints.
        return [self.lower + min(int(t * n), n - 1) for t in u.tolist()]

    def contains(self, value: Any) -> bool:
        return _is_int(value) and self.lower <= value <= self.upper

    def midpoint(self) -> int:
        # Round half up: (l + u + 1) // 2 is exact for any size of int, unlike float rounding.
        return (self.lower + self.upper + 1) // 2

    def encode(self, value: Any) -> np.ndarray:
        if not self.contains(value):
            raise self._outside(value)
        return np.array([(int(value) - self.lower + 0.5) / self._n])

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        _check_all(self, values)
        # Offsets as exact Python ints, then one rounding each, as in encode().
        offsets = np.array([int(v) - self.lower for v in values], dtype=float)
        return ((offsets + 0.5) / self._n)[:, None]

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

    def _quantiles(self, u: np.ndarray) -> list[Any]:
        vals = np.floor(np.exp(self._log_lower + u * self._log_width) + 0.5)
        if self.upper < _EXACT_INT:
            return list(_clip(vals, self.lower, self.upper).astype(np.int64).tolist())
        # Bounds that floats may not hold exactly: clip as Python ints.
        return [min(max(int(v), self.lower), self.upper) for v in vals.tolist()]

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

    def encode_array(self, values: Sequence[Any]) -> np.ndarray:
        _check_all(self, values)
        x = np.array([float(v) for v in values])
        t = (np.log(x) - self._log_lower) / self._log_width
        return _clip(t, 0.0, 1.0)[:, None]

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
