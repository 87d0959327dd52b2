"""Command line: ``hpo-core run | check | status | export-syne-tune | import-syne-tune |
blackbox | aggregate | plot`` (also ``python -m hpo_core``)."""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpo_core.experiments.launcher import Experiment

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

RUN_DESCRIPTION = """\
Run experiments: every benchmark x method x seed (seeds start_seed, ..., num_seeds - 1), in
sequence. Results of a run go to <results_dir>/<experiment_tag>/<benchmark>/<method>/<seed>/
(results.csv.zip, then metadata.json). Scheduler seeds derive from the master --random_seed and
the seed index, the same for every method (paired comparison). Every (benchmark, method) pair is
checked before the first run starts; pairs that do not fit (a multi-fidelity method on a
single-fidelity benchmark, a variant fixing hyperparameters the benchmark lacks) are an error
when both the method and the benchmark were named, and are skipped with a note when either
comes from the "all" default.
"""


def _tag(value: str) -> str:
    if not TAG_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            f"experiment_tag must use lowercase letters, digits and '-' only (S3-safe), "
            f"got {value!r}"
        )
    return value


_METHOD_ARGS_EXAMPLE = '{"ASHA": {"scheduler_kwargs": {"grace_period": 3}}}'


def _method_args(value: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(
            f"must be a JSON object {{method name: overrides}}, e.g. {_METHOD_ARGS_EXAMPLE}; "
            f"got invalid JSON ({err})"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise argparse.ArgumentTypeError(
            f"must be a JSON object mapping method names to objects of overrides, e.g. "
            f"{_METHOD_ARGS_EXAMPLE}; got {value!r}"
        )
    return data


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The main parser and its ``run`` subparser."""
    from hpo_core.experiments.benchmarks import BENCHMARK_FAMILIES
    from hpo_core.experiments.methods import METHOD_ARGUMENT_FIELDS, METHODS
    from hpo_core.experiments.options import add_arguments, non_negative, positive, positive_float

    parser = argparse.ArgumentParser(prog="hpo-core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run experiments (benchmark x method x seed)",
                         description=RUN_DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--experiment_tag", type=_tag, required=True,
                     help="name of the study: lowercase letters, digits and '-'")
    run.add_argument("--benchmark", action="append", metavar="BENCHMARK",
                     help="benchmark (e.g. synthetic, fcnet-protein, nas201-cifar10) or family "
                          f"({', '.join(sorted(BENCHMARK_FAMILIES))}); repeatable; default: all")
    run.add_argument("--method", action="append", metavar="METHOD",
                     help=f"method, one of {', '.join(METHODS)}; repeatable; default: all of "
                          "them")
    run.add_argument("--num_seeds", type=positive, default=1,
                     help="run seeds start_seed, ..., num_seeds - 1 (default 1)")
    run.add_argument("--start_seed", type=non_negative, default=0, help="first seed (default 0)")
    run.add_argument("--random_seed", type=non_negative, default=None,
                     help="master random seed (drawn, printed and recorded if absent)")
    add_arguments(run)
    run.add_argument("--method_args", type=_method_args, default={}, metavar="JSON",
                     help="per-method overrides, a JSON object {method: {field: value}}, "
                          f"e.g. '{_METHOD_ARGS_EXAMPLE}'; fields: "
                          f"{', '.join(METHOD_ARGUMENT_FIELDS)}; dicts are merged key by key; "
                          "overrides of methods not being run are ignored")
    run.add_argument("--results_dir", type=Path, default=Path("results"),
                     help="root of the results layout (default: results)")
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

    check = sub.add_parser("check", help="check a study file as the workflow does, run nothing")
    check.add_argument("study", type=Path, help="a study, e.g. config/studies/<name>.yaml")
    check.add_argument("--schema", type=Path,
                       default=Path("workflow/schemas/config.schema.yaml"),
                       help="the workflow's config schema (default: %(default)s)")

    export = sub.add_parser("export-syne-tune",
                            help="lay results out as Syne Tune's benchmarking scripts do")
    export.add_argument("results", type=Path, help="a results tree, e.g. results/<tag>")
    export.add_argument("out", type=Path, help="where <tag>/<method>-<seed>/<tuner_name>/ go")

    imp = sub.add_parser("import-syne-tune",
                         help="turn a Syne Tune 0.13 results tree into this layout")
    imp.add_argument("root", type=Path, help="a Syne Tune results tree, e.g. ~/syne-tune/<tag>")
    imp.add_argument("results", type=Path, help="results root (default layout: results)")
    imp.add_argument("--suffix", default="", help="appended to method names, e.g. -ST")
    imp.add_argument("--resource_attr", default=None,
                     help="resource column (default: the benchmark's, else epoch)")

    status = sub.add_parser("status", help="progress of a study's runs (while it runs too)")
    status.add_argument("results", type=Path, help="the study's results, e.g. results/<tag>")
    status.add_argument("--watch", type=positive_float, default=None, metavar="SECONDS",
                        help="print again every SECONDS until every run is done or failed")

    agg = sub.add_parser("aggregate", help="collect the runs of one benchmark")
    agg.add_argument("--runs", type=Path, nargs="+", required=True, help="run directories")
    agg.add_argument("--output", type=Path, required=True, help="parquet file")

    plot = sub.add_parser("plot", help="plot an aggregate: best so far vs time, table")
    plot.add_argument("--aggregate", type=Path, required=True)
    plot.add_argument("--plot", type=Path, required=True, help="PNG file")
    plot.add_argument("--table", type=Path, required=True, help="CSV file of final values")
    return parser, run


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hpo-core``; returns 0, or exits with status 2 on bad input."""
    parser, run_parser = _parsers()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            _run(run_parser, args)
        else:
            _dispatch(args)
    except ValueError as err:  # user errors: say what is wrong, no traceback
        parser.exit(2, f"hpo-core: error: {err}\n")
    return 0


def _experiments(
    run_parser: argparse.ArgumentParser, args: argparse.Namespace, random_seed: int
) -> list[Experiment]:
    """The sequence the arguments ask for; argument errors exit via ``run_parser.error``."""
    from hpo_core.experiments.benchmarks import BENCHMARKS, resolve_benchmarks
    from hpo_core.experiments.launcher import Experiment
    from hpo_core.experiments.methods import METHODS, check_method_args, validate_methods
    from hpo_core.experiments.options import experiment_options

    try:
        methods = validate_methods(dict.fromkeys(args.method or METHODS))
    except ValueError as err:
        run_parser.error(f"argument --method: {err}")
    try:
        benchmarks = resolve_benchmarks(args.benchmark or sorted(BENCHMARKS))
    except ValueError as err:
        run_parser.error(f"argument --benchmark: {err}")
    if args.start_seed >= args.num_seeds:
        run_parser.error(
            f"argument --start_seed: must be below --num_seeds ({args.num_seeds}), got "
            f"{args.start_seed}; seeds are start_seed, ..., num_seeds - 1"
        )
    unknown = [m for m in args.method_args if m not in METHODS]
    if unknown:
        run_parser.error(
            f"argument --method_args: unknown method(s) {unknown}; known: {list(METHODS)}"
        )
    for method in methods:
        try:
            check_method_args(args.method_args.get(method, {}))
        except ValueError as err:
            run_parser.error(f"argument --method_args: method {method!r}: {err}")
    return [
        Experiment(
            experiment_tag=args.experiment_tag, benchmark=benchmark, method=method, seed=seed,
            random_seed=random_seed, method_args=args.method_args.get(method, {}),
            **experiment_options(vars(args)),
        )
        for benchmark in benchmarks
        for method in methods
        for seed in range(args.start_seed, args.num_seeds)
    ]


def _run(run_parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from hpo_core.blackboxes.base import Blackbox
    from hpo_core.experiments.benchmarks import get_benchmark
    from hpo_core.experiments.launcher import (
        check_experiments,
        load_benchmark_blackbox,
        run_experiment,
    )

    drawn = args.random_seed is None
    random_seed = secrets.randbits(32) if drawn else args.random_seed
    experiments = _experiments(run_parser, args, random_seed)
    loaded: dict[str, Blackbox] = {}
    runnable, skipped = check_experiments(
        experiments, blackbox_store=args.blackbox_store,
        skip_misfits=args.method is None or args.benchmark is None, loaded=loaded,
    )
    for note in skipped:
        print(note)
    if drawn:
        print(f"random_seed={random_seed} (pass --random_seed {random_seed} to repeat)")
    for experiment in runnable:
        if experiment.benchmark not in loaded:
            # One blackbox in memory at a time: the sequence is ordered by benchmark.
            loaded = {experiment.benchmark: load_benchmark_blackbox(
                get_benchmark(experiment.benchmark), store=args.blackbox_store,
                restrict_configurations=experiment.restrict_configurations,
            )}
        path = run_experiment(experiment, args.results_dir, blackbox_store=args.blackbox_store,
                              blackbox=loaded[experiment.benchmark], verbose=bool(args.verbose))
        print(f"wrote {path}")


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "blackbox":
        from hpo_core.blackboxes.download import default_mirror_dirs, fetch

        mirrors = default_mirror_dirs(args.mirror)
        if args.blackbox_command == "fetch":
            print(fetch(args.path, raw_dir=args.raw_dir, mirror_dirs=mirrors))
        else:
            from hpo_core.blackboxes.repository import build_blackbox

            print(build_blackbox(args.name, output=args.output, raw_dir=args.raw_dir,
                                 mirror_dirs=mirrors))
    elif args.command == "check":
        from hpo_core.experiments.study import check_study_file

        print(check_study_file(args.study, args.schema))
    elif args.command == "export-syne-tune":
        from hpo_core.experiments.syne_tune_format import export_syne_tune

        made = export_syne_tune(args.results, args.out)
        print(f"exported {len(made)} runs to {args.out}")
    elif args.command == "import-syne-tune":
        from hpo_core.experiments.syne_tune_format import import_syne_tune

        made = import_syne_tune(args.root, args.results, suffix=args.suffix,
                                resource_attr=args.resource_attr)
        print(f"imported {len(made)} runs into {args.results}")
    elif args.command == "status":
        from hpo_core.experiments.progress import format_status, read_status

        if not args.results.is_dir():
            raise ValueError(f"{args.results} is not a directory (give results/<tag>)")
        while True:
            records = read_status(args.results)
            print(format_status(records), flush=True)
            finished = records and all(r["state"] != "running" for r in records)
            if args.watch is None or finished:
                break
            time.sleep(args.watch)
            print()
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
