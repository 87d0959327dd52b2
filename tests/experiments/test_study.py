"""Whole-study checks: one-line schema errors, registry checks, every scheduler built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpo_core.experiments.study import StudyError, check_schema, check_study, closest, load_yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
STUDY: dict[str, Any] = {
    "experiment_tag": "t", "benchmarks": ["synthetic", "lcbench-blood-transfusion-service-center"],
    "methods": ["RS", "ASHA", "MOBSTER"], "num_seeds": 2, "start_seed": 0, "method_args": {},
    "random_seed": 1,
}


def test_closest_names_the_nearest_allowed_name() -> None:
    assert closest("grace_periodd", ["grace_period", "max_t"]) == " (did you mean 'grace_period'?)"
    assert closest("zzz", ["grace_period"]) == ""


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("methods: [RS, ASHA\nnum_seeds: 2\n")
    with pytest.raises(StudyError, match=r"study\.yaml, line \d+, column \d+: invalid YAML"):
        load_yaml(path)


def test_an_unknown_key_is_one_line_with_the_closest_key() -> None:
    with pytest.raises(StudyError) as err:
        check_schema({**STUDY, "num_seed": 3}, SCHEMA)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("unknown config key 'num_seed' of the study (did you mean")
    assert "'num_seeds'" in message


def test_a_bad_value_names_field_value_and_allowed_values() -> None:
    expected = r"^config field 'verbose': 3 is not valid; allowed: 0 or 1$"
    with pytest.raises(StudyError, match=expected):
        check_schema({**STUDY, "verbose": 3}, SCHEMA)
    check_schema(STUDY, SCHEMA)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"methods": ["RS", "ASHAA"]}, "config field 'methods': unknown method(s) ['ASHAA']"),
        ({"benchmarks": ["synthetc"]},
         "config field 'benchmarks': unknown benchmark 'synthetc' (did you mean 'synthetic'?)"),
        ({"method_args": {"ASHA": {"scheduler_kwargs": {"reduction_factor": 1}}}},
         "config field 'method_args.ASHA': benchmark 'synthetic': reduction_factor"),
        ({"method_args": {"MOBSTER": {"scheduler_kwargs": {"search_options": {"modle": 1}}}}},
         "config field 'method_args.MOBSTER': benchmark 'synthetic': search_options ['modle']"),
        ({"method_args": {"ASHA": {"config_space": {"nope": 3}}}},
         "config field 'method_args.ASHA': benchmark 'synthetic': config_space override names "
         "['nope']"),
        ({"blackbox_seed": 1},
         "config field 'blackbox_seed': 1 is not a seed of benchmark 'synthetic', which has 1; "
         "allowed: null (one drawn per trial) or 0..0"),
        ({"restrict_configurations": True},
         "config field 'methods': benchmark 'synthetic': restrict_configurations needs a "
         "tabulated blackbox"),
    ],
)
def test_every_scheduler_of_the_study_is_built(change: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyError) as err:
        check_study({**STUDY, **change}, blackbox_store=Path("/nonexistent"))
    assert message in str(err.value)


def test_a_valid_study_passes_without_loading_blackboxes(tmp_path: Path) -> None:
    # The LCBench blackbox is not built: its config space is the converter's declared one.
    assert check_study(STUDY, blackbox_store=tmp_path) == []
    assert not any(tmp_path.iterdir())


def test_hpo_core_check_summarises_a_study_or_names_its_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hpo_core.cli import main

    assert main(["check", str(ROOT / "config/config.yaml"), "--schema", str(SCHEMA)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("ok: 1 benchmark(s) x 6 method(s) x 5 seed(s) = 30 runs")
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiment_tag: t\nmethods: [RS, ASHA\nnum_seeds: 2\n")
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(bad), "--schema", str(SCHEMA)])
    assert exit_.value.code == 2
    assert f"{bad}, line 3, column 10: invalid YAML" in capsys.readouterr().err
