"""DEHB: DE operators, its brackets and parent slots, and runs in the simulator."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.synthetic import SyntheticBlackbox
from hpo_core.schedulers.dehb import (
    DEHBScheduler,
    binomial_crossover,
    match_key,
    rand1_mutation,
)
from hpo_core.schedulers.sync_brackets import DEHBBracketManager
from hpo_core.trial import Decision, Trial, TrialResult, TrialStatus
from hpo_core.tuner import StoppingCriterion, Tuner

# -- operators ------------------------------------------------------------------------------------


def test_rand1_mutation_redraws_entries_outside_the_cube() -> None:
    x0, x1, x2 = np.array([0.5, 0.9, 0.1]), np.array([0.8, 0.9, 0.0]), np.array([0.2, 0.1, 0.6])
    mutant = rand1_mutation(x0, x1, x2, mutation_factor=0.5, rng=np.random.default_rng(3))
    expected = x0 + 0.5 * (x1 - x2)  # [0.8, 1.3, -0.2]: the last two are redrawn
    redrawn = np.random.default_rng(3).uniform(0.0, 1.0, size=2)
    np.testing.assert_array_equal(mutant, [expected[0], *redrawn])
    inside = rand1_mutation(x0, x0, x0, mutation_factor=1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(inside, x0)


def test_binomial_crossover_takes_whole_hyperparameters() -> None:
    slices = [slice(0, 1), slice(1, 4), slice(4, 5)]  # a one-hot categorical in the middle
    mutant, target = np.ones(5), np.zeros(5)
    for seed in range(20):
        child = binomial_crossover(mutant, target, slices=slices, crossover_probability=0.5,
                                   rng=np.random.default_rng(seed))
        take = np.random.default_rng(seed).random(3) < 0.5
        if take.any():
            expected = np.concatenate([np.full(s.stop - s.start, t) for s, t in
                                       zip(slices, take, strict=True)])
            np.testing.assert_array_equal(child, expected)
        assert child[1:4].min() == child[1:4].max()  # the categorical moves as one
        assert child.any()  # at least one hyperparameter from the mutant
    never = binomial_crossover(mutant, target, slices=slices, crossover_probability=0.0,
                               rng=np.random.default_rng(1))
    assert never.sum() in (1, 3)  # exactly one hyperparameter from the mutant


def test_configs_match_to_seven_significant_digits() -> None:
    space = {"x": sp.uniform(0.0, 1.0), "n": sp.randint(1, 5)}
    assert match_key(space, {"x": 0.123456789, "n": 2}) == match_key(space, {"x": 0.1234568,
                                                                             "n": 2})
    assert match_key(space, {"x": 0.1234, "n": 2}) != match_key(space, {"x": 0.1234, "n": 3})


# -- brackets -------------------------------------------------------------------------------------


def test_dehb_rung_sizes_depend_on_the_level_only() -> None:
    first = [(9, 1), (3, 3), (1, 9)]
    manager = DEHBBracketManager(first, mode="min")
    assert manager.rung_systems == [first, first[1:], first[2:]]


@pytest.mark.parametrize("brackets", [None, 1, 2])
def test_parent_slot_is_in_an_earlier_bracket_at_the_same_level(brackets: int | None) -> None:
    first = [(9, 1), (3, 3), (1, 9)]
    manager = DEHBBracketManager(first, mode="min", brackets=brackets)
    kinds = manager.num_kinds
    for bracket_id in range(1, 3 * kinds + 1):
        while len(manager.brackets) <= bracket_id:
            manager._new_bracket()
    # fill every slot with a trial id that names its bracket, rung and slot
    for bracket_id, bracket in enumerate(manager.brackets):
        for rung, size in enumerate(bracket.sizes):
            bracket.trials[rung] = [bracket_id * 100 + rung * 10 + i for i in range(size)]
    for bracket_id in range(1, len(manager.brackets)):
        bracket = manager.brackets[bracket_id]
        for level, size in zip(bracket.levels, bracket.sizes, strict=True):
            for i in range(size):
                parent = manager.parent_trial(bracket_id, level, i)
                if parent is None:
                    continue
                parent_bracket, rest = divmod(parent, 100)
                assert parent_bracket < bracket_id
                assert manager.brackets[parent_bracket].levels[rest // 10] == level
                assert rest % 10 == i
                # the latest earlier bracket with that level
                later = [b for b in range(parent_bracket + 1, bracket_id)
                         if level in manager.brackets[b].levels]
                assert later == []


# -- the scheduler --------------------------------------------------------------------------------


def make(**kwargs: object) -> DEHBScheduler:
    space = {"x": sp.uniform(0.0, 1.0), "epochs": 9}
    return DEHBScheduler(space, metric="y", max_resource_attr="epochs", random_seed=2,
                         reduction_factor=3, **kwargs)  # type: ignore[arg-type]


def report(s: DEHBScheduler, trial: Trial, level: int, value: float) -> Decision:
    return s.on_trial_result(trial, TrialResult(trial.trial_id, 0.0, level, {"y": value}))


def test_first_bracket_is_successive_halving_then_de_with_selection() -> None:
    s = make()
    assert s.manager.rung_systems[0] == [(9, 1), (3, 3), (1, 9)]
    trials: dict[int, Trial] = {}

    def start(trial_id: int) -> Trial:
        suggestion = s.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        trials[trial_id] = Trial(trial_id, suggestion.config, 0.0)
        return trials[trial_id]

    first = [start(i) for i in range(9)]
    assert first[0].config["x"] == 0.5  # the midpoint first
    values = [0.9, 0.1, 0.5, 0.3, 0.8, 0.2, 0.7, 0.6, 0.4]
    for trial, value in zip(first, values, strict=True):
        assert report(s, trial, 1, value) is Decision.PAUSE  # first bracket: paused
    promoted = []
    for trial_id in range(9, 12):
        suggestion = s.suggest(trial_id)
        assert suggestion is not None and suggestion.resume_trial_id is not None
        promoted.append(suggestion.resume_trial_id)
    assert promoted == [1, 5, 3]  # the three best at level 1
    for trial_id, value in zip(promoted, [0.3, 0.05, 0.2], strict=True):
        assert report(s, trials[trial_id], 3, value) is Decision.PAUSE
    suggestion = s.suggest(9)
    assert suggestion is not None and suggestion.resume_trial_id == 5
    assert report(s, trials[5], 9, 0.01) is Decision.PAUSE
    assert s.manager.brackets[0].complete
    # bracket 1 starts at level 3 with configs made by DE from bracket 0's level-3 slots
    made = [start(i) for i in range(9, 12)]
    assert all(s._pending[t.trial_id].do_selection for t in made)
    parents = [s.manager.parent_trial(1, 3, i) for i in range(3)]
    assert parents == [1, 5, 3]
    # selection: a worse (or equal) new trial leaves the parent in the slot, a better one wins
    new_values = [0.4, 0.05, 0.1]  # vs the parents' 0.3, 0.05, 0.2
    for trial, value in zip(made, new_values, strict=True):
        assert report(s, trial, 3, value) is Decision.STOP  # later brackets: stopped
    assert s.manager.brackets[1].trials[0] == [1, 5, made[2].trial_id]


def run(n_workers: int, **kwargs: object) -> Tuner:
    blackbox = SyntheticBlackbox(max_t=27)
    s = DEHBScheduler(blackbox.config_space, metric="error", max_resource_attr="epochs",
                      random_seed=5, **kwargs)  # type: ignore[arg-type]
    backend = SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs")
    tuner = Tuner(backend=backend, scheduler=s, n_workers=n_workers,
                  stop_criterion=StoppingCriterion(max_num_trials_started=300))
    tuner.run()
    return tuner


@pytest.mark.parametrize("brackets", [None, 1, 2])
@pytest.mark.parametrize("n_workers", [1, 4])
def test_runs_fill_every_rung_and_never_resume_outside_the_first_bracket(
        n_workers: int, brackets: int | None) -> None:
    tuner = run(n_workers, brackets=brackets)
    s = tuner.scheduler
    assert isinstance(s, DEHBScheduler)
    complete = [b for b in s.manager.brackets if b.complete]
    assert len(complete) >= 2
    first_bracket = {t for rung in s.manager.brackets[0].trials for t in rung}
    frame = tuner.results.to_dataframe()
    starts = Counter(frame.groupby("trial_id")["epoch"].min())
    assert set(starts) <= set(s.rung_levels[:-1]) | {1}
    for trial_id, trial in tuner.trials.items():
        if trial_id not in first_bracket and trial.status is TrialStatus.PAUSED:
            pytest.fail(f"trial {trial_id} outside the first bracket was paused")
    configs = [match_key(s.config_space, t.config) for t in tuner.trials.values()]
    assert len(configs) == len(set(configs))  # no config twice


def test_without_pause_resume_promotions_are_new_trials() -> None:
    tuner = run(2, support_pause_resume=False)
    assert not any(t.status is TrialStatus.PAUSED for t in tuner.trials.values())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mutation_factor": 1.5}, "mutation_factor must be a number in"),
    ({"crossover_probability": -0.1}, "crossover_probability must be a number in"),
])
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_rung_sizes_for_the_extra_results() -> None:
    tuner = run(4)
    s = tuner.scheduler
    assert isinstance(s, DEHBScheduler)
    info = s.information_for_rungs()
    assert [i.level for i in info] == [1, 3, 9]
    # the slots filled at each level (new trials of later brackets pass lower levels unranked)
    filled: Counter[int] = Counter()
    for bracket in s.manager.brackets:
        for level, values in zip(bracket.levels, bracket.values, strict=True):
            filled[level] += sum(v is not None for v in values)
    assert [i.num_entries for i in info] == [filled[1], filled[3], filled[9]]
    assert filled[1] < Counter(int(r) for r in tuner.results.resource)[1]
