"""Column-wise sampling and encoding: ``sample_configs``, ``Domain.encode_array`` and
``SpaceEncoder.encode_many`` agree with the one-at-a-time paths (exactly, but for the last bit
of numpy's exp and log in the log-scale domains), which follow the defining formulas exactly,
and both report the same errors."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hpo_core import space as sp
from hpo_core.space import (
    Categorical,
    Domain,
    FiniteRange,
    LogRandInt,
    LogUniform,
    Ordinal,
    RandInt,
    SpaceEncoder,
    Uniform,
    choice,
    finrange,
    logfinrange,
    lograndint,
    loguniform,
    ordinal,
    randint,
    uniform,
)

FAST = settings(max_examples=100, deadline=None)

KINDS = (
    "uniform",
    "loguniform",
    "randint",
    "lograndint",
    "choice",
    "finrange",
    "finrange_int",
    "logfinrange",
    "ordinal_equal",
    "ordinal_nn",
    "ordinal_log",
)

# Category atoms; 1 and 1.0 are the same category, True is not 1.
ATOMS = st.one_of(
    st.text(max_size=4),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@st.composite
def domains(draw: st.DrawFn) -> Domain:
    """Any domain kind, including int ranges beyond int64 and beyond exact floats."""
    kind = draw(st.sampled_from(KINDS))
    if kind == "uniform":
        lower = draw(st.floats(-1e6, 1e6))
        return uniform(lower, lower + draw(st.floats(1e-6, 1e6)))
    if kind == "loguniform":
        lower = draw(st.floats(1e-8, 1e3))
        return loguniform(lower, lower * draw(st.floats(1.001, 1e8)))
    if kind == "randint":
        lower = draw(st.one_of(st.integers(-1000, 1000), st.integers(-(2**70), 2**70)))
        return randint(lower, lower + draw(st.one_of(st.integers(0, 1000), st.integers(0, 2**72))))
    if kind == "lograndint":
        lower = draw(st.integers(1, 1000))
        width = draw(st.one_of(st.integers(0, 10**4), st.integers(0, 2**60)))
        return lograndint(lower, lower + width)
    if kind in ("choice", "ordinal_equal"):
        cats = draw(
            st.lists(ATOMS, min_size=1, max_size=6, unique_by=lambda v: (type(v) is bool, v))
        )
        return choice(cats) if kind == "choice" else ordinal(cats, kind="equal")
    if kind == "finrange":
        lower = draw(st.floats(-1e6, 1e6))
        return finrange(lower, lower + draw(st.floats(1e-3, 1e6)), draw(st.integers(1, 40)))
    if kind == "finrange_int":
        low, step, size = (
            draw(st.integers(-1000, 1000)),
            draw(st.integers(1, 50)),
            draw(st.integers(1, 30)),
        )
        return finrange(low, low + step * (size - 1), size, cast_int=True)
    try:
        if kind == "logfinrange":
            lower = draw(st.floats(1e-6, 1e3))
            upper = lower * draw(st.floats(1.5, 1e6))
            cast = draw(st.booleans())
            return logfinrange(lower, upper, draw(st.integers(1, 30)), cast_int=cast)
        cats = draw(st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=6, unique=True))
        return ordinal(sorted(cats), kind="nn" if kind == "ordinal_nn" else "nn-log")
    except ValueError:  # grid values rounding together, categories too close
        assume(False)
        raise


@st.composite
def spaces(draw: st.DrawFn) -> dict[str, Any]:
    """Up to 7 entries, at least one a hyperparameter; the others of any kinds or constants."""
    constants = st.one_of(st.integers(), st.text(max_size=3))
    entries = draw(st.lists(st.one_of(domains(), constants), max_size=6))
    entries.insert(draw(st.integers(0, len(entries))), draw(domains()))
    return {f"k{i}": e for i, e in enumerate(entries)}


def _retyped(value: Any) -> st.SearchStrategy[Any]:
    """``value`` or an equal value of another type that the domain also accepts."""
    options: list[Any] = [value]
    if type(value) is float:
        options += [np.float64(value), Fraction(value)]
    elif type(value) is int:
        options += [np.int64(value)] if abs(value) < 2**63 else []
        options += [np.int32(value)] if abs(value) < 2**31 else []
    elif type(value) is str and str(np.str_(value)) == value:  # numpy drops trailing NULs
        options.append(np.str_(value))
    elif type(value) is bool:
        options.append(np.bool_(value))
    return st.sampled_from(options)


def valid_values(domain: Domain) -> st.SearchStrategy[Any]:
    """Values inside ``domain``: bounds, grid values, ints in real ranges, odd but valid types."""
    if isinstance(domain, Uniform | LogUniform):
        lo, hi = domain.lower, domain.upper
        values = st.one_of(st.floats(lo, hi), st.sampled_from([lo, hi]))
        if math.ceil(lo) <= math.floor(hi):
            values = values | st.integers(math.ceil(lo), math.floor(hi))
        return values.flatmap(_retyped)
    if isinstance(domain, RandInt | LogRandInt):
        return st.integers(domain.lower, domain.upper).flatmap(_retyped)
    assert domain.values is not None
    grid = st.sampled_from(domain.values)
    if isinstance(domain, FiniteRange) and not domain.cast_int:
        # Within the tolerance of the grid value.
        grid = grid | grid.map(lambda v: v * (1 + 1e-12))
    return grid.flatmap(_retyped)


def invalid_values(domain: Domain) -> st.SearchStrategy[Any]:
    """Values outside ``domain``."""
    common: list[Any] = [None, "__outside__", float("nan"), float("inf")]
    if isinstance(domain, Uniform | LogUniform):
        hi = domain.upper
        low = domain.lower / 2 if isinstance(domain, LogUniform) else domain.lower - 1.0
        return st.sampled_from([*common, True, low, hi + abs(hi) + 1.0])
    if isinstance(domain, RandInt | LogRandInt):
        lo, hi = domain.lower, domain.upper
        return st.sampled_from([*common, True, 0.5, lo - 1, hi + 1, float(lo)])
    if isinstance(domain, FiniteRange):
        hi = domain.values[-1]
        return st.sampled_from([*common, True, hi + abs(hi) + 1])
    return st.sampled_from(common + ([] if True in domain.values else [True]))


def _encode_reference(domain: Domain, value: Any, log_value: float | None = None) -> list[float]:
    """The encoding of each domain, written with Python's math, for a value inside it
    (log-scale domains: with ``log_value`` for ``math.log(value)`` if given)."""
    if isinstance(domain, LogUniform | LogRandInt):
        log = math.log(value) if log_value is None else log_value
    if isinstance(domain, Uniform):
        t = (float(value) - domain.lower) / (domain.upper - domain.lower)
    elif isinstance(domain, LogUniform):
        lo, hi = math.log(domain.lower), math.log(domain.upper)
        t = (log - lo) / (hi - lo)
    elif isinstance(domain, RandInt):
        return [(int(value) - domain.lower + 0.5) / (domain.upper - domain.lower + 1)]
    elif isinstance(domain, LogRandInt):
        lo, hi = math.log(domain.lower - 0.5), math.log(domain.upper + 0.5)
        t = (log - lo) / (hi - lo)
    elif isinstance(domain, Categorical):
        i = domain.index(value)
        assert i is not None
        return [float(j == i) for j in range(len(domain.categories))]
    elif isinstance(domain, FiniteRange):
        i = domain.index(value)
        assert i is not None
        return [i / (domain.size - 1) if domain.size > 1 else 0.5]
    else:
        assert isinstance(domain, Ordinal)
        i, cats = domain.index(value), domain.categories
        assert i is not None
        if len(cats) == 1:
            return [0.5]
        if domain.kind == "equal":
            return [i / (len(cats) - 1)]
        scale = [math.log(c) for c in cats] if domain.kind == "nn-log" else list(cats)
        return [(scale[i] - scale[0]) / (scale[-1] - scale[0])]
    return [min(max(t, 0.0), 1.0)]


def _types(configs: list[dict[str, Any]]) -> list[list[type]]:
    return [[type(v) for v in c.values()] for c in configs]


def _assert_samples_agree(
    domain: Domain, batch: list[Any], single: list[Any], draws: list[float]
) -> None:
    """Values of the batch path (numpy) and of the scalar path (Python's math) for the same
    uniform ``draws``: equal, except that numpy's exp may be one ulp off math.exp (AVX-512
    kernels), which moves a log-uniform value by one ulp and a log-randint value to the
    rounding of a neighbouring float."""
    assert [type(v) for v in batch] == [type(v) for v in single]
    if isinstance(domain, LogUniform):
        np.testing.assert_array_max_ulp(np.array(batch, float), np.array(single, float), 1)
    elif isinstance(domain, LogRandInt):
        lo, hi = math.log(domain.lower - 0.5), math.log(domain.upper + 0.5)
        for a, b, u in zip(batch, single, draws, strict=True):
            x = math.exp(lo + u * (hi - lo))
            near = (math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf))
            rounded = [min(max(math.floor(y + 0.5), domain.lower), domain.upper) for y in near]
            assert b == rounded[1] and a in rounded
    else:
        assert batch == single


def _assert_encodings_agree(
    domain: Domain, values: list[Any], batch: np.ndarray, single: np.ndarray
) -> None:
    """Rows of ``encode_array(values)`` and of ``encode`` of each value: equal, except for
    log-scale domains, whose batch rows follow the formula with numpy's log (at most one ulp
    off math.log, the AVX-512 kernels), the single rows with math.log."""
    if isinstance(domain, LogUniform | LogRandInt):
        logs = np.log(np.array([float(v) for v in values], dtype=float))
        np.testing.assert_array_max_ulp(logs, np.array([math.log(v) for v in values]), 1)
        expected = [
            _encode_reference(domain, v, log) for v, log in zip(values, logs.tolist(), strict=True)
        ]
        assert batch.tolist() == expected
    else:
        assert np.array_equal(batch, single)


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


@FAST
@given(space=spaces(), num=st.integers(0, 12), seed=st.integers(0, 2**32 - 1))
def test_sample_configs_equals_repeated_sample_config(
    space: dict[str, Any], num: int, seed: int
) -> None:
    rng_one, rng_many = np.random.default_rng(seed), np.random.default_rng(seed)
    one_by_one = [sp.sample_config(space, rng_one) for _ in range(num)]
    batch = sp.sample_configs(space, num, rng_many)
    assert _types(batch) == _types(one_by_one)
    assert all(list(c) == list(space) for c in batch)
    hps = sp.hyperparameters(space)
    u = np.random.default_rng(seed).random((num, len(hps)))
    for j, (name, domain) in enumerate(hps.items()):
        column = [c[name] for c in batch]
        _assert_samples_agree(domain, column, [c[name] for c in one_by_one], u[:, j].tolist())
    constants = [{k: v for k, v in c.items() if k not in hps} for c in batch]
    assert constants == [sp.constants(space)] * num
    # Both consumed the same part of the stream.
    assert rng_one.random() == rng_many.random()


@FAST
@given(domain=domains(), num=st.integers(0, 12), seed=st.integers(0, 2**32 - 1))
def test_sample_and_sample_many_agree(domain: Domain, num: int, seed: int) -> None:
    rng_one, rng_many = np.random.default_rng(seed), np.random.default_rng(seed)
    one_by_one = [domain.sample(rng_one) for _ in range(num)]
    many = domain.sample_many(rng_many, num)
    draws = np.random.default_rng(seed).random(num).tolist()
    _assert_samples_agree(domain, many, one_by_one, draws)
    assert rng_one.random() == rng_many.random()


def test_batch_and_scalar_paths_agree_on_many_values() -> None:
    # Enough draws that a batch path off by a fraction of a percent shows.
    space = {
        "u": uniform(-2.0, 3.0),
        "lu": loguniform(1e-4, 1.0),
        "ri": randint(-5, 1000),
        "lri": lograndint(1, 1000),
        "c": choice(["a", "b", "c"]),
        "fr": finrange(0.0, 1.0, 11),
        "lfr": logfinrange(8, 512, 7, cast_int=True),
        "o": ordinal([1, 2, 5]),
        "epochs": 81,
    }
    num, hps = 3000, sp.hyperparameters(space)
    rng = np.random.default_rng(3)
    single = [sp.sample_config(space, rng) for _ in range(num)]
    batch = sp.sample_configs(space, num, np.random.default_rng(3))
    u = np.random.default_rng(3).random((num, len(hps)))
    for j, (name, domain) in enumerate(hps.items()):
        column = [c[name] for c in batch]
        _assert_samples_agree(domain, column, [c[name] for c in single], u[:, j].tolist())
        encoded = np.array([domain.encode(v) for v in column])
        _assert_encodings_agree(domain, column, domain.encode_array(column), encoded)


def test_sample_configs_edge_cases() -> None:
    space = {"a": uniform(0.0, 1.0), "epochs": 81}
    rng = np.random.default_rng(0)
    assert sp.sample_configs(space, 0, rng) == []
    assert sp.sample_configs({"epochs": 81}, 2, rng) == [{"epochs": 81}, {"epochs": 81}]
    assert rng.random() == np.random.default_rng(0).random()  # nothing drawn so far
    for num in (-1, 1.5, True, None):
        with pytest.raises(ValueError, match="num must be an int >= 0"):
            sp.sample_configs(space, num, rng)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


@st.composite
def spaces_and_configs(
    draw: st.DrawFn, min_size: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A space and valid configs of it, some with values of unusual types."""
    space = draw(spaces())
    hps = sp.hyperparameters(space)
    values = st.fixed_dictionaries({k: valid_values(d) for k, d in hps.items()})
    configs = draw(st.lists(values, min_size=min_size, max_size=8))
    return space, [c | sp.constants(space) for c in configs]


@FAST
@given(case=spaces_and_configs())
def test_encode_many_equals_stacked_encode_and_the_formulas(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    space, configs = case
    enc = SpaceEncoder(space)
    xs = enc.encode_many(configs)
    assert xs.shape == (len(configs), enc.dim) and xs.dtype == np.float64
    stacked = np.array([enc.encode(c) for c in configs]).reshape(len(configs), enc.dim)
    for name, domain in sp.hyperparameters(space).items():
        block, single = xs[:, enc.slices[name]], stacked[:, enc.slices[name]]
        column = [c[name] for c in configs]
        assert np.array_equal(domain.encode_array(column), block)
        for value, row in zip(column, single, strict=True):
            assert np.array_equal(domain.encode(value), row)
            assert row.tolist() == _encode_reference(domain, value)
        _assert_encodings_agree(domain, column, block, single)


@FAST
@given(case=spaces_and_configs(min_size=1), data=st.data())
def test_encode_many_names_the_bad_hyperparameter(
    case: tuple[dict[str, Any], list[dict[str, Any]]], data: st.DataObject
) -> None:
    space, configs = case
    hps = sp.hyperparameters(space)
    enc = SpaceEncoder(space)
    row = data.draw(st.integers(0, len(configs) - 1))
    name = data.draw(st.sampled_from(list(hps)))
    domain = hps[name]
    bad = dict(configs[row])
    if data.draw(st.booleans()):
        del bad[name]
        message = f"config is missing hyperparameter {name!r} (domain {domain!r})"
    else:
        bad[name] = data.draw(invalid_values(domain))
        assert not domain.contains(bad[name])
        message = (
            f"hyperparameter {name!r}: cannot encode {bad[name]!r}: it is outside the domain "
            f"{domain!r}"
        )
    configs = [*configs[:row], bad, *configs[row + 1 :]]
    for call in (lambda: enc.encode_many(configs), lambda: enc.encode(bad)):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == message


@pytest.mark.parametrize(
    ("domain", "bad", "later_bad"),
    [
        (uniform(0.0, 1.0), float("nan"), 2.0),
        (uniform(0.0, 1.0), 1.5, -1),
        (uniform(0.0, 1.0), True, 2.0),
        (uniform(0.0, 1.0), "0.5", None),
        (uniform(0.0, 2.0**53), 2**53 + 1, 2**54),  # exceeds upper, unlike float(2**53 + 1)
        (loguniform(1e-4, 1.0), 0.0, -1.0),
        (loguniform(1e-4, 1.0), np.bool_(True), 2.0),
        (randint(1, 10), 11, 0),
        (randint(1, 10), 2.0, 3.0),
        (randint(1, 10), True, 11),
        (randint(-(2**70), 2**70), 2**71, -(2**71)),
        (lograndint(1, 100), 0, 101),
        (lograndint(1, 100), np.int32(101), 102),
        (choice(["a", 1]), "b", "c"),
        (choice(["a", 1]), True, 2),
        (choice([1.5, 2]), float("inf"), 3),
        (finrange(0.0, 0.6, 3), 0.2, 0.7),
        (finrange(0.0, 0.6, 3), 0.3 * (1 + 1e-8), 0.7),
        (finrange(0.0, 0.6, 3), Fraction(1, 5), 0.7),
        (finrange(1, 7, 4, cast_int=True), 1.0, 2),
        (finrange(1, 7, 4, cast_int=True), 2, 0),
        (ordinal([1, 2, 5]), 3, 4),
        (ordinal(["s", "m"], kind="equal"), "l", "xl"),
    ],
)
def test_encode_array_reports_the_first_bad_value(domain: Domain, bad: Any, later_bad: Any) -> None:
    valid = domain.sample_many(np.random.default_rng(0), 3)
    assert not domain.contains(bad) and not domain.contains(later_bad)
    for values in ([bad], [*valid, bad, *valid], [*valid, bad, *valid, later_bad]):
        with pytest.raises(ValueError) as err:
            domain.encode_array(values)
        assert str(err.value) == f"cannot encode {bad!r}: it is outside the domain {domain!r}"
        with pytest.raises(ValueError) as err:
            domain.encode(bad)
        assert str(err.value) == f"cannot encode {bad!r}: it is outside the domain {domain!r}"


@pytest.mark.parametrize(
    ("domain", "value"),
    [
        (randint(2**70, 2**70), 2**70),
        (randint(-(2**70), -(2**70)), -(2**70)),
        (lograndint(2**60, 2**60), 2**60),
        (lograndint(3, 3), 3),
        (finrange(2.5, 2.5, 1), 2.5),
        (choice(["x"]), "x"),
    ],
)
def test_single_value_domains_sample_their_value(domain: Domain, value: Any) -> None:
    rng = np.random.default_rng(1)
    draws = [domain.sample(rng), *domain.sample_many(rng, 5)]
    draws += [c["h"] for c in sp.sample_configs({"h": domain}, 5, rng)]
    assert all(v == value and type(v) is type(value) for v in draws)


def test_finrange_tie_goes_to_the_lower_value() -> None:
    # 1e-12 is within the absolute tolerance of both grid values, and equally near to both.
    domain = finrange(0.0, 2e-12, 2)
    assert domain.index(1e-12) == 0
    assert domain.encode_array([1e-12, 2e-12]).tolist() == [[0.0], [1.0]]


def test_encode_many_example() -> None:
    space = {
        "lr": loguniform(1e-4, 1.0),
        "act": choice(["relu", "tanh"]),
        "layers": randint(1, 4),
        "epochs": 81,
    }
    enc = SpaceEncoder(space)
    configs = [
        {"lr": 1e-2, "act": "tanh", "layers": 1, "epochs": 81},
        {"lr": 1.0, "act": "relu", "layers": 4},
    ]
    expected = np.array([[0.5, 0.0, 1.0, 0.125], [1.0, 1.0, 0.0, 0.875]])
    assert enc.encode_many(configs) == pytest.approx(expected)
    assert enc.encode_many([]).shape == (0, 4)
    with pytest.raises(ValueError, match=r"missing hyperparameter 'layers' \(domain randint"):
        enc.encode_many([*configs, {"lr": 0.1, "act": "relu"}])
    with pytest.raises(ValueError, match=r"^hyperparameter 'act': cannot encode 'gelu': it is"):
        enc.encode_many([configs[0], configs[1] | {"act": "gelu"}])
