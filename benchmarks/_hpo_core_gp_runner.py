"""Child process of ``searcher_latency.py`` and ``gp_quality.py`` for hpo_core.

Run with ``PYTHONPATH`` at the repository. Methods come from hpo_core's registry
(:func:`hpo_core.experiments.methods.get_method`), built on the benchmark's config space as the
launcher builds them (:func:`hpo_core.experiments.launcher.prepare_experiment`).

Sub-commands (each writes one JSON document to ``--out``):

* ``export``: writes the benchmark's table to ``--table`` (``.npz``, read by the Syne Tune and
  Optuna children): hyperparameter columns, the metric and elapsed-time curves of every row,
  the rows' encodings, the affine encoding of each hyperparameter, and the config space.
* ``observations``: draws ``--size`` observations from the table (``--kind final``: final
  values of random rows; ``--kind rungs``: values at rung levels 1, 3, 9, 27 and the last
  epoch, as stopping-type ASHA would leave them) plus ``--pending`` pending configs, and writes
  them to ``--observations``, the input every library's ``suggest`` reads.
* ``curves``: metric and elapsed-time curves of the configs in ``--configs``, as the simulator
  reads them (table row, else the 1-NN surrogate the benchmark attaches).
* ``suggest``: seconds of ``scheduler.suggest`` after the observations were given to the
  searcher, the pending configs registered first, on a fresh scheduler per repeat.
* ``run``: one simulated run through the registry and the simulator backend; reports every
  result's simulated time and metric value and the seconds of ``Tuner.run()``. With
  ``--profile FILE`` the run is profiled with cProfile into ``FILE``. ``--benchmark`` names
  another benchmark of hpo_core's registry to run on (default the LCBench table above; e.g.
  ``yahpo-lcbench-3945`` for ``sync_family.py``); the other sub-commands use the table.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARK = "lcbench-blood-transfusion-service-center"
RUNG_LEVELS = (1, 3, 9, 27)


def _blackbox(restrict: bool = False, benchmark: str = BENCHMARK) -> Any:
    from hpo_core.experiments.benchmarks import get_benchmark
    from hpo_core.experiments.launcher import load_benchmark_blackbox

    return load_benchmark_blackbox(get_benchmark(benchmark), store=None,
                                   restrict_configurations=restrict)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def export(args: argparse.Namespace) -> dict[str, Any]:
    from hpo_core import space as sp
    from hpo_core.blackboxes.surrogate import StandardizedFeatures
    from hpo_core.experiments.benchmarks import get_benchmark

    benchmark = get_benchmark(BENCHMARK)
    blackbox = _blackbox(restrict=True)
    space = blackbox.config_space
    names = list(sp.hyperparameters(space))
    specs = sp.space_to_dict(space)
    # The default 1-NN features (Syne Tune's): every LCBench hyperparameter is numerical, so
    # each is one column, standardised on its raw value.
    features = StandardizedFeatures(blackbox)
    encoding = {name: ["standardized", float(features.shift[i]), float(features.scale[i])]
                for i, name in enumerate(names)}
    configs = blackbox.configurations()
    columns = [blackbox.objective_names.index(benchmark.metric),
               blackbox.objective_names.index(benchmark.elapsed_time_attr)]
    meta = {
        "benchmark": BENCHMARK,
        "hyperparameters": names,
        "space": specs,
        "encoding": encoding,
        "metric": benchmark.metric,
        "mode": benchmark.mode,
        "elapsed_time_attr": benchmark.elapsed_time_attr,
        "resource_attr": benchmark.resource_attr,
        "max_resource_attr": benchmark.max_resource_attr,
        "provenance": blackbox.provenance,
    }
    np.savez_compressed(
        args.table,
        meta=np.array(json.dumps(meta)),
        objectives=blackbox.objectives[..., columns].astype(float),
        seed_counts=blackbox.seed_counts,
        fidelity_values=blackbox.fidelity_values,
        encoded=features.table,
        **{f"hp_{name}": blackbox.hyperparameters[name] for name in names},
    )
    return {"table": str(args.table), "rows": len(configs), "hyperparameters": names}


def observations(args: argparse.Namespace) -> dict[str, Any]:
    """A reproducible observation set drawn from the table."""
    from hpo_core import space as sp
    from hpo_core.experiments.benchmarks import get_benchmark

    benchmark = get_benchmark(BENCHMARK)
    blackbox = _blackbox(restrict=True)
    rng = np.random.default_rng(args.seed)
    names = list(sp.hyperparameters(blackbox.config_space))
    metric = blackbox.objective_names.index(benchmark.metric)
    fidelities = blackbox.fidelity_values.tolist()
    levels = [r for r in RUNG_LEVELS if r < fidelities[-1]] + [fidelities[-1]]
    rows = rng.permutation(len(blackbox))
    obs: list[dict[str, Any]] = []
    trial = 0
    while len(obs) < args.size:
        row = int(rows[trial])
        config = {k: _plain(v) for k, v in blackbox.config(row).items() if k in names}
        curve = blackbox.objectives[row, 0, :, metric]
        if args.kind == "final":
            reached = [levels[-1]]
        else:  # each rung promotes about a third, as ASHA with reduction factor 3
            depth = 1
            while depth < len(levels) and rng.random() < 1.0 / 3.0:
                depth += 1
            reached = levels[:depth]
        for level in reached[: args.size - len(obs)]:
            value = float(curve[fidelities.index(level)])
            obs.append({"trial": trial, "config": config, "resource": level, "value": value})
        trial += 1
    pending = []
    for row in rows[trial:trial + args.pending].tolist():
        pending.append({k: _plain(v) for k, v in blackbox.config(row).items() if k in names})
    spec = {"kind": args.kind, "size": args.size, "seed": args.seed, "observations": obs,
            "pending": pending}
    args.observations.write_text(json.dumps(spec))
    return {"observations": len(obs), "trials": trial, "pending": len(pending)}


def curves(args: argparse.Namespace) -> dict[str, Any]:
    from hpo_core.experiments.benchmarks import get_benchmark

    benchmark = get_benchmark(BENCHMARK)
    blackbox = _blackbox()
    columns = [blackbox.objective_names.index(benchmark.metric),
               blackbox.objective_names.index(benchmark.elapsed_time_attr)]
    configs = json.loads(args.configs.read_text())
    space = blackbox.config_space
    result = []
    for config in configs:
        full = {**{k: v for k, v in space.items() if not hasattr(v, "encode")}, **config}
        result.append(blackbox.curve(full, 0).objectives[:, columns].tolist())
    return {"curves": result}


def _scheduler(method: str, *, seed: int, blackbox: Any, method_args: dict[str, Any],
               points_to_evaluate: list[dict[str, Any]] | None = None,
               n_workers: int = 4, benchmark_name: str = BENCHMARK) -> Any:
    from hpo_core.experiments.benchmarks import get_benchmark
    from hpo_core.experiments.methods import MethodArguments, apply_method_args, get_method

    benchmark = get_benchmark(benchmark_name)
    kwargs: dict[str, Any] = {}
    if points_to_evaluate is not None:
        kwargs["points_to_evaluate"] = points_to_evaluate
    arguments = MethodArguments(
        config_space=dict(blackbox.config_space), metric=benchmark.metric, mode=benchmark.mode,
        resource_attr=benchmark.resource_attr, max_resource_attr=benchmark.max_resource_attr,
        n_workers=n_workers, random_seed=seed, scheduler_kwargs=kwargs,
    )
    if method_args:
        arguments = apply_method_args(arguments, method_args)
    return get_method(method)(arguments)


def suggest(args: argparse.Namespace) -> dict[str, Any]:
    blackbox = _blackbox()
    spec = json.loads(args.observations.read_text())
    pending = spec["pending"]
    # The observations are given to the searcher directly, so it has not counted them among
    # the configs it suggested; without this, a searcher whose num_init_random exceeds the
    # pending configs would answer with a random config, as no run with this much data would.
    from hpo_core.experiments.methods import recursive_merge

    method_args = recursive_merge(
        json.loads(args.method_args),
        {"scheduler_kwargs": {"search_options": {"num_init_random": 0}}},
    )
    seconds, suggestions = [], []
    for repeat in range(args.repeats):
        scheduler = _scheduler(args.method, seed=args.seed + repeat, blackbox=blackbox,
                               method_args=method_args, points_to_evaluate=pending)
        for trial_id in range(len(pending)):
            if scheduler.suggest(trial_id) is None:
                raise RuntimeError("no suggestion for a pending point")
        offset = len(pending)
        searcher = scheduler.searcher
        for obs in spec["observations"]:
            searcher.observe(offset + int(obs["trial"]), obs["config"], int(obs["resource"]),
                             float(obs["value"]))
        next_id = offset + 1 + max(int(o["trial"]) for o in spec["observations"])
        start = time.perf_counter()
        suggestion = scheduler.suggest(next_id)
        seconds.append(time.perf_counter() - start)
        if suggestion is None:
            raise RuntimeError("suggest returned None")
        suggestions.append({k: _plain(v) for k, v in suggestion.config.items()})
    return {"library": "hpo_core", "method": args.method, "seconds": seconds,
            "suggestions": suggestions}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import hpo_core
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.experiments.benchmarks import get_benchmark
    from hpo_core.tuner import StoppingCriterion, Tuner

    benchmark = get_benchmark(args.benchmark)
    blackbox = _blackbox(benchmark=args.benchmark)
    scheduler = _scheduler(args.method, seed=args.seed, blackbox=blackbox,
                           method_args=json.loads(args.method_args), n_workers=args.workers,
                           benchmark_name=args.benchmark)
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, elapsed_time_attr=benchmark.elapsed_time_attr,
                                 max_resource_attr=benchmark.max_resource_attr),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=args.budget),
        n_workers=args.workers,
    )
    profiler = None
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu_start = time.perf_counter(), time.process_time()
    tuner.run()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    df = tuner.results.to_dataframe()
    searcher = getattr(scheduler, "searcher", None)
    model = getattr(searcher, "model", None)
    return {
        "library": "hpo_core",
        "version": hpo_core.__version__,
        "method": args.method,
        "seed": args.seed,
        "budget": args.budget,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "cut_by_wall_cap": False,
        "simulated_time_reached": float(df["st_tuner_time"].max()) if len(df) else 0.0,
        "times": df["st_tuner_time"].astype(float).tolist(),
        "values": df[benchmark.metric].astype(float).tolist(),
        "num_results": len(df),
        "num_trials": int(df["trial_id"].nunique()),
        "num_fits": getattr(model, "num_fits", None),
        "num_optimizations": getattr(model, "num_optimizations", None),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command",
                        choices=["export", "observations", "curves", "suggest", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--configs", type=Path)
    parser.add_argument("--observations", type=Path)
    parser.add_argument("--kind", choices=["final", "rungs"], default="final")
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--pending", type=int, default=3)
    parser.add_argument("--method", default="BO")
    parser.add_argument("--method-args", default="{}", help="JSON dict of method overrides")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=5400.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--benchmark", default=BENCHMARK,
                        help="hpo_core benchmark of the run command (default %(default)s)")
    args = parser.parse_args()
    commands = {"export": export, "observations": observations, "curves": curves,
                "suggest": suggest, "run": run}
    args.out.write_text(json.dumps(commands[args.command](args)))


if __name__ == "__main__":
    main()
