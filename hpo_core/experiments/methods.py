"""Methods registry: the names used in studies, each composing a scheduler from
:class:`MethodArguments`.

A method is a scheduler class, its default keyword arguments and, for config-space variants,
hyperparameters fixed to constants (``ASHA-TANH`` is ASHA with both activations fixed to
``"tanh"``). Adding a method is one entry in :data:`METHODS`.

Example::

    factory = get_method("ASHA-PROM")
    scheduler = factory(method_arguments)

Per-method overrides (the launcher's ``--method_args``) are merged into the arguments with
:func:`apply_method_args` just before a method is created, key by key for nested dicts
(:func:`recursive_merge`), e.g. ``{"scheduler_kwargs": {"grace_period": 3}}``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo_core import space as sp
from hpo_core.experiments.benchmarks import SurrogateBenchmark
from hpo_core.schedulers import (
    DEHBScheduler,
    FIFOScheduler,
    HyperbandScheduler,
    SynchronousHyperbandScheduler,
)
from hpo_core.schedulers.base import Scheduler


class MethodDoesNotFitError(ValueError):
    """A method cannot run on a benchmark (fidelities, or hyperparameters it fixes)."""


@dataclass(frozen=True, kw_only=True)
class MethodArguments:
    """Everything a method needs to build its scheduler.

    Attributes:
        config_space: The configuration space (hyperparameters and constants).
        metric: Name of the reported metric to optimize.
        mode: ``"min"`` or ``"max"``.
        resource_attr: Name of the reported resource (e.g. ``"epoch"``).
        max_resource_attr: Config-space constant holding the maximum resource.
        n_workers: Number of trials running at the same time.
        random_seed: Scheduler seed (the same for every method of a repetition).
        max_size_data_for_model: Upper limit on the data a model-based searcher fits its
            surrogate model to (``None``: no limit); passed to model-based methods only.
        scheduler_kwargs: Scheduler keyword arguments, merged recursively over the method's own
            defaults (the given values win).
    """

    config_space: dict[str, Any]
    metric: str
    mode: str
    resource_attr: str
    max_resource_attr: str
    n_workers: int
    random_seed: int
    max_size_data_for_model: int | None = None
    scheduler_kwargs: dict[str, Any] = field(default_factory=dict)


#: Fields of :class:`MethodArguments`, the keys an override may set.
METHOD_ARGUMENT_FIELDS = tuple(f.name for f in dataclasses.fields(MethodArguments))

#: Scheduler arguments that come from :class:`MethodArguments` fields, not ``scheduler_kwargs``.
_FROM_FIELDS = ("config_space", "metric", "mode", "random_seed", "resource_attr",
                "max_resource_attr")


def recursive_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``; where both values are dicts they are merged the same way.

    Values of ``update`` win; a key only in one of them is kept. The inputs are not modified:
    every dict level of the result is new (leaf values such as lists are shared, not copied).

    Example:
        >>> recursive_merge({"a": 1, "o": {"x": 1, "y": 2}}, {"o": {"y": 3}, "b": 4})
        {'a': 1, 'o': {'x': 1, 'y': 3}, 'b': 4}
    """
    result = {k: _copy_dicts(v) for k, v in base.items()}
    for key, value in update.items():
        old = result.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            result[key] = recursive_merge(old, value)
        else:
            result[key] = _copy_dicts(value)
    return result


def _copy_dicts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy_dicts(v) for k, v in value.items()}
    return value


def _check_positive_int(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        kind = "a positive int or null" if optional else "a positive int"
        raise ValueError(f"method argument {name!r} must be {kind}, got {value!r}")


def check_method_args(overrides: Mapping[str, Any]) -> None:
    """Raise unless ``overrides`` only sets fields of :class:`MethodArguments` with valid types.

    Raises:
        ValueError: Naming the unknown fields and the allowed ones, or the field with a value of
            the wrong type.
    """
    if not isinstance(overrides, Mapping):
        raise ValueError(
            f"method arguments must be a dict of {list(METHOD_ARGUMENT_FIELDS)}, "
            f"got {overrides!r}"
        )
    unknown = [k for k in overrides if k not in METHOD_ARGUMENT_FIELDS]
    if unknown:
        raise ValueError(
            f"unknown method argument field(s) {unknown}; allowed fields: "
            f"{list(METHOD_ARGUMENT_FIELDS)}"
        )
    for name, value in overrides.items():
        if name in ("config_space", "scheduler_kwargs"):
            if not isinstance(value, Mapping):
                raise ValueError(f"method argument {name!r} must be a dict, got {value!r}")
        elif name in ("metric", "resource_attr", "max_resource_attr"):
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"method argument {name!r} must be a non-empty string, got {value!r}"
                )
        elif name == "mode":
            if value not in ("min", "max"):
                raise ValueError(f"method argument 'mode' must be 'min' or 'max', got {value!r}")
        elif name == "random_seed":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"method argument 'random_seed' must be an int >= 0, got {value!r}"
                )
        else:
            _check_positive_int(name, value, optional=name == "max_size_data_for_model")
    reserved = [k for k in overrides.get("scheduler_kwargs", {}) if k in _FROM_FIELDS]
    if reserved:
        raise ValueError(
            f"scheduler_kwargs must not set {reserved}: they come from the method argument "
            "fields of the same name"
        )


def _space_entry(name: str, value: Any) -> Any:
    """A config-space override entry: a domain as ``space_to_dict`` writes it, or a constant."""
    if not isinstance(value, Mapping):
        return value
    if value.get("type") == "constant":
        if "value" not in value:
            raise ValueError(f"config_space entry {name!r} lacks field 'value': {dict(value)!r}")
        return value["value"]
    return sp.space_from_dict({name: value})[name]


def apply_method_args(
    method_arguments: MethodArguments, overrides: Mapping[str, Any]
) -> MethodArguments:
    """``method_arguments`` with ``overrides`` merged in (the override wins).

    Dict-valued fields are merged key by key (:func:`recursive_merge`), so
    ``{"scheduler_kwargs": {"search_options": {"k": 1}}}`` keeps the other search options.
    ``config_space`` entries replace entries of the space: a plain value makes the entry a
    constant, a dict as written by :func:`hpo_core.space.space_to_dict` a domain; only existing
    entries can be replaced.

    Raises:
        ValueError: For an unknown field (naming it and the allowed fields), a value of the
            wrong type, or a config-space entry the space does not have.
    """
    check_method_args(overrides)
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        current = getattr(method_arguments, name)
        if name == "config_space":
            unknown = [k for k in value if k not in current]
            if unknown:
                raise ValueError(
                    f"config_space override names {unknown}, which the config space does not "
                    f"have; its entries: {list(current)}"
                )
            space = {**current, **{k: _space_entry(k, v) for k, v in value.items()}}
            sp.check_space(space)
            changes[name] = space
        elif name == "scheduler_kwargs":
            changes[name] = recursive_merge(current, value)
        else:
            changes[name] = value
    return dataclasses.replace(method_arguments, **changes)


def fix_hyperparameters(
    method_arguments: MethodArguments, values: Mapping[str, Any], *, method: str
) -> MethodArguments:
    """``method_arguments`` whose config space has the hyperparameters ``values`` fixed.

    Each named hyperparameter becomes a constant, so the method no longer searches over it (an
    entry that is already that constant is left as is). Configs given by
    ``search_options["restrict_configurations"]`` are reduced to those with the fixed values.

    Raises:
        MethodDoesNotFitError: If the space lacks one of the hyperparameters (naming the method
            and the missing ones), a value is outside its domain, or no restricted config has
            the fixed values.
    """
    space = method_arguments.config_space
    missing = [k for k in values if k not in space]
    if missing:
        raise MethodDoesNotFitError(
            f"method {method!r} fixes hyperparameters {list(values)}, but the config space "
            f"lacks {missing}; its entries are {list(space)}"
        )
    new_space = dict(space)
    for name, value in values.items():
        entry = space[name]
        fits = entry.contains(value) if isinstance(entry, sp.Domain) else entry == value
        if not fits:
            raise MethodDoesNotFitError(
                f"method {method!r} fixes {name!r} to {value!r}, which is outside its entry "
                f"{entry!r} in the config space"
            )
        new_space[name] = value
    kwargs = method_arguments.scheduler_kwargs
    options = kwargs.get("search_options")
    if isinstance(options, Mapping) and options.get("restrict_configurations") is not None:
        kept = [
            c for c in options["restrict_configurations"]
            if all(c.get(k) == v for k, v in values.items())
        ]
        if not kept:
            raise MethodDoesNotFitError(
                f"method {method!r} fixes {dict(values)}, but no configuration of "
                "restrict_configurations has these values"
            )
        kwargs = {**kwargs, "search_options": {**options, "restrict_configurations": kept}}
    return dataclasses.replace(method_arguments, config_space=new_space, scheduler_kwargs=kwargs)


@dataclass(frozen=True, kw_only=True)
class MethodDefinition:
    """A registry entry: how a method composes its scheduler.

    Attributes:
        scheduler: Scheduler class, constructed as ``scheduler(config_space, **kwargs)``.
        scheduler_kwargs: The method's default keyword arguments (``scheduler_kwargs`` of
            :class:`MethodArguments` are merged over them).
        multi_fidelity: Whether the method needs several fidelities (learning curves); such
            methods get ``resource_attr`` and ``max_resource_attr``.
        model_based: Whether the searcher fits a model; such methods get
            ``search_options["max_size_data_for_model"]`` when it is set.
        expensive: Whether decisions take long enough to run repetitions in parallel rather
            than in sequence.
        fixed_hyperparameters: Hyperparameters fixed to constants (config-space variants).
        restrictable: Whether the method can be restricted to the configs a table holds
            (``restrict_configurations``); methods that optimise over encoded vectors and round
            back to a config (KDE, DE) cannot.
        description: One line for help texts and tables.
    """

    scheduler: type[Scheduler]
    scheduler_kwargs: Mapping[str, Any] = field(default_factory=dict)
    multi_fidelity: bool
    model_based: bool = False
    expensive: bool = False
    fixed_hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    restrictable: bool = True
    description: str = ""

    def resolve(self, method_arguments: MethodArguments, *, method: str) -> MethodArguments:
        """The arguments the scheduler is built from: variant's space, all scheduler kwargs.

        Raises:
            MethodDoesNotFitError: See :func:`fix_hyperparameters`.
            ValueError: If ``scheduler_kwargs`` sets an argument that comes from a field.
        """
        args = method_arguments
        if self.fixed_hyperparameters:
            args = fix_hyperparameters(args, self.fixed_hyperparameters, method=method)
        reserved = [k for k in args.scheduler_kwargs if k in _FROM_FIELDS]
        if reserved:
            raise ValueError(
                f"method {method!r}: scheduler_kwargs must not set {reserved}; they come from "
                "the method argument fields of the same name"
            )
        kwargs = recursive_merge(self.scheduler_kwargs, args.scheduler_kwargs)
        if self.model_based and args.max_size_data_for_model is not None:
            kwargs = recursive_merge(
                kwargs, {"search_options": {"max_size_data_for_model":
                                            args.max_size_data_for_model}}
            )
        return dataclasses.replace(args, scheduler_kwargs=kwargs)

    def create(self, resolved: MethodArguments, *, method: str) -> Scheduler:
        """The scheduler, from arguments returned by :meth:`resolve`.

        Raises:
            ValueError: If ``scheduler_kwargs`` has arguments the scheduler does not take
                (naming them and the allowed ones), or the scheduler rejects a value.
        """
        common: dict[str, Any] = {
            "metric": resolved.metric, "mode": resolved.mode, "random_seed": resolved.random_seed,
        }
        if self.multi_fidelity:
            common["resource_attr"] = resolved.resource_attr
            common["max_resource_attr"] = resolved.max_resource_attr
        parameters = inspect.signature(self.scheduler).parameters
        allowed = [p for p in parameters if p not in _FROM_FIELDS]
        unknown = [k for k in resolved.scheduler_kwargs if k not in parameters]
        if unknown:
            from hpo_core.experiments.study import closest

            raise ValueError(
                f"method {method!r}: scheduler_kwargs {unknown} are not arguments of "
                f"{self.scheduler.__name__}{closest(unknown[0], allowed)}; allowed: {allowed}"
            )
        factory: Callable[..., Scheduler] = self.scheduler
        return factory(resolved.config_space, **common, **resolved.scheduler_kwargs)


_TANH = {"hp_activation_fn_1": "tanh", "hp_activation_fn_2": "tanh"}
_RELU = {"hp_activation_fn_1": "relu", "hp_activation_fn_2": "relu"}


def _asha(
    description: str, *, fixed: Mapping[str, Any] | None = None, **kwargs: Any,
) -> MethodDefinition:
    return MethodDefinition(scheduler=HyperbandScheduler, scheduler_kwargs=kwargs,
                            multi_fidelity=True, fixed_hyperparameters=fixed or {},
                            description=description)


#: Searcher options of the GP methods (BO, MOBSTER, Hyper-Tune): Syne Tune's defaults, except
#: that the config is the best-scoring of the random candidates (scored by Thompson samples),
#: not a local maximiser of EI started from it. Climbing EI sends most suggestions next to the
#: incumbent; on tabulated benchmarks, where a config off the table is answered by its nearest
#: tabulated one, about half of them then re-ran a config already run. LCBench curves, 10
#: paired seeds, final accuracy with / without local search: MOBSTER-JOINT (600 s) 78.4-78.8 /
#: 79.6, BO (1,800 s) 78.9 / 79.5; ASHA (600 s) 79.4; Syne Tune's MOBSTER-JOINT 79.5, BO 79.6.
GP_SEARCH_OPTIONS: dict[str, Any] = {"skip_local_optimization": True}
#: MOBSTER's and Hyper-Tune's: also, beyond 150 observations the GP hyperparameters are
#: re-optimised in every 20th fit rather than in every one (the speed-up Syne Tune's
#: documentation suggests); the fits in between keep them.
MOBSTER_SEARCH_OPTIONS: dict[str, Any] = {**GP_SEARCH_OPTIONS, "opt_skip_period": 20}


def _mobster(
    description: str, *, fixed: Mapping[str, Any] | None = None,
    search_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> MethodDefinition:
    # searcher "bayesopt" under HyperbandScheduler is the multi-fidelity GP searcher (MOBSTER)
    return MethodDefinition(
        scheduler=HyperbandScheduler,
        scheduler_kwargs={"searcher": "bayesopt",
                          "search_options": {**MOBSTER_SEARCH_OPTIONS, **(search_options or {})},
                          **kwargs},
        multi_fidelity=True, model_based=True, expensive=True,
        fixed_hyperparameters=fixed or {}, description=description,
    )


def _hypertune(description: str, *, model: str, brackets: int = 1) -> MethodDefinition:
    # Hyper-Tune as seed 003 runs it: promotion type, MOBSTER's model options; several
    # brackets are capped by the scheduler where the rung levels allow fewer
    return MethodDefinition(
        scheduler=HyperbandScheduler,
        scheduler_kwargs={"searcher": "hypertune", "type": "promotion", "brackets": brackets,
                          "search_options": {**MOBSTER_SEARCH_OPTIONS, "model": model}},
        multi_fidelity=True, model_based=True, expensive=True, description=description,
    )


def _sync(description: str, *, searcher: str = "random",
          search_options: Mapping[str, Any] | None = None, expensive: bool = False,
          restrictable: bool = True, **kwargs: Any) -> MethodDefinition:
    # synchronous Hyperband with the named searcher; brackets=None is all of them, as in
    # Syne Tune's SyncHyperband
    scheduler_kwargs: dict[str, Any] = {"searcher": searcher, **kwargs}
    if search_options:
        scheduler_kwargs["search_options"] = dict(search_options)
    return MethodDefinition(
        scheduler=SynchronousHyperbandScheduler, scheduler_kwargs=scheduler_kwargs,
        multi_fidelity=True, model_based=searcher != "random", expensive=expensive,
        restrictable=restrictable, description=description)


#: Method name -> definition, for every method that can run today.
METHODS: dict[str, MethodDefinition] = {
    "RS": MethodDefinition(scheduler=FIFOScheduler, scheduler_kwargs={"searcher": "random"},
                           multi_fidelity=False, description="random search"),
    "BO": MethodDefinition(scheduler=FIFOScheduler,
                           scheduler_kwargs={"searcher": "bayesopt",
                                             "search_options": dict(GP_SEARCH_OPTIONS)},
                           multi_fidelity=False, model_based=True, expensive=True,
                           description="Gaussian process Bayesian optimization"),
    "ASHA": _asha("asynchronous successive halving, stopping type", type="stopping"),
    "ASHA-STOP": _asha("asynchronous successive halving, stopping type", type="stopping"),
    "ASHA-PROM": _asha("asynchronous successive halving, promotion type", type="promotion"),
    "ASHA6-STOP": _asha("asynchronous Hyperband with 6 brackets (fewer if there are fewer "
                        "rung levels), stopping type", type="stopping", brackets=6),
    "PASHA": _asha("progressive ASHA (maximum resource grows while rankings change)",
                   type="pasha"),
    "ASHA-TANH": _asha("ASHA with hp_activation_fn_1 = hp_activation_fn_2 = 'tanh'",
                       type="stopping", fixed=_TANH),
    "ASHA-RELU": _asha("ASHA with hp_activation_fn_1 = hp_activation_fn_2 = 'relu'",
                       type="stopping", fixed=_RELU),
    "MOBSTER": _mobster("ASHA (stopping type) with a multi-task GP searcher (exp-decay-sum "
                        "kernel)", type="stopping"),
    "MOBSTER-TANH": _mobster("MOBSTER with hp_activation_fn_1 = hp_activation_fn_2 = 'tanh'",
                             type="stopping", fixed=_TANH),
    "MOBSTER-RELU": _mobster("MOBSTER with hp_activation_fn_1 = hp_activation_fn_2 = 'relu'",
                             type="stopping", fixed=_RELU),
    "MOBSTER-JOINT": _mobster("MOBSTER, promotion type, multi-task GP over resource levels",
                              type="promotion", search_options={"model": "gp_multitask"}),
    "MOBSTER-INDEP": _mobster("MOBSTER, promotion type, independent GPs per rung level",
                              type="promotion", search_options={"model": "gp_independent"}),
    "HYPERTUNE-INDEP": _hypertune("Hyper-Tune, promotion type, independent GPs per rung level",
                                  model="gp_independent"),
    "HYPERTUNE4-INDEP": _hypertune("Hyper-Tune with 4 brackets (fewer if there are fewer rung "
                                   "levels), independent GPs", model="gp_independent",
                                   brackets=4),
    "HYPERTUNE-JOINT": _hypertune("Hyper-Tune, promotion type, multi-task GP over resource "
                                  "levels", model="gp_multitask"),
    "SYNCHB": _sync("synchronous Hyperband", brackets=None),
    "SYNCSH": _sync("synchronous successive halving", brackets=1),
    # Syne Tune's SyncMOBSTER defaults to independent GPs per level; the GP options are
    # MOBSTER's (see MOBSTER_SEARCH_OPTIONS)
    "SYNCMOBSTER": _sync("synchronous Hyperband with a GP searcher (independent GPs per level)",
                         searcher="bayesopt", expensive=True,
                         search_options={**MOBSTER_SEARCH_OPTIONS, "model": "gp_independent"}),
    "BOHB": _sync("synchronous Hyperband with a KDE searcher (BOHB)", searcher="kde",
                  restrictable=False),
    "BOHB-ASYNC": MethodDefinition(
        scheduler=HyperbandScheduler, scheduler_kwargs={"searcher": "kde", "type": "stopping"},
        multi_fidelity=True, model_based=True, restrictable=False,
        description="asynchronous BOHB: ASHA (stopping type) with a KDE searcher"),
    "DEHB": MethodDefinition(scheduler=DEHBScheduler, multi_fidelity=True, restrictable=False,
                             description="differential evolution Hyperband"),
    "KDE": MethodDefinition(scheduler=FIFOScheduler, scheduler_kwargs={"searcher": "kde"},
                            multi_fidelity=False, model_based=True, restrictable=False,
                            description="Bayesian optimization with kernel density estimators "
                                        "(TPE-like)"),
}

#: Methods that need learning curves (several fidelities).
MULTI_FIDELITY = frozenset(n for n, d in METHODS.items() if d.multi_fidelity)


def get_definition(name: str) -> MethodDefinition:
    """The registry entry of a method.

    Raises:
        ValueError: If ``name`` is unknown; the message lists the methods.
    """
    if name in METHODS:
        return METHODS[name]
    from hpo_core.experiments.study import closest

    raise ValueError(f"method must be one of {list(METHODS)}{closest(name, list(METHODS))}, "
                     f"got {name!r}")


def get_method(name: str) -> Callable[[MethodArguments], Scheduler]:
    """The factory of method ``name``: :class:`MethodArguments` -> scheduler.

    Raises:
        ValueError: See :func:`get_definition`.
    """
    definition = get_definition(name)

    def make(method_arguments: MethodArguments) -> Scheduler:
        resolved = definition.resolve(method_arguments, method=name)
        return definition.create(resolved, method=name)

    return make


def validate_methods(names: Iterable[str]) -> list[str]:
    """``names`` as a list, if all are methods.

    Raises:
        ValueError: Naming all unknown names at once, with the methods.
    """
    names = list(names)
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; available: {list(METHODS)}")
    return names


def is_expensive_method(name: str) -> bool:
    """Whether repetitions of ``name`` are worth running in parallel (model-based methods).

    Raises:
        ValueError: If ``name`` is not a method.
    """
    return get_definition(name).expensive


def check_restrictable(method: str) -> None:
    """Raise unless ``method`` can be restricted to the configs of a table.

    Raises:
        ValueError: Naming the method, why, and the methods that can.
    """
    if not get_definition(method).restrictable:
        can = [n for n, d in METHODS.items() if d.restrictable]
        raise ValueError(
            f"method {method!r} cannot honour restrict_configurations: it optimises over encoded "
            "vectors and rounds them back to a config, so it cannot be held to a finite set of "
            "configs; run it with restrict_configurations: false (configs off the table are "
            f"answered by the benchmark's surrogate). Methods that can be restricted: {can}"
        )


def check_method_fits_benchmark(method: str, benchmark: SurrogateBenchmark) -> None:
    """Multi-fidelity methods refuse benchmarks whose data has a single fidelity.

    Raises:
        MethodDoesNotFitError: If ``method`` is multi-fidelity and ``benchmark`` is not.
    """
    if method in MULTI_FIDELITY and not benchmark.multi_fidelity:
        raise MethodDoesNotFitError(
            f"method {method!r} is multi-fidelity but benchmark {benchmark.name!r} has final "
            "values only (a single fidelity); use a single-fidelity method such as RS"
        )
