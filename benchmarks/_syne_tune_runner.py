"""Child process of ``simulator_throughput.py`` for Syne Tune (run with a Syne Tune venv's Python).

This file must not import ``hpo_core``: it runs in a venv holding only one Syne Tune release and
its dependencies. It re-implements the synthetic learning curve of
``hpo_core/blackboxes/synthetic_curve.py`` as a Syne Tune ``Blackbox``; the parent checks both
implementations against each other with the ``curves`` sub-command.

Sub-commands (each writes one JSON document to ``--out``):

* ``check``: imports everything a run needs and reports the installed Syne Tune version and the
  methods it has (0.14+ has no PASHA).
* ``curves``: error and elapsed-time curves of the configurations given in ``--configs``, read
  through the ``Blackbox`` API exactly as the simulator backend reads them.
* ``run``: one tuning run (see :data:`METHODS`) on the simulator backend; reports results,
  trials started, seconds of ``Tuner.run()`` (which ends with the results callback writing
  ``results.csv.zip``; the time spent in its writes is reported as well), the file's size and
  the peak RSS of this process.

The Syne Tune API changed between 0.13 (``FIFOScheduler``-based baselines taking ``mode`` and
``resource_attr``) and 0.14+ (``metrics``/``do_minimize``, ``time_attr``/``max_t``); the differences
are handled in :func:`make_scheduler`, detected from the baselines' signatures.
"""

from __future__ import annotations

import argparse
import inspect
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
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.blackbox import Blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.config_space import choice, logfinrange, lograndint, loguniform, randint, uniform
from syne_tune.optimizer import baselines
from syne_tune.optimizer.baselines import ASHA, RandomSearch

METRIC = "error"
ELAPSED_TIME_ATTR = "elapsed_time"
RESOURCE_ATTR = "epoch"
MAX_RESOURCE_ATTR = "epochs"
N_WORKERS = 4
#: Random search, and stopping-type ASHA (one bracket), PASHA and Hyperband (four brackets), all
#: with grace period 1, reduction factor 3 and the random searcher.
METHODS = ("rs", "asha", "pasha", "hyperband")

# Same formula as hpo_core/blackboxes/synthetic_curve.py, written out again for this venv.
OPTIMIZER_PENALTY = {"sgd": 0.06, "adam": 0.0, "rmsprop": 0.03}


def learning_curve(config: dict[str, Any], num_epochs: int) -> tuple[list[float], list[float]]:
    """Validation error and cumulative elapsed time after each epoch ``1..num_epochs``."""
    learning_rate = float(config["learning_rate"])
    num_units = int(config["num_units"])
    dropout = float(config["dropout"])
    batch_size = int(config["batch_size"])
    final = (
        0.05
        + 0.08 * (math.log10(learning_rate) + 2.5) ** 2
        + 0.0125 * (math.log2(num_units) - 7.0) ** 2
        + 0.3 * (dropout - 0.2) ** 2
        + OPTIMIZER_PENALTY[config["optimizer"]]
        + 0.005 * (math.log2(batch_size) - 5.0) ** 2
    )
    amplitude = 0.4 + 0.05 * math.log2(batch_size) + 0.3 * dropout
    rate = 0.3 + 0.5 / (1.0 + 10.0 * abs(math.log10(learning_rate) + 2.5))
    seconds_per_epoch = 1.0 + 2.0 * num_units / 512.0 + 32.0 / batch_size
    errors = [final + amplitude * r ** (-rate) for r in range(1, num_epochs + 1)]
    elapsed = [seconds_per_epoch * r for r in range(1, num_epochs + 1)]
    return errors, elapsed


class SyntheticBlackbox(Blackbox):
    """The closed-form curve as a Syne Tune blackbox with fidelity ``epoch`` in ``1..max_t``."""

    def __init__(self, max_t: int) -> None:
        super().__init__(
            configuration_space={
                "learning_rate": loguniform(1e-4, 1.0),
                "num_units": lograndint(16, 512),
                "dropout": uniform(0.0, 0.6),
                "optimizer": choice(["sgd", "adam", "rmsprop"]),
                "batch_size": logfinrange(8, 128, 5, cast_int=True),
            },
            fidelity_space={RESOURCE_ATTR: randint(1, max_t)},
            objectives_names=[METRIC, ELAPSED_TIME_ATTR],
        )
        self.max_t = max_t
        self._fidelities = np.arange(1, max_t + 1)

    @property
    def fidelity_values(self) -> np.ndarray:
        return self._fidelities

    def _objective_function(
        self,
        configuration: dict[str, Any],
        fidelity: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> dict[str, float] | np.ndarray:
        errors, elapsed = learning_curve(configuration, self.max_t)
        if fidelity is None:
            return np.array([errors, elapsed]).T
        index = int(fidelity[RESOURCE_ATTR]) - 1
        return {METRIC: errors[index], ELAPSED_TIME_ATTR: elapsed[index]}


def _accepts(cls: type, name: str) -> bool:
    return name in inspect.signature(cls).parameters


def available_methods() -> list[str]:
    """Methods this release has: PASHA is gone from 0.14 on."""
    return [m for m in METHODS if m != "pasha" or hasattr(baselines, "PASHA")]


def make_scheduler(method: str, config_space: dict[str, Any], max_t: int, seed: int) -> Any:
    """The method, configured alike in every Syne Tune release."""
    if method not in available_methods():
        raise ValueError(f"method {method!r} is not available in Syne Tune {syne_tune.__version__}")
    if method == "rs":
        if _accepts(RandomSearch, "do_minimize"):  # 0.14+
            return RandomSearch(config_space, metrics=[METRIC], do_minimize=True, random_seed=seed)
        return RandomSearch(config_space, metric=METRIC, mode="min", random_seed=seed)
    brackets = 4 if method == "hyperband" else 1
    common = {"grace_period": 1, "reduction_factor": 3, "brackets": brackets,
              "random_seed": seed}
    if method == "pasha":  # 0.13 only: promotion type, its maximum resource grows
        return baselines.PASHA(
            config_space,
            metric=METRIC,
            mode="min",
            resource_attr=RESOURCE_ATTR,
            max_resource_attr=MAX_RESOURCE_ATTR,
            **common,
        )
    if _accepts(ASHA, "time_attr"):  # 0.14+: always stopping-type, limited by max_t
        return ASHA(
            config_space,
            metric=METRIC,
            do_minimize=True,
            time_attr=RESOURCE_ATTR,
            max_t=max_t,
            **common,
        )
    return ASHA(
        config_space,
        metric=METRIC,
        mode="min",
        resource_attr=RESOURCE_ATTR,
        max_resource_attr=MAX_RESOURCE_ATTR,
        type="stopping",
        **common,
    )


def run(method: str, num_trials: int, max_t: int, seed: int) -> dict[str, Any]:
    """One simulated tuning run; ``Tuner.run()`` is timed, results file included."""
    np.random.seed(seed)  # as Syne Tune's simulator launcher does for each seed
    blackbox = SyntheticBlackbox(max_t)
    backend = UserBlackboxBackend(
        blackbox=blackbox,
        elapsed_time_attr=ELAPSED_TIME_ATTR,
        max_resource_attr=MAX_RESOURCE_ATTR,
    )
    config_space = blackbox.configuration_space_with_max_resource_attr(MAX_RESOURCE_ATTR)
    scheduler = make_scheduler(method, config_space, max_t, seed)
    callback = SimulatorCallback()
    # Time spent writing results.csv.zip (at the end of the run; also every
    # results_update_interval seconds of a longer run).
    write_seconds = [0.0]
    store_results = callback.store_results

    def timed_store_results() -> None:
        tic = time.perf_counter()
        store_results()
        write_seconds[0] += time.perf_counter() - tic

    callback.store_results = timed_store_results
    # Tuner arguments as in Syne Tune's simulator launcher (hpo_main_simulator.py).
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=num_trials),
        n_workers=N_WORKERS,
        sleep_time=0,
        callbacks=[callback],
        results_update_interval=600,
        print_update_interval=600,
        tuner_name=f"throughput-{method}",
        save_tuner=False,
    )
    start = time.perf_counter()
    tuner.run()
    seconds = time.perf_counter() - start
    results = len(callback.results)
    status = tuner.tuning_status
    path = Path(tuner.tuner_path) / "results.csv.zip"
    if not path.exists():
        raise RuntimeError(f"Syne Tune wrote no {path}")
    return {
        "library": "syne-tune",
        "version": syne_tune.__version__,
        "method": method,
        "size": num_trials,
        "max_t": max_t,
        "seed": seed,
        "results": results,
        "trials_started": int(status.num_trials_started),
        "scheduler_results": int(status.overall_metric_statistics.count),
        "seconds": seconds,
        "write_seconds": write_seconds[0],
        "results_per_second": results / seconds,
        "file_bytes": path.stat().st_size,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def curves(configs: list[dict[str, Any]], max_t: int) -> dict[str, Any]:
    """Curves read through ``Blackbox.objective_function`` (all fidelities at once)."""
    blackbox = SyntheticBlackbox(max_t)
    result = []
    for config in configs:
        values = np.asarray(blackbox.objective_function(config))
        result.append({"error": values[:, 0].tolist(), "elapsed_time": values[:, 1].tolist()})
    return {"version": syne_tune.__version__, "curves": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "curves", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--method", choices=METHODS, default="rs")
    parser.add_argument("--num-trials", type=int, default=100)
    parser.add_argument("--max-t", type=int, default=27)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", type=str, default="[]", help="JSON list of configurations")
    args = parser.parse_args()

    if args.command == "check":
        payload: dict[str, Any] = {
            "version": syne_tune.__version__,
            "python": sys.version,
            "methods": available_methods(),
        }
    elif args.command == "curves":
        payload = curves(json.loads(args.configs), args.max_t)
    else:
        # Keep Syne Tune's result folders out of the home directory.
        with tempfile.TemporaryDirectory(prefix="syne-tune-throughput-") as folder:
            os.environ["SYNETUNE_FOLDER"] = folder
            payload = run(args.method, args.num_trials, args.max_t, args.seed)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
