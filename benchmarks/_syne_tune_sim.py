"""Syne Tune 0.13.0's simulator on hpo_core's LCBench and YAHPO LCBench blackboxes (parent side).

What
    Helpers for comparing how many trials Syne Tune 0.13.0's simulator starts, and how many
    results it records, in a simulated budget with what hpo_core's simulator does on the same
    benchmark. Two benchmarks, named as in hpo_core's registry:

    * ``lcbench-<dataset>`` (e.g. ``lcbench-blood-transfusion-service-center``): hpo_core's
      LCBench table, which Syne Tune reads as its blackbox repository would hold it and wraps
      with the 1-NN surrogate of its ``lcbench-*`` benchmark definitions;
    * ``yahpo-lcbench-<instance>`` (e.g. ``yahpo-lcbench-3945``): the YAHPO Gym ``lcbench``
      surrogate, which Syne Tune runs through yahpo-gym 1.0.2 and its ``BlackBoxYAHPO``.

    Methods ``RS`` (``RandomSearch``) and ``ASHA`` (stopping type), Syne Tune's defaults
    otherwise; the run is configured as Syne Tune's simulator launcher
    (``hpo_main_simulator.py``) configures it. ``_syne_tune_sim_runner.py`` documents the
    details, and what Syne Tune counts.

How
    Syne Tune runs in a fresh subprocess with the Python of ``benchmarks/.venvs/syne-tune-0.13.0``
    (made by ``simulator_throughput.ensure_syne_tune_venv``; :func:`syne_tune_python` adds
    yahpo-gym 1.0.2 when ``import yahpo_gym`` fails there, with numpy held below 1.24 as Syne
    Tune 0.13.0's blackbox repository needs). The child never imports hpo_core; this side
    prepares its inputs under ``benchmarks/.cache/syne_tune_sim/``:

    * :func:`export_lcbench_table` writes hpo_core's table of an LCBench dataset (seed 0) to an
      ``.npz`` file (hyperparameter columns, objectives, fidelities, metadata with the config
      space); :func:`lcbench_table` keeps one per dataset and converter version;
    * :func:`yahpo_data_dir` lays out the raw files hpo_core fetches for a YAHPO family
      (verified against its catalogue; from hpo_core's raw directory, the configured mirrors or
      the repository's shipped ``blackboxes/mirror/``) as yahpo-gym expects them:
      ``<dir>/<scenario>/{config_space.json,encoding.json,model.onnx,...}``.

    :func:`run_syne_tune` runs one tuning run and returns the child's JSON;
    :func:`syne_tune_lcbench_surrogate` and :func:`syne_tune_yahpo_curves` return Syne Tune's
    answers for given configs, which :func:`check_lcbench_surrogate` and
    :func:`check_yahpo_curves` compare with the table and with hpo_core's blackboxes.

Usage (from the repository root, with hpo_core's Python)::

    python benchmarks/_syne_tune_sim.py check-surrogate --configs 200
    python benchmarks/_syne_tune_sim.py check-yahpo --configs 20
    python benchmarks/_syne_tune_sim.py run --benchmark yahpo-lcbench-3945 --method ASHA --seed 0
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from simulator_throughput import (
    BENCH_DIR,
    RUN_TIMEOUT_S,
    VENV_ROOT,
    MeasurementError,
    ensure_syne_tune_venv,
    pip_install,
    run_child,
    syne_tune_env,
)

SYNE_TUNE_VERSION = "0.13.0"
RUNNER = BENCH_DIR / "_syne_tune_sim_runner.py"
CACHE_DIR = BENCH_DIR / ".cache" / "syne_tune_sim"
#: Added to the Syne Tune venv for its YAHPO blackboxes; numpy and pandas stay where Syne Tune
#: 0.13.0's blackbox repository needs them (yahpo-gym itself holds ConfigSpace at <= 0.6.1).
YAHPO_REQUIREMENTS = ["numpy<1.24", "pandas<3", "yahpo-gym==1.0.2"]
DEFAULT_LCBENCH = "lcbench-blood-transfusion-service-center"
DEFAULT_YAHPO = "yahpo-lcbench-3945"
METHODS = ("RS", "ASHA", "ASHA-PROM", "PASHA")
#: hpo_core blackbox family -> the benchmark kind of the child.
KINDS = {"lcbench": "lcbench", "yahpo_lcbench": "yahpo-lcbench"}


# -- the venv --------------------------------------------------------------------------------------


def _check(python: Path) -> dict[str, Any] | None:
    """The child's ``check`` report, or None if it fails (e.g. yahpo-gym missing)."""
    if not python.exists():
        return None
    try:
        return run_child(python, RUNNER, ["check"], env=syne_tune_env(), timeout=300)
    except MeasurementError:
        return None


@functools.cache
def syne_tune_python() -> Path:
    """Python of the Syne Tune 0.13.0 venv, with yahpo-gym installed (both added if missing)."""
    python = ensure_syne_tune_venv(SYNE_TUNE_VERSION)
    if _check(python) is None:
        print(f"installing {' '.join(YAHPO_REQUIREMENTS)} into the Syne Tune venv", flush=True)
        pip_install(python, YAHPO_REQUIREMENTS,
                     VENV_ROOT / f"syne-tune-{SYNE_TUNE_VERSION}-yahpo.log")
        info = _check(python)
        if info is None:
            raise MeasurementError("Syne Tune's YAHPO blackboxes do not import (yahpo-gym)")
    return python


# -- inputs of the child ---------------------------------------------------------------------------


def _benchmark(name: str) -> tuple[Any, str, str]:
    """hpo_core's benchmark ``name``, the child's benchmark kind and the dataset / instance."""
    from hpo_core.experiments.benchmarks import get_benchmark

    benchmark = get_benchmark(name)
    if not isinstance(benchmark.blackbox, str):
        raise ValueError(f"{name}: not a repository blackbox")
    family, _, dataset = benchmark.blackbox.partition("/")
    if family not in KINDS:
        raise ValueError(f"{name}: Syne Tune runs only the families {sorted(KINDS)}, "
                         f"not {family!r}")
    return benchmark, KINDS[family], dataset


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def export_lcbench_table(benchmark: str, path: Path) -> dict[str, Any]:
    """Write hpo_core's table of the LCBench ``benchmark`` (seed 0) to ``path`` (``.npz``).

    Arrays: ``hp_<name>`` (one column per hyperparameter), ``objectives`` ``(configs,
    fidelities, objectives)``, ``fidelity_values`` and ``meta`` (JSON: benchmark, dataset,
    hyperparameter and objective names, the config space as ``hpo_core.space.space_to_dict``
    writes it, metric, mode, resource / max-resource / elapsed-time attributes, provenance).
    The blackbox file is built first if hpo_core has not built it yet.
    """
    from hpo_core import space as sp
    from hpo_core.experiments.launcher import load_benchmark_blackbox

    definition, kind, dataset = _benchmark(benchmark)
    if kind != "lcbench":
        raise ValueError(f"{benchmark} is not an LCBench table")
    blackbox: Any = load_benchmark_blackbox(definition, store=None,
                                            restrict_configurations=True)
    space = blackbox.config_space
    names = list(sp.hyperparameters(space))
    meta = {
        "benchmark": benchmark,
        "dataset": dataset,
        "hyperparameters": names,
        "space": sp.space_to_dict(space),
        "objective_names": list(blackbox.objective_names),
        "metric": definition.metric,
        "mode": definition.mode,
        "resource_attr": definition.resource_attr,
        "max_resource_attr": definition.max_resource_attr,
        "elapsed_time_attr": definition.elapsed_time_attr,
        "provenance": blackbox.provenance,
    }
    objectives = np.asarray(blackbox.objectives[:, 0], dtype=np.float64)
    arrays: dict[str, Any] = {
        "meta": np.array(json.dumps(meta, default=_plain)),
        "objectives": objectives,
        "fidelity_values": np.asarray(blackbox.fidelity_values),
        **{f"hp_{name}": np.asarray(blackbox.hyperparameters[name]) for name in names},
    }
    np.savez_compressed(path, **arrays)
    return {"table": str(path), "rows": int(objectives.shape[0]),
            "fidelities": int(objectives.shape[1]), "objectives": meta["objective_names"],
            "hyperparameters": names}


def lcbench_table(benchmark: str = DEFAULT_LCBENCH) -> Path:
    """The exported table of ``benchmark``, written once per hpo_core LCBench converter version."""
    from hpo_core.blackboxes.converters.lcbench import VERSION

    table = CACHE_DIR / f"{benchmark}-converter-{VERSION}.npz"
    if not table.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
            partial = Path(tmp) / table.name
            export_lcbench_table(benchmark, partial)
            partial.replace(table)
    return table


def yahpo_data_dir(instance_family: str = "yahpo_lcbench") -> Path:
    """A yahpo-gym data directory holding ``<scenario>/`` for the hpo_core family.

    The family's raw files are fetched with hpo_core's verified download into
    ``benchmarks/.cache/syne_tune_sim/yahpo_raw/`` (copied from hpo_core's raw directory or a
    mirror when there), and ``yahpo_data/<scenario>`` links to their folder.
    """
    from hpo_core.blackboxes.catalogue import load_catalogue
    from hpo_core.blackboxes.converters.yahpo import SCENARIOS
    from hpo_core.blackboxes.download import DownloadError, default_mirror_dirs, fetch
    from hpo_core.blackboxes.repository import default_raw_dir

    if instance_family not in SCENARIOS:
        raise ValueError(f"unknown YAHPO family {instance_family!r}; known: {sorted(SCENARIOS)}")
    scenario = SCENARIOS[instance_family].scenario
    raw = CACHE_DIR / "yahpo_raw"
    try:
        mirrors = [d for d in [default_raw_dir()] if d.is_dir()] + default_mirror_dirs()
        for entry in load_catalogue().files(instance_family):
            fetch(entry.path, raw_dir=raw, mirror_dirs=mirrors, progress=True)
    except DownloadError as err:
        raise MeasurementError(f"raw files of {instance_family}: {err}") from err
    data = CACHE_DIR / "yahpo_data"
    data.mkdir(parents=True, exist_ok=True)
    link = data / scenario
    target = Path("..") / "yahpo_raw" / instance_family
    if link.is_symlink() and Path(os.readlink(link)) != target:
        link.unlink()
    if not link.exists():
        link.symlink_to(target, target_is_directory=True)
    return data


# -- calling the child -----------------------------------------------------------------------------


def _queries_file(tmp: str, queries: Sequence[Mapping[str, Any]]) -> Path:
    path = Path(tmp) / "queries.json"
    path.write_text(json.dumps([{k: _plain(v) for k, v in q.items()} for q in queries]))
    return path


def syne_tune_lcbench_surrogate_report(
    table: Path, queries: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The child's full ``lcbench-surrogate`` answer: curves, neighbour rows, objective names."""
    python = syne_tune_python()
    with tempfile.TemporaryDirectory(prefix="st-sim-") as tmp:
        args = ["lcbench-surrogate", "--table", str(table),
                "--queries", str(_queries_file(tmp, queries))]
        return run_child(python, RUNNER, args, env=syne_tune_env())


def syne_tune_lcbench_surrogate(
    table: Path, queries: Sequence[Mapping[str, Any]]
) -> list[list[list[float]]]:
    """Syne Tune's 1-NN LCBench surrogate at ``queries``: per config, ``[fidelity][objective]``
    in the objective order of Syne Tune's LCBench recipe (``LCBENCH_OBJECTIVES`` of the child)."""
    curves: list[list[list[float]]] = syne_tune_lcbench_surrogate_report(table, queries)[
        "curves"]
    return curves


def syne_tune_yahpo_curves(
    instance: str, queries: Sequence[Mapping[str, Any]], *, family: str = "yahpo_lcbench"
) -> dict[str, Any]:
    """Syne Tune's YAHPO curves at ``queries`` (raw, and elapsed times as its backend uses them)."""
    python = syne_tune_python()
    data = yahpo_data_dir(family)
    with tempfile.TemporaryDirectory(prefix="st-sim-") as tmp:
        args = ["yahpo-curves", "--yahpo-data", str(data), "--instance", instance,
                "--queries", str(_queries_file(tmp, queries))]
        return run_child(python, RUNNER, args, env=syne_tune_env())


def run_syne_tune(
    benchmark: str,
    method: str,
    seed: int,
    *,
    n_workers: int = 4,
    max_wallclock_time: float | None = None,
    max_num_evaluations: int | None = None,
    tuner_sleep_time: float | None = None,
    timeout: float = RUN_TIMEOUT_S,
) -> dict[str, Any]:
    """One Syne Tune simulated run of hpo_core's ``benchmark`` (see the child's docstring).

    ``max_wallclock_time`` defaults to the benchmark's budget, ``tuner_sleep_time`` to Syne
    Tune's 5 s. Returns the child's JSON: ``trials_started``, ``num_results`` (recorded),
    ``num_results_counted`` (by Syne Tune's ``TuningStatus``), ``last_result_time``,
    ``max_result_time``, ``seconds`` (real, ``Tuner.run()`` only), ``results`` as ``[trial_id,
    resource, st_tuner_time, metric]``, and the settings.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    definition, kind, dataset = _benchmark(benchmark)
    python = syne_tune_python()
    budget = definition.max_wallclock_time if max_wallclock_time is None else max_wallclock_time
    args = ["run", "--benchmark", kind, "--method", method, "--seed", str(seed),
            "--n-workers", str(n_workers), "--max-wallclock-time", str(budget)]
    if kind == "lcbench":
        args += ["--table", str(lcbench_table(benchmark))]
    else:
        args += ["--yahpo-data", str(yahpo_data_dir(definition.blackbox.partition("/")[0])),
                 "--instance", dataset]
    if max_num_evaluations is not None:
        args += ["--max-num-evaluations", str(max_num_evaluations)]
    if tuner_sleep_time is not None:
        args += ["--tuner-sleep-time", str(tuner_sleep_time)]
    result = run_child(python, RUNNER, args, env=syne_tune_env(), timeout=timeout)
    result["hpo_core_benchmark"] = benchmark
    return result


# -- checks ----------------------------------------------------------------------------------------


def _matching_rows(table: np.ndarray, curve: np.ndarray) -> list[int]:
    """Rows of ``table`` ``(configs, fidelities, objectives)`` whose float32 curve is ``curve``."""
    same = np.all(table.astype(np.float32) == curve.astype(np.float32)[None], axis=(1, 2))
    return [int(i) for i in np.flatnonzero(same)]


def check_lcbench_surrogate(
    benchmark: str = DEFAULT_LCBENCH, num_configs: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Syne Tune's 1-NN answers at random configs, against the table and hpo_core's 1-NN.

    Configs are drawn uniformly from hpo_core's space (``hpo_core.space.sample_configs`` with
    ``numpy.random.default_rng(seed)``). For each, the table rows whose curve (all of Syne
    Tune's objectives, compared as float32, the precision its repository stores) equals Syne
    Tune's answer, the row its 1-NN reports, and the row whose curve hpo_core's benchmark
    answers with (``load_benchmark_blackbox(..., restrict_configurations=False).curve``).
    """
    from hpo_core import space as sp
    from hpo_core.experiments.launcher import load_benchmark_blackbox

    definition, kind, _ = _benchmark(benchmark)
    if kind != "lcbench":
        raise ValueError(f"{benchmark} is not an LCBench table")
    table_path = lcbench_table(benchmark)
    data = np.load(table_path, allow_pickle=False)
    meta = json.loads(str(data["meta"]))
    ours = load_benchmark_blackbox(definition, store=None, restrict_configurations=False)
    configs = sp.sample_configs(ours.config_space, num_configs, np.random.default_rng(seed))
    report = syne_tune_lcbench_surrogate_report(table_path, configs)
    names = report["objective_names"]
    columns = [meta["objective_names"].index(n) for n in names]
    table = np.asarray(data["objectives"], dtype=float)[:, :, columns]
    our_columns = [ours.objective_names.index(n) for n in names]
    rows = []
    for config, curve, reported in zip(configs, report["curves"], report["neighbour_rows"],
                                       strict=True):
        theirs = _matching_rows(table, np.asarray(curve))
        mine = _matching_rows(table, ours.curve(config, 0).objectives[:, our_columns])
        rows.append({"config": {k: _plain(v) for k, v in config.items()},
                     "syne_tune_rows": theirs, "syne_tune_neighbour": [reported],
                     "hpo_core_rows": mine})
    one_row = sum(len(r["syne_tune_rows"]) == 1 for r in rows)
    consistent = sum(r["syne_tune_rows"] == r["syne_tune_neighbour"] for r in rows)
    same = sum(bool(r["syne_tune_rows"]) and r["syne_tune_rows"] == r["hpo_core_rows"]
               for r in rows)
    return {
        "benchmark": benchmark, "configs": num_configs, "seed": seed,
        "blackbox": report["blackbox"], "predict_curves": report["predict_curves"],
        "objective_names": names, "space_differences": report["space_differences"],
        "equal_to_one_row": one_row,
        "equal_to_no_row": sum(not r["syne_tune_rows"] for r in rows),
        "row_is_reported_neighbour": consistent,
        "same_row_as_hpo_core": same,
        "rows": rows,
    }


def check_yahpo_curves(
    benchmark: str = DEFAULT_YAHPO, num_configs: int = 20, seed: int = 0
) -> dict[str, Any]:
    """Syne Tune's YAHPO curves against hpo_core's at random configs of hpo_core's space.

    Per objective, the largest absolute difference over configs and fidelities; for the elapsed
    time also against Syne Tune's backend times (``max(t, 0.01)`` first, then at least 0.01 s
    more per epoch) and the number of configs whose raw time curve dips below zero or decreases
    (where hpo_core's clipped running maximum differs from the raw values).
    """
    from hpo_core import space as sp
    from hpo_core.experiments.launcher import load_benchmark_blackbox

    definition, kind, instance = _benchmark(benchmark)
    if kind != "yahpo-lcbench":
        raise ValueError(f"{benchmark} is not a YAHPO lcbench benchmark")
    ours = load_benchmark_blackbox(definition, store=None, restrict_configurations=False)
    configs = sp.sample_configs(ours.config_space, num_configs, np.random.default_rng(seed))
    family = definition.blackbox.partition("/")[0]
    report = syne_tune_yahpo_curves(instance, configs, family=family)
    theirs = np.asarray(report["curves"], dtype=float)  # (configs, fidelities, objectives)
    mine = np.stack([ours.curve(c, 0).objectives for c in configs])
    if list(report["fidelity_values"]) != [int(f) for f in ours.fidelity_values]:
        raise MeasurementError(f"fidelities differ: Syne Tune {report['fidelity_values']}, "
                               f"hpo_core {list(ours.fidelity_values)}")
    diffs = {}
    for j, name in enumerate(report["objective_names"]):
        a, b = theirs[:, :, j], mine[:, :, ours.objective_names.index(name)]
        diffs[name] = {"max_abs": float(np.max(np.abs(a - b))),
                       "max_rel": float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))}
    time_attr = definition.elapsed_time_attr
    raw = theirs[:, :, report["objective_names"].index(time_attr)]
    our_time = mine[:, :, ours.objective_names.index(time_attr)]
    backend = np.asarray(report["backend_times"], dtype=float)
    return {
        "benchmark": benchmark, "configs": num_configs, "seed": seed,
        "yahpo_gym": report["yahpo_gym"], "objective_names": report["objective_names"],
        "syne_tune_space": report["configuration_space"],
        "max_abs_difference": diffs,
        "time_backend_vs_hpo_core_max_abs": float(np.max(np.abs(backend - our_time))),
        "configs_with_negative_raw_time": int(np.sum(np.any(raw < 0, axis=1))),
        "configs_with_decreasing_raw_time": int(np.sum(np.any(np.diff(raw, axis=1) < 0,
                                                              axis=1))),
        "raw_time_min": float(raw.min()),
    }


# -- command line ----------------------------------------------------------------------------------


def _digest(rows: list[list[float]]) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    surrogate = sub.add_parser("check-surrogate", help="Syne Tune's LCBench 1-NN vs the table")
    surrogate.add_argument("--benchmark", default=DEFAULT_LCBENCH)
    surrogate.add_argument("--configs", type=int, default=200)
    surrogate.add_argument("--seed", type=int, default=0)
    yahpo = sub.add_parser("check-yahpo", help="Syne Tune's YAHPO curves vs hpo_core's")
    yahpo.add_argument("--benchmark", default=DEFAULT_YAHPO)
    yahpo.add_argument("--configs", type=int, default=20)
    yahpo.add_argument("--seed", type=int, default=0)
    run = sub.add_parser("run", help="one Syne Tune simulated run")
    run.add_argument("--benchmark", default=DEFAULT_LCBENCH)
    run.add_argument("--method", choices=METHODS, default="RS")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--n-workers", type=int, default=4)
    run.add_argument("--max-wallclock-time", type=float, default=None)
    run.add_argument("--max-num-evaluations", type=int, default=None)
    run.add_argument("--tuner-sleep-time", type=float, default=None)
    run.add_argument("--json", type=Path, default=None, help="write the full result here")
    args = parser.parse_args(argv)

    try:
        if args.command == "check-surrogate":
            result = check_lcbench_surrogate(args.benchmark, args.configs, args.seed)
            summary = {k: v for k, v in result.items() if k != "rows"}
            summary["syne_tune_rows"] = [r["syne_tune_rows"] for r in result["rows"]]
            summary["hpo_core_rows"] = [r["hpo_core_rows"] for r in result["rows"]]
            print(json.dumps(summary))
        elif args.command == "check-yahpo":
            print(json.dumps(check_yahpo_curves(args.benchmark, args.configs, args.seed)))
        else:
            result = run_syne_tune(
                args.benchmark, args.method, args.seed, n_workers=args.n_workers,
                max_wallclock_time=args.max_wallclock_time,
                max_num_evaluations=args.max_num_evaluations,
                tuner_sleep_time=args.tuner_sleep_time)
            if args.json is not None:
                args.json.write_text(json.dumps(result))
            summary = {k: v for k, v in result.items() if k != "results"}
            summary["results_digest"] = _digest(result["results"])
            print(json.dumps(summary))
    except MeasurementError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
