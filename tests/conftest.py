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
    "pasha": lambda space, seed, **kw: HyperbandScheduler(
        space, metric="error", mode="min", max_resource_attr="epochs", type="pasha",
        random_seed=seed, **kw
    ),
}


@pytest.fixture(params=sorted(VARIANTS))
def scheduler_factory(request: Any) -> SchedulerFactory:
    return VARIANTS[request.param]
