"""Tests for hpo_core.space: domains, sampling, midpoint rule, encodings and serialisation."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
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
    logordinal,
    lograndint,
    loguniform,
    ordinal,
    randint,
    uniform,
)

FAST = settings(max_examples=40, deadline=None)

DOMAINS: list[Domain] = [
    uniform(-2.0, 3.0),
    loguniform(1e-4, 1.0),
    randint(1, 10),
    randint(-3, -3),
    lograndint(1, 100),
    lograndint(3, 3),
    choice(["tanh", "relu"]),
    choice([0.0005, 0.001, 0.1]),
    choice([True, 1, "1", 2.5]),
    finrange(0.0, 0.6, 3),
    finrange(1, 7, 4, cast_int=True),
    finrange(2.5, 2.5, 1),
    logfinrange(8, 64, 4, cast_int=True),
    logfinrange(1e-3, 1.0, 4),
    ordinal(["s", "m", "l", "xl"], kind="equal"),
    ordinal([1, 2, 4, 10]),
    logordinal([0.001, 0.005, 0.01, 0.05, 0.1]),
]
DISCRETE = [d for d in DOMAINS if d.values is not None]
NEAREST_DOMAINS = [d for d in DISCRETE if d.encoded_dim == 1 and not isinstance(d, LogRandInt)]
DISCRETE_KINDS = (
    "randint",
    "lograndint",
    "choice",
    "fin",
    "fin_int",
    "logfin",
    "ordinal_equal",
    "ordinal_nn",
    "ordinal_log",
)
PLAIN_TYPES = (int, float, str, bool)

FCNET_SPACE: dict[str, Any] = {
    "hp_activation_fn_1": choice(["tanh", "relu"]),
    "hp_activation_fn_2": choice(["tanh", "relu"]),
    "hp_batch_size": logfinrange(8, 64, 4, cast_int=True),
    "hp_dropout_1": finrange(0.0, 0.6, 3),
    "hp_dropout_2": finrange(0.0, 0.6, 3),
    "hp_init_lr": choice([0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]),
    "hp_lr_schedule": choice(["cosine", "const"]),
    "hp_n_units_1": logfinrange(16, 512, 6, cast_int=True),
    "hp_n_units_2": logfinrange(16, 512, 6, cast_int=True),
    "epochs": 100,
}

MIXED_SPACE: dict[str, Any] = {
    "lr": loguniform(1e-4, 1.0),
    "momentum": uniform(0.0, 0.99),
    "epochs": 81,
    "layers": randint(1, 4),
    "width": lograndint(16, 1024),
    "act": choice(["relu", "tanh", "gelu"]),
    "dropout": finrange(0.0, 0.5, 6),
    "batch": logfinrange(16, 256, 5, cast_int=True),
    "size": ordinal(["s", "m", "l"], kind="equal"),
    "wd": logordinal([1e-5, 1e-4, 1e-3]),
    "dataset": "cifar10",
}


def _ids(domains: list[Domain]) -> list[str]:
    return [repr(d) for d in domains]


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS, ids=_ids(DOMAINS))
def test_samples_are_plain_values_inside_domain(domain: Domain) -> None:
    rng = np.random.default_rng(0)
    draws = [domain.sample(rng) for _ in range(100)] + domain.sample_many(rng, 300)
    assert all(domain.contains(v) for v in draws)
    assert all(type(v) in PLAIN_TYPES for v in draws)


@pytest.mark.parametrize("domain", DOMAINS, ids=_ids(DOMAINS))
def test_sampling_reproducible_per_seed(domain: Domain) -> None:
    def draw(seed: int) -> list[Any]:
        rng = np.random.default_rng(seed)
        return [domain.sample(rng) for _ in range(30)] + domain.sample_many(rng, 30)

    assert draw(1) == draw(1)
    if domain.cardinality != 1:
        assert draw(1) != draw(2)


@pytest.mark.parametrize("domain", DISCRETE, ids=_ids(DISCRETE))
def test_sampling_reaches_every_value(domain: Domain) -> None:
    # Also catches an exclusive upper bound (randint's upper end must be drawn).
    assert domain.values is not None
    seen = domain.sample_many(np.random.default_rng(3), 3000)
    keys = {(type(v) is bool, v) for v in seen}
    assert keys == {(type(v) is bool, v) for v in domain.values}


def test_sampling_distributions() -> None:
    rng = np.random.default_rng(42)
    n = 20_000
    # Log-scale domains put half of their mass below the geometric mean.
    below = np.mean(np.array(loguniform(1e-4, 1.0).sample_many(rng, n)) < 1e-2)
    assert abs(below - 0.5) < 0.02
    ints = np.array(lograndint(1, 1000).sample_many(rng, n))
    assert 0.4 < np.mean(ints <= 31) < 0.6
    assert abs(np.mean(uniform(-2.0, 3.0).sample_many(rng, n)) - 0.5) < 0.05
    counts = np.bincount(randint(1, 4).sample_many(rng, n), minlength=5)[1:]
    assert np.all(np.abs(counts / n - 0.25) < 0.02)


@pytest.mark.parametrize("domain", DOMAINS, ids=_ids(DOMAINS))
def test_sample_and_sample_many_share_one_stream(domain: Domain) -> None:
    one = domain.sample(np.random.default_rng(7))
    many = domain.sample_many(np.random.default_rng(7), 1)
    if isinstance(one, float):
        # numpy's vectorised exp may differ from math.exp in the last bit.
        assert math.isclose(one, many[0], rel_tol=1e-12)
    else:
        assert one == many[0]


def test_sample_many_size() -> None:
    assert uniform(0.0, 1.0).sample_many(np.random.default_rng(0), 0) == []
    with pytest.raises(ValueError, match="size"):
        randint(1, 3).sample_many(np.random.default_rng(0), -1)


def test_sample_config_keeps_order_constants_and_stream() -> None:
    config = sp.sample_config(MIXED_SPACE, np.random.default_rng(5))
    assert list(config) == list(MIXED_SPACE)
    assert config["epochs"] == 81 and config["dataset"] == "cifar10"
    sp.validate_config(MIXED_SPACE, config)
    # Same numbers as drawing the hyperparameters one after the other.
    rng = np.random.default_rng(5)
    one_by_one = {k: v.sample(rng) if isinstance(v, Domain) else v for k, v in MIXED_SPACE.items()}
    assert config == one_by_one
    assert config != sp.sample_config(MIXED_SPACE, np.random.default_rng(6))
    json.dumps(config)


# ---------------------------------------------------------------------------------------------
# Membership
# ---------------------------------------------------------------------------------------------


def test_contains_edge_cases() -> None:
    assert randint(1, 10).contains(np.int64(3))
    assert not randint(1, 10).contains(3.0)
    assert not randint(0, 10).contains(True)
    assert not randint(1, 10).contains(11)
    assert not uniform(0.0, 1.0).contains(True)
    assert not uniform(0.0, 1.0).contains(float("nan"))
    assert uniform(0.0, 1.0).contains(1) and uniform(0.0, 1.0).contains(np.float64(0.5))
    assert not loguniform(1e-4, 1.0).contains(1.5)
    fr = finrange(0.0, 0.6, 3)
    assert fr.contains(0.1 + 0.2) and fr.contains(np.float64(0.6))
    assert not fr.contains(0.31) and not fr.contains("0.3")
    ints = logfinrange(8, 64, 4, cast_int=True)
    assert ints.contains(16) and not ints.contains(16.0) and not ints.contains(24)
    ch = choice([1, "a", False])
    assert ch.contains(1) and ch.contains(np.int64(1)) and ch.contains(False)
    assert not ch.contains(True) and not ch.contains(0) and not ch.contains([1])
    assert not ordinal([1, 2, 4]).contains(3)


def test_values_and_cardinality() -> None:
    assert randint(1, 4).values == [1, 2, 3, 4] and randint(1, 4).cardinality == 4
    assert lograndint(2, 5).values == [2, 3, 4, 5]
    assert uniform(0.0, 1.0).values is None and uniform(0.0, 1.0).cardinality is None
    assert loguniform(0.1, 1.0).cardinality is None
    assert finrange(0.0, 1.0, 5).values == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert finrange(3.0, 9.0, 1).values == [3.0]
    assert finrange(0, 10, 3, cast_int=True).values == [0, 5, 10]
    assert all(type(v) is int for v in finrange(0, 10, 3, cast_int=True).values)
    lf = logfinrange(1e-3, 1.0, 4).values
    assert lf is not None and lf[0] == 1e-3 and lf[-1] == 1.0
    assert np.allclose(lf, [1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    assert choice(["b", "a"]).values == ["b", "a"]
    assert logordinal([1, 10]).cardinality == 2


# ---------------------------------------------------------------------------------------------
# Midpoint rule
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        (uniform(-2.0, 3.0), 0.5),
        (loguniform(1e-4, 1.0), 0.01),
        (randint(1, 10), 6),  # (1 + 10) / 2 = 5.5 rounds half up
        (randint(0, 4), 2),
        (randint(-3, 0), -1),  # -1.5 rounds half up
        (lograndint(1, 100), 10),
        (lograndint(4, 10), 6),  # sqrt(40) = 6.32
        (choice(["b", "a", "c"]), "b"),
        (finrange(0.0, 0.6, 3), 0.3),
        (finrange(0, 10, 3, cast_int=True), 5),
        (finrange(0.0, 1.0, 1), 0.0),
        (logfinrange(8, 64, 4, cast_int=True), 16),  # 16 is nearer to sqrt(512) = 22.6 than 32
        (logfinrange(16, 512, 6, cast_int=True), 64),  # sqrt(8192) = 90.5
        (ordinal(["s", "m", "l", "xl"], kind="equal"), "m"),
        (ordinal(["s", "m", "l"], kind="equal"), "m"),
        (ordinal([1, 2, 4, 10]), 4),  # linear middle 5.5
        (logordinal([0.001, 0.005, 0.01, 0.05, 0.1]), 0.01),
        (logordinal([1, 2, 100]), 2),  # log middle 10 is nearest (in value) to 2
    ],
    ids=repr,
)
def test_midpoint_rule(domain: Domain, expected: Any) -> None:
    mid = domain.midpoint()
    assert mid == pytest.approx(expected, rel=1e-12) if isinstance(mid, float) else mid == expected
    assert type(mid) is type(expected)
    assert domain.contains(mid)


def test_midpoint_config() -> None:
    config = sp.midpoint_config(FCNET_SPACE)
    assert config == {
        "hp_activation_fn_1": "tanh",
        "hp_activation_fn_2": "tanh",
        "hp_batch_size": 16,
        "hp_dropout_1": 0.3,
        "hp_dropout_2": 0.3,
        "hp_init_lr": 0.0005,
        "hp_lr_schedule": "cosine",
        "hp_n_units_1": 64,
        "hp_n_units_2": 64,
        "epochs": 100,
    }


def test_complete_config_fills_by_midpoint_rule() -> None:
    config = sp.complete_config(MIXED_SPACE, {"act": "gelu", "lr": 0.1})
    expected = sp.midpoint_config(MIXED_SPACE) | {"act": "gelu", "lr": 0.1}
    assert config == expected
    assert list(config) == list(MIXED_SPACE)
    assert sp.complete_config(MIXED_SPACE, {}) == sp.midpoint_config(MIXED_SPACE)
    assert sp.complete_config(MIXED_SPACE, {"epochs": 81})["epochs"] == 81
    completed = sp.complete_config(MIXED_SPACE, {"layers": np.int64(2)})
    assert type(completed["layers"]) is int
    json.dumps(completed)


def test_complete_config_rejects_invalid_partials() -> None:
    with pytest.raises(ValueError, match=r"'lr' = 5\.0 is outside its domain loguniform"):
        sp.complete_config(MIXED_SPACE, {"lr": 5.0})
    with pytest.raises(ValueError, match="unknown key"):
        sp.complete_config(MIXED_SPACE, {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="constant 'epochs'"):
        sp.complete_config(MIXED_SPACE, {"epochs": 10})


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def test_encodings_by_example() -> None:
    assert uniform(-2.0, 3.0).encode(0.5).tolist() == [0.5]
    assert loguniform(1e-4, 1.0).encode(1e-2)[0] == pytest.approx(0.5)
    assert randint(1, 10).encode(1)[0] == pytest.approx(0.05)
    assert randint(1, 10).encode(10)[0] == pytest.approx(0.95)
    assert randint(1, 10).decode([0.0]) == 1 and randint(1, 10).decode([1.0]) == 10
    assert randint(1, 10).decode([0.1]) == 2  # cell of 2 is [0.1, 0.2)
    lri = lograndint(1, 100)
    assert lri.encode(1)[0] == pytest.approx(math.log(1 / 0.5) / math.log(100.5 / 0.5))
    assert choice(["a", "b", "c"]).encode("b").tolist() == [0.0, 1.0, 0.0]
    assert choice(["a", "b", "c"]).decode([0.2, 0.7, 0.7]) == "b"  # first of tied maxima
    assert finrange(0.0, 0.6, 3).encode(0.6).tolist() == [1.0]
    assert finrange(0.0, 0.6, 3).decode([0.76]) == 0.6
    assert finrange(0.0, 0.6, 3).decode([0.24]) == 0.0
    assert finrange(2.0, 2.0, 1).encode(2.0).tolist() == [0.5]
    assert logfinrange(8, 64, 4, cast_int=True).encode(16)[0] == pytest.approx(1 / 3)
    assert ordinal(["s", "m", "l"], kind="equal").encode("m").tolist() == [0.5]
    assert ordinal([1, 2, 5]).encode(2)[0] == pytest.approx(0.25)
    assert logordinal([1, 10, 100]).encode(10)[0] == pytest.approx(0.5)


def test_logordinal_decodes_to_nearest_in_log_scale() -> None:
    cats = [0.001, 0.005, 0.01]
    log_dom, lin_dom = logordinal(cats), ordinal(cats, kind="nn")

    def log_pos(v: float) -> float:
        return math.log(v / 0.001) / math.log(0.01 / 0.001)

    # 0.0028 is nearer to 0.001 in value but nearer to 0.005 in log scale.
    assert log_dom.decode([log_pos(0.0028)]) == 0.005
    assert lin_dom.decode([(0.0028 - 0.001) / 0.009]) == 0.001
    halfway = log_pos(math.sqrt(0.001 * 0.005))
    assert log_dom.decode([halfway - 1e-9]) == 0.001
    assert log_dom.decode([halfway + 1e-9]) == 0.005
    assert log_dom.decode([5.0]) == 0.01 and log_dom.decode([-5.0]) == 0.001


def test_decode_rejects_nan_and_wrong_length() -> None:
    with pytest.raises(ValueError, match="NaN"):
        uniform(0.0, 1.0).decode([float("nan")])
    with pytest.raises(ValueError, match="length 3"):
        choice(["a", "b", "c"]).decode([0.1, 0.2])
    with pytest.raises(ValueError, match="outside the domain randint"):
        randint(1, 3).encode(7)


@st.composite
def discrete_domains(draw: st.DrawFn) -> Domain:
    kind = draw(st.sampled_from(DISCRETE_KINDS))
    if kind == "randint":
        low = draw(st.integers(-(10**9), 10**9))
        return randint(low, low + draw(st.integers(0, 10**6)))
    if kind == "lograndint":
        low = draw(st.integers(1, 10**6))
        return lograndint(low, low + draw(st.integers(0, 10**9)))
    if kind == "choice" or kind == "ordinal_equal":
        atoms = st.one_of(
            st.text(max_size=4),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
        )
        # Same notion of "distinct" as the module: True is not 1, but 1 and 1.0 are the same.
        cats = draw(
            st.lists(atoms, min_size=1, max_size=8, unique_by=lambda v: (type(v) is bool, v))
        )
        return choice(cats) if kind == "choice" else ordinal(cats, kind="equal")
    if kind == "fin":
        lower = draw(st.floats(-1e6, 1e6))
        width = draw(st.floats(1e-3, 1e6))
        return finrange(lower, lower + width, draw(st.integers(1, 50)))
    if kind == "fin_int":
        low, step, size = (
            draw(st.integers(-1000, 1000)),
            draw(st.integers(1, 50)),
            draw(st.integers(1, 30)),
        )
        return finrange(low, low + step * (size - 1), size, cast_int=True)
    if kind == "logfin":
        lower = draw(st.floats(1e-6, 1e3))
        cast = draw(st.booleans())
        upper = lower * draw(st.floats(1.5, 1e6))
        try:
            return logfinrange(lower, upper, draw(st.integers(1, 30)), cast_int=cast)
        except ValueError:  # e.g. cast_int rounding two grid values to the same int
            assume(False)
    numbers = st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=8, unique=True).map(sorted)
    try:
        return ordinal(draw(numbers), kind="nn" if kind == "ordinal_nn" else "nn-log")
    except ValueError:  # categories too close to be told apart
        assume(False)
    raise AssertionError("unreachable")


@FAST
@given(data=st.data())
def test_discrete_round_trip_is_exact(data: st.DataObject) -> None:
    domain = data.draw(discrete_domains())
    if isinstance(domain, RandInt | LogRandInt):
        # Their ranges are too wide to list; draw from the range itself.
        value = data.draw(st.integers(domain.lower, domain.upper))
    else:
        values = domain.values
        assert values is not None and len(values) == domain.cardinality
        value = data.draw(st.sampled_from(values))
    x = domain.encode(value)
    assert x.shape == (domain.encoded_dim,)
    assert np.all((x >= 0.0) & (x <= 1.0))
    back = domain.decode(x)
    assert back == value and type(back) is type(value)


@FAST
@given(
    lower=st.floats(-1e6, 1e6),
    width=st.floats(1e-6, 1e6),
    frac=st.floats(0.0, 1.0),
)
def test_uniform_round_trip(lower: float, width: float, frac: float) -> None:
    domain = uniform(lower, lower + width)
    value = min(domain.lower + frac * (domain.upper - domain.lower), domain.upper)
    back = domain.decode(domain.encode(value))
    assert domain.contains(back)
    assert abs(back - value) <= 1e-12 * (domain.upper - domain.lower)


@FAST
@given(lower=st.floats(1e-8, 1e3), ratio=st.floats(1.001, 1e8), frac=st.floats(0.0, 1.0))
def test_loguniform_round_trip(lower: float, ratio: float, frac: float) -> None:
    domain = loguniform(lower, lower * ratio)
    value = min(max(lower * ratio**frac, domain.lower), domain.upper)
    back = domain.decode(domain.encode(value))
    assert domain.contains(back)
    assert back == pytest.approx(value, rel=1e-12)


any_reals = st.floats(allow_nan=False, allow_infinity=True)


@FAST
@given(domain=st.sampled_from(DOMAINS), data=st.data())
def test_decode_of_any_vector_is_valid(domain: Domain, data: st.DataObject) -> None:
    x = data.draw(st.lists(any_reals, min_size=domain.encoded_dim, max_size=domain.encoded_dim))
    assert domain.contains(domain.decode(np.array(x)))


@FAST
@given(data=st.data())
def test_decode_is_nearest_value(data: st.DataObject) -> None:
    # Nearest-neighbour semantics for 1-d finite encodings: no other value encodes closer.
    # lograndint is left out: it rounds in value (cells [k - 0.5, k + 0.5]), not in log position.
    domain = data.draw(st.sampled_from(NEAREST_DOMAINS))
    t = data.draw(st.floats(0.0, 1.0))
    assert domain.values is not None
    positions = [domain.encode(v)[0] for v in domain.values]
    got = domain.encode(domain.decode([t]))[0]
    assert abs(got - t) <= min(abs(p - t) for p in positions) + 1e-12


# ---------------------------------------------------------------------------------------------
# SpaceEncoder
# ---------------------------------------------------------------------------------------------


def test_space_encoder_layout() -> None:
    enc = SpaceEncoder(MIXED_SPACE)
    assert enc.names == [k for k in MIXED_SPACE if k not in ("epochs", "dataset")]
    assert enc.dim == 11
    assert enc.slices["act"] == slice(4, 7) and enc.slices["wd"] == slice(10, 11)
    x = enc.encode(sp.midpoint_config(MIXED_SPACE))
    assert x.shape == (11,) and np.all((x >= 0.0) & (x <= 1.0))
    assert x[enc.slices["act"]].tolist() == [1.0, 0.0, 0.0]


def test_space_encoder_round_trips() -> None:
    rng = np.random.default_rng(11)
    configs = [sp.sample_config(MIXED_SPACE, rng) for _ in range(50)]
    enc = SpaceEncoder(MIXED_SPACE)
    xs = enc.encode_many(configs)
    assert xs.shape == (50, enc.dim)
    # Equal but for the log-scale entries, where numpy's log may be one ulp off math.log.
    single, log_scale = enc.encode(configs[3]), [enc.slices["lr"].start, enc.slices["width"].start]
    assert np.array_equal(np.delete(xs[3], log_scale), np.delete(single, log_scale))
    assert xs[3][log_scale] == pytest.approx(single[log_scale], rel=0, abs=1e-15)
    for config, x in zip(configs, xs, strict=True):
        back = enc.decode(x)
        assert list(back) == list(MIXED_SPACE)
        for name, value in config.items():
            if name in ("lr", "momentum"):
                assert back[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
            else:
                assert back[name] == value
    assert enc.decode_many(xs)[0]["dataset"] == "cifar10"


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_space_encoder_exact_for_discrete_space(seed: int) -> None:
    enc = SpaceEncoder(FCNET_SPACE)
    config = sp.sample_config(FCNET_SPACE, np.random.default_rng(seed))
    assert enc.decode(enc.encode(config)) == config


@FAST
@given(x=st.lists(any_reals, min_size=11, max_size=11))
def test_space_encoder_decodes_any_vector_to_valid_config(x: list[float]) -> None:
    config = SpaceEncoder(MIXED_SPACE).decode(np.array(x))
    sp.validate_config(MIXED_SPACE, config)
    assert config["epochs"] == 81


def test_space_encoder_errors_name_the_hyperparameter() -> None:
    enc = SpaceEncoder(MIXED_SPACE)
    config = sp.midpoint_config(MIXED_SPACE)
    with pytest.raises(ValueError, match=r"'act'.*outside the domain choice"):
        enc.encode(config | {"act": "sigmoid"})
    with pytest.raises(ValueError, match="missing hyperparameter 'lr'"):
        enc.encode({k: v for k, v in config.items() if k != "lr"})
    with pytest.raises(ValueError, match="length 11"):
        enc.decode(np.zeros(10))


# ---------------------------------------------------------------------------------------------
# Validation and errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: uniform(1.0, 1.0), r"uniform: lower \(1\.0\) must be < upper \(1\.0\)"),
        (lambda: uniform(0.0, float("inf")), "uniform: upper must be a finite real number"),
        (
            lambda: uniform("0", 1.0),  # type: ignore[arg-type]
            "uniform: lower must be a finite real number, got '0'",
        ),
        (lambda: loguniform(-1, 1), "loguniform: lower must be > 0, got -1"),
        (lambda: loguniform(0.5, 0.1), r"loguniform: lower \(0\.5\) must be < upper"),
        (lambda: randint(5, 3), r"randint: lower \(5\) must be <= upper \(3\)"),
        (
            lambda: randint(1.5, 3),  # type: ignore[arg-type]
            "randint: lower must be an int, got 1.5",
        ),
        (lambda: randint(1, True), "randint: upper must be an int, got True"),
        (lambda: lograndint(0, 3), "lograndint: lower must be >= 1, got 0"),
        (lambda: choice([]), "choice: categories must be a non-empty list"),
        (lambda: choice("abc"), "choice: categories must be a non-empty list"),
        (lambda: choice(["a", "a"]), "choice: categories must be distinct"),
        (lambda: choice([None]), "choice: categories must be finite str, int, float or bool"),
        (lambda: finrange(0.0, 1.0, 0), "finrange: size must be >= 1, got 0"),
        (lambda: finrange(1.0, 0.0, 3), r"finrange: lower \(1\.0\) must be < upper \(0\.0\)"),
        (lambda: finrange(0.5, 3.5, 4, cast_int=True), "finrange: values must be distinct"),
        (lambda: logfinrange(0, 10, 3), "logfinrange: lower must be > 0, got 0"),
        (
            lambda: ordinal([1, 2], kind="foo"),
            r"ordinal: kind must be one of \['equal', 'nn', 'nn-log'\], got 'foo'",
        ),
        (lambda: ordinal([2, 1]), "ordinal: kind='nn' requires numeric, strictly increasing"),
        (lambda: ordinal(["a", "b"]), "ordinal: kind='nn' requires numeric"),
        (lambda: logordinal([0, 1]), "logordinal: kind='nn-log' requires positive numeric"),
    ],
)
def test_constructor_errors_name_the_argument(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_check_space() -> None:
    sp.check_space(MIXED_SPACE)
    with pytest.raises(
        ValueError, match=re.escape("no hyperparameters to search over: {'epochs': 81}")
    ):
        sp.check_space({"epochs": 81})
    with pytest.raises(ValueError, match="no hyperparameters"):
        sp.check_space({})
    with pytest.raises(ValueError, match="must be a dict"):
        sp.check_space([("lr", uniform(0.0, 1.0))])
    with pytest.raises(ValueError, match=r"keys must be str, got \[3\]"):
        sp.check_space({3: uniform(0.0, 1.0)})


def test_validate_config_messages() -> None:
    space = {"lr": loguniform(1e-4, 1.0), "act": choice(["relu", "tanh"]), "epochs": 81}
    sp.validate_config(space, {"lr": 0.1, "act": "relu", "epochs": 81})
    sp.validate_config(space, {"lr": 0.1, "act": "relu"})  # constants may be left out
    with pytest.raises(ValueError) as err:
        sp.validate_config(space, {"lr": 5.0, "act": "relu"})
    assert str(err.value) == (
        "hyperparameter 'lr' = 5.0 is outside its domain loguniform(0.0001, 1.0)"
    )
    with pytest.raises(ValueError, match=r"missing hyperparameter 'act' \(domain choice"):
        sp.validate_config(space, {"lr": 0.1})
    with pytest.raises(ValueError, match=r"constant 'epochs' must be 81, got 80"):
        sp.validate_config(space, {"lr": 0.1, "act": "relu", "epochs": 80})
    with pytest.raises(ValueError, match=r"\['momentum'\]; allowed keys are \['lr', 'act', 'ep"):
        sp.validate_config(space, {"lr": 0.1, "act": "relu", "momentum": 0.9})


def test_hyperparameters_constants_and_config_key() -> None:
    assert list(sp.hyperparameters(MIXED_SPACE)) == SpaceEncoder(MIXED_SPACE).names
    assert sp.constants(MIXED_SPACE) == {"epochs": 81, "dataset": "cifar10"}
    a = sp.midpoint_config(MIXED_SPACE)
    key = sp.config_key(MIXED_SPACE, a)
    assert hash(key) == hash(sp.config_key(MIXED_SPACE, dict(a)))
    assert len(key) == 9 and key[0] == a["lr"]
    assert sp.config_key(MIXED_SPACE, a | {"dataset": "other"}) == key
    assert sp.config_key(MIXED_SPACE, a | {"layers": 1}) != key
    with pytest.raises(ValueError, match="missing hyperparameter 'lr'"):
        sp.config_key(MIXED_SPACE, {"momentum": 0.5})


# ---------------------------------------------------------------------------------------------
# Value semantics, repr and serialisation
# ---------------------------------------------------------------------------------------------


def test_domains_are_frozen_values() -> None:
    assert uniform(0, 1) == uniform(0.0, 1.0) and hash(uniform(0, 1)) == hash(uniform(0.0, 1.0))
    assert uniform(0.1, 1.0) != loguniform(0.1, 1.0)
    assert randint(1, 3) != lograndint(1, 3)
    assert ordinal([1, 2], kind="nn") != ordinal([1, 2], kind="equal")
    assert len({choice(["a", "b"]), choice(("a", "b")), choice(["b", "a"])}) == 2
    assert isinstance(finrange(0.0, 1.0, 3), FiniteRange)
    assert isinstance(logordinal([1, 2]), Ordinal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        randint(1, 3).lower = 0  # type: ignore[misc]


@pytest.mark.parametrize("domain", DOMAINS, ids=_ids(DOMAINS))
def test_repr_is_factory_syntax(domain: Domain) -> None:
    namespace = {name: getattr(sp, name) for name in sp.__all__}
    assert eval(repr(domain), namespace) == domain
    assert str(domain) == repr(domain)


def test_repr_examples() -> None:
    assert repr(loguniform(1e-4, 1.0)) == "loguniform(0.0001, 1.0)"
    assert repr(randint(1, 10)) == "randint(1, 10)"
    assert repr(logfinrange(8, 64, 4, cast_int=True)) == "logfinrange(8, 64, 4, cast_int=True)"
    assert repr(choice(["tanh", "relu"])) == "choice(['tanh', 'relu'])"
    assert repr(logordinal([1, 10])) == "logordinal([1, 10])"


def test_json_round_trip() -> None:
    space = MIXED_SPACE | {"fixed": [1, 2], "flag": True, "cat": choice([True, 1, "1", 2.5])}
    text = sp.space_to_json(space)
    assert sp.space_from_json(text) == space
    assert sp.space_from_dict(sp.space_to_dict(FCNET_SPACE)) == FCNET_SPACE
    as_dict = json.loads(text)
    assert as_dict["lr"] == {"type": "loguniform", "lower": 1e-4, "upper": 1.0}
    assert as_dict["epochs"] == {"type": "constant", "value": 81}
    assert as_dict["batch"]["type"] == "logfinrange"
    restored = sp.space_from_json(text)
    assert [type(v) for v in restored.values()] == [type(v) for v in space.values()]
    assert type(restored["cat"].categories[0]) is bool


def test_json_errors() -> None:
    with pytest.raises(ValueError, match="type must be one of"):
        sp.space_from_dict({"lr": {"type": "gaussian", "mean": 0.0}})
    with pytest.raises(ValueError, match="type must be one of"):
        sp.space_from_dict({"lr": {"type": ["uniform"]}})
    with pytest.raises(ValueError, match="lacks field 'upper'"):
        sp.space_from_dict({"lr": {"type": "uniform", "lower": 0.0}})
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        sp.space_to_json({"lr": uniform(0.0, 1.0), "f": object()})


# ---------------------------------------------------------------------------------------------
# The fcnet space (Syne Tune)
# ---------------------------------------------------------------------------------------------


def test_fcnet_space_values_and_size() -> None:
    hps = sp.hyperparameters(FCNET_SPACE)
    assert hps["hp_batch_size"].values == [8, 16, 32, 64]
    assert hps["hp_dropout_1"].values == [0.0, 0.3, 0.6]
    assert hps["hp_n_units_1"].values == [16, 32, 64, 128, 256, 512]
    assert hps["hp_init_lr"].values == [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1]
    cards = [d.cardinality for d in hps.values()]
    assert all(isinstance(c, int) for c in cards)
    size = math.prod(c for c in cards if c is not None)
    assert size == 62_208 == 2 * 2 * 4 * 3 * 3 * 6 * 2 * 6 * 6
    # Enumerating the grid gives that many distinct, valid configuration keys.
    grids = [d.values for d in hps.values()]
    keys = {tuple(combo) for combo in itertools.product(*[g for g in grids if g is not None])}
    assert len(keys) == 62_208
    assert sp.config_key(FCNET_SPACE, sp.midpoint_config(FCNET_SPACE)) in keys
    assert SpaceEncoder(FCNET_SPACE).dim == 17


def test_fcnet_types() -> None:
    hps = sp.hyperparameters(FCNET_SPACE)
    assert isinstance(hps["hp_activation_fn_1"], Categorical)
    assert isinstance(hps["hp_batch_size"], FiniteRange)
    for cls in (Uniform, LogUniform, RandInt, LogRandInt):
        assert not any(isinstance(d, cls) for d in hps.values())
