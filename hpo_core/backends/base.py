"""The backend contract: runs trials and delivers their results as events."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

from hpo_core.trial import Decision, Trial


class EventKind(enum.Enum):
    RESULT = "RESULT"
    ERROR = "ERROR"


@dataclass(slots=True)
class Event:
    """Something that happened to a running trial at backend time ``time``.

    A RESULT carries the trial's metrics at ``resource``; ``is_last`` marks the result at the
    trial's maximum resource, after which the trial is complete. An ERROR means the trial
    failed and reports nothing more.
    """

    kind: EventKind
    time: float
    trial_id: int
    resource: int = 0
    metrics: dict[str, float] | None = None
    is_last: bool = False


class Backend(ABC):
    """Starts, resumes, pauses and stops trials; the tuner reads their events in time order."""

    @property
    @abstractmethod
    def time(self) -> float:
        """Current tuner time in seconds (simulated or real) since tuning started."""

    @property
    @abstractmethod
    def num_running(self) -> int:
        """Trials occupying a worker."""

    def objective_names(self) -> list[str] | None:
        """Names of the metrics trials report, if known before they run."""
        return None

    @abstractmethod
    def start_trial(self, trial: Trial) -> None:
        """Start a new trial from scratch."""

    @abstractmethod
    def resume_trial(self, trial: Trial) -> None:
        """Resume a paused trial from the resource where it paused."""

    @abstractmethod
    def next_event(self) -> Event | None:
        """The next event of a running trial; ``None`` if no trial is running."""

    @abstractmethod
    def on_decision(self, trial: Trial, decision: Decision) -> None:
        """Act on the scheduler's decision about the result last delivered for ``trial``."""

    @abstractmethod
    def stop_all(self) -> None:
        """Tuning ends: stop every running trial."""

    def advance(self, seconds: float) -> None:  # noqa: B027
        """Charge ``seconds`` of decision-making to the tuner's clock (simulation only)."""
