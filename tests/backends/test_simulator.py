"""Simulator backend: event order, pause/resume charging, worker occupancy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes import Blackbox, Curve
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.schedulers.base import Scheduler
from hpo_core.testing import SyntheticBlackbox
from hpo_core.trial import Decision, Trial, TrialResult, TrialSuggestion
from hpo_core.tuner import StoppingCriterion, Tuner, TunerCallback


class StepBlackbox(Blackbox):
    """Config ``k`` has loss ``k / (epoch)`` and takes ``k`` seconds per epoch, for 4 epochs."""

    fidelity_name = "epoch"
    elapsed_time_attr = "time"
    metric = "loss"
    mode = "min"

    def __init__(self) -> None:
        self.config_space: dict[str, Any] = {"k": sp.randint(1, 9), "epochs": 4}
        self.objective_names = ["loss", "time"]
        self.fidelity_values = np.arange(1, 5)

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        k = config["k"]
        epochs = np.arange(1, 5)
        return Curve(np.column_stack([k / epochs, k * epochs.astype(float)]))


class Scripted(Scheduler):
    """Starts the given configs in order; pauses or resumes as scripted."""

    def __init__(self, configs: list[dict[str, Any]],
                 pause_at: dict[int, int] | None = None,
                 resume_after: dict[int, int] | None = None) -> None:
        self.metric, self.mode, self.random_seed = "loss", "min", 0
        self.configs = list(configs)
        self.pause_at = pause_at or {}
        self.resume_after = resume_after or {}  # trial to resume -> once this many are started
        self.started = 0
        self.paused: set[int] = set()

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        for trial, after in list(self.resume_after.items()):
            if trial in self.paused and self.started >= after:
                self.paused.discard(trial)
                del self.resume_after[trial]
                return TrialSuggestion.resume(trial)
        if not self.configs:
            return None
        self.started += 1
        return TrialSuggestion.start(self.configs.pop(0))

    def on_trial_result(self, trial: Trial, result: TrialResult) -> Decision:
        if self.pause_at.get(trial.trial_id) == result.resource:
            self.paused.add(trial.trial_id)
            return Decision.PAUSE
        return Decision.CONTINUE


def tuner_for(scheduler: Scheduler, n_workers: int, **kwargs: Any) -> Tuner:
    return Tuner(
        backend=SimulatorBackend(blackbox=StepBlackbox(), max_resource_attr="epochs"),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=1_000.0),
        n_workers=n_workers,
        **kwargs,
    )


def rows(tuner: Tuner) -> list[tuple[int, float, int]]:
    r = tuner.results
    return list(zip(r.trial_id, r.time, r.resource, strict=True))


def test_events_in_time_order_ties_by_start_order() -> None:
    configs = [{"k": 2, "epochs": 4}, {"k": 1, "epochs": 4}, {"k": 2, "epochs": 4}]
    tuner = tuner_for(Scripted(configs), n_workers=2)
    tuner.run()
    assert rows(tuner) == [
        (1, 1.0, 1), (0, 2.0, 1), (1, 2.0, 2), (1, 3.0, 3), (0, 4.0, 2), (1, 4.0, 4),
        (0, 6.0, 3), (2, 6.0, 1), (0, 8.0, 4), (2, 8.0, 2), (2, 10.0, 3), (2, 12.0, 4),
    ]  # at t=6 and t=8, ties go to the event queued first


def test_pause_frees_worker_at_decision_time_and_resume_is_not_charged_again() -> None:
    configs = [{"k": 3, "epochs": 4}, {"k": 1, "epochs": 4}]
    scheduler = Scripted(configs, pause_at={0: 2}, resume_after={0: 2})
    tuner = tuner_for(scheduler, n_workers=1)
    tuner.run()
    # Trial 0 pauses at epoch 2 (t=6); trial 1 starts at t=6 on the freed worker and runs
    # 4 epochs (t=7..10); trial 0 resumes at t=10 with epoch 3, charged 3 s, not 9 s.
    assert tuner.trials[1].creation_time == 6.0
    assert rows(tuner) == [
        (0, 3.0, 1), (0, 6.0, 2), (1, 7.0, 1), (1, 8.0, 2), (1, 9.0, 3), (1, 10.0, 4),
        (0, 13.0, 3), (0, 16.0, 4),
    ]
    assert [str(d) for d in tuner.results.to_dataframe()["st_decision"]] == [
        "CONTINUE", "PAUSE", *["CONTINUE"] * 6
    ]


class Occupancy(TunerCallback):
    def __init__(self) -> None:
        self.max_running = 0

    def on_trial_result(self, tuner: Tuner, trial: Trial, result: TrialResult,
                        decision: Decision) -> None:
        self.max_running = max(self.max_running, tuner.backend.num_running)


@pytest.mark.parametrize("n_workers", [1, 3, 8])
@pytest.mark.parametrize("kind", ["stopping", "promotion"])
def test_worker_occupancy_never_above_n_workers(n_workers: int, kind: str) -> None:
    blackbox = SyntheticBlackbox(max_t=27)
    occupancy = Occupancy()
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
        scheduler=HyperbandScheduler(blackbox.config_space, metric="error", type=kind,
                                     max_resource_attr="epochs", random_seed=1),
        stop_criterion=StoppingCriterion(max_num_trials_started=200),
        n_workers=n_workers,
        callbacks=[occupancy],
    )
    tuner.run()
    assert occupancy.max_running == n_workers


def test_hours_of_simulated_time_without_waiting() -> None:
    blackbox = SyntheticBlackbox(max_t=27)
    ten_hours = 10 * 3600.0
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
        scheduler=FIFOScheduler(blackbox.config_space, metric="error", random_seed=0),
        stop_criterion=StoppingCriterion(max_wallclock_time=ten_hours),
        n_workers=4,
    )
    summary = tuner.run()
    assert summary.tuner_time > ten_hours
    assert max(tuner.results.time) <= ten_hours
    # Simulated time was not slept: far less real than simulated time passed.
    assert summary.real_seconds < ten_hours / 100


class Slow(Scripted):
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        total = 0.0
        for i in range(200_000):  # real compute, no sleeping
            total += i
        return super().suggest(trial_id)


def test_decision_time_is_charged_only_when_asked() -> None:
    configs = [{"k": 1, "epochs": 4}] * 3
    free = tuner_for(Slow([dict(c) for c in configs]), n_workers=1)
    free.run()
    charged = tuner_for(Slow([dict(c) for c in configs]), n_workers=1, charge_decision_time=True)
    charged.run()
    assert free.results.time[-1] == 12.0
    assert charged.results.time[-1] > 12.0


def test_seed_index_must_exist() -> None:
    with pytest.raises(ValueError, match="seed"):
        SimulatorBackend(blackbox=StepBlackbox(), seed=3)
