# Config validation (schema + registries), the study's master seed and target lists. Everything
# here runs when the Snakefile is read, so a bad config fails before any job starts.
import json
import os
import re
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from hpo_core.blackboxes.download import default_mirror_dirs
from hpo_core.blackboxes.repository import build_blackbox, set_aside_if_damaged
from hpo_core.experiments import methods as method_registry
from hpo_core.experiments.benchmarks import get_benchmark, resolve_benchmarks
from hpo_core.experiments.options import command_line_flags
from hpo_core.experiments.study import StudyError, check_schema, check_study

SCHEMA = Path(workflow.main_snakefile).parent / "workflow/schemas/config.schema.yaml"


def _check_config():
    """Schema, registries and every scheduler of the study, before Snakemake plans anything."""
    try:
        check_schema(config, SCHEMA)
        validate(config, schema="../schemas/config.schema.yaml")  # fills in the defaults
        try:
            mirrors = default_mirror_dirs(config.get("blackbox_mirror") or None)
        except ValueError as err:
            raise StudyError(f"config field 'blackbox_mirror': {err}") from None
        notes = check_study(config, blackbox_store=Path(config["blackbox_store"]),
                            raw_dir=Path(config["raw_dir"]), mirror_dirs=mirrors)
    except StudyError as err:
        raise WorkflowError(f"invalid study: {err}") from None
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


_check_config()
if config["expensive_methods"] is None:  # seed 001: model-based methods, one job per seed
    config["expensive_methods"] = [
        m for m in config["methods"] if method_registry.is_expensive_method(m)
    ]
BENCHMARK_NAMES = resolve_benchmarks(config["benchmarks"])


def _repair_damaged_blackboxes():
    """A truncated or corrupt blackbox file is moved aside (never deleted) and rebuilt from its
    verified raw files before the jobs are planned, instead of every job of its benchmark
    failing. Rebuilt here rather than by a job, so that finished runs stay up to date."""
    names = {get_benchmark(b).blackbox_name for b in BENCHMARK_NAMES} - {None}
    for name in sorted(names):
        path = Path(config["blackbox_store"]) / f"{name}.h5"
        note = set_aside_if_damaged(path)
        if not note:
            continue
        print(f"note: {note}", file=sys.stderr)
        try:
            build_blackbox(name, output=path, raw_dir=Path(config["raw_dir"]),
                           mirror_dirs=default_mirror_dirs(config.get("blackbox_mirror")))
        except ValueError as err:  # e.g. no source for a raw file: the jobs say so again
            print(f"note: rebuilding {path} failed: {err}", file=sys.stderr)
        else:
            print(f"note: rebuilt {path}", file=sys.stderr)


if workflow.is_main_process:
    _repair_damaged_blackboxes()

RESULTS = config["results_dir"]
BLACKBOX_STORE = config["blackbox_store"]
TAG = config["experiment_tag"]
SEEDS = list(range(config["start_seed"], config["num_seeds"]))
STUDY_FILE = Path(RESULTS) / TAG / "study.yaml"


def _persisted_seed():
    if not STUDY_FILE.exists():
        return None
    seed = (yaml.safe_load(STUDY_FILE.read_text()) or {}).get("random_seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"{STUDY_FILE}: 'random_seed' must be an integer in [0, 2**32)")
    return seed


def _persist_seed(seed, source):
    """Write the study file unless one exists (it is never overwritten); the seed it holds."""
    STUDY_FILE.parent.mkdir(parents=True, exist_ok=True)
    record = {"experiment_tag": TAG, "random_seed": seed, "source": source,
              "created": datetime.now(UTC).isoformat(timespec="seconds")}
    fd, tmp = tempfile.mkstemp(dir=STUDY_FILE.parent, prefix=".study-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(record, f, sort_keys=False)
        os.link(tmp, STUDY_FILE)  # atomic; fails if another run persisted a seed first
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return _persisted_seed()


def master_random_seed():
    """The study's master seed and, for a new study, where it came from (``None`` otherwise).

    A study's first real run persists the seed (``onstart`` below), never a dry run, a lint or
    a report; every later reading of the Snakefile (reruns, reports, jobs on cluster nodes)
    reads it back. A config seed that differs from the persisted one is an error, so one study
    never mixes seeds.
    """
    given = config["random_seed"]
    seed = _persisted_seed()
    if seed is None and not workflow.is_main_process:
        # Inside a job the main process has persisted the seed already; never draw here.
        if given is None:
            raise ValueError(f"no master seed: {STUDY_FILE} is missing on this node")
        return given, None
    if seed is None:
        return (secrets.randbits(32), "drawn") if given is None else (given, "config")
    if given is None and workflow.is_main_process:
        print(f"random_seed: {seed}, persisted in {STUDY_FILE}", file=sys.stderr)
    if given is not None and given != seed:
        raise ValueError(
            f"config field 'random_seed' ({given}) differs from the master seed {seed} of "
            f"study '{TAG}' persisted in {STUDY_FILE}; use random_seed: {seed} (or leave it "
            "out), or start a new study with another experiment_tag"
        )
    return seed, None


RANDOM_SEED, _SEED_SOURCE = master_random_seed()
config["random_seed"] = RANDOM_SEED  # the report shows it


onstart:
    if _SEED_SOURCE is not None:
        persisted = _persist_seed(RANDOM_SEED, _SEED_SOURCE)
        if persisted != RANDOM_SEED:  # another run of a new study with this tag came first
            raise ValueError(
                f"study '{TAG}': another run persisted the master seed {persisted} in "
                f"{STUDY_FILE} first; run again to use it"
            )
        if _SEED_SOURCE == "drawn":
            print(f"random_seed: drew {RANDOM_SEED}, persisted in {STUDY_FILE}", file=sys.stderr)


def run_dirs(benchmark):
    return [f"{RESULTS}/{TAG}/{benchmark}/{m}/{s}" for m in config["methods"] for s in SEEDS]


RUN_FILES = ("results.csv.zip", "metadata.json")


def run_files(benchmark):
    """Every file of every run of a benchmark (what its aggregate reads)."""
    return [f"{d}/{name}" for d in run_dirs(benchmark) for name in RUN_FILES]


def all_targets():
    """Plots and tables per benchmark, and every run's files: Snakemake regenerates a missing
    file only if it is a target or the input of a job that runs, so a deleted result is one."""
    return [
        *(f"{RESULTS}/{TAG}/plots/{b}-{kind}"
          for b in BENCHMARK_NAMES
          for kind in ("best-so-far.png", "rung-sizes.png", "final.csv", "final.html")),
        *(f for b in BENCHMARK_NAMES for f in run_files(b)),
    ]


def blackbox_input(wildcards):
    """The blackbox file a benchmark's runs read (none for blackboxes made in code)."""
    name = get_benchmark(wildcards.benchmark).blackbox_name
    # ancient: a blackbox rebuilt from the same verified raw files (after it was deleted or
    # damaged) does not make finished runs look outdated
    return [ancient(f"{BLACKBOX_STORE}/{name}.h5")] if name else []


def hpo_core_job(argv, log):
    """Run `hpo-core <argv>` for a job, its output in the job's log (the command heads it).

    When Snakemake runs jobs in this process (local runs, `force-use-threads` in the default
    profile), the command goes to warm worker processes that have the library imported and keep
    blackboxes loaded; in a job process of its own (cluster node, spawned job) it runs there.
    """
    from hpo_core.jobs import run_cli_job

    run_cli_job(argv, log=log[0], workers=workflow.cores if workflow.is_main_process else None)


def folder_of(path, relative):
    """The folder ``path`` lies in as ``<folder>/<relative>``, taken from a file Snakemake hands
    the job (not from the config), so that it holds wherever the job's files are staged."""
    parts, tail = Path(path).parts, Path(relative).parts
    if len(parts) <= len(tail) or parts[-len(tail):] != tail:
        raise ValueError(f"{path!r} does not end with {relative!r}")
    return str(Path(*parts[: -len(tail)]))


def _alternatives(names):
    """Regex matching exactly these names (longest first), or nothing if there are none."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or "(?!)"


def _optional_args(wildcards):
    """Flags for the config keys that are set; a job's flags depend only on its own method."""
    args = command_line_flags(config)
    overrides = config["method_args"].get(wildcards.method)
    if overrides:
        args += ["--method_args", json.dumps({wildcards.method: overrides})]
    return args
