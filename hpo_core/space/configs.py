"""Functions of a whole configuration space: its hyperparameters and constants, checks,
sampling, the midpoint rule, completion and validation of configurations, duplicate keys."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpo_core.space.domains import Domain, _is_int, _plain


def hyperparameters(space: Mapping[str, Any]) -> dict[str, Domain]:
    """The hyperparameters (:class:`Domain` entries) of ``space``, in insertion order."""
    return {k: v for k, v in space.items() if isinstance(v, Domain)}


def constants(space: Mapping[str, Any]) -> dict[str, Any]:
    """The constants (non-:class:`Domain` entries) of ``space``, in insertion order."""
    return {k: v for k, v in space.items() if not isinstance(v, Domain)}


def check_space(space: Any) -> None:
    """Raise if ``space`` is not a usable configuration space.

    Raises:
        ValueError: If ``space`` is not a mapping with str keys or has no hyperparameter.
    """
    if not isinstance(space, Mapping):
        raise ValueError(
            f"config_space must be a dict of str -> Domain or constant, got {type(space).__name__}"
        )
    bad = [k for k in space if not isinstance(k, str)]
    if bad:
        raise ValueError(f"config_space keys must be str, got {bad!r}")
    if not any(isinstance(v, Domain) for v in space.values()):
        raise ValueError(f"config_space has no hyperparameters to search over: {dict(space)!r}")


def sample_config(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A random configuration: every hyperparameter sampled, constants passed through.

    The space is not re-validated here (this runs once per trial); call :func:`check_space` once
    up front.

    Args:
        space: The configuration space.
        rng: Source of all randomness.

    Returns:
        A dict with all keys of ``space``, in its order.
    """
    config = dict(space)
    hps = [(k, v) for k, v in config.items() if isinstance(v, Domain)]
    # One vectorised draw for all hyperparameters: the same stream as calling each domain's
    # sample() in turn, at a fraction of the per-call overhead of rng.random().
    for (k, v), u in zip(hps, rng.random(len(hps)).tolist(), strict=True):
        config[k] = v._quantile(u)
    return config


def sample_configs(
    space: Mapping[str, Any], num: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """``num`` random configurations, sampled column-wise: one numpy call per hyperparameter.

    Draws ``rng.random((num, k))`` for the ``k`` hyperparameters, the stream of ``num``
    successive :func:`sample_config` calls, and gives their configurations: exactly, except
    that values of :class:`LogUniform` and :class:`LogRandInt` go through numpy's exp here and
    :func:`math.exp` there, which may differ by one ulp (and so, rarely, round to a
    neighbouring integer). Within a configuration the hyperparameters take the draws in the
    space's order, as if each domain's :meth:`~Domain.sample` were called in turn. The space is
    not re-validated.

    Args:
        space: The configuration space.
        num: Number of configurations, ``>= 0``.
        rng: Source of all randomness.

    Returns:
        A list of dicts with all keys of ``space``, in its order; values are plain Python
        scalars (or the categories themselves), constants are passed through.

    Raises:
        ValueError: If ``num`` is not an int ``>= 0``.
    """
    if not _is_int(num) or num < 0:
        raise ValueError(f"sample_configs: num must be an int >= 0, got {num!r}")
    hps = hyperparameters(space)
    if not hps:
        return [dict(space) for _ in range(num)]
    # Column j of u holds the draws of hyperparameter j; each domain maps a contiguous copy.
    u = np.ascontiguousarray(rng.random((int(num), len(hps))).T)
    columns: dict[str, Any] = {k: itertools.repeat(v) for k, v in space.items()}
    for (name, domain), draws in zip(hps.items(), u, strict=True):
        columns[name] = domain._quantiles(draws)
    return [dict(zip(columns, row, strict=False)) for row in zip(*columns.values(), strict=False)]


def midpoint_config(space: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration by the midpoint rule (the default ``points_to_evaluate``)."""
    check_space(space)
    return {k: v.midpoint() if isinstance(v, Domain) else v for k, v in space.items()}


def complete_config(space: Mapping[str, Any], partial: Mapping[str, Any]) -> dict[str, Any]:
    """``partial`` with missing hyperparameters set by the midpoint rule and constants added.

    Args:
        space: The configuration space.
        partial: Values for some hyperparameters (and possibly constants). Values are kept as
            given, except that numpy scalars become Python scalars.

    Returns:
        A full configuration in the space's key order.

    Raises:
        ValueError: If ``partial`` has unknown keys or a value outside its domain, or a constant
            differs from the space's value.
    """
    check_space(space)
    if not isinstance(partial, Mapping):
        raise ValueError(f"a config must be a dict, got {type(partial).__name__}")
    config: dict[str, Any] = {}
    for name, entry in space.items():
        if name in partial:
            # numpy scalars (e.g. from a searcher's arrays) become builtins, as sampled values are.
            config[name] = _plain(partial[name])
        else:
            config[name] = entry.midpoint() if isinstance(entry, Domain) else entry
    # Unknown keys of ``partial`` are kept so that validation reports them.
    config.update({k: v for k, v in partial.items() if k not in space})
    validate_config(space, config)
    return config


def _same_constant(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return False


def validate_config(space: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Raise unless ``config`` is a valid configuration of ``space``.

    Constants may be left out of ``config``; if present they must equal the space's value.

    Raises:
        ValueError: Naming the hyperparameter and its domain (or the constant, or the unknown
            keys together with the allowed ones).
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a config must be a dict, got {type(config).__name__}")
    unknown = [k for k in config if k not in space]
    if unknown:
        raise ValueError(f"config has unknown key(s) {unknown!r}; allowed keys are {list(space)!r}")
    for name, entry in space.items():
        if isinstance(entry, Domain):
            if name not in config:
                raise ValueError(f"config is missing hyperparameter {name!r} (domain {entry!r})")
            value = config[name]
            if not entry.contains(value):
                raise ValueError(
                    f"hyperparameter {name!r} = {value!r} is outside its domain {entry!r}"
                )
        elif name in config and not _same_constant(config[name], entry):
            raise ValueError(f"constant {name!r} must be {entry!r}, got {config[name]!r}")


def config_key(space: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[Any, ...]:
    """Hashable key of ``config`` over the hyperparameters of ``space`` (for duplicate checks).

    Values are used as given (floats are not rounded), in the space's hyperparameter order.

    Raises:
        ValueError: If ``config`` lacks a hyperparameter.
    """
    try:
        return tuple(config[k] for k, v in space.items() if isinstance(v, Domain))
    except KeyError as err:
        raise ValueError(f"config is missing hyperparameter {err.args[0]!r}") from None
