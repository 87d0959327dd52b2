"""YAHPO Gym blackboxes on the real surrogates: lcbench, rbv2_xgboost, rbv2_rpart, iaml_glmnet."""

from __future__ import annotations

import functools
import importlib
import json
import pickle
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from rawdata import raw_file, raw_files

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.catalogue import lookup
from hpo_core.blackboxes.converters import yahpo as conv
from hpo_core.blackboxes.safe_pickle import sha256_of
from hpo_core.blackboxes.yahpo import YahpoBlackbox
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.trial import TrialStatus
from hpo_core.tuner import StoppingCriterion, Tuner

#: One instance per scenario, used throughout.
INSTANCE = {
    "yahpo_lcbench": "167184",
    "yahpo_rbv2_xgboost": "29",
    "yahpo_rbv2_rpart": "41161",
    "yahpo_iaml_glmnet": "1489",
}

XGB_GBLINEAR = {
    "alpha": 0.5, "booster": "gblinear", "lambda": 2.0, "nrounds": 100,
    "num.impute.selected.cpo": "impute.hist", "subsample": 0.8, "colsample_bylevel": 0.3,
    "colsample_bytree": 0.4, "eta": 0.1, "gamma": 0.01, "max_depth": 6,
    "min_child_weight": 3.0, "rate_drop": 0.2, "skip_drop": 0.7, "max_trainsize": 20,
}


def files_of(scenario: conv.YahpoScenario, instance: str) -> dict[str, Path]:
    return raw_files(scenario.inputs(instance))


def fresh(family: str, instance: str | None = None, **kwargs: Any) -> YahpoBlackbox:
    scenario = conv.SCENARIOS[family]
    instance = instance or INSTANCE[family]
    return scenario.convert(instance, files_of(scenario, instance), **kwargs)


@functools.cache
def shared(family: str) -> YahpoBlackbox:
    """One blackbox per scenario for the tests that only read from it."""
    return fresh(family)


def random_configs(blackbox: YahpoBlackbox, n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [sp.sample_config(blackbox.config_space, rng) for _ in range(n)]


# -- encoding ---------------------------------------------------------------------------------


def test_lcbench_reproduces_a_published_prediction() -> None:
    # HPOBench's YAHPO test (automl/HPOBench, tests/test_yahpo.py) evaluates this config on
    # lcbench instance 167152 at epoch 29 and asserts val_accuracy 61.2971 and cost (time)
    # 119.4965, both to 1e-4.
    blackbox = fresh("yahpo_lcbench", "167152")
    config = {
        "batch_size": 106, "learning_rate": 0.013981961408994055,
        "max_dropout": 0.6027633760716439, "max_units": 289, "momentum": 0.47705277141162516,
        "num_layers": 4, "weight_decay": 0.04376434525415663,
    }
    raw = blackbox.raw_predictions(config)[28]  # epoch 29
    assert raw[blackbox.objective_index("val_accuracy")] == pytest.approx(61.2971, abs=1e-4)
    assert raw[blackbox.objective_index("time")] == pytest.approx(119.4965, abs=1e-4)
    curve = blackbox.curve(config).objectives
    assert curve[28, blackbox.objective_index("val_accuracy")] == pytest.approx(61.2971, abs=1e-4)


def test_lcbench_encoding_is_the_documented_one() -> None:
    blackbox = shared("yahpo_lcbench")
    config = {
        "batch_size": 71, "learning_rate": 0.001824, "momentum": 0.213252,
        "weight_decay": 0.020473, "num_layers": 3, "max_units": 293, "max_dropout": 0.025926,
    }
    x_cat, x_cont = blackbox.encode(config)
    assert x_cat.dtype == np.int32 and x_cont.dtype == np.float32
    np.testing.assert_array_equal(x_cat, np.full((52, 1), 12))  # task 167184 -> code 12
    expected = np.array(
        [[e, 71, 0.001824, 0.213252, 0.020473, 3, 293, 0.025926] for e in range(1, 53)],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(x_cont, expected)


def test_rbv2_xgboost_encoding_feeds_inactive_parameters_as_missing() -> None:
    blackbox = shared("yahpo_rbv2_xgboost")
    trainsize = np.arange(1, 21) / 20
    # gblinear: the tree parameters and the dart ones are inactive -> 0 (numerical).
    x_cat, x_cont = blackbox.encode(XGB_GBLINEAR)
    # instance 29 -> 49, gblinear -> 2, impute.hist -> 1
    np.testing.assert_array_equal(x_cat, np.tile([49, 2, 1], (20, 1)))
    # nrounds, eta, gamma, lambda, alpha, subsample, max_depth, min_child_weight,
    # colsample_bytree, colsample_bylevel, rate_drop, skip_drop, trainsize, repl
    row = [100, 0, 0, 2.0, 0.5, 0.8, 0, 0, 0, 0, 0, 0, 0, 10]
    expected = np.tile(np.array(row, dtype=np.float32), (20, 1))
    expected[:, 12] = trainsize
    np.testing.assert_array_equal(x_cont, expected)
    # dart: everything active.
    dart = {**XGB_GBLINEAR, "booster": "dart", "num.impute.selected.cpo": "impute.median"}
    x_cat, x_cont = blackbox.encode(dart)
    np.testing.assert_array_equal(x_cat[0], [49, 1, 3])
    row = [100, 0.1, 0.01, 2.0, 0.5, 0.8, 6, 3.0, 0.4, 0.3, 0.2, 0.7, 1.0, 10]
    np.testing.assert_array_equal(x_cont[-1], np.array(row, dtype=np.float32))
    # gbtree: only rate_drop and skip_drop are inactive.
    _, x_cont = blackbox.encode({**dart, "booster": "gbtree"})
    assert x_cont[-1, 10] == x_cont[-1, 11] == 0
    assert x_cont[-1, 1] == np.float32(0.1)


def test_inactive_values_do_not_change_the_curve() -> None:
    blackbox = shared("yahpo_rbv2_xgboost")
    other = {**XGB_GBLINEAR, "eta": 0.5, "max_depth": 2, "rate_drop": 0.9}
    np.testing.assert_array_equal(
        blackbox.curve(XGB_GBLINEAR).objectives, blackbox.curve(other).objectives
    )
    dart, dart_other = ({**c, "booster": "dart"} for c in (XGB_GBLINEAR, other))
    assert not np.array_equal(
        blackbox.curve(dart).objectives, blackbox.curve(dart_other).objectives
    )


def test_rbv2_rpart_and_iaml_glmnet_encodings() -> None:
    rpart = shared("yahpo_rbv2_rpart")
    config = {"cp": 0.01, "maxdepth": 12, "minbucket": 5, "minsplit": 30,
              "num.impute.selected.cpo": "impute.mean"}
    x_cat, x_cont = rpart.encode(config)
    np.testing.assert_array_equal(x_cat, np.tile([91, 2], (20, 1)))  # 41161 -> 91, mean -> 2
    expected = np.array([[0.01, 12, 5, 30, r / 20, 10] for r in range(1, 21)], dtype=np.float32)
    np.testing.assert_array_equal(x_cont, expected)

    glmnet = shared("yahpo_iaml_glmnet")
    x_cat, x_cont = glmnet.encode({"alpha": 0.3, "s": 2.5})
    np.testing.assert_array_equal(x_cat, np.full((20, 1), 2))  # 1489 -> 2
    expected = np.array([[0.3, 2.5, r / 20] for r in range(1, 21)], dtype=np.float32)
    np.testing.assert_array_equal(x_cont, expected)


# -- predictions --------------------------------------------------------------------------------


def test_lcbench_predictions_are_plausible() -> None:
    blackbox = shared("yahpo_lcbench")
    curves = np.stack([blackbox.curve(c).objectives for c in random_configs(blackbox, 30)])
    index = {name: blackbox.objective_index(name) for name in blackbox.objective_names}
    assert np.isfinite(curves).all()
    assert ((curves[..., index["val_accuracy"]] >= 0)
            & (curves[..., index["val_accuracy"]] <= 100)).all()
    for name in ("val_balanced_accuracy", "test_balanced_accuracy"):
        assert ((curves[..., index[name]] >= 0) & (curves[..., index[name]] <= 1)).all()
    time = curves[..., index["time"]]
    assert (time > 0).all()
    assert (np.diff(time, axis=1) >= 0).all()
    assert (time[:, -1] > 5 * time[:, 0]).all()  # 52 epochs take much longer than one


@pytest.mark.parametrize("family", ["yahpo_rbv2_xgboost", "yahpo_rbv2_rpart"])
def test_rbv2_predictions_are_plausible(family: str) -> None:
    blackbox = shared(family)
    curves = np.stack([blackbox.curve(c).objectives for c in random_configs(blackbox, 30)])
    assert np.isfinite(curves).all()
    for name in ("acc", "bac", "auc", "brier", "f1"):
        values = curves[..., blackbox.objective_index(name)]
        assert ((values >= -0.01) & (values <= 1.01)).all(), name
    assert (curves[..., blackbox.objective_index("logloss")] > 0).all()
    time = curves[..., blackbox.objective_index("timetrain")]
    assert (time > 0).all() and (np.diff(time, axis=1) >= 0).all()
    # Training on the whole data takes longer than on a twentieth, on average.
    assert time[:, -1].mean() > 1.5 * time[:, 0].mean()


def test_elapsed_time_is_the_running_maximum_of_the_prediction() -> None:
    blackbox = shared("yahpo_rbv2_xgboost")
    t = blackbox.objective_index("timetrain")
    decreasing = 0
    for config in random_configs(blackbox, 20, seed=3):
        raw = blackbox.raw_predictions(config).astype(np.float64)
        curve = blackbox.curve(config).objectives
        np.testing.assert_array_equal(curve[:, t], np.maximum.accumulate(np.maximum(raw[:, t], 0)))
        others = [i for i in range(len(blackbox.objective_names)) if i != t]
        np.testing.assert_array_equal(curve[:, others], raw[:, others])
        decreasing += bool((np.diff(raw[:, t]) < 0).any())
    assert decreasing > 0  # the case the running maximum is for does occur


def test_curves_are_cached_read_only_and_bounded() -> None:
    blackbox = fresh("yahpo_iaml_glmnet", cache_size=2)
    a, b, c = random_configs(blackbox, 3)
    first = blackbox.curve(a)
    assert blackbox.curve(dict(a)) is first
    with pytest.raises(ValueError):
        first.objectives[0, 0] = 1.0
    blackbox.curve(b)
    blackbox.curve(a)  # a is now the most recently used
    blackbox.curve(c)  # drops b
    assert blackbox.num_cached_curves == 2
    assert blackbox.curve(a) is first
    blackbox.clear_cache()
    assert blackbox.num_cached_curves == 0
    again = blackbox.curve(a)
    assert again is not first
    np.testing.assert_array_equal(again.objectives, first.objectives)


def test_seed_is_ignored() -> None:
    blackbox = shared("yahpo_iaml_glmnet")
    assert blackbox.num_seeds == 1
    (config,) = random_configs(blackbox, 1, seed=5)
    np.testing.assert_array_equal(blackbox.curve(config, 0).objectives,
                                  blackbox.curve(config, 3).objectives)


@pytest.mark.parametrize(
    ("family", "change", "match"),
    [
        ("yahpo_lcbench", {"batch_size": 2000}, "batch_size"),
        ("yahpo_lcbench", {"learning_rate": 0.5}, "learning_rate"),
        ("yahpo_lcbench", {"num_layers": 2.5}, "num_layers"),
        ("yahpo_lcbench", {"epochs": 10}, "epochs"),
        ("yahpo_lcbench", {"epoch": 3}, "unknown"),
        ("yahpo_lcbench", {"OpenML_task_id": "3945"}, "unknown"),
        ("yahpo_rbv2_xgboost", {"booster": "linear"}, "booster"),
        ("yahpo_rbv2_xgboost", {"repl": 10}, "unknown"),
        ("yahpo_rbv2_xgboost", {"trainsize": 0.5}, "unknown"),
        ("yahpo_iaml_glmnet", {"s": [1.0]}, "'s'"),
    ],
)
def test_config_outside_the_space_is_rejected(
    family: str, change: dict[str, Any], match: str
) -> None:
    blackbox = shared(family)
    (config,) = random_configs(blackbox, 1)
    bad = {**config, **change}
    for _ in range(2):  # an invalid config is not cached either
        with pytest.raises(ValueError, match=match):
            blackbox.curve(bad)


def test_missing_hyperparameter_is_rejected() -> None:
    blackbox = shared("yahpo_lcbench")
    (config,) = random_configs(blackbox, 1)
    del config["momentum"]
    with pytest.raises(ValueError, match="missing hyperparameter 'momentum'"):
        blackbox.curve(config)


# -- scenarios and converter --------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(conv.SCENARIOS))
def test_each_scenario_builds_and_gives_a_curve(family: str) -> None:
    scenario = conv.SCENARIOS[family]
    blackbox = shared(family)
    assert blackbox.name == f"{family}-{INSTANCE[family]}"
    assert blackbox.instance == INSTANCE[family]
    assert blackbox.objective_names == list(scenario.targets)
    assert blackbox.elapsed_time_attr in blackbox.objective_names
    assert blackbox.metric in blackbox.objective_names and blackbox.mode == "max"
    max_fidelity = 52 if family == "yahpo_lcbench" else 20
    np.testing.assert_array_equal(blackbox.fidelity_values, np.arange(1, max_fidelity + 1))
    assert blackbox.config_space[scenario.max_resource_attr] == max_fidelity
    hps = set(sp.hyperparameters(blackbox.config_space))
    assert not hps & {"epoch", "trainsize", "repl", "task_id", "OpenML_task_id"}
    for config in [sp.midpoint_config(blackbox.config_space), *random_configs(blackbox, 3)]:
        curve = blackbox.curve(config)
        assert curve.objectives.shape == (max_fidelity, len(scenario.targets))
        assert curve.failed_after is None
        assert np.isfinite(curve.objectives).all()


def test_config_spaces_follow_the_published_domains() -> None:
    space = shared("yahpo_lcbench").config_space
    assert space == {
        "batch_size": sp.lograndint(16, 512),
        "learning_rate": sp.loguniform(1e-4, 0.1),
        "max_dropout": sp.uniform(0.0, 1.0),
        "max_units": sp.lograndint(64, 1024),
        "momentum": sp.uniform(0.1, 0.99),
        "num_layers": sp.randint(1, 5),
        "weight_decay": sp.uniform(1e-5, 0.1),
        "epochs": 52,
    }
    xgb = shared("yahpo_rbv2_xgboost").config_space
    assert xgb["booster"] == sp.choice(["gblinear", "gbtree", "dart"])
    assert xgb["nrounds"] == sp.lograndint(7, 2981)
    assert xgb["eta"] == sp.loguniform(float(f"{np.exp(-7):.12g}"), 1.0)
    assert xgb["max_depth"] == sp.randint(1, 15)
    assert shared("yahpo_iaml_glmnet").config_space == {
        "alpha": sp.uniform(0.0, 1.0), "s": sp.loguniform(1e-4, 1000.0), "max_trainsize": 20,
    }


@pytest.mark.parametrize("family", sorted(conv.SCENARIOS))
def test_datasets_are_the_instances_of_the_config_space(family: str) -> None:
    scenario = conv.SCENARIOS[family]
    cs = json.loads(raw_file(f"{family}/config_space.json").read_text())
    (instance_hp,) = [h for h in cs["hyperparameters"] if h["name"] == scenario.instance_input]
    assert scenario.datasets() == sorted(instance_hp["choices"], key=int)
    assert set(scenario.selected_instances()) <= set(scenario.datasets())
    assert 1 <= len(scenario.selected_instances()) <= 10
    for path in scenario.inputs(scenario.datasets()[0]):
        assert lookup(path).path == path


def test_registry_targets_resolve_to_the_namespaces() -> None:
    for family, target in conv.REGISTRY.items():
        module, _, attr = target.partition(":")
        namespace = getattr(importlib.import_module(module), attr)
        assert namespace is conv.SCENARIOS[family] and family == namespace.FAMILY
        assert namespace.VERSION == conv.VERSION


def test_selected_instances_are_non_degenerate_and_rejected_ones_are_not() -> None:
    for family, scenario in conv.SCENARIOS.items():
        for instance in scenario.selected_instances():
            assert conv.is_non_degenerate(fresh(family, instance)), (family, instance)
    for family, instance in [("yahpo_rbv2_rpart", "1111"), ("yahpo_rbv2_rpart", "1464"),
                             ("yahpo_iaml_glmnet", "1067")]:
        assert not conv.is_non_degenerate(fresh(family, instance)), (family, instance)


def test_converter_rejects_unknown_instances_and_missing_files() -> None:
    scenario = conv.LCBENCH
    with pytest.raises(ValueError, match="unknown instance '167083'"):
        scenario.inputs("167083")  # in encoding.json but excluded from the scenario
    files = files_of(scenario, "3945")
    del files["yahpo_lcbench/encoding.json"]
    with pytest.raises(ValueError, match="lacks inputs"):
        scenario.convert("3945", files)


def test_provenance() -> None:
    blackbox = shared("yahpo_rbv2_rpart")
    provenance = blackbox.provenance
    assert provenance["source"]["repository"] == "https://github.com/slds-lmu/yahpo_data"
    assert provenance["source"]["tag"] == "v1.0.2"
    assert provenance["licence"] == "Apache-2.0"
    assert "YAHPO Gym" in provenance["citation"] and "Pfisterer" in provenance["citation"]
    assert provenance["converter"] == conv.__name__
    assert provenance["converter_version"] == conv.VERSION
    assert provenance["input_sha256"] == {
        path: lookup(path).sha256 for path in conv.RBV2_RPART.inputs("41161")
    }


# -- storage ----------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    blackbox = shared("yahpo_rbv2_xgboost")
    path = tmp_path / "yahpo_rbv2_xgboost" / "29.h5"
    blackbox.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["29.h5"]  # no temporary file left
    loaded = YahpoBlackbox.load(path)
    for attr in ("name", "scenario", "instance", "objective_names", "fidelity_name",
                 "elapsed_time_attr", "metric", "mode", "max_resource_attr", "config_space",
                 "encoding", "layout", "provenance", "model"):
        assert getattr(loaded, attr) == getattr(blackbox, attr), attr
    np.testing.assert_array_equal(loaded.fidelity_values, blackbox.fidelity_values)
    with h5py.File(path, "r") as f:
        assert f.attrs["kind"] == "yahpo"
        stored = f["model"][()].tobytes()
    assert stored == raw_file("yahpo_rbv2_xgboost/model.onnx").read_bytes()
    assert blackbox.provenance["input_sha256"]["yahpo_rbv2_xgboost/model.onnx"] == sha256_of(
        raw_file("yahpo_rbv2_xgboost/model.onnx")
    )
    for config in [XGB_GBLINEAR, *random_configs(blackbox, 5)]:
        np.testing.assert_array_equal(loaded.curve(config).objectives,
                                      blackbox.curve(config).objectives)


def test_load_rejects_a_corrupted_model(tmp_path: Path) -> None:
    path = tmp_path / "glmnet.h5"
    shared("yahpo_iaml_glmnet").save(path)
    with h5py.File(path, "r+") as f:
        f["model"][100] ^= 1
    with pytest.raises(ValueError, match="sha256"):
        YahpoBlackbox.load(path)


def test_pickle_round_trip_rebuilds_the_session() -> None:
    blackbox = shared("yahpo_iaml_glmnet")
    copy = pickle.loads(pickle.dumps(blackbox))
    for config in random_configs(blackbox, 3):
        np.testing.assert_array_equal(copy.curve(config).objectives,
                                      blackbox.curve(config).objectives)


# -- simulation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "resource_attr"),
                         [("yahpo_lcbench", "epoch"), ("yahpo_rbv2_xgboost", "trainsize")])
def test_simulator_runs_asha(family: str, resource_attr: str) -> None:
    blackbox = shared(family)
    max_resource_attr = conv.SCENARIOS[family].max_resource_attr
    scheduler = HyperbandScheduler(
        blackbox.config_space, metric=blackbox.metric, mode=blackbox.mode,
        resource_attr=resource_attr, max_resource_attr=max_resource_attr, type="stopping",
        grace_period=1, reduction_factor=3, random_seed=0,
    )
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr=max_resource_attr),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=60),
        n_workers=4,
    )
    summary = tuner.run()
    df = tuner.results.to_dataframe(metric=blackbox.metric, mode="max")
    assert tuner.num_trials_started == 60
    max_fidelity = int(blackbox.fidelity_values[-1])
    assert df[resource_attr].between(1, max_fidelity).all()
    # ASHA stops most trials early: far fewer results than 60 full curves.
    assert len(df) < 0.5 * 60 * max_fidelity
    stopped = [t for t in tuner.trials.values() if t.status is TrialStatus.STOPPED]
    assert stopped
    assert (np.diff(df["st_tuner_time"].to_numpy()) >= 0).all()
    assert summary.best_metric == df[blackbox.metric].max()
    # Each reported value is the blackbox's prediction at the reported resource.
    sample = df.sample(10, random_state=0)
    metric_index = blackbox.objective_index(blackbox.metric)
    for trial_id, resource, value in zip(
        sample["trial_id"].tolist(), sample[resource_attr].tolist(),
        sample[blackbox.metric].tolist(), strict=True,
    ):
        config = tuner.trials[trial_id].config
        assert value == blackbox.curve(config).objectives[resource - 1, metric_index]
