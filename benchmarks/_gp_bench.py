"""Helpers shared by ``searcher_latency.py`` and ``gp_quality.py`` (run in hpo_core's Python).

* the venvs: Syne Tune 0.13.0 (the one ``simulator_throughput.py`` installs, plus ``autograd``,
  which its GP searchers need) and Optuna with a CPU build of torch, each under
  ``benchmarks/.venvs/``;
* the table: the LCBench blood-transfusion table exported to ``benchmarks/.cache/`` for the
  other libraries, checked against hpo_core's lookups (table rows and 1-NN answers) before use;
* the methods: each benchmark row is keyed by a name of hpo_core's registry; asking for one that
  is not available there fails (:func:`require_methods`).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator_throughput import (
    BENCH_DIR,
    VENV_ROOT,
    MeasurementError,
    _tail,
    ensure_syne_tune_venv,
    hpo_core_env,
    pip_install,
    run_child,
    syne_tune_env,
)

CACHE_DIR = BENCH_DIR / ".cache"
HPO_CORE_RUNNER = BENCH_DIR / "_hpo_core_gp_runner.py"
SYNE_TUNE_RUNNER = BENCH_DIR / "_syne_tune_gp_runner.py"
OPTUNA_RUNNER = BENCH_DIR / "_optuna_runner.py"
SYNE_TUNE_VERSION = "0.13.0"
BENCHMARK = "lcbench-blood-transfusion-service-center"
#: Optuna's venv. Its GP sampler imports torch (this version is a CPU build), scipy (L-BFGS-B
#: and the normal distribution of its acquisition functions) and greenlet (to run its L-BFGS-B
#: restarts together); optuna declares none of them, so each is named here.
OPTUNA_REQUIREMENTS = ["optuna==5.0.0", "torch==2.13.0", "scipy==1.17.1", "greenlet"]
#: Methods Syne Tune 0.13.0 runs under the same name (see ``_syne_tune_gp_runner.py``).
SYNE_TUNE_METHODS = ("RS", "BO", "ASHA", "MOBSTER", "MOBSTER-JOINT", "MOBSTER-INDEP",
                     "HYPERTUNE-INDEP", "HYPERTUNE-JOINT")
__all__ = ["MeasurementError", "_tail", "hpo_core_env", "run_child", "syne_tune_env"]


def require_methods(names: Iterable[str]) -> list[str]:
    """``names`` if all are available in hpo_core's registry, else exit with the reason.

    A method that has not landed yet is an error, not a skipped row: the caller asked for it.
    """
    from hpo_core.experiments.methods import validate_methods

    try:
        return validate_methods(names)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None


def hyperband_type(method: str) -> str:
    """The Hyperband ``type`` of an hpo_core method (``"stopping"`` if it sets none)."""
    from hpo_core.experiments.methods import get_definition

    return str(get_definition(method).scheduler_kwargs.get("type", "stopping"))


def _check_error(python: Path, script: Path) -> str | None:
    """Why ``script check`` fails in ``python`` (``None`` if it works)."""
    if not python.exists():
        return f"{python} does not exist"
    try:
        run_child(python, script, ["check"], env=syne_tune_env(), timeout=300)
    except MeasurementError as err:
        return str(err)
    return None


def _works(python: Path, script: Path) -> bool:
    return _check_error(python, script) is None


def ensure_syne_tune_gp_venv() -> Path:
    """Python of the Syne Tune 0.13.0 venv, with ``autograd`` added if missing."""
    python = ensure_syne_tune_venv(SYNE_TUNE_VERSION)
    if not _works(python, SYNE_TUNE_RUNNER):
        print("installing autograd into the Syne Tune venv (GP searchers)", flush=True)
        pip_install(python, ["autograd"], VENV_ROOT / f"syne-tune-{SYNE_TUNE_VERSION}-gp.log")
        if not _works(python, SYNE_TUNE_RUNNER):
            raise MeasurementError("Syne Tune's GP searchers do not import (autograd)")
    return python


def ensure_optuna_venv() -> Path:
    """Python of ``benchmarks/.venvs/optuna``, created and installed if needed."""
    venv = VENV_ROOT / "optuna"
    python = venv / "bin" / "python"
    if _works(python, OPTUNA_RUNNER):
        return python
    print(f"installing {' '.join(OPTUNA_REQUIREMENTS)} into {venv}", flush=True)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    log = VENV_ROOT / "optuna-install.log"
    log.write_text("")
    done = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MeasurementError(f"cannot create {venv}: {done.stderr}")
    pip_install(python, OPTUNA_REQUIREMENTS, log)
    error = _check_error(python, OPTUNA_RUNNER)
    if error is not None:
        raise MeasurementError(f"Optuna's GP sampler does not run in {venv} (install log: "
                               f"{log}):\n{error}")
    return python


def single_threaded(env: dict[str, str]) -> dict[str, str]:
    """``env`` with BLAS, OpenMP and torch on one thread, as hpo_core's GP runs its BLAS.

    Results do not depend on it; on a 2-core machine shared with other runs, threads competing
    for cores make small GP fits many times slower and their timings erratic.
    """
    return env | {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS")}


def run_ours(args: list[str], *, timeout: float = 7200.0) -> dict[str, Any]:
    return run_child(sys.executable, HPO_CORE_RUNNER, args, env=hpo_core_env(), timeout=timeout)


def export_table() -> tuple[Path, str]:
    """The exported table (written once) and the sha256 of the data it was made from."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    from hpo_core.blackboxes.converters.lcbench import VERSION

    # keyed by the converter version: a new curve convention is a new table
    table = CACHE_DIR / f"{BENCHMARK}-converter-{VERSION}.npz"
    if not table.exists():
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
            partial = Path(tmp) / table.name
            run_ours(["export", "--table", str(partial)], timeout=600)
            partial.replace(table)
    import numpy as np

    meta = json.loads(str(np.load(table, allow_pickle=False)["meta"]))
    digest = hashlib.sha256(json.dumps(meta["provenance"], sort_keys=True).encode()).hexdigest()
    return table, digest


def check_table(st_python: Path, table: Path, num_configs: int = 40) -> str:
    """Both lookups must give the same curves: table rows and configs off the table."""
    with tempfile.TemporaryDirectory() as tmp:
        obs_file = Path(tmp) / "observations.json"
        run_ours(["observations", "--size", str(num_configs), "--kind", "final",
                  "--pending", "0", "--seed", "7", "--observations", str(obs_file)])
        configs = [o["config"] for o in json.loads(obs_file.read_text())["observations"]]
        # Off-table configs: each tabulated one with two values moved (answered by 1-NN).
        for i, config in enumerate(list(configs)):
            moved = dict(config)
            moved["momentum"] = round(0.1 + 0.89 * ((i * 0.37) % 1.0), 4)
            moved["num_layers"] = 1 + (i % 5)
            configs.append(moved)
        config_file = Path(tmp) / "configs.json"
        config_file.write_text(json.dumps(configs))
        ours = run_ours(["curves", "--configs", str(config_file)])["curves"]
        theirs = run_child(st_python, SYNE_TUNE_RUNNER,
                           ["curves", "--table", str(table), "--configs", str(config_file)],
                           env=syne_tune_env())["curves"]
    for config, a, b in zip(configs, ours, theirs, strict=True):
        flat_a = [v for row in a for v in row]
        flat_b = [v for row in b for v in row]
        if len(flat_a) != len(flat_b) or not all(
            math.isclose(x, y, rel_tol=1e-12, abs_tol=0.0) for x, y in zip(flat_a, flat_b,
                                                                            strict=True)
        ):
            raise MeasurementError(f"Syne Tune's table lookup differs from hpo_core's at {config}")
    return (f"table check: {len(configs)} configs ({num_configs} tabulated, {num_configs} "
            "answered by 1-NN) give identical curves in hpo_core and in the Syne Tune wrapper")


def format_table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Plain-text table; the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
