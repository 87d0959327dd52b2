"""The tuning loop: a backend, a scheduler, a stopping criterion and callbacks."""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import time as _time
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np

from hpo_core.backends.base import Backend, Event, EventKind
from hpo_core.backends.simulator import Segment, SimulatorBackend, precedes
from hpo_core.results import ResultsStore
from hpo_core.schedulers.base import Scheduler
from hpo_core.trial import Decision, Trial, TrialResult, TrialStatus

_CONTINUE = Decision.CONTINUE
_STATUS_AFTER = {Decision.PAUSE: TrialStatus.PAUSED, Decision.STOP: TrialStatus.STOPPED}


@contextlib.contextmanager
def _fewer_young_collections(threshold: int = 100_000) -> Iterator[None]:
    """Raise the youngest GC generation's threshold for the duration of a tuning loop.

    The loop allocates many short-lived dicts and almost no reference cycles, while the live
    trial objects keep growing; with the default threshold, collections triggered every few
    hundred allocations rescan them and a long simulated run slows down as it grows.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _compare(x: tuple[Segment, int], y: tuple[Segment, int]) -> int:
    """-1, 0 or 1 as epoch ``x`` (segment, index) comes before, with or after ``y``."""
    if precedes(x[0], x[1], y[0], y[1]):
        return -1
    return 1 if precedes(y[0], y[1], x[0], x[1]) else 0


@dataclass(frozen=True)
class StoppingCriterion:
    """When tuning ends: as soon as any of the given limits is reached.

    Attributes:
        max_wallclock_time: Tuner time in seconds (simulated time with the simulator); results
            after it are not recorded.
        max_num_evaluations: Number of reported results.
        max_num_trials_started: Number of trials started.
        max_num_trials_completed: Number of trials that ran to their maximum resource.
        max_num_trials_finished: Number of trials completed, stopped or failed.
    """

    max_wallclock_time: float | None = None
    max_num_evaluations: int | None = None
    max_num_trials_started: int | None = None
    max_num_trials_completed: int | None = None
    max_num_trials_finished: int | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in fields(self)]
        if all(getattr(self, name) is None for name in names):
            raise ValueError(f"StoppingCriterion needs at least one of {names}")
        for name in names:
            value = getattr(self, name)
            if value is None:
                continue
            integral = name != "max_wallclock_time"
            if (
                isinstance(value, bool)
                or not isinstance(value, int if integral else int | float)
                or value <= 0
            ):
                kind = "a positive int" if integral else "a positive number of seconds"
                raise ValueError(f"{name} must be {kind} or None, got {value!r}")


class TunerCallback:
    """Hooks called by the tuner; override the ones you need.

    A callback that does not need :meth:`on_trial_result` for every result sets
    :attr:`supports_bulk`: the tuner may then record the results the scheduler does not decide
    on in bulk and tell it with :meth:`on_bulk_results` instead (see :class:`Tuner`).
    """

    #: Whether the callback accepts :meth:`on_bulk_results` for results without a decision.
    supports_bulk: bool = False

    def on_tuning_start(self, tuner: Tuner) -> None:
        pass

    def on_trial_start(self, tuner: Tuner, trial: Trial) -> None:
        pass

    def on_trial_result(
        self, tuner: Tuner, trial: Trial, result: TrialResult, decision: Decision
    ) -> None:
        pass

    def on_bulk_results(self, tuner: Tuner, trial: Trial, rows: range) -> None:
        """Results of ``trial`` recorded in bulk (rows of ``tuner.results``, all CONTINUE,
        none decided on by the scheduler); only called if :attr:`supports_bulk`."""

    def on_trial_complete(self, tuner: Tuner, trial: Trial) -> None:
        pass

    def on_trial_error(self, tuner: Tuner, trial: Trial) -> None:
        pass

    def on_tuning_end(self, tuner: Tuner) -> None:
        pass


class ExtraResultsComposer(Protocol):
    """Adds columns to every recorded result, computed from the tuner (e.g. rung sizes).

    A composer whose values depend only on the scheduler's state (which changes only when the
    scheduler is called) may set ``supports_bulk = True``: results recorded in bulk then get
    the values it gave after the last event before them.
    """

    def keys(self) -> list[str]: ...

    def __call__(self, tuner: Tuner) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class TuningSummary:
    best_trial_id: int | None
    best_config: dict[str, Any] | None
    best_metric: float | None
    best_resource: int | None
    num_trials_started: int
    num_trials_completed: int
    num_results: int
    tuner_time: float
    real_seconds: float


class Tuner:
    """Runs a scheduler against a backend until the stopping criterion holds.

    Real-time and simulated-time backends share this loop: the tuner only reads the backend's
    clock and events. Results are recorded in :attr:`results` (a :class:`ResultsStore`).

    Args:
        backend: Runs the trials (e.g. :class:`~hpo_core.backends.simulator.SimulatorBackend`).
        scheduler: Decides what runs and for how long.
        stop_criterion: When to end.
        n_workers: Trials running at the same time (>= 1).
        callbacks: Hooks called on tuning events.
        extra_results: Composer of extra columns added to each recorded result.
        charge_decision_time: Add the scheduler's real compute time to the tuner's clock
            (simulation only; off by default, so decisions take zero simulated time).
        resource_attr: Name of the resource column in the results (default: the scheduler's
            ``resource_attr`` or ``"epoch"``).
        record_in_bulk: Where the backend can (the simulator) and nothing needs every result
            one by one (no decision time charged, every callback and the composer
            ``supports_bulk``), record the results between two decisions of a trial in bulk:
            the scheduler is woken only at the resources it decides at
            (:meth:`~hpo_core.schedulers.Scheduler.result_levels`). The scheduler sees the same
            events in the same order, and the results (put in time order when the run ends)
            are the same as with ``record_in_bulk=False``, which handles every epoch as an
            event.
    """

    def __init__(
        self,
        *,
        backend: Backend,
        scheduler: Scheduler,
        stop_criterion: StoppingCriterion,
        n_workers: int = 1,
        callbacks: Sequence[TunerCallback] = (),
        extra_results: ExtraResultsComposer | None = None,
        charge_decision_time: bool = False,
        resource_attr: str | None = None,
        record_in_bulk: bool = True,
    ) -> None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be an int >= 1, got {n_workers!r}")
        if not isinstance(stop_criterion, StoppingCriterion):
            raise ValueError("stop_criterion must be a StoppingCriterion")
        names = backend.objective_names()
        if names is not None and scheduler.metric not in names:
            raise ValueError(
                f"metric {scheduler.metric!r} is not reported by the backend; allowed: {names}"
            )
        self.backend = backend
        self.scheduler = scheduler
        self.stop_criterion = stop_criterion
        self.n_workers = n_workers
        self.callbacks = list(callbacks)
        self.extra_results = extra_results
        self.charge_decision_time = charge_decision_time
        self.results = ResultsStore(
            resource_attr=resource_attr or str(getattr(scheduler, "resource_attr", "epoch")),
            extra_keys=list(extra_results.keys()) if extra_results is not None else None,
        )
        self.trials: dict[int, Trial] = {}
        self.num_trials_started = 0
        self.num_trials_completed = 0
        self.num_trials_finished = 0
        # results a polled loop fetched but did not handle (see _run_polled)
        self.num_results_dropped = 0
        self.real_seconds = 0.0
        self.record_in_bulk = record_in_bulk
        #: Resources at which the scheduler wants each trial's results (None: all).
        self._levels_of: dict[int, Container[int] | None] = {}
        # bulk recording (see _run_segments)
        self._segments = False
        self._num_counted = 0
        self._blocks: list[tuple[int, Segment]] = []
        self._errors: list[Segment] = []
        self._timeline: list[dict[str, Any] | None] = []

    @property
    def time(self) -> float:
        return self.backend.time

    def _start_trials(self) -> None:
        while self.backend.num_running < self.n_workers:
            if self._start_one() is None:
                return

    def _start_one(self) -> int | None:
        """Start or resume the scheduler's next suggestion; the trial's id, or None if the
        scheduler has nothing (or the trial limit is reached)."""
        backend, scheduler = self.backend, self.scheduler
        max_started = self.stop_criterion.max_num_trials_started
        if max_started is not None and self.num_trials_started >= max_started:
            return None
        tic = _time.perf_counter() if self.charge_decision_time else 0.0
        suggestion = scheduler.suggest(len(self.trials))
        if self.charge_decision_time:
            backend.advance(_time.perf_counter() - tic)
        if suggestion is None:
            return None
        if suggestion.resume_trial_id is not None:
            trial = self.trials[suggestion.resume_trial_id]
            trial.status = TrialStatus.RUNNING
            if self._segments:
                self._set_levels(trial)
            backend.resume_trial(trial)
            return trial.trial_id
        assert suggestion.config is not None
        trial = Trial(len(self.trials), suggestion.config, backend.time)
        self.trials[trial.trial_id] = trial
        self.results.configs[trial.trial_id] = trial.config
        self.num_trials_started += 1
        if self._segments:
            self._set_levels(trial)
        backend.start_trial(trial)
        for callback in self.callbacks:
            callback.on_trial_start(self, trial)
        return trial.trial_id

    def _should_stop(self) -> bool:
        c = self.stop_criterion
        return (
            (c.max_num_trials_started is not None
             and self.num_trials_started >= c.max_num_trials_started)
            or (c.max_num_evaluations is not None
                and self._num_evaluations() >= c.max_num_evaluations)
            or (c.max_num_trials_completed is not None
                and self.num_trials_completed >= c.max_num_trials_completed)
            or (c.max_num_trials_finished is not None
                and self.num_trials_finished >= c.max_num_trials_finished)
        )

    def _num_evaluations(self) -> int:
        """Results so far: recorded ones, and those fetched but dropped (polled loop); with
        segments, also those before the last handled event not recorded yet (an upper bound of
        them, exact where it reaches ``max_num_evaluations``)."""
        if self._segments:
            return self._num_counted
        return len(self.results) + self.num_results_dropped

    def _bulk_possible(self) -> bool:
        backend = self.backend
        return (self.record_in_bulk and isinstance(backend, SimulatorBackend)
                and backend.supports_segments and backend.tuner_sleep_time is None
                and not self.charge_decision_time and not self.trials
                and all(c.supports_bulk for c in self.callbacks)
                and (self.extra_results is None
                     or getattr(self.extra_results, "supports_bulk", False)))

    def run(self) -> TuningSummary:
        """Tune until the stopping criterion holds or nothing is left to run."""
        with _fewer_young_collections():
            return self._run()

    def _run(self) -> TuningSummary:
        tic_run = _time.perf_counter()
        for callback in self.callbacks:
            callback.on_tuning_start(self)
        if self._bulk_possible():
            self._run_segments()
        elif self.backend.tuner_sleep_time is None:
            self._run_events()
        else:
            self._run_polled()
        self.backend.stop_all()
        if self._segments:
            self._put_in_time_order()
        self.real_seconds += _time.perf_counter() - tic_run
        for callback in self.callbacks:
            callback.on_tuning_end(self)
        return self.summary()

    def _run_events(self) -> None:
        """Event-driven loop: every result is handled at its time, freed workers start at once."""
        backend = self.backend
        max_time = self.stop_criterion.max_wallclock_time
        while True:
            self._start_trials()
            if self._should_stop():
                return
            event = backend.next_event()
            if event is None or (max_time is not None and event.time > max_time):
                return
            self._handle(event)

    def _run_polled(self) -> None:
        """Syne Tune's loop, for backends that are polled (``backend.tuner_sleep_time``).

        Each round handles the results that arrived (skipping a trial's later results once it
        is paused, stopped or done), then starts trials on the free workers, or sleeps if there
        are none; tuning ends after the round whose results pass the time budget. Running trial
        ids are kept in a ``set`` as Syne Tune keeps them: its iteration order is the order
        results are handled in. The skipped results are not recorded, but count towards
        ``max_num_evaluations`` (``num_results_dropped``), as Syne Tune's tuning status counts
        every result it fetched.
        """
        backend, n_workers = self.backend, self.n_workers
        max_time = self.stop_criterion.max_wallclock_time
        running: set[int] = set()
        latest = 0.0
        exhausted = False
        while True:
            done: set[int] = set()
            for event in backend.fetch(list(running)):
                if event.trial_id in done:
                    self.num_results_dropped += event.kind is not EventKind.ERROR
                    continue
                latest = max(latest, event.time)
                if self._handle(event) is not _CONTINUE or event.is_last or (
                    event.kind is EventKind.ERROR
                ):
                    done.add(event.trial_id)
            running.difference_update(done)
            if exhausted or len(running) >= n_workers:
                if exhausted and not running:
                    return
                backend.sleep()
            else:
                for _ in range(n_workers - len(running)):
                    trial_id = self._start_one()
                    if trial_id is None:
                        exhausted = True
                        break
                    running.add(trial_id)
            if self._should_stop() or (max_time is not None and latest > max_time):
                return

    # -- bulk recording ---------------------------------------------------------------------------

    def _set_levels(self, trial: Trial) -> None:
        trial_id = trial.trial_id
        if trial_id not in self._levels_of:
            self._levels_of[trial_id] = self.scheduler.result_levels(trial)
        backend = self.backend
        assert isinstance(backend, SimulatorBackend)
        backend.set_result_levels(trial_id, self._levels_of[trial_id])

    def _run_segments(self) -> None:
        """The event-driven loop with the epochs between two events the tuner must handle
        recorded in bulk (:class:`~hpo_core.backends.simulator.Segment`).

        Stop criteria hold as in :meth:`_run_events`: before a segment's end is handled, the
        results that precede it (its own and those of the other running segments) are counted;
        if the time budget or the evaluation limit falls among them, exactly the results the
        event-by-event loop would have recorded are recorded, and tuning ends.
        """
        backend = self.backend
        assert isinstance(backend, SimulatorBackend)
        backend.enable_segments()
        self._segments = True
        self._names = backend.objective_names()
        max_time = self.stop_criterion.max_wallclock_time
        max_evals = self.stop_criterion.max_num_evaluations
        last: Segment | None = None
        while True:
            self._start_trials()
            if self.extra_results is not None:
                self._timeline.append(self.extra_results(self))
            if self._should_stop():
                if last is not None:
                    self._flush(self._pending_before(last))
                return
            segment = backend.peek_segment()
            if segment is None:
                return
            over_time = max_time is not None and segment.times[-1] > max_time
            # the results before the segment's end (and so the count after it), counted exactly
            # only where a limit may be reached (at most: every running segment's results)
            num_before = 0
            if max_evals is not None:
                num_before = len(self.results) + sum(
                    s.last for s in backend.running_segments())
            if over_time or (max_evals is not None and num_before + 1 >= max_evals):
                pending = self._pending_before(segment, max_time if over_time else None)
                num_before = len(self.results) + sum(count for _, count in pending)
                if max_evals is not None and num_before >= max_evals:
                    self._flush_first(pending, max_evals - len(self.results))
                    return
                if over_time:
                    self._flush(pending)
                    # the loop without segments stops at the first epoch past the budget
                    counts = {id(s): count for s, count in pending}
                    backend.stop_at(min(float(s.times[counts.get(id(s), 0)])
                                        for s in backend.running_segments()))
                    return
            segment, event = backend.next_segment()
            self._record(segment, segment.last)
            if event.kind is EventKind.ERROR:
                self._errors.append(segment)
            self._handle(event)
            self._num_counted = num_before + (event.kind is EventKind.RESULT)
            last = segment

    def _pending_before(self, ref: Segment, max_time: float | None = None
                        ) -> list[tuple[Segment, int]]:
        """Per running segment, how many of its results (before its end) come before the end
        of ``ref``, and if ``max_time`` is given, not after it."""
        backend = self.backend
        assert isinstance(backend, SimulatorBackend)
        t_ref, ref_last = ref.times[-1], ref.last
        pending = []
        for segment in backend.running_segments():
            if not segment.last:
                continue
            times = np.asarray(segment.times[:segment.last])
            if segment is ref:
                count = len(times)
            else:
                count = int(np.searchsorted(times, t_ref, side="left"))
                while count < len(times) and times[count] == t_ref and precedes(
                        segment, count, ref, ref_last):
                    count += 1
            if max_time is not None:
                count = min(count, int(np.searchsorted(times, max_time, side="right")))
            if count:
                pending.append((segment, count))
        return pending

    def _flush(self, pending: list[tuple[Segment, int]]) -> None:
        for segment, count in pending:
            self._record(segment, count)

    def _flush_first(self, pending: list[tuple[Segment, int]], limit: int) -> None:
        """Record the first ``limit`` of the ``pending`` results, in event order."""
        entries = [(segment, i) for segment, count in pending for i in range(count)]
        entries.sort(key=functools.cmp_to_key(_compare))
        counts: dict[int, int] = {}
        taken = entries[:max(limit, 0)]
        for segment, i in taken:
            counts[id(segment)] = max(counts.get(id(segment), 0), i + 1)
        self._flush([(segment, counts[id(segment)]) for segment, _ in pending
                     if id(segment) in counts])
        if taken:  # the loop without segments stops at the last of them
            backend = self.backend
            assert isinstance(backend, SimulatorBackend)
            segment, i = taken[-1]
            backend.stop_at(float(segment.times[i]))

    def _record(self, segment: Segment, count: int) -> None:
        """Record the first ``count`` results of ``segment`` (without a decision); they, and
        the segment's end if it is recorded next, are rows from here on."""
        backend = self.backend
        assert isinstance(backend, SimulatorBackend)
        self._blocks.append((len(self.results), segment))
        if not count:
            segment.objectives = None
            return
        trial = self.trials[segment.trial_id]
        resources, objectives = backend.segment_rows(segment, count)
        first_row = len(self.results)
        self.results.extend(trial.trial_id, segment.times[:count], resources, objectives,
                            self._names, _CONTINUE)
        trial.resource = int(resources[-1])
        rows = range(first_row, first_row + count)
        for callback in self.callbacks:
            callback.on_bulk_results(self, trial, rows)

    def _put_in_time_order(self) -> None:
        """Rows in the order the event-by-event loop records them (see :meth:`_time_order`)."""
        order = self._time_order()
        # the segments are not needed any more (their times take as much room as a column)
        self._blocks, self._errors, self._timeline = [], [], []
        if np.any(order[1:] < order[:-1]):
            self.results.reorder(order)

    def _time_order(self) -> np.ndarray:
        """The rows' order in the event-by-event loop: by time, simultaneous ones as its heap
        orders them. Rows recorded in bulk get the composer's values of the last event the
        tuner handled before them."""
        results = self.results
        n = len(results)
        # the block of a row: the last one starting at or before it (earlier blocks with the
        # same start are empty)
        first_rows = [row for row, _ in self._blocks]
        starts = np.array(first_rows, dtype=np.int64)
        segments = [segment for _, segment in self._blocks]

        def keys(entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Block and index within it of rows ``entries``."""
            block = np.searchsorted(starts, entries, side="right") - 1
            return block, entries - starts[block]

        def key_of(entry: int) -> tuple[Segment, int]:
            if entry >= n:
                segment = self._errors[entry - n]
                return segment, segment.last
            block = bisect.bisect_right(first_rows, entry) - 1
            return segments[block], entry - first_rows[block]

        # entries: the rows, then the failures (handled events without a row)
        times = np.frombuffer(results.time, dtype=float)
        if self._errors:
            times = np.concatenate([times, [segment.times[-1] for segment in self._errors]])
        order = np.argsort(times, kind="stable")
        sorted_times = times[order]
        tied = np.zeros(len(order) + 1, dtype=bool)
        tied[1:-1] = sorted_times[1:] == sorted_times[:-1]
        del sorted_times
        if tied.any():
            def compare_entries(x: int, y: int) -> int:
                return _compare(key_of(x), key_of(y))

            compare = functools.cmp_to_key(compare_entries)
            # runs of equal times: each starts where the time differs from the one before
            starts_of_runs = np.flatnonzero(~tied[:-1] & tied[1:])
            ends_of_runs = np.flatnonzero(tied[:-1] & ~tied[1:]) + 1
            for start, end in zip(starts_of_runs.tolist(), ends_of_runs.tolist(), strict=True):
                order[start:end] = sorted(order[start:end].tolist(), key=compare)
        del tied
        if self.extra_results is not None:
            # handled events: segment ends that are rows, and the failures
            block, index = keys(np.arange(n))
            ends = np.array([segment.last for segment in segments], dtype=np.int64)
            handled = np.ones(len(times), dtype=bool)
            handled[:n] = index == ends[block]
            in_order = handled[order]
            handled_before = np.cumsum(in_order) - in_order
            bulk = ~handled[order] & (order < n)
            rows = order[bulk]
            results.set_extra(rows.tolist(),
                              [self._timeline[k] for k in handled_before[bulk].tolist()])
        return order[order < n] if self._errors else order

    def _handle(self, event: Event) -> Decision:
        """Record one event, ask the scheduler if the trial is at one of its levels, and pass
        the decision to the backend."""
        backend, scheduler, results, callbacks = (
            self.backend, self.scheduler, self.results, self.callbacks)
        trial = self.trials[event.trial_id]
        if event.kind is EventKind.ERROR:
            trial.status = TrialStatus.FAILED
            self.num_trials_finished += 1
            scheduler.on_trial_error(trial)
            for callback in callbacks:
                callback.on_trial_error(self, trial)
            return Decision.STOP
        trial.resource = event.resource
        trial_id = trial.trial_id
        levels_of = self._levels_of
        if trial_id in levels_of:
            levels = levels_of[trial_id]
        else:
            levels = levels_of[trial_id] = scheduler.result_levels(trial)
        result = None
        decision = _CONTINUE
        if levels is None or event.resource in levels or callbacks or event.is_last:
            assert event.metrics is not None
            result = TrialResult(trial_id, event.time, event.resource, event.metrics)
        if levels is None or event.resource in levels:
            charge = self.charge_decision_time
            tic = _time.perf_counter() if charge else 0.0
            decision = scheduler.on_trial_result(trial, result)  # type: ignore[arg-type]
            if charge:
                backend.advance(_time.perf_counter() - tic)
        results.append(trial_id, event.time, event.resource, event.metrics or {}, decision)
        if self.extra_results is not None:
            results.append_extra(self.extra_results(self))
        for callback in callbacks:
            callback.on_trial_result(self, trial, result, decision)  # type: ignore[arg-type]
        if event.is_last:
            trial.status = TrialStatus.COMPLETED
            self.num_trials_completed += 1
            self.num_trials_finished += 1
            scheduler.on_trial_complete(trial, result)
            for callback in callbacks:
                callback.on_trial_complete(self, trial)
        else:
            if decision is not _CONTINUE:
                trial.status = _STATUS_AFTER[decision]
                if decision is Decision.STOP:
                    self.num_trials_finished += 1
            backend.on_decision(trial, decision)
        return decision

    def summary(self) -> TuningSummary:
        metric, mode = self.scheduler.metric, self.scheduler.mode
        best = self.results.best(metric, mode)
        trial_id = config = value = resource = None
        if best is not None:
            row, value = best
            trial_id = int(self.results.trial_id[row])
            config = dict(self.trials[trial_id].config)
            resource = int(self.results.resource[row])
        return TuningSummary(
            best_trial_id=trial_id,
            best_config=config,
            best_metric=value,
            best_resource=resource,
            num_trials_started=self.num_trials_started,
            num_trials_completed=self.num_trials_completed,
            num_results=len(self.results),
            tuner_time=self.backend.time,
            real_seconds=self.real_seconds,
        )
