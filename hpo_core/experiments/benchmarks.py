"""Benchmark definitions: a blackbox plus the defaults to tune it with.

Names follow the seeds (``fcnet-protein``, ``nas201-cifar100``, ``lcbench-<dataset>``,
``yahpo-lcbench-<instance>`` …). :data:`BENCHMARK_FAMILIES` groups them, with ``*-selected``
subsets for the big families; a study may name a family instead of listing its benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hpo_core.blackboxes.base import Blackbox


@dataclass(frozen=True)
class SurrogateBenchmark:
    """A simulated benchmark.

    Attributes:
        name: Registry key.
        blackbox: Repository name ``<family>/<dataset>`` of the blackbox, or a callable
            building it (blackboxes made in code, e.g. the synthetic one).
        metric, mode: Objective to optimize and its direction.
        resource_attr: Name of the resource reported with each result.
        max_resource_attr: Config-space constant holding the maximum resource.
        elapsed_time_attr: Objective with the cumulative training time.
        max_wallclock_time: Default simulated time budget in seconds.
        n_workers: Default number of parallel workers.
        max_num_evaluations: Optional default cap on reported results.
        multi_fidelity: Whether the blackbox has more than one fidelity; multi-fidelity
            methods refuse benchmarks that have not.
        num_seeds: Training repetitions the blackbox holds per configuration (fcnet 4,
            NASBench-201 3); a run draws one per trial unless ``blackbox_seed`` fixes it.
        tabulated: Whether the blackbox is a table (it can restrict methods to its configs);
            False for surrogate models.
        surrogate: ``"knn"`` to answer configs outside the table from the nearest tabulated
            ones (with ``surrogate_kwargs``, e.g. ``{"n_neighbors": 1}``), or ``None``.
    """

    name: str
    blackbox: str | Callable[[], Blackbox]
    metric: str
    mode: str
    resource_attr: str
    max_resource_attr: str
    elapsed_time_attr: str | None
    max_wallclock_time: float
    n_workers: int = 4
    max_num_evaluations: int | None = None
    multi_fidelity: bool = True
    num_seeds: int = 1
    tabulated: bool = True
    surrogate: str | None = None
    surrogate_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def blackbox_name(self) -> str | None:
        return self.blackbox if isinstance(self.blackbox, str) else None


def _synthetic() -> Blackbox:
    from hpo_core.testing import SyntheticBlackbox

    return SyntheticBlackbox(max_t=27)


def _definitions() -> tuple[dict[str, SurrogateBenchmark], dict[str, list[str]]]:
    from hpo_core.blackboxes.converters import fcnet, lcbench, nasbench201, yahpo

    benchmarks: dict[str, SurrogateBenchmark] = {}
    families: dict[str, list[str]] = {}

    def add(family: str, items: Iterable[SurrogateBenchmark]) -> None:
        for b in items:
            benchmarks[b.name] = b
            families.setdefault(family, []).append(b.name)

    add("synthetic", [SurrogateBenchmark(
        name="synthetic", blackbox=_synthetic, metric="error", mode="min",
        resource_attr="epoch", max_resource_attr="epochs", elapsed_time_attr="elapsed_time",
        max_wallclock_time=3_600.0, tabulated=False,
    )])
    short = {"naval_propulsion": "naval", "parkinsons_telemonitoring": "parkinsons",
             "protein_structure": "protein", "slice_localization": "slice"}
    add("fcnet", [SurrogateBenchmark(
        name=f"fcnet-{short[d]}", blackbox=f"fcnet/{d}", metric=fcnet.METRIC_VALID_LOSS,
        mode="min", resource_attr="epoch", max_resource_attr="epochs",
        elapsed_time_attr=fcnet.METRIC_ELAPSED_TIME, max_wallclock_time=1_200.0,
        multi_fidelity=False, num_seeds=4,
    ) for d in fcnet.datasets()])
    add("nas201", [SurrogateBenchmark(
        name=f"nas201-{d}", blackbox=f"nasbench201/{d}", metric="metric_valid_error",
        mode="min", resource_attr="epoch", max_resource_attr="epochs",
        elapsed_time_attr="metric_elapsed_time", max_wallclock_time=72_000.0,
        multi_fidelity=False, num_seeds=3,
    ) for d in nasbench201.datasets()])
    # Only datasets with per-epoch curves (and so elapsed times) can be simulated.
    add("lcbench", [SurrogateBenchmark(
        name=f"lcbench-{d}", blackbox=f"lcbench/{d}", metric=lcbench.METRIC, mode=lcbench.MODE,
        resource_attr="epoch", max_resource_attr="epochs", elapsed_time_attr=lcbench.TIME,
        max_wallclock_time=7_200.0, surrogate="knn", surrogate_kwargs={"n_neighbors": 1},
    ) for d in sorted(lcbench.CURVE_DATASETS)])
    for scenario in yahpo.SCENARIOS.values():
        tag = scenario.scenario
        definitions = [SurrogateBenchmark(
            name=f"yahpo-{tag}-{i}", blackbox=f"{scenario.FAMILY}/{i}", metric=scenario.metric,
            mode=scenario.mode, resource_attr=scenario.fidelity_name,
            max_resource_attr=scenario.max_resource_attr,
            elapsed_time_attr=scenario.elapsed_time_attr,
            max_wallclock_time=7_200.0 if tag == "lcbench" else 1_800.0, tabulated=False,
        ) for i in scenario.datasets()]
        add(f"yahpo-{tag}", definitions)
        families[f"yahpo-{tag}-selected"] = [f"yahpo-{tag}-{i}" for i in scenario.selected]
    return benchmarks, families


BENCHMARKS, BENCHMARK_FAMILIES = _definitions()


def get_benchmark(name: str) -> SurrogateBenchmark:
    if name not in BENCHMARKS:
        raise ValueError(
            f"benchmark must be one of the {len(BENCHMARKS)} benchmarks (e.g. "
            f"{sorted(BENCHMARKS)[:6]}) or a family of {sorted(BENCHMARK_FAMILIES)}, "
            f"got {name!r}"
        )
    return BENCHMARKS[name]


def resolve_benchmarks(names: Iterable[str]) -> list[str]:
    """Benchmark names, with family keys expanded, duplicates dropped, order kept."""
    out: list[str] = []
    for name in names:
        expanded = BENCHMARK_FAMILIES.get(name, [name])
        for benchmark in expanded:
            get_benchmark(benchmark)
            if benchmark not in out:
                out.append(benchmark)
    return out
