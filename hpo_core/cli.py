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
    from hpo_core.experiments.benchmarks import BENCHMARK_FAMILIES, BENCHMARKS
    from hpo_core.experiments.launcher import FCNET_ORDINAL
    from hpo_core.experiments.methods import METHODS

    parser = argparse.ArgumentParser(prog="hpo-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run experiments (benchmark x method x seed)")
    run.add_argument("--experiment_tag", type=_tag, required=True)
    run.add_argument("--benchmark", choices=sorted([*BENCHMARKS, *BENCHMARK_FAMILIES]),
                     action="append", metavar="BENCHMARK",
                     help="benchmark or benchmark family (repeatable; default: all)")
    run.add_argument("--method", choices=sorted(METHODS), action="append",
                     help="method (repeatable; default: all)")
    run.add_argument("--num_seeds", type=_non_negative, default=1,
                     help="run seeds start_seed, ..., num_seeds - 1")
    run.add_argument("--start_seed", type=_non_negative, default=0)
    run.add_argument("--random_seed", type=_non_negative, default=None,
                     help="master random seed (drawn and printed if absent)")
    run.add_argument("--n_workers", type=int, default=None)
    run.add_argument("--max_wallclock_time", type=float, default=None)
    run.add_argument("--restrict_configurations", type=int, choices=(0, 1), default=0,
                     help="1: methods only suggest configs the table holds")
    run.add_argument("--fcnet_ordinal", choices=FCNET_ORDINAL, default="nn-log",
                     help="domain of fcnet's hp_init_lr (default nn-log)")
    run.add_argument("--results_dir", type=Path, default=Path("results"))
    run.add_argument("--blackbox_store", type=Path, default=None,
                     help="directory of blackbox files (default: the user cache)")

    bb = sub.add_parser("blackbox", help="fetch raw files or build a blackbox file")
    bb_sub = bb.add_subparsers(dest="blackbox_command", required=True)
    fetch = bb_sub.add_parser("fetch", help="fetch and verify one raw file of the catalogue")
    fetch.add_argument("--path", required=True, help="catalogue path, e.g. fcnet/LICENSE")
    fetch.add_argument("--raw_dir", type=Path, required=True)
    fetch.add_argument("--mirror", default=None,
                       help="mirror directories (os.pathsep-separated)")
    build = bb_sub.add_parser("build", help="convert verified raw files into a blackbox file")
    build.add_argument("--name", required=True, help="<family>/<dataset>")
    build.add_argument("--raw_dir", type=Path, required=True)
    build.add_argument("--output", type=Path, required=True)
    build.add_argument("--mirror", default=None)

    agg = sub.add_parser("aggregate", help="collect the runs of one benchmark")
    agg.add_argument("--runs", type=Path, nargs="+", required=True, help="run directories")
    agg.add_argument("--output", type=Path, required=True, help="parquet file")

    plot = sub.add_parser("plot", help="plot an aggregate: best so far vs time, table")
    plot.add_argument("--aggregate", type=Path, required=True)
    plot.add_argument("--plot", type=Path, required=True, help="PNG file")
    plot.add_argument("--table", type=Path, required=True, help="CSV file of final values")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _dispatch(args)
    except ValueError as err:  # user errors: say what is wrong, no traceback
        parser.exit(2, f"hpo-core: error: {err}\n")
    return 0


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "run":
        from hpo_core.experiments.benchmarks import BENCHMARKS, resolve_benchmarks
        from hpo_core.experiments.launcher import Experiment, run_experiment
        from hpo_core.experiments.methods import METHODS

        random_seed = args.random_seed
        if random_seed is None:
            random_seed = secrets.randbits(32)
            print(f"random_seed={random_seed} (pass --random_seed {random_seed} to repeat)")
        for benchmark in resolve_benchmarks(args.benchmark or sorted(BENCHMARKS)):
            for method in args.method or list(METHODS):
                for seed in range(args.start_seed, args.num_seeds):
                    experiment = Experiment(
                        experiment_tag=args.experiment_tag, benchmark=benchmark, method=method,
                        seed=seed, random_seed=random_seed, n_workers=args.n_workers,
                        max_wallclock_time=args.max_wallclock_time,
                        restrict_configurations=bool(args.restrict_configurations),
                        fcnet_ordinal=args.fcnet_ordinal,
                    )
                    path = run_experiment(experiment, args.results_dir,
                                          blackbox_store=args.blackbox_store)
                    print(f"wrote {path}")
    elif args.command == "blackbox":
        from hpo_core.blackboxes.download import default_mirror_dirs, fetch

        mirrors = default_mirror_dirs(args.mirror)
        if args.blackbox_command == "fetch":
            print(fetch(args.path, raw_dir=args.raw_dir, mirror_dirs=mirrors))
        else:
            from hpo_core.blackboxes.repository import build_blackbox

            print(build_blackbox(args.name, output=args.output, raw_dir=args.raw_dir,
                                 mirror_dirs=mirrors))
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


if __name__ == "__main__":
    sys.exit(main())
