"""The blackbox contract: objective curves of configurations, replayed by the simulator."""

from __future__ import annotations

import contextlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Curve:
    """Objective values of one configuration (and seed) at every fidelity, in increasing order.

    Attributes:
        objectives: Array of shape ``(num_fidelities, num_objectives)``.
        failed_after: If set, the evaluation crashes after reporting this many results.
    """

    objectives: np.ndarray
    failed_after: int | None = None


class Blackbox(ABC):
    """A function from configurations to learning curves, tabulated or computed.

    Attributes:
        config_space: The configuration space of the blackbox.
        objective_names: Names of the objectives, in the column order of :class:`Curve`.
        fidelity_name: Name of the resource attribute (e.g. ``"epoch"``).
        fidelity_values: Increasing positive ints, one per row of a curve.
        elapsed_time_attr: Objective holding the cumulative training time at each fidelity.
        metric: Default objective to optimize; ``mode``: its direction.
        num_seeds: Number of seeds a curve can be asked for.
    """

    config_space: dict[str, Any]
    objective_names: list[str]
    fidelity_name: str
    fidelity_values: np.ndarray
    elapsed_time_attr: str | None
    metric: str
    mode: str
    num_seeds: int = 1

    @abstractmethod
    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        """All objectives of ``config`` for seed index ``seed`` at every fidelity."""

    def objective_index(self, name: str) -> int:
        try:
            return self.objective_names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown objective {name!r}; this blackbox has {self.objective_names}"
            ) from None


@contextlib.contextmanager
def atomic_hdf5(path: str | Path) -> Iterator[Any]:
    """An HDF5 file open for writing under a temporary name, renamed to ``path`` on success.

    A crash or error while writing never leaves a partial file where a complete one is
    expected; the temporary file is removed.
    """
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            yield f
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
