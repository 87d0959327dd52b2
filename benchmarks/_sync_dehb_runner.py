"""Child of ``sync_family.py``: the ``dehb`` PyPI package (0.1.2) on the exported LCBench table.

Run with the Python of ``benchmarks/.venvs/dehb``. Imports neither ``hpo_core`` nor Syne Tune:
the table (``.npz`` written by ``_hpo_core_gp_runner.py export``) is read here, with the lookup
of ``_syne_tune_gp_runner.TableBlackbox`` (exact rows, else the nearest row in hpo_core's
standardised features, here with scipy's ``cKDTree``); the parent checks it against hpo_core's
curves with the ``curves`` sub-command.

The package's own ``run()`` spends real time (``total_cost`` is a wall-clock timer) and runs
parallel workers through dask; instead, its ask/tell interface is driven by a simulated
clock with ``--workers`` workers: whenever a worker is free, ``ask()`` gives a config and a
fidelity ``f`` (Hyperband's geometric fidelities between 1 and the last epoch with ``eta=3``,
rounded to whole epochs); the evaluation trains from scratch, as the package's evaluations do,
so the worker is busy for the elapsed time at epoch ``round(f)``, and ``tell()`` gets
``fitness = -val_accuracy`` at that epoch and that time as ``cost`` when it ends. Every epoch's
``val_accuracy`` on the way counts as a result at its time (as the simulators of both libraries
record one result per epoch), and the run ends at the budget. Package defaults otherwise
(``mutation_factor=0.5``, ``crossover_prob=0.5``, ``strategy="rand1_bin"``,
``async_strategy="immediate"``), ``seed=seed``, one package worker (no dask), nothing saved.

Sub-commands (each writes one JSON document to ``--out``): ``check`` (imports, versions),
``curves --configs F`` (the lookup's curves of the configs in ``F``), ``run``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import resource
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np


class Table:
    """The exported table: exact rows, else the nearest row in the exported features."""

    def __init__(self, path: Path) -> None:
        from scipy.spatial import cKDTree

        data = np.load(path, allow_pickle=False)
        self.meta = json.loads(str(data["meta"]))
        self.names: list[str] = self.meta["hyperparameters"]
        self.objectives = np.asarray(data["objectives"], dtype=float)  # (N, S, F, 2)
        self.fidelities = np.asarray(data["fidelity_values"], dtype=int)
        columns = [data[f"hp_{name}"].tolist() for name in self.names]
        self.index: dict[tuple[Any, ...], int] = {}
        for row, key in enumerate(zip(*columns, strict=True)):
            self.index.setdefault(key, row)
        self.encoding = [self.meta["encoding"][name] for name in self.names]
        self.tree = cKDTree(np.asarray(data["encoded"], dtype=float))

    def encode(self, config: dict[str, Any]) -> np.ndarray:
        x = np.empty(len(self.names))
        for i, (name, (kind, a, b)) in enumerate(zip(self.names, self.encoding, strict=True)):
            value = float(config[name])
            if kind == "standardized":
                x[i] = (value - a) / b
                continue
            t = ((math.log(value) if kind == "log" else value) - a) / b
            x[i] = min(max(t, 0.0), 1.0)
        return x

    def row(self, config: dict[str, Any]) -> int:
        key = tuple(config[name] for name in self.names)
        row = self.index.get(key)
        if row is None:
            row = int(self.tree.query(self.encode(config), k=1)[1])
        return row

    def curve(self, config: dict[str, Any]) -> np.ndarray:
        """``(fidelities, 2)``: metric and elapsed time (seed 0)."""
        return self.objectives[self.row(config), 0]


def config_space(meta: dict[str, Any], seed: int) -> Any:
    import ConfigSpace as CS

    space = CS.ConfigurationSpace(seed=seed)
    for name in meta["hyperparameters"]:
        spec = meta["space"][name]
        kind, low, high = spec["type"], spec["lower"], spec["upper"]
        if kind in ("uniform", "loguniform"):
            hp = CS.UniformFloatHyperparameter(name, low, high, log=kind == "loguniform")
        elif kind in ("randint", "lograndint"):
            hp = CS.UniformIntegerHyperparameter(name, low, high, log=kind == "lograndint")
        else:
            raise ValueError(f"{name}: domain {kind!r} not supported")
        space.add(hp)
    return space


def run(args: argparse.Namespace) -> dict[str, Any]:
    from dehb import DEHB
    from loguru import logger

    logger.remove()  # the package logs every ask and tell
    table = Table(args.table)
    max_epoch = int(table.fidelities[-1])
    with tempfile.TemporaryDirectory(prefix="dehb-") as folder:
        optimizer = DEHB(cs=config_space(table.meta, args.seed % 2**31), f=None,
                         min_fidelity=1, max_fidelity=max_epoch, eta=3, n_workers=1,
                         seed=args.seed % 2**31, output_path=folder, save_freq="end")
        times: list[float] = []
        values: list[float] = []
        pending: list[tuple[float, int, dict[str, Any], dict[str, Any]]] = []
        now, free, asked, counter = 0.0, args.workers, 0, 0
        start, cpu_start = time.perf_counter(), time.process_time()
        while True:
            while free > 0 and now < args.budget:
                job = optimizer.ask()
                asked += 1
                config = dict(job["config"])
                epoch = min(max(round(float(job["fidelity"])), 1), max_epoch)
                curve = table.curve(config)
                metric, elapsed = curve[:epoch, 0], curve[:epoch, 1]
                times.extend((now + elapsed).tolist())
                values.extend(metric.tolist())
                result = {"fitness": -float(metric[-1]), "cost": float(elapsed[-1])}
                heapq.heappush(pending, (now + float(elapsed[-1]), counter, job, result))
                counter += 1
                free -= 1
            if not pending:
                break
            now, _, job, result = heapq.heappop(pending)
            if now > args.budget:
                break
            optimizer.tell(job, result)
            free += 1
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    kept = [(t, v) for t, v in zip(times, values, strict=True) if t <= args.budget]
    return {
        "library": "dehb",
        "version": version("dehb"),
        "seed": args.seed,
        "budget": args.budget,
        "workers": args.workers,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "times": [t for t, _ in kept],
        "values": [v for _, v in kept],
        "num_results": len(kept),
        "num_trials": asked,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "curves", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--configs", type=Path, help="JSON file: list of configs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=5400.0, help="simulated seconds")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.command == "check":
        import ConfigSpace
        import dehb  # noqa: F401

        payload: dict[str, Any] = {"version": version("dehb"), "python": sys.version,
                                   "configspace": ConfigSpace.__version__,
                                   "numpy": np.__version__}
    elif args.command == "curves":
        table = Table(args.table)
        configs = json.loads(args.configs.read_text())
        payload = {"curves": [table.curve(c).tolist() for c in configs],
                   "rows": [table.row(c) for c in configs]}
    else:
        payload = run(args)
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
