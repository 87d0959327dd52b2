"""A deterministic multi-fidelity blackbox over a mixed config space, needing no data files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpo_core import space as sp
from hpo_core.blackboxes.base import Blackbox, Curve
from hpo_core.blackboxes.synthetic_curve import learning_curve


def synthetic_config_space(max_t: int = 27) -> dict[str, Any]:
    """The config space of :class:`SyntheticBlackbox`; ``epochs`` holds the maximum resource."""
    return {
        "learning_rate": sp.loguniform(1e-4, 1.0),
        "num_units": sp.lograndint(16, 512),
        "dropout": sp.uniform(0.0, 0.6),
        "optimizer": sp.choice(["sgd", "adam", "rmsprop"]),
        "batch_size": sp.logfinrange(8, 128, 5, cast_int=True),
        "epochs": max_t,
    }


class SyntheticBlackbox(Blackbox):
    """Closed-form learning curves (:mod:`hpo_core.blackboxes.synthetic_curve`).

    Objectives ``error`` (minimize) and ``elapsed_time`` (cumulative seconds) at epochs
    ``1..max_t``. The same config always gives the same curve.

    Args:
        max_t: Number of epochs.
        failure_fraction: Fraction of configs (chosen by a hash of the config, so deterministic)
            whose evaluation crashes within its first three epochs; for tests of error
            handling.
    """

    fidelity_name = "epoch"
    elapsed_time_attr = "elapsed_time"
    metric = "error"
    mode = "min"

    def __init__(self, *, max_t: int = 27, failure_fraction: float = 0.0) -> None:
        if not 0.0 <= failure_fraction <= 1.0:
            raise ValueError(f"failure_fraction must be in [0, 1], got {failure_fraction}")
        self.config_space = synthetic_config_space(max_t)
        self.objective_names = ["error", "elapsed_time"]
        self.fidelity_values = np.arange(1, max_t + 1)
        self.max_t = max_t
        self.failure_fraction = failure_fraction

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        errors, elapsed = learning_curve(
            learning_rate=config["learning_rate"],
            num_units=config["num_units"],
            dropout=config["dropout"],
            optimizer=config["optimizer"],
            batch_size=config["batch_size"],
            num_epochs=self.max_t,
        )
        failed_after = None
        if self.failure_fraction > 0.0:
            digest = hashlib.sha256(
                json.dumps({k: config[k] for k in sorted(config)}, sort_keys=True).encode()
            ).digest()
            if int.from_bytes(digest[:4], "little") < self.failure_fraction * 2**32:
                failed_after = digest[4] % min(3, self.max_t)
        return Curve(np.array((errors, elapsed)).T, failed_after)
