"""Decision latency of hpo_core's GP methods against Syne Tune 0.13.0 and Optuna's GPSampler.

What is measured
    1. *Seconds per suggest* at ``--sizes`` observations (default 50, 100, 200): the time of one
       ``scheduler.suggest`` when the searcher holds that many observations and three pending
       configs (four workers), and has not fitted its model to them yet, so the time includes
       the refit (hyperparameter optimisation) and the acquisition search. Every library gets
       the same inputs, drawn from the real LCBench blood-transfusion table by
       ``_hpo_core_gp_runner.py observations``: for ``BO``, final ``val_accuracy`` values of
       distinct random rows; for the multi-fidelity methods (``MOBSTER`` …), values at rung
       levels 1, 3, 9, 27, 50 of random rows, each row reaching the next level with
       probability 1/3 (what stopping-type ASHA leaves), counted per (config, level). The three
       pending configs are further table rows, registered as the scheduler's
       ``points_to_evaluate`` and suggested before the observations are given. Each repeat
       builds a fresh scheduler; the fastest of ``--repeats`` counts.

       Syne Tune 0.13.0 runs its method of the same name (``_syne_tune_gp_runner.py``) with its
       defaults, observations given through ``searcher.on_trial_result(update=True)``. Optuna
       (``_optuna_runner.py``, ``GPSampler`` with its defaults) has no multi-fidelity
       counterpart, so it is timed for ``BO`` only: the observations are complete trials, the
       pending configs running trials, and the time is that of
       ``study.ask(fixed_distributions=...)``, which fits the GP and samples every parameter.

    2. *Wall time of one simulated run*: LCBench blood-transfusion curves, ``--budget``
       simulated seconds (default 5,400), 4 workers, seed 0 of the LCBench twin study's master
       seed; seconds of ``Tuner.run()`` in a fresh process. Syne Tune's run is cut after
       ``--wall-cap`` real seconds (default 2,400): its MOBSTER reaches only part of the budget
       in that time, so its time for the whole budget is *extrapolated* linearly from the
       simulated time reached (``seconds * budget / reached``). Syne Tune's decisions get slower
       as data accumulates, so the extrapolation underestimates its time and the ratio is a
       lower bound; the table marks extrapolated figures with ``~``. Syne Tune's simulator
       runs with a 0.1 s clock step (``--st-clock-step``), as in ``gp_quality.py``: with its
       default 5 s step, freed workers wait for the next step, and its runs do less work
       (fewer trials and results) than hpo_core's in the same simulated time.

Each implementation runs in its own venv (``benchmarks/.venvs/``; the Syne Tune venv is the
one ``simulator_throughput.py`` installs, plus ``autograd``; Optuna's holds ``optuna==5.0.0``,
a CPU build ``torch==2.13.0`` and ``greenlet``), created on first use. Syne Tune and Optuna run
with BLAS, OpenMP and torch on one thread, as hpo_core's GP runs its BLAS: on the 2-core
reference machine this is the fair setting (GP matrices of a few hundred rows gain nothing
from threads) and the one least disturbed by other load.

Methods are rows keyed by hpo_core's registry names; ``--methods`` chooses them (default
``BO,MOBSTER``). A method not in the registry yet is an error (exit status 2).

Output
    The tables and, as last line, ``gp_speedup_vs_syne_tune=<x>``: the smallest Syne Tune /
    hpo_core time ratio over all suggest sizes, methods and whole runs (preceded by
    ``gp_speedup_vs_optuna=<x>``, the smallest Optuna / hpo_core ratio). Targets: suggest at
    least 3x faster than Syne Tune, the whole MOBSTER run at least 10x, and no slower than
    Optuna. Exit status 1 if something could not be measured (the last line is then missing).

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/searcher_latency.py
    python benchmarks/searcher_latency.py --methods BO --sizes 50,100 --parts suggest
    python benchmarks/searcher_latency.py --wall-cap 300 --repeats 5
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _gp_bench import (
    OPTUNA_RUNNER,
    SYNE_TUNE_METHODS,
    SYNE_TUNE_RUNNER,
    SYNE_TUNE_VERSION,
    MeasurementError,
    check_table,
    ensure_optuna_venv,
    ensure_syne_tune_gp_venv,
    export_table,
    format_table,
    hyperband_type,
    require_methods,
    run_child,
    run_ours,
    single_threaded,
    syne_tune_env,
)

DEFAULT_METHODS = ("BO", "MOBSTER")
DEFAULT_SIZES = (50, 100, 200)
DEFAULT_RANDOM_SEED = 2465497701  # the LCBench twin study's master seed
NUM_PENDING = 3
SUGGEST_TIMEOUT_S = 3600.0
RUN_TIMEOUT_S = 4 * 3600.0


@dataclass(frozen=True)
class Row:
    part: str  # "suggest" or "run"
    method: str
    size: str  # observations, or the budget
    ours: float
    syne_tune: float | None
    optuna: float | None = None
    note: str = ""

    def ratio(self, other: float | None) -> float | None:
        return None if other is None else other / self.ours


def run_seed(random_seed: int, seed: int) -> int:
    """Scheduler seed of repetition ``seed``, as ``hpo_core.experiments.launcher.run_seed``."""
    return int(np.random.SeedSequence([random_seed, seed]).generate_state(1)[0])


def st_type(method: str) -> str:
    return "stopping" if method in ("RS", "BO") else hyperband_type(method)


def measure_suggest(
    method: str, size: int, args: argparse.Namespace, table: Path, st_python: Path,
    optuna_python: Path | None, tmp: Path,
) -> Row:
    kind = "final" if method == "BO" else "rungs"
    observations = tmp / f"observations-{kind}-{size}.json"
    if not observations.exists():
        run_ours(["observations", "--size", str(size), "--kind", kind, "--pending",
                  str(NUM_PENDING), "--seed", str(args.seed), "--observations",
                  str(observations)])
    common = ["--method", method, "--observations", str(observations),
              "--repeats", str(args.repeats), "--seed", str(args.seed)]
    ours = min(run_ours(["suggest", *common], timeout=SUGGEST_TIMEOUT_S)["seconds"])
    theirs = min(run_child(st_python, SYNE_TUNE_RUNNER,
                           ["suggest", "--table", str(table), "--type", st_type(method),
                            *common],
                           env=single_threaded(syne_tune_env()),
                           timeout=SUGGEST_TIMEOUT_S)["seconds"])
    optuna = None
    if optuna_python is not None and method == "BO":
        optuna = min(run_child(optuna_python, OPTUNA_RUNNER,
                               ["suggest", "--table", str(table), "--observations",
                                str(observations), "--repeats", str(args.optuna_repeats),
                                "--seed", str(args.seed)],
                               env=single_threaded(syne_tune_env()),
                               timeout=SUGGEST_TIMEOUT_S)["seconds"])
    return Row("suggest", method, str(size), ours, theirs, optuna)


def measure_run(method: str, args: argparse.Namespace, table: Path, st_python: Path) -> Row:
    seed = run_seed(DEFAULT_RANDOM_SEED, 0)
    common = ["--method", method, "--seed", str(seed), "--budget", str(args.budget),
              "--workers", "4"]
    ours = run_ours(["run", *common], timeout=RUN_TIMEOUT_S)
    st_args = ["run", "--table", str(table), "--type", st_type(method),
               "--tuner-sleep-time", str(args.st_clock_step), *common]
    if args.wall_cap is not None:
        st_args += ["--wall-cap", str(args.wall_cap)]
    theirs = run_child(st_python, SYNE_TUNE_RUNNER, st_args,
                       env=single_threaded(syne_tune_env()), timeout=RUN_TIMEOUT_S)
    reached = float(theirs["simulated_time_reached"])
    note = (f"hpo_core {ours['num_trials']} trials, {ours['num_results']} results; "
            f"syne-tune {theirs['num_trials']} trials, {theirs['num_results']} results")
    seconds = float(theirs["seconds"])
    if theirs["cut_by_wall_cap"]:
        if reached <= 0:
            raise MeasurementError(f"syne-tune {method}: no result within the wall-clock cap")
        note = (f"syne-tune cut after {seconds:.0f} s at {reached:.0f} of {args.budget:g} "
                f"simulated s, extrapolated x{args.budget / reached:.1f}; " + note)
        seconds *= args.budget / reached
    return Row("run", method, f"{args.budget:g} s", float(ours["seconds"]), seconds,
               note=("~" if theirs["cut_by_wall_cap"] else "") + note)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="comma-separated registry names (default: %(default)s)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="observation counts (default: %(default)s)")
    parser.add_argument("--parts", default="suggest,run",
                        help="suggest, run or both (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh schedulers per suggest measurement, fastest counts")
    parser.add_argument("--optuna-repeats", type=int, default=1,
                        help="the same for Optuna (default 1: it takes seconds per suggest)")
    parser.add_argument("--no-optuna", action="store_true", help="skip Optuna's GPSampler")
    parser.add_argument("--budget", type=float, default=5400.0,
                        help="simulated seconds of the whole run (default 5400)")
    parser.add_argument("--st-clock-step", type=float, default=0.1,
                        help="Syne Tune simulator's clock step for whole runs (its "
                        "tuner_sleep_time, default 5 there; see gp_quality.py; default here "
                        "%(default)s)")
    parser.add_argument("--wall-cap", type=float, default=2400.0,
                        help="real seconds after which Syne Tune's run is cut and "
                        "extrapolated (default %(default)s; 0 for none)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the observation sets and of the suggest schedulers")
    args = parser.parse_args(argv)
    args.method_list = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.part_list = [p.strip() for p in args.parts.split(",") if p.strip()]
    try:
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be integers, got {args.sizes!r}")
    if not args.method_list:
        parser.error("--methods must name at least one method")
    unsupported = [m for m in args.method_list if m not in SYNE_TUNE_METHODS or m in
                   ("RS", "ASHA")]
    if unsupported:
        parser.error(f"{unsupported} are not GP methods with a Syne Tune counterpart; "
                     f"choose from {[m for m in SYNE_TUNE_METHODS if m not in ('RS', 'ASHA')]}")
    if not args.part_list or set(args.part_list) - {"suggest", "run"}:
        parser.error("--parts must be suggest, run or both")
    if not args.size_list or min(args.size_list) < 10:
        parser.error("--sizes must be integers >= 10")
    if args.repeats < 1 or args.optuna_repeats < 1:
        parser.error("--repeats and --optuna-repeats must be >= 1")
    if args.wall_cap is not None and args.wall_cap <= 0:
        args.wall_cap = None
    return args


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_methods(args.method_list)
    failures: list[str] = []
    table, _ = export_table()
    st_python = ensure_syne_tune_gp_venv()
    print(check_table(st_python, table), flush=True)
    optuna_python = None
    if "suggest" in args.part_list and "BO" in args.method_list and not args.no_optuna:
        try:
            optuna_python = ensure_optuna_venv()
        except MeasurementError as err:
            failures.append(f"optuna venv: {err}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="searcher-latency-") as tmp:
        plan = []
        if "suggest" in args.part_list:
            plan += [("suggest", m, n) for m in args.method_list for n in args.size_list]
        if "run" in args.part_list:
            plan += [("run", m, 0) for m in args.method_list]
        for i, (part, method, size) in enumerate(plan, start=1):
            what = f"{size} observations" if part == "suggest" else f"{args.budget:g} s run"
            prefix = f"[{i}/{len(plan)}] {method} {what}:"
            try:
                if part == "suggest":
                    row = measure_suggest(method, size, args, table, st_python, optuna_python,
                                          Path(tmp))
                else:
                    row = measure_run(method, args, table, st_python)
            except MeasurementError as err:
                failures.append(f"{method} {what}: {err}")
                print(f"{prefix} FAILED", flush=True)
                continue
            rows.append(row)
            print(f"{prefix} hpo_core {_fmt(row.ours)} s, syne-tune {_fmt(row.syne_tune)} s"
                  + (f", optuna {_fmt(row.optuna)} s" if row.optuna is not None else ""),
                  flush=True)

    suggest_rows = [r for r in rows if r.part == "suggest"]
    if suggest_rows:
        print(f"\nSeconds per suggest (fit + acquisition; {NUM_PENDING} pending; fastest of "
              f"{args.repeats}, Optuna of {args.optuna_repeats}), LCBench blood-transfusion "
              "observations")
        print(format_table(
            ["method", "observations", "hpo_core s", f"syne-tune {SYNE_TUNE_VERSION} s",
             "syne-tune/hpo_core", "optuna GPSampler s", "optuna/hpo_core"],
            [[r.method, r.size, _fmt(r.ours), _fmt(r.syne_tune), _ratio(r.ratio(r.syne_tune)),
              _fmt(r.optuna), _ratio(r.ratio(r.optuna))] for r in suggest_rows], left=2))
    run_rows = [r for r in rows if r.part == "run"]
    if run_rows:
        print(f"\nWall seconds of one simulated run (LCBench blood-transfusion, {args.budget:g} "
              "simulated s, 4 workers; ~ = extrapolated from a run cut by --wall-cap)")
        print(format_table(
            ["method", "budget", "hpo_core s", f"syne-tune {SYNE_TUNE_VERSION} s",
             "syne-tune/hpo_core", "notes"],
            [[r.method, r.size, _fmt(r.ours),
              ("~" if r.note.startswith("~") else "") + _fmt(r.syne_tune),
              _ratio(r.ratio(r.syne_tune)), r.note.lstrip("~")] for r in run_rows], left=2))

    expected = len(args.method_list) * (
        len(args.size_list) * ("suggest" in args.part_list) + ("run" in args.part_list))
    if len(rows) != expected and not failures:
        failures.append(f"only {len(rows)} of {expected} measurements")
    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
        return 1
    optuna_ratios = [r.ratio(r.optuna) for r in rows if r.optuna is not None]
    if optuna_ratios:
        print(f"gp_speedup_vs_optuna={min(x for x in optuna_ratios if x is not None):.1f}")
    st_ratios = [r.ratio(r.syne_tune) for r in rows]
    print(f"gp_speedup_vs_syne_tune={min(x for x in st_ratios if x is not None):.1f}")
    return 0 if all(math.isfinite(x) for x in st_ratios if x is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
