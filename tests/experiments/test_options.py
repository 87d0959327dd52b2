"""One declaration per run option: the command line, Experiment, the schema, the rules' flags
and metadata.json all follow ``hpo_core.experiments.options.RUN_OPTIONS``."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hpo_core.cli import _parsers
from hpo_core.experiments.launcher import Experiment, run_experiment
from hpo_core.experiments.options import (
    OPTIONS,
    RUN_OPTIONS,
    command_line_flags,
    experiment_options,
)

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def test_experiment_declares_every_option_with_its_default() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(Experiment)}
    for option in RUN_OPTIONS:
        if option.experiment_field:
            assert defaults[option.name] == option.default, option.name
        else:
            assert option.name not in defaults


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_the_schema_declares_the_option_as_the_table_does(option: Any) -> None:
    spec = yaml.safe_load(SCHEMA.read_text())["properties"][option.name]
    if option.kind == "flag":
        assert spec.get("type") == "boolean" or spec.get("enum") == [0, 1]
        assert bool(spec["default"]) is option.default
    elif option.kind == "choice":
        assert tuple(spec["enum"]) == option.choices
        assert spec["default"] == option.default
    else:
        assert spec["type"] == ["integer" if option.kind == "int" else "number", "null"]
        assert spec["default"] is None and option.default is None
        if option.kind == "int":
            assert spec["minimum"] == option.minimum
        else:
            assert spec["exclusiveMinimum"] == 0


def test_the_command_line_takes_every_option_with_its_default() -> None:
    _, run = _parsers()
    defaults = vars(run.parse_args(["--experiment_tag", "t"]))
    for option in RUN_OPTIONS:
        expected = int(option.default) if option.kind == "flag" else option.default
        assert defaults[option.name] == expected, option.name
    assert experiment_options(defaults) == {o.name: o.default for o in RUN_OPTIONS
                                            if o.experiment_field}


def test_rule_flags_name_only_options_away_from_their_default_in_a_fixed_order() -> None:
    # a finished job's command must not change, or Snakemake would run it again
    defaults = {o.name: o.default for o in RUN_OPTIONS}
    assert command_line_flags(defaults) == ["--fcnet_ordinal", "nn-log"]
    assert command_line_flags({}) == ["--fcnet_ordinal", "nn-log"]
    study = {**defaults, "n_workers": 2, "max_wallclock_time": 600.0, "blackbox_seed": 0,
             "restrict_configurations": True, "verbose": 1, "use_long_tuner_name_prefix": 0,
             "simulator_overheads": "syne_tune", "fcnet_ordinal": "nn"}
    assert command_line_flags(study) == [
        "--n_workers", 2, "--max_wallclock_time", 600.0, "--blackbox_seed", 0,
        "--restrict_configurations", 1, "--verbose", 1, "--use_long_tuner_name_prefix", 0,
        "--simulator_overheads", "syne_tune", "--fcnet_ordinal", "nn",
    ]
    _, run = _parsers()
    parsed = vars(run.parse_args(["--experiment_tag", "t",
                                  *map(str, command_line_flags(study))]))
    assert experiment_options(parsed) == experiment_options(study)


def test_metadata_records_every_option_as_given(tmp_path: Path) -> None:
    given = {"n_workers": 2, "max_wallclock_time": 200.0, "max_num_evaluations": 25,
             "max_size_data_for_model": 5, "blackbox_seed": 0, "scale_max_wallclock_time": True,
             "charge_decision_time": False, "use_long_tuner_name_prefix": False,
             "simulator_overheads": "syne_tune", "fcnet_ordinal": "nn"}
    assert set(given) | {"restrict_configurations"} == {
        o.name for o in RUN_OPTIONS if o.experiment_field}
    experiment = Experiment(experiment_tag="opts", benchmark="synthetic", method="ASHA", seed=0,
                            random_seed=3, **given)
    meta = json.loads((run_experiment(experiment, tmp_path) / "metadata.json").read_text())
    for name, value in {**given, "restrict_configurations": False}.items():
        assert meta[name] == value, name
    # the polled loop also counts results it fetched but dropped towards the cap
    assert 0 < meta["num_results"] <= 25
    assert OPTIONS["verbose"].experiment_field is False


@pytest.mark.parametrize(("name", "bad", "allowed"), [
    ("n_workers", 0, "an int >= 1"), ("max_num_evaluations", 2.5, "an int >= 1"),
    ("blackbox_seed", -1, "an int >= 0"), ("max_wallclock_time", -3.0, "a positive number"),
    ("charge_decision_time", 1, "true or false"),
    ("simulator_overheads", "syne-tune", "one of ['none', 'syne_tune']"),
    ("fcnet_ordinal", "log", "one of ['none', 'equal', 'nn', 'nn-log']"),
])
def test_a_bad_option_is_refused_before_the_run_naming_it_and_what_it_allows(
    tmp_path: Path, name: str, bad: Any, allowed: str
) -> None:
    experiment = Experiment(experiment_tag="bad", benchmark="synthetic", method="RS", seed=0,
                            random_seed=3, **{name: bad})
    with pytest.raises(ValueError, match=rf"^{name} must be .*{re.escape(allowed)}.*got"):
        run_experiment(experiment, tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written
