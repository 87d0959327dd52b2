"""Child process of ``simulator_throughput.py`` for hpo_core (run with ``PYTHONPATH`` at the repo).

Sub-commands (each writes one JSON document to ``--out``):

* ``curves``: error and elapsed-time curves of the configurations given in ``--configs``, from
  :func:`hpo_core.blackboxes.synthetic_curve.learning_curve`.
* ``run``: one tuning run (random search or ASHA) on the simulator backend; reports events,
  trials started, seconds of ``Tuner.run()`` and peak RSS of this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

METRIC = "error"
ELAPSED_TIME_ATTR = "elapsed_time"
RESOURCE_ATTR = "epoch"
MAX_RESOURCE_ATTR = "epochs"
N_WORKERS = 4


def run(method: str, num_trials: int, max_t: int, seed: int) -> dict[str, Any]:
    """One simulated tuning run; only ``Tuner.run()`` is timed."""
    import hpo_core
    from hpo_core import StoppingCriterion, Tuner
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.blackboxes.synthetic import SyntheticBlackbox
    from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler

    blackbox = SyntheticBlackbox(max_t=max_t)
    backend = SimulatorBackend(
        blackbox=blackbox,
        elapsed_time_attr=ELAPSED_TIME_ATTR,
        max_resource_attr=MAX_RESOURCE_ATTR,
    )
    scheduler: FIFOScheduler | HyperbandScheduler
    if method == "rs":
        scheduler = FIFOScheduler(
            blackbox.config_space, metric=METRIC, mode="min", searcher="random", random_seed=seed
        )
    elif method == "asha":
        scheduler = HyperbandScheduler(
            blackbox.config_space,
            metric=METRIC,
            mode="min",
            resource_attr=RESOURCE_ATTR,
            max_resource_attr=MAX_RESOURCE_ATTR,
            type="stopping",
            grace_period=1,
            reduction_factor=3,
            brackets=1,
            searcher="random",
            random_seed=seed,
        )
    else:
        raise ValueError(f"unknown method {method!r}")
    tuner = Tuner(
        backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=num_trials),
        n_workers=N_WORKERS,
    )
    start = time.perf_counter()
    tuner.run()
    seconds = time.perf_counter() - start
    events = len(tuner.results)
    return {
        "library": "hpo_core",
        "version": hpo_core.__version__,
        "method": method,
        "size": num_trials,
        "max_t": max_t,
        "seed": seed,
        "events": events,
        "trials_started": int(tuner.num_trials_started),
        "seconds": seconds,
        "events_per_second": events / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def curves(configs: list[dict[str, Any]], max_t: int) -> dict[str, Any]:
    """Curves straight from the closed-form function."""
    from hpo_core.blackboxes.synthetic_curve import learning_curve

    result = []
    for config in configs:
        errors, elapsed = learning_curve(
            learning_rate=config["learning_rate"],
            num_units=config["num_units"],
            dropout=config["dropout"],
            optimizer=config["optimizer"],
            batch_size=config["batch_size"],
            num_epochs=max_t,
        )
        result.append({"error": errors, "elapsed_time": elapsed})
    return {"curves": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["curves", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--method", choices=["rs", "asha"], default="rs")
    parser.add_argument("--num-trials", type=int, default=100)
    parser.add_argument("--max-t", type=int, default=27)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", type=str, default="[]", help="JSON list of configurations")
    args = parser.parse_args()
    if args.command == "curves":
        payload = curves(json.loads(args.configs), args.max_t)
    else:
        payload = run(args.method, args.num_trials, args.max_t, args.seed)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
