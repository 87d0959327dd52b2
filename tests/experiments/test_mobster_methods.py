"""The MOBSTER entries of the methods registry."""

from __future__ import annotations

from typing import Any

import pytest

from hpo_core.blackboxes.converters import fcnet
from hpo_core.experiments.methods import METHODS, MethodArguments, get_method
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.searchers.gp.mobster import MultiFidelityGPSearcher
from hpo_core.testing import synthetic_config_space


def arguments(space: dict[str, Any], **changes: Any) -> MethodArguments:
    fields: dict[str, Any] = {
        "config_space": space, "metric": "error", "mode": "min", "resource_attr": "epoch",
        "max_resource_attr": "epochs", "n_workers": 4, "random_seed": 7,
    }
    return MethodArguments(**{**fields, **changes})


@pytest.mark.parametrize(
    ("name", "type", "model"),
    [("MOBSTER", "stopping", "gp_multitask"), ("MOBSTER-JOINT", "promotion", "gp_multitask"),
     ("MOBSTER-INDEP", "promotion", "gp_independent")],
)
def test_mobster_variants(name: str, type: str, model: str) -> None:
    definition = METHODS[name]
    assert definition.model_based and definition.expensive and definition.multi_fidelity
    scheduler = get_method(name)(arguments(synthetic_config_space(27)))
    assert isinstance(scheduler, HyperbandScheduler)
    assert scheduler.metadata()["type"] == type
    searcher = scheduler.searcher
    assert isinstance(searcher, MultiFidelityGPSearcher)
    assert searcher.options.model == model
    assert searcher.options.gp_resource_kernel == "exp-decay-sum"
    assert searcher.levels == [1, 3, 9, 27]


def test_max_size_data_for_model_reaches_the_searcher() -> None:
    scheduler = get_method("MOBSTER")(arguments(synthetic_config_space(27),
                                                max_size_data_for_model=40))
    assert isinstance(scheduler, HyperbandScheduler)
    searcher = scheduler.searcher
    assert isinstance(searcher, MultiFidelityGPSearcher)
    assert searcher.options.max_size_data_for_model == 40


@pytest.mark.parametrize(("name", "value"), [("MOBSTER-TANH", "tanh"), ("MOBSTER-RELU", "relu")])
def test_activation_variants(name: str, value: str) -> None:
    scheduler = get_method(name)(arguments(fcnet.config_space(epochs=27)))
    assert isinstance(scheduler, HyperbandScheduler)
    for trial_id in range(8):
        suggestion = scheduler.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        assert suggestion.config["hp_activation_fn_1"] == value
        assert suggestion.config["hp_activation_fn_2"] == value
