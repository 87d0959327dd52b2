"""Backends run trials: in simulated time from a blackbox, or for real."""

from hpo_core.backends.base import Backend, Event, EventKind

__all__ = ["Backend", "Event", "EventKind"]
