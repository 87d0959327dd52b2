"""Rungs of successive halving, kept sorted so that every decision costs O(log n).

A rung at ``level`` whose next level is ``next_level`` has the promotion quantile
``q = level / next_level`` (``1 / reduction_factor`` for geometric levels). A value passes the
rung if it is at least as good as the rung's cutoff: ``np.quantile(values, q)`` (linear
interpolation, the value itself included) for ``mode="min"``, ``np.quantile(values, 1 - q)``
for ``mode="max"``. A rung with fewer than 2 entries has no cutoff. The cutoff is computed as
Syne Tune 0.13 computes it, to the bit (the two values around the quantile are read off the
sorted rung by index: O(log n), not a sort).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from sortedcontainers import SortedList


class RungInfo(NamedTuple):
    """One rung level's size, as schedulers report it for the rung-size extra results."""

    level: int
    num_entries: int
    keep_fraction: float


class Rung:
    """Metric values recorded by trials reaching one rung level.

    Values are kept sign-adjusted (smaller is better, NaN as +inf) in a sorted list of
    ``(value, arrival, trial_id)``; ``value_of`` maps each trial to its sign-adjusted value.
    For promotion-type schedulers the rung also keeps its entries that are paused (not
    promoted yet), best first and, among equal values, in the order they arrived.
    """

    __slots__ = ("_arrival_of", "_arrivals", "_entries", "_paused", "_sign", "level",
                 "next_level", "promote_quantile", "value_of")

    def __init__(self, level: int, next_level: int, *, mode: str = "min") -> None:
        self.level = level
        self.next_level = next_level
        self.promote_quantile = level / next_level
        self._sign = 1.0 if mode == "min" else -1.0
        #: (value, arrival, trial_id) of every entry, and of those paused and not promoted yet.
        self._entries: SortedList = SortedList()
        self._paused: SortedList = SortedList()
        self._arrivals = itertools.count()
        self._arrival_of: dict[int, int] = {}
        self.value_of: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, trial_id: int, value: float) -> None:
        """Record the sign-adjusted ``value`` of ``trial_id``."""
        arrival = self._arrival_of[trial_id] = next(self._arrivals)
        self._entries.add((value, arrival, trial_id))
        self.value_of[trial_id] = value

    def ranked(self) -> list[tuple[float, int, int]]:
        """``(value, arrival, trial_id)`` of every entry, best first, ties in arrival order."""
        return list(self._entries)

    def cutoff(self) -> float | None:
        """The rung's quantile in the metric's own units (not sign-adjusted), or None if the
        rung has fewer than 2 entries."""
        n = len(self._entries)
        if n < 2:
            return None
        is_min = self._sign > 0
        q = self.promote_quantile if is_min else 1 - self.promote_quantile
        virtual = (n - 1) * q + 1
        index = int(virtual)
        fraction = virtual - index
        # The sorted list is best first; for mode max that is descending metric values.
        left, g = (index - 1, fraction) if is_min else (n - index - 1, 1 - fraction)
        # entries sort by value first: their values are the rung's sorted values
        low = self._sign * self._entries[left][0]
        high = self._sign * self._entries[left + 1][0]
        return g * high + (1 - g) * low

    def passes(self, value: float) -> bool | None:
        """Whether the sign-adjusted ``value`` is at least as good as the cutoff; None if the
        rung has no cutoff yet."""
        cutoff = self.cutoff()
        if cutoff is None:
            return None
        raw = self._sign * value
        return raw <= cutoff if self._sign > 0 else raw >= cutoff

    def pause(self, trial_id: int) -> None:
        self._paused.add((self.value_of[trial_id], self._arrival_of[trial_id], trial_id))

    def unpause(self, trial_id: int) -> None:
        self._paused.discard((self.value_of[trial_id], self._arrival_of[trial_id], trial_id))

    def promotable(self) -> int | None:
        """The best paused trial (the earliest of equal ones) if it passes the rung, else None.

        If the best paused entry does not pass, no paused entry does.
        """
        if not self._paused:
            return None
        value, _, trial_id = self._paused[0]
        return trial_id if self.passes(value) else None

    def num_paused(self) -> int:
        return len(self._paused)


def geometric_rung_levels(*, grace_period: int, reduction_factor: float, max_t: int) -> list[int]:
    """``round(grace_period * reduction_factor**k)`` for every k with
    ``grace_period * reduction_factor**k < max_t`` (Syne Tune's rule: the bound is checked
    before rounding), leaving out a level that rounds up to ``max_t`` (Syne Tune refuses such
    settings)."""
    levels: list[int] = []
    k = 0
    while grace_period * reduction_factor**k < max_t:
        level = round(grace_period * reduction_factor**k)
        if level < max_t and (not levels or level > levels[-1]):
            levels.append(level)
        k += 1
    return levels
