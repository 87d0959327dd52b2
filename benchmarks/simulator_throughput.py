"""Simulator throughput of hpo_core against Syne Tune 0.13.0 and 0.16.0, results file included.

What is timed
    The same work on both sides: one simulated tuning run that records every reported result
    (the result of one epoch of one trial), then writes the run's results file in Syne Tune's
    format, ``results.csv.zip``:

    * hpo_core: ``Tuner.run()``, then the launcher's writer
      (``hpo_core.experiments.launcher.write_results``: the table with ``st_status`` and the
      benchmark/method/seed columns, exactly as ``hpo-core run`` writes it);
    * Syne Tune: ``Tuner.run()``, configured as its simulator launcher
      (``hpo_main_simulator.py``) configures it (``SimulatorCallback``, ``sleep_time=0``,
      results and status every 600 s, no tuner pickling), which ends with its results callback
      writing ``results.csv.zip`` with pandas into a temporary ``SYNETUNE_FOLDER``.

    Results/s is the number of results recorded (``len(tuner.results)``; the rows of
    ``SimulatorCallback``) over those seconds; ``write s`` is the part spent writing the file
    (for Syne Tune, the time in its callback's ``store_results``). Imports, venv set-up and
    building the scheduler are not timed. Peak RSS is read with ``getrusage`` at the end of
    the child process, so it includes the write (hpo_core's is also read before the write).

Methods
    Four methods, each with 4 workers and seed 0, grace period 1, reduction factor 3 and the
    random searcher: ``rs`` (random search, FIFO), ``asha`` (stopping type, one bracket),
    ``pasha`` (PASHA: promotion type whose maximum resource grows; Syne Tune 0.16.0 has no
    PASHA, so that cell is ``n/a``) and ``hyperband`` (stopping type, four brackets).

    Both libraries tune the same closed-form blackbox (``hpo_core/blackboxes/synthetic_curve.py``;
    re-implemented for Syne Tune in ``_syne_tune_runner.py``, and the two implementations are
    checked to give the same curves before anything is timed) over the same space: learning
    rate, units, dropout, optimizer, batch size, plus the constant ``epochs = max_t`` read by the
    backends as the maximum resource. Metric ``error`` is minimised, the resource is ``epoch`` and
    ``elapsed_time`` is the cumulative training time the simulators use as elapsed-time attribute.
    The run stops with ``max_num_trials_started`` set to each size. Its meaning differs
    slightly: hpo_core stops once N trials have started, Syne Tune once more than N have (so
    N+1, or up to N+4 when several workers free up in one loop iteration); the table shows the
    trials actually started. Syne Tune's ``TuningStatus`` also counts results that arrive in the
    same fetch after the scheduler stopped their trial, which the scheduler never sees and
    ``SimulatorCallback`` does not record; they are not counted here.

How
    Every run is a fresh subprocess (hpo_core with this interpreter and ``PYTHONPATH`` at the
    repository; Syne Tune with the Python of its own venv). Each Syne Tune release is installed
    by this script into ``benchmarks/.venvs/syne-tune-<v>`` (reused when it exists and imports).
    0.13.0 installs with its ``blackbox-repository`` extra, which pins numpy < 1.24; numpy
    1.23.5 has Python 3.11 wheels and pandas is held below 3 for it. 0.16.0 has no such extra,
    and its ``blackbox_repository`` package imports ``huggingface_hub`` at import time, so that
    is installed next to it.

Cache
    Syne Tune's runs are cached in ``benchmarks/.cache/simulator_throughput/``, one JSON file
    per (version, method, size, epochs, seed), and reused while ``_syne_tune_runner.py`` is
    unchanged (its SHA-256 is stored with them) and they hold at least ``--repeats`` runs; the
    table marks cached figures, with the time and load average they were measured at (so the
    two sides may have been timed under different load). ``--no-cache`` measures them again
    (and replaces the cache). hpo_core is always measured afresh.

Default coverage and run time
    Sizes 1,000, 5,000 and 50,000 trials, 27 and 81 epochs, the four methods: 24 hpo_core runs
    (a few minutes on the 2-core reference machine; hpo_core's PASHA at 50,000 trials alone
    takes minutes). Syne Tune runs at sizes up to ``--syne-tune-max-size`` (5,000; its
    50,000-trial runs would take hours), except PASHA, which Syne Tune 0.13.0 runs at up to
    ``--syne-tune-pasha-max-size`` (1,000: about 100 s there with 27 epochs, and it slows down
    with every trial, so some 40 minutes per run at 5,000; the table says which cells were not
    run, and they have no ratio). That is 26 Syne Tune runs, about 20 minutes the first time
    (plus about 2 minutes to install the two venvs) and nothing once cached. An untimed
    20-trial run of each library comes first (the first process to load them from disk is
    slower). ``--quick`` is a smoke run (50 and 200 trials, 9 epochs, about a minute plus
    installs); ``--repeats N`` keeps the fastest of N runs per measurement (timings of the
    same run vary by up to about 2x when anything else uses the two cores).

Output
    A table (library/version, method, epochs, size, trials, results, seconds, write s,
    results/s, hpo_core/Syne Tune ratio, peak RSS, load average, source), then the targets:
    at least 50x both Syne Tune versions at 1,000 and 5,000 trials; hpo_core's results/s flat
    from the smallest to the largest size (the largest size's rate at least 80% of the
    smallest's); at most 400 MB peak RSS at 50,000 trials. Missing a target is reported, not
    an error. The last line is ``min_speedup_vs_syne_tune=<x>``, the smallest ratio over
    methods, sizes, epochs and Syne Tune versions (``nan`` if any ratio could not be measured).
    The exit status is non-zero if a measurement, an install or the curve check failed.

Usage (from the repository root, with a Python that has hpo_core's dependencies)::

    python benchmarks/simulator_throughput.py
    python benchmarks/simulator_throughput.py --quick
    python benchmarks/simulator_throughput.py --sizes 1000 --methods asha --epochs 27 --repeats 3
    python benchmarks/simulator_throughput.py --no-cache
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_ROOT = BENCH_DIR / ".venvs"
CACHE_DIR = BENCH_DIR / ".cache" / "simulator_throughput"
SYNE_TUNE_RUNNER = BENCH_DIR / "_syne_tune_runner.py"
HPO_CORE_RUNNER = BENCH_DIR / "_hpo_core_runner.py"

METHODS = ("rs", "asha", "pasha", "hyperband")
DEFAULT_SIZES = (1000, 5000, 50000)
DEFAULT_EPOCHS = (27, 81)
DEFAULT_VERSIONS = ("0.13.0", "0.16.0")
SYNE_TUNE_MAX_SIZE = 5000
#: Syne Tune 0.13.0's PASHA slows down with every trial (about 100 s at 1,000 trials with 27
#: epochs on the reference machine, so some 40 minutes at 5,000): by default it is run at 1,000
#: trials only.
SYNE_TUNE_PASHA_MAX_SIZE = 1000
WARM_UP_SIZE = 20
QUICK_SIZES = (50, 200)
QUICK_EPOCHS = (9,)
N_WORKERS = 4
#: Targets: the speed-up at these sizes, flatness of our rate, our peak RSS at large sizes.
SPEEDUP_TARGET = 50.0
SPEEDUP_TARGET_SIZES = (1000, 5000)
FLAT_FRACTION = 0.8
RSS_LIMIT_MB = 400.0
RSS_CHECK_SIZE = 50000
RUN_TIMEOUT_S = 3600.0
INSTALL_TIMEOUT_S = 1800.0

#: What to pip-install for a Syne Tune release, beyond which ``syne-tune==<v>`` is the default.
SYNE_TUNE_REQUIREMENTS: dict[str, list[str]] = {
    "0.13.0": ["syne-tune[blackbox-repository]==0.13.0", "numpy<1.24", "pandas<3"],
    "0.16.0": ["syne-tune==0.16.0", "huggingface_hub"],
}

#: Configurations on which both implementations of the learning curve must agree.
CURVE_CHECK_CONFIGS: list[dict[str, Any]] = [
    {
        "learning_rate": 3e-3,
        "num_units": 128,
        "dropout": 0.2,
        "optimizer": "adam",
        "batch_size": 32,
    },
    {"learning_rate": 1e-4, "num_units": 16, "dropout": 0.0, "optimizer": "sgd", "batch_size": 8},
    {
        "learning_rate": 1.0,
        "num_units": 512,
        "dropout": 0.6,
        "optimizer": "rmsprop",
        "batch_size": 128,
    },
    {
        "learning_rate": 0.0421,
        "num_units": 77,
        "dropout": 0.37,
        "optimizer": "sgd",
        "batch_size": 16,
    },
    {
        "learning_rate": 2.5e-4,
        "num_units": 300,
        "dropout": 0.11,
        "optimizer": "adam",
        "batch_size": 64,
    },
]
CURVE_RTOL = 1e-12




class MeasurementError(RuntimeError):
    """A run, an install or a check that could not be completed."""


@dataclass(frozen=True)
class Measurement:
    library: str
    version: str
    method: str
    max_t: int
    size: int
    results: int
    trials_started: int
    seconds: float
    write_seconds: float
    results_per_second: float
    file_bytes: int
    peak_rss_mb: float
    peak_rss_before_write_mb: float = math.nan
    load: float = math.nan
    measured_at: str = ""
    cached: bool = False

    @property
    def label(self) -> str:
        return f"{self.library} {self.version}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        return cls(
            library=str(data["library"]),
            version=str(data["version"]),
            method=str(data["method"]),
            max_t=int(data["max_t"]),
            size=int(data["size"]),
            results=int(data["results"]),
            trials_started=int(data["trials_started"]),
            seconds=float(data["seconds"]),
            write_seconds=float(data["write_seconds"]),
            results_per_second=float(data["results_per_second"]),
            file_bytes=int(data["file_bytes"]),
            peak_rss_mb=float(data["peak_rss_mb"]),
            peak_rss_before_write_mb=float(data.get("peak_rss_before_write_mb", math.nan)),
            load=float(data.get("load", math.nan)),
            measured_at=str(data.get("measured_at", "")),
        )


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def run_child(
    python: Path | str,
    script: Path,
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> dict[str, Any]:
    """Run ``script`` in a fresh ``python`` process and return the JSON it writes to ``--out``.

    The child's own output (Syne Tune prints a line per trial) goes to a log file, shown only
    if the child fails.
    """
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        out = Path(tmp) / "result.json"
        log = Path(tmp) / "child.log"
        command = [str(python), str(script), *args, "--out", str(out)]
        with log.open("w") as log_file:
            try:
                completed = subprocess.run(
                    command,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=tmp,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                raise MeasurementError(
                    f"timed out after {timeout:.0f} s: {' '.join(command)}"
                ) from err
        if completed.returncode != 0 or not out.exists():
            raise MeasurementError(
                f"exit status {completed.returncode}: {' '.join(command)}\n{_tail(log)}"
            )
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def hpo_core_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def syne_tune_env() -> dict[str, str]:
    """The environment for a Syne Tune child: no ``PYTHONPATH`` leaking into its venv."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _venv_works(venv: Path, version: str) -> bool:
    python = _venv_python(venv)
    if not python.exists():
        return False
    try:
        info = run_child(python, SYNE_TUNE_RUNNER, ["check"], env=syne_tune_env(), timeout=300)
    except MeasurementError:
        return False
    return info.get("version") == version


def pip_install(python: Path, requirements: list[str], log: Path) -> None:
    """``pip install requirements`` with ``python`` (a venv's), output appended to ``log``."""
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
               *requirements]
    with log.open("a") as log_file:
        try:
            done = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT,
                                  env=syne_tune_env(), timeout=INSTALL_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as err:
            raise MeasurementError(f"timed out: {' '.join(command)} (log: {log})") from err
    if done.returncode != 0:
        raise MeasurementError(f"failed: {' '.join(command)}\n{_tail(log)}")


def ensure_syne_tune_venv(version: str) -> Path:
    """Python of a venv holding Syne Tune ``version``, created and installed if needed."""
    venv = VENV_ROOT / f"syne-tune-{version}"
    if _venv_works(venv, version):
        return _venv_python(venv)
    requirements = SYNE_TUNE_REQUIREMENTS.get(version, [f"syne-tune=={version}"])
    print(f"installing Syne Tune {version} into {venv} ({' '.join(requirements)})", flush=True)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    log = VENV_ROOT / f"syne-tune-{version}-install.log"
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [
            str(_venv_python(venv)),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            *requirements,
        ],
    ]
    with log.open("w") as log_file:
        for step in steps:
            try:
                completed = subprocess.run(
                    step,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=syne_tune_env(),
                    timeout=INSTALL_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                raise MeasurementError(f"timed out: {' '.join(step)} (log: {log})") from err
            if completed.returncode != 0:
                raise MeasurementError(f"failed: {' '.join(step)}\n{_tail(log)}")
    if not _venv_works(venv, version):
        raise MeasurementError(f"Syne Tune {version} does not import in {venv} (log: {log})")
    return _venv_python(venv)


def check_curves(syne_tune_pythons: dict[str, Path], max_t: int) -> None:
    """Both learning-curve implementations must give the same numbers."""
    args = ["curves", "--max-t", str(max_t), "--configs", json.dumps(CURVE_CHECK_CONFIGS)]
    reference = run_child(sys.executable, HPO_CORE_RUNNER, args, env=hpo_core_env())["curves"]
    for version, python in syne_tune_pythons.items():
        other = run_child(python, SYNE_TUNE_RUNNER, args, env=syne_tune_env())["curves"]
        if len(other) != len(reference):
            raise MeasurementError(
                f"Syne Tune {version}: {len(other)} curves, expected {len(reference)}"
            )
        worst = 0.0
        for config, ours, theirs in zip(CURVE_CHECK_CONFIGS, reference, other, strict=True):
            for key in ("error", "elapsed_time"):
                a, b = ours[key], theirs[key]
                if len(a) != max_t or len(b) != max_t:
                    raise MeasurementError(f"curve {key} of {config}: lengths {len(a)}, {len(b)}")
                for x, y in zip(a, b, strict=True):
                    if not math.isclose(x, y, rel_tol=CURVE_RTOL, abs_tol=0.0):
                        raise MeasurementError(
                            f"Syne Tune {version} blackbox differs from hpo_core's on {config}: "
                            f"{key} {y!r} != {x!r}"
                        )
                    worst = max(worst, abs(x - y) / max(abs(x), 1e-300))
        print(
            f"curve check vs syne-tune {version}: {len(reference)} configs x {max_t} epochs "
            f"agree (max relative difference {worst:.1e})",
            flush=True,
        )




def syne_tune_methods(python: Path) -> list[str]:
    """The methods of :data:`METHODS` the Syne Tune in ``python``'s venv has."""
    info = run_child(python, SYNE_TUNE_RUNNER, ["check"], env=syne_tune_env(), timeout=300)
    return [str(m) for m in info.get("methods", ["rs", "asha"])]


def check_hpo_core() -> None:
    """hpo_core and the dependencies a run needs import with this interpreter."""
    try:
        run_child(sys.executable, HPO_CORE_RUNNER, ["check"], env=hpo_core_env(), timeout=300)
    except MeasurementError as err:
        raise MeasurementError(
            f"hpo_core does not import with {sys.executable} (install it with "
            f"`pip install -e .` from {REPO_ROOT}): {err}"
        ) from err


def _run_args(method: str, size: int, max_t: int, seed: int) -> list[str]:
    options = {"--method": method, "--num-trials": size, "--max-t": max_t, "--seed": seed}
    return ["run", *(part for item in options.items() for part in map(str, item))]


def _stamp(data: dict[str, Any], load: float) -> Measurement:
    data = {**data, "load": load, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    return Measurement.from_json(data)


def _load() -> float:
    """One-minute load average now (the figure next to each timing)."""
    return os.getloadavg()[0]


def measure_hpo_core(method: str, size: int, max_t: int, seed: int) -> Measurement:
    load = _load()
    args = _run_args(method, size, max_t, seed)
    return _stamp(run_child(sys.executable, HPO_CORE_RUNNER, args, env=hpo_core_env()), load)


def measure_syne_tune(python: Path, method: str, size: int, max_t: int, seed: int) -> Measurement:
    load = _load()
    args = _run_args(method, size, max_t, seed)
    return _stamp(run_child(python, SYNE_TUNE_RUNNER, args, env=syne_tune_env()), load)


def _runner_digest() -> str:
    return hashlib.sha256(SYNE_TUNE_RUNNER.read_bytes()).hexdigest()


def cache_path(version: str, method: str, size: int, max_t: int, seed: int) -> Path:
    return CACHE_DIR / f"syne-tune-{version}_{method}_{size}-trials_{max_t}-epochs_seed-{seed}.json"


def load_cached(path: Path) -> list[Measurement]:
    """Cached runs at ``path``, none if absent, unreadable or made by another runner."""
    try:
        data = json.loads(path.read_text())
        if data.get("runner_sha256") != _runner_digest():
            return []
        return [replace(Measurement.from_json(run), cached=True) for run in data["runs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def store_cached(path: Path, runs: list[Measurement]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "runner_sha256": _runner_digest(),
        "runs": [{k: v for k, v in asdict(run).items() if k != "cached"} for run in runs],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


def syne_tune_runs(
    python: Path, version: str, method: str, size: int, max_t: int, seed: int, *,
    repeats: int, use_cache: bool,
) -> list[Measurement]:
    """``repeats`` runs of Syne Tune, from the cache where it has them (see module docstring)."""
    path = cache_path(version, method, size, max_t, seed)
    cached = load_cached(path) if use_cache else []
    if len(cached) >= repeats:
        return cached[:repeats]
    fresh = [
        measure_syne_tune(python, method, size, max_t, seed)
        for _ in range(repeats - len(cached))
    ]
    store_cached(path, [replace(run, cached=False) for run in cached] + fresh)
    return cached + fresh


def best_of(runs: list[Measurement]) -> Measurement:
    """The fastest run (least disturbed by other load), with the largest peak RSS of all."""
    best = max(runs, key=lambda run: run.results_per_second)
    return replace(best, peak_rss_mb=max(run.peak_rss_mb for run in runs))


Key = tuple[str, int, int]  # method, epochs, size


def format_table(measurements: list[Measurement], ratios: dict[tuple[str, Key], float]) -> str:
    header = ["library", "method", "epochs", "size", "trials", "results", "seconds", "write s",
              "results/s", "hpo_core/syne-tune", "peak RSS MB", "load", "source"]
    rows: list[list[str]] = []
    for m in measurements:
        key = (m.method, m.max_t, m.size)
        ratio = ratios.get((m.version, key)) if m.library == "syne-tune" else None
        rows.append([
            m.label, m.method, str(m.max_t), str(m.size), str(m.trials_started), str(m.results),
            f"{m.seconds:.2f}", f"{m.write_seconds:.2f}", f"{m.results_per_second:,.0f}",
            "-" if ratio is None else f"{ratio:.1f}x", f"{m.peak_rss_mb:.0f}",
            f"{m.load:.1f}", f"cached {m.measured_at}" if m.cached else "measured",
        ])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    left = {0, 1, len(header) - 1}

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _ints(parser: argparse.ArgumentParser, name: str, text: str) -> list[int]:
    try:
        values = [int(s) for s in _csv(text)]
    except ValueError:
        parser.error(f"{name} must be comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        parser.error(f"{name} must be positive integers")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Simulated results per second, results file included: hpo_core vs Syne "
        "Tune (see module docstring)."
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="max_num_trials_started values, comma-separated")
    parser.add_argument("--epochs", "--max-t", dest="epochs",
                        default=",".join(map(str, DEFAULT_EPOCHS)),
                        help="epochs per trial (max_t), comma-separated")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--versions", default=",".join(DEFAULT_VERSIONS),
                        help="Syne Tune versions, comma-separated")
    parser.add_argument("--syne-tune-max-size", type=int, default=SYNE_TUNE_MAX_SIZE,
                        help="largest size Syne Tune is run at (default %(default)s)")
    parser.add_argument("--syne-tune-pasha-max-size", type=int, default=SYNE_TUNE_PASHA_MAX_SIZE,
                        help="largest size Syne Tune's PASHA is run at (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per measurement; the fastest counts (default 1)")
    parser.add_argument("--no-cache", action="store_true",
                        help="measure Syne Tune again instead of reusing cached runs")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: sizes {','.join(map(str, QUICK_SIZES))}, epochs "
                        f"{','.join(map(str, QUICK_EPOCHS))} unless given")
    args = parser.parse_args(argv)
    if args.quick and args.sizes == parser.get_default("sizes"):
        args.sizes = ",".join(map(str, QUICK_SIZES))
    if args.quick and args.epochs == parser.get_default("epochs"):
        args.epochs = ",".join(map(str, QUICK_EPOCHS))
    args.size_list = _ints(parser, "--sizes", args.sizes)
    args.epoch_list = _ints(parser, "--epochs", args.epochs)
    args.method_list = _csv(args.methods)
    if not args.method_list or set(args.method_list) - set(METHODS):
        parser.error(f"--methods must be a subset of {','.join(METHODS)}")
    args.version_list = _csv(args.versions)
    if not args.version_list:
        parser.error("--versions must name at least one Syne Tune version")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    failures: list[str] = []

    try:
        check_hpo_core()
    except MeasurementError as err:
        print(f"FAILED: {err}")
        return 1
    pythons: dict[str, Path] = {}
    methods_of: dict[str, list[str]] = {}
    for version in args.version_list:
        try:
            pythons[version] = ensure_syne_tune_venv(version)
            methods_of[version] = syne_tune_methods(pythons[version])
        except MeasurementError as err:
            failures.append(f"syne-tune {version}: {err}")
            pythons.pop(version, None)
            methods_of.pop(version, None)
    for max_t in args.epoch_list:
        try:
            check_curves(pythons, max_t)
        except MeasurementError as err:
            failures.append(f"curve check ({max_t} epochs): {err}")

    def syne_tune_runs_at(method: str, size: int) -> bool:
        limit = args.syne_tune_pasha_max_size if method == "pasha" else args.syne_tune_max_size
        return size <= min(limit, args.syne_tune_max_size)

    plan: list[tuple[str, str, int, int]] = [
        (version, method, max_t, size)
        for max_t in args.epoch_list
        for size in args.size_list
        for method in args.method_list
        for version in ["hpo_core", *args.version_list]
        if version == "hpo_core" or syne_tune_runs_at(method, size)
    ]
    skipped = sorted({
        (method, size) for method in args.method_list for size in args.size_list
        if size <= args.syne_tune_max_size and not syne_tune_runs_at(method, size)
    })
    # One untimed run of each library first: the first process to load the libraries from
    # disk is slower than the rest.
    for version in ["hpo_core", *pythons]:
        try:
            if version == "hpo_core":
                measure_hpo_core("rs", WARM_UP_SIZE, min(args.epoch_list), args.seed)
            else:
                measure_syne_tune(pythons[version], "rs", WARM_UP_SIZE, min(args.epoch_list),
                                  args.seed)
        except MeasurementError as err:
            failures.append(f"warm-up run of {version}: {err}")
    measurements: list[Measurement] = []
    not_available: list[str] = []
    for i, (version, method, max_t, size) in enumerate(plan, start=1):
        name = "hpo_core" if version == "hpo_core" else f"syne-tune {version}"
        prefix = f"[{i}/{len(plan)}] {name} {method} {max_t} epochs {size} trials:"
        if version != "hpo_core":
            if version not in pythons:
                continue  # install failure, already recorded
            if method not in methods_of[version]:
                if f"{name} {method}" not in not_available:
                    not_available.append(f"{name} {method}")
                print(f"{prefix} n/a (not in this release)", flush=True)
                continue
        try:
            if version == "hpo_core":
                runs = [measure_hpo_core(method, size, max_t, args.seed)
                        for _ in range(args.repeats)]
            else:
                runs = syne_tune_runs(pythons[version], version, method, size, max_t, args.seed,
                                      repeats=args.repeats, use_cache=not args.no_cache)
        except MeasurementError as err:
            failures.append(f"{name} {method} {max_t} epochs {size} trials: {err}")
            print(f"{prefix} FAILED", flush=True)
            continue
        m = best_of(runs)
        measurements.append(m)
        rates = ", ".join(f"{run.results_per_second:,.0f}" for run in runs)
        source = f"cached from {m.measured_at}" if m.cached else f"load {m.load:.1f}"
        print(
            f"{prefix} {m.results} results in {m.seconds:.2f} s (write {m.write_seconds:.2f} s) "
            f"= {m.results_per_second:,.0f} results/s (runs: {rates}), peak RSS "
            f"{m.peak_rss_mb:.0f} MB, {source}",
            flush=True,
        )

    ours = {(m.method, m.max_t, m.size): m for m in measurements if m.library == "hpo_core"}
    ratios: dict[tuple[str, Key], float] = {}
    for m in measurements:
        key = (m.method, m.max_t, m.size)
        if m.library == "syne-tune" and key in ours:
            ratios[(m.version, key)] = ours[key].results_per_second / m.results_per_second
    expected = {
        (version, (method, max_t, size))
        for version in args.version_list
        for method in args.method_list
        for max_t in args.epoch_list
        for size in args.size_list
        if method in methods_of.get(version, METHODS) and syne_tune_runs_at(method, size)
    }
    missing = expected - ratios.keys()
    if missing and not failures:
        failures.append(f"{len(missing)} of {len(expected)} ratios could not be computed")

    cached = sum(m.cached for m in measurements)
    print()
    print(
        f"n_workers={N_WORKERS}, seed={args.seed}, best of {args.repeats} run(s). Timed: "
        "Tuner.run() recording every result, plus writing results.csv.zip (hpo_core: the "
        "launcher's writer; Syne Tune: its results callback at the end of Tuner.run()). "
        "results/s = results recorded / timed seconds; 'write s' = the part spent writing; "
        "load = 1-minute load average when the run started (2 cores)."
    )
    if cached:
        print(
            f"{cached} Syne Tune figure(s) from the cache {CACHE_DIR.relative_to(REPO_ROOT)} "
            "(measured at the time shown, possibly under another load); --no-cache measures "
            "them again."
        )
    print(format_table(measurements, ratios))
    if not_available:
        print(f"n/a: {', '.join(not_available)} (no such method in that release)")
    for method, size in skipped:
        print(f"not run: Syne Tune {method} at {size} trials (too slow for the default; "
              f"--syne-tune-{method}-max-size {size} adds it); no ratio for it")
    print()
    print(check_targets(args, ours, ratios))

    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
    value = min(ratios.values()) if ratios and not missing else math.nan
    print(f"min_speedup_vs_syne_tune={value:.1f}")
    return 1 if failures else 0


def check_targets(
    args: argparse.Namespace, ours: dict[Key, Measurement], ratios: dict[tuple[str, Key], float]
) -> str:
    """The targets' lines: speed-up at the target sizes, flat rate, peak RSS."""
    lines = []
    for version in args.version_list:
        at_sizes = [r for (v, (_, _, size)), r in ratios.items()
                    if v == version and size in SPEEDUP_TARGET_SIZES]
        if at_sizes:
            worst = min(at_sizes)
            verdict = "met" if worst >= SPEEDUP_TARGET else "NOT met"
            lines.append(
                f"speed-up vs syne-tune {version} at {'/'.join(map(str, SPEEDUP_TARGET_SIZES))}"
                f" trials: min {worst:.1f}x over {len(at_sizes)} cells (target >= "
                f"{SPEEDUP_TARGET:.0f}x) {verdict}"
            )
    smallest, largest = min(args.size_list), max(args.size_list)
    if largest > smallest:
        for method in args.method_list:
            for max_t in args.epoch_list:
                low, high = ours.get((method, max_t, smallest)), ours.get((method, max_t, largest))
                if low is None or high is None:
                    continue
                fraction = high.results_per_second / low.results_per_second
                verdict = "flat" if fraction >= FLAT_FRACTION else "NOT flat"
                lines.append(
                    f"hpo_core {method} {max_t} epochs: {high.results_per_second:,.0f} results/s "
                    f"at {largest} trials = {fraction:.2f} x the rate at {smallest} (target >= "
                    f"{FLAT_FRACTION}) {verdict}"
                )
    big = [m for m in ours.values() if m.size >= RSS_CHECK_SIZE]
    for m in big:
        verdict = "ok" if m.peak_rss_mb <= RSS_LIMIT_MB else "TOO HIGH"
        lines.append(
            f"hpo_core peak RSS, {m.method} {m.max_t} epochs {m.size} trials: "
            f"{m.peak_rss_mb:.0f} MB ({m.peak_rss_before_write_mb:.0f} MB before the write; "
            f"limit {RSS_LIMIT_MB:.0f} MB) {verdict}"
        )
    if not big:
        lines.append(f"hpo_core peak RSS check skipped: no run with >= {RSS_CHECK_SIZE} trials")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
