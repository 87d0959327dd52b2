"""The launcher and its command line (``hpo-core run``), in process, on the synthetic benchmark."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hpo_core import space as sp
from hpo_core.blackboxes.base import Blackbox, Curve
from hpo_core.blackboxes.tabular import TabularBlackbox
from hpo_core.cli import main
from hpo_core.experiments.benchmarks import SurrogateBenchmark, get_benchmark
from hpo_core.experiments.launcher import (
    Experiment,
    check_experiments,
    resolve_budget,
    run_experiment,
    tuner_name,
)
from hpo_core.experiments.methods import METHODS, MethodDoesNotFitError
from hpo_core.testing import SyntheticBlackbox

BUDGET = "300"


def run_cli(tmp_path: Path, *args: str) -> int:
    return main(["run", "--experiment_tag", "t", "--results_dir", str(tmp_path / "results"),
                 "--random_seed", "1", *args])


def metadata(tmp_path: Path, method: str, seed: int = 0, benchmark: str = "synthetic") -> Any:
    path = tmp_path / "results" / "t" / benchmark / method / str(seed) / "metadata.json"
    return json.loads(path.read_text())


class ActivationBlackbox(Blackbox):
    """The synthetic blackbox plus fcnet's two activation hyperparameters; each tanh layer
    makes the error 10% worse."""

    def __init__(self) -> None:
        self._inner = SyntheticBlackbox(max_t=9)
        self.config_space = {
            **self._inner.config_space,
            "hp_activation_fn_1": sp.choice(["tanh", "relu"]),
            "hp_activation_fn_2": sp.choice(["tanh", "relu"]),
        }
        self.objective_names = self._inner.objective_names
        self.fidelity_name = self._inner.fidelity_name
        self.fidelity_values = self._inner.fidelity_values
        self.elapsed_time_attr = self._inner.elapsed_time_attr
        self.metric, self.mode = self._inner.metric, self._inner.mode

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        curve = self._inner.curve(config, seed)
        objectives = curve.objectives.copy()
        tanh_layers = [config["hp_activation_fn_1"], config["hp_activation_fn_2"]].count("tanh")
        objectives[:, 0] *= 1.1**tanh_layers
        return Curve(objectives, curve.failed_after)


ACTIVATIONS = SurrogateBenchmark(
    name="synthetic-activations", blackbox=ActivationBlackbox, metric="error", mode="min",
    resource_attr="epoch", max_resource_attr="epochs", elapsed_time_attr="elapsed_time",
    max_wallclock_time=200.0,
)


# -- budget and names --------------------------------------------------------------------------


@pytest.mark.parametrize(("n_workers", "expected"), [
    (1, (1, 14_400.0)),  # A < B: 3600 * 4 / 1
    (2, (2, 7_200.0)),  # A < B: 3600 * 4 / 2
    (4, (4, 3_600.0)),  # A = B: kept
    (8, (8, 3_600.0)),  # A > B: kept
    (None, (4, 3_600.0)),  # A not given: nothing to scale
])
def test_scale_max_wallclock_time(n_workers: int | None, expected: tuple[int, float]) -> None:
    synthetic = get_benchmark("synthetic")  # B = 4 workers, 3600 s
    assert resolve_budget(synthetic, n_workers=n_workers, max_wallclock_time=None,
                          scale_max_wallclock_time=True) == expected
    assert resolve_budget(synthetic, n_workers=n_workers, max_wallclock_time=None,
                          scale_max_wallclock_time=False) == (expected[0], 3_600.0)
    assert resolve_budget(synthetic, n_workers=n_workers, max_wallclock_time=50.0,
                          scale_max_wallclock_time=True) == (expected[0], 50.0)


@pytest.mark.parametrize(("n_workers", "budget"), [("1", 14_400.0), ("8", 3_600.0)])
def test_cli_scales_budget_and_records_it(tmp_path: Path, n_workers: str, budget: float) -> None:
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--method", "RS", "--n_workers",
                   n_workers, "--scale_max_wallclock_time", "1") == 0
    meta = metadata(tmp_path, "RS")
    assert meta["max_wallclock_time"] == budget
    assert meta["n_workers"] == int(n_workers)
    assert meta["scale_max_wallclock_time"] is True
    assert meta["benchmark_defaults"] == {"n_workers": 4, "max_wallclock_time": 3_600.0,
                                          "max_num_evaluations": None}
    df = pd.read_csv(tmp_path / "results" / "t" / "synthetic" / "RS" / "0" / "results.csv.zip")
    assert budget - 100 < df["st_tuner_time"].max() <= budget


def test_tuner_name_prefix_long_and_short() -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    experiment = Experiment(experiment_tag="docs-2", benchmark="yahpo-rbv2_xgboost-1479",
                            method="ASHA", seed=3, random_seed=1)
    assert re.fullmatch(r"docs-2-yahpo-rbv2-xgboost-1479-3-2025-03-04-05-06-07-[0-9a-f]{3}",
                        tuner_name(experiment, now=now))
    short = Experiment(experiment_tag="docs-2", benchmark="synthetic", method="ASHA", seed=3,
                       random_seed=1, use_long_tuner_name_prefix=False)
    assert re.fullmatch(r"docs-2-2025-03-04-05-06-07-[0-9a-f]{3}", tuner_name(short, now=now))


# -- metadata, seeds, overrides ----------------------------------------------------------------


def test_metadata_records_seeds_arguments_versions_and_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--experiment_tag", "t", "--results_dir", str(tmp_path / "results"),
                 "--benchmark", "synthetic", "--method", "RS", "--method", "ASHA",
                 "--num_seeds", "2", "--max_wallclock_time", BUDGET,
                 "--max_size_data_for_model", "50", "--use_long_tuner_name_prefix", "0"]) == 0
    out = capsys.readouterr().out
    drawn = int(re.search(r"random_seed=(\d+)", out).group(1))  # type: ignore[union-attr]
    runs = {(m, s): metadata(tmp_path, m, s) for m in ("RS", "ASHA") for s in (0, 1)}
    for (method, seed), meta in runs.items():
        assert f"wrote {tmp_path / 'results' / 't' / 'synthetic' / method / str(seed)}" in out
        assert meta["random_seed"] == drawn
        assert meta["max_size_data_for_model"] == 50
        assert meta["method_arguments"]["max_size_data_for_model"] == 50
        assert meta["use_long_tuner_name_prefix"] is False
        assert re.fullmatch(r"t-\d{4}(-\d\d){5}-[0-9a-f]{3}", meta["tuner_name"])
        assert {"python", "hpo_core", "numpy", "scipy", "pandas", "h5py",
                "scikit-learn"} <= set(meta["versions"])
        assert sp.space_from_dict(meta["method_arguments"]["config_space"]) == (
            SyntheticBlackbox(max_t=27).config_space
        )
        assert meta["scheduler"]["random_seed"] == meta["scheduler_random_seed"]
        assert meta["start_time"] <= meta["end_time"]
    # Paired comparison: one scheduler seed per repetition, shared by the methods.
    assert runs["RS", 0]["scheduler_random_seed"] == runs["ASHA", 0]["scheduler_random_seed"]
    assert runs["RS", 1]["scheduler_random_seed"] == runs["ASHA", 1]["scheduler_random_seed"]
    assert runs["RS", 0]["scheduler_random_seed"] != runs["RS", 1]["scheduler_random_seed"]
    assert runs["ASHA", 0]["method_arguments"]["scheduler_kwargs"] == {"type": "stopping"}
    assert runs["RS", 0]["method_arguments"]["scheduler_kwargs"] == {"searcher": "random"}


def test_method_args_reach_the_scheduler(tmp_path: Path) -> None:
    overrides = {"ASHA": {"scheduler_kwargs": {"grace_period": 3}},
                 "RS": {"scheduler_kwargs": {"not_an_argument": 1}},  # RS does not run: ignored
                 "MOBSTER": {"max_size_data_for_model": 10}}
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--method", "ASHA",
                   "--max_wallclock_time", BUDGET, "--method_args", json.dumps(overrides)) == 0
    meta = metadata(tmp_path, "ASHA")
    assert meta["scheduler"]["rung_levels"] == [3, 9]
    assert meta["method_arguments"]["scheduler_kwargs"] == {"type": "stopping", "grace_period": 3}
    assert meta["method_args"] == overrides["ASHA"]
    df = pd.read_csv(tmp_path / "results" / "t" / "synthetic" / "ASHA" / "0" / "results.csv.zip")
    stopped = df.loc[df["st_decision"] == "STOP", "epoch"]
    assert set(stopped) <= {3, 9, 27} and 3 in set(stopped)
    assert "num_at_level3" in df.columns and "num_at_level1" not in df.columns


def activation_table(num_configs: int = 60) -> TabularBlackbox:
    """:class:`ActivationBlackbox` tabulated at random configs (one seed)."""
    source = ActivationBlackbox()
    rng = np.random.default_rng(0)
    configs = [sp.sample_config(source.config_space, rng) for _ in range(num_configs)]
    names = list(sp.hyperparameters(source.config_space))
    return TabularBlackbox(
        name="activations", config_space=source.config_space,
        hyperparameters={k: np.array([c[k] for c in configs]) for k in names},
        objectives=np.stack([source.curve(c).objectives for c in configs])[:, None],
        objective_names=source.objective_names, fidelity_name="epoch",
        fidelity_values=source.fidelity_values, elapsed_time_attr="elapsed_time",
        metric="error", mode="min", provenance={"source": "tabulated in this test"},
    )


TABLE = dataclasses.replace(ACTIVATIONS, name="table-activations", blackbox=activation_table)


@pytest.mark.parametrize("method", ["RS", "ASHA-RELU"])
def test_restricted_configs_with_fixed_activations(tmp_path: Path, method: str) -> None:
    table = activation_table()
    relu = {sp.config_key(table.config_space, c) for c in table.configurations()
            if c["hp_activation_fn_1"] == c["hp_activation_fn_2"] == "relu"}
    experiment = Experiment(experiment_tag="t", benchmark="table-activations", method=method,
                            seed=0, random_seed=1, restrict_configurations=True)
    run = run_experiment(experiment, tmp_path, benchmark=TABLE, blackbox=table)
    meta = json.loads((run / "metadata.json").read_text())
    options = meta["method_arguments"]["scheduler_kwargs"]["search_options"]
    expected = len(relu) if method == "ASHA-RELU" else len(table)
    assert options == {"restrict_configurations": {"num_configurations": expected}}
    assert 0 < len(relu) < len(table)
    df = pd.read_csv(run / "results.csv.zip")
    configs = df[[f"config_{k}" for k in sp.hyperparameters(table.config_space)]]
    keys = {tuple(row) for row in configs.itertuples(index=False)}
    assert keys <= {sp.config_key(table.config_space, c) for c in table.configurations()}
    if method == "ASHA-RELU":
        assert keys <= relu


# -- verbose progress --------------------------------------------------------------------------


def test_verbose_prints_progress_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--method", "ASHA-PROM",
                   "--max_wallclock_time", BUDGET, "--verbose", "1") == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0].startswith("[synthetic/ASHA-PROM/0] start: HyperbandScheduler")
    assert "type=promotion" in lines[0] and "rung_levels=[1, 3, 9]" in lines[0]
    assert lines[1] == ("[synthetic/ASHA-PROM/0] searching over: learning_rate, num_units, "
                        "dropout, optimizer, batch_size; fixed: {epochs=27}")
    end = lines[-1]
    meta = metadata(tmp_path, "ASHA-PROM")
    assert end.startswith("[synthetic/ASHA-PROM/0] end: t=")
    assert f"trials started={meta['num_trials_started']} " in end
    assert f"results={meta['num_results']} " in end
    assert f"best error={meta['best_metric']:.6g} " in end
    assert re.search(r"decisions CONTINUE=\d+ PAUSE=[1-9]\d* STOP=\d+; rung sizes 1:\d+ 3:\d+ "
                     r"9:\d+$", end)
    assert any("new best" in line for line in lines)
    assert "[synthetic" not in captured.out


def test_quiet_run_prints_nothing_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--method", "RS",
                   "--max_wallclock_time", BUDGET) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("method", "value"), [("ASHA-RELU", "relu"), ("ASHA-TANH", "tanh")])
def test_verbose_shows_the_fixed_activation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str, value: str
) -> None:
    experiment = Experiment(experiment_tag="t", benchmark="synthetic-activations",
                            method=method, seed=0, random_seed=1)
    run = run_experiment(experiment, tmp_path, benchmark=ACTIVATIONS, verbose=True,
                         progress_every=10)
    err = capsys.readouterr().err
    assert (f"fixed: {{epochs=9, hp_activation_fn_1={value!r}, "
            f"hp_activation_fn_2={value!r}}}") in err
    assert f"hp_activation_fn_1={value!r}, hp_activation_fn_2={value!r}}} | decisions" in err
    df = pd.read_csv(run / "results.csv.zip")
    assert set(df["config_hp_activation_fn_1"]) == set(df["config_hp_activation_fn_2"]) == {value}
    meta = json.loads((run / "metadata.json").read_text())
    space = meta["method_arguments"]["config_space"]
    assert space["hp_activation_fn_1"] == space["hp_activation_fn_2"] == {
        "type": "constant", "value": value}
    assert space["learning_rate"]["type"] == "loguniform"


def test_run_experiment_checks_the_benchmark_definition_name(tmp_path: Path) -> None:
    experiment = Experiment(experiment_tag="t", benchmark="synthetic", method="RS", seed=0,
                            random_seed=1)
    with pytest.raises(ValueError, match="'synthetic-activations' does not match"):
        run_experiment(experiment, tmp_path, benchmark=ACTIVATIONS)


# -- checks before anything runs ---------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["--method", "FOO"], r"argument --method: unknown method\(s\) \['FOO'\]"),
    (["--method", "BOHB", "--method", "DEHBB"],
     r"argument --method: unknown method\(s\) \['DEHBB'\]"),
    (["--method", "DEHB", "--benchmark", "lcbench-blood-transfusion-service-center",
      "--restrict_configurations", "1"],
     "method 'DEHB' cannot honour restrict_configurations"),
    (["--experiment_tag", "My_Tag"], "argument --experiment_tag: .*'My_Tag'"),
    (["--start_seed", "-1"], "argument --start_seed: must be an int >= 0, got -1"),
    (["--num_seeds", "-2"], "argument --num_seeds: must be an int >= 1, got -2"),
    (["--random_seed", "-3"], "argument --random_seed: must be an int >= 0, got -3"),
    (["--random_seed", "abc"], "argument --random_seed: must be an int >= 0, got 'abc'"),
    (["--start_seed", "2", "--num_seeds", "2"], "argument --start_seed: must be below"),
    (["--n_workers", "0"], "argument --n_workers: must be an int >= 1, got 0"),
    (["--max_wallclock_time", "-5"], "argument --max_wallclock_time: must be a positive"),
    (["--scale_max_wallclock_time", "2"], "argument --scale_max_wallclock_time: invalid choice"),
    (["--benchmark", "nope"], "argument --benchmark: benchmark must be one of"),
    (["--method_args", "{ASHA: 1}"], "argument --method_args: must be a JSON object .*invalid "
                                     "JSON"),
    (["--method_args", '{"ASHA": 3}'], "argument --method_args: must be a JSON object mapping"),
    (["--method_args", '{"ASHAX": {}}'], r"argument --method_args: unknown method\(s\) "
                                         r"\['ASHAX'\]"),
    (["--method_args", '{"ASHA": {"grace_period": 3}}'],
     r"argument --method_args: method 'ASHA': unknown method argument field\(s\) "
     r"\['grace_period'\]; allowed fields: \['config_space'"),
    (["--method_args", '{"ASHA": {"scheduler_kwargs": {"grace_period": 100}}}'],
     "benchmark 'synthetic', method 'ASHA': grace_period must be between 1 and max_t=27"),
    (["--method_args", '{"ASHA": {"scheduler_kwargs": {"grace": 3}}}'],
     r"scheduler_kwargs \['grace'\] are not arguments of HyperbandScheduler"),
    (["--method", "ASHA-TANH"], "benchmark 'synthetic': method 'ASHA-TANH' fixes hyperparameters"),
    (["--benchmark", "fcnet-protein"], "method 'ASHA' is multi-fidelity but benchmark "
                                       "'fcnet-protein' has final values only"),
])
def test_bad_input_exits_with_status_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    base = {"--experiment_tag": "t", "--benchmark": "synthetic", "--method": "ASHA"}
    given = set(args[::2])
    argv = ["run", "--results_dir", str(tmp_path / "results"), "--max_wallclock_time", "100"]
    for flag, value in base.items():
        if flag not in given:
            argv += [flag, value]
    with pytest.raises(SystemExit) as info:
        main([*argv, *args])
    assert info.value.code == 2
    assert re.search(expected, capsys.readouterr().err)
    assert not (tmp_path / "results").exists()


def test_sequence_is_checked_before_its_first_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ASHA would run first; ASHA-RELU does not fit the synthetic space, so nothing runs.
    with pytest.raises(SystemExit) as info:
        run_cli(tmp_path, "--benchmark", "synthetic", "--method", "ASHA",
                "--method", "ASHA-RELU", "--max_wallclock_time", BUDGET)
    assert info.value.code == 2
    assert "'ASHA-RELU' fixes hyperparameters" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_all_methods_skip_the_pairs_that_do_not_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--max_wallclock_time", "100") == 0
    out = capsys.readouterr().out
    for method in METHODS:
        ran = (tmp_path / "results" / "t" / "synthetic" / method / "0" / "metadata.json").exists()
        assert ran == (method not in ("ASHA-TANH", "ASHA-RELU", "MOBSTER-TANH", "MOBSTER-RELU"))
    assert "skipping benchmark 'synthetic' x method 'ASHA-TANH'" in out
    assert "skipping benchmark 'synthetic' x method 'ASHA-RELU'" in out


def test_check_experiments_skips_or_raises() -> None:
    experiments = [
        Experiment(experiment_tag="t", benchmark=b, method=m, seed=s, random_seed=1)
        for b in ("synthetic", "fcnet-protein") for m in ("RS", "ASHA") for s in (0, 1)
    ]
    fitting = [e for e in experiments if e.benchmark == "synthetic"]
    with pytest.raises(MethodDoesNotFitError, match="'fcnet-protein'"):
        check_experiments(fitting + [e for e in experiments if e.method == "ASHA"])
    # Skipping needs no fcnet data: the fidelity check comes before loading a blackbox, and RS on
    # fcnet is left out here.
    loaded: dict[str, Blackbox] = {}
    runnable, skipped = check_experiments(
        [e for e in experiments if not (e.benchmark == "fcnet-protein" and e.method == "RS")],
        skip_misfits=True, loaded=loaded,
    )
    assert runnable == fitting
    assert list(loaded) == ["synthetic"] and isinstance(loaded["synthetic"], SyntheticBlackbox)
    assert len(skipped) == 1 and "'fcnet-protein' x method 'ASHA'" in skipped[0]
    with pytest.raises(ValueError, match="nothing to run"):
        check_experiments([e for e in experiments if e.benchmark == "fcnet-protein"
                           and e.method == "ASHA"], skip_misfits=True)


def test_decision_time_is_charged_to_the_simulated_clock_only_when_asked(tmp_path: Path) -> None:
    frames, metas = {}, {}
    for charge in (False, True):
        experiment = Experiment(experiment_tag=f"charge{int(charge)}", benchmark="synthetic",
                                method="RS", seed=0, random_seed=4, max_wallclock_time=600,
                                charge_decision_time=charge)
        run = run_experiment(experiment, tmp_path)
        frames[charge] = pd.read_csv(run / "results.csv.zip")
        metas[charge] = json.loads((run / "metadata.json").read_text())
    assert [metas[c]["charge_decision_time"] for c in (False, True)] == [False, True]
    first = frames[False].iloc[0], frames[True].iloc[0]
    assert first[0]["trial_id"] == first[1]["trial_id"]  # the same trial reports first
    assert first[1]["st_tuner_time"] > first[0]["st_tuner_time"]  # its decision took time


def test_syne_tune_overheads_are_an_option_recorded_with_the_run(tmp_path: Path) -> None:
    frames, metas = {}, {}
    for overheads in ("none", "syne_tune"):
        experiment = Experiment(experiment_tag=f"o-{overheads.replace('_', '-')}",
                                benchmark="synthetic", method="ASHA", seed=0, random_seed=4,
                                max_wallclock_time=600, simulator_overheads=overheads)
        run = run_experiment(experiment, tmp_path)
        frames[overheads] = pd.read_csv(run / "results.csv.zip")
        metas[overheads] = json.loads((run / "metadata.json").read_text())
    assert [metas[o]["simulator_overheads"] for o in ("none", "syne_tune")] == ["none",
                                                                                "syne_tune"]
    exact, polled = frames["none"], frames["syne_tune"]
    assert exact["st_tuner_time"].max() <= 600 < polled["st_tuner_time"].max()
    assert polled["trial_id"].nunique() < exact["trial_id"].nunique()
    with pytest.raises(ValueError, match=r"simulator_overheads must be one of \['none', "
                                         r"'syne_tune'\], got 'syne-tune'"):
        check_experiments([Experiment(experiment_tag="x", benchmark="synthetic", method="RS",
                                      seed=0, random_seed=4, simulator_overheads="syne-tune")])


def test_max_num_evaluations_caps_the_results_and_is_recorded(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "--benchmark", "synthetic", "--method", "RS",
                   "--max_wallclock_time", "100000", "--max_num_evaluations", "37") == 0
    meta = metadata(tmp_path, "RS")
    assert meta["num_results"] == 37
    assert meta["max_num_evaluations"] == 37
    assert meta["benchmark_defaults"]["max_num_evaluations"] is None
    df = pd.read_csv(tmp_path / "results" / "t" / "synthetic" / "RS" / "0" / "results.csv.zip")
    assert len(df) == 37
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="max_num_evaluations must be null .* or an int "
                                             f">= 1, got {bad!r}"):
            check_experiments([Experiment(experiment_tag="x", benchmark="synthetic",
                                          method="RS", seed=0, random_seed=4,
                                          max_num_evaluations=bad)])  # type: ignore[arg-type]
