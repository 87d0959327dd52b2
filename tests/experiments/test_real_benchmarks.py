"""The simulator on real data: ASHA on LCBench curves and every YAHPO scenario, RS on fcnet and
NASBench-201 (raw files fetched as users fetch them, converted on first use)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rawdata import raw_mirror

from hpo_core import space as sp
from hpo_core.blackboxes.download import MIRROR_ENV
from hpo_core.blackboxes.repository import RAW_ENV
from hpo_core.experiments.benchmarks import get_benchmark
from hpo_core.experiments.launcher import Experiment, fcnet_init_lr, run_experiment


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")




@pytest.mark.parametrize(
    ("benchmark", "method", "budget"),
    [
        ("lcbench-blood-transfusion-service-center", "ASHA", 600.0),
        ("yahpo-lcbench-3945", "ASHA", 600.0),
        ("yahpo-rbv2_xgboost-1479", "ASHA", 300.0),
        ("yahpo-rbv2_rpart-41161", "ASHA-PROM", 300.0),
        ("yahpo-iaml_glmnet-1489", "PASHA", 300.0),
        ("fcnet-protein", "RS", 1_200.0),
        ("nas201-cifar10", "RS", 20_000.0),
    ],
)
def test_method_runs_on_real_blackbox(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, benchmark: str, method: str,
    budget: float,
) -> None:
    name = get_benchmark(benchmark).blackbox_name
    assert name is not None
    monkeypatch.setenv(MIRROR_ENV, str(raw_mirror(name)))
    monkeypatch.setenv(RAW_ENV, str(tmp_path / "raw"))
    experiment = Experiment(experiment_tag="real", benchmark=benchmark, method=method, seed=0,
                            random_seed=1, max_wallclock_time=budget)
    run = run_experiment(experiment, tmp_path / "results", blackbox_store=store)
    df = pd.read_csv(run / "results.csv.zip")
    meta = json.loads((run / "metadata.json").read_text())
    definition = get_benchmark(benchmark)
    assert df["trial_id"].nunique() >= 4
    assert df["st_tuner_time"].max() <= budget
    assert df[definition.metric].notna().all()
    assert meta["blackbox_provenance"]["input_sha256"]
    if method != "RS":  # multi-fidelity: several resource levels were reported
        assert df[definition.resource_attr].nunique() > 1
        assert (df["st_decision"] != "CONTINUE").any()


def test_fcnet_ordinal_variants_keep_table_values() -> None:
    space = {"hp_init_lr": sp.choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]), "epochs": 100}
    assert fcnet_init_lr(space, "none") == space
    for kind in ("equal", "nn", "nn-log"):
        domain = fcnet_init_lr(space, kind)["hp_init_lr"]
        assert isinstance(domain, sp.Ordinal) and domain.kind == kind
        assert domain.values == space["hp_init_lr"].values
    with pytest.raises(ValueError, match="fcnet_ordinal"):
        fcnet_init_lr(space, "log")


def test_fcnet_trials_replay_a_drawn_training_repetition_unless_one_is_fixed(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = get_benchmark("fcnet-protein").blackbox_name
    assert name is not None
    monkeypatch.setenv(MIRROR_ENV, str(raw_mirror(name)))
    monkeypatch.setenv(RAW_ENV, str(tmp_path / "raw"))
    frames, metas = {}, {}
    for label, seed in (("drawn", None), ("again", None), ("fixed", 0)):
        experiment = Experiment(experiment_tag=label, benchmark="fcnet-protein", method="RS",
                                seed=0, random_seed=1, max_wallclock_time=600.0,
                                blackbox_seed=seed)
        run = run_experiment(experiment, tmp_path / "results", blackbox_store=store)
        frames[label] = pd.read_csv(run / "results.csv.zip")
        metas[label] = json.loads((run / "metadata.json").read_text())
    assert metas["drawn"]["blackbox_seeds"] == "per_trial"
    assert metas["drawn"]["blackbox_seed"] is None
    assert metas["fixed"]["blackbox_seeds"] == "fixed" and metas["fixed"]["blackbox_seed"] == 0
    metric = "metric_valid_loss"
    pd.testing.assert_frame_equal(frames["drawn"], frames["again"])  # reproducible
    # The same configurations in the same order (paired), other training repetitions.
    configs = [c for c in frames["drawn"].columns if c.startswith("config_")]
    n = min(len(frames["drawn"]), len(frames["fixed"]))
    drawn, fixed = frames["drawn"][:n], frames["fixed"][:n]
    assert (drawn[configs].to_numpy() == fixed[configs].to_numpy()).all()
    assert (drawn[metric] != fixed[metric]).any()
    with pytest.raises(ValueError, match=r"blackbox_seed must be null .* \[0, 4\)"):
        run_experiment(Experiment(experiment_tag="bad", benchmark="fcnet-protein", method="RS",
                                  seed=0, random_seed=1, blackbox_seed=4),
                       tmp_path / "results", blackbox_store=store)
