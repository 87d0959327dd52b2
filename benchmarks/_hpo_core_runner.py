"""Child process of ``simulator_throughput.py`` for hpo_core (run with ``PYTHONPATH`` at the repo).

Sub-commands (each writes one JSON document to ``--out``):

* ``curves``: error and elapsed-time curves of the configurations given in ``--configs``, from
  :func:`hpo_core.blackboxes.synthetic_curve.learning_curve`.
* ``check``: imports what a run needs and reports hpo_core's version.
* ``run``: one tuning run (see :data:`METHODS`) on the simulator backend, then its
  ``results.csv.zip`` written as the launcher writes it
  (:func:`hpo_core.experiments.launcher.write_results`) into a temporary directory; reports
  results, trials started, seconds of ``Tuner.run()`` and of the write, the file's size and the
  peak RSS of this process (after the write).
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

METRIC = "error"
ELAPSED_TIME_ATTR = "elapsed_time"
RESOURCE_ATTR = "epoch"
MAX_RESOURCE_ATTR = "epochs"
N_WORKERS = 4
#: Methods: random search, and stopping-type ASHA (one bracket), PASHA and Hyperband (four
#: brackets), all with grace period 1, reduction factor 3 and the random searcher.
METHODS = ("rs", "asha", "pasha", "hyperband")


def make_scheduler(method: str, config_space: dict[str, Any], seed: int) -> Any:
    from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler

    if method == "rs":
        return FIFOScheduler(
            config_space, metric=METRIC, mode="min", searcher="random", random_seed=seed
        )
    kinds = {"asha": ("stopping", 1), "pasha": ("pasha", 1), "hyperband": ("stopping", 4)}
    if method not in kinds:
        raise ValueError(f"unknown method {method!r}")
    kind, brackets = kinds[method]
    return HyperbandScheduler(
        config_space,
        metric=METRIC,
        mode="min",
        resource_attr=RESOURCE_ATTR,
        max_resource_attr=MAX_RESOURCE_ATTR,
        type=kind,
        grace_period=1,
        reduction_factor=3,
        brackets=brackets,
        searcher="random",
        random_seed=seed,
    )


def run(method: str, num_trials: int, max_t: int, seed: int) -> dict[str, Any]:
    """One simulated tuning run and its results file; ``Tuner.run()`` and the write are timed
    (not the imports)."""
    import hpo_core
    from hpo_core import StoppingCriterion, Tuner
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.blackboxes.synthetic import SyntheticBlackbox
    from hpo_core.experiments.launcher import write_results

    # Imports are not timed (Syne Tune's runner has imported pandas before its timer too).
    importlib.import_module("pandas")
    importlib.import_module("pyarrow.compute")
    blackbox = SyntheticBlackbox(max_t=max_t)
    backend = SimulatorBackend(
        blackbox=blackbox,
        elapsed_time_attr=ELAPSED_TIME_ATTR,
        max_resource_attr=MAX_RESOURCE_ATTR,
    )
    tuner = Tuner(
        backend=backend,
        scheduler=make_scheduler(method, blackbox.config_space, seed),
        stop_criterion=StoppingCriterion(max_num_trials_started=num_trials),
        n_workers=N_WORKERS,
    )
    with tempfile.TemporaryDirectory(prefix="hpo-core-throughput-") as folder:
        path = Path(folder) / "results.csv.zip"
        start = time.perf_counter()
        tuner.run()
        run_seconds = time.perf_counter() - start
        rss_before_write = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        write_results(
            tuner.results,
            path,
            metric=METRIC,
            mode="min",
            max_resource=max_t,
            constants={"benchmark": "synthetic", "method": method, "seed": seed},
        )
        seconds = time.perf_counter() - start
        file_bytes = path.stat().st_size
    results = len(tuner.results)
    return {
        "library": "hpo_core",
        "version": hpo_core.__version__,
        "method": method,
        "size": num_trials,
        "max_t": max_t,
        "seed": seed,
        "results": results,
        "trials_started": int(tuner.num_trials_started),
        "seconds": seconds,
        "write_seconds": seconds - run_seconds,
        "results_per_second": results / seconds,
        "file_bytes": file_bytes,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "peak_rss_before_write_mb": rss_before_write,
    }


def curves(configs: list[dict[str, Any]], max_t: int) -> dict[str, Any]:
    """The curves the simulator replays (the synthetic blackbox's)."""
    from hpo_core.blackboxes.synthetic import SyntheticBlackbox

    blackbox = SyntheticBlackbox(max_t=max_t)
    result = []
    for config in configs:
        errors, elapsed = blackbox.curve(config).objectives.T.tolist()
        result.append({"error": errors, "elapsed_time": elapsed})
    return {"curves": result}


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
        import hpo_core
        from hpo_core.experiments.launcher import write_results  # noqa: F401

        payload = {"version": hpo_core.__version__, "methods": list(METHODS)}
    elif args.command == "curves":
        payload = curves(json.loads(args.configs), args.max_t)
    else:
        payload = run(args.method, args.num_trials, args.max_t, args.seed)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
