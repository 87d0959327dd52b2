"""k-nearest-neighbour surrogate for configs outside a table (seed 002's default: 1-NN).

Which tabulated configs are nearest depends on how configs become vectors (``features``):

* ``"standardized"`` (default, Syne Tune 0.13.0's recipe for its tabulated blackboxes):
  categorical and ordinal hyperparameters one-hot encoded over the values the table holds (a
  value it does not hold is all zeros), numerical ones standardised on their raw values (no log
  scale: a learning rate of 0.01 is as far from 0.02 as 0.09 from 0.1), then every column
  divided by its standard deviation over the table. The fidelity is not a feature: a whole
  curve is predicted at once. On LCBench this is the choice that gives Syne Tune's answers.
* ``"encoded"``: the space's own ``[0, 1]`` encoding (log scale for log domains, one-hot for
  categoricals), as model-based searchers see configs.

Queries go to scikit-learn's KD-tree directly and are cached per config, so a repeated config
costs a dict lookup and a new one tens of microseconds, not the milliseconds of a full estimator
``predict`` with its input validation. A table with several seeds answers with the neighbours'
curves of the trial's seed (Syne Tune pools the seeds into one model, whose 1-NN picks one of the
neighbour's repetitions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.tabular import TabularBlackbox
from hpo_core.space.finite import Categorical, Ordinal

#: Allowed values of ``features``.
FEATURES = ("standardized", "encoded")


class StandardizedFeatures:
    """Syne Tune's surrogate features of configs of ``blackbox`` (see the module docstring)."""

    def __init__(self, blackbox: TabularBlackbox) -> None:
        self._columns: list[tuple[str, dict[Any, int] | None]] = []
        blocks = []
        for name, values in blackbox.hyperparameters.items():
            if isinstance(blackbox.config_space[name], Categorical | Ordinal):
                categories = {v: i for i, v in enumerate(sorted(set(values.tolist()), key=repr))}
                self._columns.append((name, categories))
                block = np.zeros((len(values), len(categories)))
                block[np.arange(len(values)), [categories[v] for v in values.tolist()]] = 1.0
            else:
                self._columns.append((name, None))
                block = np.asarray(values, dtype=float)[:, None]
            blocks.append(block)
        raw = np.hstack(blocks)
        numeric = np.concatenate([np.full(b.shape[1], c is None)
                                  for b, (_, c) in zip(blocks, self._columns, strict=True)])
        self.shift = np.where(numeric, raw.mean(axis=0), 0.0)
        self.scale = np.where(numeric, _nonzero(raw.std(axis=0)), 1.0)
        #: Per column: ``(value - shift) / scale`` is the feature (one-hot columns: shift 0).
        standardized = (raw - self.shift) / self.scale
        self.scale = self.scale * _nonzero(standardized.std(axis=0))
        self.table = (raw - self.shift) / self.scale

    def __call__(self, config: Mapping[str, Any]) -> np.ndarray:
        parts: list[float] = []
        for name, categories in self._columns:
            value = config[name]
            if categories is None:
                parts.append(float(value))
            else:
                one_hot = [0.0] * len(categories)
                index = categories.get(value)
                if index is not None:
                    one_hot[index] = 1.0
                parts.extend(one_hot)
        return (np.asarray(parts) - self.shift) / self.scale


def _nonzero(std: np.ndarray) -> np.ndarray:
    """Scale of constant columns: 1 (as scikit-learn's ``StandardScaler``)."""
    return np.where(std > 0, std, 1.0)


class NearestNeighbourSurrogate:
    """Predicts a curve as the mean curve of the ``n_neighbors`` nearest tabulated configs.

    Args:
        blackbox: The table to interpolate.
        n_neighbors: Number of neighbours (default 1).
        features: How configs are compared: ``"standardized"`` (default, Syne Tune's) or
            ``"encoded"`` (see the module docstring).
        cache_size: Configs whose neighbour rows are kept (least recently added dropped first).

    Attach with ``blackbox.surrogate = NearestNeighbourSurrogate(blackbox)``.
    """

    def __init__(
        self, blackbox: TabularBlackbox, *, n_neighbors: int = 1,
        features: str = "standardized", cache_size: int = 100_000,
    ) -> None:
        from sklearn.neighbors import KDTree

        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or not (
            1 <= n_neighbors <= len(blackbox)
        ):
            raise ValueError(
                f"n_neighbors must be an int in [1, {len(blackbox)}], got {n_neighbors!r}"
            )
        if features not in FEATURES:
            raise ValueError(f"features must be one of {list(FEATURES)}, got {features!r}")
        self.blackbox = blackbox
        self.n_neighbors = n_neighbors
        self.features = features
        self._vector: Callable[[Mapping[str, Any]], np.ndarray]
        if features == "standardized":
            standardized = StandardizedFeatures(blackbox)
            self._vector, table = standardized, standardized.table
        else:
            encoder = sp.SpaceEncoder(blackbox.config_space)
            self._vector, table = encoder.encode, encoder.encode_many(blackbox.configurations())
        self._tree = KDTree(table)
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}
        self.cache_size = cache_size

    def neighbours(self, config: Mapping[str, Any]) -> np.ndarray:
        """Rows of the nearest tabulated configs, nearest first."""
        key = sp.config_key(self.blackbox.config_space, config)
        rows = self._cache.get(key)
        if rows is None:
            x = self._vector(config)[None, :]
            rows = self._tree.query(x, k=self.n_neighbors, return_distance=False)[0]
            if len(self._cache) >= self.cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = rows
        return rows

    def __call__(self, config: Mapping[str, Any], seed: int) -> np.ndarray:
        table = self.blackbox
        curves = [
            table.objectives[row, seed % int(table.seed_counts[row])]
            for row in self.neighbours(config)
        ]
        return curves[0] if len(curves) == 1 else np.mean(curves, axis=0)
