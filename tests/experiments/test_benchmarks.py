"""Benchmark defaults: the budgets, workers and result caps of Syne Tune 0.13.0's definitions."""

from __future__ import annotations

import pytest

from hpo_core.experiments.benchmarks import BENCHMARK_FAMILIES, BENCHMARKS, get_benchmark


@pytest.mark.parametrize(
    ("name", "max_wallclock_time", "n_workers", "max_num_evaluations"),
    [
        ("fcnet-protein", 3_600, 4, None),
        ("fcnet-naval", 3_600, 4, None),
        ("nas201-cifar10", 5 * 3_600, 4, None),
        ("nas201-cifar100", 6 * 3_600, 4, None),
        ("nas201-ImageNet16-120", 8 * 3_600, 8, None),
        ("lcbench-blood-transfusion-service-center", 7_200, 4, 4_000),
        ("yahpo-lcbench-3945", 7_200, 4, None),
        ("yahpo-iaml_glmnet-1489", 180, 4, 1_000),
        # rbv2: Syne Tune's per-instance suggestions; instances it dropped keep 900 s
        ("yahpo-rbv2_xgboost-3", 563, 4, 1_000),
        ("yahpo-rbv2_xgboost-1480", 55, 4, 1_000),
        ("yahpo-rbv2_xgboost-6", 900, 4, 1_000),
        ("yahpo-rbv2_rpart-40981", 85, 4, 1_000),
        ("yahpo-rbv2_rpart-41161", 900, 4, 1_000),
    ],
)
def test_defaults_are_syne_tunes(name: str, max_wallclock_time: float, n_workers: int,
                                 max_num_evaluations: int | None) -> None:
    b = get_benchmark(name)
    assert (b.max_wallclock_time, b.n_workers, b.max_num_evaluations) == (
        max_wallclock_time, n_workers, max_num_evaluations)


def test_every_benchmark_has_a_positive_budget_and_families_name_known_benchmarks() -> None:
    assert all(b.max_wallclock_time > 0 and b.n_workers >= 1 for b in BENCHMARKS.values())
    assert all(n in BENCHMARKS for names in BENCHMARK_FAMILIES.values() for n in names)
