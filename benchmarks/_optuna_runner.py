"""Child process of ``searcher_latency.py`` for Optuna's ``GPSampler`` (its own venv's Python).

This file must not import ``hpo_core``. The config space comes from the table exported by
``_hpo_core_gp_runner.py export`` (``--table``), the observations from ``--observations`` (the
same JSON file every library reads).

Sub-commands (each writes one JSON document to ``--out``):

* ``check``: runs a small study with the GP sampler (its first trials random, the last ones
  from the fitted GP: the sampler imports torch, scipy and greenlet only then, so an
  incomplete venv fails here rather than in a measurement); reports the versions.
* ``suggest``: seconds of one ``study.ask(fixed_distributions=...)`` (which fits the GP and
  optimises the acquisition function to sample all parameters) per repeat, on a fresh study
  holding the observations as complete trials and the pending configs as running trials.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.samplers import GPSampler


def distributions(table: Path) -> tuple[dict[str, BaseDistribution], str]:
    meta = json.loads(str(np.load(table, allow_pickle=False)["meta"]))
    out: dict[str, BaseDistribution] = {}
    for name in meta["hyperparameters"]:
        spec = meta["space"][name]
        log = "log" in spec["type"]
        if spec["type"].endswith("randint"):
            out[name] = IntDistribution(int(spec["lower"]), int(spec["upper"]), log=log)
        else:
            out[name] = FloatDistribution(float(spec["lower"]), float(spec["upper"]), log=log)
    direction = "maximize" if meta["mode"] == "max" else "minimize"
    return out, direction


def suggest(args: argparse.Namespace) -> dict[str, Any]:
    dists, direction = distributions(args.table)
    spec = json.loads(args.observations.read_text())
    complete = [
        optuna.trial.create_trial(
            params={k: obs["config"][k] for k in dists}, distributions=dists,
            value=float(obs["value"]),
        )
        for obs in spec["observations"]
    ]
    seconds, suggestions = [], []
    for repeat in range(args.repeats):
        study = optuna.create_study(direction=direction,
                                    sampler=GPSampler(seed=args.seed + repeat))
        study.add_trials(complete)
        for config in spec["pending"]:
            study.enqueue_trial({k: config[k] for k in dists})
            study.ask(fixed_distributions=dists)  # stays running: a pending evaluation
        start = time.perf_counter()
        trial = study.ask(fixed_distributions=dists)
        seconds.append(time.perf_counter() - start)
        suggestions.append(dict(trial.params))
    return {"library": "optuna", "version": optuna.__version__, "method": "GPSampler",
            "seconds": seconds, "suggestions": suggestions}


def check() -> dict[str, Any]:
    import scipy
    import torch

    study = optuna.create_study(sampler=GPSampler(seed=0, n_startup_trials=3))
    study.optimize(lambda t: (t.suggest_float("x", 0.0, 1.0) - 0.3) ** 2
                   + t.suggest_int("k", 1, 5), n_trials=5)
    if len(study.trials) != 5:
        raise RuntimeError(f"GPSampler check study ran {len(study.trials)} of 5 trials")
    return {"version": optuna.__version__, "torch": torch.__version__,
            "scipy": scipy.__version__, "python": sys.version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "suggest"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--observations", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    optuna.logging.set_verbosity(logging.WARNING)
    if args.command == "check":
        payload: dict[str, Any] = check()
    else:
        payload = suggest(args)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
