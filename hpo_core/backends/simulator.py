"""Simulated-time backend: replays blackbox curves on an event heap, no real waiting.

Each running trial has exactly one pending event, its next epoch's result, on a heap keyed by
``(simulated_time, counter)``; the counter orders simultaneous events by insertion, so runs are
deterministic. Epoch ``r`` of a trial ends ``elapsed(r) - elapsed(r - 1)`` simulated seconds after
epoch ``r - 1`` (``elapsed`` being the blackbox's cumulative time objective), so a resumed trial is
charged only for epochs it had not trained yet. Pausing or stopping frees the worker at the time of
the result the decision was made on.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpo_core.backends.base import Backend, Event, EventKind
from hpo_core.blackboxes.base import Blackbox
from hpo_core.trial import Decision, Trial


class _Run:
    """Replay state of one trial."""

    __slots__ = ("elapsed", "failed_after", "level", "max_level", "resources", "rows")

    def __init__(
        self, rows: list[list[float]], elapsed: list[float], resources: list[int],
        max_level: int, failed_after: int | None,
    ) -> None:
        #: Objective values per fidelity; turned into a metrics dict only when reported, since
        #: most trials of an early-stopping method report a few of their epochs.
        self.rows = rows
        self.elapsed = elapsed
        self.resources = resources
        self.max_level = max_level
        self.failed_after = failed_after
        #: Number of results reported so far (index of the next one).
        self.level = 0


class SimulatorBackend(Backend):
    """Runs trials against a blackbox in simulated time.

    Args:
        blackbox: Where curves come from.
        elapsed_time_attr: Objective with the cumulative training time (default: the
            blackbox's).
        max_resource_attr: Config entry capping a trial's resource (e.g. ``"epochs"``);
            without it a trial runs to the blackbox's largest fidelity.
        seed: Blackbox seed index used for every trial; ``None`` draws one per trial from
            ``random_seed`` (only matters for blackboxes with several seeds).
        random_seed: Seed of the backend's own draws.
    """

    #: Per-trial replay state (subclasses may keep more).
    _run_class: type[_Run] = _Run

    def __init__(
        self,
        *,
        blackbox: Blackbox,
        elapsed_time_attr: str | None = None,
        max_resource_attr: str | None = None,
        seed: int | None = 0,
        random_seed: int = 0,
    ) -> None:
        self.blackbox = blackbox
        self.elapsed_time_attr = elapsed_time_attr or blackbox.elapsed_time_attr
        if self.elapsed_time_attr is None:
            raise ValueError("elapsed_time_attr is needed: this blackbox declares none")
        self._time_index = blackbox.objective_index(self.elapsed_time_attr)
        self.max_resource_attr = max_resource_attr
        if seed is not None and not 0 <= seed < blackbox.num_seeds:
            raise ValueError(f"seed must be in [0, {blackbox.num_seeds}) or None, got {seed}")
        self.seed = seed
        self._rng = np.random.default_rng(random_seed)
        self._names = list(blackbox.objective_names)
        self._resources = [int(r) for r in blackbox.fidelity_values]
        self._heap: list[tuple[float, int, int]] = []
        self._counter = 0
        self._time = 0.0
        self._runs: dict[int, _Run] = {}
        self._running: set[int] = set()

    @property
    def time(self) -> float:
        return self._time

    @property
    def num_running(self) -> int:
        return len(self._running)

    def objective_names(self) -> list[str]:
        return list(self._names)

    def _max_level(self, config: Mapping[str, Any]) -> int:
        if self.max_resource_attr is None:
            return len(self._resources)
        try:
            cap = int(config[self.max_resource_attr])
        except KeyError:
            raise ValueError(
                f"max_resource_attr={self.max_resource_attr!r} is not in the trial's config"
            ) from None
        # Number of fidelities not above the cap.
        return bisect.bisect_right(self._resources, cap)

    def start_trial(self, trial: Trial) -> None:
        seed = self.seed if self.seed is not None else int(
            self._rng.integers(self.blackbox.num_seeds)
        )
        curve = self.blackbox.curve(trial.config, seed)
        rows = curve.objectives.tolist()
        elapsed = curve.objectives[:, self._time_index].tolist()
        self._runs[trial.trial_id] = self._run_class(
            rows, elapsed, self._resources, self._max_level(trial.config), curve.failed_after
        )
        self._running.add(trial.trial_id)
        self._schedule_next(trial.trial_id)

    def resume_trial(self, trial: Trial) -> None:
        self._running.add(trial.trial_id)
        self._schedule_next(trial.trial_id)

    def _schedule_next(self, trial_id: int) -> None:
        run = self._runs[trial_id]
        level = run.level
        previous = run.elapsed[level - 1] if level > 0 else 0.0
        heapq.heappush(
            self._heap, (self._time + (run.elapsed[level] - previous), self._counter, trial_id)
        )
        self._counter += 1

    def next_event(self) -> Event | None:
        if not self._heap:
            return None
        time, _, trial_id = heapq.heappop(self._heap)
        # Charged decision time (advance) may have moved the clock past queued events.
        time = self._time = max(time, self._time)
        return self._deliver(trial_id, self._runs[trial_id], time)

    def _deliver(self, trial_id: int, run: _Run, time: float) -> Event:
        """The trial's next epoch as an event at ``time`` (an ERROR if it fails there)."""
        level = run.level
        if run.failed_after is not None and level >= run.failed_after:
            self._running.discard(trial_id)
            return Event(EventKind.ERROR, time, trial_id, run.resources[level - 1] if level else 0)
        run.level = level + 1
        is_last = run.level >= run.max_level
        if is_last:
            self._running.discard(trial_id)
        metrics = dict(zip(self._names, run.rows[level], strict=True))
        return Event(EventKind.RESULT, time, trial_id, run.resources[level], metrics, is_last)

    def on_decision(self, trial: Trial, decision: Decision) -> None:
        trial_id = trial.trial_id
        if trial_id not in self._running:
            return
        if decision is Decision.CONTINUE:
            self._schedule_next(trial_id)
        else:
            self._running.discard(trial_id)

    def stop_all(self) -> None:
        self._heap.clear()
        self._running.clear()

    def advance(self, seconds: float) -> None:
        self._time += seconds
