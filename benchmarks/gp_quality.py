"""Quality of hpo_core's GP methods against Syne Tune 0.13.0's, paired over seeds.

What is compared
    Each method is a row keyed by its name in hpo_core's registry (``BO``, ``MOBSTER-JOINT``,
    ``MOBSTER-INDEP``, later ``HYPERTUNE-INDEP``, ``HYPERTUNE-JOINT``); Syne Tune 0.13.0 runs its
    method of the same name (``_syne_tune_gp_runner.py``: ``BayesianOptimization``,
    ``MOBSTER`` with ``model="gp_multitask"`` / ``"gp_independent"``, ``HyperTune``), with its
    own defaults and the Hyperband ``type`` of hpo_core's registry entry. A method not in
    hpo_core's registry yet is an error (exit status 2), not a skipped row; ``--methods``
    chooses the rows.

    Both run on the real LCBench curves of blood-transfusion-service-center (hpo_core's table;
    configs off the table answered by the nearest tabulated one, as hpo_core's benchmark does;
    Syne Tune reads an export of the same table, checked to give identical curves), metric
    ``val_accuracy`` (maximised), 4 workers, ``--budget`` simulated seconds, on their own
    simulator backends. Repetition ``s`` uses the scheduler seed hpo_core's launcher derives
    from ``--random-seed`` and ``s`` in both libraries (the random streams still differ: the
    pairing is by seed index, as in a study).

    Syne Tune's simulator advances its clock in steps: whenever all workers are busy its tuner
    "sleeps" and the simulated time jumps by ``tuner_sleep_time`` (5 s by default) before
    events are looked at again, so a worker freed by a pause, a stop or a completion waits until
    the next step. On these curves (an epoch takes about 1.4 s, the first evaluation none)
    that costs promotion-type schedulers about 40 % of their results (ASHA-PROM, 600 s, seed
    1: 1,103 results with 5 s steps, 1,909 with 0.1 s; hpo_core 1,985), which compares the
    simulators rather than the methods. Syne Tune therefore runs with ``--st-clock-step``
    (default 0.1 s); ``--st-clock-step 5`` gives its default.

Figures
    Final best ``val_accuracy`` per seed (best over all results reported up to the budget),
    the paired difference hpo_core - Syne Tune: mean and 95 % confidence interval (t
    distribution, n - 1 degrees of freedom), and the verdict ``same`` (the interval contains
    0), ``better`` or ``worse`` (it lies above or below 0). A method counts as *within* Syne
    Tune's paired CI when it is not ``worse``.

    Anytime performance of hpo_core's MOBSTER variants against its ASHA (``--anytime-baseline``)
    on the same seeds: mean best-so-far at 1/8, 1/4, 1/2 and all of the budget, and the area
    under the best-so-far curve (its mean over 100 equally spaced times up to the budget, each
    seed from its first result on), with the paired difference of areas and its 95 % CI.

Caching
    Syne Tune's GP runs take minutes each. Every finished run (of either library) is kept as
    JSON under ``benchmarks/.cache/gp_quality/``; Syne Tune's keyed by method, seed, budget,
    workers, options and table, hpo_core's additionally by a hash of the ``hpo_core`` sources,
    so a rerun only computes what changed. ``--refresh`` ignores the cache. ``--sides
    syne-tune`` fills Syne Tune's cache only (e.g. in the background); ``--jobs`` runs that
    many runs at once.

Output
    The tables and, last, ``gp_quality_methods_within_ci=<k>/<n>``. Exit status 1 if a run
    failed (the line is then not printed).

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/gp_quality.py                       # BO, MOBSTER-JOINT, MOBSTER-INDEP
    python benchmarks/gp_quality.py --methods BO --seeds 10 --budget 5400 --jobs 2
    python benchmarks/gp_quality.py --sides syne-tune --jobs 1 &   # fill the cache
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _gp_bench import (
    CACHE_DIR,
    SYNE_TUNE_METHODS,
    SYNE_TUNE_RUNNER,
    SYNE_TUNE_VERSION,
    MeasurementError,
    check_table,
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

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_METHODS = ("BO", "MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP")
#: Syne Tune's simulated clock step (``tuner_sleep_time``), and the one used here by default.
SYNE_TUNE_CLOCK_STEP = 5.0
DEFAULT_CLOCK_STEP = 0.1
DEFAULT_RANDOM_SEED = 2465497701  # the LCBench twin study's master seed
RUN_TIMEOUT_S = 6 * 3600.0
ANYTIME_FRACTIONS = (0.125, 0.25, 0.5, 1.0)
ANYTIME_GRID = 100


@dataclass(frozen=True)
class Job:
    side: str  # "hpo_core" or "syne-tune"
    method: str
    seed_index: int
    scheduler_seed: int


def run_seed(random_seed: int, seed: int) -> int:
    """Scheduler seed of repetition ``seed``, as ``hpo_core.experiments.launcher.run_seed``."""
    return int(np.random.SeedSequence([random_seed, seed]).generate_state(1)[0])


def source_hash() -> str:
    """Hash of hpo_core's Python sources: hpo_core's cached runs are valid for these only."""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "hpo_core").rglob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def st_type(method: str) -> str | None:
    """Hyperband type Syne Tune runs ``method`` with: hpo_core's (``"stopping"`` while the
    method has not landed in hpo_core, which only ``--sides syne-tune`` allows)."""
    if method in ("RS", "BO"):
        return None
    try:
        from hpo_core.experiments.methods import METHODS
    except ImportError:  # hpo_core mid-edit: only reachable with --sides syne-tune
        return "stopping"
    return hyperband_type(method) if method in METHODS else "stopping"


def cache_path(job: Job, args: argparse.Namespace, table_digest: str, sources: str) -> Path:
    key = {"method": job.method, "seed": job.scheduler_seed, "budget": args.budget,
           "workers": args.workers, "table": table_digest}
    if job.side == "syne-tune":
        key |= {"version": SYNE_TUNE_VERSION, "type": st_type(job.method)}
        if args.st_clock_step != SYNE_TUNE_CLOCK_STEP:
            key |= {"tuner_sleep_time": args.st_clock_step}
        folder = CACHE_DIR / "gp_quality" / f"syne-tune-{SYNE_TUNE_VERSION}"
    else:
        key |= {"sources": sources}
        folder = CACHE_DIR / "gp_quality" / "hpo_core"
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return folder / f"{job.method}-b{args.budget:g}-s{job.seed_index}-{digest}.json"


def run_job(job: Job, args: argparse.Namespace, st_python: Path | None, table: Path,
            path: Path) -> dict[str, Any]:
    common = ["--method", job.method, "--seed", str(job.scheduler_seed),
              "--budget", str(args.budget), "--workers", str(args.workers)]
    if job.side == "syne-tune":
        assert st_python is not None
        kind = st_type(job.method) or "stopping"
        result = run_child(st_python, SYNE_TUNE_RUNNER,
                           ["run", "--table", str(table), "--type", kind,
                            "--tuner-sleep-time", str(args.st_clock_step), *common],
                           env=single_threaded(syne_tune_env()), timeout=RUN_TIMEOUT_S)
    else:
        result = run_ours(["run", *common], timeout=RUN_TIMEOUT_S)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(result))
    partial.replace(path)
    return result


def best_so_far(result: dict[str, Any], grid: np.ndarray) -> np.ndarray:
    """Best value reported by each time of ``grid`` (NaN before the first result)."""
    times = np.asarray(result["times"], dtype=float)
    values = np.asarray(result["values"], dtype=float)
    order = np.argsort(times, kind="stable")
    times, best = times[order], np.fmax.accumulate(values[order])
    idx = np.searchsorted(times, grid, side="right") - 1
    return np.where(idx >= 0, best[np.maximum(idx, 0)], np.nan)


def final_best(result: dict[str, Any], budget: float) -> float:
    return float(best_so_far(result, np.array([budget]))[0])


def paired_ci(diff: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``diff`` and its 95 % confidence interval (t distribution)."""
    from scipy.stats import t

    n = len(diff)
    mean = float(np.mean(diff))
    if n < 2:
        return mean, -math.inf, math.inf
    half = float(t.ppf(0.975, n - 1) * np.std(diff, ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def verdict(low: float, high: float) -> str:
    return "better" if low > 0 else "worse" if high < 0 else "same"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="comma-separated registry names (default: %(default)s)")
    parser.add_argument("--anytime-baseline", default="ASHA",
                        help="hpo_core method the MOBSTER/Hyper-Tune rows' anytime curves are "
                        "compared with ('' for none; default %(default)s)")
    parser.add_argument("--seeds", type=int, default=10, help="repetitions (default 10)")
    parser.add_argument("--budget", type=float, default=5400.0,
                        help="simulated seconds per run (default 5400)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    parser.add_argument("--random-seed", type=int, default=DEFAULT_RANDOM_SEED)
    parser.add_argument("--sides", default="hpo_core,syne-tune",
                        help="which libraries to run: hpo_core, syne-tune or both")
    parser.add_argument("--refresh", action="store_true", help="ignore cached runs")
    parser.add_argument("--st-clock-step", type=float, default=DEFAULT_CLOCK_STEP,
                        help="Syne Tune simulator's clock step in simulated seconds (its "
                        "tuner_sleep_time; Syne Tune's default is 5; default here %(default)s)")
    args = parser.parse_args(argv)
    args.method_list = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.side_list = [s.strip() for s in args.sides.split(",") if s.strip()]
    if not args.method_list:
        parser.error("--methods must name at least one method")
    if set(args.side_list) - {"hpo_core", "syne-tune"} or not args.side_list:
        parser.error("--sides must be hpo_core, syne-tune or both")
    unsupported = [m for m in args.method_list if m not in SYNE_TUNE_METHODS]
    if unsupported:
        parser.error(f"no Syne Tune counterpart for {unsupported}; supported: "
                     f"{list(SYNE_TUNE_METHODS)}")
    if args.seeds < 2 or args.jobs < 1 or args.budget <= 0 or args.workers < 1:
        parser.error("--seeds >= 2, --jobs >= 1, --budget > 0 and --workers >= 1 required")
    if args.st_clock_step <= 0:
        parser.error("--st-clock-step must be > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    anytime = [m for m in args.method_list if m.startswith(("MOBSTER", "HYPERTUNE"))]
    baseline = args.anytime_baseline if anytime and args.anytime_baseline else None
    if "hpo_core" in args.side_list:
        require_methods([*args.method_list, *([baseline] if baseline else [])])
    failures: list[str] = []
    table, table_digest = export_table()
    st_python = None
    if "syne-tune" in args.side_list:
        st_python = ensure_syne_tune_gp_venv()
        if "hpo_core" in args.side_list:  # the check reads the table through hpo_core
            print(check_table(st_python, table), flush=True)
    sources = source_hash()
    seeds = [(s, run_seed(args.random_seed, s)) for s in range(args.seeds)]
    jobs = [Job(side, m, s, seed) for side in ("syne-tune", "hpo_core")
            if side in args.side_list for m in args.method_list for s, seed in seeds]
    if baseline and "hpo_core" in args.side_list:
        jobs += [Job("hpo_core", baseline, s, seed) for s, seed in seeds]

    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    todo: list[tuple[Job, Path]] = []
    for job in jobs:
        path = cache_path(job, args, table_digest, sources)
        if path.exists() and not args.refresh:
            results[(job.side, job.method, job.seed_index)] = json.loads(path.read_text())
        else:
            todo.append((job, path))
    print(f"{len(jobs)} runs, {len(jobs) - len(todo)} cached, {len(todo)} to do "
          f"({args.jobs} at a time)", flush=True)
    tic = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_job, job, args, st_python, table, path): job
                   for job, path in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            job = futures[future]
            name = f"{job.side} {job.method} seed {job.seed_index}"
            try:
                result = future.result()
            except MeasurementError as err:
                failures.append(f"{name}: {err}")
                print(f"[{done}/{len(todo)}] {name} FAILED", flush=True)
                continue
            results[(job.side, job.method, job.seed_index)] = result
            print(f"[{done}/{len(todo)}] {name}: best {final_best(result, args.budget):.3f}, "
                  f"{result['num_trials']} trials, {result['seconds']:.0f} s "
                  f"(elapsed {time.perf_counter() - tic:.0f} s)", flush=True)

    print(f"\nLCBench blood-transfusion-service-center, val_accuracy (max), {args.workers} "
          f"workers, {args.budget:g} simulated s, seeds 0..{args.seeds - 1} of master seed "
          f"{args.random_seed}; hpo_core vs syne-tune {SYNE_TUNE_VERSION} (clock step "
          f"{args.st_clock_step:g} s)")
    header = ["method", "n", "hpo_core mean", "syne-tune mean", "diff mean", "95% CI",
              "verdict", "hpo_core s/run", "syne-tune s/run"]
    rows, within, compared = [], 0, 0
    for method in args.method_list:
        pairs = [(results.get(("hpo_core", method, s)), results.get(("syne-tune", method, s)))
                 for s, _ in seeds]
        ours = [final_best(a, args.budget) for a, _ in pairs if a is not None]
        theirs = [final_best(b, args.budget) for _, b in pairs if b is not None]
        both = np.array([final_best(a, args.budget) - final_best(b, args.budget)
                         for a, b in pairs if a is not None and b is not None])
        secs_a = [a["seconds"] for a, _ in pairs if a is not None]
        secs_b = [b["seconds"] for _, b in pairs if b is not None]
        cells = [method, str(len(both)),
                 f"{np.mean(ours):.3f}" if ours else "-",
                 f"{np.mean(theirs):.3f}" if theirs else "-"]
        if len(both) == args.seeds:
            mean, low, high = paired_ci(both)
            compared += 1
            within += verdict(low, high) != "worse"
            cells += [f"{mean:+.3f}", f"[{low:+.3f}, {high:+.3f}]", verdict(low, high)]
        else:
            cells += ["-", "-", "incomplete"]
        cells += [f"{np.median(secs_a):.1f}" if secs_a else "-",
                  f"{np.median(secs_b):.1f}" if secs_b else "-"]
        rows.append(cells)
    print(format_table(header, rows))
    for method in args.method_list:
        per_seed = []
        for s, _ in seeds:
            a, b = results.get(("hpo_core", method, s)), results.get(("syne-tune", method, s))
            per_seed.append(f"{final_best(a, args.budget):.2f}" if a else "-")
            per_seed[-1] += "/" + (f"{final_best(b, args.budget):.2f}" if b else "-")
        print(f"  {method} per seed (hpo_core/syne-tune): {' '.join(per_seed)}")

    if baseline and "hpo_core" in args.side_list:
        grid = args.budget * np.arange(1, ANYTIME_GRID + 1) / ANYTIME_GRID
        points = args.budget * np.array(ANYTIME_FRACTIONS)
        print(f"\nAnytime, hpo_core: mean best-so-far val_accuracy at simulated times, area "
              f"= mean best-so-far over {ANYTIME_GRID} times up to the budget")
        header = ["method", *[f"t={p:g}s" for p in points], "area", f"area - {baseline}",
                  "95% CI"]
        arows = []
        areas: dict[str, np.ndarray] = {}
        for method in [baseline, *anytime]:
            runs = [results.get(("hpo_core", method, s)) for s, _ in seeds]
            if any(r is None for r in runs):
                arows.append([method, *["-"] * (len(header) - 1)])
                continue
            at = np.array([best_so_far(r, points) for r in runs])
            curve = np.array([best_so_far(r, grid) for r in runs])
            areas[method] = np.nanmean(curve, axis=1)
            cells = [method, *[f"{v:.3f}" for v in np.nanmean(at, axis=0)],
                     f"{np.mean(areas[method]):.3f}"]
            if method != baseline and baseline in areas:
                mean, low, high = paired_ci(areas[method] - areas[baseline])
                cells += [f"{mean:+.3f}", f"[{low:+.3f}, {high:+.3f}]"]
            else:
                cells += ["-", "-"]
            arows.append(cells)
        print(format_table(header, arows))

    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
        return 1
    if compared != len(args.method_list):
        return 1 if set(args.side_list) == {"hpo_core", "syne-tune"} else 0
    print(f"gp_quality_methods_within_ci={within}/{compared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
