"""Snakemake's overhead per run on a seed-001-sized study.

The study: RS and ASHA, 20 seeds, 4 YAHPO lcbench datasets (160 runs), default budgets. It is
run twice on the same machine, from the same prepared blackbox files:

* through Snakemake (``snakemake --cores N`` in a fresh copy of the workflow: one job per run,
  then aggregation and plots), and
* by calling the launcher directly in one Python process (``run_experiment`` for each run, no
  aggregation).

Overhead per run = (Snakemake wall time - direct wall time) / number of runs. It includes
Snakemake's scheduling, one Python interpreter start and import per job, and the aggregation and
plot jobs the direct loop does not do. Target: <= 0.3 s per run.

Last line: ``snakemake_overhead_per_run_s=<value>``. Exits non-zero if a run fails.

Usage::

    python benchmarks/study_overhead.py [--cores 1] [--seeds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ["yahpo-lcbench-167168", "yahpo-lcbench-189873", "yahpo-lcbench-189906",
            "yahpo-lcbench-3945"]
METHODS = ["RS", "ASHA"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=1,
                        help="Snakemake cores (default 1: same parallelism as the direct loop)")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    from hpo_core.experiments.benchmarks import get_benchmark
    from hpo_core.experiments.launcher import Experiment, run_experiment

    for name in DATASETS:
        get_benchmark(name)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        shutil.copy(ROOT / "Snakefile", project / "Snakefile")
        shutil.copytree(ROOT / "workflow", project / "workflow")
        shutil.copytree(ROOT / "profiles", project / "profiles")
        (project / "config").mkdir()
        config = {"experiment_tag": "overhead", "random_seed": 2465497701,
                  "benchmarks": DATASETS, "methods": METHODS, "num_seeds": args.seeds}
        (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        # Build the blackbox files first: both timings start from the same prepared data.
        targets = [f"blackboxes/yahpo_lcbench/{d.rsplit('-', 1)[1]}.h5" for d in DATASETS]
        prep = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores),
                               *targets], cwd=project, env=env, capture_output=True, text=True)
        if prep.returncode != 0:
            print(prep.stderr, file=sys.stderr)
            return 1

        tic = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores)],
                              cwd=project, env=env, capture_output=True, text=True)
        snakemake_s = time.perf_counter() - tic
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1

        runs = [(b, m, s) for b in DATASETS for m in METHODS for s in range(args.seeds)]
        tic = time.perf_counter()
        for benchmark, method, seed in runs:
            run_experiment(
                Experiment(experiment_tag="direct", benchmark=benchmark, method=method,
                           seed=seed, random_seed=2465497701),
                project / "direct", blackbox_store=project / "blackboxes",
            )
        direct_s = time.perf_counter() - tic
    overhead = (snakemake_s - direct_s) / len(runs)
    print(f"runs: {len(runs)} ({len(DATASETS)} datasets x {len(METHODS)} methods x "
          f"{args.seeds} seeds), --cores {args.cores}")
    print(f"snakemake (jobs + aggregate + plots): {snakemake_s:8.1f} s")
    print(f"launcher in one process (runs only):  {direct_s:8.1f} s")
    print(f"snakemake_overhead_per_run_s={overhead:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
