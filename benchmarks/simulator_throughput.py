"""Simulator throughput of hpo_core against Syne Tune 0.13.0 and 0.16.0.

What is measured
    Simulated events per real second, where an event is one reported result: the result of one
    epoch of one trial, as recorded by the tuner (``len(tuner.results)`` for hpo_core, the rows
    kept by ``SimulatorCallback`` for Syne Tune). Two methods, each with 4 workers and seed 0:

    * ``rs``: random search (FIFO scheduler, random searcher);
    * ``asha``: ASHA, stopping type, grace period 1, reduction factor 3, one bracket, random
      searcher.

    Both libraries tune the same closed-form blackbox (``hpo_core/blackboxes/synthetic_curve.py``;
    re-implemented for Syne Tune in ``_syne_tune_runner.py``, and the two implementations are
    checked to give the same curves before anything is timed) over the same space: learning
    rate, units, dropout, optimizer, batch size, plus the constant ``epochs = max_t`` read by the
    backends as the maximum resource. Metric ``error`` is minimised, the resource is ``epoch`` and
    ``elapsed_time`` is the cumulative training time the simulators use as elapsed-time attribute.
    The run stops with ``max_num_trials_started`` set to each of ``--sizes``. Its meaning differs
    slightly: hpo_core stops once N trials have started, Syne Tune once more than N have (so
    N+1, or up to N+4 when several workers free up in one loop iteration); the table shows the
    trials actually started. Syne Tune's count of results also differs from the number of events
    here: its ``TuningStatus`` (and ``max_num_evaluations``) counts results that arrive in the
    same fetch after the scheduler stopped their trial, which the scheduler never sees and
    ``SimulatorCallback`` does not record.

How
    Every run is a fresh subprocess (hpo_core with this interpreter and ``PYTHONPATH`` at the
    repository; Syne Tune with the Python of its own venv), which times ``Tuner.run()`` only (no
    imports, no venv set-up) and reads its peak RSS with ``getrusage`` at the end. Syne Tune is
    configured as its simulator launcher (``hpo_main_simulator.py``) configures it:
    ``SimulatorCallback``, ``sleep_time=0``, results and status every 600 s, no tuner pickling;
    its results are written to a temporary ``SYNETUNE_FOLDER`` as usual.

    Each Syne Tune release is installed by this script into ``benchmarks/.venvs/syne-tune-<v>``
    (reused when it exists and imports). 0.13.0 installs with its ``blackbox-repository`` extra,
    which pins numpy < 1.24; numpy 1.23.5 has Python 3.11 wheels and pandas is held below 3 for
    it. 0.16.0 has no such extra, and its ``blackbox_repository`` package imports
    ``huggingface_hub`` at import time, so that is installed next to it.

Output
    A table (library/version, method, size, events, seconds, events/s, hpo_core/Syne Tune
    ratio, peak RSS), the peak RSS of hpo_core's 5,000-trial runs (which must stay within
    400 MB), and as last line ``speedup_vs_syne_tune=<x>``: the smallest ratio over methods,
    sizes and Syne Tune versions. The exit status is non-zero if any measurement or check fails.

Default ``--max-t 27``
    Measured on the 2-core reference machine, Syne Tune's simulator handles about 300 to 9,000
    events/s (0.16.0 ASHA falls to about 300 events/s at 5,000 trials), so at 27 epochs its
    eight runs take about 2 minutes and the whole benchmark, venvs already installed, about
    2.5 minutes (installing the two venvs the first time adds about 2 minutes). That leaves room
    for ``--repeats 3`` (about 8 minutes) within a 20-minute budget. 27 = 3**3 also gives ASHA
    complete rungs 1, 3, 9, 27.

Noise
    One run per measurement is the default. Timings of the same run vary by up to about 2x
    when anything else uses the two cores, which matters when a ratio is close to a target;
    ``--repeats N`` keeps the fastest of N fresh runs for every measurement.

Usage (from the repository root, with a Python that has hpo_core's dependencies)::

    python benchmarks/simulator_throughput.py
    python benchmarks/simulator_throughput.py --quick
    python benchmarks/simulator_throughput.py --sizes 1000 --methods asha --repeats 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_ROOT = BENCH_DIR / ".venvs"
SYNE_TUNE_RUNNER = BENCH_DIR / "_syne_tune_runner.py"
HPO_CORE_RUNNER = BENCH_DIR / "_hpo_core_runner.py"

DEFAULT_SIZES = (1000, 5000)
DEFAULT_METHODS = ("rs", "asha")
DEFAULT_VERSIONS = ("0.13.0", "0.16.0")
DEFAULT_MAX_T = 27
QUICK_SIZES = (50,)
QUICK_MAX_T = 9
RSS_LIMIT_MB = 400.0
RSS_CHECK_SIZE = 5000
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
    size: int
    events: int
    trials_started: int
    seconds: float
    events_per_second: float
    peak_rss_mb: float

    @property
    def label(self) -> str:
        return f"{self.library} {self.version}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        return cls(
            library=str(data["library"]),
            version=str(data["version"]),
            method=str(data["method"]),
            size=int(data["size"]),
            events=int(data["events"]),
            trials_started=int(data["trials_started"]),
            seconds=float(data["seconds"]),
            events_per_second=float(data["events_per_second"]),
            peak_rss_mb=float(data["peak_rss_mb"]),
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


def _run_args(method: str, size: int, max_t: int, seed: int) -> list[str]:
    options = {"--method": method, "--num-trials": size, "--max-t": max_t, "--seed": seed}
    return ["run", *(part for item in options.items() for part in map(str, item))]


def measure_hpo_core(method: str, size: int, max_t: int, seed: int) -> Measurement:
    args = _run_args(method, size, max_t, seed)
    return Measurement.from_json(
        run_child(sys.executable, HPO_CORE_RUNNER, args, env=hpo_core_env())
    )


def measure_syne_tune(python: Path, method: str, size: int, max_t: int, seed: int) -> Measurement:
    args = _run_args(method, size, max_t, seed)
    return Measurement.from_json(run_child(python, SYNE_TUNE_RUNNER, args, env=syne_tune_env()))


def format_table(measurements: list[Measurement], ratios: dict[tuple[str, str, int], float]) -> str:
    header = [
        "library",
        "method",
        "size",
        "trials",
        "events",
        "seconds",
        "events/s",
        "hpo_core/syne-tune",
        "peak RSS MB",
    ]
    rows: list[list[str]] = []
    for m in measurements:
        ratio = ratios.get((m.version, m.method, m.size)) if m.library == "syne-tune" else None
        rows.append(
            [
                m.label,
                m.method,
                str(m.size),
                str(m.trials_started),
                str(m.events),
                f"{m.seconds:.2f}",
                f"{m.events_per_second:,.0f}",
                "-" if ratio is None else f"{ratio:.1f}x",
                f"{m.peak_rss_mb:.0f}",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    left = {0, 1}

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Simulated events per second: hpo_core vs Syne Tune (see module docstring)."
    )
    parser.add_argument(
        "--sizes",
        type=str,
        default=",".join(map(str, DEFAULT_SIZES)),
        help="max_num_trials_started values, comma-separated",
    )
    parser.add_argument(
        "--methods",
        type=str,
        default=",".join(DEFAULT_METHODS),
        help="comma-separated subset of rs,asha",
    )
    parser.add_argument(
        "--versions",
        type=str,
        default=",".join(DEFAULT_VERSIONS),
        help="Syne Tune versions, comma-separated",
    )
    parser.add_argument(
        "--max-t",
        type=int,
        default=None,
        help=f"epochs per trial (default {DEFAULT_MAX_T}, {QUICK_MAX_T} with --quick)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="fresh runs per measurement; the fastest counts (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: sizes {','.join(map(str, QUICK_SIZES))}, "
        f"max_t {QUICK_MAX_T} unless given",
    )
    args = parser.parse_args(argv)
    sizes = _csv(args.sizes)
    if args.quick and args.sizes == parser.get_default("sizes"):
        sizes = [str(s) for s in QUICK_SIZES]
    try:
        args.size_list = [int(s) for s in sizes]
    except ValueError:
        parser.error(f"--sizes must be integers, got {args.sizes!r}")
    if not args.size_list or min(args.size_list) < 1:
        parser.error("--sizes must be positive integers")
    args.method_list = _csv(args.methods)
    unknown = set(args.method_list) - set(DEFAULT_METHODS)
    if not args.method_list or unknown:
        parser.error(f"--methods must be a subset of {','.join(DEFAULT_METHODS)}")
    args.version_list = _csv(args.versions)
    if not args.version_list:
        parser.error("--versions must name at least one Syne Tune version")
    if args.max_t is None:
        args.max_t = QUICK_MAX_T if args.quick else DEFAULT_MAX_T
    if args.max_t < 1:
        parser.error("--max-t must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    failures: list[str] = []

    pythons: dict[str, Path] = {}
    for version in args.version_list:
        try:
            pythons[version] = ensure_syne_tune_venv(version)
        except MeasurementError as err:
            failures.append(f"syne-tune {version}: {err}")
    try:
        check_curves(pythons, args.max_t)
    except MeasurementError as err:
        failures.append(f"curve check: {err}")

    measurements: list[Measurement] = []
    plan: list[tuple[str, str, int]] = [
        (version, method, size)
        for size in args.size_list
        for method in args.method_list
        for version in ["hpo_core", *args.version_list]
    ]
    for i, (version, method, size) in enumerate(plan, start=1):
        name = "hpo_core" if version == "hpo_core" else f"syne-tune {version}"
        prefix = f"[{i}/{len(plan)}] {name} {method} {size} trials:"
        if version != "hpo_core" and version not in pythons:
            continue  # install failure, already recorded
        try:
            runs = [
                measure_hpo_core(method, size, args.max_t, args.seed)
                if version == "hpo_core"
                else measure_syne_tune(pythons[version], method, size, args.max_t, args.seed)
                for _ in range(args.repeats)
            ]
        except MeasurementError as err:
            failures.append(f"{name} {method} {size}: {err}")
            print(f"{prefix} FAILED", flush=True)
            continue
        # Fastest repeat (least disturbed by other load); the largest peak RSS of all repeats.
        best = max(runs, key=lambda run: run.events_per_second)
        m = replace(best, peak_rss_mb=max(run.peak_rss_mb for run in runs))
        measurements.append(m)
        rates = ", ".join(f"{run.events_per_second:,.0f}" for run in runs)
        print(
            f"{prefix} {m.events} events in {m.seconds:.2f} s = "
            f"{m.events_per_second:,.0f} events/s (runs: {rates}), "
            f"peak RSS {m.peak_rss_mb:.0f} MB",
            flush=True,
        )

    ours = {(m.method, m.size): m for m in measurements if m.library == "hpo_core"}
    ratios: dict[tuple[str, str, int], float] = {}
    for m in measurements:
        reference = ours.get((m.method, m.size))
        if m.library == "syne-tune" and reference is not None:
            ratios[(m.version, m.method, m.size)] = (
                reference.events_per_second / m.events_per_second
            )
    expected_ratios = len(args.method_list) * len(args.size_list) * len(args.version_list)
    if len(ratios) != expected_ratios and not failures:
        failures.append(f"only {len(ratios)} of {expected_ratios} ratios could be computed")

    print()
    print(
        f"max_t={args.max_t} epochs, n_workers=4, seed={args.seed}, best of {args.repeats} "
        "run(s); event = one reported epoch result"
    )
    print(format_table(measurements, ratios))
    print()

    big_runs = [m for m in ours.values() if m.size >= RSS_CHECK_SIZE]
    if big_runs:
        for m in big_runs:
            verdict = "ok" if m.peak_rss_mb <= RSS_LIMIT_MB else "TOO HIGH"
            print(
                f"hpo_core peak RSS, {m.method} {m.size} trials: {m.peak_rss_mb:.0f} MB "
                f"(limit {RSS_LIMIT_MB:.0f} MB) {verdict}"
            )
            if m.peak_rss_mb > RSS_LIMIT_MB:
                failures.append(
                    f"hpo_core {m.method} {m.size}: peak RSS {m.peak_rss_mb:.0f} MB "
                    f"> {RSS_LIMIT_MB:.0f} MB"
                )
    else:
        print(f"hpo_core peak RSS check skipped: no run with >= {RSS_CHECK_SIZE} trials")

    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
    if len(ratios) != expected_ratios:
        return 1  # no speedup line: some figure is missing
    print(f"speedup_vs_syne_tune={min(ratios.values()):.1f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
