"""Methods registry: names, availability, config-space variants and per-method overrides."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from hpo_core import space as sp
from hpo_core.blackboxes.converters import fcnet
from hpo_core.experiments.benchmarks import get_benchmark
from hpo_core.experiments.methods import (
    METHOD_ARGUMENT_FIELDS,
    METHODS,
    MULTI_FIDELITY,
    MethodArguments,
    MethodDefinition,
    MethodDoesNotFitError,
    apply_method_args,
    check_method_fits_benchmark,
    check_restrictable,
    get_method,
    is_expensive_method,
    recursive_merge,
    validate_methods,
)
from hpo_core.schedulers import (
    DEHBScheduler,
    FIFOScheduler,
    HyperbandScheduler,
    SynchronousHyperbandScheduler,
)
from hpo_core.schedulers.base import Scheduler
from hpo_core.testing import synthetic_config_space

#: Every method name used in the seed documents (studies 000-003).
SEED_METHODS = [
    "RS", "BO", "ASHA", "MOBSTER", "ASHA-TANH", "MOBSTER-TANH", "ASHA-RELU", "MOBSTER-RELU",
    "ASHA-STOP", "ASHA-PROM", "ASHA6-STOP", "MOBSTER-JOINT", "MOBSTER-INDEP",
    "HYPERTUNE-INDEP", "HYPERTUNE4-INDEP", "HYPERTUNE-JOINT", "SYNCHB", "SYNCSH", "SYNCMOBSTER",
    "BOHB", "DEHB",
]
LANDED = [
    "RS", "BO", "ASHA", "ASHA-STOP", "ASHA-PROM", "ASHA6-STOP", "PASHA", "ASHA-TANH", "ASHA-RELU",
    "MOBSTER", "MOBSTER-TANH", "MOBSTER-RELU", "MOBSTER-JOINT", "MOBSTER-INDEP",
    "HYPERTUNE-INDEP", "HYPERTUNE4-INDEP", "HYPERTUNE-JOINT", "SYNCHB", "SYNCSH", "SYNCMOBSTER",
    "BOHB", "BOHB-ASYNC", "DEHB", "KDE",
]


def arguments(space: dict[str, Any], **changes: Any) -> MethodArguments:
    fields: dict[str, Any] = {
        "config_space": space, "metric": "error", "mode": "min", "resource_attr": "epoch",
        "max_resource_attr": "epochs", "n_workers": 4, "random_seed": 7,
    }
    return MethodArguments(**{**fields, **changes})


def fcnet_like_space() -> dict[str, Any]:
    return fcnet.config_space(epochs=27)


def suggested_configs(scheduler: Scheduler, num: int) -> list[dict[str, Any]]:
    configs = []
    for trial_id in range(num):
        suggestion = scheduler.suggest(trial_id)
        assert suggestion is not None and suggestion.config is not None
        configs.append(suggestion.config)
    return configs


# -- names and availability -------------------------------------------------------------------


def test_every_seed_method_is_available() -> None:
    assert set(SEED_METHODS) <= set(METHODS)
    assert list(METHODS) == LANDED


def test_unknown_method_lists_available_ones() -> None:
    with pytest.raises(ValueError, match="'FOO'") as info:
        get_method("FOO")
    assert "'ASHA-PROM'" in str(info.value)
    with pytest.raises(ValueError, match="did you mean 'SYNCMOBSTER'"):
        get_method("SYNCMOBSTR")


def test_validate_methods_names_every_problem_at_once() -> None:
    assert validate_methods(["RS", "ASHA-RELU", "DEHB"]) == ["RS", "ASHA-RELU", "DEHB"]
    with pytest.raises(ValueError) as info:
        validate_methods(["RS", "FOO", "DEHB", "BAR"])
    message = str(info.value)
    assert "unknown method(s) ['FOO', 'BAR']" in message
    assert "available: ['RS', 'BO', 'ASHA'," in message


def test_kde_and_de_methods_cannot_be_restricted_to_a_table() -> None:
    # seed 002: restrict_configurations is not supported by SyncBOHB, BOHB and DEHB
    for name in ("BOHB", "BOHB-ASYNC", "DEHB", "KDE"):
        with pytest.raises(ValueError, match=f"method {name!r} cannot honour "
                                             "restrict_configurations") as info:
            check_restrictable(name)
        assert "'SYNCHB'" in str(info.value) and "'RS'" in str(info.value)
    for name in ("RS", "BO", "ASHA", "MOBSTER", "SYNCHB", "SYNCSH", "SYNCMOBSTER"):
        check_restrictable(name)


def test_multi_fidelity_set_covers_new_names() -> None:
    assert {"ASHA-TANH", "ASHA-RELU", "MOBSTER-JOINT", "HYPERTUNE4-INDEP", "SYNCSH", "BOHB",
            "DEHB", "PASHA"} <= MULTI_FIDELITY
    assert "RS" not in MULTI_FIDELITY and "BO" not in MULTI_FIDELITY


def test_multi_fidelity_methods_refuse_single_fidelity_benchmarks() -> None:
    single = get_benchmark("fcnet-protein")
    for method in ("RS", "BO"):
        check_method_fits_benchmark(method, single)
    for method in ("ASHA-TANH", "MOBSTER"):
        with pytest.raises(MethodDoesNotFitError, match=f"{method!r} is multi-fidelity"):
            check_method_fits_benchmark(method, single)
    check_method_fits_benchmark("ASHA", get_benchmark("synthetic"))


def test_expensive_methods_are_the_model_based_ones_of_the_seed_studies() -> None:
    # Study 001: method.startswith("MOBSTER") or method == "BO"
    for name in ("RS", "BO", "ASHA", "MOBSTER", "ASHA-TANH", "MOBSTER-TANH", "ASHA-RELU",
                 "MOBSTER-RELU"):
        assert is_expensive_method(name) == (name.startswith("MOBSTER") or name == "BO")
    # Study 003: seeds of these run in parallel, of ASHA, SYNCHB and BOHB in sequence
    for name in ("MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "HYPERTUNE-JOINT"):
        assert is_expensive_method(name)
    for name in ("ASHA", "SYNCHB", "BOHB"):
        assert not is_expensive_method(name)
    assert is_expensive_method("SYNCMOBSTER")
    assert not any(is_expensive_method(n) for n in ("SYNCSH", "DEHB", "BOHB-ASYNC"))
    with pytest.raises(ValueError, match="'FOO'"):
        is_expensive_method("FOO")


@pytest.mark.parametrize("name", LANDED)
def test_every_available_method_builds_a_scheduler(name: str) -> None:
    space = {**synthetic_config_space(27), **{
        k: v for k, v in fcnet_like_space().items() if k.startswith("hp_activation")
    }}
    scheduler = get_method(name)(arguments(space))
    expected: type[Scheduler] = HyperbandScheduler
    if name in ("RS", "BO", "KDE"):
        expected = FIFOScheduler
    elif name == "DEHB":
        expected = DEHBScheduler
    elif name.startswith("SYNC") or name == "BOHB":
        expected = SynchronousHyperbandScheduler
    assert type(scheduler) is expected
    assert scheduler.random_seed == 7
    suggestion = scheduler.suggest(0)
    assert suggestion is not None and suggestion.config is not None
    assert suggestion.config["epochs"] == 27


def test_registry_entries_compose_scheduler_arguments() -> None:
    space = synthetic_config_space(27)
    assert get_method("ASHA-PROM")(arguments(space)).metadata()["type"] == "promotion"
    assert get_method("PASHA")(arguments(space)).metadata()["type"] == "pasha"
    assert get_method("RS")(arguments(space)).metadata()["scheduler"] == "FIFOScheduler"


@pytest.mark.parametrize(("max_t", "overrides", "brackets"), [
    (243, {}, 6),  # rung levels 1, 3, 9, 27, 81: six brackets
    (27, {}, 4),  # rung levels 1, 3, 9: at most four
    (27, {"grace_period": 3}, 3),
    (27, {"rung_levels": [2]}, 2),
    (243, {"brackets": 2}, 2),  # an explicit value is kept
])
def test_asha6_uses_six_brackets_where_rung_levels_allow(
    max_t: int, overrides: dict[str, Any], brackets: int
) -> None:
    args = arguments(synthetic_config_space(max_t), scheduler_kwargs=overrides)
    assert get_method("ASHA6-STOP")(args).metadata()["brackets"] == brackets


def test_asha6_leaves_bad_values_for_the_scheduler_to_report() -> None:
    args = arguments(synthetic_config_space(27), scheduler_kwargs={"reduction_factor": 1})
    with pytest.raises(ValueError, match="reduction_factor must be a number >= 2"):
        get_method("ASHA6-STOP")(args)


# -- config-space variants ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("ASHA-TANH", "tanh"), ("ASHA-RELU", "relu")])
def test_activation_variants_fix_both_activations(name: str, value: str) -> None:
    space = fcnet_like_space()
    args = arguments(space)
    resolved = METHODS[name].resolve(args, method=name)
    assert resolved.config_space["hp_activation_fn_1"] == value
    assert resolved.config_space["hp_activation_fn_2"] == value
    others = [k for k in space if not k.startswith("hp_activation")]
    assert all(resolved.config_space[k] is space[k] for k in others)
    assert isinstance(args.config_space["hp_activation_fn_1"], sp.Categorical)  # input kept
    configs = suggested_configs(get_method(name)(args), 30)
    assert all(c["hp_activation_fn_1"] == c["hp_activation_fn_2"] == value for c in configs)
    # Without the variant, both values are searched over.
    plain = suggested_configs(get_method("ASHA")(args), 30)
    assert {c["hp_activation_fn_1"] for c in plain} == {"tanh", "relu"}


def test_activation_variant_on_space_without_activations_names_what_is_missing() -> None:
    with pytest.raises(MethodDoesNotFitError) as info:
        get_method("ASHA-TANH")(arguments(synthetic_config_space(27)))
    message = str(info.value)
    assert "'ASHA-TANH'" in message
    assert "'hp_activation_fn_1', 'hp_activation_fn_2'" in message


def test_activation_variant_with_one_activation_missing() -> None:
    space = {k: v for k, v in fcnet_like_space().items() if k != "hp_activation_fn_2"}
    with pytest.raises(MethodDoesNotFitError, match=r"lacks \['hp_activation_fn_2'\]"):
        get_method("ASHA-RELU")(arguments(space))


def test_activation_variant_keeps_only_matching_restricted_configs() -> None:
    space = fcnet_like_space()
    rng = np.random.default_rng(0)
    rows = [sp.sample_config(space, rng) for _ in range(40)]
    args = arguments(space, scheduler_kwargs={"search_options": {"restrict_configurations": rows}})
    resolved = METHODS["ASHA-RELU"].resolve(args, method="ASHA-RELU")
    kept = resolved.scheduler_kwargs["search_options"]["restrict_configurations"]
    expected = [r for r in rows
                if r["hp_activation_fn_1"] == r["hp_activation_fn_2"] == "relu"]
    assert kept == expected and 0 < len(kept) < len(rows)
    assert len(args.scheduler_kwargs["search_options"]["restrict_configurations"]) == 40
    only_tanh = [r for r in rows if r["hp_activation_fn_1"] == "tanh"]
    args = arguments(space, scheduler_kwargs={"search_options": {
        "restrict_configurations": only_tanh}})
    with pytest.raises(MethodDoesNotFitError, match="no configuration of restrict"):
        METHODS["ASHA-RELU"].resolve(args, method="ASHA-RELU")


# -- overrides ---------------------------------------------------------------------------------


def test_recursive_merge_merges_nested_dicts_and_update_wins() -> None:
    base = {"a": 1, "opts": {"x": 1, "deep": {"p": 1, "q": 2}}, "lst": [1, 2], "d": {"k": 1},
            "keep": {"z": {"w": 1}}}
    update = {"opts": {"deep": {"q": 3}, "y": 2}, "lst": [3], "d": 5, "a": {"new": {"n": 1}}}
    base_copy, update_copy = copy.deepcopy(base), copy.deepcopy(update)
    merged = recursive_merge(base, update)
    assert merged == {"a": {"new": {"n": 1}}, "opts": {"x": 1, "deep": {"p": 1, "q": 3}, "y": 2},
                      "lst": [3], "d": 5, "keep": {"z": {"w": 1}}}
    assert base == base_copy and update == update_copy
    # No dict of the result is shared with an input.
    merged["opts"]["deep"]["p"] = 99
    merged["a"]["new"]["n"] = 99
    merged["keep"]["z"]["w"] = 99
    assert base == base_copy and update == update_copy
    assert recursive_merge({}, {}) == {}
    assert recursive_merge({"k": {"x": 1}}, {}) == {"k": {"x": 1}}


def test_apply_method_args_merges_scheduler_kwargs_recursively() -> None:
    args = arguments(synthetic_config_space(27), scheduler_kwargs={
        "type": "promotion", "search_options": {"restrict_configurations": None}})
    new = apply_method_args(args, {
        "scheduler_kwargs": {"grace_period": 3, "search_options": {"max_retries": 5}},
        "n_workers": 2, "max_size_data_for_model": 100,
    })
    assert new.scheduler_kwargs == {
        "type": "promotion", "grace_period": 3,
        "search_options": {"restrict_configurations": None, "max_retries": 5},
    }
    assert (new.n_workers, new.max_size_data_for_model) == (2, 100)
    assert args.scheduler_kwargs == {"type": "promotion",
                                     "search_options": {"restrict_configurations": None}}
    assert args.n_workers == 4
    assert get_method("ASHA")(new).metadata()["rung_levels"] == [3, 9]


def test_apply_method_args_unknown_field_names_allowed_ones() -> None:
    args = arguments(synthetic_config_space(27))
    with pytest.raises(ValueError, match=r"unknown method argument field\(s\) \['grace_period'\]")\
            as info:
        apply_method_args(args, {"grace_period": 3})
    assert all(name in str(info.value) for name in METHOD_ARGUMENT_FIELDS)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"n_workers": 0}, "n_workers"),
    ({"n_workers": "2"}, "n_workers"),
    ({"mode": "maximize"}, "mode"),
    ({"random_seed": -1}, "random_seed"),
    ({"max_size_data_for_model": 0}, "max_size_data_for_model"),
    ({"scheduler_kwargs": [1]}, "scheduler_kwargs"),
    ({"scheduler_kwargs": {"metric": "loss"}}, "metric"),
    ({"config_space": {"no_such": 1}}, "no_such"),
])
def test_apply_method_args_rejects_bad_values(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        apply_method_args(arguments(synthetic_config_space(27)), overrides)


def test_apply_method_args_replaces_config_space_entries() -> None:
    args = arguments(synthetic_config_space(27))
    new = apply_method_args(args, {"config_space": {
        "optimizer": "adam",
        "dropout": {"type": "uniform", "lower": 0.1, "upper": 0.2},
        "batch_size": {"type": "constant", "value": 32},
    }})
    assert new.config_space["optimizer"] == "adam"
    assert new.config_space["batch_size"] == 32
    assert new.config_space["dropout"] == sp.uniform(0.1, 0.2)
    assert isinstance(args.config_space["optimizer"], sp.Categorical)


def test_unknown_scheduler_kwargs_name_the_scheduler_and_allowed_ones() -> None:
    args = arguments(synthetic_config_space(27), scheduler_kwargs={"grace_periods": 3})
    with pytest.raises(ValueError, match=r"\['grace_periods'\] are not arguments of "
                                         r"HyperbandScheduler \(did you mean 'grace_period'\?\); "
                                         r"allowed: .*'reduction_factor'"):
        get_method("ASHA")(args)


def test_max_size_data_for_model_reaches_model_based_methods_only() -> None:
    args = arguments(synthetic_config_space(27), max_size_data_for_model=500)
    model_based = MethodDefinition(scheduler=HyperbandScheduler, multi_fidelity=True,
                                   model_based=True)
    resolved = model_based.resolve(args, method="test")
    assert resolved.scheduler_kwargs == {"search_options": {"max_size_data_for_model": 500}}
    asha = METHODS["ASHA"].resolve(args, method="ASHA")
    assert asha.scheduler_kwargs == {"type": "stopping"}
    assert asha.max_size_data_for_model == 500
