"""hpo_core's synchronous Hyperband family against Syne Tune 0.13.0: quality and wall time.

What is compared
    Each row is a method of hpo_core's registry against its Syne Tune 0.13.0 baseline
    (``syne_tune.optimizer.baselines``; ``_sync_syne_tune_runner.py`` builds them):

    ============  ==============================================================
    hpo_core      Syne Tune 0.13.0
    ============  ==============================================================
    SYNCHB        ``SyncHyperband`` (the maximum number of brackets)
    SYNCSH        ``SyncHyperband(brackets=1)``
    BOHB          ``SyncBOHB`` (synchronous, as Syne Tune's seed-003 launcher)
    BOHB-ASYNC    ``BOHB`` (``HyperbandScheduler`` + KDE searcher, type stopping)
    DEHB          ``DEHB``
    SYNCMOBSTER   ``SyncMOBSTER`` (model ``gp_independent``)
    ============  ==============================================================

    all with ``resource_attr`` the blackbox's fidelity, ``max_resource_attr``, the metric and
    mode of the benchmark (``val_accuracy``, maximised), 4 workers and Syne Tune's defaults
    otherwise. Repetition ``s`` uses the scheduler seed hpo_core's launcher derives from
    ``--random-seed`` and ``s`` in both libraries (as ``gp_quality.py``; the random streams
    differ, the pairing is by seed index). A method not in hpo_core's registry is an error.

    Benchmarks (``--benchmarks``):

    * ``lcbench-blood-transfusion-service-center``: the real LCBench curves, exactly as in
      ``gp_quality.py`` (hpo_core's table, off-table configs answered by the nearest row; Syne
      Tune reads an export of the same table, checked to give identical curves), 5,400 s;
    * ``yahpo-lcbench-<I>``: YAHPO Gym's lcbench surrogate (Syne Tune through yahpo-gym 1.0.2,
      as ``scheduler_quality.py``; hpo_core's ONNX reader, the two checked against each other
      on 20 random configs), the benchmark's 7,200 s. The default instances are the three
      where random search ends farthest from the optimum (``--select-yahpo`` measures it:
      for every lcbench instance of hpo_core's registry, the best ``val_accuracy`` of 20,000
      random configs at the last epoch against the mean final best of hpo_core's RS over 3
      seeds at the benchmark's budget, 4 workers: 189873 (gap 28.7 points of accuracy),
      168329 (18.2) and 168331 (16.1); of the instances of ``scheduler_quality.py``, 7593 is
      at 11.2 and 3945 at 0.15, the median instance at 2.7).

    Both run on their own simulators, hpo_core's exact one, Syne Tune's with its clock step
    ``tuner_sleep_time`` at ``--st-clock-step`` (0.1 s, as ``gp_quality.py`` explains: with
    Syne Tune's 5 s a freed worker idles until the next step, which compares simulators
    rather than methods). ``--budget-overrides SYNCMOBSTER=1800`` (the default) gives a
    method another budget, replacing ``--budget`` (Syne Tune's SyncMOBSTER fits a GP per
    suggestion: about 490 s per run on the LCBench curves at 1,800 s); ``--yahpo-methods``
    chooses the methods run on the YAHPO instances (by default all but SYNCMOBSTER, whose
    Syne Tune runs there would add some 80 minutes). The output says what was used.

    Syne Tune's KDE (BOHB, BOHB-ASYNC) decodes integers below their domain now and then
    (``_sync_syne_tune_runner.py`` explains it; 2 or 3 of some 1,000 queries per run):
    yahpo-gym rejects such a config and ends the run, so on YAHPO the runner clips the values
    into their domains before the surrogate is queried; the LCBench table answers them with
    its nearest row. The output counts them next to the BOHB rows.

Figures
    Quality, per (benchmark, method), over the seeds: the mean final best (best over all
    results reported up to the budget) of both libraries, the paired difference hpo_core -
    Syne Tune with its 95 % confidence interval (t distribution) and its verdict ``same`` (the
    interval contains 0), ``better`` or ``worse``; the same for the area under the
    best-so-far curve (the mean best-so-far over 100 equally spaced times up to the budget,
    each seed from its first result on). A row is ``worse`` if either verdict is. Anytime:
    the mean best-so-far at 1/8, 1/4, 1/2 and all of the budget, both libraries.

    Wall time: the real seconds of ``Tuner.run()`` per simulated run (imports, blackbox loading
    and scheduler set-up excluded, in both libraries), their medians over the seeds and the
    median over seeds of the paired ratio Syne Tune / hpo_core. Both libraries' runs are
    measured in the same job, interleaved (each Syne Tune run next to hpo_core's run of the
    same seed), ``--jobs`` at a time; a timing read from the cache is marked.

    Syne Tune's KDE searcher (BOHB, BOHB-ASYNC) is instrumented (counts only): how often its
    ``_train_kde`` finds a resource level with enough data, how many rows ``np.where(
    self.resource_levels == resource)`` selects there (``resource_levels`` is a Python list,
    ``resource`` a numpy integer from ``np.unique``), how many KDE pairs it fits and how often
    ``good_kde`` is set, i.e. a config is proposed by the model rather than at random. The
    counts are printed next to the BOHB rows.

    Also (unless ``--no-dehb-package``), hpo_core's DEHB against the ``dehb`` PyPI package
    (0.1.2, in its own venv ``benchmarks/.venvs/dehb``; ``_sync_dehb_runner.py`` drives its
    ask/tell interface on a simulated clock) with one worker on the LCBench curves, each of
    the package's evaluations charged its elapsed time from scratch; if the package does not
    install or run, the output says so and the rest stands.

Caching
    Every finished run is kept as JSON under ``benchmarks/.cache/sync_family/``: Syne Tune's
    keyed by benchmark, method, seed, budget, workers, clock step, version, the table (for
    LCBench) and a hash of the three Syne Tune runner files; hpo_core's by benchmark, method,
    seed, budget, workers, the table and a hash of the ``hpo_core`` sources and its runner.
    ``--refresh`` ignores the cache (and so times both libraries afresh in one job).

Output
    Checks and progress, a quality table and an anytime table per benchmark (the KDE counts
    under them), the wall-time table, the dehb-package comparison, and, last,
    ``sync_family_speedup_vs_syne_tune=<x>``: the smallest over methods of the median ratio on
    the LCBench curves (``nan`` if one is missing). Exit status 2 if a run could not be
    measured, 1 if a row is ``worse``, else 0.

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/sync_family.py --jobs 2                 # the full comparison
    python benchmarks/sync_family.py --quick --jobs 2         # smoke run: 2 seeds, 600 s
    python benchmarks/sync_family.py --methods SYNCHB,DEHB --benchmarks \\
        lcbench-blood-transfusion-service-center --seeds 10
    python benchmarks/sync_family.py --select-yahpo           # rank the YAHPO instances

Running time
    The venvs take a minute or two the first time. Syne Tune's runs dominate; medians on the
    2-core reference machine with two runs at a time (and other work on it part of the time),
    LCBench curves: SYNCHB 7.5 s, DEHB 12 s, SYNCSH 15 s, BOHB 41 s, BOHB-ASYNC 81 s,
    SYNCMOBSTER 490 s at 1,800 s; YAHPO instances 10 to 55 s. The defaults (10 seeds, LCBench
    and the three YAHPO instances, SYNCMOBSTER at 1,800 s on LCBench only; 420 runs) took
    90 minutes with ``--jobs 2`` with 7 of the 20 SYNCMOBSTER runs already cached, so about
    100 minutes from scratch; nothing once cached. ``--quick`` takes about 6 minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gp_bench import BENCHMARK as LCBENCH
from _gp_bench import (
    CACHE_DIR,
    HPO_CORE_RUNNER,
    SYNE_TUNE_RUNNER,
    SYNE_TUNE_VERSION,
    MeasurementError,
    check_table,
    ensure_syne_tune_gp_venv,
    export_table,
    format_table,
    require_methods,
    run_child,
    run_ours,
    single_threaded,
    syne_tune_env,
)
from _syne_tune_sim import RUNNER as SIM_RUNNER
from _syne_tune_sim import check_yahpo_curves, syne_tune_python, yahpo_data_dir
from gp_quality import (
    ANYTIME_FRACTIONS,
    ANYTIME_GRID,
    DEFAULT_CLOCK_STEP,
    DEFAULT_RANDOM_SEED,
    best_so_far,
    final_best,
    paired_ci,
    run_seed,
    source_hash,
    verdict,
)
from simulator_throughput import BENCH_DIR, VENV_ROOT, pip_install

SYNC_RUNNER = BENCH_DIR / "_sync_syne_tune_runner.py"
DEHB_RUNNER = BENCH_DIR / "_sync_dehb_runner.py"
METHODS = ("SYNCHB", "SYNCSH", "BOHB", "BOHB-ASYNC", "DEHB", "SYNCMOBSTER")
KDE_METHODS = ("BOHB", "BOHB-ASYNC")
DEFAULT_YAHPO = ("yahpo-lcbench-189873", "yahpo-lcbench-168329", "yahpo-lcbench-168331")
DEFAULT_BENCHMARKS = (LCBENCH, *DEFAULT_YAHPO)
LCBENCH_BUDGET = 5400.0
#: SYNCMOBSTER's Syne Tune runs take about 160 s each on a YAHPO instance even at 1,800 s (ten
#: seeds on three instances: 80 more minutes): by default it runs on the LCBench curves only.
DEFAULT_YAHPO_METHODS = tuple(m for m in METHODS if m != "SYNCMOBSTER")
#: Relative cost of the methods' Syne Tune runs (the job order: longest first).
COST_RANK = {"SYNCMOBSTER": 6, "BOHB-ASYNC": 5, "BOHB": 4, "SYNCSH": 3, "DEHB": 2, "SYNCHB": 1}
DEFAULT_OVERRIDES = "SYNCMOBSTER=1800"
#: Added to the Syne Tune venv for its KDE searcher; numpy and pandas stay where Syne Tune
#: 0.13.0's blackbox repository needs them (statsmodels 0.14.1 has cp311 wheels built for
#: numpy 1.x and resolves next to numpy 1.23.5 with patsy 1.0.3).
STATSMODELS_REQUIREMENTS = ["statsmodels==0.14.1", "numpy<1.24", "pandas<3"]
#: The dehb package and what it needs, in its own venv (it wants numpy >= 1.26 and
#: ConfigSpace >= 1, which Syne Tune 0.13.0's venv cannot hold).
DEHB_REQUIREMENTS = ["dehb==0.1.2"]
QUICK_SEEDS = 2
QUICK_BUDGET = 600.0
RUN_TIMEOUT_S = 3 * 3600.0
SELECT_SAMPLES = 20_000
SELECT_SEEDS = 3


@dataclass(frozen=True)
class Job:
    side: str  # "hpo_core" or "syne-tune"
    benchmark: str
    method: str
    seed_index: int
    scheduler_seed: int
    budget: float


def _file_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# -- the Syne Tune venv ---------------------------------------------------------------------------


def _sync_check(python: Path) -> dict[str, Any] | None:
    try:
        return run_child(python, SYNC_RUNNER, ["check"], env=syne_tune_env(), timeout=300)
    except MeasurementError:
        return None


def ensure_syne_tune_sync_venv(yahpo: bool) -> tuple[Path, dict[str, Any]]:
    """Python of the Syne Tune 0.13.0 venv with autograd, statsmodels and (if ``yahpo``)
    yahpo-gym, each added if missing; and the runner's ``check`` report."""
    python = ensure_syne_tune_gp_venv()  # the venv and autograd
    if yahpo:
        syne_tune_python()  # yahpo-gym
    info = _sync_check(python)
    if info is None:
        print(f"installing {' '.join(STATSMODELS_REQUIREMENTS)} into the Syne Tune venv "
              "(KDE searcher)", flush=True)
        pip_install(python, STATSMODELS_REQUIREMENTS,
                    VENV_ROOT / f"syne-tune-{SYNE_TUNE_VERSION}-statsmodels.log")
        info = _sync_check(python)
        if info is None:
            raise MeasurementError("Syne Tune's KDE searcher does not import (statsmodels)")
    if yahpo and info.get("yahpo_gym") is None:
        raise MeasurementError("yahpo-gym missing from the Syne Tune venv")
    return python, info


# -- runs -----------------------------------------------------------------------------------------


def _instance(benchmark: str) -> str | None:
    """The YAHPO instance of ``benchmark``, None for the LCBench table."""
    if benchmark == LCBENCH:
        return None
    from hpo_core.experiments.benchmarks import get_benchmark

    family, _, instance = str(get_benchmark(benchmark).blackbox).partition("/")
    if family != "yahpo_lcbench":
        raise SystemExit(f"error: {benchmark}: only {LCBENCH} and yahpo-lcbench-* are supported")
    return instance


def default_budget(benchmark: str, args: argparse.Namespace) -> float:
    if args.budget is not None:
        return float(args.budget)
    if benchmark == LCBENCH:
        return LCBENCH_BUDGET
    from hpo_core.experiments.benchmarks import get_benchmark

    return float(get_benchmark(benchmark).max_wallclock_time)


def cache_path(job: Job, args: argparse.Namespace, table_digest: str, hashes: dict[str, str]
               ) -> Path:
    key: dict[str, Any] = {"benchmark": job.benchmark, "method": job.method,
                           "seed": job.scheduler_seed, "budget": job.budget,
                           "workers": args.workers}
    if job.benchmark == LCBENCH:
        key["table"] = table_digest
    if job.side == "syne-tune":
        key |= {"version": SYNE_TUNE_VERSION, "tuner_sleep_time": args.st_clock_step,
                "runner": hashes["syne-tune"]}
        folder = CACHE_DIR / "sync_family" / f"syne-tune-{SYNE_TUNE_VERSION}"
    else:
        ours = args.stand_ins.get(job.method, job.method)
        key |= {"ours": ours, "sources": hashes["hpo_core"]}
        folder = CACHE_DIR / "sync_family" / "hpo_core"
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return folder / f"{job.benchmark}-{job.method}-b{job.budget:g}-s{job.seed_index}-{digest}.json"


def run_job(job: Job, args: argparse.Namespace, st_python: Path | None, table: Path | None,
            path: Path) -> dict[str, Any]:
    common = ["--seed", str(job.scheduler_seed), "--budget", str(job.budget),
              "--workers", str(args.workers)]
    instance = _instance(job.benchmark)
    if job.side == "syne-tune":
        assert st_python is not None
        where = (["--table", str(table)] if instance is None else
                 ["--yahpo-data", str(yahpo_data_dir("yahpo_lcbench")), "--instance", instance])
        result = run_child(st_python, SYNC_RUNNER,
                           ["run", "--method", job.method, *where,
                            "--tuner-sleep-time", str(args.st_clock_step), *common],
                           env=single_threaded(syne_tune_env()), timeout=RUN_TIMEOUT_S)
    else:
        ours = args.stand_ins.get(job.method, job.method)
        result = run_ours(["run", "--method", ours, "--benchmark", job.benchmark, *common],
                          timeout=RUN_TIMEOUT_S)
    result["load"] = os.getloadavg()[0]
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(result))
    partial.replace(path)
    return result


# -- summaries ------------------------------------------------------------------------------------


def area(result: dict[str, Any], budget: float) -> float:
    """Mean best-so-far over the grid up to the budget, from the first result on."""
    grid = budget * np.arange(1, ANYTIME_GRID + 1) / ANYTIME_GRID
    return float(np.nanmean(best_so_far(result, grid)))


def _ci_cells(diff: np.ndarray, digits: int = 3) -> tuple[list[str], str]:
    mean, low, high = paired_ci(diff)
    v = verdict(low, high)
    return [f"{mean:+.{digits}f}", f"[{low:+.{digits}f}, {high:+.{digits}f}]", v], v


def kde_summary(runs: list[dict[str, Any]]) -> str | None:
    """One line on what Syne Tune's KDE searcher did over ``runs``."""
    counts = [r["kde"] for r in runs if r.get("kde")]
    if not counts:
        return None
    total = {k: sum(c[k] for c in counts) for k in
             ("get_config_calls", "train_calls", "level_found", "rows_at_level",
              "rows_selected", "fits", "good_kde_set")}
    fitted = sum(c["fits"] > 0 for c in counts)
    line = (f"{len(counts)} runs: {total['get_config_calls']} suggestions, {total['train_calls']} "
            f"_train_kde calls, {total['level_found']} with a resource level holding enough "
            f"data ({total['rows_at_level']} rows there, np.where on the list selected "
            f"{total['rows_selected']}), {total['fits']} KDE pairs fitted, good_kde set "
            f"{total['good_kde_set']} times ({fitted}/{len(counts)} runs fit at least once)")
    if total["good_kde_set"] == 0:
        line += " -> the KDE is never used: every config is drawn at random"
    elif total["rows_selected"] == total["rows_at_level"]:
        share = total["good_kde_set"] / max(total["get_config_calls"], 1)
        line += (f" -> np.where(list == numpy integer) compares elementwise (numpy broadcasts "
                 f"the list), so the filter works and {share:.0%} of the suggestions come "
                 "from the KDE")
    queries = sum(r.get("out_of_range", {}).get("queries", 0) for r in runs)
    outside = sum(r.get("out_of_range", {}).get("queries_out_of_range", 0) for r in runs)
    if queries:
        how = ("clipped for yahpo-gym" if any(r.get("clipped") for r in runs)
               else "answered by the nearest table row")
        line += (f"; {outside} of {queries} blackbox queries had a value outside its domain "
                 f"(Syne Tune's KDE decoding of integers; {how})")
    return line


def quality_tables(benchmark: str, methods: list[str], seeds: list[tuple[int, int]],
                   results: dict[tuple[str, str, str, int], dict[str, Any]],
                   budgets: dict[tuple[str, str], float], args: argparse.Namespace
                   ) -> tuple[list[str], int]:
    """The quality and anytime tables of one benchmark; the number of ``worse`` rows."""
    lines: list[str] = []
    header = ["method", "budget", "n", "hpo_core", "syne-tune", "diff", "95% CI", "final",
              "area hpo_core", "area syne-tune", "diff", "95% CI", "area", "row"]
    rows, arows, worse = [], [], 0
    kde_lines = []
    for method in methods:
        budget = budgets[(benchmark, method)]
        pairs = [(results.get(("hpo_core", benchmark, method, s)),
                  results.get(("syne-tune", benchmark, method, s))) for s, _ in seeds]
        both = [(a, b) for a, b in pairs if a is not None and b is not None]
        label = method + (f" (ours: {args.stand_ins[method]})" if method in args.stand_ins
                          else "")
        cells = [label, f"{budget:g}", str(len(both))]
        if len(both) < 2:
            rows.append(cells + ["-"] * (len(header) - len(cells)))
            continue
        fa = np.array([final_best(a, budget) for a, _ in both])
        fb = np.array([final_best(b, budget) for _, b in both])
        aa = np.array([area(a, budget) for a, _ in both])
        ab = np.array([area(b, budget) for _, b in both])
        final_cells, v_final = _ci_cells(fa - fb)
        area_cells, v_area = _ci_cells(aa - ab)
        row_verdict = "worse" if "worse" in (v_final, v_area) else (
            "better" if "better" in (v_final, v_area) else "same")
        if len(both) < len(seeds):
            row_verdict += " (incomplete)"
        worse += row_verdict.startswith("worse")
        rows.append([*cells, f"{fa.mean():.3f}", f"{fb.mean():.3f}", *final_cells,
                     f"{aa.mean():.3f}", f"{ab.mean():.3f}", *area_cells, row_verdict])
        points = budget * np.array(ANYTIME_FRACTIONS)
        for side, runs in (("hpo_core", [a for a, _ in both]), ("syne-tune", [b for _, b in both])):
            at = np.nanmean(np.array([best_so_far(r, points) for r in runs]), axis=0)
            trials = np.mean([r.get("num_trials", math.nan) for r in runs])
            arows.append([label if side == "hpo_core" else "", side,
                          *[f"{v:.3f}" for v in at], f"{trials:.0f}"])
        if method in KDE_METHODS:
            summary = kde_summary([b for _, b in both])
            if summary:
                kde_lines.append(f"  Syne Tune {method} KDE searcher: {summary}")
    lines.append(format_table(header, rows))
    lines.append("")
    lines.append(f"Anytime {benchmark}: mean best-so-far val_accuracy at 1/8, 1/4, 1/2, 1 of "
                 "the budget; trials = mean trials with a result")
    aheader = ["method", "library", "t=1/8", "t=1/4", "t=1/2", "t=1", "trials"]
    lines.append(format_table(aheader, arows, left=2))
    lines.extend(kde_lines)
    return lines, worse


def wall_table(plan: dict[str, list[str]], seeds: list[tuple[int, int]],
               results: dict[tuple[str, str, str, int], dict[str, Any]], cached: set[Any]
               ) -> tuple[list[str], dict[str, float]]:
    header = ["benchmark", "method", "n", "hpo_core s/run", "syne-tune s/run",
              "median ratio", "min ratio", "timed in this job"]
    rows, headline = [], {}
    for benchmark, methods in plan.items():
        for method in methods:
            pairs = [(results.get(("hpo_core", benchmark, method, s)),
                      results.get(("syne-tune", benchmark, method, s))) for s, _ in seeds]
            both = [(a, b) for a, b in pairs if a is not None and b is not None]
            if not both:
                rows.append([benchmark, method, "0", "-", "-", "-", "-", "-"])
                continue
            sa = np.array([a["seconds"] for a, _ in both])
            sb = np.array([b["seconds"] for _, b in both])
            ratios = sb / sa
            fresh = sum(1 for s, _ in seeds for side in ("hpo_core", "syne-tune")
                        if (side, benchmark, method, s) in results
                        and (side, benchmark, method, s) not in cached)
            ratio = float(np.median(ratios))
            if benchmark == LCBENCH and len(both) == len(seeds):
                headline[method] = ratio
            rows.append([benchmark, method, str(len(both)), f"{np.median(sa):.2f}",
                         f"{np.median(sb):.1f}", f"{ratio:.1f}x", f"{ratios.min():.1f}x",
                         f"{fresh}/{2 * len(seeds)}"])
    return [format_table(header, rows, left=2)], headline


# -- the dehb package -----------------------------------------------------------------------------


def ensure_dehb_venv() -> Path:
    """Python of ``benchmarks/.venvs/dehb`` with the dehb package (created if needed)."""
    import subprocess

    venv = VENV_ROOT / "dehb"
    python = venv / "bin" / "python"
    if python.exists():
        try:
            run_child(python, DEHB_RUNNER, ["check"], env=syne_tune_env(), timeout=300)
            return python
        except MeasurementError:
            pass
    print(f"installing {' '.join(DEHB_REQUIREMENTS)} into {venv}", flush=True)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    log = VENV_ROOT / "dehb-install.log"
    log.write_text("")
    done = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MeasurementError(f"cannot create {venv}: {done.stderr}")
    pip_install(python, DEHB_REQUIREMENTS, log)
    run_child(python, DEHB_RUNNER, ["check"], env=syne_tune_env(), timeout=300)
    return python


def check_dehb_table(python: Path, table: Path, num_configs: int = 40) -> str:
    """The dehb runner's table lookup must give hpo_core's curves (as ``check_table``)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        obs_file = Path(tmp) / "observations.json"
        run_ours(["observations", "--size", str(num_configs), "--kind", "final",
                  "--pending", "0", "--seed", "7", "--observations", str(obs_file)])
        configs = [o["config"] for o in json.loads(obs_file.read_text())["observations"]]
        for i, config in enumerate(list(configs)):  # off the table: answered by 1-NN
            configs.append(dict(config, momentum=round(0.1 + 0.89 * ((i * 0.37) % 1.0), 4),
                                num_layers=1 + (i % 5)))
        config_file = Path(tmp) / "configs.json"
        config_file.write_text(json.dumps(configs))
        ours = run_ours(["curves", "--configs", str(config_file)])["curves"]
        theirs = run_child(python, DEHB_RUNNER, ["curves", "--table", str(table),
                                                 "--configs", str(config_file)],
                           env=syne_tune_env())["curves"]
    for config, a, b in zip(configs, ours, theirs, strict=True):
        if not np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                           rtol=1e-12, atol=0.0):
            raise MeasurementError(f"the dehb runner's table lookup differs from hpo_core's at "
                                   f"{config}")
    return (f"table check: {len(configs)} configs (half off the table) give identical curves "
            "in hpo_core and in the dehb runner")


def dehb_package(args: argparse.Namespace, seeds: list[tuple[int, int]], table: Path,
                 table_digest: str, hashes: dict[str, str]) -> list[str]:
    """hpo_core's DEHB (1 worker) against the dehb package on the LCBench curves."""
    budget = default_budget(LCBENCH, args)
    lines = [f"\ndehb package vs hpo_core DEHB, {LCBENCH}, 1 worker, {budget:g} simulated s "
             "(each evaluation charged its elapsed time from scratch in the package)"]
    try:
        python = ensure_dehb_venv()
    except MeasurementError as err:
        first = str(err).splitlines()[0]
        return [*lines, f"  dehb package not available: {first}"]
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        lines.append("  " + check_dehb_table(python, table))
        for s, seed in seeds:
            for side in ("dehb", "hpo_core"):
                key = {"side": side, "seed": seed, "budget": budget, "table": table_digest,
                       "hash": hashes["dehb"] if side == "dehb" else hashes["hpo_core"]}
                digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
                path = CACHE_DIR / "sync_family" / "dehb" / f"{side}-s{s}-{digest[:10]}.json"
                if path.exists() and not args.refresh:
                    runs[(side, s)] = json.loads(path.read_text())
                    continue
                common = ["--seed", str(seed), "--budget", str(budget), "--workers", "1"]
                if side == "dehb":
                    result = run_child(python, DEHB_RUNNER, ["run", "--table", str(table),
                                                             *common],
                                       env=single_threaded(syne_tune_env()),
                                       timeout=RUN_TIMEOUT_S)
                else:
                    ours = args.stand_ins.get("DEHB", "DEHB")
                    result = run_ours(["run", "--method", ours, "--benchmark", LCBENCH,
                                       *common], timeout=RUN_TIMEOUT_S)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(result))
                runs[(side, s)] = result
    except MeasurementError as err:
        first = "\n    ".join(str(err).splitlines()[-6:])
        return [*lines, f"  the dehb package did not run on these blackboxes:\n    {first}"]
    fa = np.array([final_best(runs[("hpo_core", s)], budget) for s, _ in seeds])
    fb = np.array([final_best(runs[("dehb", s)], budget) for s, _ in seeds])
    aa = np.array([area(runs[("hpo_core", s)], budget) for s, _ in seeds])
    ab = np.array([area(runs[("dehb", s)], budget) for s, _ in seeds])
    final_cells, _ = _ci_cells(fa - fb)
    area_cells, _ = _ci_cells(aa - ab)
    version = runs[("dehb", seeds[0][0])].get("version", "?")
    header = ["figure", "hpo_core", f"dehb {version}", "diff", "95% CI", "verdict"]
    def stat(side: str, key: str, how: Any, digits: int) -> str:
        return f"{how([runs[(side, s)][key] for s, _ in seeds]):.{digits}f}"

    rows = [["final best", f"{fa.mean():.3f}", f"{fb.mean():.3f}", *final_cells],
            ["area", f"{aa.mean():.3f}", f"{ab.mean():.3f}", *area_cells],
            ["results (mean)", stat("hpo_core", "num_results", np.mean, 0),
             stat("dehb", "num_results", np.mean, 0), "", "", ""],
            ["evaluations/trials (mean)", stat("hpo_core", "num_trials", np.mean, 0),
             stat("dehb", "num_trials", np.mean, 0), "", "", ""],
            ["s/run (median)", stat("hpo_core", "seconds", np.median, 2),
             stat("dehb", "seconds", np.median, 2), "", "", ""]]
    return [*lines, format_table(header, rows)]


# -- choosing YAHPO instances ---------------------------------------------------------------------


def select_yahpo(args: argparse.Namespace) -> int:
    """Rank hpo_core's YAHPO lcbench instances by how far random search ends from the optimum."""
    import _hpo_core_gp_runner as ours

    from hpo_core import space as sp
    from hpo_core.experiments.benchmarks import BENCHMARKS, get_benchmark
    from hpo_core.experiments.launcher import load_benchmark_blackbox

    names = sorted(n for n in BENCHMARKS if n.startswith("yahpo-lcbench-"))
    rows = []
    for name in names:
        benchmark = get_benchmark(name)
        blackbox = load_benchmark_blackbox(benchmark, store=None, restrict_configurations=False)
        metric = blackbox.objective_names.index(benchmark.metric)
        configs = sp.sample_configs(blackbox.config_space, SELECT_SAMPLES,
                                    np.random.default_rng(0))
        values = blackbox.raw_predictions_at(configs)[:, metric].astype(float)
        rs = []
        for s in range(SELECT_SEEDS):
            run = ours.run(argparse.Namespace(
                benchmark=name, method="RS", seed=run_seed(args.random_seed, s),
                budget=benchmark.max_wallclock_time, workers=args.workers, method_args="{}",
                profile=None))
            rs.append(max(run["values"]))
        best = max(float(values.max()), *rs)
        gap = best - float(np.mean(rs))
        spread = best - float(np.median(values))
        rows.append((gap, [name, f"{best:.3f}", f"{np.mean(rs):.3f}", f"{gap:.3f}",
                           f"{gap / spread:.3f}" if spread > 0 else "-"]))
        print(f"  {name}: optimum ~{best:.3f}, RS {np.mean(rs):.3f}", flush=True)
    rows.sort(key=lambda r: -r[0])
    print(f"\nYAHPO lcbench instances by the gap between the best of {SELECT_SAMPLES:,} random "
          f"configs at the last epoch and hpo_core RS's mean final best ({SELECT_SEEDS} seeds, "
          "the benchmark's budget, 4 workers)")
    print(format_table(["benchmark", "optimum ~", "RS final", "gap", "gap / (opt - median)"],
                       [r for _, r in rows]))
    print("top 3: " + ",".join(r[0] for _, r in rows[:3]))
    return 0


# -- main -----------------------------------------------------------------------------------------


def _parse_pairs(text: str, what: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not value:
            parser.error(f"{what}: expected METHOD=VALUE, got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated registry names (default: %(default)s)")
    parser.add_argument("--benchmarks", default=None,
                        help=f"comma-separated (default: {','.join(DEFAULT_BENCHMARKS)})")
    parser.add_argument("--seeds", type=int, default=None, help="repetitions (default 10)")
    parser.add_argument("--budget", type=float, default=None,
                        help="simulated seconds per run for every benchmark (default: 5400 on "
                        "LCBench, the benchmark's on YAHPO)")
    parser.add_argument("--budget-overrides", default=DEFAULT_OVERRIDES,
                        help="METHOD=SECONDS,... budgets of single methods (default "
                        "%(default)s; '' for none)")
    parser.add_argument("--yahpo-methods", default=",".join(DEFAULT_YAHPO_METHODS),
                        help="the methods run on the YAHPO benchmarks, among --methods "
                        "(default %(default)s; 'all' for all of --methods)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    parser.add_argument("--random-seed", type=int, default=DEFAULT_RANDOM_SEED)
    parser.add_argument("--st-clock-step", type=float, default=DEFAULT_CLOCK_STEP,
                        help="Syne Tune simulator's clock step (tuner_sleep_time; its default "
                        "is 5; default here %(default)s)")
    parser.add_argument("--refresh", action="store_true", help="ignore cached runs")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_SEEDS} seeds, {QUICK_BUDGET:g} s (overrides "
                        "capped there), LCBench and the first YAHPO instance")
    parser.add_argument("--no-dehb-package", dest="dehb_package", action="store_false",
                        help="skip the comparison with the dehb PyPI package")
    parser.add_argument("--stand-ins", default="",
                        help="development aid: METHOD=OTHER runs hpo_core's OTHER in the row of "
                        "METHOD (while METHOD has not landed); marked in the output")
    parser.add_argument("--select-yahpo", action="store_true",
                        help="rank the YAHPO lcbench instances by the gap of random search to "
                        "the optimum, and exit")
    args = parser.parse_args(argv)
    args.method_list = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.method_list if m not in METHODS]
    if unknown or not args.method_list:
        parser.error(f"--methods: {unknown} not among {list(METHODS)}")
    if args.benchmarks is None:
        args.benchmarks = ",".join(DEFAULT_BENCHMARKS[:2] if args.quick else DEFAULT_BENCHMARKS)
    args.benchmark_list = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    if args.yahpo_methods.strip() == "all":
        yahpo_methods = list(args.method_list)
    else:
        yahpo_methods = [m.strip() for m in args.yahpo_methods.split(",") if m.strip()]
    if set(yahpo_methods) - set(METHODS):
        parser.error(f"--yahpo-methods: {sorted(set(yahpo_methods) - set(METHODS))} not among "
                     f"{list(METHODS)}")
    args.plan = {b: [m for m in args.method_list
                     if b == LCBENCH or m in yahpo_methods] for b in args.benchmark_list}
    if args.seeds is None:
        args.seeds = QUICK_SEEDS if args.quick else 10
    if args.quick and args.budget is None:
        args.budget = QUICK_BUDGET
    overrides = _parse_pairs(args.budget_overrides, "--budget-overrides", parser)
    try:
        args.overrides = {m: float(v) for m, v in overrides.items()}
    except ValueError:
        parser.error("--budget-overrides: seconds must be numbers")
    if args.quick:
        args.overrides = {m: min(v, args.budget) for m, v in args.overrides.items()}
    args.stand_ins = _parse_pairs(args.stand_ins, "--stand-ins", parser)
    if args.seeds < 2 or args.jobs < 1 or args.workers < 1 or args.st_clock_step <= 0:
        parser.error("--seeds >= 2, --jobs >= 1, --workers >= 1, --st-clock-step > 0 required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.select_yahpo:
        return select_yahpo(args)
    require_methods([args.stand_ins.get(m, m) for m in args.method_list])
    instances = {b: _instance(b) for b in args.benchmark_list}
    failures: list[str] = []
    tic = time.perf_counter()
    table, table_digest = export_table()
    st_python, info = ensure_syne_tune_sync_venv(
        yahpo=any(i is not None for i in instances.values()))
    print(f"Syne Tune {info['version']} venv: numpy {info['numpy']}, statsmodels "
          f"{info['statsmodels']} ({' '.join(STATSMODELS_REQUIREMENTS)}), yahpo-gym "
          f"{info['yahpo_gym']}", flush=True)
    if LCBENCH in instances:
        print(check_table(st_python, table), flush=True)
    for benchmark, instance in instances.items():
        if instance is None:
            continue
        check = check_yahpo_curves(benchmark, 20)
        diffs = check["max_abs_difference"]
        print(f"YAHPO check {benchmark}: 20 random configs, largest |Syne Tune - hpo_core| "
              f"val_accuracy {diffs['val_accuracy']['max_abs']:.2g}, backend time "
              f"{check['time_backend_vs_hpo_core_max_abs']:.2g} s", flush=True)
    hashes = {"syne-tune": _file_hash(SYNC_RUNNER, SYNE_TUNE_RUNNER, SIM_RUNNER),
              "hpo_core": source_hash() + _file_hash(HPO_CORE_RUNNER),
              "dehb": _file_hash(DEHB_RUNNER, SYNE_TUNE_RUNNER)}
    seeds = [(s, run_seed(args.random_seed, s)) for s in range(args.seeds)]
    budgets = {(b, m): args.overrides.get(m, default_budget(b, args))
               for b, methods in args.plan.items() for m in methods}
    # Interleaved: each Syne Tune run next to hpo_core's run of the same seed. SYNCMOBSTER
    # (minutes per Syne Tune run) last, so that the other rows are complete (and cached)
    # first; otherwise the methods whose Syne Tune runs take longest first.
    order = sorted(budgets, key=lambda bm: (bm[1] == "SYNCMOBSTER", -COST_RANK.get(bm[1], 0),
                                            bm[0] != LCBENCH))
    jobs = [Job(side, b, m, s, seed, budgets[(b, m)]) for b, m in order for s, seed in seeds
            for side in ("syne-tune", "hpo_core")]
    results: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    cached: set[tuple[str, str, str, int]] = set()
    todo: list[tuple[Job, Path]] = []
    for job in jobs:
        key = (job.side, job.benchmark, job.method, job.seed_index)
        path = cache_path(job, args, table_digest, hashes)
        if path.exists() and not args.refresh:
            results[key] = json.loads(path.read_text())
            cached.add(key)
        else:
            todo.append((job, path))
    print(f"{len(jobs)} runs, {len(jobs) - len(todo)} cached, {len(todo)} to do "
          f"({args.jobs} at a time)", flush=True)
    run_tic = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_job, job, args, st_python, table, path): job
                   for job, path in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            job = futures[future]
            name = f"{job.side} {job.benchmark} {job.method} seed {job.seed_index}"
            try:
                result = future.result()
            except MeasurementError as err:
                failures.append(f"{name}: {err}")
                print(f"[{done}/{len(todo)}] {name} FAILED", flush=True)
                continue
            results[(job.side, job.benchmark, job.method, job.seed_index)] = result
            print(f"[{done}/{len(todo)}] {name}: best {final_best(result, job.budget):.3f}, "
                  f"{result['num_trials']} trials, {result['seconds']:.1f} s "
                  f"(elapsed {time.perf_counter() - run_tic:.0f} s)", flush=True)

    worse = 0
    for benchmark in args.benchmark_list:
        print(f"\n{benchmark}, val_accuracy (max), {args.workers} workers, seeds "
              f"0..{args.seeds - 1} of master seed {args.random_seed}; hpo_core (exact "
              f"simulator) vs syne-tune {SYNE_TUNE_VERSION} (clock step {args.st_clock_step:g} "
              "s); final = best at the budget, area = mean best-so-far up to it")
        lines, bad = quality_tables(benchmark, args.plan[benchmark], seeds, results, budgets,
                                    args)
        worse += bad
        print("\n".join(lines))
    print("\nWall time: real seconds of Tuner.run() per simulated run (medians over seeds), "
          "ratio = syne-tune / hpo_core paired by seed")
    lines, headline = wall_table(args.plan, seeds, results, cached)
    print("\n".join(lines))
    print("budgets used (simulated s): " + "; ".join(
        f"{b}: " + ", ".join(f"{m} {budgets[(b, m)]:g}" for m in ms)
        for b, ms in args.plan.items()))
    if args.dehb_package and "DEHB" in args.method_list and LCBENCH in instances:
        print("\n".join(dehb_package(args, seeds, table, table_digest, hashes)), flush=True)
    print(f"\ntotal {time.perf_counter() - tic:.0f} s")
    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
    value = (min(headline.values()) if LCBENCH in instances
             and len(headline) == len(args.method_list) else math.nan)
    print(f"sync_family_speedup_vs_syne_tune={value:.1f}")
    if failures:
        return 2
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
