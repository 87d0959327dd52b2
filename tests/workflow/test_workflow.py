"""End to end through Snakemake: a tiny study, reruns after a failure or a crash, the master
seed, seed grouping, the report, bad configs and the shipped study configs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hpo_core.experiments.benchmarks import resolve_benchmarks

ROOT = Path(__file__).resolve().parents[2]
# Jobs call `python -m hpo_core`: the interpreter running the tests.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def make_project(tmp_path: Path, config: dict[str, object]) -> Path:
    for name in ("Snakefile", "workflow", "profiles"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    write_config(tmp_path, config)
    return tmp_path


def write_config(project: Path, config: dict[str, object]) -> None:
    (project / "config").mkdir(exist_ok=True)
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=project, capture_output=True, text=True, timeout=600, env=ENV,
    )


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table Snakemake prints before running: rule -> number of jobs."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


TINY = {
    "experiment_tag": "tiny",
    "random_seed": 7,
    "benchmarks": ["synthetic"],
    "methods": ["RS", "ASHA"],
    "num_seeds": 2,
    "max_wallclock_time": 300,
}


def test_tiny_study_runs_end_to_end_and_second_run_does_nothing(tmp_path: Path) -> None:
    project = make_project(tmp_path, TINY)
    first = snakemake(project)
    assert first.returncode == 0, first.stderr
    results = project / "results" / "tiny"
    for method in ("RS", "ASHA"):
        for seed in (0, 1):
            run = results / "synthetic" / method / str(seed)
            assert json.loads((run / "metadata.json").read_text())["random_seed"] == 7
            df = pd.read_csv(run / "results.csv.zip")
            assert df["st_tuner_time"].max() <= 300
    aggregate = pd.read_parquet(results / "aggregate" / "synthetic.parquet")
    assert set(aggregate["method"]) == {"RS", "ASHA"}
    assert set(aggregate["seed"]) == {0, 1}
    assert aggregate.loc[aggregate["method"] == "ASHA", "num_at_level1"].max() > 0
    assert aggregate.loc[aggregate["method"] == "RS", "num_at_level1"].isna().all()
    plots = results / "plots"
    assert (plots / "synthetic-best-so-far.png").stat().st_size > 10_000
    assert (plots / "synthetic-rung-sizes.png").stat().st_size > 10_000
    table = pd.read_csv(plots / "synthetic-final.csv")
    assert sorted(table["method"]) == ["ASHA", "RS"]
    assert table["mean_rank"].sum() == pytest.approx(3.0)  # ranks 1 and 2 per seed
    assert "mean_rank" in (plots / "synthetic-final.html").read_text()
    assert yaml.safe_load((results / "study.yaml").read_text())["random_seed"] == 7
    second = snakemake(project)
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr

    report = snakemake(project, "--report", "report.html")
    assert report.returncode == 0, report.stderr
    html = (project / "report.html").read_text()
    for shown in ("synthetic-best-so-far.png", "synthetic-rung-sizes.png",
                  "synthetic-final.html", "Best so far", "Rung sizes", "Final table",
                  "Sizes of the rung levels", "mean rank over seeds", "Study"):
        assert shown in html, shown


def test_failed_seed_reruns_alone(tmp_path: Path) -> None:
    project = make_project(tmp_path, {**TINY, "experiment_tag": "fail"})
    results = project / "results" / "fail"
    # A non-empty directory where ASHA seed 1 renames its results.csv.zip: that job fails for
    # real (Snakemake leaves non-empty directories in place), the others do not.
    blocker = results / "synthetic" / "ASHA" / "1" / "results.csv.zip"
    (blocker / "in-the-way").mkdir(parents=True)
    first = snakemake(project, "--keep-going")
    assert first.returncode != 0
    assert "Error in rule run_cheap" in first.stderr
    assert "IsADirectoryError" in (results / "logs/run/synthetic/ASHA/1.log").read_text()
    done = [results / "synthetic" / m / str(s) / "metadata.json"
            for m, s in (("RS", 0), ("RS", 1), ("ASHA", 0))]
    assert all(path.exists() for path in done)
    assert not (results / "synthetic/ASHA/1/metadata.json").exists()
    assert not (results / "aggregate").exists()  # incomplete results are never aggregated
    assert not (results / "plots").exists()
    mtimes = [path.stat().st_mtime_ns for path in done]

    shutil.rmtree(blocker)
    second = snakemake(project, "--keep-going")
    assert second.returncode == 0, second.stderr
    assert job_counts(second.stdout + second.stderr) == {
        "run_cheap": 1, "aggregate": 1, "plot": 1, "all": 1,
    }
    ran = re.findall(r"wildcards: benchmark=(\w+), method=([\w-]+), seed=(\d+)", second.stderr)
    assert ran == [("synthetic", "ASHA", "1")]
    assert [path.stat().st_mtime_ns for path in done] == mtimes
    aggregate = pd.read_parquet(results / "aggregate" / "synthetic.parquet")
    assert len(aggregate.groupby(["method", "seed"])) == 4


def test_killed_run_completes_with_rerun_incomplete(tmp_path: Path) -> None:
    # ~1.5 s per run, so the kill lands while the first job is running.
    config = {**TINY, "experiment_tag": "kill", "methods": ["ASHA"], "max_wallclock_time": 25_000}
    project = make_project(tmp_path, config)
    results = project / "results" / "kill"
    aggregate = "results/kill/aggregate/synthetic.parquet"
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", aggregate], cwd=project, env=ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    logs = results / "logs" / "run" / "synthetic" / "ASHA"
    incomplete = project / ".snakemake" / "incomplete"

    def job_running() -> bool:  # its log started and Snakemake marked its outputs incomplete
        return (logs.exists() and any(logs.iterdir()) and incomplete.exists()
                and any(incomplete.iterdir()))

    deadline = time.monotonic() + 60
    while not job_running() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and its job, like a lost node
    proc.wait()
    started = next(logs.iterdir()).stem
    assert not (results / "synthetic" / "ASHA" / started / "metadata.json").exists()
    assert any(incomplete.iterdir())  # still marked as incomplete

    assert snakemake(project, "--unlock").returncode == 0  # the killed run's lock
    rerun = snakemake(project, "--rerun-incomplete", aggregate)
    assert rerun.returncode == 0, rerun.stderr
    for seed in (0, 1):
        meta = json.loads((results / "synthetic/ASHA" / str(seed) / "metadata.json").read_text())
        assert meta["seed"] == seed
        df = pd.read_csv(results / "synthetic/ASHA" / str(seed) / "results.csv.zip")
        assert df["st_tuner_time"].max() > 20_000  # the whole budget, not a cut-off run
    assert sorted(pd.read_parquet(project / aggregate)["seed"].unique()) == [0, 1]


def test_master_seed_is_drawn_once_persisted_and_reused(tmp_path: Path) -> None:
    config = {k: v for k, v in TINY.items() if k != "random_seed"}
    config.update(experiment_tag="drawn", methods=["RS"], num_seeds=1, max_wallclock_time=100)
    project = make_project(tmp_path, config)
    results = project / "results" / "drawn"
    runs = [f"results/drawn/synthetic/RS/{seed}/metadata.json" for seed in range(3)]
    # Planning, linting and reporting persist nothing: only a run does.
    assert snakemake(project, "-n", runs[0]).returncode == 0
    lint = snakemake(project, "--lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Congratulations, your workflow is in a good condition!" in lint.stdout + lint.stderr
    assert not (results / "study.yaml").exists()
    first = snakemake(project, runs[0])  # the runs only: aggregates and plots prove nothing here
    assert first.returncode == 0, first.stderr
    study = yaml.safe_load((results / "study.yaml").read_text())
    seed = study["random_seed"]
    assert f"random_seed: drew {seed}, persisted in results/drawn/study.yaml" in first.stderr
    meta0 = json.loads((results / "synthetic/RS/0/metadata.json").read_text())
    assert meta0["random_seed"] == seed
    study_text = (results / "study.yaml").read_text()

    # Second run: one more seed, and seed 0 recomputed from scratch; both use the same seed.
    shutil.rmtree(results / "synthetic" / "RS" / "0")
    write_config(project, {**config, "num_seeds": 2})
    second = snakemake(project, *runs[:2])
    assert second.returncode == 0, second.stderr
    assert "drew" not in second.stderr
    again0 = json.loads((results / "synthetic/RS/0/metadata.json").read_text())
    meta1 = json.loads((results / "synthetic/RS/1/metadata.json").read_text())
    assert again0["scheduler_random_seed"] == meta0["scheduler_random_seed"]
    assert meta1["random_seed"] == seed
    assert meta1["scheduler_random_seed"] != meta0["scheduler_random_seed"]
    assert (results / "study.yaml").read_text() == study_text

    # Giving the same seed is fine; another one is refused before any job.
    write_config(project, {**config, "num_seeds": 2, "random_seed": seed})
    assert "Nothing to be done" in snakemake(project, "-n", *runs[:2]).stdout
    write_config(project, {**config, "num_seeds": 3, "random_seed": (seed + 1) % 2**32})
    third = snakemake(project, *runs)
    assert third.returncode != 0
    assert f"config field 'random_seed' ({(seed + 1) % 2**32}) differs" in third.stderr
    assert f"master seed {seed}" in third.stderr
    assert not (results / "synthetic/RS/2").exists()
    assert (results / "study.yaml").read_text() == study_text


def test_cheap_seeds_share_a_cluster_job_expensive_ones_do_not(tmp_path: Path) -> None:
    project = make_project(tmp_path, {**TINY, "methods": ["RS", "BO"], "num_seeds": 3})
    # The Slurm profile's grouping, with the local executor standing in for the Slurm plugin
    # (in a dry run Snakemake forms the group jobs a cluster executor would submit).
    slurm = ("-n", "--profile", "profiles/slurm", "--executor", "local")
    grouped = snakemake(project, *slurm)
    assert grouped.returncode == 0, grouped.stderr
    out = grouped.stdout
    assert out.count("Group job seeds-synthetic-RS") == 1
    assert len(re.findall(r"^ +rule run_cheap:", out, re.M)) == 3  # all inside that group
    assert len(re.findall(r"^rule run_expensive:", out, re.M)) == 3  # BO: one job per seed
    assert "Group job seeds-synthetic-BO" not in out
    assert job_counts(out)["run_cheap"] == 3  # still one Snakemake job (and outputs) per seed

    ungrouped = snakemake(project, "-n")  # no --group-components: one group job per seed
    assert ungrouped.returncode == 0
    assert ungrouped.stdout.count("Group job seeds-synthetic-RS") == 3

    override = snakemake(project, *slurm, "--config", "expensive_methods=[]")
    assert override.returncode == 0, override.stderr
    assert override.stdout.count("Group job seeds-synthetic-BO") == 1
    assert "rule run_expensive:" not in override.stdout


START_SLURM = Path(__file__).resolve().parents[1] / "servers" / "start_slurm.sh"


def _slurm_partitions() -> tuple[list[tuple[str, str]], str]:
    try:
        found = subprocess.run(["sinfo", "--noheader", "--format=%P %t"], capture_output=True,
                               text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return [], str(err)
    rows = [line.split() for line in found.stdout.splitlines() if line.strip()]
    return [(p, t) for p, t in rows], f"{found.stdout.strip()!r} {found.stderr.strip()!r}"


@pytest.fixture(scope="module")
def slurm_partition() -> str:
    """The default partition of a running Slurm cluster; with none, one is started here
    (``tests/servers/start_slurm.sh``: single node, needs root and apt)."""
    partitions, said = _slurm_partitions()
    usable = [p.rstrip("*") for p, state in partitions if state in ("idle", "mix", "alloc")]
    if not usable:
        started = subprocess.run(["bash", str(START_SLURM)], capture_output=True, text=True,
                                 timeout=600)
        if started.returncode == 3:  # not root, no apt, or someone else's Slurm config
            pytest.skip(f"no Slurm cluster (sinfo: {said}) and none can be started here: "
                        f"{started.stderr.strip()}")
        assert started.returncode == 0, started.stderr
        partitions, said = _slurm_partitions()
        usable = [p.rstrip("*") for p, state in partitions if state in ("idle", "mix", "alloc")]
        assert usable, f"started Slurm has no usable node (sinfo: {said})"
    default = [p.rstrip("*") for p, _ in partitions if p.endswith("*")]
    return default[0] if default and default[0] in usable else usable[0]


def test_study_runs_on_slurm_with_the_seeds_of_a_cheap_method_in_one_job(
    tmp_path: Path, slurm_partition: str
) -> None:
    project = make_project(tmp_path, {**TINY, "experiment_tag": "slurm"})
    done = snakemake(
        project, "--profile", "profiles/slurm", "--default-resources",
        f"slurm_partition={slurm_partition}", "runtime=10", "mem_mb=1000", "cpus_per_task=1",
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
        "--latency-wait", "5",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    submitted = dict(re.findall(
        r"submitted with SLURM jobid (\d+) \(log: .*/slurm_logs/(\S+?)/", log))
    # The two seeds of each method share one Slurm job; aggregate and plot get one each.
    assert sorted(submitted.values()) == [
        "group_seeds-synthetic-ASHA_run_cheap", "group_seeds-synthetic-RS_run_cheap",
        "rule_aggregate", "rule_plot",
    ]
    for slurm_job in submitted:  # Slurm itself ran them
        shown = subprocess.run(["scontrol", "show", "job", slurm_job], capture_output=True,
                               text=True)
        assert "JobState=COMPLETED" in shown.stdout, shown.stdout + shown.stderr
    results = project / "results" / "slurm"
    for method in ("RS", "ASHA"):
        for seed in (0, 1):
            assert (results / "synthetic" / method / str(seed) / "metadata.json").exists()
    assert (results / "plots" / "synthetic-best-so-far.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("change", "messages"),
    [
        ({"methods": ["RS", "NOPE"]}, ["config field 'methods'", "NOPE"]),
        ({"methods": ["RS", "SYNCMOBSTR", "BOHB"]},
         ["config field 'methods'", "SYNCMOBSTR"]),
        ({"methods": ["RS", "BOHB"], "restrict_configurations": True},
         ["method 'BOHB' cannot honour restrict_configurations"]),
        ({"benchmarks": ["fcnet-nope"]}, ["config field 'benchmarks'", "fcnet-nope"]),
        ({"fcnet_ordinal": "log"}, ["fcnet_ordinal", "nn-log"]),
        ({"experiment_tag": "My_Tag"}, ["experiment_tag", "^[a-z0-9][a-z0-9-]*$"]),
        ({"num_seeds": -1}, ["config field 'num_seeds': -1 is not valid; allowed: integer, >= 1"]),
        ({"random_seed": -7}, ["config field 'random_seed': -7", ">= 0"]),
        ({"random_seed": "seven"}, ["config field 'random_seed': \"seven\"", "integer or null"]),
        ({"methods": "RS"}, ["config field 'methods': \"RS\" is not valid; allowed: array"]),
        ({"scale_max_wallclock_time": "yes"}, ["scale_max_wallclock_time", "boolean"]),
        ({"max_size_data_for_model": 0}, ["config field 'max_size_data_for_model'", ">= 1"]),
        ({"max_num_evaluations": 0}, ["config field 'max_num_evaluations': 0", ">= 1"]),
        ({"verbose": 2}, ["config field 'verbose': 2 is not valid; allowed: 0 or 1"]),
        ({"method_args": {"ASHA": 3}}, ["config field 'method_args.ASHA': 3", "object"]),
        ({"method_args": {"PASHA": {}}},
         ["config field 'method_args': not a method of the study: 'PASHA'"]),
        ({"method_args": {"ASHA": {"grace_period": 3}}},
         ["config field 'method_args.ASHA'", "grace_period", "scheduler_kwargs"]),
        ({"expensive_methods": ["BO"]},
         ["config field 'expensive_methods': not a method of the study: 'BO'",
          "['ASHA', 'RS']"]),
        ({"blackbox_mirror": "/nonexistent/mirror"},
         ["config field 'blackbox_mirror'", "/nonexistent/mirror"]),
        ({"charge_decision_time": "yes"},
         ["config field 'charge_decision_time': \"yes\" is not valid; allowed: boolean"]),
        ({"simulator_overheads": "syne-tune"},
         ["config field 'simulator_overheads': \"syne-tune\" is not valid; allowed: \"none\" "
          "or \"syne_tune\""]),
        ({"method_argz": {}},
         ["unknown config key 'method_argz' of the study (did you mean 'method_args'?)"]),
        ({"method_args": {"ASHA": {"scheduler_kwargs": {"grace_periodd": 3}}}},
         ["config field 'method_args.ASHA'", "['grace_periodd']",
          "(did you mean 'grace_period'?)", "'reduction_factor'"]),
        ({"method_args": {"ASHA": {"scheduler_kwargs": {"grace_period": -3}}}},
         ["config field 'method_args.ASHA'", "grace_period must be an int >= 1, got -3"]),
        ({"method_args": {"RS": {"scheduler_kwargs": {"search_options": {"nope": 1}}}}},
         ["config field 'method_args.RS'", "search_options ['nope']"]),
        ({"method_args": {"ASHA": {"config_space": {"nope": 1}}}},
         ["config field 'method_args.ASHA'", "'nope'", "which the config space does not have"]),
        ({"start_seed": 2}, ["config field 'start_seed' (2) must be below 'num_seeds' (2)"]),
        ({"benchmarks": ["fcnet-protein"]},
         ["method 'ASHA' is multi-fidelity but benchmark 'fcnet-protein'"]),
    ],
)
def test_bad_config_fails_before_any_job(
    tmp_path: Path, change: dict[str, object], messages: list[str]
) -> None:
    project = make_project(tmp_path, {**TINY, **change})
    out = snakemake(project)
    assert out.returncode != 0
    for message in messages:
        assert message in out.stderr, message
    assert "Building DAG of jobs" not in out.stderr
    assert not (project / "results").exists()
    assert not (project / "resources").exists()


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    project = make_project(tmp_path, TINY)
    (project / "config" / "config.yaml").write_text("experiment_tag: t\nmethods: [RS\n")
    out = snakemake(project, "-n")
    assert out.returncode != 0
    assert "config/config.yaml, line 3, column 1: invalid YAML" in out.stdout + out.stderr


def file_hashes(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("override", "named"),
    [({"grace_periodd": 3}, ["'grace_periodd'", "'grace_period'", "'reduction_factor'"]),
     ({"grace_period": -3}, ["grace_period must be an int >= 1, got -3"])],
)
def test_a_bad_method_argument_never_costs_finished_results(
    tmp_path: Path, override: dict[str, int], named: list[str]
) -> None:
    project = make_project(tmp_path, TINY)
    assert snakemake(project).returncode == 0
    before = file_hashes(project / "results")
    write_config(project, {**TINY, "method_args": {"ASHA": {"scheduler_kwargs": override}}})
    out = snakemake(project, "--keep-going")
    assert out.returncode != 0
    assert "config field 'method_args.ASHA'" in out.stderr
    for text in named:
        assert text in out.stderr, text
    assert "Building DAG of jobs" not in out.stderr  # nothing planned, no job started
    assert file_hashes(project / "results") == before


def planned_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job of a dry run."""
    jobs = re.split(r"^\s*(?:local)?rule (\w+):$", output, flags=re.M)[1:]
    return sorted(
        (rule, (re.findall(r"^\s*wildcards: (.*)$", body, re.M) or [""])[0])
        for rule, body in zip(jobs[::2], jobs[1::2], strict=True)
    )


@pytest.mark.parametrize("name", ["results.csv.zip", "metadata.json"])
def test_a_deleted_result_replans_exactly_its_seed_and_what_depends_on_it(
    tmp_path: Path, name: str
) -> None:
    project = make_project(tmp_path, TINY)
    assert snakemake(project).returncode == 0
    (project / "results/tiny/synthetic/ASHA/1" / name).unlink()
    out = snakemake(project, "-n")
    assert out.returncode == 0, out.stderr
    assert planned_jobs(out.stdout + out.stderr) == [
        ("aggregate", "benchmark=synthetic"),
        ("all", ""),
        ("plot", "benchmark=synthetic"),
        ("run_cheap", "benchmark=synthetic, method=ASHA, seed=1"),
    ]


def test_a_damaged_blackbox_is_set_aside_and_rebuilt_by_the_workflow(tmp_path: Path) -> None:
    study = {**TINY, "benchmarks": ["yahpo-iaml_glmnet-1489"], "methods": ["RS"],
             "num_seeds": 1, "max_wallclock_time": 60}
    project = make_project(tmp_path, study)
    assert snakemake(project).returncode == 0
    path = project / "blackboxes/yahpo_iaml_glmnet/1489.h5"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 3])
    finished = file_hashes(project / "results/tiny/yahpo-iaml_glmnet-1489/RS/0")
    write_config(project, {**study, "num_seeds": 2})  # a new seed needs the blackbox
    out = snakemake(project)
    assert out.returncode == 0, out.stderr
    assert file_hashes(project / "results/tiny/yahpo-iaml_glmnet-1489/RS/0") == finished
    assert (project / "results/tiny/yahpo-iaml_glmnet-1489/RS/1/metadata.json").exists()
    assert "blackbox file blackboxes/yahpo_iaml_glmnet/1489.h5 needs rebuilding" in out.stderr
    assert path.read_bytes() == good  # rebuilt, byte for byte
    (aside,) = path.parent.glob("1489.h5.damaged-*")
    assert aside.stat().st_size == len(good) // 3


def test_one_command_builds_one_blackbox(tmp_path: Path) -> None:
    project = make_project(tmp_path, TINY)
    target = "blackboxes/yahpo_lcbench/3945.h5"
    out = snakemake(project, target)
    assert out.returncode == 0, out.stderr
    assert (project / target).stat().st_size > 100_000
    for raw in ("model.onnx", "config_space.json", "encoding.json"):
        assert (project / "resources/blackboxes/raw/yahpo_lcbench" / raw).exists()
    assert (project / "logs/blackboxes/convert/yahpo_lcbench/3945.log").exists()


STUDIES = sorted(p.name for p in (ROOT / "config" / "studies").glob("*.yaml"))
#: Studies whose methods all exist but need learning curves the benchmarks lack.
DOES_NOT_FIT = {
    "fcnet-seed001.yaml": "method 'ASHA' is multi-fidelity but benchmark 'fcnet-naval' has "
                          "final values only",
    "nas201-seed003.yaml": "method 'ASHA-STOP' is multi-fidelity but benchmark "
                           "'nas201-cifar100' has final values only",
}


def test_the_seed_studies_and_their_twins_are_shipped() -> None:
    assert STUDIES == ["fcnet-rs-twin.yaml", "fcnet-seed001.yaml", "lcbench-seed001-twin.yaml",
                       "nas201-seed003.yaml", "yahpo-seed003-twin.yaml"]


@pytest.mark.parametrize("study", ["config.yaml", *(f"studies/{name}" for name in STUDIES)])
def test_study_config_validates(tmp_path: Path, study: str) -> None:
    project = make_project(tmp_path, {})
    shutil.copytree(ROOT / "config", project / "config", dirs_exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / study).read_text())
    out = snakemake(project, "-n", "--configfile", f"config/{study}")
    if Path(study).name in DOES_NOT_FIT:
        assert out.returncode != 0
        assert DOES_NOT_FIT[Path(study).name] in out.stdout + out.stderr
        assert not (project / "results").exists()
        return
    assert out.returncode == 0, out.stderr
    counts = job_counts(out.stdout)
    benchmarks = resolve_benchmarks(config["benchmarks"])
    runs = counts.get("run_cheap", 0) + counts.get("run_expensive", 0)
    assert runs == len(benchmarks) * len(config["methods"]) * config["num_seeds"]
    assert counts["plot"] == len(benchmarks)
    # planning a study persists nothing; its first real run persists the master seed
    assert not (project / "results" / config["experiment_tag"] / "study.yaml").exists()


def test_a_benchmark_is_plotted_as_soon_as_its_seeds_are_done(tmp_path: Path) -> None:
    study = {**TINY, "benchmarks": ["synthetic", "yahpo-iaml_glmnet-1489"],
             "max_wallclock_time": 60}
    project = make_project(tmp_path, study)
    out = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=project,
                         capture_output=True, text=True, timeout=600, env=ENV)
    assert out.returncode == 0, out.stderr
    log = out.stdout + out.stderr
    # Jobs in the order they ran (one core: one at a time), with their benchmark.
    jobs = [(rule, re.search(r"benchmark=([\w.-]+)", body).group(1))  # type: ignore[union-attr]
            for rule, body in zip(*[iter(re.split(r"^\s*(?:local)?rule (\w+):$", log,
                                                   flags=re.M)[1:])] * 2, strict=True)
            if rule in ("run_cheap", "run_expensive", "aggregate", "plot")]
    for benchmark in study["benchmarks"]:
        last_run = max(i for i, (rule, b) in enumerate(jobs)
                       if b == benchmark and rule.startswith("run"))
        assert jobs[last_run + 1:last_run + 3] == [("aggregate", benchmark), ("plot", benchmark)]
