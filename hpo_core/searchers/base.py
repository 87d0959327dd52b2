"""The searcher contract: proposes configurations, optionally learns from observed results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core import space as sp


class Searcher(ABC):
    """Proposes configurations for new trials.

    The first proposals are the ``points_to_evaluate`` (default: one config by the midpoint rule;
    ``[]`` turns this off; partial configs are completed by the same rule), then whatever the
    concrete searcher draws.

    Args:
        config_space: The configuration space.
        metric: Name of the metric to optimize.
        mode: ``"min"`` or ``"max"``.
        rng: The generator all of this searcher's randomness comes from.
        points_to_evaluate: Initial configs, see above.
    """

    #: Model-free searchers set this to False: schedulers then need not forward results.
    wants_data: bool = False

    def __init__(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        sp.check_space(config_space)
        self.config_space = dict(config_space)
        self.metric = metric
        self.mode = mode
        self.rng = rng
        initial = (
            [sp.midpoint_config(self.config_space)]
            if points_to_evaluate is None
            else [sp.complete_config(self.config_space, p) for p in points_to_evaluate]
        )
        self._initial: deque[dict[str, Any]] = deque(initial)

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        """Config for trial ``trial_id``, or ``None`` if the searcher has nothing left."""
        if self._initial:
            return self._initial.popleft()
        return self._suggest(trial_id)

    @abstractmethod
    def _suggest(self, trial_id: int) -> dict[str, Any] | None:
        """Config once the initial points are used up."""

    def observe(  # noqa: B027
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        """A metric value of ``config`` at ``resource``. ``is_rung=False`` marks a trial's latest
        non-rung value (``searcher_data="rungs_and_last"``), which replaces the previous one."""

    def on_trial_error(self, trial_id: int) -> None:  # noqa: B027
        """The trial failed; drop anything pending for it."""

    # -- hooks of multi-fidelity schedulers (no-ops for searchers that model one fidelity) ------

    def configure_resources(  # noqa: B027
        self, *, rung_levels: Sequence[int], max_t: int, searcher_data: str = "rungs"
    ) -> None:
        """Called once by a multi-fidelity scheduler before the first suggestion.

        Args:
            rung_levels: The scheduler's rung levels below ``max_t``, increasing.
            max_t: The maximum resource.
            searcher_data: What :meth:`observe` will be given (``"rungs"``, ``"all"``,
                ``"rungs_and_last"``, see
                :class:`~hpo_core.schedulers.hyperband.HyperbandScheduler`).
        """

    def register_pending(self, trial_id: int, resource: int) -> None:  # noqa: B027
        """Trial ``trial_id`` (a config this searcher suggested) runs towards ``resource``: a new
        trial towards its first rung level, a continued or resumed one towards its next. Cleared
        by an :meth:`observe` at ``resource`` or beyond, or by :meth:`on_trial_error`."""

    def bracket_distribution(self, default: Sequence[float]) -> list[float] | None:
        """Probabilities of the Hyperband brackets for the next new trial, or ``None`` to keep
        the scheduler's ``default`` (Hyperband's proportions, one entry per bracket, bracket 0
        starting at the lowest rung level). Asked by a scheduler with several brackets each time
        it starts a trial; a searcher that learns from data which brackets pay off (Hyper-Tune)
        returns a list of the same length, non-negative, summing to 1."""
        return None
