"""Rungs of successive halving, kept sorted so that every decision costs O(log n).

Values are stored sign-adjusted, so that smaller is always better. A rung at ``level`` whose next
level is ``next_level`` keeps its top ``floor(n * level / next_level)`` entries (the top
``1 / reduction_factor`` for geometric levels): a value is in the top fraction if fewer entries
than that are strictly better. With fewer than ``next_level / level`` entries the top fraction is
empty, the case the stopping and promotion rules treat specially.
"""

from __future__ import annotations

from sortedcontainers import SortedList


class Rung:
    """Metric values recorded by trials reaching one rung level."""

    __slots__ = ("_paused", "_values", "level", "next_level", "value_of")

    def __init__(self, level: int, next_level: int) -> None:
        self.level = level
        self.next_level = next_level
        self._values: SortedList = SortedList()
        #: (value, trial_id) of trials paused here and not promoted yet (promotion type only).
        self._paused: SortedList = SortedList()
        self.value_of: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._values)

    def num_top(self) -> int:
        """Size of the top fraction: entries that may pass this rung."""
        return len(self._values) * self.level // self.next_level

    def add(self, trial_id: int, value: float) -> None:
        self._values.add(value)
        self.value_of[trial_id] = value

    def is_top(self, value: float) -> bool:
        """Whether ``value`` (already recorded) is in the top fraction."""
        return self._values.bisect_left(value) < self.num_top()

    def pause(self, trial_id: int) -> None:
        self._paused.add((self.value_of[trial_id], trial_id))

    def unpause(self, trial_id: int) -> None:
        self._paused.discard((self.value_of[trial_id], trial_id))

    def promotable(self) -> int | None:
        """The best paused trial if it is in the top fraction, else None.

        If the best paused entry is not in the top fraction, no paused entry is.
        """
        if not self._paused:
            return None
        value, trial_id = self._paused[0]
        return trial_id if self.is_top(value) else None

    def num_paused(self) -> int:
        return len(self._paused)


def geometric_rung_levels(*, grace_period: int, reduction_factor: float, max_t: int) -> list[int]:
    """``grace_period * reduction_factor**k`` rounded, for all k with a level below ``max_t``."""
    levels: list[int] = []
    k = 0
    while True:
        level = round(grace_period * reduction_factor**k)
        if level >= max_t:
            return levels
        if not levels or level > levels[-1]:
            levels.append(level)
        k += 1
