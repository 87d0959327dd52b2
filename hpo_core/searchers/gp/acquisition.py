"""Expected improvement and its maximisation over a configuration space.

The criterion is minimised: the improvement of ``f(x) ~ N(mean, variance)`` over the incumbent
``best`` is ``max(best - f(x), 0)``, and its expectation has the closed form

    EI = s * (phi(z) + z * Phi(z)),    s = sqrt(variance),  z = (best - mean) / s

(Jones, Schonlau and Welch, 1998). For ``z < 0`` the bracket is a difference of nearly equal
terms; it is evaluated as ``phi(z) * (1 + z * sqrt(pi / 2) * erfcx(-z / sqrt(2)))``, with the
scaled complementary error function, which neither cancels nor underflows early. Where ``s`` is
below :data:`MIN_STDDEV`, EI is ``max(best - mean, 0)``.

*Fantasy samples.* A posterior whose pending inputs were fantasized with several samples
(:meth:`~hpo_core.searchers.gp.model.GPPosterior.fantasize`) predicts one mean per sample
(shape ``(m, S)``) and one variance; the incumbent is then one value per sample, and EI is
averaged over the samples.

Everything here is written against :class:`ConfigPosterior`, which single-task posteriors, slices
of the joint multi-fidelity model and per-level models all provide. EI is maximised by scoring
random candidates (by EI, or by independent Thompson samples) and climbing EI with L-BFGS-B from
the best of them; several starts climb together in *one* L-BFGS-B run over their concatenation
(the objective, a sum of the starts' EI, is separable, so its stationary points are those of each
start): one batched prediction per step instead of one per start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, ndtr

from hpo_core.space import SpaceEncoder

#: Below this posterior standard deviation EI is the plain improvement of the mean.
MIN_STDDEV = 1e-12
#: Ways of scoring the random candidates (the starting points of local search).
INITIAL_SCORINGS = ("thompson_indep", "acq_func")
#: Local search stops where the largest component of EI's projected gradient falls below this
#: (EI in standardised units of the criterion, not rescaled; L-BFGS-B's default tolerance).
LOCAL_SEARCH_GTOL = 1e-5

_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

Best = float | np.ndarray


class ConfigPosterior(Protocol):
    """A posterior over encoded configs (rows in ``[0, 1]^d``). Means (and their gradients)
    carry a sample axis after the row axis when pending inputs were fantasized by samples."""

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean (``(m,)`` or ``(m, S)``) and variance (``(m,)``) at the rows of ``Xs``."""
        ...

    def predict_with_gradient(
        self, Xs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients in each row (``(m, [S,] d)`` and ``(m, d)``)."""
        ...


class JointPosterior(ConfigPosterior, Protocol):
    """A posterior that also gives the joint distribution at several configs."""

    def predict_joint(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance matrix at the rows of ``Xs``."""
        ...


def _ei_terms(
    mean: np.ndarray, variance: np.ndarray, best: Best
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EI and its derivatives in ``mean`` and in ``variance``, elementwise (broadcasting)."""
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


def incumbent(posterior: ConfigPosterior, X: np.ndarray) -> Best:
    """The value EI improves on: the lowest posterior mean at the encoded configs ``X`` (one
    per fantasy sample if the posterior has several). Posteriors with a ``predict_mean``
    method are asked for the mean only."""
    predict_mean = getattr(posterior, "predict_mean", None)
    mean = predict_mean(X) if predict_mean is not None else posterior.predict(X)[0]
    return float(np.min(mean)) if mean.ndim == 1 else np.min(mean, axis=0)


def expected_improvement(mean: np.ndarray, variance: np.ndarray, best: Best) -> np.ndarray:
    """EI of ``N(mean, variance)`` below ``best``, per row; for means of shape ``(m, S)``
    (fantasy samples, ``best`` of shape ``(S,)``) averaged over the samples."""
    mean = np.asarray(mean, dtype=float)
    if mean.ndim == 2:
        return _ei_terms(mean, np.asarray(variance)[:, None], best)[0].mean(axis=1)
    return _ei_terms(mean, variance, best)[0]


def ei_with_gradient(
    posterior: ConfigPosterior, X: np.ndarray, best: Best
) -> tuple[np.ndarray, np.ndarray]:
    """EI at the rows of ``X`` and its gradient in each row."""
    mean, var, dmean, dvar = posterior.predict_with_gradient(X)
    if mean.ndim == 2:
        ei, d_mean, d_var = _ei_terms(mean, var[:, None], best)
        grad = (np.einsum("ms,msd->md", d_mean, dmean) / mean.shape[1]
                + d_var.mean(axis=1)[:, None] * dvar)
        return ei.mean(axis=1), grad
    ei, d_mean, d_var = _ei_terms(mean, var, best)
    return ei, d_mean[:, None] * dmean + d_var[:, None] * dvar


def expected_improvement_with_gradient(
    posterior: ConfigPosterior, x: np.ndarray, best: Best
) -> tuple[float, np.ndarray]:
    """EI of the posterior at the single input ``x`` and its gradient in ``x``."""
    ei, grad = ei_with_gradient(posterior, x[None, :], best)
    return float(ei[0]), grad[0]


def local_search(
    posterior: ConfigPosterior, X0: np.ndarray, *, best: Best, maxiter: int,
) -> np.ndarray:
    """Local maximisers of EI in ``[0, 1]^d``, one from each row of ``X0``, found together by
    L-BFGS-B (see the module docstring).

    EI is climbed as it is (not rescaled), with L-BFGS-B's default tolerances
    (:data:`LOCAL_SEARCH_GTOL`).
    """
    k, d = X0.shape

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        ei, grad = ei_with_gradient(posterior, z.reshape(k, d), best)
        return -float(np.sum(ei)), -grad.reshape(-1)

    result = minimize(objective, X0.reshape(-1), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 1.0)] * (k * d),
                      options={"maxiter": maxiter, "gtol": LOCAL_SEARCH_GTOL})
    return np.clip(np.asarray(result.x, dtype=float).reshape(k, d), 0.0, 1.0)


def thompson_scores(
    posterior: ConfigPosterior, X: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Negated independent posterior samples at the rows of ``X`` (higher is better): one
    draw per row from its marginal, the mean averaged over fantasy samples."""
    mean, var = posterior.predict(X)
    if mean.ndim == 2:
        mean = mean.mean(axis=1)
    return -(mean + np.sqrt(np.maximum(var, 0.0)) * rng.standard_normal(len(mean)))


def select_config(
    posterior: ConfigPosterior,
    *,
    encoder: SpaceEncoder,
    best: Best,
    candidates: Sequence[dict[str, Any]],
    is_new: Callable[[dict[str, Any]], bool],
    extra_starts: np.ndarray | None = None,
    initial_scoring: str = "acq_func",
    rng: np.random.Generator | None = None,
    num_local_starts: int = 1,
    local_maxiter: int = 50,
) -> dict[str, Any] | None:
    """A new config of high EI (``is_new`` true), ``None`` if every candidate is a duplicate.

    ``candidates`` (random configs) and the encoded ``extra_starts`` (optional, e.g. the best
    observed inputs) are scored by ``initial_scoring``: ``"acq_func"`` (EI) or
    ``"thompson_indep"`` (an independent posterior sample per candidate, drawn from ``rng``).
    L-BFGS-B climbs EI from the ``num_local_starts`` best-scoring ones (``0``: no local search);
    local optima are decoded to the nearest valid config. The answer is the new local optimum of
    highest EI at its encoding (with EI scoring, the best-scoring new candidate competes too),
    else the best-scoring new candidate.
    """
    X_all = encoder.encode_many(candidates) if candidates else np.empty((0, encoder.dim))
    if extra_starts is not None and len(extra_starts):
        X_all = np.vstack([X_all, extra_starts])
    if not len(X_all):
        return None
    if initial_scoring == "thompson_indep":
        if rng is None:
            raise ValueError("initial_scoring 'thompson_indep' needs a random generator")
        scores = thompson_scores(posterior, X_all, rng)
    elif initial_scoring == "acq_func":
        scores = expected_improvement(*posterior.predict(X_all), best)
    else:
        raise ValueError(f"initial_scoring must be one of {list(INITIAL_SCORINGS)}, got "
                         f"{initial_scoring!r}")
    order = np.argsort(-scores, kind="stable")
    options: list[tuple[float, dict[str, Any]]] = []
    starts = order[:num_local_starts]
    if len(starts):
        optima = local_search(posterior, X_all[starts], best=best, maxiter=local_maxiter)
        new = [c for c in (encoder.decode(x) for x in optima) if is_new(c)]
        if new:
            values = expected_improvement(*posterior.predict(encoder.encode_many(new)), best)
            options.extend((float(v), c) for v, c in zip(values, new, strict=True))
    if options and initial_scoring != "acq_func":
        return max(options, key=lambda option: option[0])[1]
    for idx in order:
        if idx < len(candidates) and is_new(candidates[idx]):
            options.append((float(scores[idx]), candidates[idx]))
            break
    if not options:
        return None
    # max() keeps the first of equal scores: local optima before the random fallback.
    return max(options, key=lambda option: option[0])[1]


def select_from_table(
    posterior: ConfigPosterior, X: np.ndarray, *, best: Best, batch_size: int = 4096
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
