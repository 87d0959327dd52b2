"""Syne Tune's simulated timeline: delays, stop costs, polling in sleep ticks, result order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_simulator import Scripted, StepBlackbox

from hpo_core.backends.overheads import (
    SIMULATOR_OVERHEADS,
    OverheadSimulatorBackend,
    SimulatorOverheads,
)
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.trial import Decision, Trial
from hpo_core.tuner import StoppingCriterion, Tuner


def polled_tuner(scheduler: Any, n_workers: int, budget: float = 1_000.0,
                 max_num_evaluations: int | None = None, **overheads: float) -> Tuner:
    return Tuner(
        backend=OverheadSimulatorBackend(blackbox=StepBlackbox(), max_resource_attr="epochs",
                                         overheads=SimulatorOverheads(**overheads)),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=budget,
                                         max_num_evaluations=max_num_evaluations),
        n_workers=n_workers,
    )


def rows(tuner: Tuner) -> list[tuple[int, int, float]]:
    df = tuner.results.to_dataframe(metric="loss", mode="min")
    return [(int(t), int(r), round(float(s), 6))
            for t, r, s in zip(df["trial_id"], df["epoch"], df["st_tuner_time"], strict=True)]


def test_results_arrive_with_the_delays_and_are_seen_at_the_next_tick() -> None:
    # k = 1: epochs end 1, 2, 3, 4 s after the start (0.05 s after the tuner starts it), each
    # result 0.05 s later. One worker: the tuner sleeps to 5 s, sees all four, starts the next.
    tuner = polled_tuner(Scripted([{"k": 1, "epochs": 4}, {"k": 1, "epochs": 4}]), n_workers=1)
    tuner.run()
    assert rows(tuner) == [
        (0, 1, 1.1), (0, 2, 2.1), (0, 3, 3.1), (0, 4, 4.1),
        (1, 1, 6.1), (1, 2, 7.1), (1, 3, 8.1), (1, 4, 9.1),
    ]
    assert tuner.trials[1].creation_time == 5.0


def test_a_pause_costs_the_stop_delays_and_a_resume_counts_from_the_pause() -> None:
    # Trial 0 (k = 2: results at 2.1, 4.1, ...) is paused at epoch 2, seen at the 5 s tick: the
    # clock moves to 5.102 and trial 1 (k = 1) starts then. Trial 0 resumes at the next tick
    # (10.102), its epochs timed from the elapsed time it paused at (4 s).
    scheduler = Scripted([{"k": 2, "epochs": 4}, {"k": 1, "epochs": 4}],
                         pause_at={0: 2}, resume_after={0: 2})
    tuner = polled_tuner(scheduler, n_workers=1)
    tuner.run()
    stop = SimulatorOverheads().stop_cost
    assert stop == pytest.approx(0.102)
    start_1, resume_0 = 5.0 + stop, 10.0 + stop
    assert rows(tuner) == [
        (0, 1, 2.1), (0, 2, 4.1),
        *[(1, e, round(start_1 + 0.1 + e, 6)) for e in (1, 2, 3, 4)],
        (0, 3, round(resume_0 + 0.1 + 2, 6)), (0, 4, round(resume_0 + 0.1 + 4, 6)),
    ]
    assert tuner.trials[1].creation_time == pytest.approx(start_1)


def test_results_after_a_pause_in_the_same_poll_are_dropped() -> None:
    # k = 2 paused at epoch 1: epoch 2 arrived by the 5 s tick too, but the scheduler never
    # sees it and it is not recorded; the resume trains it again.
    scheduler = Scripted([{"k": 2, "epochs": 4}, {"k": 3, "epochs": 4}],
                         pause_at={0: 1}, resume_after={0: 2})
    tuner = polled_tuner(scheduler, n_workers=1)
    tuner.run()
    assert [(t, r) for t, r, _ in rows(tuner)] == [(0, 1), *[(1, e) for e in (1, 2, 3, 4)],
                                                   (0, 2), (0, 3), (0, 4)]


def test_dropped_results_count_towards_max_num_evaluations_as_in_syne_tune() -> None:
    # As above: the 5 s poll fetches trial 0's epochs 1 and 2 (2 counted, 1 recorded); trial 1
    # (k = 3, from 5.102 s) reports epoch 1 by the 10 s poll and epochs 2, 3 by the 15 s poll,
    # where 5 results have been fetched: tuning stops with 4 recorded.
    scheduler = Scripted([{"k": 2, "epochs": 4}, {"k": 3, "epochs": 4}],
                         pause_at={0: 1}, resume_after={0: 2})
    tuner = polled_tuner(scheduler, n_workers=1, max_num_evaluations=5)
    tuner.run()
    assert [(t, r) for t, r, _ in rows(tuner)] == [(0, 1), (1, 1), (1, 2), (1, 3)]
    assert tuner.num_results_dropped == 1


def test_epochs_grow_by_at_least_the_minimum_step() -> None:
    backend = OverheadSimulatorBackend(blackbox=StepBlackbox(), max_resource_attr="epochs",
                                       overheads=SimulatorOverheads(delay_start=0.0,
                                                                    delay_on_trial_result=0.0))
    flat = StepBlackbox()
    flat.curve = lambda config, seed=0: type(StepBlackbox().curve(config))(  # type: ignore
        np.column_stack([np.ones(4), np.array([0.0, 0.0, 0.5, 0.5])]))
    backend.blackbox = flat
    backend.start_trial(Trial(0, {"k": 1, "epochs": 4}, 0.0))
    backend._time = 10.0
    times = [e.time for e in backend.fetch([0])]
    assert times == pytest.approx([0.01, 0.02, 0.5, 0.51])


def test_fetch_groups_results_by_trial_in_the_order_asked() -> None:
    backend = OverheadSimulatorBackend(blackbox=StepBlackbox(), max_resource_attr="epochs")
    for trial_id, k in ((0, 1), (1, 2)):
        backend.start_trial(Trial(trial_id, {"k": k, "epochs": 4}, 0.0))
    backend.sleep()  # 5 s: trial 0 has 4 results, trial 1 two
    events = backend.fetch([1, 0])
    assert [(e.trial_id, e.resource) for e in events] == [(1, 1), (1, 2), (0, 1), (0, 2),
                                                          (0, 3), (0, 4)]
    assert backend.fetch([0, 1]) == []  # nothing new before the clock moves
    backend.on_decision(Trial(1, {}, 0.0, resource=2), Decision.STOP)
    assert backend.time == pytest.approx(5.102)
    backend.sleep()
    assert backend.fetch([0, 1]) == []  # the stopped trial's later epochs are gone


def test_the_tuner_handles_results_in_the_iteration_order_of_a_set_of_trial_ids() -> None:
    # Eight workers: once trial ids pass 8, a set of small ints no longer iterates in
    # ascending order (its hash is the int itself, modulo the table size), and neither does
    # the tuner handle results that way.
    configs = [{"k": 1 + (i % 3), "epochs": 4} for i in range(40)]
    tuner = polled_tuner(Scripted(configs), n_workers=8, budget=60.0)
    tuner.run()
    order = [t for t, _, _ in rows(tuner)]
    assert sorted(set(order)) == list(range(len(set(order))))
    assert order != sorted(order)


def test_asha_runs_on_the_polled_timeline_and_starts_fewer_trials() -> None:
    counts = {}
    for name in ("none", "syne_tune"):
        overheads = SIMULATOR_OVERHEADS[name]
        from hpo_core.backends.simulator import SimulatorBackend
        from hpo_core.testing import SyntheticBlackbox

        blackbox = SyntheticBlackbox(max_t=27)
        kwargs: dict[str, Any] = dict(blackbox=blackbox, max_resource_attr="epochs")
        backend = (SimulatorBackend(**kwargs) if overheads is None
                   else OverheadSimulatorBackend(overheads=overheads, **kwargs))
        scheduler = HyperbandScheduler(blackbox.config_space, metric=blackbox.metric,
                                       mode=blackbox.mode, resource_attr="epoch",
                                       max_resource_attr="epochs", type="stopping",
                                       random_seed=3)
        tuner = Tuner(backend=backend, scheduler=scheduler, n_workers=4,
                      stop_criterion=StoppingCriterion(max_wallclock_time=600.0))
        summary = tuner.run()
        counts[name] = summary.num_trials_started
        times = tuner.results.to_dataframe(metric=blackbox.metric, mode=blackbox.mode)[
            "st_tuner_time"]
        if overheads is not None:
            assert times.max() > 600.0  # the poll that passes the budget is recorded
    assert 0 < counts["syne_tune"] < counts["none"]


def test_overheads_are_checked() -> None:
    with pytest.raises(ValueError, match="delay_stop must be a number >= 0"):
        SimulatorOverheads(delay_stop=-1)
    with pytest.raises(ValueError, match="tuner_sleep_time must be > 0"):
        SimulatorOverheads(tuner_sleep_time=0)
