"""Run options, declared once: the command line, the study's keys and the rules' flags.

Every option a run takes besides its benchmark, method and seed is one :class:`RunOption` in
:data:`RUN_OPTIONS`. ``hpo-core run`` builds its flags from them (:func:`add_arguments`), a study
file's keys become :class:`~hpo_core.experiments.launcher.Experiment` fields through them
(:func:`experiment_options`), and the workflow's run rules pass a study's options on as flags
(:func:`command_line_flags`). ``Experiment`` declares the same fields with their types and the
workflow's schema (``workflow/schemas/config.schema.yaml``) the same keys; tests check both
against this table, so adding an option is one entry here plus its field and schema key.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hpo_core.backends.overheads import SIMULATOR_OVERHEADS

#: Domains of fcnet's ``hp_init_lr`` (:func:`~hpo_core.experiments.launcher.fcnet_init_lr`).
FCNET_ORDINAL = ("none", "equal", "nn", "nn-log")


def _int(value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {value!r}") from None
    if number < minimum:
        raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {number}")
    return number


def non_negative(value: str) -> int:
    """Argument type: an int >= 0."""
    return _int(value, 0)


def positive(value: str) -> int:
    """Argument type: an int >= 1."""
    return _int(value, 1)


def positive_float(value: str) -> float:
    """Argument type: a finite number > 0."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not number > 0 or math.isinf(number):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value!r}")
    return number


@dataclass(frozen=True)
class RunOption:
    """One run option.

    Attributes:
        name: Flag ``--<name>``, study key and ``Experiment`` field.
        kind: ``"int"`` (``None`` or an int >= ``minimum``), ``"number"`` (``None`` or a
            positive number), ``"flag"`` (on/off: ``0``/``1`` on the command line) or
            ``"choice"`` (one of ``choices``).
        default: Value when the option is not given (``None``: the benchmark's default, or
            what ``help`` says).
        help: What it does, for ``hpo-core run --help``.
        minimum: Smallest int allowed (kind ``"int"``).
        choices: Allowed values (kind ``"choice"``).
        experiment_field: Whether ``Experiment`` has the field (``verbose`` only changes what
            the command prints).
        always_passed: The rules pass the flag even at its default (``fcnet_ordinal``, whose
            jobs have always named it).
    """

    name: str
    kind: Literal["int", "number", "flag", "choice"]
    default: Any
    help: str
    minimum: int = 1
    choices: tuple[str, ...] = ()
    experiment_field: bool = True
    always_passed: bool = False

    def add_argument(self, parser: argparse.ArgumentParser) -> None:
        flag = f"--{self.name}"
        if self.kind == "flag":
            parser.add_argument(flag, type=int, choices=(0, 1), default=int(self.default),
                                help=self.help)
        elif self.kind == "choice":
            parser.add_argument(flag, choices=list(self.choices), default=self.default,
                                help=self.help)
        elif self.kind == "int":
            parser.add_argument(flag, type=positive if self.minimum == 1 else non_negative,
                                default=self.default, help=self.help)
        else:
            parser.add_argument(flag, type=positive_float, default=self.default, help=self.help)

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` naming the option and what it allows unless ``value`` fits."""
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {list(self.choices)}, got {value!r}")
            return
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return
        if value is None:
            return
        number = not isinstance(value, bool) and isinstance(
            value, int if self.kind == "int" else (int, float))
        if self.kind == "int" and not (number and value >= self.minimum):
            raise ValueError(f"{self.name} must be null (the default) or an int >= "
                             f"{self.minimum}, got {value!r}")
        if self.kind == "number" and not (number and 0 < value < math.inf):
            raise ValueError(f"{self.name} must be null or a positive number, got {value!r}")

    def value(self, raw: Any) -> Any:
        """``raw`` (from the command line or a study file) as the ``Experiment`` field takes it."""
        return bool(raw) if self.kind == "flag" else raw


#: The run options, in the order the rules pass them (a job's command must not change when the
#: code does, or Snakemake would rerun finished jobs).
RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("n_workers", "int", None, "parallel workers (default: the benchmark's)"),
    RunOption("max_wallclock_time", "number", None,
              "simulated time budget in seconds (default: the benchmark's)"),
    RunOption("max_num_evaluations", "int", None,
              "cap on the results a run reports (default: the benchmark's, e.g. 4000 for "
              "LCBench, 1000 for YAHPO iaml and rbv2)"),
    RunOption("max_size_data_for_model", "int", None,
              "data limit of the surrogate model of model-based methods (recorded in "
              "metadata.json)"),
    RunOption("blackbox_seed", "int", None,
              "blackbox seed (training repetition) every trial replays; default: one drawn "
              "per trial from the run's generator", minimum=0),
    RunOption("restrict_configurations", "flag", False,
              "1: methods only suggest configs the table holds"),
    RunOption("scale_max_wallclock_time", "flag", False,
              "1: if --n_workers A is given and --max_wallclock_time is not, the benchmark's "
              "budget is multiplied by B / min(A, B), B being the benchmark's n_workers "
              "(default 0)"),
    RunOption("verbose", "flag", False,
              "1: print progress to stderr (time, trials, best so far, scheduler decisions and "
              "rung sizes)", experiment_field=False),
    RunOption("charge_decision_time", "flag", False,
              "1: add each scheduler decision's real compute time to the simulated clock, as "
              "Syne Tune does (not reproducible; default 0)"),
    RunOption("use_long_tuner_name_prefix", "flag", True,
              "1 (default): tuner name <tag>-<benchmark>-<seed>-<date-time>-<hash>; 0: "
              "<tag>-<date-time>-<hash>. The name is recorded in metadata.json; results stay "
              "under <results_dir>/<tag>/<benchmark>/<method>/<seed>/ either way, since the "
              "workflow tracks these paths"),
    RunOption("simulator_overheads", "choice", "none",
              "none (default): exact simulated timeline; syne_tune: Syne Tune 0.13's delays "
              "per start, result and stop and its 5 s polling tuner",
              choices=tuple(SIMULATOR_OVERHEADS)),
    RunOption("fcnet_ordinal", "choice", "nn-log",
              "domain of fcnet's hp_init_lr (default nn-log)", choices=FCNET_ORDINAL,
              always_passed=True),
)
#: Name -> option.
OPTIONS: dict[str, RunOption] = {o.name: o for o in RUN_OPTIONS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--<name>`` for every run option to ``hpo-core run``'s parser."""
    for option in RUN_OPTIONS:
        option.add_argument(parser)


def check_options(values: Any) -> None:
    """Check every run option of ``values`` (an ``Experiment``) against its declaration."""
    for option in RUN_OPTIONS:
        if option.experiment_field:
            option.check(getattr(values, option.name))


def experiment_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """``Experiment`` keyword arguments from parsed flags or a study's config (missing keys
    take their defaults)."""
    return {o.name: o.value(values.get(o.name, o.default))
            for o in RUN_OPTIONS if o.experiment_field}


def command_line_flags(config: Mapping[str, Any]) -> list[Any]:
    """The ``hpo-core run`` flags for a study's options: those set away from their default (and
    those always passed), so adding a key at its default to a study reruns nothing."""
    flags: list[Any] = []
    for option in RUN_OPTIONS:
        value = config.get(option.name, option.default)
        if option.kind == "flag":
            value = int(bool(value))
            changed = value != int(option.default)
        else:
            changed = value != option.default
        if changed or option.always_passed:
            flags += [f"--{option.name}", value]
    return flags
