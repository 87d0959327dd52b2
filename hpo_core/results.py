"""Columnar store of reported results: one row per result, configs kept once per trial."""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core.trial import Decision

if TYPE_CHECKING:
    import pandas as pd

DECISIONS = list(Decision)
DECISION_CODE = {d: i for i, d in enumerate(DECISIONS)}


class ResultsStore:
    """Rows ``(trial_id, tuner time, resource, decision, metrics..., extra...)``.

    Numeric columns are compact arrays, so a run with hundreds of thousands of results stays
    small; :meth:`to_dataframe` builds the Syne Tune-compatible table (``trial_id``,
    ``st_tuner_time``, ``st_decision``, the resource and metric columns, ``config_*`` columns, and
    best-so-far columns).
    """

    def __init__(self, *, resource_attr: str = "epoch", extra_keys: list[str] | None = None):
        self.resource_attr = resource_attr
        self.trial_id = array("q")
        self.time = array("d")
        self.resource = array("q")
        self.decision = array("b")
        self.metrics: dict[str, array[float]] = {}
        self.extra: dict[str, list[Any]] = {k: [] for k in extra_keys or []}
        self.configs: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.time)

    def append(
        self,
        trial_id: int,
        time: float,
        resource: int,
        metrics: Mapping[str, float],
        decision: Decision,
    ) -> None:
        n = len(self.time)
        self.trial_id.append(trial_id)
        self.time.append(time)
        self.resource.append(resource)
        self.decision.append(DECISION_CODE[decision])
        columns = self.metrics
        if len(metrics) != len(columns) or not columns.keys() >= metrics.keys():
            for name in metrics:
                if name not in columns:
                    columns[name] = array("d", [math.nan]) * n
        for name, column in columns.items():
            column.append(metrics.get(name, math.nan))

    def append_extra(self, values: Mapping[str, Any] | None) -> None:
        for key, column in self.extra.items():
            column.append(None if values is None else values.get(key))

    def best(self, metric: str, mode: str) -> tuple[int, float] | None:
        """(row index, value) of the best result so far, or None if there is none."""
        if metric not in self.metrics or not len(self):
            return None
        values = np.frombuffer(self.metrics[metric], dtype=float)
        if np.all(np.isnan(values)):
            return None
        row = int(np.nanargmin(values) if mode == "min" else np.nanargmax(values))
        return row, float(values[row])

    def to_dataframe(self, *, metric: str | None = None, mode: str = "min") -> pd.DataFrame:
        """The results as a table; with ``metric``, adds ``best_<metric>`` (best so far)."""
        import pandas as pd

        trial_ids = np.frombuffer(self.trial_id, dtype=np.int64)
        data: dict[str, Any] = {
            "trial_id": trial_ids,
            "st_tuner_time": np.frombuffer(self.time, dtype=float),
            "st_decision": pd.Categorical.from_codes(
                np.frombuffer(self.decision, dtype=np.int8).astype(np.int64),
                pd.Index([d.value for d in DECISIONS]),
            ),
            self.resource_attr: np.frombuffer(self.resource, dtype=np.int64),
        }
        for name, column in self.metrics.items():
            data.setdefault(name, np.frombuffer(column, dtype=float))
        if metric is not None and metric in self.metrics:
            values = pd.Series(np.frombuffer(self.metrics[metric], dtype=float))
            best = values.cummin() if mode == "min" else values.cummax()
            data[f"best_{metric}"] = best.to_numpy()
        if self.configs:
            unique_ids = np.array(sorted(self.configs), dtype=np.int64)
            position = np.searchsorted(unique_ids, trial_ids)
            names = list(next(iter(self.configs.values())))
            for name in names:
                per_trial = np.array(
                    [self.configs[t].get(name) for t in unique_ids.tolist()], dtype=object
                )
                data[f"config_{name}"] = pd.Series(per_trial[position]).infer_objects().to_numpy()
        for key, extra in self.extra.items():
            data[key] = extra
        return pd.DataFrame(data)
