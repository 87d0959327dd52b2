"""The Hyper-Tune entries of the methods registry."""

from __future__ import annotations

from typing import Any

import pytest

from hpo_core.experiments.methods import METHODS, MethodArguments, get_method
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.searchers.gp.hypertune import HyperTuneSearcher
from hpo_core.testing import synthetic_config_space


def arguments(space: dict[str, Any], **changes: Any) -> MethodArguments:
    fields: dict[str, Any] = {
        "config_space": space, "metric": "error", "mode": "min", "resource_attr": "epoch",
        "max_resource_attr": "epochs", "n_workers": 4, "random_seed": 7,
    }
    return MethodArguments(**{**fields, **changes})


@pytest.mark.parametrize(
    ("name", "model", "brackets"),
    [("HYPERTUNE-INDEP", "gp_independent", 1), ("HYPERTUNE4-INDEP", "gp_independent", 4),
     ("HYPERTUNE-JOINT", "gp_multitask", 1)],
)
def test_hypertune_variants(name: str, model: str, brackets: int) -> None:
    definition = METHODS[name]
    assert definition.model_based and definition.expensive and definition.multi_fidelity
    scheduler = get_method(name)(arguments(synthetic_config_space(27)))
    assert isinstance(scheduler, HyperbandScheduler)
    metadata = scheduler.metadata()
    assert metadata["type"] == "promotion" and metadata["brackets"] == brackets
    searcher = scheduler.searcher
    assert isinstance(searcher, HyperTuneSearcher)
    assert searcher.options.model == model and searcher.levels == [1, 3, 9, 27]


def test_four_brackets_are_capped_by_the_rung_levels() -> None:
    # max_t = 9: rung levels 1, 3, so at most 3 brackets
    scheduler = get_method("HYPERTUNE4-INDEP")(arguments(synthetic_config_space(9)))
    assert isinstance(scheduler, HyperbandScheduler)
    assert scheduler.metadata()["brackets"] == 3


def test_bad_search_option_value_is_named() -> None:
    overrides = {"search_options": {"hypertune_distribution_num_samples": -1}}
    with pytest.raises(ValueError, match="hypertune_distribution_num_samples"):
        get_method("HYPERTUNE-INDEP")(arguments(synthetic_config_space(27),
                                                scheduler_kwargs=overrides))
