"""Result files carry Syne Tune 0.13's metadata keys and st_status; export to its layout."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hpo_core import space as sp
from hpo_core.cli import main
from hpo_core.experiments.launcher import Experiment, run_experiment
from hpo_core.experiments.syne_tune_format import export_syne_tune, syne_tune_config_space

#: What Syne Tune's ExperimentResult, get_metadata and load_experiments_df read.
SYNE_TUNE_KEYS = {"st_tuner_creation_timestamp", "st_tuner_start_timestamp", "metric_names",
                  "metric_mode", "algorithm", "tag", "entrypoint", "backend", "scheduler_name",
                  "config_space"}


def test_config_space_is_written_as_syne_tune_writes_it() -> None:
    space = {"a": sp.uniform(0, 1), "b": sp.loguniform(1e-3, 1), "c": sp.randint(1, 5),
             "d": sp.lograndint(16, 512), "e": sp.choice(["x", "y"]),
             "f": sp.finrange(0, 0.6, 3), "g": sp.logfinrange(8, 64, 4, cast_int=True),
             "h": sp.ordinal([1, 2, 5], kind="equal"), "i": sp.logordinal([1, 2, 5]),
             "epochs": 27}
    written = json.loads(syne_tune_config_space(space))
    log = {"sampler_cls": "LogUniform", "sampler_kwargs": {"base": 2.718281828459045}}
    uniform = {"sampler_cls": "Uniform", "sampler_kwargs": {}}
    assert written == {
        "a": {"domain_cls": "Float", "domain_kwargs": {"lower": 0, "upper": 1}, **uniform},
        "b": {"domain_cls": "Float", "domain_kwargs": {"lower": 0.001, "upper": 1}, **log},
        "c": {"domain_cls": "Integer", "domain_kwargs": {"lower": 1, "upper": 5}, **uniform},
        "d": {"domain_cls": "Integer", "domain_kwargs": {"lower": 16, "upper": 512}, **log},
        "e": {"domain_cls": "Categorical", "domain_kwargs": {"categories": ["x", "y"]},
              **uniform},
        "f": {"domain_cls": "FiniteRange", "domain_kwargs": {
            "lower": 0, "upper": 0.6, "log_scale": False, "cast_int": False, "size": 3}},
        "g": {"domain_cls": "FiniteRange", "domain_kwargs": {
            "lower": 8, "upper": 64, "log_scale": True, "cast_int": True, "size": 4}},
        "h": {"domain_cls": "Ordinal", "domain_kwargs": {"categories": [1, 2, 5]}, **uniform},
        "i": {"domain_cls": "OrdinalNearestNeighbor",
              "domain_kwargs": {"categories": [1, 2, 5], "log_scale": True}},
        "epochs": 27,
    }


@pytest.mark.parametrize("method", ["ASHA-PROM", "RS"])
def test_runs_carry_syne_tune_keys_and_status(tmp_path: Path, method: str) -> None:
    run = run_experiment(Experiment(experiment_tag="st", benchmark="synthetic", method=method,
                                    seed=0, random_seed=2, max_wallclock_time=300), tmp_path)
    meta = json.loads((run / "metadata.json").read_text())
    assert set(meta) >= SYNE_TUNE_KEYS
    assert meta["metric_names"] == ["error"] and meta["metric_mode"] == "min"
    assert meta["algorithm"] == method and meta["tag"] == "st"
    assert meta["scheduler_name"] in ("HyperbandScheduler", "FIFOScheduler")
    assert set(json.loads(meta["config_space"])) == set(meta["method_arguments"]["config_space"])
    assert meta["st_tuner_start_timestamp"] >= meta["st_tuner_creation_timestamp"] > 1.7e9
    df = pd.read_csv(run / "results.csv.zip")
    expected = df["st_decision"].map({"CONTINUE": "InProgress", "PAUSE": "Paused",
                                      "STOP": "Stopped"})
    expected[df["epoch"] >= 27] = "Completed"
    assert (df["st_status"] == expected).all()
    assert (df["st_status"] == "Completed").any()


def test_export_lays_runs_out_as_syne_tune_and_never_overwrites(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for method in ("RS", "ASHA"):
        for seed in (0, 1):
            run_experiment(Experiment(experiment_tag="ex", benchmark="synthetic", method=method,
                                      seed=seed, random_seed=2, max_wallclock_time=120), results)
    (results / "ex" / "synthetic" / "RS" / "7").mkdir()  # an incomplete run: left out
    assert main(["export-syne-tune", str(results / "ex"), str(tmp_path / "st")]) == 0
    found = sorted(tmp_path.glob("st/ex/*/ex-*/metadata.json"))  # ComparativeResults' glob
    assert [p.parent.parent.name for p in found] == ["ASHA-0", "ASHA-1", "RS-0", "RS-1"]
    for path in found:
        assert (path.parent / "results.csv.zip").exists()
    assert len(export_syne_tune(results / "ex", tmp_path / "st")) == 4  # again: the same
    victim = found[0].parent / "results.csv.zip"
    victim.unlink()
    victim.write_bytes(b"other")
    with pytest.raises(ValueError, match="exists with other contents"):
        export_syne_tune(results / "ex", tmp_path / "st")
    assert victim.read_bytes() == b"other"
    with pytest.raises(ValueError, match="no complete runs"):
        export_syne_tune(tmp_path / "nothing", tmp_path / "st2")


def syne_tune_tree(tmp_path: Path) -> Path:
    """A results tree with only what Syne Tune 0.13's benchmarking scripts write."""
    results = tmp_path / "ours"
    for seed in (0, 1):
        run_experiment(Experiment(experiment_tag="old", benchmark="synthetic", method="ASHA",
                                  seed=seed, random_seed=2, max_wallclock_time=120), results)
    tree = tmp_path / "syne-tune"
    for run in export_syne_tune(results / "old", tree):
        meta = json.loads((run / "metadata.json").read_text())
        kept = {k: meta[k] for k in (*SYNE_TUNE_KEYS, "seed", "benchmark")}
        (run / "metadata.json").unlink()  # a link to our file: replace, not write through
        (run / "metadata.json").write_text(json.dumps(kept))
        df = pd.read_csv(run / "results.csv.zip")
        keep = [c for c in df.columns if not c.startswith(("best_", "num_at_level"))
                and c not in ("benchmark", "method", "seed")]
        (run / "results.csv.zip").unlink()
        df[keep].sample(frac=1.0, random_state=0).to_csv(run / "results.csv.zip", index=False)
    return tree


def test_import_turns_syne_tune_runs_into_runs_the_aggregate_reads(tmp_path: Path) -> None:
    from hpo_core.experiments.analysis import load_runs
    from hpo_core.experiments.syne_tune_format import import_syne_tune

    tree = syne_tune_tree(tmp_path)
    assert main(["import-syne-tune", str(tree), str(tmp_path / "results"), "--suffix=-ST"]) == 0
    runs = sorted((tmp_path / "results" / "old" / "synthetic" / "ASHA-ST").iterdir())
    assert [r.name for r in runs] == ["0", "1"]
    table = load_runs(runs)
    assert set(table["method"]) == {"ASHA-ST"} and set(table["seed"]) == {0, 1}
    ours = load_runs(sorted((tmp_path / "ours" / "old" / "synthetic" / "ASHA").iterdir()))
    # The recomputed best so far over time is the one hpo_core recorded.
    for seed in (0, 1):
        a = table[table["seed"] == seed].sort_values(["st_tuner_time", "trial_id"])
        b = ours[ours["seed"] == seed].sort_values(["st_tuner_time", "trial_id"])
        assert a["best"].iloc[-1] == b["best"].iloc[-1]
        assert list(a["best"].cummin()) == list(a["best"])
    assert import_syne_tune(tree, tmp_path / "results", suffix="-ST") == []  # already there
    with pytest.raises(ValueError, match="holds another run; not overwritten"):
        import_syne_tune(syne_tune_tree(tmp_path / "other"), tmp_path / "results", suffix="-ST")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no Syne Tune runs"):
        import_syne_tune(tmp_path / "empty", tmp_path / "results2")
