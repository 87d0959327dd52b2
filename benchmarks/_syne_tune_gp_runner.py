"""Child process of ``searcher_latency.py`` and ``gp_quality.py`` for Syne Tune's GP methods.

Run with the Python of a Syne Tune venv (0.13.0 API, ``autograd`` installed). This file must not
import ``hpo_core``: the table it tunes is read from an ``.npz`` file written by
``_hpo_core_gp_runner.py export`` and wrapped here as a Syne Tune ``Blackbox``:

* rows are looked up by exact hyperparameter values; other configs are answered by the nearest
  tabulated row (1-NN) in the features hpo_core's ``NearestNeighbourSurrogate`` uses by default
  (Syne Tune's: raw values standardised over the table, kind ``standardized``; or, for an
  export made with the ``encoded`` features, each hyperparameter mapped affinely to ``[0, 1]``,
  on a log scale for log domains, clipped). The parent checks both lookups against each other
  with the ``curves`` sub-command.

Sub-commands (each writes one JSON document to ``--out``):

* ``check``: imports everything a run needs and reports the installed Syne Tune version.
* ``curves``: metric and elapsed-time curves of the configs in ``--configs`` (a JSON file).
* ``suggest``: seconds of ``scheduler.suggest`` after the observations in ``--observations``
  (a JSON file) were given to the searcher, with the configs of ``pending`` registered as
  pending first (they are the scheduler's ``points_to_evaluate``), on a fresh scheduler per
  repeat.
* ``run``: one simulated tuning run; reports every result's simulated time and metric value, the
  seconds of ``Tuner.run()``, and how far it got if ``--wall-cap`` real seconds cut it short.
  ``--tuner-sleep-time`` sets the simulator's clock step: whenever all workers are busy, Syne
  Tune's tuner "sleeps" and its simulated clock jumps by this much (default 5 s) before it
  looks at events again, so a freed worker waits until the next step.

Methods are named as in hpo_core's registry: ``RS``, ``BO``, ``ASHA``, ``MOBSTER`` /
``MOBSTER-JOINT`` (multi-task GP), ``MOBSTER-INDEP`` (independent GPs), ``HYPERTUNE-INDEP``,
``HYPERTUNE-JOINT``; Syne Tune's defaults otherwise, with ``--type`` and ``--search-options``
given by the parent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import syne_tune
from sklearn.neighbors import KDTree
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.blackbox import Blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.config_space import lograndint, loguniform, randint, uniform
from syne_tune.constants import ST_TUNER_TIME
from syne_tune.optimizer.baselines import (
    ASHA,
    MOBSTER,
    BayesianOptimization,
    HyperTune,
    RandomSearch,
)
from syne_tune.tuner_callback import TunerCallback

#: Syne Tune's bound on scheduler seeds (``random_seeds.RANDOM_SEED_UPPER_BOUND``).
SEED_BOUND = 2**31 - 1
DOMAINS = {"uniform": uniform, "loguniform": loguniform, "randint": randint,
           "lograndint": lograndint}
GP_MODELS = {"MOBSTER": "gp_multitask", "MOBSTER-JOINT": "gp_multitask",
             "MOBSTER-INDEP": "gp_independent", "HYPERTUNE-INDEP": "gp_independent",
             "HYPERTUNE-JOINT": "gp_multitask"}
METHODS = ("RS", "BO", "ASHA", *GP_MODELS)


class TableBlackbox(Blackbox):
    """The exported table as a Syne Tune blackbox: exact rows, else the nearest row."""

    def __init__(self, path: Path) -> None:
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        self.meta = meta
        self.names: list[str] = meta["hyperparameters"]
        space = {}
        for name in self.names:
            spec = meta["space"][name]
            space[name] = DOMAINS[spec["type"]](spec["lower"], spec["upper"])
        self._objectives = np.asarray(data["objectives"], dtype=float)  # (N, S, F, 2)
        self._seed_counts = np.asarray(data["seed_counts"], dtype=int)
        self._fidelities = np.asarray(data["fidelity_values"], dtype=int)
        columns = [data[f"hp_{name}"].tolist() for name in self.names]
        self._index: dict[tuple[Any, ...], int] = {}
        for row, key in enumerate(zip(*columns, strict=True)):
            self._index.setdefault(key, row)
        self._encoding = [meta["encoding"][name] for name in self.names]
        self._tree = KDTree(np.asarray(data["encoded"], dtype=float))
        self._cache: dict[tuple[Any, ...], int] = {}
        super().__init__(
            configuration_space=space,
            fidelity_space={meta["resource_attr"]: randint(1, int(self._fidelities[-1]))},
            objectives_names=[meta["metric"], meta["elapsed_time_attr"]],
        )

    @property
    def fidelity_values(self) -> np.ndarray:
        return self._fidelities

    def encode(self, config: dict[str, Any]) -> np.ndarray:
        x = np.empty(len(self.names))
        for i, (name, (kind, a, b)) in enumerate(zip(self.names, self._encoding, strict=True)):
            value = float(config[name])
            if kind == "standardized":
                x[i] = (value - a) / b
                continue
            t = ((math.log(value) if kind == "log" else value) - a) / b
            x[i] = min(max(t, 0.0), 1.0)
        return x

    def row(self, config: dict[str, Any]) -> int:
        key = tuple(config[name] for name in self.names)
        row = self._index.get(key)
        if row is None:
            row = self._cache.get(key)
        if row is None:
            row = int(self._tree.query(self.encode(config)[None, :], k=1,
                                       return_distance=False)[0, 0])
            self._cache[key] = row
        return row

    def _objective_function(
        self,
        configuration: dict[str, Any],
        fidelity: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> dict[str, float] | np.ndarray:
        row = self.row(configuration)
        values = self._objectives[row, (seed or 0) % int(self._seed_counts[row])]
        if fidelity is None:
            return values
        index = int(np.searchsorted(self._fidelities, int(fidelity[self.meta["resource_attr"]])))
        return dict(zip(self.objectives_names, values[index].tolist(), strict=True))


def make_scheduler(
    method: str,
    blackbox: TableBlackbox,
    *,
    seed: int,
    scheduler_type: str,
    search_options: dict[str, Any],
    points_to_evaluate: list[dict[str, Any]] | None = None,
) -> Any:
    meta = blackbox.meta
    config_space = blackbox.configuration_space_with_max_resource_attr(meta["max_resource_attr"])
    common: dict[str, Any] = {"metric": meta["metric"], "mode": meta["mode"],
                              "random_seed": seed % SEED_BOUND}
    if points_to_evaluate is not None:
        common["points_to_evaluate"] = points_to_evaluate
    if method == "RS":
        return RandomSearch(config_space, **common)
    if method == "BO":
        return BayesianOptimization(config_space, search_options=dict(search_options), **common)
    multi_fidelity = {"resource_attr": meta["resource_attr"],
                      "max_resource_attr": meta["max_resource_attr"], "type": scheduler_type}
    if method == "ASHA":
        return ASHA(config_space, **multi_fidelity, **common)
    if method in GP_MODELS:
        options = {"model": GP_MODELS[method], **search_options}
        cls = HyperTune if method.startswith("HYPERTUNE") else MOBSTER
        return cls(config_space, search_options=options, **multi_fidelity, **common)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


class WallClockCap(TunerCallback):
    """Stops the tuner once ``seconds`` of real time have passed (checked every loop).

    Registered after ``SimulatorCallback``, which replaces the stop criterion at the start of
    tuning; this wraps the replacement.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()
        self.hit = False

    def on_tuning_start(self, tuner: Any) -> None:
        self.start = time.perf_counter()
        if self.seconds is None:
            return
        inner = tuner.stop_criterion

        def criterion(status: Any) -> bool:
            if time.perf_counter() - self.start > self.seconds:
                self.hit = True
                return True
            return bool(inner(status))

        tuner.stop_criterion = criterion


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One simulated run; only ``Tuner.run()`` is timed."""
    np.random.seed(args.seed % SEED_BOUND)  # as Syne Tune's simulator launcher does
    blackbox = TableBlackbox(args.table)
    meta = blackbox.meta
    backend = UserBlackboxBackend(
        blackbox=blackbox,
        elapsed_time_attr=meta["elapsed_time_attr"],
        max_resource_attr=meta["max_resource_attr"],
    )
    if args.tuner_sleep_time is not None:
        backend.tuner_sleep_time = args.tuner_sleep_time
    scheduler = make_scheduler(args.method, blackbox, seed=args.seed,
                               scheduler_type=args.type,
                               search_options=json.loads(args.search_options))
    simulator = SimulatorCallback()
    cap = WallClockCap(args.wall_cap)
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=args.budget),
        n_workers=args.workers,
        sleep_time=0,
        callbacks=[simulator, cap],
        results_update_interval=10**9,
        print_update_interval=10**9,
        tuner_name=f"gp-{args.method.lower()}",
        save_tuner=False,
        suffix_tuner_name=True,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    tuner.run()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    metric = meta["metric"]
    rows = [r for r in simulator.results if metric in r and ST_TUNER_TIME in r]
    times = [float(r[ST_TUNER_TIME]) for r in rows]
    return {
        "library": "syne-tune",
        "version": syne_tune.__version__,
        "method": args.method,
        "seed": args.seed,
        "budget": args.budget,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "wall_cap": args.wall_cap,
        "cut_by_wall_cap": cap.hit,
        "simulated_time_reached": max(times, default=0.0),
        "times": times,
        "values": [float(r[metric]) for r in rows],
        "num_results": len(rows),
        "num_trials": len({r["trial_id"] for r in rows}),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def suggest(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds of one ``scheduler.suggest`` per repeat, on a fresh scheduler each time."""
    blackbox = TableBlackbox(args.table)
    meta = blackbox.meta
    spec = json.loads(args.observations.read_text())
    constants = {meta["max_resource_attr"]: int(blackbox.fidelity_values[-1])}
    pending = [{**c, **constants} for c in spec["pending"]]
    seconds, suggestions = [], []
    for repeat in range(args.repeats):
        scheduler = make_scheduler(args.method, blackbox, seed=args.seed + repeat,
                                   scheduler_type=args.type,
                                   search_options=json.loads(args.search_options),
                                   points_to_evaluate=pending)
        for trial_id in range(len(pending)):
            if scheduler.suggest(trial_id) is None:
                raise RuntimeError("no suggestion for a pending point")
        offset = len(pending)
        for obs in spec["observations"]:
            result = {meta["metric"]: float(obs["value"]),
                      meta["resource_attr"]: int(obs["resource"])}
            scheduler.searcher.on_trial_result(
                str(offset + int(obs["trial"])), {**obs["config"], **constants}, result,
                update=True,
            )
        next_id = offset + 1 + max(int(o["trial"]) for o in spec["observations"])
        start = time.perf_counter()
        suggestion = scheduler.suggest(next_id)
        seconds.append(time.perf_counter() - start)
        if suggestion is None:
            raise RuntimeError("suggest returned None")
        suggestions.append(suggestion.config)
    return {"library": "syne-tune", "version": syne_tune.__version__, "method": args.method,
            "seconds": seconds, "suggestions": suggestions}


def curves(args: argparse.Namespace) -> dict[str, Any]:
    blackbox = TableBlackbox(args.table)
    configs = json.loads(args.configs.read_text())
    values = [np.asarray(blackbox.objective_function(c, seed=0)).tolist() for c in configs]
    rows = [blackbox.row(c) for c in configs]
    return {"version": syne_tune.__version__, "curves": values, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "curves", "suggest", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--configs", type=Path, help="JSON file: list of configs")
    parser.add_argument("--observations", type=Path,
                        help="JSON file: {observations: [{trial, config, resource, value}], "
                        "pending: [config]}")
    parser.add_argument("--method", choices=METHODS, default="BO")
    parser.add_argument("--type", default="stopping", help="Hyperband type")
    parser.add_argument("--search-options", default="{}", help="JSON dict")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=5400.0, help="simulated seconds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--wall-cap", type=float, default=None, help="real seconds")
    parser.add_argument("--tuner-sleep-time", type=float, default=None,
                        help="simulated seconds the tuner's clock advances whenever all workers "
                        "are busy (default: Syne Tune's, 5)")
    args = parser.parse_args()

    if args.command == "check":
        import autograd  # noqa: F401  (the GP searchers need it)

        payload: dict[str, Any] = {"version": syne_tune.__version__, "python": sys.version}
    elif args.command == "curves":
        payload = curves(args)
    elif args.command == "suggest":
        payload = suggest(args)
    else:
        with tempfile.TemporaryDirectory(prefix="syne-tune-gp-") as folder:
            os.environ["SYNETUNE_FOLDER"] = folder  # keep result folders out of $HOME
            payload = run(args)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
