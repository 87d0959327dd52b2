"""The contract every registered searcher honours (checks in
:mod:`hpo_core.testing.searcher_contract`); a new searcher is tested by being in
``SEARCHERS``."""

from __future__ import annotations

import pytest

from hpo_core.searchers import SEARCHERS
from hpo_core.testing import searcher_contract as contract
from hpo_core.testing.fast_options import missing_fast_options
from hpo_core.testing.searcher_contract import SearcherCase

CASES = contract.searcher_cases()


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> SearcherCase:
    return request.param


def test_every_searcher_is_a_case_with_fast_options() -> None:
    assert [c.name for c in CASES] == list(SEARCHERS)
    assert missing_fast_options() == []


def test_multi_fidelity_searchers_are_told_the_rung_levels() -> None:
    multi = {c.name for c in CASES if c.multi_fidelity}
    assert {"bayesopt_multifidelity", "hypertune"} <= multi
    assert "random" not in multi and "bayesopt" not in multi


def test_valid_suggestions(case: SearcherCase) -> None:
    contract.check_valid_suggestions(case)


def test_points_to_evaluate_come_first(case: SearcherCase) -> None:
    contract.check_points_to_evaluate(case)


def test_same_seed_same_suggestions(case: SearcherCase) -> None:
    contract.check_seeding(case)


def test_finite_space_each_config_once_then_none(case: SearcherCase) -> None:
    contract.check_finite_space_exhausted(case)


def test_restrict_configurations(case: SearcherCase) -> None:
    contract.check_restrict_configurations(case)


def test_calls_in_any_order(case: SearcherCase) -> None:
    contract.check_calls_in_any_order(case)


def test_unknown_search_option_is_named(case: SearcherCase) -> None:
    contract.check_unknown_option(case)
