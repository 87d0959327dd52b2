"""The backend contract: runs trials and delivers their results as events."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable
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
    """Starts, resumes, pauses and stops trials; the tuner reads their events in time order.

    A backend the tuner polls instead (Syne Tune's loop, see
    :mod:`hpo_core.backends.overheads`) sets :attr:`tuner_sleep_time` and implements
    :meth:`fetch` and :meth:`sleep`; :meth:`next_event` is then not used.
    """

    #: Seconds the tuner sleeps between polls when every worker is busy; None: event-driven.
    tuner_sleep_time: float | None = None

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

    def fetch(self, trial_ids: Iterable[int]) -> list[Event]:
        """Polled backends: the events of ``trial_ids`` that happened by now, in their order."""
        raise NotImplementedError(f"{type(self).__name__} is event-driven: use next_event()")

    def sleep(self) -> None:
        """Polled backends: wait ``tuner_sleep_time`` seconds."""
        raise NotImplementedError(f"{type(self).__name__} is event-driven: use next_event()")

    @abstractmethod
    def stop_all(self) -> None:
        """Tuning ends: stop every running trial."""

    def advance(self, seconds: float) -> None:  # noqa: B027
        """Charge ``seconds`` of decision-making to the tuner's clock (simulation only)."""
