"""Trials started in a simulated budget: hpo_core with Syne Tune's overheads vs Syne Tune 0.13.

What is measured
    hpo_core's simulator is exact by default: a result is seen when its epoch ends and a freed
    worker starts its next trial at once. Syne Tune 0.13.0's simulator adds delays per start,
    result and stop and polls in 5 s sleeps, so it starts fewer trials in the same budget. With
    the run option ``simulator_overheads="syne_tune"`` hpo_core replays that timeline; this
    benchmark checks that it then starts as many trials as Syne Tune does (within 10 %).

    Benchmarks: ``lcbench-blood-transfusion-service-center`` (the LCBench curves shipped with the
    repository; Syne Tune reads the same table through its own repository format and its own
    1-NN surrogate) and ``yahpo-lcbench-3945`` (YAHPO Gym's lcbench surrogate; Syne Tune through
    yahpo-gym 1.0.2). Methods RS and ASHA (stopping type), 4 workers, the benchmarks' 7,200 s
    budget and result cap (LCBench 4,000, as Syne Tune's definition; both libraries apply it),
    seeds ``0 .. --seeds-1``. The two libraries draw different configs (different generators),
    so trial counts are compared as means over seeds.

    First, as a check that both sides answer the same curves: Syne Tune's 1-NN answers for
    ``--surrogate-configs`` random LCBench configs must be those of hpo_core's default 1-NN, row
    for row.

How
    Syne Tune runs in its own venv (``_syne_tune_sim.py``, which installs it and yahpo-gym if
    needed; the child ``_syne_tune_sim_runner.py`` configures the run as Syne Tune's simulator
    launcher does). hpo_core runs ``run_experiment`` in this process, into a temporary results
    folder, once with ``simulator_overheads="syne_tune"`` and once with the exact default.

Output
    A table (benchmark, method, mean trials started by Syne Tune, by hpo_core with Syne Tune's
    overheads, by hpo_core exact, the ratio of the first two) and as last line
    ``syne_tune_trial_count_deviation=<x>``: the largest ``|hpo_core / Syne Tune - 1|`` over
    benchmarks and methods (target <= 0.10). Exit status non-zero if a measurement failed, the
    1-NN answers differ or a deviation exceeds 10 %.

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/simulator_overheads.py [--seeds 8] [--surrogate-configs 200]

    About 6 minutes with the venv in place (Syne Tune's YAHPO ASHA runs take about 10 s each). Trial
    counts vary by about 10 % from seed to seed (Syne Tune's YAHPO ASHA: 760 to 998 over seeds
    0-7), so fewer seeds make the comparison noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _syne_tune_sim import check_lcbench_surrogate, run_syne_tune
from simulator_throughput import MeasurementError

from hpo_core.experiments.benchmarks import get_benchmark

BENCHMARKS = ("lcbench-blood-transfusion-service-center", "yahpo-lcbench-3945")
METHODS = ("RS", "ASHA")
N_WORKERS = 4
MAX_WALLCLOCK_TIME = 7_200.0
RANDOM_SEED = 2465497701
TOLERANCE = 0.10


def hpo_core_trials(benchmark: str, method: str, seed: int, overheads: str) -> int:
    from hpo_core.experiments.launcher import Experiment, run_experiment

    experiment = Experiment(experiment_tag="overheads", benchmark=benchmark, method=method,
                            seed=seed, random_seed=RANDOM_SEED, n_workers=N_WORKERS,
                            max_wallclock_time=MAX_WALLCLOCK_TIME,
                            simulator_overheads=overheads)
    with tempfile.TemporaryDirectory(prefix="overheads-") as folder:
        run = run_experiment(experiment, Path(folder))
        return int(json.loads((run / "metadata.json").read_text())["num_trials_started"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--surrogate-configs", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        surrogate = check_lcbench_surrogate(BENCHMARKS[0], num_configs=args.surrogate_configs)
        same = surrogate["same_row_as_hpo_core"]
        print(f"1-NN: Syne Tune's answer is hpo_core's row for {same}/{args.surrogate_configs} "
              "random LCBench configs", flush=True)
        rows: list[dict[str, Any]] = []
        for benchmark in BENCHMARKS:
            cap = get_benchmark(benchmark).max_num_evaluations
            for method in METHODS:
                counts: dict[str, list[int]] = {"syne-tune": [], "syne_tune": [], "none": []}
                for seed in range(args.seeds):
                    st = run_syne_tune(benchmark, method, seed, n_workers=N_WORKERS,
                                       max_wallclock_time=MAX_WALLCLOCK_TIME,
                                       max_num_evaluations=cap)
                    counts["syne-tune"].append(int(st["trials_started"]))
                    for overheads in ("syne_tune", "none"):
                        counts[overheads].append(
                            hpo_core_trials(benchmark, method, seed, overheads))
                mean = {k: sum(v) / len(v) for k, v in counts.items()}
                rows.append({"benchmark": benchmark, "method": method, **mean,
                             "ratio": mean["syne_tune"] / mean["syne-tune"], "counts": counts})
                print(f"  {benchmark} {method}: {counts}", flush=True)
    except MeasurementError as err:
        print(f"could not measure: {err}", file=sys.stderr)
        return 2
    header = ("benchmark", "method", "Syne Tune", "hpo_core (syne_tune)", "hpo_core (exact)",
              "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['benchmark']} | {r['method']} | {r['syne-tune']:.1f} | "
              f"{r['syne_tune']:.1f} | {r['none']:.1f} | {r['ratio']:.3f} |")
    deviation = max(abs(r["ratio"] - 1) for r in rows)
    ok = same == args.surrogate_configs and deviation <= TOLERANCE
    print(f"syne_tune_trial_count_deviation={deviation:.3f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
