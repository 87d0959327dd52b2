"""Benchmark definitions: a blackbox plus the defaults to tune it with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hpo_core.blackboxes.base import Blackbox


@dataclass(frozen=True)
class SurrogateBenchmark:
    """A simulated benchmark.

    Attributes:
        name: Registry key.
        blackbox: Builds the blackbox (loaded lazily, only for the runs that need it).
        metric, mode: Objective to optimize and its direction.
        resource_attr: Name of the resource reported with each result.
        max_resource_attr: Config-space constant holding the maximum resource.
        max_wallclock_time: Default simulated time budget in seconds.
        n_workers: Default number of parallel workers.
        max_num_evaluations: Optional default cap on reported results.
    """

    name: str
    blackbox: Callable[[], Blackbox]
    metric: str
    mode: str
    resource_attr: str
    max_resource_attr: str
    max_wallclock_time: float
    n_workers: int
    max_num_evaluations: int | None = None


def _synthetic() -> Blackbox:
    from hpo_core.testing import SyntheticBlackbox

    return SyntheticBlackbox(max_t=27)


#: Benchmark name -> definition. Real blackbox families join here as they land.
BENCHMARKS: dict[str, SurrogateBenchmark] = {
    "synthetic": SurrogateBenchmark(
        name="synthetic",
        blackbox=_synthetic,
        metric="error",
        mode="min",
        resource_attr="epoch",
        max_resource_attr="epochs",
        max_wallclock_time=3_600.0,
        n_workers=4,
    ),
}


def get_benchmark(name: str) -> SurrogateBenchmark:
    if name not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {sorted(BENCHMARKS)}, got {name!r}")
    return BENCHMARKS[name]
