"""Expected improvement and its maximisation over a configuration space.

The criterion is minimised: the improvement of ``f(x) ~ N(mean, variance)`` over the incumbent
``best`` is ``max(best - f(x), 0)``, and its expectation has the closed form

    EI = s * (phi(z) + z * Phi(z)),    s = sqrt(variance),  z = (best - mean) / s

(Jones, Schonlau and Welch, 1998). For ``z < 0`` the bracket is a difference of nearly equal
terms; it is evaluated as ``phi(z) * (1 + z * sqrt(pi / 2) * erfcx(-z / sqrt(2)))``, with the
scaled complementary error function, which neither cancels nor underflows early. Where ``s`` is
below :data:`MIN_STDDEV`, EI is ``max(best - mean, 0)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, ndtr

from hpo_core.searchers.gp.model import GPPosterior
from hpo_core.space import SpaceEncoder

#: Below this posterior standard deviation EI is the plain improvement of the mean.
MIN_STDDEV = 1e-12

_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _ei_terms(
    mean: np.ndarray, variance: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EI and its derivatives in ``mean`` and in ``variance``, elementwise."""
    s = np.sqrt(np.maximum(variance, 0.0))
    ok = s > MIN_STDDEV
    gap = best - np.asarray(mean, dtype=float)
    z = gap / np.where(ok, s, 1.0)
    pdf, cdf = np.exp(-0.5 * z * z) * _INV_SQRT_2PI, ndtr(z)
    z_neg = np.minimum(z, 0.0)  # erfcx(-z / sqrt 2) overflows for large positive z
    bracket = np.where(z < 0.0,
                       pdf * (1.0 + z_neg * _SQRT_HALF_PI * erfcx(-z_neg / math.sqrt(2.0))),
                       pdf + z * cdf)
    ei = np.where(ok, s * np.maximum(bracket, 0.0), np.maximum(gap, 0.0))
    d_mean = np.where(ok, -cdf, -(gap > 0.0).astype(float))
    d_var = np.where(ok, pdf / (2.0 * np.where(ok, s, 1.0)), 0.0)
    return ei, d_mean, d_var


def incumbent(posterior: GPPosterior) -> float:
    """The value to improve on: the lowest posterior mean at the data inputs, fantasies
    included (a pending config predicted to be good raises the bar for its neighbours)."""
    return float(np.min(posterior.predict(posterior.X)[0]))


def expected_improvement(mean: np.ndarray, variance: np.ndarray, best: float) -> np.ndarray:
    """EI of ``N(mean, variance)`` below ``best`` (elementwise)."""
    return _ei_terms(mean, variance, best)[0]


def expected_improvement_with_gradient(
    posterior: GPPosterior, x: np.ndarray, best: float
) -> tuple[float, np.ndarray]:
    """EI of the posterior at the single input ``x`` and its gradient in ``x``."""
    mean, var, dmean, dvar = posterior.predict_with_gradient(x[None, :])
    ei, d_mean, d_var = _ei_terms(mean, var, best)
    return float(ei[0]), d_mean[0] * dmean[0] + d_var[0] * dvar[0]


def local_search(
    posterior: GPPosterior, x0: np.ndarray, *, best: float, maxiter: int, scale: float = 1.0
) -> np.ndarray:
    """Local maximiser of EI in ``[0, 1]^dim`` found by L-BFGS-B from ``x0``.

    ``scale`` divides EI so that the optimiser's tolerances see values of order one.
    """

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        ei, grad = expected_improvement_with_gradient(posterior, x, best)
        return -ei / scale, -grad / scale

    bounds = [(0.0, 1.0)] * x0.shape[0]
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": maxiter})
    return np.clip(np.asarray(result.x, dtype=float), 0.0, 1.0)


def select_config(
    posterior: GPPosterior,
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

    ``candidates`` (random configs) and the encoded ``extra_starts`` (e.g. the best observed
    inputs) are scored; L-BFGS-B then climbs EI from the ``num_local_starts`` best of them
    (``0``: no local search). Each local optimum is decoded to the nearest valid config and
    scored again at its encoding. The answer is the best of these configs and of the random
    candidates, duplicates (``is_new`` false) excluded; ``None`` if all are duplicates.
    """
    X_cand = encoder.encode_many(candidates) if candidates else np.empty((0, encoder.dim))
    X_all = np.vstack([X_cand, extra_starts])
    scores = expected_improvement(*posterior.predict(X_all), best)
    order = np.argsort(-scores, kind="stable")
    options: list[tuple[float, dict[str, Any]]] = []
    scale = max(float(scores[order[0]]), 1e-300) if len(order) else 1.0
    for idx in order[:num_local_starts]:
        x = local_search(posterior, X_all[idx], best=best, maxiter=local_maxiter, scale=scale)
        config = encoder.decode(x)
        if is_new(config):
            rounded = encoder.encode(config)[None, :]
            options.append((float(expected_improvement(*posterior.predict(rounded), best)[0]),
                            config))
    for idx in order:
        if idx < len(candidates) and is_new(candidates[idx]):
            options.append((float(scores[idx]), candidates[idx]))
            break
    if not options:
        return None
    # max() keeps the first of equal scores: local optima before the random fallback.
    return max(options, key=lambda option: option[0])[1]


def select_from_table(
    posterior: GPPosterior, X: np.ndarray, *, best: float, batch_size: int = 4096
) -> int:
    """Row of ``X`` (encoded configs) with the highest EI, scored ``batch_size`` rows at a time;
    ties go to the first row."""
    best_row, best_score = 0, -math.inf
    for start in range(0, X.shape[0], batch_size):
        scores = expected_improvement(*posterior.predict(X[start:start + batch_size]), best)
        i = int(np.argmax(scores))
        if scores[i] > best_score:
            best_row, best_score = start + i, float(scores[i])
    return best_row
