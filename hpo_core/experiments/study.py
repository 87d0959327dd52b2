"""Check a whole study before anything is planned: schema, registries, every method's scheduler.

The workflow calls :func:`check_study` while the Snakefile is parsed, so a typo or a bad value
anywhere in a study fails before Snakemake plans a job (and so before it removes the outputs of
jobs whose parameters changed). Errors are one line that names the config field, the bad key or
value, and the allowed ones (with the closest valid name for a misspelt key).

Example::

    config = yaml.safe_load(open("config/config.yaml"))
    check_schema(config, "workflow/schemas/config.schema.yaml")
    check_study(config, blackbox_store=Path("blackboxes"))
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from hpo_core.experiments import methods as registry
from hpo_core.experiments.benchmarks import (
    BENCHMARK_FAMILIES,
    BENCHMARKS,
    get_benchmark,
    resolve_benchmarks,
)
from hpo_core.experiments.options import experiment_options


class StudyError(ValueError):
    """A study (config file) that cannot run; the message names the field."""


def closest(name: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the allowed name closest to ``name``, or ``""``."""
    match = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def load_yaml(path: str | Path) -> Any:
    """The YAML document at ``path``; a syntax error names the file, line and column."""
    text = Path(path).read_text()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise StudyError(f"{where}: invalid YAML: {problem}") from None


def check_schema(config: Mapping[str, Any], schema_path: str | Path) -> None:
    """Raise :class:`StudyError` for the first schema violation of ``config``, in one line.

    An unknown key is named with the closest valid key; a bad value with the field, the value
    and what the schema allows (enum values, type, bounds).
    """
    import jsonschema

    schema = load_yaml(schema_path)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    field = ".".join(str(p) for p in err.absolute_path) or "<top level>"
    if err.validator == "additionalProperties":
        known = list(_subschema(schema, list(err.absolute_path)).get("properties", {}))
        extra = [k for k in err.instance if k not in known]
        key = extra[0] if extra else "?"
        where = f"in '{field}'" if err.absolute_path else "of the study"
        raise StudyError(
            f"unknown config key {key!r} {where}{closest(key, known)}; allowed keys: {known}"
        )
    if err.validator == "required":
        raise StudyError(f"config: {err.message} (in '{field}')")
    allowed = _allowed(err.schema)
    raise StudyError(
        f"config field '{field}': {json.dumps(err.instance, default=str)} is not valid"
        + (f"; allowed: {allowed}" if allowed else f" ({err.message})")
    )


def with_defaults(config: Mapping[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """``config`` with the schema's defaults for the top-level keys it leaves out."""
    properties = load_yaml(schema_path).get("properties", {})
    return {**{k: v["default"] for k, v in properties.items() if "default" in v}, **config}


def check_study_file(path: str | Path, schema_path: str | Path) -> str:
    """Check the study at ``path`` as the workflow does; a one-line summary of what it runs.

    Raises:
        StudyError: See :func:`load_yaml`, :func:`check_schema` and :func:`check_study`.
    """
    from hpo_core.blackboxes.download import default_mirror_dirs

    config = load_yaml(path)
    if not isinstance(config, Mapping):
        raise StudyError(f"{path}: a study is a mapping of config keys, got {config!r}")
    check_schema(config, schema_path)
    config = with_defaults(config, schema_path)
    notes = check_study(config, blackbox_store=Path(config["blackbox_store"]),
                        raw_dir=Path(config["raw_dir"]),
                        mirror_dirs=default_mirror_dirs(config.get("blackbox_mirror")))
    benchmarks = resolve_benchmarks(config["benchmarks"])
    seeds = config["num_seeds"] - config["start_seed"]
    runs = len(benchmarks) * len(config["methods"]) * seeds
    return "\n".join([*(f"note: {n}" for n in notes), (
        f"{path}: ok: {len(benchmarks)} benchmark(s) x {len(config['methods'])} method(s) x "
        f"{seeds} seed(s) = {runs} runs"
    )])


def _subschema(schema: Mapping[str, Any], path: Sequence[Any]) -> Mapping[str, Any]:
    node = schema
    for part in path:
        props = node.get("properties", {})
        node = props.get(part) or node.get("additionalProperties") or node.get("items") or {}
        if not isinstance(node, Mapping):
            return {}
    return node


def _allowed(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    parts = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        parts.append(" or ".join(kinds))
    for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("minItems", "items >="), ("pattern", "matching")):
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    return ", ".join(parts)


def _check_names(field: str, given: Iterable[str], allowed: Sequence[str], problem: str) -> None:
    for name in given:
        if name not in allowed:
            raise StudyError(
                f"config field '{field}': {problem} {name!r}{closest(name, allowed)}; "
                f"allowed values: {sorted(set(allowed))}"
            )


def check_study(
    config: Mapping[str, Any],
    *,
    blackbox_store: Path | None = None,
    raw_dir: Path | None = None,
    mirror_dirs: list[Path] | None = None,
) -> list[str]:
    """Check a schema-valid study against the registries and build every scheduler it runs.

    For every benchmark x method pair the method's scheduler (and searcher) is built from the
    study's options and the method's ``method_args`` on the benchmark's config space, read
    without loading the blackbox (:func:`~hpo_core.blackboxes.repository.declared_config_space`).

    Returns:
        Notes on pairs whose config space is not at hand yet (its raw file is neither fetched
        nor in a mirror); their overrides are checked against the scheduler's arguments only.

    Raises:
        StudyError: For the first problem, naming the config field, the benchmark and method
            where it matters, and the allowed values.
    """
    from hpo_core.blackboxes.repository import declared_config_space
    from hpo_core.experiments.launcher import Experiment, check_experiment_on_space

    methods = list(config["methods"])
    _check_names("benchmarks", config["benchmarks"], [*BENCHMARKS, *BENCHMARK_FAMILIES],
                 "unknown benchmark")
    try:
        registry.validate_methods(methods)
    except ValueError as err:
        raise StudyError(f"config field 'methods': {err}") from None
    _check_names("method_args", config.get("method_args") or {}, methods,
                 "not a method of the study:")
    expensive = config.get("expensive_methods")
    if expensive is not None:
        _check_names("expensive_methods", expensive, methods, "not a method of the study:")
    if config["start_seed"] >= config["num_seeds"]:
        raise StudyError(
            f"config field 'start_seed' ({config['start_seed']}) must be below 'num_seeds' "
            f"({config['num_seeds']}): seeds are start_seed, ..., num_seeds - 1"
        )
    for method, overrides in (config.get("method_args") or {}).items():
        try:
            registry.check_method_args(overrides)
        except ValueError as err:
            raise StudyError(f"config field 'method_args.{method}': {err}") from None
    if config.get("restrict_configurations"):
        for method in methods:
            try:
                registry.check_restrictable(method)
            except ValueError as err:
                raise StudyError(f"config field 'methods': {err}") from None
    notes = []
    for name in resolve_benchmarks(config["benchmarks"]):
        benchmark = get_benchmark(name)
        seed = config.get("blackbox_seed")
        if seed is not None and not seed < benchmark.num_seeds:
            raise StudyError(
                f"config field 'blackbox_seed': {seed} is not a seed of benchmark {name!r}, "
                f"which has {benchmark.num_seeds}; allowed: null (one drawn per trial) or "
                f"0..{benchmark.num_seeds - 1}"
            )
        if isinstance(benchmark.blackbox, str):
            space = declared_config_space(benchmark.blackbox, store=blackbox_store,
                                          raw_dir=raw_dir, mirror_dirs=mirror_dirs)
        else:
            space = dict(benchmark.blackbox().config_space)
        for method in methods:
            field = f"method_args.{method}" if method in config["method_args"] else "methods"
            try:
                registry.check_method_fits_benchmark(method, benchmark)
            except registry.MethodDoesNotFitError as err:
                raise StudyError(f"config field 'methods': benchmark {name!r}: {err}") from None
            experiment = Experiment(
                experiment_tag=config["experiment_tag"], benchmark=name, method=method,
                seed=config["start_seed"], random_seed=config.get("random_seed") or 0,
                method_args=config["method_args"].get(method, {}),
                **experiment_options(config),
            )
            if space is None:
                notes.append(f"benchmark {name!r}: config space not at hand yet; method "
                             f"{method!r} is checked when its job starts")
                continue
            try:
                check_experiment_on_space(experiment, benchmark=benchmark, config_space=space)
            except ValueError as err:
                raise StudyError(f"config field '{field}': benchmark {name!r}: {err}") from None
    return notes
