"""Workflow jobs: hpo-core commands with their output in a log, in this process or in warm
workers; blackboxes kept per process while their file is unchanged."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo_core import jobs
from hpo_core import space as sp
from hpo_core.blackboxes.repository import blackbox_file
from hpo_core.blackboxes.tabular import TabularBlackbox
from hpo_core.experiments.benchmarks import SurrogateBenchmark
from hpo_core.experiments.launcher import load_benchmark_blackbox
from hpo_core.testing import SyntheticBlackbox


def run_args(results: Path, seed: int = 0, method: str = "ASHA") -> list[str]:
    return ["run", "--experiment_tag", "jobs", "--benchmark", "synthetic", "--method", method,
            "--start_seed", str(seed), "--num_seeds", str(seed + 1), "--random_seed", "5",
            "--max_wallclock_time", "200", "--results_dir", str(results)]


@pytest.fixture
def pool_of_one():
    yield 1
    pool = jobs._pool
    if pool is not None:
        jobs._drop_pool(pool)


def test_in_process_job_writes_results_and_logs_its_command(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("from an earlier attempt\n")
    jobs.run_cli_job(run_args(tmp_path / "r"), log=str(log), workers=None)
    text = log.read_text()
    assert text.startswith("# hpo-core run --experiment_tag jobs --benchmark synthetic")
    assert "from an earlier attempt" not in text
    assert "wrote" in text
    assert (tmp_path / "r/jobs/synthetic/ASHA/0/metadata.json").exists()


def test_pool_job_gives_the_results_of_an_in_process_job(tmp_path: Path, pool_of_one: int) -> None:
    for seed in (0, 1):  # the second job reuses the warm worker
        jobs.run_cli_job(run_args(tmp_path / "pool", seed), log=str(tmp_path / f"p{seed}.log"),
                         workers=pool_of_one)
        jobs.run_cli_job(run_args(tmp_path / "here", seed), log=str(tmp_path / f"h{seed}.log"),
                         workers=None)
        in_pool = pd.read_csv(tmp_path / f"pool/jobs/synthetic/ASHA/{seed}/results.csv.zip")
        here = pd.read_csv(tmp_path / f"here/jobs/synthetic/ASHA/{seed}/results.csv.zip")
        pd.testing.assert_frame_equal(in_pool, here)
        assert "wrote" in (tmp_path / f"p{seed}.log").read_text()


@pytest.mark.parametrize("in_pool", [False, True])
def test_failed_command_raises_and_logs_the_reason(
    tmp_path: Path, in_pool: bool, pool_of_one: int
) -> None:
    log = tmp_path / "bad.log"
    with pytest.raises(jobs.JobFailedError, match=f"exited with status 2; log: {log}"):
        jobs.run_cli_job(run_args(tmp_path, method="NOPE"), log=str(log),
                         workers=pool_of_one if in_pool else None)
    assert "argument --method" in log.read_text()
    assert "'NOPE'" in log.read_text()


def test_a_dead_worker_fails_its_job_and_the_next_job_gets_a_fresh_pool(
    tmp_path: Path, pool_of_one: int
) -> None:
    pool = jobs._get_pool(pool_of_one)
    with pytest.raises(BrokenProcessPool):
        pool.submit(os._exit, 3).result()  # a worker killed while running a job
    jobs.run_cli_job(run_args(tmp_path), log=str(tmp_path / "after.log"), workers=pool_of_one)
    assert jobs._pool is not pool
    assert (tmp_path / "jobs/synthetic/ASHA/0/metadata.json").exists()


def test_blackboxes_are_reused_while_their_file_is_unchanged(tmp_path: Path) -> None:
    source = SyntheticBlackbox(max_t=3)
    rng = np.random.default_rng(0)
    configs = [sp.sample_config(source.config_space, rng) for _ in range(10)]
    table = TabularBlackbox(
        name="tab", config_space=source.config_space,
        hyperparameters={k: np.array([c[k] for c in configs])
                         for k in sp.hyperparameters(source.config_space)},
        objectives=np.stack([source.curve(c).objectives for c in configs])[:, None],
        objective_names=source.objective_names, fidelity_name="epoch",
        fidelity_values=source.fidelity_values, elapsed_time_attr="elapsed_time",
        metric="error", mode="min", provenance={"source": "tabulated in this test"},
    )
    store = tmp_path / "store"
    path = blackbox_file("lcbench/blood-transfusion-service-center", store)
    path.parent.mkdir(parents=True)
    table.save(path)
    benchmark = SurrogateBenchmark(
        name="tab", blackbox="lcbench/blood-transfusion-service-center", metric="error",
        mode="min", resource_attr="epoch", max_resource_attr="epochs",
        elapsed_time_attr="elapsed_time", max_wallclock_time=60.0,
        surrogate="knn", surrogate_kwargs={"n_neighbors": 1},
    )

    def load(restrict: bool = False) -> object:
        return load_benchmark_blackbox(benchmark, store=store, restrict_configurations=restrict)

    first = load()
    assert load() is first
    assert load(restrict=True) is not first  # no surrogate attached: another object
    os.utime(path, ns=(0, 0))
    assert load() is not first
