"""Simulated-time backend: replays blackbox curves on an event heap, no real waiting.

Each running trial has exactly one pending event, its next epoch's result, on a heap keyed by
``(simulated_time, counter)``; the counter orders simultaneous events by insertion, so runs are
deterministic. Epoch ``r`` of a trial ends ``elapsed(r) - elapsed(r - 1)`` simulated seconds after
epoch ``r - 1`` (``elapsed`` being the blackbox's cumulative time objective), so a resumed trial is
charged only for epochs it had not trained yet. Pausing or stopping frees the worker at the time of
the result the decision was made on.

**Segments.** A tuner that knows at which resources the scheduler decides
(:meth:`~hpo_core.schedulers.Scheduler.result_levels`) can ask for them
(:meth:`SimulatorBackend.enable_segments`): a trial's epochs up to its next decision (or its last
epoch, or its failure) then form one :class:`Segment`, a single heap entry; the epochs before its
end are handed over as arrays, to be recorded without waking the scheduler. The end times are
accumulated epoch by epoch as above, and simultaneous events are ordered as the one-event-per-epoch
heap orders them (:func:`precedes`), so the scheduler sees the same events in the same order and
the recorded results, put in time order, are the same.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Container, Iterator, Mapping
from typing import Any

import numpy as np

from hpo_core.backends.base import Backend, Event, EventKind
from hpo_core.blackboxes.base import Blackbox
from hpo_core.trial import Decision, Trial

#: Segments of fewer epochs than this have their times added up in Python, not numpy.
SHORT_SEGMENT = 32


class _Run:
    """Replay state of one trial."""

    __slots__ = ("elapsed", "failed_after", "level", "max_level", "objectives", "resources")

    def __init__(
        self, objectives: np.ndarray, elapsed: list[float], resources: list[int],
        max_level: int, failed_after: int | None,
    ) -> None:
        #: Objective values per fidelity, a row turned into a metrics dict only when reported,
        #: since most trials of an early-stopping method report a few of their epochs.
        self.objectives = objectives
        self.elapsed = elapsed
        self.resources = resources
        self.max_level = max_level
        self.failed_after = failed_after
        #: Number of results reported so far (index of the next one).
        self.level = 0


class Segment:
    """Epochs ``first .. first + len(times) - 1`` of one trial, trained back to back.

    The last one is an event for the tuner to handle: a result at a resource where the
    scheduler decides, the trial's last result, or (``error``) its failure, which reports
    nothing. The ones before it are results recorded without a decision.

    Attributes:
        trial_id: The trial.
        first: Index (in the blackbox's fidelities) of the first epoch.
        times: Simulated time at which each epoch ends (the failure's time last, for an error).
        error: Whether the segment ends with the trial's failure.
        parent: The handled segment after whose end this one was pushed (``None``: before any).
        sub: Position among the segments pushed after ``parent``.
        rank: Position of the segment's end among the handled events (once handled).
    """

    __slots__ = ("error", "first", "objectives", "parent", "rank", "sub", "times", "trial_id")

    def __init__(self, trial_id: int, first: int, times: np.ndarray | list[float], error: bool,
                 objectives: np.ndarray, parent: Segment | None, sub: int) -> None:
        self.trial_id = trial_id
        self.first = first
        self.times = times
        self.error = error
        #: The trial's objectives (dropped once the segment's rows are recorded).
        self.objectives: np.ndarray | None = objectives
        self.parent = parent
        self.sub = sub
        self.rank: int | None = None

    @property
    def last(self) -> int:
        """Index in :attr:`times` of the segment's end: also the number of results before it
        (recorded without a decision)."""
        return len(self.times) - 1

    def __lt__(self, other: Segment) -> bool:
        return precedes(self, self.last, other, other.last)


def precedes(a: Segment, i: int, b: Segment, j: int) -> bool:
    """Whether epoch ``i`` of segment ``a`` comes before epoch ``j`` of segment ``b`` in the
    order of the one-event-per-epoch heap.

    There, an event is pushed when the previous epoch of its trial is handled (or, for a trial's
    first epoch after a start or resume, after the event that freed the worker), and events are
    handled in the order (time, push order). So at equal times, the events whose predecessors
    were handled first come first: the comparison walks back along the predecessors until the
    times differ, both are handled events (whose order is known), or two events were pushed
    after the same one (then in the order they were pushed).
    """
    while True:
        ta, tb = a.times[i], b.times[j]
        if ta != tb:
            return bool(ta < tb)
        if a is b and i == j:
            return False
        if (i == len(a.times) - 1 and j == len(b.times) - 1
                and a.rank is not None and b.rank is not None):
            return a.rank < b.rank
        # predecessors: the previous epoch of the segment, or the segment's parent
        pa: Segment | None
        pb: Segment | None
        if i > 0:
            pa, pi, sa = a, i - 1, 0
        else:
            pa, sa = a.parent, a.sub
            pi = len(pa.times) - 1 if pa is not None else 0
        if j > 0:
            pb, pj, sb = b, j - 1, 0
        else:
            pb, sb = b.parent, b.sub
            pj = len(pb.times) - 1 if pb is not None else 0
        if pa is pb and pi == pj:
            return sa < sb
        if pa is None or pb is None:  # pushed before any event was handled come first
            return pa is None
        a, i, b, j = pa, pi, pb, pj


def _next_stops(resources: list[int], levels: Container[int] | None) -> list[int]:
    """Per fidelity index ``k``: the smallest index ``>= k`` whose resource is in ``levels``
    (every index if ``levels`` is None), or ``len(resources)`` if there is none."""
    n = len(resources)
    stops = [n] * (n + 1)
    for k in range(n - 1, -1, -1):
        stops[k] = k if levels is None or resources[k] in levels else stops[k + 1]
    return stops


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
    #: Whether :meth:`enable_segments` may be used.
    supports_segments = True

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
        #: (time, counter, trial_id) per epoch, or (time, Segment) with segments
        self._heap: list[Any] = []
        self._counter = 0
        self._time = 0.0
        self._runs: dict[int, _Run] = {}
        self._running: set[int] = set()
        # segments (see enable_segments)
        self._segments = False
        self._levels: dict[int, Container[int] | None] = {}
        self._stops: dict[int, tuple[Container[int] | None, list[int]]] = {}
        self._segment_of: dict[int, Segment] = {}
        self._last_handled: Segment | None = None
        self._num_pushed_after = 0
        self._num_handled = 0

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
        objectives = np.asarray(curve.objectives, dtype=float)
        elapsed = objectives[:, self._time_index]
        run = self._run_class(
            objectives, elapsed.tolist(), self._resources, self._max_level(trial.config),
            curve.failed_after,
        )
        self._runs[trial.trial_id] = run
        self._running.add(trial.trial_id)
        self._schedule_next(trial.trial_id)

    def resume_trial(self, trial: Trial) -> None:
        self._running.add(trial.trial_id)
        self._schedule_next(trial.trial_id)

    def _schedule_next(self, trial_id: int) -> None:
        if self._segments:
            self._push_segment(trial_id)
            return
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
            self._release(trial_id)
            return Event(EventKind.ERROR, time, trial_id, run.resources[level - 1] if level else 0)
        run.level = level + 1
        is_last = run.level >= run.max_level
        if is_last:
            self._running.discard(trial_id)
            self._release(trial_id)
        metrics = dict(zip(self._names, run.objectives[level].tolist(), strict=True))
        return Event(EventKind.RESULT, time, trial_id, run.resources[level], metrics, is_last)

    def on_decision(self, trial: Trial, decision: Decision) -> None:
        trial_id = trial.trial_id
        if trial_id not in self._running:
            return
        if decision is Decision.CONTINUE:
            self._schedule_next(trial_id)
        else:
            self._running.discard(trial_id)
            if decision is Decision.STOP:
                self._release(trial_id)

    def _release(self, trial_id: int) -> None:
        """A trial that will not run again (complete, failed, stopped): drop its curve."""
        self._runs.pop(trial_id, None)

    # -- segments -------------------------------------------------------------------------------

    def enable_segments(self) -> None:
        """Deliver a trial's epochs up to its next decision as one :class:`Segment`
        (:meth:`next_segment`); the levels come from :meth:`set_result_levels`, which must be
        called before every start and resume. Call before the first trial starts."""
        if self._runs:
            raise RuntimeError("enable_segments() must be called before any trial starts")
        self._segments = True

    def set_result_levels(self, trial_id: int, levels: Container[int] | None) -> None:
        """The resources at which the scheduler decides about ``trial_id`` (None: all)."""
        self._levels[trial_id] = levels

    def _stops_for(self, levels: Container[int] | None) -> list[int]:
        key = id(levels)
        cached = self._stops.get(key)
        if cached is None or cached[0] is not levels:
            cached = self._stops[key] = (levels, _next_stops(self._resources, levels))
        return cached[1]

    def _push_segment(self, trial_id: int) -> None:
        run = self._runs[trial_id]
        first = run.level
        last = self._stops_for(self._levels[trial_id])[first]
        last = max(first, min(last, run.max_level - 1))
        failed_after = run.failed_after
        error = failed_after is not None and failed_after <= last
        if failed_after is not None and error:
            last = max(first, failed_after)
        times = self._segment_times(run, first, last)
        if times is None:  # an epoch with a negative time: one at a time, as without segments
            last, error = first, run.failed_after == first
            times = self._segment_times(run, first, first)
            assert times is not None
        segment = Segment(trial_id, first, times, error, run.objectives, self._last_handled,
                          self._num_pushed_after)
        self._num_pushed_after += 1
        self._segment_of[trial_id] = segment
        heapq.heappush(self._heap, (float(times[-1]), segment))

    def _segment_times(self, run: _Run, first: int, last: int
                       ) -> list[float] | np.ndarray | None:
        """End times of epochs ``first .. last`` started now, added up epoch by epoch as the
        one-event-per-epoch heap does; ``None`` if there are several and one takes a negative
        time (the heap then moves it to the clock's time). Short segments in Python, long ones
        with numpy."""
        elapsed, t = run.elapsed, self._time
        previous = elapsed[first - 1] if first else 0.0
        if last == first:
            return [t + (elapsed[first] - previous)]
        if last - first < SHORT_SEGMENT:
            times = []
            for k in range(first, last + 1):
                step = elapsed[k] - previous
                if step < 0:
                    return None
                t = t + step
                times.append(t)
                previous = elapsed[k]
            return times
        steps = np.diff(run.objectives[first:last + 1, self._time_index], prepend=previous)
        if steps.min() < 0:
            return None
        return np.add.accumulate(np.concatenate(([t], steps)))[1:]

    def peek_segment(self) -> Segment | None:
        """The segment whose end comes next, ``None`` if no trial is running."""
        return self._heap[0][1] if self._heap else None

    def running_segments(self) -> Iterator[Segment]:
        """The segments of the running trials (each trial's current one)."""
        return (self._segment_of[t] for t in self._running if t in self._segment_of)

    def next_segment(self) -> tuple[Segment, Event]:
        """Pop the next segment: it and the event at its end (handled by the tuner after the
        segment's other results are recorded, see :meth:`segment_rows`)."""
        _, segment = heapq.heappop(self._heap)
        assert isinstance(segment, Segment)
        del self._segment_of[segment.trial_id]
        segment.rank = self._num_handled
        self._num_handled += 1
        self._last_handled = segment
        self._num_pushed_after = 0
        trial_id = segment.trial_id
        run = self._runs[trial_id]
        time = self._time = max(float(segment.times[-1]), self._time)
        segment.times[-1] = time  # an epoch with a negative time ends when it is handled
        run.level = segment.first + segment.last
        return segment, self._deliver(trial_id, run, time)

    def stop_at(self, time: float) -> None:
        """Set the clock to ``time``, the event at which the one-event-per-epoch loop would
        have stopped (for a tuner stopping between segment ends)."""
        self._time = max(self._time, time)

    def segment_rows(self, segment: Segment, count: int) -> tuple[list[int], np.ndarray]:
        """Resources and objectives (one row per result) of the segment's first ``count``
        results."""
        assert segment.objectives is not None, "a segment's rows are taken once"
        rows = slice(segment.first, segment.first + count)
        objectives, segment.objectives = segment.objectives[rows], None
        return self._resources[rows], objectives

    def stop_all(self) -> None:
        self._heap.clear()
        self._running.clear()
        self._segment_of.clear()
        self._last_handled = None  # segments link to their parents: let them go

    def advance(self, seconds: float) -> None:
        self._time += seconds
