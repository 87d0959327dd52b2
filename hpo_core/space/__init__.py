"""Configuration spaces: hyperparameter domains, sampling, the midpoint rule and encodings.

A configuration space is a plain ``dict[str, Domain | Any]``. Values that are :class:`Domain`
instances are hyperparameters; any other value is a constant that is passed through unchanged
to every configuration (e.g. ``"epochs": 81``). The semantics follow Syne Tune's config space::

    config_space = {
        "lr": loguniform(1e-4, 1.0),
        "batch_size": logfinrange(8, 64, 4, cast_int=True),
        "activation": choice(["tanh", "relu"]),
        "epochs": 81,
    }

Every domain can

* draw values (:meth:`Domain.sample`, :meth:`Domain.sample_many`; whole configurations with
  :func:`sample_config` and, one numpy call per hyperparameter, :func:`sample_configs`) from a
  :class:`numpy.random.Generator` that the caller passes in; there is no global random state,
* test membership (:meth:`Domain.contains`),
* give its default value by the *midpoint rule* (:meth:`Domain.midpoint`), which is what
  ``points_to_evaluate`` defaults to,
* map values to vectors in ``[0, 1]^d`` and back (:meth:`Domain.encode`, :meth:`Domain.decode`;
  :meth:`Domain.encode_array` for many values at once), which model-based searchers work with.
  Decoding accepts any vector (entries are clipped to ``[0, 1]`` first) and returns the nearest
  valid value, so an optimizer working in the unit cube always ends up with a valid
  configuration. ``decode(encode(v)) == v`` holds exactly for every discrete domain.

Midpoint rule (ties between two equally near values resolve to the lower one):

==================  ========================================================================
``uniform``         ``(lower + upper) / 2``
``loguniform``      ``sqrt(lower * upper)``
``randint``         ``(lower + upper) / 2`` rounded half up, e.g. ``randint(1, 10)`` -> 6
``lograndint``      ``sqrt(lower * upper)`` rounded to the nearest int
``choice``          the first category
``finrange``        the grid value nearest (in value) to ``(lower + upper) / 2``
``logfinrange``     the grid value nearest (in value) to ``sqrt(lower * upper)``, e.g.
                    ``logfinrange(8, 64, 4, cast_int=True)`` -> 16 (``sqrt(512)`` ~ 22.6)
``ordinal``         ``kind="equal"``: ``categories[(n - 1) // 2]``; ``kind="nn"``: the category
                    nearest to the middle of ``[first, last]``; ``kind="nn-log"``: the category
                    nearest to ``sqrt(first * last)``
==================  ========================================================================

The implementation is split into submodules; import everything from ``hpo_core.space``:

==========================  ===================================================================
``space.domains``           the :class:`Domain` base class and helpers shared by the domains
``space.ranges``            :class:`Uniform`, :class:`LogUniform`, :class:`RandInt`,
                            :class:`LogRandInt`
``space.finite``            :class:`Categorical`, :class:`FiniteRange`, :class:`Ordinal`
``space.factories``         ``uniform``, ``loguniform``, ..., ``logordinal``
``space.configs``           space-level functions: sampling, midpoint rule, validation, keys
``space.serialize``         ``space_to_dict`` / ``space_from_dict`` and their JSON versions
``space.encoding``          :class:`SpaceEncoder`
==========================  ===================================================================
"""

from hpo_core.space.configs import (
    check_space,
    complete_config,
    config_key,
    constants,
    hyperparameters,
    midpoint_config,
    sample_config,
    sample_configs,
    validate_config,
)
from hpo_core.space.domains import Domain
from hpo_core.space.encoding import SpaceEncoder
from hpo_core.space.factories import (
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
from hpo_core.space.finite import ORDINAL_KINDS as ORDINAL_KINDS
from hpo_core.space.finite import Categorical, FiniteRange, Ordinal
from hpo_core.space.ranges import LogRandInt, LogUniform, RandInt, Uniform
from hpo_core.space.serialize import space_from_dict, space_from_json, space_to_dict, space_to_json

__all__ = [
    "Categorical",
    "Domain",
    "FiniteRange",
    "LogRandInt",
    "LogUniform",
    "Ordinal",
    "RandInt",
    "SpaceEncoder",
    "Uniform",
    "check_space",
    "choice",
    "complete_config",
    "config_key",
    "constants",
    "finrange",
    "hyperparameters",
    "logfinrange",
    "logordinal",
    "lograndint",
    "loguniform",
    "midpoint_config",
    "ordinal",
    "randint",
    "sample_config",
    "sample_configs",
    "space_from_dict",
    "space_from_json",
    "space_to_dict",
    "space_to_json",
    "uniform",
    "validate_config",
]
