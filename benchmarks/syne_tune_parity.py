"""Decision parity with Syne Tune 0.13.0: both libraries' Hyperband schedulers in lockstep.

Hundreds of random cases (type, mode, max_t, grace_period, reduction_factor including
non-integer ones and max_t not a power of it, brackets, shared or per-bracket rung systems,
workers, metric values with and without ties) plus hand-made edge cases are fed to hpo_core's
``FIFOScheduler`` and ``HyperbandScheduler`` and to Syne Tune 0.13.0's (installed by this script in
``benchmarks/.venvs/syne-tune-0.13.0``), through the same driver (``_parity_driver.py``): the
same suggest / report events, the same metric values, the same bracket at every suggest. A case
agrees if every suggestion (new trial or which trial to resume) and every decision (CONTINUE,
PAUSE, STOP) is the same.

Syne Tune's PASHA visits pairs of trials in the iteration order of Python sets of trial-id
strings, which depends on ``PYTHONHASHSEED``: its own decisions differ between processes in some
cases. Syne Tune therefore runs under several hash seeds; a case on which they disagree is
*ambiguous* and agrees if hpo_core matches one of them.

Then a small study run by hpo_core (RS, ASHA-PROM, PASHA x 2 seeds on the synthetic benchmark)
is exported with ``hpo-core export-syne-tune`` and read with Syne Tune's own
``load_experiment`` (``creation_date``, ``metric_names``, ``metric_mode``, ``best_config``,
``plot``), ``get_metadata``, ``load_experiments_df`` and ``ComparativeResults`` (plotted); and
a small study Syne Tune runs itself is imported with ``import-syne-tune``, aggregated and
plotted by hpo_core.

Prints the agreement per scheduler type
(all cases, and the cases where Syne Tune is deterministic) and, for disagreeing cases, the
first difference; the last line is ``syne_tune_decision_agreement=<fraction>``, the smallest
agreement over the types on the cases where Syne Tune is deterministic. Exits non-zero if it
could not measure.

    python benchmarks/syne_tune_parity.py [--cases 300] [--results 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from simulator_throughput import (
    BENCH_DIR,
    MeasurementError,
    ensure_syne_tune_venv,
    hpo_core_env,
    run_child,
    syne_tune_env,
)

from hpo_core.schedulers.rungs import geometric_rung_levels
from hpo_core.schedulers.sync_brackets import geometric_rung_systems

DRIVER = BENCH_DIR / "_parity_driver.py"
RESULTS_CHECK = BENCH_DIR / "_syne_tune_results_check.py"
VERSION = "0.13.0"
TYPES = ("fifo", "stopping", "promotion", "pasha", "synchb", "dehb")
REDUCTION_FACTORS = (2, 3, 4, 2.5, 3.3)
#: PYTHONHASHSEED values Syne Tune runs under (see the module docstring).
HASH_SEEDS = ("0", "1", "2", "3", "4", "5", "6", "7")

#: Hand-made cases: Syne Tune's minimal rung-rule example (2, 1, 4, then 1.5 at rung 1: the
#: fourth trial continues), ties at a rung, a max_t that is not a power of the reduction factor.
EDGE_CASES: list[dict[str, Any]] = [
    {"type": "stopping", "mode": "min", "max_t": 81, "grace_period": 1, "reduction_factor": 3,
     "brackets": 1, "rung_system_per_bracket": False, "n_workers": 4, "num_results": 4,
     "decimals": None, "values": [2.0, 1.0, 4.0, 1.5]},
    {"type": "promotion", "mode": "min", "max_t": 27, "grace_period": 1, "reduction_factor": 3,
     "brackets": 1, "rung_system_per_bracket": False, "n_workers": 4, "num_results": 60,
     "decimals": 1},
    {"type": "promotion", "mode": "max", "max_t": 56, "grace_period": 1, "reduction_factor": 3,
     "brackets": 4, "rung_system_per_bracket": True, "n_workers": 3, "num_results": 200,
     "decimals": 1},
    {"type": "stopping", "mode": "max", "max_t": 100, "grace_period": 2, "reduction_factor": 2.5,
     "brackets": 5, "rung_system_per_bracket": False, "n_workers": 8, "num_results": 300,
     "decimals": 2},
]


def random_cases(num: int, results: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(num):
        kind = TYPES[i % len(TYPES)]
        max_t = int(rng.choice([3, 9, 10, 27, 40, 56, 81, 100]))
        grace = int(rng.choice([1, 1, 1, 2, 3]))
        if grace >= max_t:
            grace = 1
        factor = REDUCTION_FACTORS[int(rng.integers(len(REDUCTION_FACTORS)))]
        levels = geometric_rung_levels(grace_period=grace, reduction_factor=factor, max_t=max_t)
        if kind == "pasha" and len(levels) < 2:
            max_t, grace = 27, 1
            levels = geometric_rung_levels(grace_period=1, reduction_factor=factor, max_t=27)
        brackets: int | None = 1 if kind in ("pasha", "fifo") else int(
            rng.integers(1, min(6, len(levels) + 1) + 1)
        )
        if kind in ("synchb", "dehb"):
            # Syne Tune's DEHB fails with fewer brackets than rung levels (its parent slots)
            brackets = None if kind == "dehb" else [None, 1, 2, 3, 5][int(rng.integers(5))]
            try:
                geometric_rung_systems(grace_period=grace, max_t=max_t,
                                       reduction_factor=factor, brackets=brackets)
            except ValueError:  # rounded levels coincide: both libraries refuse
                factor = 3

        cases.append({
            "type": kind, "mode": str(rng.choice(["min", "max"])), "max_t": max_t,
            "grace_period": grace, "reduction_factor": factor, "brackets": brackets,
            "rung_system_per_bracket": bool(rng.random() < 0.5) and (brackets or 1) > 1,
            "n_workers": int(rng.integers(1, 9)), "num_results": results,
            "decimals": [None, 1, 2][int(rng.integers(3))],
            "seed": int(rng.integers(2**31)),
        })
    return cases


def first_difference(ours: list[Any], theirs: list[Any]) -> str | None:
    for index, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return f"event {index}: hpo_core {a} vs Syne Tune {b}"
    if len(ours) != len(theirs):
        return f"lengths {len(ours)} vs {len(theirs)}"
    return None


def check_results_files(st_python: Path) -> dict[str, Any]:
    """A small hpo_core study, exported, read by Syne Tune's result tools."""
    import subprocess

    if subprocess.run([str(st_python), "-c", "import matplotlib"], env=syne_tune_env(),
                      capture_output=True, check=False).returncode != 0:
        subprocess.run([str(st_python), "-m", "pip", "install", "--quiet", "matplotlib<3.9",
                        "numpy<1.24"],  # matplotlib must not lift Syne Tune's numpy pin
                       env=syne_tune_env(), check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="parity-results-") as tmp:
        results, exported = Path(tmp) / "results", Path(tmp) / "syne-tune"
        from hpo_core.cli import main as hpo_core_cli

        for argv in (["run", "--experiment_tag", "parity", "--benchmark", "synthetic",
                      "--method", "RS", "--method", "ASHA-PROM", "--method", "PASHA",
                      "--num_seeds", "2", "--random_seed", "5", "--max_wallclock_time", "600",
                      "--results_dir", str(results)],
                     ["export-syne-tune", str(results / "parity"), str(exported)]):
            if hpo_core_cli(argv) != 0:
                raise MeasurementError(f"hpo-core {' '.join(argv)} failed")
        written = Path(tmp) / "written"
        checked = run_child(st_python, RESULTS_CHECK,
                            ["--root", str(exported), "--write", str(written)],
                            env=syne_tune_env())
        # The reverse: a study Syne Tune wrote itself, imported and aggregated by hpo_core.
        from hpo_core.experiments.analysis import load_runs, plot_benchmark
        from hpo_core.experiments.syne_tune_format import import_syne_tune

        runs = import_syne_tune(written, Path(tmp) / "imported", suffix="-ST")
        table = load_runs(runs)
        plot_benchmark(table, Path(tmp) / "imported-best-so-far.png", title="imported")
        checked["imported"] = {"runs": len(runs), "rows": len(table),
                               "methods": sorted(set(table["method"]))}
        return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="random cases (default 300)")
    parser.add_argument("--results", type=int, default=300,
                        help="reported results per random case (default 300)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--show", type=int, default=3, help="disagreements shown per type")
    args = parser.parse_args(argv)
    try:
        st_python = ensure_syne_tune_venv(VERSION)
        cases = [{**c, "seed": c.get("seed", 1000 + i)} for i, c in enumerate(EDGE_CASES)]
        cases += random_cases(args.cases, args.results, args.seed)
        with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
            path = Path(tmp) / "cases.json"
            path.write_text(json.dumps(cases))
            common = ["--cases", str(path)]
            files = check_results_files(st_python)
            ours = run_child(sys.executable, DRIVER, ["--library", "hpo_core", *common],
                             env=hpo_core_env())["traces"]
            runs = [
                run_child(st_python, DRIVER, ["--library", "syne_tune", *common],
                          env={**syne_tune_env(), "PYTHONHASHSEED": seed})["traces"]
                for seed in HASH_SEEDS
            ]
    except MeasurementError as err:
        print(f"could not measure: {err}", file=sys.stderr)
        return 1
    agree: dict[str, list[bool]] = defaultdict(list)
    agree_determined: dict[str, list[bool]] = defaultdict(list)
    shown: dict[str, int] = defaultdict(int)
    for case, a, *theirs in zip(cases, ours, *runs, strict=True):
        determined = all(t == theirs[0] for t in theirs)
        matches = a in theirs
        agree[case["type"]].append(matches)
        if determined:
            agree_determined[case["type"]].append(matches)
        difference = None if matches else first_difference(a, theirs[0])
        if difference is not None and shown[case["type"]] < args.show:
            shown[case["type"]] += 1
            settings = {k: v for k, v in case.items() if k not in ("values", "num_results")}
            print(f"disagreement ({case['type']}): {settings}\n  {difference}")
    print(f"\n{'type':<10} {'cases':>6} {'agree':>6} {'fraction':>9}   "
          f"{'deterministic':>13} {'agree':>6} {'fraction':>9}")
    for kind in TYPES:
        flags, sure = agree[kind], agree_determined[kind]
        print(f"{kind:<10} {len(flags):>6} {sum(flags):>6} {sum(flags) / len(flags):>9.3f}   "
              f"{len(sure):>13} {sum(sure):>6} {sum(sure) / max(len(sure), 1):>9.3f}")
    print(f"\nSyne Tune {VERSION} read {len(files['runs'])} exported runs: load_experiment "
          f"(creation_date, metric_names, metric_mode, best_config, plot) on each, get_metadata "
          f"found {files['num_metadata']}, load_experiments_df {files['df_rows']} rows of "
          f"algorithms {files['df_algorithms']}")
    print(f"  ComparativeResults plotted {len(files['comparative_plots'])} benchmark(s); "
          f"a study Syne Tune wrote itself: {files['imported']['runs']} runs imported, "
          f"{files['imported']['rows']} rows aggregated and plotted as "
          f"{files['imported']['methods']}")
    for run in files["runs"][:2]:
        config = {k.removeprefix("config_"): v for k, v in run["best_config"].items()
                  if k.startswith("config_")}
        print(f"  {run['tuner_name']}: {run['metric_names']} {run['metric_mode']}, "
              f"best config {config}")
    worst = min(sum(flags) / len(flags) for flags in agree_determined.values() if flags)
    print(f"syne_tune_decision_agreement={worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
