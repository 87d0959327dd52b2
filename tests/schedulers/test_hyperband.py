"""Rung rules of the Hyperband scheduler, driven directly (no backend): it is a pure object."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo_core import space as sp
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.trial import Decision, Trial, TrialResult

SPACE: dict[str, Any] = {"x": sp.uniform(0.0, 1.0), "epochs": 27}


def make(**kwargs: Any) -> HyperbandScheduler:
    args: dict[str, Any] = {"metric": "loss", "max_resource_attr": "epochs", "random_seed": 0}
    args.update(kwargs)
    return HyperbandScheduler(SPACE, **args)


class Driver:
    """Feeds a scheduler results and checks every decision against a brute-force rung table."""

    def __init__(self, scheduler: HyperbandScheduler) -> None:
        self.s = scheduler
        self.trials: dict[int, Trial] = {}
        self.rungs: dict[int, list[tuple[int, float]]] = {lvl: [] for lvl in scheduler.levels}
        self.next_level = dict(zip(scheduler.levels, [*scheduler.levels[1:], scheduler.max_t],
                                   strict=True))
        self.paused: dict[int, int] = {}

    def in_top(self, level: int, trial_id: int) -> bool:
        entries = self.rungs[level]
        value = dict(entries)[trial_id]
        k = len(entries) * level // self.next_level[level]
        return sum(v < value for _, v in entries) < k

    def promotable(self) -> list[tuple[int, int]]:
        return [(lvl, t) for t, lvl in self.paused.items() if self.in_top(lvl, t)]

    def suggest(self) -> int | None:
        before = self.promotable()
        suggestion = self.s.suggest(len(self.trials))
        assert suggestion is not None
        if suggestion.resume_trial_id is not None:
            trial_id = suggestion.resume_trial_id
            level = self.paused.pop(trial_id)
            # Only trials in the top fraction of their rung are promoted, highest rung first.
            assert (level, trial_id) in before
            assert level == max(lvl for lvl, _ in before)
            return trial_id
        assert not before or self.s.type == "stopping", "a promotable trial was passed over"
        trial = Trial(len(self.trials), suggestion.config or {}, 0.0)
        self.trials[trial.trial_id] = trial
        return trial.trial_id

    def report(self, trial_id: int, level: int, value: float) -> Decision:
        trial = self.trials[trial_id]
        decision = self.s.on_trial_result(trial, TrialResult(trial_id, 0.0, level, {"loss": value}))
        if level in self.rungs:
            self.rungs[level].append((trial_id, value))
            entries = len(self.rungs[level])
            too_few = entries * level // self.next_level[level] == 0
            top = self.in_top(level, trial_id)
            if self.s.type == "stopping":
                assert decision is (Decision.CONTINUE if top or too_few else Decision.STOP)
            else:
                assert decision is (Decision.CONTINUE if top else Decision.PAUSE)
                if decision is Decision.PAUSE:
                    self.paused[trial_id] = level
        return decision


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["stopping", "promotion"]),
    reduction_factor=st.sampled_from([2, 3, 4]),
    values=st.lists(st.floats(0.0, 1.0), min_size=40, max_size=120),
    choices=st.lists(st.integers(0, 1_000), min_size=40, max_size=120),
)
def test_rung_invariants(
    kind: str, reduction_factor: int, values: list[float], choices: list[int]
) -> None:
    driver = Driver(make(type=kind, reduction_factor=reduction_factor))
    running: dict[int, int] = {}  # trial_id -> next rung index to report at
    levels = driver.s.levels
    for value, choice in zip(values, choices, strict=False):
        while len(running) < 4:
            trial_id = driver.suggest()
            assert trial_id is not None
            start = 0
            if trial_id in driver.trials and trial_id not in running:
                # resumed: continue at the rung after the one it paused at
                reached = [lvl for lvl in levels if any(t == trial_id for t, _ in
                                                        driver.rungs[lvl])]
                start = levels.index(max(reached)) + 1 if reached else 0
            running[trial_id] = start
        trial_id = sorted(running)[choice % len(running)]
        index = running.pop(trial_id)
        if index >= len(levels):
            continue  # reached max_t
        decision = driver.report(trial_id, levels[index], value)
        if decision is Decision.CONTINUE:
            running[trial_id] = index + 1


def test_rung_levels_from_grace_period_and_reduction_factor() -> None:
    assert make().levels == [1, 3, 9]
    assert make(max_t=81, grace_period=1).levels == [1, 3, 9, 27]
    assert make(max_t=56).levels == [1, 3, 9, 27]
    assert make(max_t=100, grace_period=2, reduction_factor=2).levels == [2, 4, 8, 16, 32, 64]
    assert make(rung_levels=[2, 5, 10]).levels == [2, 5, 10]


@pytest.mark.parametrize("key", ["epochs", "max_t", "max_epochs"])
def test_max_t_inferred_from_config_space(key: str) -> None:
    scheduler = HyperbandScheduler({"x": sp.uniform(0, 1), key: 40}, metric="loss")
    assert scheduler.max_t == 40


def test_stopping_with_fewer_than_reduction_factor_entries_continues() -> None:
    s = make(type="stopping")
    for trial_id, value in enumerate([0.5, 0.9]):  # worse and worse, but only two entries
        s.suggest(trial_id)
        trial = Trial(trial_id, {}, 0.0)
        assert s.on_trial_result(trial, TrialResult(trial_id, 0, 1, {"loss": value})) is \
            Decision.CONTINUE
    s.suggest(2)
    third = s.on_trial_result(Trial(2, {}, 0.0), TrialResult(2, 0, 1, {"loss": 0.95}))
    assert third is Decision.STOP  # three entries: only the best one passes


def test_promotion_pauses_with_fewer_than_reduction_factor_entries_then_promotes() -> None:
    s = make(type="promotion")
    for trial_id, value in enumerate([0.1, 0.5]):
        s.suggest(trial_id)
        decision = s.on_trial_result(Trial(trial_id, {}, 0.0),
                                     TrialResult(trial_id, 0, 1, {"loss": value}))
        assert decision is Decision.PAUSE
    s.suggest(2)
    assert s.on_trial_result(Trial(2, {}, 0.0), TrialResult(2, 0, 1, {"loss": 0.9})) is \
        Decision.PAUSE
    # Three entries now: trial 0 is in the top third and is resumed when a worker is free.
    suggestion = s.suggest(3)
    assert suggestion is not None and suggestion.resume_trial_id == 0
    nxt = s.suggest(3)
    assert nxt is not None and nxt.resume_trial_id is None


def test_promotion_scans_highest_rung_first() -> None:
    s = make(type="promotion", max_t=27)

    def report(trial_id: int, level: int, value: float) -> Decision:
        return s.on_trial_result(Trial(trial_id, {}, 0.0),
                                 TrialResult(trial_id, 0, level, {"loss": value}))

    for trial_id in range(12):
        s.suggest(trial_id)
    for trial_id in range(9):
        assert report(trial_id, 1, 0.1 * (trial_id + 1)) is Decision.PAUSE
    # Top third of rung 1 = trials 0, 1, 2: promoted one by one, all paused again at rung 3.
    for trial_id, value in [(0, 0.5), (1, 0.4), (2, 0.6)]:
        suggestion = s.suggest(9)
        assert suggestion is not None and suggestion.resume_trial_id == trial_id
        assert report(trial_id, 3, value) is Decision.PAUSE
    # Three worse trials at rung 1 make trial 3 promotable there (12 entries, top 4) while
    # trial 1 is promotable at rung 3: the higher rung goes first.
    for trial_id in (9, 10, 11):
        assert report(trial_id, 1, 0.95) is Decision.PAUSE
    first, second = s.suggest(12), s.suggest(12)
    assert first is not None and first.resume_trial_id == 1
    assert second is not None and second.resume_trial_id == 3


def test_bracket_distribution_follows_hyperband() -> None:
    s = make(max_t=81, brackets=5)
    probs = s.bracket_probabilities()
    # weights (81/r_b)/(s_b+1) for r_b = 1, 3, 9, 27, 81 and s_b = 4, 3, 2, 1, 0
    weights = [81 / 5, 27 / 4, 9 / 3, 3 / 2, 1 / 1]
    assert probs == pytest.approx([w / sum(weights) for w in weights])
    draws = make(max_t=81, brackets=5, random_seed=3)
    counts = [0] * 5
    for trial_id in range(4000):
        draws.suggest(trial_id)
        counts[draws._bracket_of[trial_id]] += 1
    assert [c / 4000 for c in counts] == pytest.approx(probs, abs=0.03)


def test_rung_information_counts_entries() -> None:
    s = make(type="stopping", max_t=27)
    for trial_id in range(5):
        s.suggest(trial_id)
        s.on_trial_result(Trial(trial_id, {}, 0.0), TrialResult(trial_id, 0, 1, {"loss": 0.1}))
    info = s.information_for_rungs()
    assert [(i.level, i.num_entries) for i in info] == [(1, 5), (3, 0), (9, 0)]


def test_pasha_grows_max_resource_only_when_ranking_changes() -> None:
    s = make(type="pasha", max_t=27)

    def report(trial_id: int, level: int, value: float) -> Decision:
        return s.on_trial_result(Trial(trial_id, {}, 0.0),
                                 TrialResult(trial_id, 0, level, {"loss": value}))

    assert s.max_resource == 3
    for trial_id in range(9):
        s.suggest(trial_id)
    for trial_id in range(9):
        assert report(trial_id, 1, 0.1 * (trial_id + 1)) is Decision.PAUSE
    # Trials 0 and 1 reach the current top rung (3) in the order they had at rung 1: stable.
    for trial_id, value in [(0, 0.05), (1, 0.06)]:
        suggestion = s.suggest(9)
        assert suggestion is not None and suggestion.resume_trial_id == trial_id
        assert report(trial_id, 3, value) is Decision.PAUSE
        assert s.max_resource == 3
    # Trial 2, worse than both at rung 1, beats them at rung 3: the maximum resource grows,
    # and rung 3 becomes an ordinary rung where trial 2 is in the top third.
    suggestion = s.suggest(9)
    assert suggestion is not None and suggestion.resume_trial_id == 2
    assert report(2, 3, 0.01) is Decision.CONTINUE
    assert s.max_resource == 9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"type": "hyperband"}, "type"),
        ({"grace_period": 50}, "grace_period"),
        ({"reduction_factor": 1.5}, "reduction_factor"),
        ({"brackets": 0}, "brackets"),
        ({"brackets": 9}, "brackets"),
        ({"searcher_data": "some"}, "searcher_data"),
        ({"mode": "maximize"}, "mode"),
        ({"rung_levels": [3, 2]}, "rung_levels"),
        ({"searcher": "nope"}, "searcher"),
        ({"max_resource_attr": "x"}, "max_resource_attr"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make(**kwargs)


def test_empty_config_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="config_space"):
        HyperbandScheduler({"epochs": 27}, metric="loss")
