"""The contract every registered scheduler variant must honour, run in the simulator."""

from __future__ import annotations

import pandas as pd
import pytest

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.schedulers import SCHEDULERS
from hpo_core.testing import SyntheticBlackbox
from hpo_core.trial import TrialStatus
from hpo_core.tuner import StoppingCriterion, Tuner
from tests.conftest import VARIANTS, SchedulerFactory


def run(
    factory: SchedulerFactory,
    stop: StoppingCriterion,
    *,
    n_workers: int = 4,
    seed: int = 0,
    blackbox: SyntheticBlackbox | None = None,
) -> Tuner:
    blackbox = blackbox or SyntheticBlackbox(max_t=27)
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
        scheduler=factory(blackbox.config_space, seed),
        stop_criterion=stop,
        n_workers=n_workers,
    )
    tuner.run()
    return tuner


def test_every_registered_scheduler_class_has_a_variant() -> None:
    covered = {type(f(SyntheticBlackbox().config_space, 0)) for f in VARIANTS.values()}
    assert covered == set(SCHEDULERS.values())


def test_suggests_valid_configs(scheduler_factory: SchedulerFactory) -> None:
    tuner = run(scheduler_factory, StoppingCriterion(max_num_trials_started=200))
    space = SyntheticBlackbox().config_space
    assert len(tuner.trials) == 200
    for trial in tuner.trials.values():
        sp.validate_config(space, trial.config)
    keys = {sp.config_key(space, t.config) for t in tuner.trials.values()}
    assert len(keys) == len(tuner.trials), "a config was suggested twice"


@pytest.mark.parametrize(
    "stop",
    [
        StoppingCriterion(max_wallclock_time=2_000.0),
        StoppingCriterion(max_num_evaluations=500),
        StoppingCriterion(max_num_trials_started=60),
        StoppingCriterion(max_num_trials_completed=5),
        StoppingCriterion(max_num_trials_finished=40),
        StoppingCriterion(max_wallclock_time=1e6, max_num_evaluations=300),
    ],
    ids=["wallclock", "evaluations", "started", "completed", "finished", "combination"],
)
def test_respects_stop_criterion(
    scheduler_factory: SchedulerFactory, stop: StoppingCriterion
) -> None:
    tuner = run(scheduler_factory, stop)
    times = tuner.results.time
    if stop.max_wallclock_time is not None:
        assert max(times) <= stop.max_wallclock_time
    if stop.max_num_evaluations is not None:
        assert len(tuner.results) <= stop.max_num_evaluations
    if stop.max_num_trials_started is not None:
        assert tuner.num_trials_started <= stop.max_num_trials_started
    if stop.max_num_trials_completed is not None:
        assert tuner.num_trials_completed <= stop.max_num_trials_completed
    if stop.max_num_trials_finished is not None:
        assert tuner.num_trials_finished <= stop.max_num_trials_finished
    # ... and the run went right up to one of the limits, not short of it.
    assert (
        (stop.max_num_evaluations is not None
         and len(tuner.results) == stop.max_num_evaluations)
        or (stop.max_num_trials_started is not None
            and tuner.num_trials_started == stop.max_num_trials_started)
        or (stop.max_num_trials_completed is not None
            and tuner.num_trials_completed == stop.max_num_trials_completed)
        or (stop.max_num_trials_finished is not None
            and tuner.num_trials_finished == stop.max_num_trials_finished)
        or (stop.max_wallclock_time is not None
            and tuner.backend.time > stop.max_wallclock_time)
    )


@pytest.mark.parametrize("n_workers", [1, 4])
def test_same_seed_same_results(scheduler_factory: SchedulerFactory, n_workers: int) -> None:
    stop = StoppingCriterion(max_num_trials_started=150)
    first = run(scheduler_factory, stop, n_workers=n_workers, seed=7).results.to_dataframe()
    second = run(scheduler_factory, stop, n_workers=n_workers, seed=7).results.to_dataframe()
    pd.testing.assert_frame_equal(first, second)
    other = run(scheduler_factory, stop, n_workers=n_workers, seed=8).results.to_dataframe()
    assert not first.equals(other)


def test_never_beyond_max_resource(scheduler_factory: SchedulerFactory) -> None:
    blackbox = SyntheticBlackbox(max_t=27)
    blackbox.config_space["epochs"] = 20  # cap below the blackbox's 27 epochs
    tuner = run(scheduler_factory, StoppingCriterion(max_num_trials_started=300),
                blackbox=blackbox)
    assert max(tuner.results.resource) == 20
    reached = {t for t, r in zip(tuner.results.trial_id, tuner.results.resource,
                                 strict=True) if r == 20}
    for trial_id in reached:
        assert tuner.trials[trial_id].status is TrialStatus.COMPLETED


def test_survives_trial_errors(scheduler_factory: SchedulerFactory) -> None:
    blackbox = SyntheticBlackbox(max_t=27, failure_fraction=0.3)
    tuner = run(scheduler_factory, StoppingCriterion(max_num_trials_started=300),
                blackbox=blackbox)
    failed = {t.trial_id for t in tuner.trials.values() if t.status is TrialStatus.FAILED}
    assert len(failed) > 20
    assert tuner.num_trials_started == 300
    # A failed trial reports nothing after failing (it is never resumed).
    failed_at = {t: tuner.trials[t].resource for t in failed}
    for trial_id, resource in zip(tuner.results.trial_id, tuner.results.resource, strict=True):
        if trial_id in failed_at:
            assert resource <= failed_at[trial_id]
