"""The scheduler contract: pure decision objects driven by the tuner."""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Container, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.searchers import Searcher, make_searcher
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion

MODES = ("min", "max")
#: The searcher a scheduler uses unless told otherwise.
DEFAULT_SEARCHER = "random"


def check_metric_mode(metric: str, mode: str) -> None:
    if not isinstance(metric, str) or not metric:
        raise ValueError(
            f"metric must be a non-empty string naming a reported metric, got {metric!r}"
        )
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")


def resolve_random_seed(random_seed: int | None) -> int:
    """The seed a scheduler runs with: the given one, or a fresh 32-bit one to be recorded."""
    if random_seed is None:
        return secrets.randbits(32)
    if isinstance(random_seed, bool) or not isinstance(random_seed, int | np.integer):
        raise ValueError(f"random_seed must be a non-negative int or None, got {random_seed!r}")
    if random_seed < 0:
        raise ValueError(f"random_seed must be a non-negative int or None, got {random_seed}")
    return int(random_seed)


def spawn_generators(random_seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(searcher generator, scheduler generator) derived from one seed.

    The searcher's stream depends on the seed only, so that two methods run with the same seed
    draw the same random configurations (paired comparisons), whatever else the scheduler samples.
    """
    searcher_seq, scheduler_seq = np.random.SeedSequence(random_seed).spawn(2)
    return np.random.default_rng(searcher_seq), np.random.default_rng(scheduler_seq)


class Scheduler(ABC):
    """Decides which configuration runs next and what happens to trials after each result.

    A scheduler does no I/O, reads no clock and uses no global random state: the tuner feeds it
    events and acts on its answers, so the same object runs under the simulator, a real backend
    and the tests.
    """

    metric: str
    mode: str
    random_seed: int
    config_space: dict[str, Any]
    searcher: Searcher

    def _init_space(self, config_space: Mapping[str, Any], *, metric: str, mode: str) -> None:
        """Check and keep the config space, metric and mode (every scheduler's first step)."""
        sp.check_space(config_space)
        check_metric_mode(metric, mode)
        self.config_space = dict(config_space)
        self.metric = metric
        self.mode = mode

    def _init_searcher(
        self,
        searcher: str | Searcher,
        *,
        random_seed: int | None,
        search_options: Mapping[str, Any] | None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None,
        multi_fidelity: bool = False,
    ) -> np.random.Generator:
        """Resolve :attr:`random_seed`, build :attr:`searcher` with its own stream of it
        (:func:`spawn_generators`) and return the scheduler's generator."""
        self.random_seed = resolve_random_seed(random_seed)
        searcher_rng, rng = spawn_generators(self.random_seed)
        self.searcher = make_searcher(
            searcher, self.config_space, metric=self.metric, mode=self.mode, rng=searcher_rng,
            points_to_evaluate=check_points_to_evaluate(points_to_evaluate),
            search_options=search_options, multi_fidelity=multi_fidelity,
        )
        return rng

    @abstractmethod
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        """A worker is free. Start a new config (which will get ``trial_id``) or resume a paused
        trial; ``None`` means nothing to run right now."""

    @abstractmethod
    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        """A trial reported a result; CONTINUE, PAUSE or STOP it."""

    def on_trial_complete(self, trial: Trial, result: TrialResult | None) -> None:  # noqa: B027
        """A trial ran to its maximum resource; ``result`` is its last result."""

    def on_trial_error(self, trial: Trial) -> None:  # noqa: B027
        """A trial failed; it will report nothing more."""

    def result_levels(self, trial: Trial) -> Container[int] | None:
        """Resource levels at which :meth:`on_trial_result` must be called for ``trial``.

        ``None`` (the default) means every result. A scheduler that decides only at certain
        levels (rungs) returns them, and the tuner records the other results without calling it.
        """
        return None

    def metadata(self) -> dict[str, Any]:
        """JSON-able description of the scheduler's settings, stored with results."""
        return {"scheduler": type(self).__name__, "metric": self.metric, "mode": self.mode,
                "random_seed": self.random_seed}


def metric_value(result: TrialResult, metric: str) -> float:
    """The result's ``metric`` as a float.

    Raises:
        ValueError: If the result lacks ``metric`` (naming the metrics it has).
    """
    try:
        return float(result.metrics[metric])
    except KeyError:
        raise ValueError(f"metric {metric!r} is not among the reported metrics "
                         f"{sorted(result.metrics)}") from None


def check_points_to_evaluate(
    points_to_evaluate: Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]] | None:
    if points_to_evaluate is None:
        return None
    if not isinstance(points_to_evaluate, Sequence) or not all(
        isinstance(p, Mapping) for p in points_to_evaluate
    ):
        raise ValueError(
            "points_to_evaluate must be None (midpoint default), [] (none) or a list of "
            f"(partial) config dicts, got {points_to_evaluate!r}"
        )
    return [dict(p) for p in points_to_evaluate]
