"""HyperbandScheduler draws brackets from its searcher's distribution once it offers one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest

from hpo_core.schedulers import HyperbandScheduler
from hpo_core.searchers import RandomSearcher
from hpo_core.testing import synthetic_config_space


class _FixedBrackets(RandomSearcher):
    """Random configs; brackets from ``probabilities`` once ``ready``."""

    def __init__(self, probabilities: list[float] | None) -> None:
        super().__init__(synthetic_config_space(27), metric="error", mode="min",
                         rng=np.random.default_rng(0), points_to_evaluate=[])
        self.probabilities = probabilities
        self.asked_with: list[list[float]] = []

    def bracket_distribution(self, default: Sequence[float]) -> list[float] | None:
        self.asked_with.append(list(default))
        return self.probabilities


def scheduler(searcher: _FixedBrackets, brackets: int = 3) -> HyperbandScheduler:
    return HyperbandScheduler(synthetic_config_space(27), metric="error",
                              max_resource_attr="epochs", brackets=brackets, searcher=searcher,
                              random_seed=1)


def brackets_of(s: HyperbandScheduler, num_trials: int) -> Counter[int]:
    for trial_id in range(num_trials):
        assert s.suggest(trial_id) is not None
    return Counter(s._bracket_of.values())


def test_searcher_distribution_replaces_hyperbands() -> None:
    searcher = _FixedBrackets([0.0, 0.0, 1.0])
    s = scheduler(searcher)
    assert brackets_of(s, 30) == Counter({2: 30})
    assert searcher.asked_with[0] == pytest.approx(s.bracket_probabilities())


def test_none_keeps_hyperbands_proportions() -> None:
    with_hook = brackets_of(scheduler(_FixedBrackets(None)), 200)
    without = HyperbandScheduler(synthetic_config_space(27), metric="error",
                                 max_resource_attr="epochs", brackets=3, random_seed=1,
                                 points_to_evaluate=[])
    assert with_hook == brackets_of(without, 200)


def test_single_bracket_never_asks() -> None:
    searcher = _FixedBrackets([1.0])
    brackets_of(scheduler(searcher, brackets=1), 5)
    assert searcher.asked_with == []


@pytest.mark.parametrize("bad", [[0.5, 0.5], [1.5, -0.5, 0.0], [0.0, 0.0, 0.0]])
def test_invalid_distribution_is_rejected(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="bracket_distribution"):
        scheduler(_FixedBrackets(bad)).suggest(0)
