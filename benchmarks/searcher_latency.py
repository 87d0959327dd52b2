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
    The tables, each target and whether it is met, and, as last line,
    ``gp_speedup_vs_syne_tune=<x>``: the smallest Syne Tune / hpo_core time ratio over all
    suggest sizes, methods and whole runs (preceded by ``gp_speedup_vs_optuna=<x>``, the
    smallest Optuna / hpo_core ratio). Targets: every suggest at least 5x faster than Syne
    Tune's, the whole BO run at least 20x, the whole MOBSTER run at least 30x, and no suggest
    slower than Optuna's. Exit status 1 with the reasons if something could not be measured (a
    venv that cannot be installed, a child that fails): the last line is then missing.

Caching
    Syne Tune's and Optuna's timings do not depend on hpo_core's code, and Syne Tune's whole
    MOBSTER run takes most of an hour: each of their measurements is kept as JSON under
    ``benchmarks/.cache/searcher_latency/``, keyed by library, version, method and inputs
    (observation set, budget, seed, clock step, wall-clock cap, table), with when it was taken
    and the load average around it (shown in the notes). hpo_core is measured on every run.
    ``--refresh`` measures the references again; ``--references-only`` fills the cache without
    measuring hpo_core (e.g. in the background).

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/searcher_latency.py
    python benchmarks/searcher_latency.py --methods BO --sizes 50,100 --parts suggest
    python benchmarks/searcher_latency.py --wall-cap 300 --repeats 5
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _gp_bench import (
    CACHE_DIR,
    OPTUNA_REQUIREMENTS,
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
#: Targets (Syne Tune or Optuna time / hpo_core time), see the module docstring.
SUGGEST_TARGET, BO_RUN_TARGET, MOBSTER_RUN_TARGET, OPTUNA_TARGET = 5.0, 20.0, 30.0, 1.0
#: Where the reference libraries' timings are kept (see :func:`cached_reference`).
REFERENCE_CACHE = CACHE_DIR / "searcher_latency"
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


def cached_reference(key: dict[str, Any], measure: Callable[[], dict[str, Any]],
                     args: argparse.Namespace) -> dict[str, Any]:
    """A reference library's measurement ``measure()``, kept under ``benchmarks/.cache/``.

    Syne Tune's and Optuna's timings do not depend on hpo_core's code: they are measured once
    per ``key`` (library, version, what is measured and its inputs) and reused (``--refresh``
    measures again). Each entry records when it was measured and the load average around it.
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    path = REFERENCE_CACHE / f"{key['library']}-{key['part']}-{key['method']}-{digest}.json"
    if path.exists() and not args.refresh:
        entry = json.loads(path.read_text())
        entry["result"]["cached"] = entry["measured"]
        return dict(entry["result"])
    load_before = os.getloadavg()[0]
    result = measure()
    entry = {"key": key, "result": result, "measured": {
        "at": datetime.datetime.now().isoformat(timespec="seconds"),
        "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(entry))
    partial.replace(path)
    return result


def _cache_note(library: str, result: dict[str, Any]) -> str:
    cached = result.get("cached")
    if not cached:
        return ""
    return (f"{library} cached from {cached['at']} (load avg {cached['load_average_before']:.1f}"
            f"-{cached['load_average_after']:.1f})")


def st_type(method: str) -> str:
    return "stopping" if method in ("RS", "BO") else hyperband_type(method)


def measure_suggest(
    method: str, size: int, args: argparse.Namespace, table: Path, table_digest: str,
    st_python: Path, optuna_python: Path | None, tmp: Path,
) -> Row:
    kind = "final" if method == "BO" else "rungs"
    observations = tmp / f"observations-{kind}-{size}.json"
    if not observations.exists():
        run_ours(["observations", "--size", str(size), "--kind", kind, "--pending",
                  str(NUM_PENDING), "--seed", str(args.seed), "--observations",
                  str(observations)])
    common = ["--method", method, "--observations", str(observations),
              "--repeats", str(args.repeats), "--seed", str(args.seed)]
    ours = (math.nan if args.references_only else
            min(run_ours(["suggest", *common], timeout=SUGGEST_TIMEOUT_S)["seconds"]))
    inputs = {"part": "suggest", "method": method, "kind": kind, "size": size,
              "pending": NUM_PENDING, "seed": args.seed, "table": table_digest}
    st_result = cached_reference(
        {"library": "syne-tune", "version": SYNE_TUNE_VERSION, "type": st_type(method),
         "repeats": args.repeats, **inputs},
        lambda: run_child(st_python, SYNE_TUNE_RUNNER,
                          ["suggest", "--table", str(table), "--type", st_type(method), *common],
                          env=single_threaded(syne_tune_env()), timeout=SUGGEST_TIMEOUT_S),
        args)
    notes = [_cache_note("syne-tune", st_result)]
    optuna = None
    if optuna_python is not None and method == "BO":
        optuna_result = cached_reference(
            {"library": "optuna", "requirements": OPTUNA_REQUIREMENTS,
             "repeats": args.optuna_repeats, **inputs},
            lambda: run_child(optuna_python, OPTUNA_RUNNER,
                              ["suggest", "--table", str(table), "--observations",
                               str(observations), "--repeats", str(args.optuna_repeats),
                               "--seed", str(args.seed)],
                              env=single_threaded(syne_tune_env()), timeout=SUGGEST_TIMEOUT_S),
            args)
        optuna = min(optuna_result["seconds"])
        notes.append(_cache_note("optuna", optuna_result))
    return Row("suggest", method, str(size), ours, min(st_result["seconds"]), optuna,
               note="; ".join(n for n in notes if n))


def measure_run(method: str, args: argparse.Namespace, table: Path, table_digest: str,
                st_python: Path) -> Row:
    seed = run_seed(DEFAULT_RANDOM_SEED, 0)
    common = ["--method", method, "--seed", str(seed), "--budget", str(args.budget),
              "--workers", "4"]
    ours: dict[str, Any] = ({"seconds": math.nan, "num_trials": "-", "num_results": "-"}
                            if args.references_only else
                            run_ours(["run", *common], timeout=RUN_TIMEOUT_S))
    st_args = ["run", "--table", str(table), "--type", st_type(method),
               "--tuner-sleep-time", str(args.st_clock_step), *common]
    if args.wall_cap is not None:
        st_args += ["--wall-cap", str(args.wall_cap)]
    theirs = cached_reference(
        {"library": "syne-tune", "version": SYNE_TUNE_VERSION, "part": "run", "method": method,
         "type": st_type(method), "seed": seed, "budget": args.budget, "workers": 4,
         "clock_step": args.st_clock_step, "wall_cap": args.wall_cap, "table": table_digest},
        lambda: run_child(st_python, SYNE_TUNE_RUNNER, st_args,
                          env=single_threaded(syne_tune_env()), timeout=RUN_TIMEOUT_S),
        args)
    reached = float(theirs["simulated_time_reached"])
    note = (f"hpo_core {ours['num_trials']} trials, {ours['num_results']} results; "
            f"syne-tune {theirs['num_trials']} trials, {theirs['num_results']} results")
    cache_note = _cache_note("syne-tune", theirs)
    if cache_note:
        note += "; " + cache_note
    seconds = float(theirs["seconds"])
    cpu = theirs.get("cpu_seconds")
    if theirs["cut_by_wall_cap"]:
        if reached <= 0:
            raise MeasurementError(f"syne-tune {method}: no result within the wall-clock cap")
        note = (f"syne-tune cut after {seconds:.0f} s at {reached:.0f} of {args.budget:g} "
                f"simulated s, extrapolated x{args.budget / reached:.1f}; " + note)
        seconds *= args.budget / reached
        cpu = None if cpu is None else cpu * args.budget / reached
    if cpu is not None and ours.get("cpu_seconds"):
        # CPU seconds are less disturbed by other load on a shared machine than wall seconds
        note += (f"; CPU s syne-tune {cpu:.0f} / hpo_core {ours['cpu_seconds']:.1f} = "
                 f"{cpu / ours['cpu_seconds']:.1f}x")
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
    parser.add_argument("--references-only", action="store_true",
                        help="only measure (and cache) Syne Tune and Optuna, e.g. in the "
                        "background before hpo_core is measured")
    parser.add_argument("--refresh", action="store_true",
                        help="measure Syne Tune and Optuna again instead of reusing their "
                        "cached timings")
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


def _targets(rows: list[Row]) -> list[tuple[str, float, list[float]]]:
    """(target, required ratio, measured ratios) of each target of the module docstring."""
    def ratios(part: str, method: str | None, optuna: bool = False) -> list[float]:
        values = [r.ratio(r.optuna if optuna else r.syne_tune) for r in rows
                  if r.part == part and (method is None or r.method == method)]
        return [v for v in values if v is not None]

    return [("suggest vs Syne Tune", SUGGEST_TARGET, ratios("suggest", None)),
            ("BO run vs Syne Tune", BO_RUN_TARGET, ratios("run", "BO")),
            ("MOBSTER run vs Syne Tune", MOBSTER_RUN_TARGET, ratios("run", "MOBSTER")),
            ("suggest vs Optuna", OPTUNA_TARGET, ratios("suggest", None, optuna=True))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_methods(args.method_list)
    failures: list[str] = []
    try:
        table, table_digest = export_table()
        st_python = ensure_syne_tune_gp_venv()
        print(check_table(st_python, table), flush=True)
    except MeasurementError as err:  # nothing can be compared without these
        print(f"\nFAILED:\n- setup: {err}")
        return 1
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
                    row = measure_suggest(method, size, args, table, table_digest, st_python,
                                          optuna_python, Path(tmp))
                else:
                    row = measure_run(method, args, table, table_digest, st_python)
            except MeasurementError as err:
                failures.append(f"{method} {what}: {err}")
                print(f"{prefix} FAILED", flush=True)
                continue
            rows.append(row)
            print(f"{prefix} hpo_core {_fmt(row.ours)} s, syne-tune {_fmt(row.syne_tune)} s"
                  + (f", optuna {_fmt(row.optuna)} s" if row.optuna is not None else ""),
                  flush=True)

    if args.references_only:
        print(f"\nreference timings cached under {REFERENCE_CACHE}"
              + ("" if not failures else "; FAILED:\n" + "\n".join(f"- {f}" for f in failures)))
        return 1 if failures else 0
    suggest_rows = [r for r in rows if r.part == "suggest"]
    if suggest_rows:
        print(f"\nSeconds per suggest (fit + acquisition; {NUM_PENDING} pending; fastest of "
              f"{args.repeats}, Optuna of {args.optuna_repeats}), LCBench blood-transfusion "
              "observations")
        print(format_table(
            ["method", "observations", "hpo_core s", f"syne-tune {SYNE_TUNE_VERSION} s",
             "syne-tune/hpo_core", "optuna GPSampler s", "optuna/hpo_core", "notes"],
            [[r.method, r.size, _fmt(r.ours), _fmt(r.syne_tune), _ratio(r.ratio(r.syne_tune)),
              _fmt(r.optuna), _ratio(r.ratio(r.optuna)), r.note] for r in suggest_rows],
            left=2))
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
    print("\nTargets:")
    for name, target, ratios in _targets(rows):
        if ratios:
            worst = min(ratios)
            print(f"- {name}: >= {target:g}x: {'met' if worst >= target else 'MISSED'} "
                  f"(min {worst:.1f}x)")
    optuna_ratios = [r.ratio(r.optuna) for r in rows if r.optuna is not None]
    if optuna_ratios:
        print(f"gp_speedup_vs_optuna={min(x for x in optuna_ratios if x is not None):.1f}")
    st_ratios = [r.ratio(r.syne_tune) for r in rows]
    print(f"gp_speedup_vs_syne_tune={min(x for x in st_ratios if x is not None):.1f}")
    return 0 if all(math.isfinite(x) for x in st_ratios if x is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
