"""Serialisation of configuration spaces to JSON-ready dicts and JSON strings, and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hpo_core.space.configs import check_space
from hpo_core.space.domains import Domain
from hpo_core.space.factories import choice, finrange, logfinrange, ordinal
from hpo_core.space.ranges import LogRandInt, LogUniform, RandInt, Uniform

_FROM_DICT = {
    "uniform": lambda d: Uniform(d["lower"], d["upper"]),
    "loguniform": lambda d: LogUniform(d["lower"], d["upper"]),
    "randint": lambda d: RandInt(d["lower"], d["upper"]),
    "lograndint": lambda d: LogRandInt(d["lower"], d["upper"]),
    "choice": lambda d: choice(d["categories"]),
    "finrange": lambda d: finrange(
        d["lower"], d["upper"], d["size"], cast_int=d.get("cast_int", False)
    ),
    "logfinrange": lambda d: logfinrange(
        d["lower"], d["upper"], d["size"], cast_int=d.get("cast_int", False)
    ),
    "ordinal": lambda d: ordinal(d["categories"], kind=d.get("kind", "nn")),
    "constant": lambda d: d["value"],
}


def space_to_dict(space: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready description of ``space``; constants become ``{"type": "constant", ...}``."""
    check_space(space)
    return {
        k: v.to_dict() if isinstance(v, Domain) else {"type": "constant", "value": v}
        for k, v in space.items()
    }


def space_from_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`space_to_dict`.

    Raises:
        ValueError: If an entry has an unknown ``type`` or lacks a field.
    """
    if not isinstance(d, Mapping):
        raise ValueError(f"space description must be a dict, got {type(d).__name__}")
    space: dict[str, Any] = {}
    for name, entry in d.items():
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if not isinstance(kind, str) or kind not in _FROM_DICT:
            raise ValueError(
                f"space entry {name!r}: type must be one of {sorted(_FROM_DICT)}, got {entry!r}"
            )
        try:
            space[name] = _FROM_DICT[kind](entry)
        except KeyError as err:
            raise ValueError(
                f"space entry {name!r} lacks field {err.args[0]!r}: {entry!r}"
            ) from None
    check_space(space)
    return space


def space_to_json(space: Mapping[str, Any]) -> str:
    """:func:`space_to_dict` as a JSON string.

    Raises:
        ValueError: If a constant is not JSON-serialisable.
    """
    try:
        return json.dumps(space_to_dict(space), allow_nan=False)
    except TypeError as err:
        raise ValueError(
            f"config_space has a constant that is not JSON-serialisable: {err}"
        ) from None


def space_from_json(s: str) -> dict[str, Any]:
    """Inverse of :func:`space_to_json`."""
    return space_from_dict(json.loads(s))
