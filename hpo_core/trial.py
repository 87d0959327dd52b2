"""Types shared by schedulers, searchers, backends and the tuner."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Decision(enum.Enum):
    """What a scheduler tells the tuner to do with a trial after a reported result."""

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"


class TrialStatus(enum.Enum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(slots=True)
class Trial:
    """One evaluation of a configuration, possibly paused and resumed several times."""

    trial_id: int
    config: dict[str, Any]
    creation_time: float
    status: TrialStatus = TrialStatus.RUNNING
    #: Largest resource level (e.g. epoch) reported so far; 0 before the first result.
    resource: int = 0


@dataclass(frozen=True, slots=True)
class TrialSuggestion:
    """A scheduler's answer to "a worker is free": start a new config, or resume a paused trial.

    Use the constructors :meth:`start` and :meth:`resume`.
    """

    config: dict[str, Any] | None = None
    resume_trial_id: int | None = None

    @staticmethod
    def start(config: dict[str, Any]) -> TrialSuggestion:
        return TrialSuggestion(config=config)

    @staticmethod
    def resume(trial_id: int) -> TrialSuggestion:
        return TrialSuggestion(resume_trial_id=trial_id)


@dataclass(slots=True)
class TrialResult:
    """One reported result: the trial's metrics at resource level ``resource`` at ``time``."""

    trial_id: int
    time: float
    resource: int
    metrics: dict[str, float] = field(default_factory=dict)
