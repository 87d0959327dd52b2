"""Expected improvement maximisation over configs, for any posterior with the
:class:`ConfigPosterior` members.

Multi-fidelity models give such a posterior per resource level (a slice of a joint model, or
one of several independent models), so the maximisation is written against the protocol rather
than :class:`~hpo_core.searchers.gp.model.GPPosterior`. EI is the one of
:mod:`hpo_core.searchers.gp.acquisition`. Local search climbs EI from several starting points in
*one* L-BFGS-B run over their concatenation (the objective is the sum of the starts' EI, which is
separable, so its stationary points are those of each start): one batched prediction per step
instead of one per start, which is what makes suggestions cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

from hpo_core.searchers.gp.acquisition import MIN_STDDEV, expected_improvement
from hpo_core.space import SpaceEncoder

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: Relative decrease of the (scaled) EI sum below which local search stops: local optima are
#: decoded to the nearest valid config anyway, so they need not be precise.
LOCAL_SEARCH_FTOL = 1e-6


class ConfigPosterior(Protocol):
    """A posterior over encoded configs (rows in ``[0, 1]^d``)."""

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance at the rows of ``Xs``."""
        ...

    def predict_with_gradient(
        self, Xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients in each row."""
        ...


def incumbent(posterior: ConfigPosterior, X: np.ndarray) -> float:
    """The value EI improves on: the lowest posterior mean at the encoded configs ``X``."""
    return float(np.min(posterior.predict(X)[0]))


def ei_with_gradient(
    posterior: ConfigPosterior, X: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray]:
    """EI at the rows of ``X`` and its gradient in each row."""
    mean, var, dmean, dvar = posterior.predict_with_gradient(X)
    s = np.sqrt(np.maximum(var, 0.0))
    ok = s > MIN_STDDEV
    safe_s = np.where(ok, s, 1.0)
    z = (best - mean) / safe_s
    d_mean = np.where(ok, -ndtr(z), -(best - mean > 0.0).astype(float))
    d_var = np.where(ok, np.exp(-0.5 * z * z) * _INV_SQRT_2PI / (2.0 * safe_s), 0.0)
    ei = expected_improvement(mean, var, best)
    return ei, d_mean[:, None] * dmean + d_var[:, None] * dvar


def local_search(
    posterior: ConfigPosterior, X0: np.ndarray, *, best: float, maxiter: int,
    scale: float = 1.0,
) -> np.ndarray:
    """Local maximisers of EI in ``[0, 1]^d``, one from each row of ``X0``, found together by
    L-BFGS-B (see the module docstring); ``scale`` divides EI for the optimiser's tolerances."""
    k, d = X0.shape

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        ei, grad = ei_with_gradient(posterior, z.reshape(k, d), best)
        return -float(np.sum(ei)) / scale, -grad.reshape(-1) / scale

    result = minimize(objective, X0.reshape(-1), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 1.0)] * (k * d),
                      options={"maxiter": maxiter, "ftol": LOCAL_SEARCH_FTOL})
    return np.clip(np.asarray(result.x, dtype=float).reshape(k, d), 0.0, 1.0)


def select_config(
    posterior: ConfigPosterior,
    *,
    encoder: SpaceEncoder,
    best: float,
    candidates: Sequence[dict[str, Any]],
    extra_starts: np.ndarray,
    is_new: Callable[[dict[str, Any]], bool],
    num_local_starts: int = 3,
    local_maxiter: int = 50,
) -> dict[str, Any] | None:
    """The config of highest EI among local optima and random candidates that ``is_new``.

    As :func:`hpo_core.searchers.gp.acquisition.select_config`: ``candidates`` and the encoded
    ``extra_starts`` are scored, EI is climbed from the ``num_local_starts`` best, local optima
    are decoded and scored again at their encoding, and the best new config of these and of the
    candidates is returned (local optima first among equals); ``None`` if all are duplicates.
    """
    X_cand = encoder.encode_many(candidates) if candidates else np.empty((0, encoder.dim))
    X_all = np.vstack([X_cand, extra_starts])
    scores = expected_improvement(*posterior.predict(X_all), best)
    order = np.argsort(-scores, kind="stable")
    options: list[tuple[float, dict[str, Any]]] = []
    starts = order[:num_local_starts]
    if len(starts):
        scale = max(float(scores[order[0]]), 1e-300)
        optima = local_search(posterior, X_all[starts], best=best, maxiter=local_maxiter,
                              scale=scale)
        new = [c for c in (encoder.decode(x) for x in optima) if is_new(c)]
        if new:
            rounded = encoder.encode_many(new)
            values = expected_improvement(*posterior.predict(rounded), best)
            options.extend((float(v), c) for v, c in zip(values, new, strict=True))
    for idx in order:
        if idx < len(candidates) and is_new(candidates[idx]):
            options.append((float(scores[idx]), candidates[idx]))
            break
    if not options:
        return None
    return max(options, key=lambda option: option[0])[1]


def select_from_table(
    posterior: ConfigPosterior, X: np.ndarray, *, best: float, batch_size: int = 4096
) -> int:
    """Row of ``X`` (encoded configs) with the highest EI; ties go to the first row."""
    best_row, best_score = 0, -math.inf
    for start in range(0, X.shape[0], batch_size):
        scores = expected_improvement(*posterior.predict(X[start:start + batch_size]), best)
        i = int(np.argmax(scores))
        if scores[i] > best_score:
            best_row, best_score = start + i, float(scores[i])
    return best_row
