"""Reads exported hpo_core results with Syne Tune 0.13's own tools (run in its venv).

For every run under ``--root``: ``load_experiment`` and its ``creation_date()``,
``metric_names()``, ``metric_mode()``, ``best_config()`` and ``plot()``; then
``get_metadata``, ``load_experiments_df`` and ``ComparativeResults`` (one plot per benchmark)
over the whole tree. Writes what each call gave. With ``--write DIR`` it also runs a small
Syne Tune study itself (ASHA on the synthetic blackbox of ``_syne_tune_runner.py``, 2 seeds)
whose results land under ``DIR``, for hpo_core's ``import-syne-tune``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.write is not None:
        write_study(args.write)
    import matplotlib

    matplotlib.use("Agg")
    from syne_tune.experiments import get_metadata, load_experiment, load_experiments_df

    runs = []
    for metadata_path in sorted(args.root.glob("*/*/*/metadata.json")):
        path = metadata_path.parent
        result = load_experiment(path.name, local_path=str(path.parent),
                                 download_if_not_found=False)
        result.plot()
        runs.append({
            "tuner_name": path.name,
            "creation_date": str(result.creation_date()),
            "metric_names": result.metric_names(),
            "metric_mode": result.metric_mode(),
            "best_config": {k: str(v) for k, v in result.best_config().items()},
            "num_results": len(result.results),
        })
    metadata = get_metadata(root=args.root)
    frame = load_experiments_df(root=args.root)
    comparative = comparative_plots(args.root, metadata)
    args.out.write_text(json.dumps({
        "runs": runs, "num_metadata": len(metadata), "df_rows": len(frame),
        "df_algorithms": sorted(set(frame["algorithm"])), "df_tags": sorted(set(frame["tag"])),
        "comparative_plots": comparative,
    }))
    return 0


def comparative_plots(root: Path, metadata: dict[str, dict]) -> list[str]:
    """``ComparativeResults`` over the tree (as Syne Tune's benchmarking scripts use it): one
    plot per benchmark, setups = algorithms; the PNG files written."""
    import os

    os.environ["SYNETUNE_FOLDER"] = str(root)  # experiment_path() of Syne Tune
    from syne_tune.experiments import ComparativeResults, PlotParameters

    tags = sorted({m["tag"] for m in metadata.values()})
    setups = sorted({m["algorithm"] for m in metadata.values()})
    seeds = {m["seed"] for m in metadata.values()}
    metric, mode = next(iter(metadata.values()))["metric_names"][0], next(
        iter(metadata.values()))["metric_mode"]
    results = ComparativeResults(
        experiment_names=tuple(tags), setups=setups, num_runs=len(seeds),
        metadata_to_setup=lambda m: m["algorithm"],
        plot_params=PlotParameters(metric=metric, mode=mode), benchmark_key="benchmark",
    )
    written = []
    for benchmark in sorted({m["benchmark"] for m in metadata.values()}):
        png = root / f"comparative-{benchmark}.png"
        results.plot(benchmark_name=benchmark, file_name=str(png))
        written.append(str(png))
    return written


def write_study(where: Path) -> None:
    """A small study run by Syne Tune itself, results under ``where/<tag>/<tuner_name>/``."""
    import os

    import numpy as np

    os.environ["SYNETUNE_FOLDER"] = str(where / "st-written")
    from _syne_tune_runner import (
        ELAPSED_TIME_ATTR,
        MAX_RESOURCE_ATTR,
        N_WORKERS,
        SyntheticBlackbox,
        make_scheduler,
    )
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend

    for seed in (0, 1):
        np.random.seed(seed)
        blackbox = SyntheticBlackbox(9)
        backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=ELAPSED_TIME_ATTR,
                                      max_resource_attr=MAX_RESOURCE_ATTR)
        space = blackbox.configuration_space_with_max_resource_attr(MAX_RESOURCE_ATTR)
        Tuner(
            trial_backend=backend, scheduler=make_scheduler("asha", space, 9, seed),
            stop_criterion=StoppingCriterion(max_num_trials_started=40), n_workers=N_WORKERS,
            sleep_time=0, callbacks=[SimulatorCallback()], save_tuner=False,
            tuner_name=f"st-written-synthetic-{seed}",
            metadata={"algorithm": "ASHA", "tag": "st-written", "seed": seed,
                      "benchmark": "synthetic"},
        ).run()


if __name__ == "__main__":
    sys.exit(main())
