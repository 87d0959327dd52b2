"""PASHA (Bohdal et al., 2023): ASHA whose maximum resource grows only while needed.

Trials are scheduled as in promotion-type ASHA, but the highest rung they may reach starts at the
second rung level. Each time a trial reaches that current top rung, the ranking of the
configurations present in the top two rungs is compared; if it changed, the maximum resource
grows to the next rung level (eventually ``max_t``). Once rankings are stable, no trial is
trained further than needed to identify the best configurations.
"""

from __future__ import annotations

import numpy as np

from hpo_core.schedulers.rungs import Rung


def ranking_is_stable(top: Rung, below: Rung, *, epsilon: float) -> bool:
    """Whether configs in ``top`` keep their order between the two rungs.

    A pair of configurations counts as reordered if one is better than the other by more than
    ``epsilon`` at the lower rung and worse by more than ``epsilon`` at the top rung; values
    closer than ``epsilon`` are ties (the "soft ranking" of the paper; ``epsilon=0`` is the strict
    ranking).
    """
    trial_ids = list(top.value_of)
    if len(trial_ids) < 2:
        return True
    at_top = np.fromiter((top.value_of[t] for t in trial_ids), float, len(trial_ids))
    at_below = np.fromiter((below.value_of[t] for t in trial_ids), float, len(trial_ids))
    diff_top = at_top[:, None] - at_top[None, :]
    diff_below = at_below[:, None] - at_below[None, :]
    return not bool(np.any((diff_below < -epsilon) & (diff_top > epsilon)))


class PashaMaxResource:
    """The current maximum resource of PASHA, as an index into the rung levels.

    Args:
        levels: Rung levels followed by ``max_t``.
        epsilon: Tolerance of the ranking comparison, see :func:`ranking_is_stable`.
    """

    def __init__(self, levels: list[int], *, epsilon: float) -> None:
        if len(levels) < 2:
            raise ValueError(
                "type='pasha' needs at least one rung level below max_t; lower grace_period or "
                f"raise max_t (rung levels with max_t: {levels})"
            )
        self.levels = levels
        self.epsilon = epsilon
        self.top_index = 1

    @property
    def max_resource(self) -> int:
        return self.levels[self.top_index]

    def on_top_rung_reached(self, top: Rung, below: Rung) -> bool:
        """Grow the maximum resource if the ranking changed; returns whether it grew."""
        if self.top_index + 1 < len(self.levels) and not ranking_is_stable(
            top, below, epsilon=self.epsilon
        ):
            self.top_index += 1
            return True
        return False
