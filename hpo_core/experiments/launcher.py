"""Run experiments (benchmark x method x seed) and write their results atomically.

A run writes ``results_dir/<tag>/<benchmark>/<method>/<seed>/`` with ``results.csv.zip`` and
``metadata.json`` (written last). Scheduler seeds derive from the master random seed and the
seed index only, so every method of a repetition gets the same one (paired comparison).

:func:`check_experiments` builds the scheduler of every (benchmark, method) pair of a sequence
once before anything runs, so that bad input fails early; :func:`run_experiment` runs one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core.backends.overheads import SIMULATOR_OVERHEADS
from hpo_core.blackboxes.base import Blackbox
from hpo_core.experiments.benchmarks import SurrogateBenchmark, get_benchmark
from hpo_core.experiments.methods import (
    MethodArguments,
    MethodDoesNotFitError,
    apply_method_args,
    check_method_fits_benchmark,
    check_restrictable,
    get_definition,
)
from hpo_core.experiments.options import FCNET_ORDINAL, RUN_OPTIONS, check_options
from hpo_core.results import DECISIONS, ResultsStore, write_csv_zip
from hpo_core.schedulers.base import Scheduler


def run_seed(random_seed: int, seed: int) -> int:
    """Scheduler seed of repetition ``seed``: the same for every method (paired comparison)."""
    return int(np.random.SeedSequence([random_seed, seed]).generate_state(1)[0])


def blackbox_seed_stream(random_seed: int, seed: int) -> int:
    """Seed of repetition ``seed``'s per-trial blackbox-seed draws: the same for every method,
    so the i-th trial of each method replays the same training repetition."""
    return int(np.random.SeedSequence([random_seed, seed, 1]).generate_state(1)[0])


#: Distributions whose versions are recorded with every run (those not installed are left out).
VERSIONED_PACKAGES = ("hpo_core", "numpy", "scipy", "pandas", "h5py", "scikit-learn",
                      "onnxruntime")


def fcnet_init_lr(space: dict[str, Any], kind: str) -> dict[str, Any]:
    """fcnet's ``hp_init_lr`` as a categorical (``none``) or an ordinal of the given kind.

    The values stay the same, so table lookups are unaffected; only how methods see the
    hyperparameter (sampling is uniform either way; model-based methods encode it) changes.
    """
    if kind not in FCNET_ORDINAL:
        raise ValueError(f"fcnet_ordinal must be one of {list(FCNET_ORDINAL)}, got {kind!r}")
    from hpo_core import space as sp

    if kind == "none" or "hp_init_lr" not in space:
        return space
    values = space["hp_init_lr"].values
    return {**space, "hp_init_lr": sp.ordinal(values, kind=kind)}


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One run: a method on a benchmark for one seed, with the launcher's options.

    Attributes:
        experiment_tag: Name of the study (lowercase letters, digits and ``-``).
        benchmark: Benchmark name (:data:`~hpo_core.experiments.benchmarks.BENCHMARKS`).
        method: Method name (:data:`~hpo_core.experiments.methods.METHODS`).
        seed: Repetition index.
        random_seed: Master random seed of the study.
        n_workers: Overrides the benchmark's default number of workers.
        max_wallclock_time: Overrides the benchmark's default time budget (seconds).
        max_num_evaluations: Overrides the benchmark's default cap on reported results (Syne
            Tune's ``StoppingCriterion(max_num_evaluations=...)``; LCBench 4,000, YAHPO iaml and
            rbv2 1,000, others none); ``None`` keeps the benchmark's.
        scale_max_wallclock_time: If ``n_workers`` is given and ``max_wallclock_time`` is not,
            scale the benchmark's budget by ``B / min(A, B)`` (see :func:`resolve_budget`).
        restrict_configurations: Methods suggest only configs the table holds.
        fcnet_ordinal: Domain of fcnet's ``hp_init_lr`` (:func:`fcnet_init_lr`).
        max_size_data_for_model: Data limit for the surrogate model of model-based methods.
        use_long_tuner_name_prefix: Tuner name prefix ``<tag>-<benchmark>-<seed>`` (else
            ``<tag>``); see :func:`tuner_name`.
        method_args: Overrides merged into the method's arguments
            (:func:`~hpo_core.experiments.methods.apply_method_args`).
        blackbox_seed: The blackbox seed (training repetition of a tabulated config) every
            trial is replayed from; ``None`` (default, as Syne Tune's tabulated backend) draws
            one per trial from the run's own generator, so fcnet's 4 and NASBench-201's 3
            repetitions show their noise, reproducibly and paired across methods.
        charge_decision_time: Add each scheduler decision's real compute time to the simulated
            clock, as Syne Tune's simulator does (model-based methods then lose simulated time
            to their fits). Off by default: results would depend on the machine and its load,
            so a run would not be reproducible.
        simulator_overheads: ``"none"`` (default): the exact event-driven timeline, results seen
            when their epoch ends; ``"syne_tune"``: Syne Tune 0.13.0's simulated delays and
            polling tuner (:mod:`hpo_core.backends.overheads`), to reproduce its published
            numbers like for like.
    """

    experiment_tag: str
    benchmark: str
    method: str
    seed: int
    random_seed: int
    n_workers: int | None = None
    max_wallclock_time: float | None = None
    max_num_evaluations: int | None = None
    scale_max_wallclock_time: bool = False
    restrict_configurations: bool = False
    fcnet_ordinal: str = "nn-log"
    max_size_data_for_model: int | None = None
    use_long_tuner_name_prefix: bool = True
    method_args: Mapping[str, Any] = field(default_factory=dict)
    blackbox_seed: int | None = None
    charge_decision_time: bool = False
    simulator_overheads: str = "none"

    def directory(self, results_dir: Path) -> Path:
        return results_dir / self.experiment_tag / self.benchmark / self.method / str(self.seed)


def resolve_budget(
    benchmark: SurrogateBenchmark,
    *,
    n_workers: int | None,
    max_wallclock_time: float | None,
    scale_max_wallclock_time: bool,
) -> tuple[int, float]:
    """Number of workers and time budget of a run.

    Given values override the benchmark's defaults. With ``scale_max_wallclock_time``, if
    ``n_workers`` (A) is given but ``max_wallclock_time`` is not, the benchmark's budget is
    multiplied by ``B / min(A, B)`` with B the benchmark's default ``n_workers``: fewer workers
    run for longer, more workers keep the default budget.

    Example:
        >>> b = get_benchmark("synthetic")  # 4 workers, 3600 s
        >>> resolve_budget(b, n_workers=2, max_wallclock_time=None, scale_max_wallclock_time=True)
        (2, 7200.0)
    """
    workers = benchmark.n_workers if n_workers is None else n_workers
    if max_wallclock_time is not None:
        return workers, float(max_wallclock_time)
    budget = float(benchmark.max_wallclock_time)
    if scale_max_wallclock_time and n_workers is not None:
        budget *= benchmark.n_workers / min(n_workers, benchmark.n_workers)
    return workers, budget


def tuner_name(experiment: Experiment, *, now: datetime | None = None) -> str:
    """Name of a run: prefix, date-time and a 3-hex-digit hash.

    The prefix is ``<tag>-<benchmark>-<seed>`` with ``use_long_tuner_name_prefix`` (characters
    other than letters, digits and ``-`` in the benchmark name become ``-``), else ``<tag>``.
    The name is recorded in ``metadata.json``; the results directory does not depend on it.
    """
    now = now or datetime.now(UTC)
    prefix = experiment.experiment_tag
    if experiment.use_long_tuner_name_prefix:
        benchmark = re.sub(r"[^A-Za-z0-9-]", "-", experiment.benchmark)
        prefix += f"-{benchmark}-{experiment.seed}"
    stamp = now.strftime("%Y-%m-%d-%H-%M-%S")
    digest = hashlib.sha256(
        f"{prefix}|{experiment.method}|{now.isoformat()}|{time.perf_counter_ns()}".encode()
    ).hexdigest()
    return f"{prefix}-{stamp}-{digest[:3]}"


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of Python and of :data:`VERSIONED_PACKAGES` that are installed."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


class RungSizes:
    """Extra results: number of entries at each rung level (seed 001), for schedulers with
    rungs (they have ``information_for_rungs``)."""

    #: The counts change only when the scheduler records a result.
    supports_bulk = True

    def __init__(self, levels: list[int]) -> None:
        self.levels = levels

    def keys(self) -> list[str]:
        return [f"num_at_level{r}" for r in self.levels]

    def __call__(self, tuner: Any) -> dict[str, Any] | None:
        info = getattr(tuner.scheduler, "information_for_rungs", None)
        if info is None:
            return None
        return {f"num_at_level{i.level}": i.num_entries for i in info()}


def results_columns(
    results: ResultsStore, *, metric: str, mode: str, max_resource: int | None = None,
    constants: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of a run's ``results.csv.zip``: :meth:`ResultsStore.columns` (with
    ``best_<metric>``), ``st_status`` (:func:`~hpo_core.experiments.syne_tune_format.st_status`:
    ``Completed`` at ``max_resource``, by default the largest resource reported), and a
    column for each of ``constants`` (the same value on every row).
    """
    import pandas as pd

    from hpo_core.experiments.syne_tune_format import ST_STATUS

    columns = results.columns(metric=metric, mode=mode)
    resources = results.resources()
    if max_resource is None:
        max_resource = int(resources.max()) if len(resources) else 0
    names = [ST_STATUS[d.value] for d in DECISIONS]
    codes = results.decision_codes().astype(np.int8)
    codes[resources >= max_resource] = len(names)
    columns["st_status"] = pd.Categorical.from_codes(codes, pd.Index([*names, "Completed"]))
    columns.update(constants or {})
    return columns


def write_results(
    results: ResultsStore, path: Path, *, metric: str, mode: str,
    max_resource: int | None = None, constants: Mapping[str, Any] | None = None,
) -> None:
    """Write ``results.csv.zip`` (:func:`results_columns`) as pandas' ``to_csv`` writes the
    same table, with :func:`hpo_core.results.write_csv_zip`."""
    write_csv_zip(path, results_columns(results, metric=metric, mode=mode,
                                        max_resource=max_resource, constants=constants))


#: Blackboxes a process keeps for later runs (a sequence of runs, a warm workflow worker).
BLACKBOX_CACHE_SIZE = 4
_blackbox_cache: OrderedDict[tuple[Any, ...], Blackbox] = OrderedDict()


def load_benchmark_blackbox(
    benchmark: SurrogateBenchmark, *, store: Path | None, restrict_configurations: bool
) -> Blackbox:
    """The benchmark's blackbox, with its surrogate attached unless configs are restricted.

    The last :data:`BLACKBOX_CACHE_SIZE` blackboxes loaded from files are kept and returned
    again while their file is unchanged (same size and modification time). Runs only read
    them: queries are answered the same whether a blackbox is fresh or reused.
    """
    if not isinstance(benchmark.blackbox, str):
        return benchmark.blackbox()
    from hpo_core.blackboxes.repository import blackbox_file, load_blackbox

    path = blackbox_file(benchmark.blackbox, store)
    key = None
    if path.exists():
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, benchmark.surrogate,
               json.dumps(benchmark.surrogate_kwargs, sort_keys=True), restrict_configurations)
        if key in _blackbox_cache:
            _blackbox_cache.move_to_end(key)
            return _blackbox_cache[key]
    blackbox = _with_surrogate(
        load_blackbox(benchmark.blackbox, store=store), benchmark, restrict_configurations
    )
    if key is not None:
        _blackbox_cache[key] = blackbox
        while len(_blackbox_cache) > BLACKBOX_CACHE_SIZE:
            _blackbox_cache.popitem(last=False)
    return blackbox


def _with_surrogate(
    blackbox: Blackbox, benchmark: SurrogateBenchmark, restrict_configurations: bool
) -> Blackbox:
    from hpo_core.blackboxes.tabular import TabularBlackbox

    if benchmark.surrogate == "knn" and isinstance(blackbox, TabularBlackbox) and not (
        restrict_configurations
    ):
        from hpo_core.blackboxes.surrogate import NearestNeighbourSurrogate

        blackbox.surrogate = NearestNeighbourSurrogate(blackbox, **benchmark.surrogate_kwargs)
    return blackbox


@dataclass(frozen=True, kw_only=True)
class PreparedExperiment:
    """A run ready to start: its resolved method arguments, scheduler and budget."""

    method_arguments: MethodArguments
    scheduler: Scheduler
    max_wallclock_time: float
    max_num_evaluations: int | None


def prepare_experiment(
    experiment: Experiment, *, benchmark: SurrogateBenchmark, blackbox: Blackbox
) -> PreparedExperiment:
    """Method arguments (overrides applied, method variant resolved) and the scheduler.

    Raises:
        MethodDoesNotFitError: If the method cannot run on the benchmark.
        ValueError: For any other bad option or override.
    """
    from hpo_core.blackboxes.tabular import TabularBlackbox

    configurations = None
    if experiment.restrict_configurations:
        if not isinstance(blackbox, TabularBlackbox):
            raise ValueError(_NOT_TABULATED.format(benchmark=experiment.benchmark))
        configurations = blackbox.configurations()
    return _prepare(experiment, benchmark, dict(blackbox.config_space), configurations)


_NOT_TABULATED = (
    "restrict_configurations needs a tabulated blackbox; {benchmark!r} is a surrogate model"
)


def _prepare(
    experiment: Experiment, benchmark: SurrogateBenchmark, config_space: dict[str, Any],
    configurations: list[dict[str, Any]] | None,
) -> PreparedExperiment:
    definition = get_definition(experiment.method)
    check_method_fits_benchmark(experiment.method, benchmark)
    if experiment.restrict_configurations:
        check_restrictable(experiment.method)
    check_options(experiment)
    seed = experiment.blackbox_seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < benchmark.num_seeds):
        raise ValueError(
            f"blackbox_seed must be null (one drawn per trial) or an int in "
            f"[0, {benchmark.num_seeds}) for benchmark {experiment.benchmark!r}, got {seed!r}"
        )
    cap = experiment.max_num_evaluations
    if experiment.benchmark.startswith("fcnet-"):
        config_space = fcnet_init_lr(config_space, experiment.fcnet_ordinal)
    scheduler_kwargs: dict[str, Any] = {}
    if configurations is not None:
        scheduler_kwargs["search_options"] = {"restrict_configurations": configurations}
    n_workers, max_time = resolve_budget(
        benchmark, n_workers=experiment.n_workers,
        max_wallclock_time=experiment.max_wallclock_time,
        scale_max_wallclock_time=experiment.scale_max_wallclock_time,
    )
    arguments = MethodArguments(
        config_space=config_space,
        metric=benchmark.metric,
        mode=benchmark.mode,
        resource_attr=benchmark.resource_attr,
        max_resource_attr=benchmark.max_resource_attr,
        n_workers=n_workers,
        random_seed=run_seed(experiment.random_seed, experiment.seed),
        max_size_data_for_model=experiment.max_size_data_for_model,
        scheduler_kwargs=scheduler_kwargs,
    )
    if experiment.method_args:
        arguments = apply_method_args(arguments, experiment.method_args)
    resolved = definition.resolve(arguments, method=experiment.method)
    scheduler = definition.create(resolved, method=experiment.method)
    return PreparedExperiment(
        method_arguments=resolved, scheduler=scheduler, max_wallclock_time=max_time,
        max_num_evaluations=benchmark.max_num_evaluations if cap is None else cap)


def check_experiment_on_space(
    experiment: Experiment, *, benchmark: SurrogateBenchmark, config_space: dict[str, Any]
) -> None:
    """Build the experiment's scheduler on ``config_space`` without loading the blackbox.

    What :func:`prepare_experiment` checks, except the restricted configurations themselves
    (only whether the benchmark is tabulated): the workflow runs this for every
    (benchmark, method) pair of a study while it is parsed, before any job starts.

    Raises:
        MethodDoesNotFitError: If the method cannot run on the benchmark.
        ValueError: For any other bad option or override, naming it.
    """
    if experiment.restrict_configurations:
        check_restrictable(experiment.method)
        if not benchmark.tabulated:
            raise ValueError(_NOT_TABULATED.format(benchmark=experiment.benchmark))
    _prepare(experiment, benchmark, dict(config_space), None)


def check_experiments(
    experiments: Sequence[Experiment],
    *,
    blackbox_store: Path | None = None,
    skip_misfits: bool = False,
    loaded: dict[str, Blackbox] | None = None,
) -> tuple[list[Experiment], list[str]]:
    """Check a sequence before any of it runs; the experiments to run and what was skipped.

    Every (benchmark, method) pair is prepared once (its scheduler built on the benchmark's
    config space; each blackbox is loaded once for this), so unknown names, unavailable
    methods, methods that do not fit a benchmark and bad overrides all fail here.

    Args:
        experiments: The sequence.
        blackbox_store: Directory of blackbox files (default: the user cache).
        skip_misfits: Drop pairs whose method does not fit the benchmark (single fidelity, or
            hyperparameters a variant fixes) instead of raising, e.g. when the pairs come from
            "all methods" rather than from the user.
        loaded: If given, receives the blackbox of the first benchmark (the one that runs
            first), so that the runs need not load it again.

    Returns:
        The experiments to run (in the given order) and one note per skipped pair.

    Raises:
        ValueError: For the first problem found (naming the benchmark, the method and the
            field), or if every pair was skipped.
    """
    pairs: dict[tuple[str, str], Experiment] = {}
    for experiment in experiments:
        pairs.setdefault((experiment.benchmark, experiment.method), experiment)
    skipped: dict[tuple[str, str], str] = {}

    def misfit(pair: tuple[str, str], err: MethodDoesNotFitError) -> None:
        if not skip_misfits:
            raise err
        skipped[pair] = f"skipping benchmark {pair[0]!r} x method {pair[1]!r}: {err}"

    for name in dict.fromkeys(b for b, _ in pairs):
        benchmark = get_benchmark(name)
        fitting = []
        for (b, method), experiment in pairs.items():
            if b != name:
                continue
            get_definition(method)
            try:
                check_method_fits_benchmark(method, benchmark)
            except MethodDoesNotFitError as err:
                misfit((b, method), err)
            else:
                fitting.append(experiment)
        if not fitting:
            continue
        blackbox = load_benchmark_blackbox(
            benchmark, store=blackbox_store,
            restrict_configurations=fitting[0].restrict_configurations,
        )
        if loaded is not None and not loaded:
            loaded[name] = blackbox
        for experiment in fitting:
            pair = (experiment.benchmark, experiment.method)
            try:
                prepare_experiment(experiment, benchmark=benchmark, blackbox=blackbox)
            except MethodDoesNotFitError as err:
                misfit(pair, MethodDoesNotFitError(f"benchmark {pair[0]!r}: {err}"))
            except ValueError as err:
                named = str(err).startswith(f"method {pair[1]!r}")
                where = f"benchmark {pair[0]!r}" + ("" if named else f", method {pair[1]!r}")
                raise ValueError(f"{where}: {err}") from None
    runnable = [e for e in experiments if (e.benchmark, e.method) not in skipped]
    if experiments and not runnable:
        raise ValueError("nothing to run; " + "; ".join(skipped.values()))
    return runnable, list(skipped.values())


def _jsonable_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Scheduler kwargs for metadata; a table's restrict_configurations is summarised by its
    size (tens of thousands of configs would bloat every metadata.json)."""
    out = dict(kwargs)
    options = out.get("search_options")
    if isinstance(options, Mapping) and options.get("restrict_configurations") is not None:
        out["search_options"] = {
            **options,
            "restrict_configurations": {
                "num_configurations": len(options["restrict_configurations"])
            },
        }
    return out


def run_experiment(
    experiment: Experiment,
    results_dir: Path,
    *,
    blackbox_store: Path | None = None,
    benchmark: SurrogateBenchmark | None = None,
    blackbox: Blackbox | None = None,
    verbose: bool = False,
    progress_every: int = 100,
) -> Path:
    """Run and write ``results.csv.zip`` and ``metadata.json``; files appear only on success.

    Args:
        experiment: What to run.
        results_dir: Root of the results layout.
        blackbox_store: Directory of blackbox files (default: the user cache).
        benchmark: Definition to use instead of the registry entry named
            ``experiment.benchmark`` (e.g. one made in code); its name must match.
        blackbox: The benchmark's blackbox if already loaded (a sequence loads it once).
        verbose: Print progress to stderr (:class:`~hpo_core.experiments.progress.
            ProgressReporter`).
        progress_every: With ``verbose``, a status line at least every this many results.

    Returns:
        The run's directory.
    """
    from hpo_core.backends.overheads import OverheadSimulatorBackend
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.space import space_to_dict
    from hpo_core.tuner import StoppingCriterion, Tuner, TunerCallback

    if benchmark is None:
        benchmark = get_benchmark(experiment.benchmark)
    elif benchmark.name != experiment.benchmark:
        raise ValueError(
            f"benchmark definition {benchmark.name!r} does not match the experiment's "
            f"benchmark {experiment.benchmark!r}"
        )
    get_definition(experiment.method)
    check_method_fits_benchmark(experiment.method, benchmark)
    started = datetime.now(UTC)
    name = tuner_name(experiment, now=started)
    if blackbox is None:
        blackbox = load_benchmark_blackbox(
            benchmark, store=blackbox_store,
            restrict_configurations=experiment.restrict_configurations,
        )
    prepared = prepare_experiment(experiment, benchmark=benchmark, blackbox=blackbox)
    arguments, scheduler = prepared.method_arguments, prepared.scheduler
    rungs = getattr(scheduler, "information_for_rungs", None)
    extra = None if rungs is None else RungSizes([info.level for info in rungs()])
    from hpo_core.experiments.progress import ProgressFile, progress_path

    progress = ProgressFile(
        progress_path(results_dir, experiment.experiment_tag, experiment.benchmark,
                      experiment.method, experiment.seed),
        run={"benchmark": experiment.benchmark, "method": experiment.method,
             "seed": experiment.seed, "metric": arguments.metric, "mode": arguments.mode},
        budget=prepared.max_wallclock_time,
    )
    callbacks: list[TunerCallback] = [progress]
    if verbose:
        from hpo_core.experiments.progress import ProgressReporter

        callbacks.append(ProgressReporter(
            label=f"{experiment.benchmark}/{experiment.method}/{experiment.seed}",
            every=progress_every,
        ))
    backend_kwargs: dict[str, Any] = dict(
        blackbox=blackbox,
        elapsed_time_attr=benchmark.elapsed_time_attr,
        max_resource_attr=benchmark.max_resource_attr,
        seed=experiment.blackbox_seed,
        random_seed=blackbox_seed_stream(experiment.random_seed, experiment.seed),
    )
    overheads = SIMULATOR_OVERHEADS[experiment.simulator_overheads]
    tuner = Tuner(
        backend=SimulatorBackend(**backend_kwargs) if overheads is None
        else OverheadSimulatorBackend(overheads=overheads, **backend_kwargs),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(
            max_wallclock_time=prepared.max_wallclock_time,
            max_num_evaluations=prepared.max_num_evaluations,
        ),
        n_workers=arguments.n_workers,
        callbacks=callbacks,
        extra_results=extra,
        resource_attr=arguments.resource_attr,
        charge_decision_time=experiment.charge_decision_time,
    )
    tic = time.perf_counter()
    try:
        summary = tuner.run()
    except BaseException as err:
        progress.write(tuner, "failed", error=f"{type(err).__name__}: {err}")
        raise
    from hpo_core.experiments.syne_tune_format import syne_tune_metadata

    max_resource = arguments.config_space.get(arguments.max_resource_attr)
    metadata = {
        "experiment_tag": experiment.experiment_tag,
        "tuner_name": name,
        "benchmark": experiment.benchmark,
        "method": experiment.method,
        "seed": experiment.seed,
        "random_seed": experiment.random_seed,
        "scheduler_random_seed": arguments.random_seed,
        **{o.name: getattr(experiment, o.name) for o in RUN_OPTIONS if o.experiment_field},
        # the budget as resolved (the options above hold what was asked for)
        "n_workers": arguments.n_workers,
        "max_wallclock_time": prepared.max_wallclock_time,
        "max_num_evaluations": prepared.max_num_evaluations,
        "benchmark_defaults": {"n_workers": benchmark.n_workers,
                               "max_wallclock_time": benchmark.max_wallclock_time,
                               "max_num_evaluations": benchmark.max_num_evaluations},
        "metric": arguments.metric,
        "mode": arguments.mode,
        "resource_attr": arguments.resource_attr,
        "blackbox_seeds": "per_trial" if experiment.blackbox_seed is None else "fixed",
        "method_args": dict(experiment.method_args),
        "method_arguments": {
            "config_space": space_to_dict(arguments.config_space),
            "metric": arguments.metric,
            "mode": arguments.mode,
            "resource_attr": arguments.resource_attr,
            "max_resource_attr": arguments.max_resource_attr,
            "n_workers": arguments.n_workers,
            "random_seed": arguments.random_seed,
            "max_size_data_for_model": arguments.max_size_data_for_model,
            "scheduler_kwargs": _jsonable_kwargs(arguments.scheduler_kwargs),
        },
        "scheduler": scheduler.metadata(),
        "blackbox": benchmark.blackbox_name or experiment.benchmark,
        "blackbox_provenance": getattr(blackbox, "provenance", None),
        "best_metric": summary.best_metric,
        "best_config": summary.best_config,
        "num_trials_started": summary.num_trials_started,
        "num_results": summary.num_results,
        "real_seconds": time.perf_counter() - tic,
        "versions": dict(package_versions()),
        "start_time": started.isoformat(),
        "end_time": datetime.now(UTC).isoformat(),
        # What Syne Tune's result tools read (hpo_core's own keys above stay as they are).
        **syne_tune_metadata(
            tag=experiment.experiment_tag, method=experiment.method,
            scheduler_name=type(scheduler).__name__, metric=arguments.metric,
            mode=arguments.mode, config_space=arguments.config_space, created=started,
            started=started,
        ),
    }
    target = experiment.directory(results_dir)
    target.mkdir(parents=True, exist_ok=True)
    # Each file is written under a temporary name and renamed, metadata.json last: a crashed run
    # never leaves files that look complete.
    with tempfile.TemporaryDirectory(dir=target, prefix=".tmp-") as tmp:
        write_results(
            tuner.results, Path(tmp) / "results.csv.zip", metric=arguments.metric,
            mode=arguments.mode, max_resource=max_resource if isinstance(max_resource, int)
            else None,
            constants={"benchmark": experiment.benchmark, "method": experiment.method,
                       "seed": experiment.seed},
        )
        (Path(tmp) / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str))
        os.replace(Path(tmp) / "results.csv.zip", target / "results.csv.zip")
        os.replace(Path(tmp) / "metadata.json", target / "metadata.json")
    return target
