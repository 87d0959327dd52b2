"""Which results a model-based searcher sees under each ``searcher_data`` setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.searchers import RandomSearcher
from hpo_core.testing import SyntheticBlackbox
from hpo_core.tuner import StoppingCriterion, Tuner

BLACKBOX = SyntheticBlackbox(max_t=27)


class RecordingSearcher(RandomSearcher):
    """Random proposals; records what it is told, as a model-based searcher would use it."""

    wants_data = True

    def __init__(self) -> None:
        super().__init__(BLACKBOX.config_space, metric="error", mode="min",
                         rng=np.random.default_rng(0))
        self.seen: list[tuple[int, int, bool]] = []

    def observe(self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
                *, is_rung: bool = True) -> None:
        self.seen.append((trial_id, resource, is_rung))


def run(scheduler: Any) -> Tuner:
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=BLACKBOX, max_resource_attr="epochs"),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=60),
        n_workers=2,
    )
    tuner.run()
    return tuner


@pytest.mark.parametrize("searcher_data", ["rungs", "all", "rungs_and_last"])
def test_searcher_sees_the_chosen_results(searcher_data: str) -> None:
    searcher = RecordingSearcher()
    tuner = run(HyperbandScheduler(BLACKBOX.config_space, metric="error",
                                   max_resource_attr="epochs", searcher=searcher,
                                   searcher_data=searcher_data, random_seed=0))
    recorded = list(zip(tuner.results.trial_id, tuner.results.resource, strict=True))
    rung_levels = {1, 3, 9, 27}
    seen = [(t, r) for t, r, _ in searcher.seen]
    if searcher_data == "rungs":
        assert seen == [(t, r) for t, r in recorded if r in rung_levels]
    else:
        assert seen == recorded
        assert all(is_rung == (r in rung_levels) for _, r, is_rung in searcher.seen)


def test_fifo_searcher_sees_final_results_only() -> None:
    searcher = RecordingSearcher()
    tuner = run(FIFOScheduler(BLACKBOX.config_space, metric="error", searcher=searcher,
                              random_seed=0))
    assert {r for _, r, _ in searcher.seen} == {27}
    assert len(searcher.seen) == tuner.num_trials_completed


def test_unknown_search_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"search_options \['num_init_random'\]"):
        FIFOScheduler(BLACKBOX.config_space, metric="error",
                      search_options={"num_init_random": 3})
