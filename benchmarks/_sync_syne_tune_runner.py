"""Child of ``sync_family.py``: Syne Tune 0.13.0's synchronous Hyperband family, one run.

Run with the Python of the Syne Tune 0.13.0 venv (``autograd``, ``statsmodels`` and, for the
YAHPO blackboxes, ``yahpo-gym`` installed next to it). This file must not import ``hpo_core``.
It is a runner of its own rather than more methods in ``_syne_tune_gp_runner.py`` and
``_syne_tune_sim_runner.py`` because the family runs on the blackboxes of both (the LCBench
table of the former, the YAHPO surrogate of the latter, imported from them unchanged) and needs
one scheduler factory and one KDE instrumentation for both; the two runners keep their own
method sets and command lines.

Blackboxes:

* ``--table T``: the exported LCBench table as ``_syne_tune_gp_runner.TableBlackbox`` (exact
  rows, else the nearest row in hpo_core's standardised features; checked against hpo_core's
  lookups by the parent), ``max_resource_attr`` and metric from the table's metadata;
* ``--yahpo-data D --instance I``: ``load_blackbox("yahpo-lcbench")[I]`` as
  ``_syne_tune_sim_runner.yahpo_blackbox`` builds it (``max_resource_attr="max_resources"``, as
  Syne Tune's ``yahpo-lcbench-*`` definitions).

Out-of-range configs: Syne Tune 0.13.0's KDE searcher encodes an integer hyperparameter in
``[l, u]`` as ``(v - a) / (u - a)`` with ``a = 1 / (2 (u - l + 1))`` and decodes
``ceil(x (u - a) + a)``, ignoring ``l``; its candidates (truncated normals on ``[0, 1]``, or
uniform draws mapped with ``l``) therefore decode below ``l``, e.g. ``max_units = 24`` in
``[64, 1024]``. The LCBench table answers such a config with its nearest row (as the 1-NN
surrogate would); yahpo-gym rejects it (``ValueError: Trying to set illegal value``), which
ends the run. So every blackbox query is checked against the blackbox's numerical domains:
the queries with a value out of range are counted (``out_of_range`` in the JSON, per
hyperparameter), and on YAHPO the values are clipped into their domains before the surrogate
is asked (``--no-clip`` to let yahpo-gym fail instead). The scheduler keeps its own config.

Methods (hpo_core registry names -> ``syne_tune.optimizer.baselines``), each with
``metric``/``mode`` of the benchmark, ``resource_attr`` the blackbox's fidelity,
``max_resource_attr``, ``random_seed=seed`` and Syne Tune's defaults otherwise:

* ``SYNCHB``: ``SyncHyperband`` (the maximum number of brackets);
* ``SYNCSH``: ``SyncHyperband(brackets=1)``;
* ``BOHB``: ``SyncBOHB`` (synchronous Hyperband, KDE searcher);
* ``BOHB-ASYNC``: ``BOHB`` (``HyperbandScheduler`` with the KDE searcher, type ``stopping``);
* ``DEHB``: ``DEHB``;
* ``SYNCMOBSTER``: ``SyncMOBSTER`` (model ``gp_independent``).

The KDE methods are instrumented (counting only; no random draw or decision changes): every
call of ``MultiFidelityKernelDensityEstimator._train_kde`` (the resource level it picks, the
rows at that level and the rows ``np.where(self.resource_levels == resource)`` selects), every
KDE pair fitted, every time ``good_kde`` is set (a suggestion from the model) and every
suggestion of ``_get_config``. The run's JSON holds them under ``kde``.

Sub-commands (each writes one JSON document to ``--out``):

* ``check``: imports everything a run needs (``statsmodels``, ``autograd``) and reports the
  versions (``yahpo_gym`` ``None`` when it is not installed);
* ``run``: one simulated run; reports every result's simulated time and metric value, the
  seconds of ``Tuner.run()`` (the only part timed), the trials started, the KDE counts.
  ``--tuner-sleep-time`` sets the simulator's clock step (Syne Tune's default 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import syne_tune
from _syne_tune_gp_runner import SEED_BOUND, TableBlackbox
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.constants import ST_TUNER_TIME

METHODS = ("SYNCHB", "SYNCSH", "BOHB", "BOHB-ASYNC", "DEHB", "SYNCMOBSTER")
KDE_METHODS = ("BOHB", "BOHB-ASYNC")
#: What Syne Tune's ``yahpo-lcbench-*`` benchmark definitions set.
YAHPO_DEFINITION = {"metric": "val_accuracy", "mode": "max", "elapsed_time_attr": "time",
                    "max_resource_attr": "max_resources"}


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


class KDECounts:
    """Counts what the KDE searchers do, by wrapping their methods (behaviour unchanged)."""

    def __init__(self) -> None:
        self.train_calls = 0  # MultiFidelityKernelDensityEstimator._train_kde
        self.level_found = 0  # ... with a resource level holding enough data
        self.rows_at_level = 0  # rows recorded at that level, summed over calls
        self.rows_selected = 0  # rows np.where(self.resource_levels == resource) selected
        self.fits = 0  # KDE pairs fitted (KernelDensityEstimator._train_kde returned models)
        self.good_kde_set = 0  # suggestions from the model (good_kde assigned a model)
        self.get_config_calls = 0
        self.levels: Counter[int] = Counter()  # resource levels of the calls with a level

    def install(self) -> None:
        from syne_tune.optimizer.schedulers.searchers.kde.kde_searcher import (
            KernelDensityEstimator,
        )
        from syne_tune.optimizer.schedulers.searchers.kde.multi_fidelity_kde_searcher import (
            MultiFidelityKernelDensityEstimator as MultiFidelity,
        )

        counts = self
        base_train = KernelDensityEstimator._train_kde
        mf_train = MultiFidelity._train_kde
        get_config = KernelDensityEstimator._get_config

        def counted_base_train(searcher: Any, data: Any, targets: Any) -> Any:
            models = base_train(searcher, data, targets)
            counts.fits += models is not None
            return models

        def counted_mf_train(searcher: Any, data: Any, targets: Any) -> Any:
            counts.train_calls += 1
            level = searcher._highest_resource_model_can_fit(
                data.reshape((targets.size, -1)).shape[1])
            if level is not None:
                counts.level_found += 1
                counts.levels[int(level)] += 1
                counts.rows_at_level += int(np.sum(np.asarray(searcher.resource_levels)
                                                   == level))
                # the selection exactly as the searcher makes it
                counts.rows_selected += int(
                    np.where(searcher.resource_levels == level)[0].size)
            return mf_train(searcher, data, targets)

        def counted_get_config(searcher: Any, **kwargs: Any) -> Any:
            counts.get_config_calls += 1
            return get_config(searcher, **kwargs)

        def good_kde_get(searcher: Any) -> Any:
            return searcher.__dict__.get("_counted_good_kde")

        def good_kde_set(searcher: Any, value: Any) -> None:
            counts.good_kde_set += value is not None
            searcher.__dict__["_counted_good_kde"] = value

        KernelDensityEstimator._train_kde = counted_base_train
        MultiFidelity._train_kde = counted_mf_train
        KernelDensityEstimator._get_config = counted_get_config
        KernelDensityEstimator.good_kde = property(good_kde_get, good_kde_set)

    def as_json(self) -> dict[str, Any]:
        return {"train_calls": self.train_calls, "level_found": self.level_found,
                "rows_at_level": self.rows_at_level, "rows_selected": self.rows_selected,
                "fits": self.fits, "good_kde_set": self.good_kde_set,
                "get_config_calls": self.get_config_calls,
                "levels": {str(k): v for k, v in sorted(self.levels.items())}}


def guard_domains(blackbox: Any, *, clip: bool) -> Counter[str]:
    """Count (and with ``clip`` clip) out-of-range values of the queries to ``blackbox``."""
    from syne_tune.config_space import Float, Integer

    space = blackbox.configuration_space
    inner = blackbox._objective_function
    counts: Counter[str] = Counter()

    def guarded(configuration: dict[str, Any], fidelity: Any = None, seed: Any = None) -> Any:
        query = dict(configuration)
        outside = False
        for name, value in configuration.items():
            domain = space.get(name)
            if isinstance(domain, Integer | Float) and not domain.lower <= value <= domain.upper:
                counts[name] += 1
                outside = True
                if clip:
                    query[name] = domain.cast(min(max(value, domain.lower), domain.upper))
        counts["queries"] += 1
        counts["queries_out_of_range"] += outside
        return inner(configuration=query, fidelity=fidelity, seed=seed)

    blackbox._objective_function = guarded
    return counts


def make_scheduler(method: str, config_space: dict[str, Any], *, metric: str, mode: str,
                   resource_attr: str, max_resource_attr: str, seed: int) -> Any:
    from syne_tune.optimizer.baselines import (
        BOHB,
        DEHB,
        SyncBOHB,
        SyncHyperband,
        SyncMOBSTER,
    )

    common: dict[str, Any] = {"metric": metric, "mode": mode, "resource_attr": resource_attr,
                              "max_resource_attr": max_resource_attr,
                              "random_seed": seed % SEED_BOUND}
    if method == "SYNCHB":
        return SyncHyperband(config_space, **common)
    if method == "SYNCSH":
        return SyncHyperband(config_space, brackets=1, **common)
    if method == "BOHB":
        return SyncBOHB(config_space, **common)
    if method == "BOHB-ASYNC":
        return BOHB(config_space, **common)
    if method == "DEHB":
        return DEHB(config_space, **common)
    if method == "SYNCMOBSTER":
        return SyncMOBSTER(config_space, **common)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    seed = args.seed % SEED_BOUND
    np.random.seed(seed)  # as Syne Tune's simulator launcher does before building anything
    if args.table is not None:
        blackbox: Any = TableBlackbox(args.table)
        meta = blackbox.meta
        definition = {k: meta[k] for k in ("metric", "mode", "elapsed_time_attr",
                                           "max_resource_attr")}
        resource_attr = meta["resource_attr"]
    else:
        from _syne_tune_sim_runner import yahpo_blackbox

        if args.yahpo_data is None or args.instance is None:
            raise SystemExit("--table, or --yahpo-data and --instance, are required")
        blackbox = yahpo_blackbox(args.yahpo_data, args.instance, workdir)
        definition = dict(YAHPO_DEFINITION)
        resource_attr = blackbox.fidelity_name()
    out_of_range = guard_domains(blackbox, clip=args.table is None and not args.no_clip)
    backend = UserBlackboxBackend(
        blackbox=blackbox,
        elapsed_time_attr=definition["elapsed_time_attr"],
        max_resource_attr=definition["max_resource_attr"],
        support_checkpointing=True,
    )
    if args.tuner_sleep_time is not None:
        backend.tuner_sleep_time = args.tuner_sleep_time
    kde = KDECounts()
    if args.method in KDE_METHODS:
        kde.install()
    config_space = blackbox.configuration_space_with_max_resource_attr(
        definition["max_resource_attr"])
    scheduler = make_scheduler(args.method, config_space, metric=definition["metric"],
                               mode=definition["mode"], resource_attr=resource_attr,
                               max_resource_attr=definition["max_resource_attr"], seed=seed)
    simulator = SimulatorCallback()
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_wallclock_time=args.budget),
        n_workers=args.workers,
        sleep_time=0,
        callbacks=[simulator],
        results_update_interval=10**9,
        print_update_interval=10**9,
        tuner_name=f"sync-{args.method.lower()}",
        save_tuner=False,
        suffix_tuner_name=True,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    tuner.run()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    metric = definition["metric"]
    rows = [r for r in simulator.results if metric in r and ST_TUNER_TIME in r]
    times = [float(r[ST_TUNER_TIME]) for r in rows]
    return {
        "library": "syne-tune",
        "version": syne_tune.__version__,
        "method": args.method,
        "scheduler": type(scheduler).__name__,
        "searcher": type(getattr(scheduler, "searcher", None)).__name__,
        "seed": seed,
        "budget": args.budget,
        "tuner_sleep_time": backend.tuner_sleep_time,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "simulated_time_reached": max(times, default=0.0),
        "times": times,
        "values": [float(r[metric]) for r in rows],
        "num_results": len(rows),
        "num_trials": len({r["trial_id"] for r in rows}),
        "trials_started": int(tuner.tuning_status.num_trials_started),
        "kde": kde.as_json() if args.method in KDE_METHODS else None,
        "out_of_range": dict(out_of_range),
        "clipped": args.table is None and not args.no_clip,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def check() -> dict[str, Any]:
    import autograd  # noqa: F401  (SyncMOBSTER's GP)
    import statsmodels.api  # noqa: F401  (the KDE searcher)

    return {"version": syne_tune.__version__, "python": sys.version, "numpy": np.__version__,
            "statsmodels": _package_version("statsmodels"),
            "yahpo_gym": _package_version("yahpo-gym")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "run"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path, help="LCBench table (.npz) exported by the parent")
    parser.add_argument("--yahpo-data", type=Path, help="directory holding lcbench/ for yahpo-gym")
    parser.add_argument("--instance", help="YAHPO lcbench instance (OpenML task id)")
    parser.add_argument("--method", choices=METHODS, default="SYNCHB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=5400.0, help="simulated seconds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tuner-sleep-time", type=float, default=None,
                        help="simulated seconds the clock advances whenever all workers are "
                        "busy (default: Syne Tune's, 5)")
    parser.add_argument("--no-clip", action="store_true",
                        help="pass out-of-range configs to the YAHPO surrogate unchanged")
    args = parser.parse_args()
    if args.command == "check":
        payload = check()
    else:
        with tempfile.TemporaryDirectory(prefix="syne-tune-sync-") as folder:
            os.environ["SYNETUNE_FOLDER"] = folder  # keep result folders out of $HOME
            payload = run(args, Path(folder))
    args.out.write_text(json.dumps(payload))


if __name__ == "__main__":
    main()
