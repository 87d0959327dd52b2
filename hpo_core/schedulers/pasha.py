"""PASHA (Bohdal et al., 2023): ASHA whose maximum resource grows only while needed.

Trials are scheduled as in promotion-type ASHA, but only rungs below the current maximum
resource promote. After every reported result the configurations of the top two rungs are
compared: if the order of those in the top rung differs from their order one rung below, beyond
what noise explains (the soft ranking of the paper, with tolerance ``epsilon``), the maximum
resource grows to the next rung level (eventually ``max_t``).

The rules are Syne Tune 0.13's, to the decision:

* with rung levels ``L[0] < ... < L[m-1]`` the maximum resource starts at ``L[k - 1]`` for
  ``k = min(m - 1, 2)``; the "top two rungs" are ``L[k - 1]`` and ``L[k - 2]`` (``L[m - 1]`` if
  ``k = 1``), and growing increments ``k`` (at ``k = m`` the maximum resource becomes ``max_t``);
* ``epsilon`` is re-estimated after every result as the 90th percentile of ``|f(a, e) - f(b, e)|``
  over pairs of configurations whose order at epoch ``e`` (the highest epoch both reached,
  above the lower of the top two rungs and up to the upper one) was reversed at an earlier epoch
  and restored before that; it keeps its value while no pair qualifies.

One named difference: Syne Tune visits the pairs in the iteration order of Python sets of trial
id strings, which changes with ``PYTHONHASHSEED``, so its own estimate varies between processes
when a pair's orientation matters (ties, or a pair met at two epochs). Here each pair is taken
once, at the highest epoch both reached, ordered by arrival at that epoch; the estimate is
maintained incrementally (only the pairs of the reporting trial are re-evaluated), not recomputed
over all pairs at every result.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

import numpy as np
from sortedcontainers import SortedList

from hpo_core.schedulers.rungs import Rung

#: Percentile of the qualifying pair distances that becomes epsilon.
EPSILON_PERCENTILE = 90


def percentile(values: SortedList, q: float) -> float:
    """``np.percentile(values, q)`` (linear method) of sorted values, with numpy's arithmetic
    (the same float to the bit), by index: O(log n)."""
    n = len(values)
    if n == 1:
        return float(values[0])
    virtual = (n - 1) * (q / 100)
    previous = math.floor(virtual)
    gamma = virtual - previous
    low, high = values[previous], values[previous + 1]
    diff = high - low
    return float(high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma)


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class PashaMaxResource:
    """The current maximum resource of PASHA and the soft-ranking test that grows it.

    Args:
        levels: Rung levels (at least 2), without ``max_t``.
        max_t: The largest resource.
    """

    def __init__(self, levels: list[int], max_t: int) -> None:
        if len(levels) < 2:
            raise ValueError(
                "type='pasha' needs at least two rung levels below max_t; lower grace_period or "
                f"reduction_factor, or raise max_t (rung levels: {levels})"
            )
        self.levels = list(levels)
        self.max_t = max_t
        self.index = min(len(levels) - 1, 2)
        self.max_resource = levels[self.index - 1]
        self.epsilon = 0.0
        # Row t, column e - 1: the value trial t reported at epoch e (NaN until it does).
        self._values = np.full((16, max_t), np.nan)
        self._at_epoch: dict[int, list[int]] = defaultdict(list)  # epoch -> trials, arrival order
        self._max_epoch = 0
        self._window: tuple[int, int] | None = None
        self._distance: dict[tuple[int, int], float] = {}  # qualifying pairs -> distance
        self._distances: SortedList = SortedList()  # the same distances, sorted
        self._checked: tuple[int, int, int, float] | None = None

    def top_two_levels(self) -> tuple[int, int]:
        """Levels of the upper and the lower of the two rungs whose rankings are compared."""
        upper = self.levels[self.index - 1]
        lower = self.levels[self.index - 2] if self.index >= 2 else self.levels[-1]
        return upper, lower

    # -- epsilon --------------------------------------------------------------------------------

    def observe(self, trial_id: int, epoch: int, value: float) -> bool:
        """Record a result (metric in its own units); whether epsilon changed."""
        if trial_id >= len(self._values):
            grown = np.full((2 * trial_id + 1, self.max_t), np.nan)
            grown[: len(self._values)] = self._values
            self._values = grown
        self._values[trial_id, epoch - 1] = value
        self._at_epoch[epoch].append(trial_id)
        self._max_epoch = max(self._max_epoch, epoch)
        upper, lower = self.top_two_levels()
        window = (min(lower, self._max_epoch), min(self._max_epoch, upper))
        if window != self._window:
            self._window = window
            self._distance = {}
            self._distances = SortedList()
            visited: set[tuple[int, int]] = set()
            for e in range(window[1], window[0], -1):
                trials = self._at_epoch[e]
                for j, second in enumerate(trials):
                    firsts = [t for t in trials[:j] if _key(t, second) not in visited]
                    visited.update(_key(t, second) for t in firsts)
                    self._evaluate(firsts, second, e)
        elif window[0] < epoch <= window[1]:
            self._evaluate(self._at_epoch[epoch][:-1], trial_id, epoch)
        else:
            return False
        if not self._distances:
            return False
        epsilon = percentile(self._distances, EPSILON_PERCENTILE)
        if math.isnan(epsilon):
            raise ValueError("PASHA's epsilon became NaN (a reported metric is NaN)")
        changed = epsilon != self.epsilon
        self.epsilon = epsilon
        return changed

    def _evaluate(self, firsts: list[int], second: int, epoch: int) -> None:
        """Each pair ``(first, second)``, ordered so, counts with its distance at ``epoch`` if
        its order there was reversed at an earlier epoch and restored before that (epochs a
        trial did not report are passed over; Syne Tune needs every epoch)."""
        for first in firsts:
            old = self._distance.pop(_key(first, second), None)
            if old is not None:
                self._distances.remove(old)
        if not firsts or epoch < 2:
            return
        rows = self._values[firsts, :epoch]
        own = self._values[second, :epoch]
        order = rows[:, -1] > own[-1]
        # Earlier epochs, latest first.
        before, own_before = rows[:, -2::-1], own[-2::-1]
        reported = ~(np.isnan(before) | np.isnan(own_before))
        earlier_order = before > own_before
        flipped = reported & (earlier_order != order[:, None])
        restored = reported & (earlier_order == order[:, None])
        first_flip = np.where(flipped.any(axis=1), flipped.argmax(axis=1), epoch)
        later = np.arange(epoch - 1)[None, :] > first_flip[:, None]
        counts = (restored & later).any(axis=1)
        distances = np.abs(rows[:, -1] - own[-1])
        for first, distance in zip(np.asarray(firsts)[counts], distances[counts], strict=True):
            self._distance[_key(first, second)] = float(distance)
            self._distances.add(float(distance))

    # -- growth ---------------------------------------------------------------------------------

    def grow_if_reordered(self, upper: Rung, lower: Rung) -> bool:
        """Grow the maximum resource if the soft ranking of ``upper`` differs from that of its
        configurations in ``lower``; returns whether it grew."""
        state = (self.index, len(upper), len(lower), self.epsilon)
        if state == self._checked:
            return False  # nothing it depends on changed since it last kept the budget
        self._checked = state
        if not len(upper) or not len(lower):
            return False
        top = upper.ranked()
        below = [entry for entry in lower.ranked() if entry[2] in upper.value_of]
        epsilon = self.epsilon if len(below) >= 2 else 0.0
        values = [v for v, _, _ in below]
        position = {trial_id: i for i, (_, _, trial_id) in enumerate(below)}
        for i, (_, _, trial_id) in enumerate(top):
            # The group of entry i below: the neighbours within epsilon of its value.
            low = bisect.bisect_left(values, values[i] - epsilon)
            high = bisect.bisect_right(values, values[i] + epsilon) - 1
            if not low <= position[trial_id] <= high:
                self._grow()
                return True
        return False

    def _grow(self) -> None:
        if self.index < len(self.levels):
            self.index += 1
            self.max_resource = self.levels[self.index - 1]
        else:
            self.max_resource = self.max_t
