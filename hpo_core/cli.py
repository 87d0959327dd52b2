"""Command line: ``hpo-core run | aggregate | plot`` (also ``python -m hpo_core``)."""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _tag(value: str) -> str:
    if not TAG_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            f"experiment_tag must use lowercase letters, digits and '-' only (S3-safe), "
            f"got {value!r}"
        )
    return value


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def _parser() -> argparse.ArgumentParser:
    from hpo_core.experiments.benchmarks import BENCHMARKS
    from hpo_core.experiments.methods import METHODS

    parser = argparse.ArgumentParser(prog="hpo-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run experiments (benchmark x method x seed)")
    run.add_argument("--experiment_tag", type=_tag, required=True)
    run.add_argument("--benchmark", choices=sorted(BENCHMARKS), action="append",
                     help="benchmark (repeatable; default: all)")
    run.add_argument("--method", choices=sorted(METHODS), action="append",
                     help="method (repeatable; default: all)")
    run.add_argument("--num_seeds", type=_non_negative, default=1,
                     help="run seeds start_seed, ..., num_seeds - 1")
    run.add_argument("--start_seed", type=_non_negative, default=0)
    run.add_argument("--random_seed", type=_non_negative, default=None,
                     help="master random seed (drawn and printed if absent)")
    run.add_argument("--n_workers", type=int, default=None)
    run.add_argument("--max_wallclock_time", type=float, default=None)
    run.add_argument("--results_dir", type=Path, default=Path("results"))

    agg = sub.add_parser("aggregate", help="collect the runs of one benchmark")
    agg.add_argument("--runs", type=Path, nargs="+", required=True, help="run directories")
    agg.add_argument("--output", type=Path, required=True, help="parquet file")

    plot = sub.add_parser("plot", help="plot an aggregate: best so far vs time, table")
    plot.add_argument("--aggregate", type=Path, required=True)
    plot.add_argument("--plot", type=Path, required=True, help="PNG file")
    plot.add_argument("--table", type=Path, required=True, help="CSV file of final values")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        from hpo_core.experiments.benchmarks import BENCHMARKS
        from hpo_core.experiments.launcher import Experiment, run_experiment
        from hpo_core.experiments.methods import METHODS

        random_seed = args.random_seed
        if random_seed is None:
            random_seed = secrets.randbits(32)
            print(f"random_seed={random_seed} (pass --random_seed {random_seed} to repeat)")
        for benchmark in args.benchmark or sorted(BENCHMARKS):
            for method in args.method or list(METHODS):
                for seed in range(args.start_seed, args.num_seeds):
                    experiment = Experiment(
                        experiment_tag=args.experiment_tag, benchmark=benchmark, method=method,
                        seed=seed, random_seed=random_seed, n_workers=args.n_workers,
                        max_wallclock_time=args.max_wallclock_time,
                    )
                    path = run_experiment(experiment, args.results_dir)
                    print(f"wrote {path}")
    elif args.command == "aggregate":
        from hpo_core.experiments.analysis import load_runs

        args.output.parent.mkdir(parents=True, exist_ok=True)
        load_runs(args.runs).to_parquet(args.output, index=False)
    elif args.command == "plot":
        import pandas as pd

        from hpo_core.experiments.analysis import final_table, plot_benchmark

        runs = pd.read_parquet(args.aggregate)
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot_benchmark(runs, args.plot, title=str(runs["benchmark"].iloc[0]))
        final_table(runs).to_csv(args.table, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
