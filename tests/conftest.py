from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.schedulers.base import Scheduler

SchedulerFactory = Callable[..., Scheduler]

#: Small MOBSTER settings, so that contract runs of a few hundred trials take about a second.
_FAST_MOBSTER = {"num_init_candidates": 20, "skip_local_optimization": True, "opt_nstarts": 1,
                 "opt_maxiter": 5, "max_size_data_for_model": 20, "opt_skip_init_length": 20,
                 "opt_skip_period": 10}
#: ... and fewer ranking-loss samples for Hyper-Tune's level weights.
_FAST_HYPERTUNE = {"hypertune_distribution_num_samples": 10}

#: Every scheduler variant the contract suite runs over: name -> factory(config_space, seed).
VARIANTS: dict[str, SchedulerFactory] = {
    "random_search": lambda space, seed, **kw: FIFOScheduler(
        space, metric="error", mode="min", random_seed=seed, **kw
    ),
    "asha_stopping": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", random_seed=seed, **kw
    ),
    "asha_promotion": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", type="promotion",
        random_seed=seed, **kw
    ),
    "hyperband_stopping": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", brackets=3,
        random_seed=seed, **kw
    ),
    "hyperband_promotion_per_bracket": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", type="promotion",
        brackets=3, rung_system_per_bracket=True, random_seed=seed, **kw
    ),
    "bayesopt": lambda space, seed, **kw: FIFOScheduler(
        space, metric="error", mode="min", searcher="bayesopt", random_seed=seed,
        search_options={"num_init_candidates": 20, "skip_local_optimization": True,
                        "opt_nstarts": 1, "opt_maxiter": 5, "max_size_data_for_model": 20,
                        "opt_skip_init_length": 20, "opt_skip_period": 10}, **kw
    ),
    "mobster": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", searcher="bayesopt",
        random_seed=seed, search_options=_FAST_MOBSTER, **kw
    ),
    "mobster_independent_promotion": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", searcher="bayesopt",
        type="promotion", random_seed=seed,
        search_options={**_FAST_MOBSTER, "model": "gp_independent"}, **kw
    ),
    "hypertune_independent_4_brackets": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", searcher="hypertune",
        type="promotion", brackets=4, random_seed=seed,
        search_options={**_FAST_MOBSTER, **_FAST_HYPERTUNE, "model": "gp_independent"}, **kw
    ),
    "hypertune_joint": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", searcher="hypertune",
        type="promotion", random_seed=seed,
        search_options={**_FAST_MOBSTER, **_FAST_HYPERTUNE, "model": "gp_multitask"}, **kw
    ),
    "pasha": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", type="pasha",
        random_seed=seed, **kw
    ),
}


@pytest.fixture(params=sorted(VARIANTS))
def scheduler_factory(request: Any) -> SchedulerFactory:
    return VARIANTS[request.param]


# --- skips are failures where every source is available ------------------------------------

#: Set (to 1) where every data source and server is available (CI, which has the data mirror
#: and starts Slurm): any skipped test then fails the session, naming the reasons.
NO_SKIPS_ENV = "HPO_CORE_TESTS_NO_SKIPS"
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(NO_SKIPS_ENV) == "1" and _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get(NO_SKIPS_ENV) == "1" and _skipped:
        terminalreporter.section(
            f"{len(_skipped)} skipped test(s) fail this run ({NO_SKIPS_ENV}=1)"
        )
        for line in _skipped:
            terminalreporter.write_line(line)

