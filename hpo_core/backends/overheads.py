"""Syne Tune's simulated timeline: delays on every start, result and stop, and a polling tuner.

:class:`~hpo_core.backends.simulator.SimulatorBackend` is exact: a result is seen the moment its
epoch ends, a decision takes no time and a freed worker starts its next trial at once.
Syne Tune 0.13.0's simulator (``SimulatorBackend`` with its default ``SimulatorConfig``, run by
``hpo_main_simulator.py``) is not, and published Syne Tune numbers carry its overheads, so
:class:`OverheadSimulatorBackend` reproduces them when like-for-like numbers are wanted:

* a trial starts ``delay_start`` after the tuner starts (or resumes) it;
* a result reaches the tuner ``delay_on_trial_result`` after its epoch ends, and the trial's
  completion arrives with its last result (Syne Tune's ``delay_complete_after_final_report``
  equals ``delay_on_trial_result`` by default);
* epoch ``k`` of a run segment ends ``max(elapsed_k - elapsed_paused, elapsed_{k-1} + 0.01)``
  after the segment started (``min_time_step``; the first epoch at least 0.01 s), where a
  resumed trial's elapsed times count from the resource it paused at;
* pausing or stopping a trial blocks the tuner for ``delay_stop + delay_complete_after_stop``
  plus 2 ms (Syne Tune advances its clock 1 ms past each of the two events);
* the tuner polls: it takes the results that arrived by now (grouped by trial, in the order
  of Syne Tune's set of running trial ids), decides on each, starts trials on free workers and,
  when every worker is busy, sleeps ``tuner_sleep_time`` simulated seconds, so a worker freed
  during a sleep idles until the sleep ends. Tuning ends after the poll whose results pass the
  time budget (those results are recorded, as Syne Tune records them).

The tuner drives this backend with :meth:`fetch` and :meth:`sleep` instead of
:meth:`~hpo_core.backends.base.Backend.next_event` (see :class:`~hpo_core.tuner.Tuner`). Syne
Tune also adds the tuner's real compute time to the simulated clock; that is the separate
``charge_decision_time`` option, since it makes runs depend on the machine.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import cast

from hpo_core.backends.base import Event, EventKind
from hpo_core.backends.simulator import SimulatorBackend, _Run
from hpo_core.trial import Decision, Trial

#: Syne Tune advances its clock this far past a stop event and past the completion after it.
_EVENT_MARGIN = 1e-3


@dataclass(frozen=True, kw_only=True)
class SimulatorOverheads:
    """Delays of the simulated timeline, in simulated seconds (Syne Tune 0.13.0's defaults).

    Attributes:
        delay_start: From starting or resuming a trial to its first epoch starting.
        delay_on_trial_result: From an epoch ending to its result reaching the tuner.
        delay_stop: From a pause or stop decision to the worker receiving it.
        delay_complete_after_stop: From the worker receiving a stop to the worker being free.
        tuner_sleep_time: How far the clock moves when the tuner sleeps (every worker busy).
        min_time_step: Shortest epoch: elapsed times are made to grow by at least this much.
    """

    delay_start: float = 0.05
    delay_on_trial_result: float = 0.05
    delay_stop: float = 0.05
    delay_complete_after_stop: float = 0.05
    tuner_sleep_time: float = 5.0
    min_time_step: float = 0.01

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{f.name} must be a number >= 0, got {value!r}")
        if self.tuner_sleep_time <= 0:
            raise ValueError(f"tuner_sleep_time must be > 0, got {self.tuner_sleep_time!r}")

    @property
    def stop_cost(self) -> float:
        """Simulated seconds the tuner is blocked by one pause or stop."""
        return self.delay_stop + self.delay_complete_after_stop + 2 * _EVENT_MARGIN


#: Named overhead settings of the ``simulator_overheads`` run option (``none``: exact timeline).
SIMULATOR_OVERHEADS: dict[str, SimulatorOverheads | None] = {
    "none": None,
    "syne_tune": SimulatorOverheads(),
}


class _Segment(_Run):
    """Replay state of one trial, with the run segment its pending epoch belongs to."""

    __slots__ = ("generation", "last_step", "offset", "segment_start")

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.segment_start = 0.0
        #: Elapsed time (blackbox clock) at the resource the segment resumed from.
        self.offset = 0.0
        #: Time of the segment's previous epoch end, relative to ``segment_start``.
        self.last_step: float | None = None
        #: Bumped when the trial is paused or stopped: queued epochs of older segments are void.
        self.generation = 0


class OverheadSimulatorBackend(SimulatorBackend):
    """A :class:`SimulatorBackend` on Syne Tune's timeline (see the module docstring).

    Args:
        overheads: The delays (default: Syne Tune 0.13.0's).
        **kwargs: As :class:`SimulatorBackend`.
    """

    _run_class = _Segment
    supports_segments = False

    def __init__(self, *, overheads: SimulatorOverheads | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.overheads = overheads or SimulatorOverheads()
        self.tuner_sleep_time = self.overheads.tuner_sleep_time
        self._epochs: list[tuple[float, int, int, int]] = []

    def _release(self, trial_id: int) -> None:
        pass  # queued epochs of a stopped or finished trial still look up its run

    def _segment(self, trial_id: int) -> _Segment:
        return cast(_Segment, self._runs[trial_id])

    def resume_trial(self, trial: Trial) -> None:
        run = self._segment(trial.trial_id)
        run.offset = run.elapsed[run.level - 1] if run.level > 0 else 0.0
        self._running.add(trial.trial_id)
        self._begin_segment(trial.trial_id)

    def _schedule_next(self, trial_id: int) -> None:
        # Called by SimulatorBackend.start_trial for the first segment.
        self._segment(trial_id).offset = 0.0
        self._begin_segment(trial_id)

    def _begin_segment(self, trial_id: int) -> None:
        run = self._segment(trial_id)
        run.segment_start = self._time + self.overheads.delay_start
        run.last_step = None
        self._push_epoch(trial_id, run)

    def _push_epoch(self, trial_id: int, run: _Segment) -> None:
        step = run.elapsed[run.level] - run.offset
        floor = self.overheads.min_time_step + (run.last_step or 0.0)
        run.last_step = step = max(step, floor)
        time = run.segment_start + step + self.overheads.delay_on_trial_result
        heapq.heappush(self._epochs, (time, self._counter, trial_id, run.generation))
        self._counter += 1

    def next_event(self) -> Event | None:
        raise TypeError("OverheadSimulatorBackend is polled: use fetch() and sleep()")

    def fetch(self, trial_ids: Iterable[int]) -> list[Event]:
        """Results that reached the tuner by now, of ``trial_ids`` only, grouped by trial in
        that order (each trial's in time order); results of other trials are dropped."""
        arrived: dict[int, list[Event]] = {}
        epochs, now = self._epochs, self._time
        while epochs and epochs[0][0] <= now:
            time, _, trial_id, generation = heapq.heappop(epochs)
            run = self._segment(trial_id)
            if generation != run.generation:
                continue
            arrived.setdefault(trial_id, []).append(self._deliver(trial_id, run, time))
        return [event for trial_id in trial_ids for event in arrived.get(trial_id, ())]

    def _deliver(self, trial_id: int, run: _Run, time: float) -> Event:
        event = super()._deliver(trial_id, run, time)
        if event.kind is EventKind.RESULT and not event.is_last:
            # The worker trains on while the tuner has not decided yet.
            self._push_epoch(trial_id, cast(_Segment, run))
        return event

    def on_decision(self, trial: Trial, decision: Decision) -> None:
        if decision is Decision.CONTINUE:
            return
        trial_id = trial.trial_id
        run = self._segment(trial_id)
        # Epochs trained past the result decided on are lost; a resume restarts from it.
        run.generation += 1
        run.level = bisect.bisect_right(run.resources, trial.resource)
        if trial_id in self._running:
            self._running.discard(trial_id)
            self._time += self.overheads.stop_cost

    def sleep(self) -> None:
        """The tuner waits: the clock moves on by ``tuner_sleep_time``."""
        self._time += self.overheads.tuner_sleep_time

    def stop_all(self) -> None:
        self._epochs.clear()
        self._running.clear()
