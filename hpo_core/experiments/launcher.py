"""Run one experiment (benchmark x method x seed) and write its results atomically."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import hpo_core
from hpo_core.blackboxes.base import Blackbox
from hpo_core.experiments.benchmarks import SurrogateBenchmark, get_benchmark
from hpo_core.experiments.methods import (
    MethodArguments,
    check_method_fits_benchmark,
    get_method,
)


def run_seed(random_seed: int, seed: int) -> int:
    """Scheduler seed of repetition ``seed``: the same for every method (paired comparison)."""
    return int(np.random.SeedSequence([random_seed, seed]).generate_state(1)[0])


FCNET_ORDINAL = ("none", "equal", "nn", "nn-log")


def fcnet_init_lr(space: dict[str, Any], kind: str) -> dict[str, Any]:
    """fcnet's ``hp_init_lr`` as a categorical (``none``) or an ordinal of the given kind.

    The values stay the same, so table lookups are unaffected; only how methods see the
    hyperparameter (sampling is uniform either way; model-based methods encode it) changes.
    """
    if kind not in FCNET_ORDINAL:
        raise ValueError(f"fcnet_ordinal must be one of {list(FCNET_ORDINAL)}, got {kind!r}")
    from hpo_core import space as sp

    if kind == "none" or "hp_init_lr" not in space:
        return space
    values = space["hp_init_lr"].values
    return {**space, "hp_init_lr": sp.ordinal(values, kind=kind)}


@dataclass(frozen=True)
class Experiment:
    experiment_tag: str
    benchmark: str
    method: str
    seed: int
    random_seed: int
    n_workers: int | None = None
    max_wallclock_time: float | None = None
    restrict_configurations: bool = False
    fcnet_ordinal: str = "nn-log"

    def directory(self, results_dir: Path) -> Path:
        return results_dir / self.experiment_tag / self.benchmark / self.method / str(self.seed)


class RungSizes:
    """Extra results: number of entries at each rung level (seed 001), for Hyperband types."""

    def __init__(self, levels: list[int]) -> None:
        self.levels = levels

    def keys(self) -> list[str]:
        return [f"num_at_level{r}" for r in self.levels]

    def __call__(self, tuner: Any) -> dict[str, Any] | None:
        info = getattr(tuner.scheduler, "information_for_rungs", None)
        if info is None:
            return None
        return {f"num_at_level{i.level}": i.num_entries for i in info()}


def load_benchmark_blackbox(
    benchmark: SurrogateBenchmark, *, store: Path | None, restrict_configurations: bool
) -> Blackbox:
    """The benchmark's blackbox, with its surrogate attached unless configs are restricted."""
    if not isinstance(benchmark.blackbox, str):
        return benchmark.blackbox()
    from hpo_core.blackboxes.repository import load_blackbox
    from hpo_core.blackboxes.tabular import TabularBlackbox

    blackbox = load_blackbox(benchmark.blackbox, store=store)
    if benchmark.surrogate == "knn" and isinstance(blackbox, TabularBlackbox) and not (
        restrict_configurations
    ):
        from hpo_core.blackboxes.surrogate import NearestNeighbourSurrogate

        blackbox.surrogate = NearestNeighbourSurrogate(blackbox, **benchmark.surrogate_kwargs)
    return blackbox


def run_experiment(
    experiment: Experiment, results_dir: Path, *, blackbox_store: Path | None = None
) -> Path:
    """Run and write ``results.csv.zip`` and ``metadata.json``; files appear only on success."""
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.blackboxes.tabular import TabularBlackbox
    from hpo_core.schedulers import HyperbandScheduler
    from hpo_core.tuner import StoppingCriterion, Tuner

    benchmark = get_benchmark(experiment.benchmark)
    factory = get_method(experiment.method)
    check_method_fits_benchmark(experiment.method, benchmark)
    started = datetime.now(UTC).isoformat()
    blackbox = load_benchmark_blackbox(
        benchmark, store=blackbox_store, restrict_configurations=experiment.restrict_configurations
    )
    config_space = dict(blackbox.config_space)
    if experiment.benchmark.startswith("fcnet-"):
        config_space = fcnet_init_lr(config_space, experiment.fcnet_ordinal)
    scheduler_kwargs: dict[str, Any] = {}
    if experiment.restrict_configurations:
        if not isinstance(blackbox, TabularBlackbox):
            raise ValueError(
                f"restrict_configurations needs a tabulated blackbox; {experiment.benchmark!r} "
                "is a surrogate model"
            )
        scheduler_kwargs["search_options"] = {
            "restrict_configurations": blackbox.configurations()
        }
    n_workers = experiment.n_workers or benchmark.n_workers
    max_time = experiment.max_wallclock_time or benchmark.max_wallclock_time
    scheduler_seed = run_seed(experiment.random_seed, experiment.seed)
    scheduler = factory(
        MethodArguments(
            config_space=config_space,
            metric=benchmark.metric,
            mode=benchmark.mode,
            resource_attr=benchmark.resource_attr,
            max_resource_attr=benchmark.max_resource_attr,
            n_workers=n_workers,
            random_seed=scheduler_seed,
            scheduler_kwargs=scheduler_kwargs,
        )
    )
    extra = None
    if isinstance(scheduler, HyperbandScheduler):
        extra = RungSizes(scheduler.levels)
    tuner = Tuner(
        backend=SimulatorBackend(
            blackbox=blackbox,
            elapsed_time_attr=benchmark.elapsed_time_attr,
            max_resource_attr=benchmark.max_resource_attr,
        ),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(
            max_wallclock_time=max_time, max_num_evaluations=benchmark.max_num_evaluations
        ),
        n_workers=n_workers,
        extra_results=extra,
    )
    tic = time.perf_counter()
    summary = tuner.run()
    df = tuner.results.to_dataframe(metric=benchmark.metric, mode=benchmark.mode)
    for key, value in (("benchmark", experiment.benchmark), ("method", experiment.method),
                       ("seed", experiment.seed)):
        df[key] = value
    metadata = {
        "experiment_tag": experiment.experiment_tag,
        "benchmark": experiment.benchmark,
        "method": experiment.method,
        "seed": experiment.seed,
        "random_seed": experiment.random_seed,
        "scheduler_random_seed": scheduler_seed,
        "n_workers": n_workers,
        "max_wallclock_time": max_time,
        "metric": benchmark.metric,
        "mode": benchmark.mode,
        "resource_attr": benchmark.resource_attr,
        "restrict_configurations": experiment.restrict_configurations,
        "fcnet_ordinal": experiment.fcnet_ordinal,
        "scheduler": scheduler.metadata(),
        "blackbox": benchmark.blackbox_name or experiment.benchmark,
        "blackbox_provenance": getattr(blackbox, "provenance", None),
        "best_metric": summary.best_metric,
        "best_config": summary.best_config,
        "num_trials_started": summary.num_trials_started,
        "num_results": summary.num_results,
        "real_seconds": time.perf_counter() - tic,
        "versions": {"hpo_core": hpo_core.__version__, "python": platform.python_version(),
                     "numpy": np.__version__},
        "start_time": started,
        "end_time": datetime.now(UTC).isoformat(),
    }
    target = experiment.directory(results_dir)
    target.mkdir(parents=True, exist_ok=True)
    # Each file is written under a temporary name and renamed, metadata.json last: a crashed run
    # never leaves files that look complete.
    with tempfile.TemporaryDirectory(dir=target, prefix=".tmp-") as tmp:
        df.to_csv(Path(tmp) / "results.csv.zip", index=False)
        (Path(tmp) / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str))
        os.replace(Path(tmp) / "results.csv.zip", target / "results.csv.zip")
        os.replace(Path(tmp) / "metadata.json", target / "metadata.json")
    return target
