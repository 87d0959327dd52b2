"""Synchronous Hyperband: rung systems, brackets, the bracket manager, and runs in the simulator."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.synthetic import SyntheticBlackbox
from hpo_core.schedulers.sync_brackets import (
    BracketManager,
    HyperbandBracket,
    geometric_rung_systems,
    ranked_trials,
)
from hpo_core.schedulers.synchronous import SynchronousHyperbandScheduler
from hpo_core.trial import Decision, Trial, TrialResult
from hpo_core.tuner import StoppingCriterion, Tuner

# -- rung systems ---------------------------------------------------------------------------------


def test_rung_systems_of_hyperband_81_epochs() -> None:
    # Li et al. (2018), Table 1 (R = 81, eta = 3), with slots rounded up as Syne Tune does
    systems = geometric_rung_systems(grace_period=1, max_t=81, reduction_factor=3)
    assert systems[0] == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    assert systems[1] == [(34, 3), (12, 9), (4, 27), (2, 81)]
    assert systems[2] == [(15, 9), (5, 27), (2, 81)]
    assert systems[3] == [(8, 27), (3, 81)]
    assert systems[4] == [(5, 81)]
    assert geometric_rung_systems(grace_period=1, max_t=81, reduction_factor=3,
                                  brackets=1) == systems[:1]
    assert geometric_rung_systems(grace_period=1, max_t=81, reduction_factor=3,
                                  brackets=9) == systems  # capped


@settings(max_examples=200, deadline=None)
@given(grace=st.integers(1, 5), max_t=st.integers(2, 300),
       factor=st.sampled_from([2, 3, 4, 2.5, 3.3]), brackets=st.none() | st.integers(1, 8))
def test_rung_systems_follow_the_hyperband_formulas(grace: int, max_t: int, factor: float,
                                                    brackets: int | None) -> None:
    if grace >= max_t:
        with pytest.raises(ValueError, match="grace_period must be below max_t"):
            geometric_rung_systems(grace_period=grace, max_t=max_t, reduction_factor=factor)
        return
    s_max = math.ceil(math.log(max_t / grace) / math.log(factor) - 1e-12)
    try:
        systems = geometric_rung_systems(grace_period=grace, max_t=max_t,
                                         reduction_factor=factor, brackets=brackets)
    except ValueError as err:  # rounded levels coincide
        assert "strictly increasing levels" in str(err)
        return
    assert len(systems) == (s_max + 1 if brackets is None else min(brackets, s_max + 1))
    for b, rungs in enumerate(systems):
        r = s_max - b
        assert len(rungs) == r + 1
        assert rungs[-1] == (math.ceil((s_max + 1) / (r + 1)), max_t)
        for j, (size, level) in enumerate(rungs[:-1]):
            assert level == round(grace * factor ** (j + b)) < max_t
            assert size == math.ceil((s_max + 1) / (r + 1) * factor ** (r - j))
        # every bracket starts about (s_max + 1) / (r + 1) * eta^r trials at its lowest level
        assert rungs[0][0] >= rungs[-1][0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"grace_period": 0}, "grace_period must be an int >= 1"),
    ({"grace_period": 81}, "grace_period must be below max_t=81"),
    ({"reduction_factor": 1.5}, "reduction_factor must be a number >= 2"),
    ({"brackets": 0}, "brackets must be an int >= 1 or None"),
    ({"max_t": 16, "reduction_factor": 2.5}, "strictly increasing levels"),  # round(15.6) = 16
])
def test_rung_systems_reject_bad_arguments(kwargs: dict, message: str) -> None:
    arguments = {"grace_period": 1, "max_t": 81, "reduction_factor": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        geometric_rung_systems(**arguments)


# -- brackets and the manager ---------------------------------------------------------------------


def test_ranked_trials_best_first_ties_in_slot_order_failed_last() -> None:
    rung = [(0, 0.5), (1, 0.2), (2, math.nan), (3, 0.2), (4, 0.9)]
    assert ranked_trials(rung, 3, mode="min") == ([1, 3, 0], [2, 4])
    assert ranked_trials(rung, 2, mode="max") == ([4, 0], [1, 2, 3])
    failed = [(0, math.nan), (1, 0.3), (2, math.nan)]
    assert ranked_trials(failed, 2, mode="min") == ([1, 0], [2])


def test_a_rung_is_decided_when_every_slot_has_reported() -> None:
    bracket = HyperbandBracket([(3, 1), (1, 3)], mode="min")
    slots = [bracket.next_free_slot() for _ in range(3)]
    assert bracket.next_free_slot() is None  # all pending: the bracket takes no job
    assert all(s is not None and s.trial_id is None and s.level == 1 for s in slots)
    for trial_id, (slot, value) in enumerate(zip(slots, [0.4, 0.1, 0.7], strict=True)):
        assert slot is not None
        not_promoted = bracket.on_result(slot, trial_id, value)
    assert not_promoted == [0, 2] and bracket.current_rung == 1
    top = bracket.next_free_slot()
    assert top is not None and (top.trial_id, top.level) == (1, 3)
    with pytest.raises(RuntimeError, match="belongs to trial 1"):
        bracket.on_result(top, 0, 0.0)
    bracket.on_result(top, 1, 0.05)
    assert bracket.complete and bracket.next_free_slot() is None


def test_manager_opens_a_bracket_while_the_primary_one_is_blocked() -> None:
    systems = geometric_rung_systems(grace_period=1, max_t=9, reduction_factor=3)
    manager = BracketManager(systems, mode="min")
    jobs = [manager.next_job() for _ in range(systems[0][0][0] + 1)]
    assert [b for b, _ in jobs] == [0] * systems[0][0][0] + [1]  # no worker waits
    assert jobs[-1][1].level == systems[1][0][1]
    assert manager.kind(3) == 0 and len(manager.brackets) == 2
    # the primary bracket moves on once it completes
    for trial_id, (bracket_id, slot) in enumerate(jobs[:-1]):
        manager.on_result(bracket_id, slot, trial_id, float(trial_id))
    assert manager.primary == 0
    while not manager.brackets[0].complete:
        bracket_id, slot = manager.next_job()
        assert bracket_id == 0
        manager.on_result(bracket_id, slot, slot.trial_id, 0.0)
    assert manager.primary == 1


# -- the scheduler --------------------------------------------------------------------------------


def scheduler(**kwargs: object) -> SynchronousHyperbandScheduler:
    space = {"x": sp.uniform(0.0, 1.0), "epochs": 27}
    return SynchronousHyperbandScheduler(space, metric="y", max_resource_attr="epochs",
                                         random_seed=1, **kwargs)  # type: ignore[arg-type]


def test_first_bracket_promotes_the_best_of_each_rung() -> None:
    s = scheduler(brackets=1)
    sizes = [size for size, _ in s.manager.rung_systems[0]]
    assert sizes == [27, 9, 3, 1] and s.rung_levels == [1, 3, 9, 27]
    trials = {}
    values = np.random.default_rng(0).random(27)
    for trial_id in range(27):
        suggestion = s.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        trials[trial_id] = Trial(trial_id, suggestion.config, 0.0)
    for trial_id in range(27):
        result = TrialResult(trial_id, 0.0, 1, {"y": float(values[trial_id])})
        assert s.on_trial_result(trials[trial_id], result) is Decision.PAUSE
    resumed = []
    for trial_id in range(27, 36):
        suggestion = s.suggest(trial_id)
        assert suggestion is not None and suggestion.resume_trial_id is not None
        resumed.append(suggestion.resume_trial_id)
    assert resumed == [int(i) for i in np.argsort(values, kind="stable")[:9]]
    # a result below the trial's next rung continues it, one at the rung pauses it
    first = trials[resumed[0]]
    assert s.on_trial_result(first, TrialResult(first.trial_id, 0.0, 2, {"y": 0.0})) \
        is Decision.CONTINUE
    assert s.on_trial_result(first, TrialResult(first.trial_id, 0.0, 3, {"y": 0.0})) \
        is Decision.PAUSE
    with pytest.raises(RuntimeError, match="beyond its rung level 3"):
        s.on_trial_result(trials[resumed[1]], TrialResult(resumed[1], 0.0, 4, {"y": 0.0}))


def run(n_workers: int, **kwargs: object) -> Tuner:
    blackbox = SyntheticBlackbox(max_t=27)
    s = SynchronousHyperbandScheduler(blackbox.config_space, metric="error",
                                      max_resource_attr="epochs", random_seed=5,
                                      **kwargs)  # type: ignore[arg-type]
    backend = SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs")
    tuner = Tuner(backend=backend, scheduler=s, n_workers=n_workers,
                  stop_criterion=StoppingCriterion(max_num_trials_started=400))
    tuner.run()
    return tuner


@pytest.mark.parametrize("n_workers", [1, 4])
@pytest.mark.parametrize("brackets", [1, None])
def test_trials_and_resources_per_rung_follow_the_formulas(n_workers: int,
                                                           brackets: int | None) -> None:
    tuner = run(n_workers, brackets=brackets)
    s = tuner.scheduler
    assert isinstance(s, SynchronousHyperbandScheduler)
    frame = tuner.results.to_dataframe()
    values: dict[int, dict[int, float]] = defaultdict(dict)
    for trial_id, level, value in zip(frame["trial_id"], frame["epoch"], frame["error"],
                                      strict=True):
        values[int(trial_id)][int(level)] = float(value)
    complete = [b for b in s.manager.brackets if b.complete]
    assert complete, "some brackets completed"
    for bracket in complete:
        previous_level = 0
        for rung, (size, level) in enumerate(zip(bracket.sizes, bracket.levels, strict=True)):
            trials = bracket.trials[rung]
            assert len(trials) == len(set(trials)) == size
            for trial_id in trials:  # each ran from the previous rung's level to this one
                assert trial_id is not None
                assert set(range(previous_level + 1, level + 1)) <= set(values[trial_id])
            if rung:  # the best of the rung below went on
                below = sorted(bracket.trials[rung - 1],
                               key=lambda t: values[t][bracket.levels[rung - 1]])
                assert set(trials) == set(below[:size])
            previous_level = level
    if brackets == 1:
        assert all(b.levels[0] == 1 for b in s.manager.brackets)
    else:  # brackets are cycled through, largest first
        assert [b.levels[0] for b in s.manager.brackets[:4]] == [1, 3, 9, 27]


def test_workers_never_wait_for_a_rung() -> None:
    tuner = run(4, brackets=1)
    # every trial starts when a worker frees: 4 trials run until the start limit is reached
    starts = Counter(round(t.creation_time, 9) for t in tuner.trials.values())
    assert starts[0.0] == 4
    assert len(tuner.scheduler.manager.brackets) > 1  # type: ignore[attr-defined]


def test_failed_trials_rank_last_and_are_not_resumed() -> None:
    s = scheduler(brackets=1)
    trials = {}
    for trial_id in range(27):
        suggestion = s.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        trials[trial_id] = Trial(trial_id, suggestion.config, 0.0)
    # only 5 report a value; the rest fail: 9 slots above, so 4 failed trials would go on
    for trial_id in range(27):
        if trial_id < 5:
            s.on_trial_result(trials[trial_id], TrialResult(trial_id, 0.0, 1, {"y": 1.0}))
        else:
            s.on_trial_error(trials[trial_id])
    resumed = []
    for trial_id in range(27, 40):
        suggestion = s.suggest(trial_id)
        assert suggestion is not None
        if suggestion.resume_trial_id is not None:
            resumed.append(suggestion.resume_trial_id)
        else:
            break
    assert resumed == [0, 1, 2, 3, 4]  # the failed ones fail their slot at once
    assert all(v is not None and math.isnan(v) for v in s.manager.brackets[0].values[1][5:])


def test_rung_sizes_for_the_extra_results() -> None:
    tuner = run(4, brackets=1)
    s = tuner.scheduler
    assert isinstance(s, SynchronousHyperbandScheduler)
    info = s.information_for_rungs()
    assert [i.level for i in info] == [1, 3, 9]
    counts = Counter(int(r) for r in tuner.results.resource)
    assert [i.num_entries for i in info] == [counts[1], counts[3], counts[9]]
