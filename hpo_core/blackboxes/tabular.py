"""Tabulated blackboxes: ``[config, seed, fidelity, objective]`` arrays in one HDF5 file.

File layout (one file per blackbox, i.e. per family + dataset)::

    /objectives            float  (num_configs, num_seeds, num_fidelities, num_objectives)
    /seed_counts           int    (num_configs,)  seeds present per config (rest is NaN)
    /fidelity_values       int    (num_fidelities,)
    /configs/<name>        one column per hyperparameter, in the config space's own values
    attrs: name, objective_names, fidelity_name, elapsed_time_attr, metric, mode,
           config_space (JSON), provenance (JSON: source, licence, citation, input sha256,
           converter and its version), format_version

Lookups go through a dict from config key to row, built on first use: a full-curve lookup is a
hash and an array view.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.base import Blackbox, Curve, atomic_hdf5

FORMAT_VERSION = 1

#: Objectives ``(num_fidelities, num_objectives)`` predicted for a config outside the table.
Surrogate = Callable[[Mapping[str, Any], int], np.ndarray]


class ConfigNotInTableError(ValueError):
    """A config outside the table was looked up and no surrogate is attached."""


class TabularBlackbox(Blackbox):
    """A blackbox answering from a table of evaluated configurations.

    Args:
        name: Blackbox name, e.g. ``"lcbench-blood-transfusion-service-center"``.
        config_space: The configuration space (its hyperparameters name the table columns).
        hyperparameters: One array per hyperparameter, row ``i`` = config ``i``, holding values
            of the config space's domains.
        objectives: Array ``(num_configs, num_seeds, num_fidelities, num_objectives)``.
        objective_names: Names of the last axis.
        fidelity_name: Resource attribute name, e.g. ``"epoch"``.
        fidelity_values: Increasing positive ints, e.g. ``1..52``.
        elapsed_time_attr: Objective with the cumulative training time, if any.
        metric: Default objective to optimize; ``mode`` its direction.
        provenance: Where the data comes from (source, licence, citation, sha256 of inputs,
            converter and version).
        seed_counts: Seeds present per config (default: all).
    """

    def __init__(
        self,
        *,
        name: str,
        config_space: Mapping[str, Any],
        hyperparameters: Mapping[str, np.ndarray],
        objectives: np.ndarray,
        objective_names: list[str],
        fidelity_name: str,
        fidelity_values: np.ndarray,
        elapsed_time_attr: str | None,
        metric: str,
        mode: str,
        provenance: Mapping[str, Any],
        seed_counts: np.ndarray | None = None,
    ) -> None:
        num_configs = objectives.shape[0]
        if objectives.ndim != 4 or objectives.shape[2:] != (
            len(fidelity_values), len(objective_names)
        ):
            raise ValueError(
                "objectives must have shape (num_configs, num_seeds, num_fidelities="
                f"{len(fidelity_values)}, num_objectives={len(objective_names)}), "
                f"got {objectives.shape}"
            )
        names = list(sp.hyperparameters(config_space))
        if sorted(hyperparameters) != sorted(names):
            raise ValueError(
                f"hyperparameters columns {sorted(hyperparameters)} do not match the config "
                f"space's {sorted(names)}"
            )
        for column, values in hyperparameters.items():
            if len(values) != num_configs:
                raise ValueError(f"column {column!r} has {len(values)} rows, not {num_configs}")
        for attr in (metric, elapsed_time_attr):
            if attr is not None and attr not in objective_names:
                raise ValueError(f"{attr!r} is not among objective_names {objective_names}")
        self.name = name
        self.config_space = dict(config_space)
        self.hyperparameters = {k: np.asarray(hyperparameters[k]) for k in names}
        self.objectives = objectives
        self.objective_names = list(objective_names)
        self.fidelity_name = fidelity_name
        self.fidelity_values = np.asarray(fidelity_values, dtype=np.int64)
        self.elapsed_time_attr = elapsed_time_attr
        self.metric = metric
        self.mode = mode
        self.provenance = dict(provenance)
        self.seed_counts = (
            np.full(num_configs, objectives.shape[1], dtype=np.int64)
            if seed_counts is None
            else np.asarray(seed_counts, dtype=np.int64)
        )
        self.num_seeds = objectives.shape[1]
        self._index: dict[tuple[Any, ...], int] | None = None
        #: Predicts curves of configs outside the table (e.g. nearest neighbours), if set.
        self.surrogate: Surrogate | None = None

    def __len__(self) -> int:
        return int(self.objectives.shape[0])

    def _rows(self) -> list[tuple[Any, ...]]:
        # Plain Python values, in the space's hyperparameter order (= sp.config_key order).
        return list(zip(*(self.hyperparameters[k].tolist() for k in self.hyperparameters),
                        strict=True))

    def config(self, row: int) -> dict[str, Any]:
        """Config of table row ``row`` (constants of the space included)."""
        values = {k: column[row].item() if isinstance(column[row], np.generic) else column[row]
                  for k, column in self.hyperparameters.items()}
        return {**sp.constants(self.config_space), **values}

    def configurations(self) -> list[dict[str, Any]]:
        """All tabulated configs, in row order (for ``restrict_configurations``)."""
        constants = sp.constants(self.config_space)
        names = list(self.hyperparameters)
        return [{**constants, **dict(zip(names, row, strict=True))} for row in self._rows()]

    def row_of(self, config: Mapping[str, Any]) -> int | None:
        """Table row of ``config``, or None if it is not tabulated."""
        if self._index is None:
            self._index = {key: row for row, key in enumerate(self._rows())}
        return self._index.get(sp.config_key(self.config_space, config))

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        row = self.row_of(config)
        if row is not None:
            return Curve(self.objectives[row, seed % int(self.seed_counts[row])])
        if self.surrogate is None:
            raise ConfigNotInTableError(
                f"config {dict(config)} is not in blackbox {self.name!r}; restrict the "
                "scheduler to tabulated configs (restrict_configurations) or attach a surrogate"
            )
        return Curve(self.surrogate(config, seed))

    # -- storage --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the HDF5 file atomically (temporary name, then rename)."""
        with atomic_hdf5(path) as f:
            f.create_dataset("objectives", data=self.objectives, compression="gzip", shuffle=True)
            f.create_dataset("seed_counts", data=self.seed_counts)
            f.create_dataset("fidelity_values", data=self.fidelity_values)
            group = f.create_group("configs")
            for column, values in self.hyperparameters.items():
                if values.dtype.kind in "OUS":
                    # Fixed-length UTF-8 bytes compress well, unlike variable-length strings.
                    encoded = np.array([str(v).encode() for v in values.tolist()])
                    dataset = group.create_dataset(column, data=encoded, compression="gzip")
                    dataset.attrs["utf8"] = True
                else:
                    group.create_dataset(column, data=values, compression="gzip", shuffle=True)
            f.attrs.update(
                {
                    "name": self.name,
                    "objective_names": json.dumps(self.objective_names),
                    "fidelity_name": self.fidelity_name,
                    "elapsed_time_attr": json.dumps(self.elapsed_time_attr),
                    "metric": self.metric,
                    "mode": self.mode,
                    "config_space": sp.space_to_json(self.config_space),
                    "provenance": json.dumps(self.provenance),
                    "format_version": FORMAT_VERSION,
                    "kind": "tabular",
                }
            )

    @classmethod
    def load(cls, path: str | Path) -> TabularBlackbox:
        import h5py

        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            if int(attrs.get("format_version", -1)) != FORMAT_VERSION:
                raise ValueError(
                    f"{path}: format_version {attrs.get('format_version')} is not "
                    f"{FORMAT_VERSION}; rebuild the blackbox"
                )
            columns = {}
            for column, dataset in f["configs"].items():
                if dataset.attrs.get("utf8", False):
                    columns[column] = np.array(
                        [v.decode() for v in dataset[()].tolist()], dtype=object
                    )
                else:
                    columns[column] = dataset[()]
            return cls(
                name=str(attrs["name"]),
                config_space=sp.space_from_json(str(attrs["config_space"])),
                hyperparameters=columns,
                objectives=f["objectives"][()],
                objective_names=json.loads(attrs["objective_names"]),
                fidelity_name=str(attrs["fidelity_name"]),
                fidelity_values=f["fidelity_values"][()],
                elapsed_time_attr=json.loads(attrs["elapsed_time_attr"]),
                metric=str(attrs["metric"]),
                mode=str(attrs["mode"]),
                provenance=json.loads(attrs["provenance"]),
                seed_counts=f["seed_counts"][()],
            )
