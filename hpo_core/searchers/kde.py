"""KDE searcher: the model of BOHB (Falkner et al., 2018), TPE's ratio of two densities.

The best ``top_n_percent`` of the observations ("good") and the rest ("bad") each get a
product-kernel density; of ``num_candidates`` configs drawn around good points, the one with the
lowest ``bad(x) / good(x)`` is suggested: the acquisition of TPE (Bergstra et al., 2011) with
BOHB's multivariate densities, those of statsmodels' ``KDEMultivariate(bw="normal_reference")``
(as in Syne Tune 0.13.0), written here in numpy and vectorised over the candidates.

References: S. Falkner, A. Klein, F. Hutter. BOHB: Robust and Efficient Hyperparameter
Optimization at Scale. ICML 2018. J. Bergstra, R. Bardenet, Y. Bengio, B. Kegl. Algorithms
for Hyper-Parameter Optimization. NeurIPS 2011.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from hpo_core import space as sp
from hpo_core.searchers.base import (
    Searcher,
    SearcherOptions,
    check_choice,
    check_fraction,
    check_int,
)

#: Random draws to attempt before concluding that a finite space is exhausted.
MAX_RETRIES = 100
FEATURES = ("encoded", "syne_tune")
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class KDEOptions(SearcherOptions):
    """Options of :class:`KDESearcher` (defaults as in Syne Tune).

    There is no ``restrict_configurations``: candidates are drawn in feature space and rounded
    back to configs, so they cannot be kept to a table's rows; attach a surrogate instead.

    Attributes:
        num_min_data_points: Lower bound on the size of the good set (default: the number of
            hyperparameters, which is also the least allowed).
        top_n_percent: Percentage of observations in the good set, 1..99.
        min_bandwidth: Lower bound of every bandwidth of both densities.
        num_candidates: Candidates drawn per suggestion.
        bandwidth_factor: A continuous candidate is drawn from a normal of standard deviation
            ``bandwidth_factor * bandwidth`` around a good point, truncated to ``[0, 1]``.
        random_fraction: Probability that a suggestion is random although a model is fitted.
        allow_duplicates: Whether a config may be suggested more than once.
        features: How configs become the vectors the densities live on. ``"encoded"``: our own
            encoding, one column per hyperparameter in ``[0, 1]``: log-scale domains in log
            scale; integers, ordinals and integer finite ranges at their encoded positions
            (ordered); float finite ranges continuous; categoricals as ``index / (c - 1)``.
            ``"syne_tune"``: Syne Tune 0.13.0's map: floats linearly even when log-scaled;
            integers (and integer finite ranges) as ``(v - a) / (b - a)`` with
            ``a = 1 / (2 (upper - lower + 1))`` and ``b = upper``, decoded by
            ``ceil(f (b - a) + a)``, which round-off can shift up by one (``randint(0, 5)``:
            0 and 2 come back as 1 and 3); random integer levels drawn from ``lower..upper-1``
            and mapped by ``(s - lower) / (upper - lower)``, another scale, that decodes below
            ``lower`` when ``lower > 1`` (clipped to the domain here; Syne Tune returns such
            values); categoricals and ordinals as ``index / c``, decoded by ``int(f c)`` (22
            categories: the 16th comes back as the 15th).
    """

    num_min_data_points: int | None = None
    top_n_percent: int = 15
    min_bandwidth: float = 1e-3
    num_candidates: int = 64
    bandwidth_factor: float = 3
    random_fraction: float = 0.33
    allow_duplicates: bool = False
    features: str = "encoded"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_min_data_points is not None:
            check_int("num_min_data_points", self.num_min_data_points, 1)
        if check_int("top_n_percent", self.top_n_percent, 1) > 99:
            raise ValueError(f"top_n_percent must be an int in [1, 99], got {self.top_n_percent}")
        _check_positive("min_bandwidth", self.min_bandwidth)
        check_int("num_candidates", self.num_candidates, 1)
        _check_positive("bandwidth_factor", self.bandwidth_factor)
        check_fraction("random_fraction", self.random_fraction)
        if not isinstance(self.allow_duplicates, bool):
            raise ValueError(f"allow_duplicates must be a bool, got {self.allow_duplicates!r}")
        check_choice("features", self.features, FEATURES)

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None, *, searcher: str) -> Self:
        """As :meth:`SearcherOptions.from_mapping`; ``restrict_configurations`` is refused."""
        options = dict(options or {})
        if options.pop("restrict_configurations", None) is not None:
            raise ValueError(
                f"restrict_configurations: the KDE searcher {searcher!r} cannot be restricted "
                "to a finite set of configurations (it optimises over encoded vectors and "
                "rounds back); use a surrogate (nearest neighbour) of the table instead"
            )
        return super().from_mapping(options, searcher=searcher)


@dataclass(frozen=True, kw_only=True)
class MultiFidelityKDEOptions(KDEOptions):
    """Options of :class:`MultiFidelityKDESearcher`: those of :class:`KDEOptions`, with Syne
    Tune's multi-fidelity default ``min_bandwidth = 0.1``."""

    min_bandwidth: float = 0.1


class ProductKernelDensity:
    """statsmodels' ``KDEMultivariate`` with normal-reference bandwidths, in numpy.

    The density at ``x`` is the mean over the data of the product over columns of: for ``"c"``
    (continuous), the Gaussian kernel over ``h``; for ``"o"`` (ordered), Wang-Ryzin's
    ``1 - h`` if equal, else ``(1 - h) / 2 * h ** |x - X_i|``; for ``"u"`` (unordered),
    Aitchison-Aitken's ``1 - h`` if equal, else ``h / (c - 1)``, ``c`` the number of distinct
    values in the column's data, as statsmodels counts them (``c = 1`` gives ``inf``).

    Attributes:
        data: The points, shape ``(n, d)``.
        var_types: One of ``"c"``, ``"o"``, ``"u"`` per column.
        bw: The bandwidths, shape ``(d,)``.
    """

    def __init__(self, data: np.ndarray, var_types: str, bw: np.ndarray) -> None:
        self.data = np.asarray(data, dtype=float)
        self.var_types = var_types
        self.bw = np.asarray(bw, dtype=float)
        #: Aitchison-Aitken's kernel off the level, per unordered column
        self._off_level: dict[int, float] = {}
        for j in (j for j, kind in enumerate(var_types) if kind == "u"):
            c = np.unique(self.data[:, j]).size
            self._off_level[j] = math.inf if c == 1 else float(self.bw[j]) / (c - 1)

    @classmethod
    def fit(cls, data: np.ndarray, var_types: str, *, min_bandwidth: float = 0.0) -> Self:
        """Bandwidths ``1.06 * std * n ** (-1 / (4 + d))`` per column (statsmodels applies no
        bounds to them for this rule), raised to ``min_bandwidth`` (as Syne Tune does)."""
        data = np.asarray(data, dtype=float)
        n, d = data.shape
        bw = 1.06 * data.std(axis=0) * n ** (-1.0 / (4 + d))
        return cls(data, var_types, np.maximum(bw, min_bandwidth))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """The density at each row of ``x`` (shape ``(m, d)``), shape ``(m,)``."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        shape = (x.shape[0], self.data.shape[0])
        dens, z2, scale = np.ones(shape), np.zeros(shape), 1.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j, kind in enumerate(self.var_types):  # in place: the arrays are m x n
                # h a numpy scalar: a zero bandwidth (min_bandwidth=0) gives inf, not an error
                h, xj, column = self.bw[j], x[:, j, None], self.data[:, j]
                if kind == "c":  # the Gaussian kernels of all columns in one exp, at the end
                    z = np.subtract(xj, column)
                    z *= 1 / h
                    z *= z
                    z2 += z
                    scale *= _SQRT_2PI * h
                    continue
                same = xj == column
                if kind == "o":  # h ** |distance|, by exp (several times faster than pow)
                    k = np.abs(np.subtract(xj, column))
                    k *= np.log(h)
                    np.exp(k, out=k)
                    k *= 0.5 * (1 - h)
                    k[same] = 1 - h
                else:
                    k = np.where(same, 1 - h, self._off_level[j])
                dens *= k
            z2 *= -0.5
            dens *= np.exp(z2, out=z2)
            return dens.mean(axis=1) / scale


@dataclass(frozen=True)
class _Column:
    """How one hyperparameter becomes a feature: kernel type, the map of values to features,
    the value of a feature, and the features of uniformly random levels (discrete columns)."""

    kind: str
    encode: Callable[[Sequence[Any]], np.ndarray]
    decode: Callable[[float], Any]
    levels: Callable[[np.ndarray], np.ndarray]


def _index_column(domain: sp.Categorical | sp.Ordinal, scale: int, st_decode: bool) -> _Column:
    """A categorical (or, for Syne Tune, ordinal) as ``index / scale``."""
    n, cats = len(domain.categories), domain.categories

    def encode(values: Sequence[Any]) -> np.ndarray:
        found = [domain.index(v) for v in values]
        if None in found:
            raise domain._outside(values[found.index(None)])
        return np.array(found, dtype=float) / scale

    def decode(f: float) -> Any:
        i = int(f * n) if st_decode else round(f * scale)
        return cats[min(max(i, 0), n - 1)]

    return _Column("u", encode, decode, lambda u: np.minimum((u * n).astype(int), n - 1) / scale)


def _encoded_column(domain: sp.Domain) -> _Column:
    """A column of our own ``[0, 1]`` encoding."""
    if isinstance(domain, sp.Categorical):
        return _index_column(domain, max(domain.cardinality - 1, 1), st_decode=False)
    continuous = isinstance(domain, sp.Uniform | sp.LogUniform) or (
        isinstance(domain, sp.FiniteRange) and not domain.cast_int)
    # uniform over the levels (lograndint's own draws are log-uniform)
    uniform = (sp.RandInt(domain.lower, domain.upper) if isinstance(domain, sp.LogRandInt)
               else domain)

    def encode(values: Sequence[Any]) -> np.ndarray:
        return domain.encode_array(values)[:, 0]

    return _Column("c" if continuous else "o", encode, domain.decode,
                   lambda u: encode(uniform._quantiles(u)))


def _syne_tune_column(domain: sp.Domain) -> _Column:
    """A column of Syne Tune 0.13.0's feature map (see :class:`KDEOptions`)."""
    if isinstance(domain, sp.Categorical | sp.Ordinal):
        return _index_column(domain, domain.cardinality, st_decode=True)
    assert isinstance(domain, sp.Uniform | sp.LogUniform | sp.RandInt | sp.LogRandInt
                      | sp.FiniteRange)
    lo, hi = domain.lower, domain.upper

    def snap(v: float) -> Any:  # Syne Tune's cast of a finite range; clipping elsewhere
        if not isinstance(domain, sp.FiniteRange):
            return min(max(v, lo), hi)
        if domain.size == 1:
            return domain.values[0]
        g = math.log if domain.log else float
        t = (g(min(max(v, lo), hi)) - g(lo)) / ((g(hi) - g(lo)) / (domain.size - 1))
        return domain.values[min(max(round(t), 0), domain.size - 1)]

    if isinstance(domain, sp.Uniform | sp.LogUniform) or (
            isinstance(domain, sp.FiniteRange) and not domain.cast_int):
        width = hi - lo or 1.0  # a finite range of one value: Syne Tune divides by zero
        return _Column("c", lambda vs: (np.array(vs, dtype=float) - lo) / width,
                       lambda f: snap(f * width + lo), lambda u: u)
    a, b = 1 / (2 * (hi - lo + 1)), hi

    def levels(u: np.ndarray) -> np.ndarray:
        if hi == lo:  # Syne Tune's randint(lower, upper) raises here
            return np.full(len(u), (lo - a) / (b - a))
        return np.floor(u * (hi - lo)) / (hi - lo)

    return _Column("o", lambda vs: (np.array(vs, dtype=float) - a) / (b - a),
                   lambda f: snap(math.ceil(f * (b - a) + a)), levels)


class KDESearcher(Searcher):
    """BOHB's KDE searcher on one fidelity (Syne Tune's ``searcher="kde"``).

    After the initial points, a suggestion is random (never one suggested before, unless
    ``allow_duplicates``; ``None`` once a finite space is exhausted) while there is too little
    data (with ``n`` observations, ``n_good = max(num_min_data_points, top_n_percent * n //
    100)`` and ``n - n_good`` must both exceed the number of hyperparameters) and, once there
    is enough, with probability ``random_fraction``. Otherwise it is the candidate (see
    :class:`KDEOptions`) with the lowest ``max(1e-32, bad(x)) / max(good(x), 1e-32)`` among
    those not suggested before (the first of equal ones; random if there is none), the good
    density fitted to the best ``n_good`` observations and the bad one to the rest
    (Falkner et al., 2018; Bergstra et al., 2011). Non-finite metric values are skipped; the
    results of a trial that fails later are kept, and pending trials play no part.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        options: :class:`KDEOptions` (default: its defaults).

    Raises:
        ValueError: If ``num_min_data_points`` is below the number of hyperparameters.
    """

    wants_data = True
    options_type = KDEOptions
    options: KDEOptions

    def _setup(self) -> None:
        super()._setup()
        domains = sp.hyperparameters(self.config_space)
        self._domains = list(domains.items())
        make = _encoded_column if self.options.features == "encoded" else _syne_tune_column
        self._columns = [make(d) for d in domains.values()]
        self._var_types = "".join(c.kind for c in self._columns)
        num_min = self.options.num_min_data_points
        self._num_min = len(domains) if num_min is None else num_min
        if self._num_min < len(domains):
            raise ValueError(f"num_min_data_points must be >= the number of hyperparameters "
                             f"({len(domains)}), got {num_min}")
        self._size = math.prod(d.cardinality or 0 for d in domains.values())
        self._seen: set[tuple[Any, ...]] = set()
        #: (trial_id, resource) or a running number -> (resource, features, objective to min)
        self._points: dict[tuple[int, int], tuple[int, np.ndarray, float]] = {}
        self._version = 0
        self._fitted: tuple[ProductKernelDensity, ProductKernelDensity] | None = None
        self._fitted_version = -1

    # -- data -----------------------------------------------------------------------------------

    def observe(
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        self._store((len(self._points), 0), resource, config, value)

    def _store(self, key: tuple[int, int], resource: int, config: Mapping[str, Any],
               value: float) -> None:
        if not math.isfinite(value):
            return
        x = np.array([c.encode([config[name]])[0]
                      for c, (name, _) in zip(self._columns, self._domains, strict=True)])
        self._points[key] = (resource, x, value if self.mode == "min" else -value)
        self._version += 1

    def _training_set(self) -> list[tuple[int, np.ndarray, float]]:
        """The points the densities are fitted to."""
        return list(self._points.values())

    def _num_good(self, n: int) -> int | None:
        """Size of the good set of ``n`` points; ``None`` if a density would get too few."""
        n_good = max(self._num_min, self.options.top_n_percent * n // 100)
        return None if min(n_good, n - n_good) <= len(self._columns) else n_good

    def fit_model(self) -> tuple[ProductKernelDensity, ProductKernelDensity] | None:
        """The good and the bad density of the current data, or ``None`` (too little data)."""
        if self._fitted_version != self._version:
            self._fitted_version, self._fitted = self._version, None
            points = self._training_set()
            if (n_good := self._num_good(len(points))) is not None:
                x = np.array([p[1] for p in points]).reshape(len(points), len(self._columns))
                order = np.argsort([p[2] for p in points], kind="stable")
                fit, h = ProductKernelDensity.fit, self.options.min_bandwidth
                self._fitted = (fit(x[order[:n_good]], self._var_types, min_bandwidth=h),
                                fit(x[order[n_good:]], self._var_types, min_bandwidth=h))
        return self._fitted

    # -- suggestions ----------------------------------------------------------------------------

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        while self._initial:
            config = self._initial.popleft()
            if self._is_new(config):
                self._seen.add(self._key(config))
                return config
        suggestion = self._suggest(trial_id)
        if suggestion is not None:
            self._seen.add(self._key(suggestion))
        return suggestion

    def _suggest(self, trial_id: int) -> dict[str, Any] | None:
        model = self.fit_model()
        if model is None or self.rng.random() < self.options.random_fraction:
            return self._random_config()
        good, bad = model
        candidates = self._candidates(good)
        with np.errstate(invalid="ignore"):
            scores = np.maximum(1e-32, bad.pdf(candidates)) / np.maximum(good.pdf(candidates),
                                                                          1e-32)
        # a stable sort keeps the first of equal scores first, and puts NaN (0 * inf) last
        for i in np.argsort(scores, kind="stable"):
            config = self._decode(candidates[i])
            if self._is_new(config):
                return config
        return self._random_config()

    def _candidates(self, good: ProductKernelDensity) -> np.ndarray:
        """``num_candidates`` feature vectors, each drawn around a random good point."""
        from scipy.special import ndtr, ndtri  # lazily: importing the registry stays light

        k = self.options.num_candidates
        means = good.data[self.rng.integers(len(good.data), size=k)]
        out = means.copy()
        for j, column in enumerate(self._columns):
            m, h = means[:, j], good.bw[j]
            if column.kind == "c":
                sd = self.options.bandwidth_factor * h
                lo, hi = ndtr(-m / sd), ndtr((1 - m) / sd)
                u = self.rng.random(k)
                out[:, j] = np.clip(m + sd * ndtri(lo + u * (hi - lo)), 0.0, 1.0)
            else:
                keep = self.rng.random(k) < 1 - h
                out[:, j] = np.where(keep, m, column.levels(self.rng.random(k)))
        return out

    def _decode(self, x: np.ndarray) -> dict[str, Any]:
        config = dict(self.config_space)
        for (name, _), column, f in zip(self._domains, self._columns, x.tolist(), strict=True):
            config[name] = column.decode(f)
        return config

    def _random_config(self) -> dict[str, Any] | None:
        if not self.options.allow_duplicates and self._size and len(self._seen) >= self._size:
            return None
        for _ in range(MAX_RETRIES):
            config = dict(self.config_space)
            for (name, domain), u in zip(self._domains, self.rng.random(len(self._domains)),
                                         strict=True):
                config[name] = domain._quantile(float(u))
            if self._is_new(config):
                return config
        return None

    def _key(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(config[name] for name, _ in self._domains)

    def _is_new(self, config: Mapping[str, Any]) -> bool:
        return self.options.allow_duplicates or self._key(config) not in self._seen


class MultiFidelityKDESearcher(KDESearcher):
    """BOHB's KDE searcher under a multi-fidelity scheduler (``"kde_multifidelity"``;
    ``searcher="kde"`` under one selects it).

    As :class:`KDESearcher`, the densities fitted only to the results at the highest resource
    level whose number of results suffices (Falkner et al., 2018; as Syne Tune 0.13.0 does).
    A trial reported twice at the same level counts once, with its latest value; under
    ``searcher_data="rungs_and_last"`` a trial's latest non-rung value replaces its previous
    one and is dropped at its next rung value.

    Args:
        config_space, metric, mode, rng, points_to_evaluate: As for every searcher.
        options: :class:`MultiFidelityKDEOptions` (default: its defaults).
    """

    options_type = MultiFidelityKDEOptions
    options: MultiFidelityKDEOptions

    def _setup(self) -> None:
        super()._setup()
        self.searcher_data = "rungs"

    def configure_resources(
        self, *, rung_levels: Sequence[int], max_t: int, searcher_data: str = "rungs"
    ) -> None:
        self.searcher_data = searcher_data

    def observe(
        self, trial_id: int, config: Mapping[str, Any], resource: int, value: float,
        *, is_rung: bool = True,
    ) -> None:
        if self.searcher_data == "rungs_and_last" and not is_rung:
            self._store((trial_id, -1), resource, config, value)  # -1: the non-rung slot
            return
        if self._points.pop((trial_id, -1), None) is not None:
            self._version += 1
        self._store((trial_id, resource), resource, config, value)

    def _training_set(self) -> list[tuple[int, np.ndarray, float]]:
        counts: dict[int, int] = {}
        for resource, _, _ in self._points.values():
            counts[resource] = counts.get(resource, 0) + 1
        for level in sorted(counts, reverse=True):
            if self._num_good(counts[level]) is not None:
                return [p for p in self._points.values() if p[0] == level]
        return []
