"""The contract every method of the registry honours, run in the simulator.

A method is tested by being in :data:`hpo_core.experiments.methods.METHODS`:
:func:`method_cases` makes one :class:`SchedulerCase` per entry, built the way studies build
methods (``get_method(name)(MethodArguments(...))``, overrides merged by
:func:`~hpo_core.experiments.methods.apply_method_args`), with the searcher's fast search options
(:mod:`hpo_core.testing.fast_options`) merged into ``scheduler_kwargs["search_options"]``. The
``check_*`` functions each run one part of the contract and raise ``AssertionError`` on a
breach; a test suite parametrises them over the cases::

    @pytest.mark.parametrize("case", method_cases(), ids=str)
    def test_valid_configs(case):
        check_valid_configs(case)

The contract: suggested configs are valid configs of the space (with the values a method fixes)
and none is suggested twice; each stop criterion is honoured and the run goes up to it; the same
seed gives the same results, another seed other results; no trial runs beyond the maximum
resource, and those that reach it are completed; trials that crash are not resumed and the
tuning goes on.

Methods that fix hyperparameters (``ASHA-TANH`` fixes ``hp_activation_fn_1/2``) need a space
that has them. :func:`contract_blackbox` is the synthetic blackbox whose space also has, as
categorical hyperparameters, every hyperparameter a registered method fixes that the synthetic
space lacks, with the values the methods fix them to (the synthetic curves do not depend on
them: :class:`~hpo_core.blackboxes.synthetic.SyntheticBlackbox` reads only its own
hyperparameters), so that every method runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpo_core import space as sp
from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.synthetic import SyntheticBlackbox, synthetic_config_space
from hpo_core.experiments.methods import (
    METHODS,
    MethodArguments,
    MethodDefinition,
    apply_method_args,
    get_method,
)
from hpo_core.schedulers.base import DEFAULT_SEARCHER, Scheduler
from hpo_core.testing.fast_options import fast_search_options
from hpo_core.trial import Trial, TrialStatus
from hpo_core.tuner import StoppingCriterion, Tuner, TunerCallback

#: Metric, mode and attributes of the contract runs (those of the synthetic blackbox).
METRIC, MODE, RESOURCE_ATTR, MAX_RESOURCE_ATTR = "error", "min", "epoch", "epochs"
#: Epochs of the contract blackbox (rung levels 1, 3, 9 with Hyperband's defaults).
MAX_T = 27


def fixed_hyperparameter_domains(
    methods: Mapping[str, MethodDefinition] = METHODS,
    space: Mapping[str, Any] | None = None,
) -> dict[str, sp.Domain]:
    """Categorical domains for the hyperparameters ``methods`` fix that ``space`` (default: the
    synthetic space) lacks: each over the values the methods fix it to, in order of appearance."""
    space = synthetic_config_space(MAX_T) if space is None else space
    values: dict[str, list[Any]] = {}
    for definition in methods.values():
        for name, value in definition.fixed_hyperparameters.items():
            if name not in space and value not in values.setdefault(name, []):
                values[name].append(value)
    return {name: sp.choice(vals) for name, vals in values.items()}


class ContractBlackbox(SyntheticBlackbox):
    """:class:`~hpo_core.blackboxes.synthetic.SyntheticBlackbox` whose config space also has
    the hyperparameters registered methods fix (:func:`fixed_hyperparameter_domains`); its
    curves are the synthetic ones, which do not depend on those."""

    def __init__(self, *, max_t: int = MAX_T, failure_fraction: float = 0.0) -> None:
        super().__init__(max_t=max_t, failure_fraction=failure_fraction)
        extra = fixed_hyperparameter_domains(space=self.config_space)
        constants = sp.constants(self.config_space)
        self.config_space = {**sp.hyperparameters(self.config_space), **extra, **constants}


def contract_blackbox(*, max_t: int = MAX_T, failure_fraction: float = 0.0) -> ContractBlackbox:
    """The blackbox of the contract runs (see the module docstring)."""
    return ContractBlackbox(max_t=max_t, failure_fraction=failure_fraction)


def fast_overrides(method: str) -> dict[str, Any]:
    """Overrides (for :func:`~hpo_core.experiments.methods.apply_method_args`) that give method
    ``method``'s searcher its fast search options; ``{}`` if it needs none.

    Raises:
        KeyError: If the method's searcher has no fast options
            (:func:`~hpo_core.testing.fast_options.fast_search_options`).
    """
    definition = METHODS[method]
    searcher = definition.scheduler_kwargs.get("searcher", DEFAULT_SEARCHER)
    if not isinstance(searcher, str):
        return {}
    options = fast_search_options(searcher, multi_fidelity=definition.multi_fidelity)
    return {"scheduler_kwargs": {"search_options": options}} if options else {}


@dataclass(frozen=True)
class SchedulerCase:
    """A method of the registry, with overrides, as the contract runs it.

    Attributes:
        name: Test id.
        method: Name in :data:`~hpo_core.experiments.methods.METHODS`.
        overrides: Merged (:func:`~hpo_core.experiments.methods.apply_method_args`) over the
            fast search options, e.g. ``{"scheduler_kwargs": {"rung_system_per_bracket":
            True}}`` for a scheduler option no method sets.
    """

    name: str
    method: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    @property
    def definition(self) -> MethodDefinition:
        return METHODS[self.method]

    @property
    def expensive(self) -> bool:
        """Whether the method is model-based and slow (contract runs get fewer trials)."""
        return self.definition.expensive

    def arguments(self, config_space: Mapping[str, Any], seed: int,
                  *, n_workers: int = 4) -> MethodArguments:
        """The method arguments the scheduler is built from (overrides merged)."""
        args = MethodArguments(
            config_space=dict(config_space), metric=METRIC, mode=MODE,
            resource_attr=RESOURCE_ATTR, max_resource_attr=MAX_RESOURCE_ATTR,
            n_workers=n_workers, random_seed=seed,
        )
        args = apply_method_args(args, fast_overrides(self.method))
        return apply_method_args(args, self.overrides)

    def build(self, config_space: Mapping[str, Any], seed: int,
              *, n_workers: int = 4) -> Scheduler:
        """The scheduler, through the registry (``get_method(method)(arguments)``)."""
        return get_method(self.method)(self.arguments(config_space, seed, n_workers=n_workers))


def method_cases(extra: tuple[SchedulerCase, ...] = ()) -> list[SchedulerCase]:
    """One case per entry of :data:`~hpo_core.experiments.methods.METHODS`, then ``extra``."""
    cases = [SchedulerCase(name, name) for name in METHODS]
    names = [c.name for c in (*cases, *extra)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"scheduler case names {duplicates} are not unique")
    return [*cases, *extra]


def run(
    case: SchedulerCase,
    stop: StoppingCriterion,
    *,
    n_workers: int = 4,
    seed: int = 0,
    blackbox: SyntheticBlackbox | None = None,
    callbacks: Sequence[TunerCallback] = (),
) -> Tuner:
    """Tune ``case`` on ``blackbox`` (default: :func:`contract_blackbox`) in the simulator."""
    blackbox = blackbox or contract_blackbox()
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr=MAX_RESOURCE_ATTR),
        scheduler=case.build(blackbox.config_space, seed, n_workers=n_workers),
        stop_criterion=stop,
        n_workers=n_workers,
        callbacks=callbacks,
    )
    tuner.run()
    return tuner


def check_valid_configs(case: SchedulerCase, *, num_trials: int = 200) -> None:
    """``num_trials`` trials start; each config is valid, has the values the method fixes, and
    none is suggested twice."""
    blackbox = contract_blackbox()
    tuner = run(case, StoppingCriterion(max_num_trials_started=num_trials), blackbox=blackbox)
    space = blackbox.config_space
    assert len(tuner.trials) == num_trials, f"{len(tuner.trials)} trials, not {num_trials}"
    fixed = case.definition.fixed_hyperparameters
    for trial in tuner.trials.values():
        sp.validate_config(space, trial.config)
        for name, value in fixed.items():
            assert trial.config[name] == value, (
                f"trial {trial.trial_id}: {name}={trial.config[name]!r}, but {case.method} "
                f"fixes it to {value!r}"
            )
    keys = {sp.config_key(space, t.config) for t in tuner.trials.values()}
    assert len(keys) == len(tuner.trials), "a config was suggested twice"


#: Stop criteria of the contract, by test id (each alone, and a combination).
STOP_CRITERIA: dict[str, StoppingCriterion] = {
    "wallclock": StoppingCriterion(max_wallclock_time=2_000.0),
    "evaluations": StoppingCriterion(max_num_evaluations=500),
    "started": StoppingCriterion(max_num_trials_started=60),
    "completed": StoppingCriterion(max_num_trials_completed=5),
    "finished": StoppingCriterion(max_num_trials_finished=40),
    "combination": StoppingCriterion(max_wallclock_time=1e6, max_num_evaluations=300),
}


def check_stop_criterion(case: SchedulerCase, stop: StoppingCriterion) -> None:
    """The run honours every limit of ``stop`` and goes right up to one of them."""
    tuner = run(case, stop)
    times = tuner.results.time
    if stop.max_wallclock_time is not None:
        assert max(times) <= stop.max_wallclock_time
    if stop.max_num_evaluations is not None:
        assert len(tuner.results) <= stop.max_num_evaluations
    if stop.max_num_trials_started is not None:
        assert tuner.num_trials_started <= stop.max_num_trials_started
    if stop.max_num_trials_completed is not None:
        assert tuner.num_trials_completed <= stop.max_num_trials_completed
    if stop.max_num_trials_finished is not None:
        assert tuner.num_trials_finished <= stop.max_num_trials_finished
    reached = (
        (stop.max_num_evaluations is not None
         and len(tuner.results) == stop.max_num_evaluations)
        or (stop.max_num_trials_started is not None
            and tuner.num_trials_started == stop.max_num_trials_started)
        or (stop.max_num_trials_completed is not None
            and tuner.num_trials_completed == stop.max_num_trials_completed)
        or (stop.max_num_trials_finished is not None
            and tuner.num_trials_finished == stop.max_num_trials_finished)
        or (stop.max_wallclock_time is not None
            and tuner.backend.time > stop.max_wallclock_time)
    )
    assert reached, f"the run stopped short of every limit of {stop}"


def check_same_seed_same_results(
    case: SchedulerCase, *, n_workers: int, num_trials: int = 150
) -> None:
    """Two runs with the same seed give identical results; a run with another seed differs."""
    import pandas as pd

    stop = StoppingCriterion(max_num_trials_started=num_trials)
    first = run(case, stop, n_workers=n_workers, seed=7).results.to_dataframe()
    second = run(case, stop, n_workers=n_workers, seed=7).results.to_dataframe()
    pd.testing.assert_frame_equal(first, second)
    other = run(case, stop, n_workers=n_workers, seed=8).results.to_dataframe()
    assert not first.equals(other), "seeds 7 and 8 gave the same results"


def check_never_beyond_max_resource(
    case: SchedulerCase, *, num_trials: int = 300, max_resource: int = 20
) -> None:
    """With the space's maximum resource below the blackbox's epochs, no trial runs beyond it,
    some reach it, and those are completed."""
    blackbox = contract_blackbox()
    assert max_resource < blackbox.max_t
    blackbox.config_space[MAX_RESOURCE_ATTR] = max_resource
    tuner = run(case, StoppingCriterion(max_num_trials_started=num_trials), blackbox=blackbox)
    assert max(tuner.results.resource) == max_resource
    reached = {t for t, r in zip(tuner.results.trial_id, tuner.results.resource, strict=True)
               if r == max_resource}
    for trial_id in reached:
        assert tuner.trials[trial_id].status is TrialStatus.COMPLETED


class _ErrorCounter(TunerCallback):
    def __init__(self) -> None:
        self.errors: Counter[int] = Counter()

    def on_trial_error(self, tuner: Tuner, trial: Trial) -> None:
        self.errors[trial.trial_id] += 1


def check_survives_trial_errors(
    case: SchedulerCase, *, num_trials: int = 300, failure_fraction: float = 0.3
) -> None:
    """With a fraction of configs crashing (:class:`~hpo_core.blackboxes.synthetic.
    SyntheticBlackbox`'s ``failure_fraction``: each after 0, 1 or 2 results), the tuning starts
    all ``num_trials`` trials; the trials that fail are those whose config crashes, each after
    its crash point and once (a failed trial is never resumed); and failures happen: at least
    half the number expected of configs crashing before their first result (those fail
    whatever the scheduler decides)."""
    blackbox = contract_blackbox(failure_fraction=failure_fraction)
    counter = _ErrorCounter()
    tuner = run(case, StoppingCriterion(max_num_trials_started=num_trials), blackbox=blackbox,
                callbacks=[counter])
    assert tuner.num_trials_started == num_trials
    num_results = Counter(tuner.results.trial_id)
    failed = []
    for trial_id, trial in tuner.trials.items():
        crash = blackbox.curve(trial.config).failed_after
        if trial.status is TrialStatus.FAILED:
            failed.append(trial_id)
            assert crash == num_results[trial_id], (
                f"trial {trial_id} failed after {num_results[trial_id]} results; its config "
                f"crashes after {crash}"
            )
        elif crash is not None:
            assert num_results[trial_id] <= crash
    not_failed = sorted(set(counter.errors) - set(failed))
    assert not not_failed, f"trials {not_failed} crashed but do not end FAILED (resumed?)"
    again = sorted(t for t, n in counter.errors.items() if n > 1)
    assert not again, f"failed trials {again} were resumed and failed again"
    expected = failure_fraction * num_trials / 3
    assert len(failed) >= expected / 2, f"only {len(failed)} of {num_trials} trials failed"


def scheduler_classes(cases: list[SchedulerCase]) -> set[type[Scheduler]]:
    """The scheduler classes the cases build."""
    space = contract_blackbox().config_space
    return {type(case.build(space, 0)) for case in cases}


def searcher_classes(cases: list[SchedulerCase]) -> set[type]:
    """The classes of the searchers the cases' schedulers use."""
    space = contract_blackbox().config_space
    return {type(getattr(case.build(space, 0), "searcher", None)) for case in cases}
