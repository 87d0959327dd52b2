"""The contract every method of the registry honours, run in the simulator.

The cases are the entries of ``METHODS`` (a new method is tested by being there), plus scheduler
options no method sets; the checks are :mod:`hpo_core.testing.scheduler_contract`.
"""

from __future__ import annotations

import pytest

from hpo_core.experiments.methods import METHODS
from hpo_core.schedulers import SCHEDULERS
from hpo_core.searchers import SEARCHERS
from hpo_core.testing import scheduler_contract as contract
from hpo_core.testing.fast_options import fast_search_options
from hpo_core.testing.scheduler_contract import SchedulerCase
from hpo_core.tuner import StoppingCriterion

#: Scheduler options the registry does not reach: one rung system per bracket.
EXTRA_CASES = (
    SchedulerCase("ASHA-PROM-3-brackets-per-bracket-rungs", "ASHA-PROM",
                  {"scheduler_kwargs": {"brackets": 3, "rung_system_per_bracket": True}}),
)
CASES = contract.method_cases(EXTRA_CASES)


def trials(case: SchedulerCase, cheap: int, expensive: int) -> int:
    """Trials of a run: fewer for the slow (model-based) methods."""
    return expensive if case.expensive else cheap


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> SchedulerCase:
    return request.param


def test_every_method_is_a_case() -> None:
    assert [c.method for c in CASES[:len(METHODS)]] == list(METHODS)


def test_every_scheduler_and_searcher_class_is_covered() -> None:
    assert contract.scheduler_classes(CASES) == set(SCHEDULERS.values())
    assert contract.searcher_classes(CASES) == set(SEARCHERS.values())


def test_extra_cases_set_options_no_method_sets() -> None:
    for extra in EXTRA_CASES:
        kwargs = extra.overrides["scheduler_kwargs"]
        for definition in METHODS.values():
            assert any(definition.scheduler_kwargs.get(k) != v for k, v in kwargs.items())


def test_model_based_methods_get_the_fast_search_options() -> None:
    space = contract.contract_blackbox().config_space
    for case in CASES:
        options = case.arguments(space, 0).scheduler_kwargs.get("search_options", {})
        if case.definition.model_based:
            fast = fast_search_options(case.definition.scheduler_kwargs["searcher"],
                                       multi_fidelity=case.definition.multi_fidelity)
            assert fast and options.items() >= fast.items(), case.name
            resolved = case.definition.resolve(case.arguments(space, 0), method=case.method)
            for key, value in case.definition.scheduler_kwargs.get("search_options", {}).items():
                if key not in fast:  # the method's own options are kept
                    assert resolved.scheduler_kwargs["search_options"][key] == value


def test_contract_space_has_every_fixed_hyperparameter() -> None:
    space = contract.contract_blackbox().config_space
    fixed = {k for d in METHODS.values() for k in d.fixed_hyperparameters}
    assert fixed, "no method fixes hyperparameters: the contract space needs no extras"
    assert fixed <= set(space)


def test_suggests_valid_configs(case: SchedulerCase) -> None:
    contract.check_valid_configs(case, num_trials=trials(case, 200, 100))


@pytest.mark.parametrize("stop", contract.STOP_CRITERIA.values(), ids=contract.STOP_CRITERIA)
def test_respects_stop_criterion(case: SchedulerCase, stop: StoppingCriterion) -> None:
    contract.check_stop_criterion(case, stop)


@pytest.mark.parametrize("n_workers", [1, 4])
def test_same_seed_same_results(case: SchedulerCase, n_workers: int) -> None:
    contract.check_same_seed_same_results(case, n_workers=n_workers,
                                          num_trials=trials(case, 150, 60))


def test_never_beyond_max_resource(case: SchedulerCase) -> None:
    contract.check_never_beyond_max_resource(case, num_trials=trials(case, 300, 120))


def test_survives_trial_errors(case: SchedulerCase) -> None:
    contract.check_survives_trial_errors(case, num_trials=trials(case, 300, 120))
