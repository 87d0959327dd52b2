"""End to end through Snakemake: a tiny study, a no-op second run, bad configs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def make_project(tmp_path: Path, config: dict[str, object]) -> Path:
    for name in ("Snakefile", "workflow"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=project, capture_output=True, text=True, timeout=600,
        # Jobs call `python -m hpo_core`: the interpreter running the tests.
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


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
            assert (run / "metadata.json").exists()
            df = pd.read_csv(run / "results.csv.zip")
            assert df["st_tuner_time"].max() <= 300
    aggregate = pd.read_parquet(results / "aggregate" / "synthetic.parquet")
    assert set(aggregate["method"]) == {"RS", "ASHA"}
    assert set(aggregate["seed"]) == {0, 1}
    assert (results / "plots" / "synthetic-best-so-far.png").stat().st_size > 10_000
    table = pd.read_csv(results / "plots" / "synthetic-final.csv")
    assert sorted(table["method"]) == ["ASHA", "RS"]
    second = snakemake(project)
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"methods": ["RS", "NOPE"]}, "config field 'methods': unknown ['NOPE']"),
        ({"benchmarks": ["fcnet-nope"]}, "config field 'benchmarks'"),
        ({"fcnet_ordinal": "log"}, "fcnet_ordinal"),
        ({"experiment_tag": "My_Tag"}, "experiment_tag"),
        ({"num_seeds": -1}, "num_seeds"),
        ({"random_seed": "seven"}, "random_seed"),
    ],
)
def test_bad_config_fails_before_any_job(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    project = make_project(tmp_path, {**TINY, **change})
    out = snakemake(project)
    assert out.returncode != 0
    assert message in out.stdout + out.stderr
    assert not (project / "results").exists()


def test_one_command_builds_one_blackbox(tmp_path: Path) -> None:
    project = make_project(tmp_path, TINY)
    target = "blackboxes/yahpo_lcbench/3945.h5"
    out = snakemake(project, target)
    assert out.returncode == 0, out.stderr
    assert (project / target).stat().st_size > 100_000
    for raw in ("model.onnx", "config_space.json", "encoding.json"):
        assert (project / "resources/blackboxes/raw/yahpo_lcbench" / raw).exists()
    assert (project / "logs/blackboxes/convert/yahpo_lcbench/3945.log").exists()


def test_multi_fidelity_method_on_final_values_only_fails_before_any_job(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path, {**TINY, "benchmarks": ["fcnet-protein"]})
    out = snakemake(project)
    assert out.returncode != 0
    assert "method 'ASHA' is multi-fidelity but benchmark 'fcnet-protein'" in out.stderr
    assert not (project / "results").exists()
    assert not (project / "resources").exists()
