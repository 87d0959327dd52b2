"""Factory functions, the usual way to create domains; a domain's ``repr`` is its factory call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpo_core.space.domains import _check_categories
from hpo_core.space.finite import Categorical, FiniteRange, Ordinal
from hpo_core.space.ranges import LogRandInt, LogUniform, RandInt, Uniform


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
