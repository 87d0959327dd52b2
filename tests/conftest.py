from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.schedulers.base import Scheduler

SchedulerFactory = Callable[..., Scheduler]

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
    "pasha": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", type="pasha",
        random_seed=seed, **kw
    ),
}


@pytest.fixture(params=sorted(VARIANTS))
def scheduler_factory(request: Any) -> SchedulerFactory:
    return VARIANTS[request.param]
