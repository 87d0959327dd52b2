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


def syne_tune_cutoff(values: list[float], quantile: float, mode: str) -> float | None:
    """Syne Tune 0.13's rung cutoff, from a freshly sorted list (the oracle of the tests)."""
    n = len(values)
    if n < 2:
        return None
    best_first = sorted(values, reverse=mode == "max")
    q = quantile if mode == "min" else 1 - quantile
    virtual = (n - 1) * q + 1
    index = int(virtual)
    fraction = virtual - index
    left, g = (index - 1, fraction) if mode == "min" else (n - index - 1, 1 - fraction)
    return g * best_first[left + 1] + (1 - g) * best_first[left]


def passes(values: list[float], value: float, quantile: float, mode: str) -> bool | None:
    cutoff = syne_tune_cutoff(values, quantile, mode)
    if cutoff is None:
        return None
    return value <= cutoff if mode == "min" else value >= cutoff


class Driver:
    """Feeds a scheduler results and checks every decision against a brute-force rung table."""

    def __init__(self, scheduler: HyperbandScheduler) -> None:
        self.s = scheduler
        self.trials: dict[int, Trial] = {}
        self.rungs: dict[int, list[tuple[int, float]]] = {lvl: [] for lvl in scheduler.levels}
        self.next_level = dict(zip(scheduler.levels, [*scheduler.levels[1:], scheduler.max_t],
                                   strict=True))
        self.paused: list[tuple[int, int]] = []  # (level, trial_id) in the order of pausing

    def passes(self, level: int, trial_id: int) -> bool | None:
        entries = self.rungs[level]
        return passes([v for _, v in entries], dict(entries)[trial_id],
                      level / self.next_level[level], self.s.mode)

    def promotable(self) -> tuple[int, int] | None:
        """From the highest rung down: the best paused trial (earliest of ties) if it passes."""
        for level in reversed(self.s.levels):
            here = [t for lvl, t in self.paused if lvl == level]
            if not here:
                continue
            values = dict(self.rungs[level])
            sign = 1 if self.s.mode == "min" else -1
            best = min(here, key=lambda t: sign * values[t])  # min keeps the first of ties
            if self.passes(level, best):
                return level, best
        return None

    def suggest(self) -> int | None:
        expected = self.promotable() if self.s.type != "stopping" else None
        suggestion = self.s.suggest(len(self.trials))
        assert suggestion is not None
        if suggestion.resume_trial_id is not None:
            trial_id = suggestion.resume_trial_id
            assert expected is not None and expected[1] == trial_id
            self.paused.remove(expected)
            return trial_id
        assert expected is None, "a promotable trial was passed over"
        trial = Trial(len(self.trials), suggestion.config or {}, 0.0)
        self.trials[trial.trial_id] = trial
        return trial.trial_id

    def report(self, trial_id: int, level: int, value: float) -> Decision:
        trial = self.trials[trial_id]
        decision = self.s.on_trial_result(trial, TrialResult(trial_id, 0.0, level, {"loss": value}))
        if level in self.rungs:
            self.rungs[level].append((trial_id, value))
            if self.s.type == "stopping":
                stops = self.passes(level, trial_id) is False
                assert decision is (Decision.STOP if stops else Decision.CONTINUE)
            else:
                assert decision is Decision.PAUSE  # always paused at a rung level
                self.paused.append((level, trial_id))
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
    # Syne Tune's rule: the bound is checked before rounding (2.7**3 = 19.68 < 20 rounds to 20,
    # which is max_t and left out); round() rounds half to even (2.5 -> 2).
    assert make(max_t=20, reduction_factor=2.7).levels == [1, 3, 7]
    assert make(max_t=40, reduction_factor=2.5).levels == [1, 2, 6, 16, 39]
    assert make(max_t=81, grace_period=1).levels == [1, 3, 9, 27]
    assert make(max_t=56).levels == [1, 3, 9, 27]
    assert make(max_t=100, grace_period=2, reduction_factor=2).levels == [2, 4, 8, 16, 32, 64]
    assert make(rung_levels=[2, 5, 10]).levels == [2, 5, 10]


@pytest.mark.parametrize("key", ["epochs", "max_t", "max_epochs"])
def test_max_t_inferred_from_config_space(key: str) -> None:
    scheduler = HyperbandScheduler({"x": sp.uniform(0, 1), key: 40}, metric="loss")
    assert scheduler.max_t == 40


def report_to(s: HyperbandScheduler, trial_id: int, level: int, value: float) -> Decision:
    return s.on_trial_result(Trial(trial_id, {}, 0.0),
                             TrialResult(trial_id, 0, level, {"loss": value}))


def test_stopping_keeps_values_within_the_rung_quantile() -> None:
    # Syne Tune's minimal case (max_t 81, grace 1, rf 3, min): 2, 1, 4 at rung 1, then 1.5.
    # The quantile of [1, 1.5, 2, 4] at 1/3 is 1.5: the fourth trial continues (the top
    # floor(4 / 3) = 1 entries, another rule, would stop it).
    s = make(type="stopping", max_t=81)
    decisions = []
    for trial_id, value in enumerate([2.0, 1.0, 4.0, 1.5]):
        s.suggest(trial_id)
        decisions.append(report_to(s, trial_id, 1, value))
    assert decisions == [Decision.CONTINUE, Decision.CONTINUE, Decision.STOP, Decision.CONTINUE]


def test_stopping_continues_with_fewer_than_two_entries_only() -> None:
    s = make(type="stopping")
    s.suggest(0)
    assert report_to(s, 0, 1, 0.9) is Decision.CONTINUE  # alone: no quantile yet
    s.suggest(1)
    # Two entries [0.5, 0.9]: the 1/3 quantile is 0.633, so 0.9 stops (Syne Tune's code; its
    # documentation says fewer than reduction_factor entries continue).
    s.suggest(2)
    assert report_to(s, 1, 1, 0.5) is Decision.CONTINUE
    assert report_to(s, 2, 1, 0.95) is Decision.STOP


def test_mode_max_uses_the_upper_quantile() -> None:
    s = make(type="stopping", mode="max")
    decisions = []
    for trial_id, value in enumerate([2.0, 1.0, 4.0, 3.5]):
        s.suggest(trial_id)
        decisions.append(report_to(s, trial_id, 1, value))
    # [1, 2] at 2/3: 1.667 > 1 stops; [1, 2, 4] at 2/3: 2.667 <= 4; [1, 2, 3.5, 4]: 3.5 <= 3.5
    assert decisions == [Decision.CONTINUE, Decision.STOP, Decision.CONTINUE, Decision.CONTINUE]


def test_promotion_pauses_at_every_rung_and_resumes_the_best_that_passes() -> None:
    s = make(type="promotion")
    for trial_id, value in enumerate([0.5, 0.1]):
        assert s.suggest(trial_id) is not None
        assert report_to(s, trial_id, 1, value) is Decision.PAUSE
    # [0.1, 0.5]: the 1/3 quantile 0.233 lets trial 1 pass; trial 0 does not.
    resumed = s.suggest(2)
    assert resumed is not None and resumed.resume_trial_id == 1
    new = s.suggest(2)
    assert new is not None and new.resume_trial_id is None
    assert report_to(s, 1, 3, 0.05) is Decision.PAUSE  # alone at rung 3: not promoted
    nxt = s.suggest(3)
    assert nxt is not None and nxt.resume_trial_id is None


def test_promotion_resumes_the_earlier_of_tied_trials() -> None:
    s = make(type="promotion")
    for trial_id in range(4):
        s.suggest(trial_id)
    for trial_id, value in enumerate([0.3, 0.3, 0.9, 0.9]):
        assert report_to(s, trial_id, 1, value) is Decision.PAUSE
    # [0.3, 0.3, 0.9, 0.9]: the quantile is 0.3; trials 0 and 1 tie, 0 was paused first.
    first, second = s.suggest(4), s.suggest(4)
    assert first is not None and first.resume_trial_id == 0
    assert second is not None and second.resume_trial_id == 1


def test_promotion_scans_highest_rung_first() -> None:
    s = make(type="promotion", max_t=27)
    for trial_id in range(6):
        s.suggest(trial_id)
    for trial_id in range(6):
        assert report_to(s, trial_id, 1, 0.1 * (trial_id + 1)) is Decision.PAUSE
    # rung 1 holds 0.1 .. 0.6; its 1/3 quantile is 0.267: trials 0 and 1 pass.
    for trial_id, value in [(0, 0.5), (1, 0.4)]:
        suggestion = s.suggest(6)
        assert suggestion is not None and suggestion.resume_trial_id == trial_id
        assert report_to(s, trial_id, 3, value) is Decision.PAUSE
    # Rung 3 now holds [0.4, 0.5] (trial 1 passes there) while trial 2 at rung 1 does not pass
    # (0.3 > 0.267): the highest rung goes first, then nothing is promotable.
    first, second = s.suggest(6), s.suggest(7)
    assert first is not None and first.resume_trial_id == 1
    assert second is not None and second.resume_trial_id is None


def test_per_bracket_rung_systems_promote_only_from_the_drawn_bracket() -> None:
    s = make(type="promotion", max_t=27, brackets=2, rung_system_per_bracket=True)
    drawn: list[int] = []
    s._draw_bracket = lambda: drawn.pop(0)  # type: ignore[method-assign]
    # Two trials in bracket 0 pause at rung 1; trial 0 passes there.
    for trial_id, value in enumerate([0.1, 0.5]):
        drawn.append(0)
        s.suggest(trial_id)
        assert report_to(s, trial_id, 1, value) is Decision.PAUSE
    drawn.append(1)  # bracket 1 has nothing paused: a new trial, although trial 0 could go
    new = s.suggest(2)
    assert new is not None and new.resume_trial_id is None
    drawn.append(0)
    resumed = s.suggest(3)
    assert resumed is not None and resumed.resume_trial_id == 0


def test_one_rung_system_promotes_whatever_bracket_is_drawn() -> None:
    s = make(type="promotion", max_t=27, brackets=2)
    drawn: list[int] = [0, 0, 1]
    s._draw_bracket = lambda: drawn.pop(0)  # type: ignore[method-assign]
    for trial_id, value in enumerate([0.1, 0.5]):
        s.suggest(trial_id)
        assert report_to(s, trial_id, 1, value) is Decision.PAUSE
    resumed = s.suggest(2)
    assert resumed is not None and resumed.resume_trial_id == 0


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
    assert s.max_resource == 3
    for trial_id in range(9):
        s.suggest(trial_id)
    for trial_id in range(9):
        assert report_to(s, trial_id, 1, 0.1 * (trial_id + 1)) is Decision.PAUSE
    # Trials 0 and 1 reach the current top rung (3) in the order they had at rung 1: stable.
    for trial_id, value in [(0, 0.05), (1, 0.06)]:
        suggestion = s.suggest(9)
        assert suggestion is not None and suggestion.resume_trial_id == trial_id
        assert report_to(s, trial_id, 3, value) is Decision.PAUSE
        assert s.max_resource == 3
    # Trial 2, worse than both at rung 1, beats them at rung 3: the maximum resource grows,
    # and rung 3 becomes an ordinary rung from which trial 2 is promoted.
    suggestion = s.suggest(9)
    assert suggestion is not None and suggestion.resume_trial_id == 2
    assert report_to(s, 2, 3, 0.01) is Decision.PAUSE
    assert s.max_resource == 9
    resumed = s.suggest(9)
    assert resumed is not None and resumed.resume_trial_id == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"type": "hyperband"}, "type"),
        ({"grace_period": 50}, "grace_period"),
        ({"reduction_factor": 1.5}, "reduction_factor"),
        ({"brackets": 0}, "brackets"),
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


def test_brackets_are_capped_by_the_rung_levels() -> None:
    # as Syne Tune's bracket manager does: one more bracket than rung levels at most
    s = make(brackets=9)
    assert s.levels == [1, 3, 9] and s.brackets == 4
    assert s.metadata()["brackets"] == 4
    assert make(brackets=3).brackets == 3


def test_empty_config_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="config_space"):
        HyperbandScheduler({"epochs": 27}, metric="loss")


def test_pasha_starts_like_syne_tune() -> None:
    assert make(type="pasha", max_t=81).max_resource == 3  # levels 1, 3, 9, 27: the second
    # Two rung levels (1, 3): Syne Tune starts at the first and compares it with the second,
    # which no trial can reach, so the maximum resource never grows.
    s = make(type="pasha", max_t=9)
    assert s.levels == [1, 3] and s.max_resource == 1
    for trial_id in range(6):
        s.suggest(trial_id)
        assert report_to(s, trial_id, 1, 1.0 - 0.1 * trial_id) is Decision.PAUSE
    nxt = s.suggest(6)
    assert nxt is not None and nxt.resume_trial_id is None and s.max_resource == 1
    with pytest.raises(ValueError, match="at least two rung levels"):
        make(type="pasha", max_t=3)


def test_pasha_epsilon_is_the_distance_of_pairs_reversed_and_restored() -> None:
    from hpo_core.schedulers.pasha import PashaMaxResource

    pasha = PashaMaxResource([1, 3, 9], 27)  # compares rungs 3 and 1: epochs 2 and 3 count
    curves = {0: [0.6, 0.1, 0.5], 1: [0.4, 0.3, 0.2], 2: [0.9, 0.8, 0.7]}
    for epoch in (1, 2, 3):
        for trial_id, curve in curves.items():
            pasha.observe(trial_id, epoch, curve[epoch - 1])
    # Trials 0 and 1: 0 is worse at epoch 3, better at epoch 2, worse again at epoch 1: their
    # distance at epoch 3 counts. Trial 2 is worse than both throughout: no reversal.
    assert pasha.epsilon == pytest.approx(0.3)
    pasha.observe(3, 1, 0.0)  # a lower epoch changes nothing
    assert pasha.epsilon == pytest.approx(0.3)


def test_pasha_soft_ranking_tolerates_reorderings_within_epsilon() -> None:
    from hpo_core.schedulers.pasha import PashaMaxResource
    from hpo_core.schedulers.rungs import Rung

    upper, lower = Rung(3, 9), Rung(1, 3)
    for trial_id, (below, above) in enumerate([(0.30, 0.2), (0.32, 0.1), (0.9, 0.8)]):
        lower.add(trial_id, below)
        upper.add(trial_id, above)
    pasha = PashaMaxResource([1, 3, 9], 27)
    pasha.epsilon = 0.05  # trials 0 and 1 swap, but were within 0.05 of each other below
    assert not pasha.grow_if_reordered(upper, lower) and pasha.max_resource == 3
    pasha.epsilon = 0.01
    assert pasha.grow_if_reordered(upper, lower) and pasha.max_resource == 9
