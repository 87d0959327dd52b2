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


#: Syne Tune 0.13.0's default budgets, so a study with the defaults runs as its benchmark
#: definitions do (``syne_tune.experiments.benchmark_definitions``).
FCNET_MAX_WALLCLOCK_TIME = 3_600.0
NAS201_MAX_WALLCLOCK_TIME = {"cifar10": 5 * 3_600.0, "cifar100": 6 * 3_600.0,
                             "ImageNet16-120": 8 * 3_600.0}
NAS201_N_WORKERS = {"cifar10": 4, "cifar100": 4, "ImageNet16-120": 8}
LCBENCH_MAX_NUM_EVALUATIONS = 4_000
#: YAHPO scenario -> budget; rbv2 budgets are per instance (below), iaml's per learner.
YAHPO_MAX_WALLCLOCK_TIME = {"lcbench": 7_200.0, "iaml_glmnet": 180.0, "iaml_rpart": 240.0,
                            "iaml_ranger": 300.0, "iaml_xgboost": 300.0}
#: iaml and rbv2 runs also stop after this many results (none for lcbench).
YAHPO_MAX_NUM_EVALUATIONS = 1_000
#: rbv2 learner -> instance -> budget in seconds for the ``f1`` metric: the published per-instance
#: suggestions of Syne Tune 0.13.0 (``yahpo_rbv2_max_wallclock_time.json``: the time by which
#: RS, BO and ASHA came within 1 % of their final value, over 5 seeds, checked by eye). Syne Tune
#: drops the other instances as uninformative; here they keep its default of 900 s.
YAHPO_RBV2_MAX_WALLCLOCK_TIME: dict[str, dict[str, float]] = {
    "rpart": {
        "15": 256, "24": 746, "31": 900, "37": 661, "44": 552, "50": 456, "151": 704,
        "312": 571, "334": 900, "470": 778, "1040": 256, "1049": 900, "1050": 686, "1053": 476,
        "1056": 316, "1063": 900, "1067": 900, "1068": 565, "1111": 900, "1220": 476,
        "1461": 658, "1462": 256, "1464": 900, "1479": 246, "1480": 900, "1485": 465,
        "1486": 573, "1487": 611, "1489": 900, "1494": 900, "1590": 637, "4134": 770,
        "4154": 458, "4534": 702, "6332": 120, "23381": 776, "23512": 900, "23517": 407,
        "40536": 557, "40701": 456, "40900": 636, "40978": 323, "40981": 85, "40983": 321,
        "40994": 456, "41138": 120, "41142": 781, "41143": 207, "41146": 701, "41150": 747,
        "41156": 702, "41157": 900, "41159": 759, "41161": 900, "41162": 723,
    },
    "xgboost": {
        "3": 563, "15": 392, "24": 132, "29": 900, "31": 605, "37": 900, "38": 129, "44": 377,
        "50": 720, "60": 561, "151": 600, "312": 351, "334": 420, "470": 126, "1049": 503,
        "1050": 82, "1053": 693, "1063": 568, "1067": 147, "1068": 88, "1220": 351, "1461": 265,
        "1462": 431, "1464": 420, "1479": 900, "1480": 55, "1485": 900, "1486": 600, "1487": 80,
        "1489": 600, "1494": 562, "1510": 508, "1590": 600, "4134": 720, "4534": 595,
        "6332": 900, "23381": 80, "23512": 550, "23517": 720, "40536": 57, "40701": 461,
        "40978": 900, "40981": 900, "40983": 111, "40994": 900, "41138": 840, "41142": 600,
        "41143": 395, "41146": 535, "41150": 600, "41156": 314, "41157": 900, "41159": 417,
        "41161": 680, "41162": 239, "41163": 583,
    },
}
YAHPO_RBV2_DEFAULT_MAX_WALLCLOCK_TIME = 900.0


def yahpo_max_wallclock_time(scenario: str, instance: str) -> float:
    """Default budget of YAHPO ``scenario`` (e.g. ``"rbv2_xgboost"``) on ``instance``."""
    if scenario.startswith("rbv2_"):
        per_instance = YAHPO_RBV2_MAX_WALLCLOCK_TIME.get(scenario.removeprefix("rbv2_"), {})
        return float(per_instance.get(instance, YAHPO_RBV2_DEFAULT_MAX_WALLCLOCK_TIME))
    return YAHPO_MAX_WALLCLOCK_TIME[scenario]


def _synthetic() -> Blackbox:
    from hpo_core.blackboxes.synthetic import SyntheticBlackbox

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
        elapsed_time_attr=fcnet.METRIC_ELAPSED_TIME, max_wallclock_time=FCNET_MAX_WALLCLOCK_TIME,
        multi_fidelity=False, num_seeds=4,
    ) for d in fcnet.datasets()])
    add("nas201", [SurrogateBenchmark(
        name=f"nas201-{d}", blackbox=f"nasbench201/{d}", metric="metric_valid_error",
        mode="min", resource_attr="epoch", max_resource_attr="epochs",
        elapsed_time_attr="metric_elapsed_time", max_wallclock_time=NAS201_MAX_WALLCLOCK_TIME[d],
        n_workers=NAS201_N_WORKERS[d], multi_fidelity=False, num_seeds=3,
    ) for d in nasbench201.datasets()])
    # Only datasets with per-epoch curves (and so elapsed times) can be simulated.
    add("lcbench", [SurrogateBenchmark(
        name=f"lcbench-{d}", blackbox=f"lcbench/{d}", metric=lcbench.METRIC, mode=lcbench.MODE,
        resource_attr="epoch", max_resource_attr="epochs", elapsed_time_attr=lcbench.TIME,
        max_wallclock_time=7_200.0, max_num_evaluations=LCBENCH_MAX_NUM_EVALUATIONS,
        surrogate="knn", surrogate_kwargs={"n_neighbors": 1},
    ) for d in sorted(lcbench.CURVE_DATASETS)])
    for scenario in yahpo.SCENARIOS.values():
        tag = scenario.scenario
        definitions = [SurrogateBenchmark(
            name=f"yahpo-{tag}-{i}", blackbox=f"{scenario.FAMILY}/{i}", metric=scenario.metric,
            mode=scenario.mode, resource_attr=scenario.fidelity_name,
            max_resource_attr=scenario.max_resource_attr,
            elapsed_time_attr=scenario.elapsed_time_attr,
            max_wallclock_time=yahpo_max_wallclock_time(tag, i),
            max_num_evaluations=None if tag == "lcbench" else YAHPO_MAX_NUM_EVALUATIONS,
            tabulated=False,
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
