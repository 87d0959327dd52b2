"""Methods registry: the names used in studies, each a factory over :class:`MethodArguments`.

Adding a method is one entry in :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpo_core.experiments.benchmarks import SurrogateBenchmark
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.schedulers.base import Scheduler


@dataclass
class MethodArguments:
    """Everything a method factory may need to build its scheduler."""

    config_space: dict[str, Any]
    metric: str
    mode: str
    resource_attr: str
    max_resource_attr: str
    n_workers: int
    random_seed: int
    #: Extra scheduler keyword arguments, merged over the method's own.
    scheduler_kwargs: dict[str, Any] = field(default_factory=dict)


def _fifo(**defaults: Any) -> Callable[[MethodArguments], Scheduler]:
    def make(a: MethodArguments) -> Scheduler:
        kwargs = {**defaults, **a.scheduler_kwargs}
        return FIFOScheduler(a.config_space, metric=a.metric, mode=a.mode,
                             random_seed=a.random_seed, **kwargs)

    return make


def _hyperband(**defaults: Any) -> Callable[[MethodArguments], Scheduler]:
    def make(a: MethodArguments) -> Scheduler:
        kwargs = {**defaults, **a.scheduler_kwargs}
        return HyperbandScheduler(
            a.config_space, metric=a.metric, mode=a.mode, resource_attr=a.resource_attr,
            max_resource_attr=a.max_resource_attr, random_seed=a.random_seed, **kwargs,
        )

    return make


#: Methods that need learning curves (several fidelities).
MULTI_FIDELITY = frozenset({"ASHA", "ASHA-STOP", "ASHA-PROM", "ASHA6-STOP", "PASHA"})

METHODS: dict[str, Callable[[MethodArguments], Scheduler]] = {
    "RS": _fifo(searcher="random"),
    "ASHA": _hyperband(type="stopping"),
    "ASHA-STOP": _hyperband(type="stopping"),
    "ASHA-PROM": _hyperband(type="promotion"),
    "ASHA6-STOP": _hyperband(type="stopping", brackets=6),
    "PASHA": _hyperband(type="pasha"),
}


def get_method(name: str) -> Callable[[MethodArguments], Scheduler]:
    if name not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {name!r}")
    return METHODS[name]


def check_method_fits_benchmark(method: str, benchmark: SurrogateBenchmark) -> None:
    """Multi-fidelity methods refuse benchmarks whose data has a single fidelity."""
    if method in MULTI_FIDELITY and not benchmark.multi_fidelity:
        raise ValueError(
            f"method {method!r} is multi-fidelity but benchmark {benchmark.name!r} has final "
            "values only (a single fidelity); use a single-fidelity method such as RS"
        )
