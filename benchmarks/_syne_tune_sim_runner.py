"""Child of ``_syne_tune_sim.py``: Syne Tune 0.13.0's simulator on LCBench and YAHPO LCBench.

Run with the Python of the Syne Tune 0.13.0 venv (``yahpo-gym`` 1.0.2 installed next to it). This
file must not import ``hpo_core``: everything it needs comes from files the parent prepares.

Blackboxes, each built as Syne Tune's own benchmark definitions and launcher build them:

* ``lcbench`` (the ``lcbench-<dataset>`` definitions): the table exported by the parent (``.npz``;
  hyperparameter columns ``hp_<name>``, ``objectives`` of shape ``(configs, fidelities,
  objectives)``, ``fidelity_values`` and the JSON ``meta``) becomes the blackbox Syne Tune's LCBench
  recipe (``conversion_scripts/scripts/lcbench/lcbench.py``) writes to its repository: a
  ``BlackboxTabular`` with the hyperparameter columns (constant columns removed), one seed, the
  fidelity ``epoch`` (``randint(1, 50)``), the recipe's seven objectives in its order and the
  continuous LCBench space (the recipe's hyperparameter order, the domains of hpo_core's space in
  ``meta``; any disagreement between the two is reported). It is written with Syne Tune's
  ``serialize`` and read back with its ``deserialize``, as ``load_blackbox("lcbench")`` reads it
  (objectives stored as float32). ``BlackboxRepositoryBackend`` then wraps it as the definitions
  ask (``surrogate="KNeighborsRegressor"``, ``surrogate_kwargs={"n_neighbors": 1}``, no
  ``add_surrogate_kwargs``): ``add_surrogate(blackbox, KNeighborsRegressor(n_neighbors=1))`` with
  the blackbox's own space. For a ``BlackboxTabular`` that predicts whole curves
  (``predict_curves=True``): the 1-NN runs on the hyperparameters alone, standardized on their
  raw scale (no log), and answers with the curve of one table row. (A ``BlackboxOffline`` built
  from a dataframe would not do: in 0.13.0 it has no ``fidelity_values``, so its surrogate is fit
  without the fidelity and cannot answer the whole-curve queries the simulator backend makes.)
* ``yahpo-lcbench`` (the ``yahpo-lcbench-<dataset>`` definitions): ``BlackBoxYAHPO`` over
  ``BenchmarkSet("lcbench", instance=I, active_session=False, check=False)``, as
  ``load_blackbox("yahpo-lcbench")[I]`` gives it (``instantiate_yahpo`` with no ``yahpo_kwargs``),
  with yahpo-gym's data path set to ``--yahpo-data`` (a directory holding ``lcbench/``) instead of
  Syne Tune's repository; yahpo-gym's settings file is written to a temporary directory, not to
  ``~/.config``. Nothing is downloaded.

Sub-commands (each writes one JSON document to ``--out``):

* ``check``: imports everything a run needs; reports the Syne Tune, yahpo-gym and numpy versions.
* ``lcbench-surrogate --table T --queries Q``: for each config of ``Q`` (a JSON list), the value
  of every objective at every fidelity as the surrogate blackbox answers it
  (``objective_function(config)``, what the simulator backend reads), and the table row the
  1-NN answered from.
* ``yahpo-curves --yahpo-data D --instance I --queries Q``: the same for the YAHPO blackbox, raw,
  and the elapsed times as the simulator backend turns them into a trial's result times.
* ``run``: one simulated tuning run, configured as ``experiments/launchers/hpo_main_simulator.py``
  configures it: ``np.random.seed(seed)``; the backend above with ``elapsed_time_attr="time"`` and
  the definition's ``max_resource_attr`` (``epochs`` for lcbench, ``max_resources`` for
  yahpo-lcbench), checkpointing supported, default ``SimulatorConfig``, ``tuner_sleep_time``
  5 s unless given; the scheduler on ``configuration_space_with_max_resource_attr`` with
  ``metric="val_accuracy"``, ``mode="max"``, ``max_resource_attr``, ``random_seed=seed``,
  ``points_to_evaluate=None`` and ``search_options={"debug_log": False}`` (``RandomSearch``, or
  ``ASHA`` with ``resource_attr`` the blackbox's fidelity and ``type="stopping"``);
  ``Tuner(sleep_time=0, callbacks=[SimulatorCallback()], results_update_interval=600,
  print_update_interval=600, save_tuner=False)`` stopped by ``StoppingCriterion(
  max_wallclock_time, max_num_evaluations)``. Only ``Tuner.run()`` is timed.

  Reported: trials started; results recorded by ``SimulatorCallback`` (those the scheduler saw)
  as ``[trial_id, resource, st_tuner_time, metric]`` in the order the tuner received them (one
  fetch returns its results grouped by trial, in the iteration order of the tuner's set of
  running trial ids, not sorted by time, so about a quarter of the rows come earlier in
  simulated time than the row before them); the
  number of results ``TuningStatus`` counted (what ``max_num_evaluations`` compares against: it
  also counts results fetched together with a stop decision, after it); the simulated time of
  the last recorded result and the largest one; real seconds of ``Tuner.run()``; peak RSS.

Syne Tune's simulated clock: ``SimulatorCallback`` makes the stop criterion compare the largest
``st_tuner_time`` seen with ``max_wallclock_time`` (it stops once one exceeds it, so results
past the budget are kept); the clock advances by ``tuner_sleep_time`` whenever all workers are
busy, and also by the real time spent outside the backend (scheduler and tuner code), so runs are
not exactly reproducible from one machine or load to another.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import syne_tune
from sklearn.neighbors import KNeighborsRegressor
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository import add_surrogate
from syne_tune.blackbox_repository.blackbox import Blackbox
from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
from syne_tune.blackbox_repository.blackbox_tabular import deserialize as deserialize_tabular
from syne_tune.blackbox_repository.blackbox_tabular import serialize as serialize_tabular
from syne_tune.blackbox_repository.conversion_scripts.scripts import (
    default_metric,
    metric_elapsed_time,
    resource_attr,
)
from syne_tune.blackbox_repository.conversion_scripts.scripts.lcbench import lcbench as recipe
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.config_space import Domain, lograndint, loguniform, randint, uniform
from syne_tune.constants import ST_TUNER_TIME, TUNER_DEFAULT_SLEEP_TIME
from syne_tune.optimizer.baselines import ASHA, PASHA, RandomSearch

BENCHMARKS = ("lcbench", "yahpo-lcbench")
METHODS = ("RS", "ASHA", "ASHA-PROM", "PASHA")
#: Syne Tune's bound on scheduler seeds (``random_seeds.RANDOM_SEED_UPPER_BOUND``).
SEED_BOUND = 2**31 - 1
DOMAINS = {"uniform": uniform, "loguniform": loguniform, "randint": randint,
           "lograndint": lograndint}
#: The objectives of Syne Tune's LCBench recipe, in its order.
LCBENCH_OBJECTIVES = ("val_accuracy", "val_balanced_accuracy", "val_cross_entropy",
                      "test_accuracy", "test_balanced_accuracy", "test_cross_entropy", "time")
#: What the two benchmark definitions set (``lcbench.py``, ``yahpo.py``).
DEFINITIONS: dict[str, dict[str, str]] = {
    "lcbench": {"metric": "val_accuracy", "mode": "max", "elapsed_time_attr": "time",
                "max_resource_attr": "epochs"},
    "yahpo-lcbench": {"metric": "val_accuracy", "mode": "max", "elapsed_time_attr": "time",
                      "max_resource_attr": "max_resources"},
}


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# -- lcbench: the exported table as Syne Tune's repository holds it --------------------------------


def _table(path: Path) -> tuple[dict[str, Any], Any]:
    data = np.load(path, allow_pickle=False)
    return json.loads(str(data["meta"])), data


def lcbench_space(meta: dict[str, Any]) -> tuple[dict[str, Domain], list[str]]:
    """The continuous LCBench space: the recipe's hyperparameters and order, hpo_core's domains.

    Returns the space and the differences found between the recipe's domains and hpo_core's
    (none expected; hpo_core's are used).
    """
    specs = {name: spec for name, spec in meta["space"].items() if spec["type"] in DOMAINS}
    ours = {name: DOMAINS[spec["type"]](spec["lower"], spec["upper"])
            for name, spec in specs.items()}
    differences = []
    if set(ours) != set(recipe.CONFIGURATION_SPACE):
        differences.append(f"hyperparameters: hpo_core {sorted(ours)}, Syne Tune "
                           f"{sorted(recipe.CONFIGURATION_SPACE)}")
    for name, theirs in recipe.CONFIGURATION_SPACE.items():
        if name in ours and str(ours[name]) != str(theirs):
            differences.append(f"{name}: hpo_core {ours[name]}, Syne Tune {theirs}")
    order = [n for n in recipe.CONFIGURATION_SPACE if n in ours]
    order += [n for n in ours if n not in order]
    return {name: ours[name] for name in order}, differences


def _lcbench_parts(meta: dict[str, Any], data: Any) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Hyperparameter dataframe, objectives ``(configs, fidelities, objectives)`` and names."""
    space, _ = lcbench_space(meta)
    hyperparameters = pd.DataFrame({name: np.asarray(data[f"hp_{name}"]) for name in space})
    # As the recipe does: drop the columns that hold one value only.
    hyperparameters = hyperparameters.loc[
        :, (hyperparameters != hyperparameters.iloc[0]).any()
    ]
    names = list(meta["objective_names"])
    missing = [o for o in LCBENCH_OBJECTIVES if o not in names]
    if missing:
        raise ValueError(f"the table lacks objectives {missing} of Syne Tune's LCBench recipe")
    columns = [names.index(o) for o in LCBENCH_OBJECTIVES]
    objectives = np.asarray(data["objectives"], dtype=float)[:, :, columns]
    return hyperparameters, objectives, list(LCBENCH_OBJECTIVES)


def lcbench_blackbox(table: Path) -> BlackboxTabular:
    """The LCBench blackbox of one dataset, as ``load_blackbox("lcbench")[dataset]`` gives it."""
    meta, data = _table(table)
    space, _ = lcbench_space(meta)
    hyperparameters, objectives, names = _lcbench_parts(meta, data)
    fidelities = np.asarray(data["fidelity_values"], dtype=int)
    fidelity_space = {meta["resource_attr"]: randint(lower=1, upper=int(fidelities[-1]))}
    blackbox = BlackboxTabular(
        hyperparameters=hyperparameters,
        configuration_space=space,
        fidelity_space=fidelity_space,
        objectives_evaluations=objectives[:, None, :, :],
        fidelity_values=fidelities,
        objectives_names=names,
    )
    dataset = str(meta.get("dataset") or "dataset")
    with tempfile.TemporaryDirectory(prefix="st-lcbench-") as folder:
        serialize_tabular(
            bb_dict={dataset: blackbox},
            path=folder,
            metadata={metric_elapsed_time: meta["elapsed_time_attr"],
                      default_metric: meta["metric"], resource_attr: meta["resource_attr"]},
        )
        return deserialize_tabular(folder)[dataset]


def lcbench_surrogate(table: Path) -> Blackbox:
    """The blackbox the ``lcbench-*`` definitions simulate: 1-NN over the repository's table."""
    return add_surrogate(lcbench_blackbox(table), surrogate=KNeighborsRegressor(n_neighbors=1))


def neighbour_row(surrogate: Any, config: dict[str, Any]) -> int:
    """The table row whose curve the 1-NN answers ``config`` with."""
    pipeline = surrogate.surrogate_pipeline[0]
    features = pipeline[:-1].transform(pd.DataFrame([config]))
    return int(pipeline[-1].kneighbors(features, n_neighbors=1, return_distance=False)[0, 0])


def cmd_lcbench_surrogate(args: argparse.Namespace) -> dict[str, Any]:
    meta, data = _table(args.table)
    _, differences = lcbench_space(meta)
    surrogate = lcbench_surrogate(args.table)
    configs = json.loads(args.queries.read_text())
    names = list(surrogate.configuration_space)
    curves, rows = [], []
    for config in configs:
        query = {name: config[name] for name in names}
        curves.append(np.asarray(surrogate.objective_function(query), dtype=float).tolist())
        rows.append(neighbour_row(surrogate, query))
    return {
        "version": syne_tune.__version__,
        "blackbox": type(surrogate).__name__,
        "predict_curves": bool(surrogate.predict_curves),
        "objective_names": list(surrogate.objectives_names),
        "fidelity_values": [int(f) for f in surrogate.fidelity_values],
        "configuration_space": {k: str(v) for k, v in surrogate.configuration_space.items()},
        "space_differences": differences,
        "curves": curves,
        "neighbour_rows": rows,
        "num_rows": int(np.asarray(data["objectives"]).shape[0]),
    }


# -- yahpo-lcbench ---------------------------------------------------------------------------------


def yahpo_blackbox(data_dir: Path, instance: str, settings_dir: Path) -> Blackbox:
    """``load_blackbox("yahpo-lcbench")[instance]``, read from ``data_dir`` (holds ``lcbench/``)."""
    from syne_tune.blackbox_repository.conversion_scripts.scripts.yahpo_import import (
        BlackBoxYAHPO,
    )
    from yahpo_gym import local_config
    from yahpo_gym.benchmark_set import BenchmarkSet

    if not (Path(data_dir) / "lcbench" / "model.onnx").is_file():
        raise FileNotFoundError(f"{data_dir}/lcbench/model.onnx not found")
    # As ``instantiate_yahpo`` does, with the settings file kept out of the home directory.
    local_config.settings_path = Path(settings_dir) / "yahpo_gym_settings.yaml"
    local_config._config = None
    local_config.init_config()
    local_config.set_data_path(str(Path(data_dir).resolve()))
    bench = BenchmarkSet("lcbench", active_session=False)
    if instance not in bench.instances:
        raise ValueError(f"unknown lcbench instance {instance!r}; known: {bench.instances}")
    return BlackBoxYAHPO(
        BenchmarkSet("lcbench", active_session=False, instance=instance, check=False),
        fidelities=None,
    )


def _backend_times(raw: list[float]) -> list[float]:
    """Elapsed times of a fresh trial's results as ``_BlackboxSimulatorBackend`` fixes them up."""
    times = [max(raw[0], 0.01)]
    for value in raw[1:]:
        times.append(max(value, times[-1] + 0.01))
    return times


def cmd_yahpo_curves(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="st-yahpo-") as settings:
        blackbox = yahpo_blackbox(args.yahpo_data, args.instance, Path(settings))
        configs = json.loads(args.queries.read_text())
        space = blackbox.configuration_space
        time_index = blackbox.objectives_names.index(DEFINITIONS["yahpo-lcbench"][
            "elapsed_time_attr"])
        curves, times = [], []
        for config in configs:
            query = {k: config.get(k, v) for k, v in space.items()
                     if k in config or not isinstance(v, Domain)}
            values = np.asarray(blackbox.objective_function(query), dtype=float)
            curves.append(values.tolist())
            times.append(_backend_times(values[:, time_index].tolist()))
        return {
            "version": syne_tune.__version__,
            "yahpo_gym": _package_version("yahpo-gym"),
            "instance": args.instance,
            "objective_names": list(blackbox.objectives_names),
            "fidelity_values": [int(f) for f in blackbox.fidelity_values],
            "configuration_space": {k: str(v) for k, v in space.items()},
            "curves": curves,
            "backend_times": times,
        }


# -- run -------------------------------------------------------------------------------------------


def make_scheduler(method: str, blackbox: Blackbox, definition: dict[str, str], seed: int) -> Any:
    max_resource_attr = definition["max_resource_attr"]
    config_space = blackbox.configuration_space_with_max_resource_attr(max_resource_attr)
    common: dict[str, Any] = {
        "metric": definition["metric"],
        "mode": definition["mode"],
        "max_resource_attr": max_resource_attr,
        "random_seed": seed,
        "points_to_evaluate": None,
        "search_options": {"debug_log": False},
    }
    if method == "RS":
        return RandomSearch(config_space, **common)
    if method in ("ASHA", "ASHA-PROM"):
        return ASHA(config_space, resource_attr=blackbox.fidelity_name(),
                    type="stopping" if method == "ASHA" else "promotion", **common)
    if method == "PASHA":
        return PASHA(config_space, resource_attr=blackbox.fidelity_name(), **common)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


def cmd_run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    definition = DEFINITIONS[args.benchmark]
    seed = args.seed % SEED_BOUND
    np.random.seed(seed)  # as the simulator launcher does before building anything
    if args.benchmark == "lcbench":
        if args.table is None:
            raise SystemExit("--table is required for --benchmark lcbench")
        blackbox = lcbench_surrogate(args.table)
    else:
        if args.yahpo_data is None or args.instance is None:
            raise SystemExit("--yahpo-data and --instance are required for yahpo-lcbench")
        blackbox = yahpo_blackbox(args.yahpo_data, args.instance, workdir)
    backend = UserBlackboxBackend(
        blackbox=blackbox,
        elapsed_time_attr=definition["elapsed_time_attr"],
        max_resource_attr=definition["max_resource_attr"],
        support_checkpointing=True,
    )
    if args.tuner_sleep_time is not None:
        backend.tuner_sleep_time = args.tuner_sleep_time
    scheduler = make_scheduler(args.method, blackbox, definition, seed)
    simulator = SimulatorCallback()
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=args.max_wallclock_time,
                                         max_num_evaluations=args.max_num_evaluations),
        n_workers=args.n_workers,
        sleep_time=0,
        callbacks=[simulator],
        results_update_interval=600,
        print_update_interval=600,
        tuner_name=f"sim-{args.benchmark}-{args.method.lower()}-{seed}",
        save_tuner=False,
    )
    start = time.perf_counter()
    tuner.run()
    seconds = time.perf_counter() - start
    metric = definition["metric"]
    fidelity = blackbox.fidelity_name()
    rows = [
        [int(r["trial_id"]), int(r[fidelity]), float(r[ST_TUNER_TIME]), float(r[metric])]
        for r in simulator.results
        if metric in r and ST_TUNER_TIME in r
    ]
    status = tuner.tuning_status
    times = [row[2] for row in rows]
    return {
        "library": "syne-tune",
        "version": syne_tune.__version__,
        "yahpo_gym": _package_version("yahpo-gym") if args.benchmark != "lcbench" else None,
        "benchmark": args.benchmark,
        "instance": args.instance,
        "method": args.method,
        "seed": seed,
        "n_workers": args.n_workers,
        "max_wallclock_time": args.max_wallclock_time,
        "max_num_evaluations": args.max_num_evaluations,
        "tuner_sleep_time": backend.tuner_sleep_time,
        "metric": metric,
        "mode": definition["mode"],
        "resource_attr": fidelity,
        "max_resource_attr": definition["max_resource_attr"],
        "trials_started": int(status.num_trials_started),
        "num_results": len(rows),
        "num_results_counted": int(status.overall_metric_statistics.count),
        "last_result_time": times[-1] if times else 0.0,
        "max_result_time": max(times, default=0.0),
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "results": rows,
    }


def cmd_check() -> dict[str, Any]:
    import onnxruntime  # noqa: F401  (yahpo-gym's surrogates run on it)
    from syne_tune.blackbox_repository.conversion_scripts.scripts import (  # noqa: F401
        yahpo_import,
    )

    return {"version": syne_tune.__version__, "yahpo_gym": _package_version("yahpo-gym"),
            "numpy": np.__version__, "python": sys.version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "lcbench-surrogate", "yahpo-curves", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path, help="LCBench table (.npz) exported by the parent")
    parser.add_argument("--queries", type=Path, help="JSON file: list of configs")
    parser.add_argument("--yahpo-data", type=Path, help="directory holding lcbench/ for yahpo-gym")
    parser.add_argument("--instance", help="YAHPO lcbench instance (OpenML task id)")
    parser.add_argument("--benchmark", choices=BENCHMARKS, default="lcbench")
    parser.add_argument("--method", choices=METHODS, default="RS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-wallclock-time", type=float, default=7200.0,
                        help="simulated seconds")
    parser.add_argument("--max-num-evaluations", type=int, default=None)
    parser.add_argument("--tuner-sleep-time", type=float, default=None,
                        help="simulated seconds the clock advances whenever all workers are "
                        f"busy (default: Syne Tune's, {TUNER_DEFAULT_SLEEP_TIME:g})")
    args = parser.parse_args()

    if args.command == "check":
        payload = cmd_check()
    elif args.command == "lcbench-surrogate":
        if args.table is None or args.queries is None:
            raise SystemExit("--table and --queries are required")
        payload = cmd_lcbench_surrogate(args)
    elif args.command == "yahpo-curves":
        if args.yahpo_data is None or args.instance is None or args.queries is None:
            raise SystemExit("--yahpo-data, --instance and --queries are required")
        payload = cmd_yahpo_curves(args)
    else:
        with tempfile.TemporaryDirectory(prefix="st-sim-") as folder:
            os.environ["SYNETUNE_FOLDER"] = folder  # keep result folders out of $HOME
            payload = cmd_run(args, Path(folder))
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
