"""Quality of hpo_core's RS, ASHA, ASHA-PROM and PASHA against Syne Tune 0.13's, paired over seeds.

What is compared
    Each method of hpo_core's registry (``RS``, ``ASHA`` stopping type, ``ASHA-PROM`` promotion
    type, ``PASHA``) against Syne Tune 0.13.0's baseline of the same name (``RandomSearch``,
    ``ASHA(type="stopping")``, ``ASHA(type="promotion")``, ``PASHA``, their defaults) on YAHPO
    Gym's lcbench surrogate (``--benchmarks``, default instances 3945 and 7593; Syne Tune through
    yahpo-gym 1.0.2, as ``simulator_overheads.py`` runs it), metric ``val_accuracy``
    (maximised), 4 workers, the benchmarks' 7,200 s budget. hpo_core runs twice: with
    ``simulator_overheads="syne_tune"`` (Syne Tune's simulated timeline, the like-for-like
    comparison) and with the exact default. Repetition ``s`` is seed ``s`` in both libraries
    (their random streams differ: the pairing is by seed index, as in a study).

Figures
    Final best ``val_accuracy`` per run (best over the results reported up to the budget); per
    benchmark and method the means of Syne Tune, hpo_core (syne_tune) and hpo_core (exact), the
    paired difference hpo_core (syne_tune) - Syne Tune with its 95 % confidence interval
    (t distribution) and the verdict ``same`` (the interval contains 0), ``better`` or
    ``worse``; the trials started (means) and real seconds per run of both libraries.

Caching
    Syne Tune's runs (PASHA about a minute each) are kept as JSON under
    ``benchmarks/.cache/scheduler_quality/``, keyed by benchmark, method, seed, budget and
    workers (and the benchmark's result cap, which both libraries apply); ``--refresh`` ignores
    them. hpo_core's runs take about a second and are not cached.

Output
    The table and, last, ``scheduler_quality_within_ci=<k>/<n>``: the (benchmark, method) rows
    that are not ``worse``. Exit status 1 if a row is worse, 2 if a run could not be measured.

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/scheduler_quality.py [--seeds 8] [--benchmarks yahpo-lcbench-3945,...]

    About 30 minutes on 2 cores with the venv in place (``--jobs 2``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gp_bench import CACHE_DIR
from _syne_tune_sim import SYNE_TUNE_VERSION, run_syne_tune
from gp_quality import final_best, paired_ci, verdict
from simulator_throughput import MeasurementError

DEFAULT_BENCHMARKS = ("yahpo-lcbench-3945", "yahpo-lcbench-7593")
METHODS = ("RS", "ASHA", "ASHA-PROM", "PASHA")
N_WORKERS = 4
RANDOM_SEED = 2465497701
METRIC = "val_accuracy"


def syne_tune_run(benchmark: str, method: str, seed: int, budget: float,
                  refresh: bool) -> dict[str, Any]:
    """Syne Tune's run, summarised: ``times``, ``values``, ``trials_started``, ``seconds``."""
    from hpo_core.experiments.benchmarks import get_benchmark

    cap = get_benchmark(benchmark).max_num_evaluations
    key: dict[str, Any] = {"benchmark": benchmark, "method": method, "seed": seed,
                           "budget": budget, "workers": N_WORKERS, "version": SYNE_TUNE_VERSION}
    if cap is not None:
        key["max_num_evaluations"] = cap
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    path = CACHE_DIR / "scheduler_quality" / f"{benchmark}-{method}-s{seed}-{digest}.json"
    if path.is_file() and not refresh:
        cached: dict[str, Any] = json.loads(path.read_text())
        return cached
    result = run_syne_tune(benchmark, method, seed, n_workers=N_WORKERS,
                           max_wallclock_time=budget, max_num_evaluations=cap)
    summary = {"times": [r[2] for r in result["results"]],
               "values": [r[3] for r in result["results"]],
               "trials_started": int(result["trials_started"]),
               "seconds": float(result["seconds"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(summary))
    partial.replace(path)
    return summary


def hpo_core_run(benchmark: str, method: str, seed: int, budget: float,
                 overheads: str) -> dict[str, Any]:
    import pandas as pd

    from hpo_core.experiments.launcher import Experiment, run_experiment

    experiment = Experiment(experiment_tag="quality", benchmark=benchmark, method=method,
                            seed=seed, random_seed=RANDOM_SEED, n_workers=N_WORKERS,
                            max_wallclock_time=budget, simulator_overheads=overheads)
    with tempfile.TemporaryDirectory(prefix="quality-") as folder:
        start = time.perf_counter()
        run = run_experiment(experiment, Path(folder))
        seconds = time.perf_counter() - start
        results = pd.read_csv(run / "results.csv.zip")
        metadata = json.loads((run / "metadata.json").read_text())
    return {"times": results["st_tuner_time"].tolist(), "values": results[METRIC].tolist(),
            "trials_started": int(metadata["num_trials_started"]), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--benchmarks", default=",".join(DEFAULT_BENCHMARKS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--budget", type=float, default=None,
                        help="simulated seconds (default: the benchmark's)")
    parser.add_argument("--jobs", type=int, default=2, help="Syne Tune runs at once")
    parser.add_argument("--refresh", action="store_true", help="ignore cached Syne Tune runs")
    args = parser.parse_args(argv)
    from hpo_core.experiments.benchmarks import get_benchmark

    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods: {unknown} not among {list(METHODS)}")
    rows: list[dict[str, Any]] = []
    try:
        for benchmark in (b for b in args.benchmarks.split(",") if b):
            budget = args.budget or get_benchmark(benchmark).max_wallclock_time
            for method in methods:
                with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                    runs = [pool.submit(syne_tune_run, benchmark, method, s, budget,
                                        args.refresh) for s in range(args.seeds)]
                    st = [run.result() for run in runs]
                ours = {o: [hpo_core_run(benchmark, method, s, budget, o)
                            for s in range(args.seeds)] for o in ("syne_tune", "none")}
                best = {"syne-tune": np.array([final_best(r, budget) for r in st])}
                best |= {o: np.array([final_best(r, budget) for r in runs])
                         for o, runs in ours.items()}
                mean, low, high = paired_ci(best["syne_tune"] - best["syne-tune"])
                row = {"benchmark": benchmark, "method": method, "diff": mean, "low": low,
                       "high": high, "verdict": verdict(low, high),
                       **{f"best_{k}": float(v.mean()) for k, v in best.items()},
                       "trials_st": np.mean([r["trials_started"] for r in st]),
                       "trials_ours": np.mean([r["trials_started"]
                                               for r in ours["syne_tune"]]),
                       "s_st": np.mean([r["seconds"] for r in st]),
                       "s_ours": np.mean([r["seconds"] for r in ours["syne_tune"]])}
                rows.append(row)
                print(f"  {benchmark} {method}: Syne Tune {np.round(best['syne-tune'], 3)} "
                      f"hpo_core {np.round(best['syne_tune'], 3)}", flush=True)
    except MeasurementError as err:
        print(f"could not measure: {err}", file=sys.stderr)
        return 2
    header = ("benchmark", "method", "Syne Tune", "hpo_core (syne_tune)", "hpo_core (exact)",
              "diff", "95 % CI", "verdict", "trials ST / ours", "s/run ST / ours")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['benchmark']} | {r['method']} | {r['best_syne-tune']:.3f} | "
              f"{r['best_syne_tune']:.3f} | {r['best_none']:.3f} | {r['diff']:+.3f} | "
              f"[{r['low']:+.3f}, {r['high']:+.3f}] | {r['verdict']} | "
              f"{r['trials_st']:.1f} / {r['trials_ours']:.1f} | "
              f"{r['s_st']:.1f} / {r['s_ours']:.2f} |")
    within = sum(r["verdict"] != "worse" for r in rows)
    print(f"scheduler_quality_within_ci={within}/{len(rows)}")
    return 0 if within == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
