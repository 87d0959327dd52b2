"""Drives one library's Hyperband scheduler through event sequences; writes the decision traces.

Run by ``syne_tune_parity.py`` twice on the same cases, once with the repository's Python
(``--library hpo_core``) and once with a Syne Tune 0.13 venv (``--library syne_tune``). The
events depend only on the case and on the decisions taken so far: metric values and brackets
come from the case's own generator, drawn in the order they are needed. Two schedulers that
decide alike therefore see the same events, and their traces are equal; the first difference
is the first decision on which they disagree.

A trace is a list of ``["suggest", bracket, "new" | "resume" | "none", trial_id]`` and
``["report", trial_id, level, value, decision]`` entries (for DEHB also the trial's config: both
schedulers draw from one shared generator, :class:`SharedDraws`, so DE's mutations and
crossovers must agree too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

#: Case types run by the synchronous schedulers (synchronous Hyperband, DEHB).
SYNC_TYPES = ("synchb", "dehb")


def scheduler_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments both libraries' schedulers take for a case (``type="fifo"``: their
    ``FIFOScheduler``, ``"synchb"`` / ``"dehb"``: see :func:`sync_kwargs`, otherwise their
    ``HyperbandScheduler``)."""
    if case["type"] == "fifo":
        return {"metric": "y", "mode": case["mode"], "random_seed": case["seed"]}
    return {
        "metric": "y", "mode": case["mode"], "resource_attr": "epoch", "type": case["type"],
        "max_t": case["max_t"], "grace_period": case["grace_period"],
        "reduction_factor": case["reduction_factor"], "brackets": case["brackets"],
        "rung_system_per_bracket": case["rung_system_per_bracket"], "random_seed": case["seed"],
    }


def sync_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments common to both libraries' synchronous schedulers (the maximum
    resource is passed by each adapter under its own name)."""
    return {"metric": "y", "mode": case["mode"], "resource_attr": "epoch",
            "grace_period": case["grace_period"], "reduction_factor": case["reduction_factor"],
            "brackets": case["brackets"], "random_seed": case["seed"]}


class SharedDraws:
    """The random draws of DEHB from one generator, under both libraries' method names, so that
    both schedulers draw the same numbers (numpy ``RandomState`` names for Syne Tune,
    ``Generator`` names for hpo_core)."""

    def __init__(self, seed: int) -> None:
        self.g = np.random.default_rng(seed)

    # Syne Tune (RandomState)
    def rand(self, n: int) -> np.ndarray:
        return self.g.random(n)

    def randint(self, low: int, high: int) -> int:
        return int(self.g.integers(low, high))

    def choice(self, a: Any, size: int | None = None, replace: bool = True) -> Any:
        if size is None:  # one member of a list
            return a[int(self.g.integers(0, len(a)))]
        return self.g.choice(a, size, replace=replace)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        return self.g.uniform(low, high, size=size)

    # hpo_core (Generator)
    def random(self, n: int) -> np.ndarray:
        return self.g.random(n)

    def integers(self, low: int, high: int | None = None) -> int:
        return int(self.g.integers(0, low) if high is None else self.g.integers(low, high))


class Adapter:
    """One library's scheduler: ``suggest`` with the case's bracket, ``report`` a result."""

    s: Any
    next_bracket = 0
    trials: dict[int, Any]
    #: The config (``x``) of each trial started, by trial id.
    configs: dict[int, float]

    def __new__(cls, *args: Any, **kwargs: Any) -> Adapter:
        adapter = super().__new__(cls)
        adapter.configs = {}
        return adapter

    def suggest(self, trial_id: int, bracket: int) -> tuple[str, int | None]:
        self.next_bracket = bracket
        suggestion = self.s.suggest(trial_id)
        if suggestion is None:
            return "none", None
        resumed = self.resumed(suggestion)
        if resumed is not None:
            return "resume", resumed
        self.start(trial_id, suggestion)
        return "new", trial_id

    def resumed(self, suggestion: Any) -> int | None:
        raise NotImplementedError

    def start(self, trial_id: int, suggestion: Any) -> None:
        raise NotImplementedError


class HpoCore(Adapter):
    """hpo_core's :class:`HyperbandScheduler`, its bracket draw replaced by the case's."""

    def __init__(self, case: dict[str, Any]) -> None:
        from hpo_core import space as sp
        from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
        from hpo_core.schedulers.dehb import DEHBScheduler
        from hpo_core.schedulers.synchronous import SynchronousHyperbandScheduler
        from hpo_core.trial import Trial, TrialResult

        self._trial, self._result = Trial, TrialResult
        self.trials = {}
        space = {"x": sp.uniform(0.0, 1.0)}
        if case["type"] in SYNC_TYPES:
            sync = SynchronousHyperbandScheduler if case["type"] == "synchb" else DEHBScheduler
            self.s = sync(space, max_t=case["max_t"], **sync_kwargs(case))
            if case["type"] == "dehb":
                self.s._rng = SharedDraws(case["seed"] + 1)
            return
        kind = FIFOScheduler if case["type"] == "fifo" else HyperbandScheduler
        self.s = kind(space, **scheduler_kwargs(case))
        self.s._draw_bracket = lambda: self.next_bracket

    def resumed(self, suggestion: Any) -> int | None:
        return suggestion.resume_trial_id  # type: ignore[no-any-return]

    def start(self, trial_id: int, suggestion: Any) -> None:
        self.trials[trial_id] = self._trial(trial_id, suggestion.config or {}, 0.0)
        self.configs[trial_id] = suggestion.config["x"]

    def report(self, trial_id: int, level: int, value: float) -> str:
        result = self._result(trial_id, 0.0, level, {"y": value})
        return str(self.s.on_trial_result(self.trials[trial_id], result).value)


class SyneTune(Adapter):
    """Syne Tune's ``HyperbandScheduler``, its bracket sampling replaced by the case's."""

    def __init__(self, case: dict[str, Any]) -> None:
        import logging
        from datetime import datetime

        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import uniform
        from syne_tune.optimizer.schedulers import FIFOScheduler, HyperbandScheduler

        logging.disable(logging.WARNING)
        self._trial, self._now = Trial, datetime.now
        self.trials = {}
        if case["type"] in SYNC_TYPES:
            from syne_tune.optimizer.schedulers.synchronous import (
                GeometricDifferentialEvolutionHyperbandScheduler,
                SynchronousGeometricHyperbandScheduler,
            )

            sync = (SynchronousGeometricHyperbandScheduler if case["type"] == "synchb"
                    else GeometricDifferentialEvolutionHyperbandScheduler)
            self.s = sync({"x": uniform(0.0, 1.0)}, max_resource_level=case["max_t"],
                          searcher="random" if case["type"] == "synchb" else "random_encoded",
                          **sync_kwargs(case))
            if case["type"] == "dehb":
                self.s.random_state = SharedDraws(case["seed"] + 1)
            return
        kind = FIFOScheduler if case["type"] == "fifo" else HyperbandScheduler
        self.s = kind({"x": uniform(0.0, 1.0)}, searcher="random", **scheduler_kwargs(case))
        if case["type"] != "fifo":
            self.s.terminator._sample_bracket = lambda: self.next_bracket

    def resumed(self, suggestion: Any) -> int | None:
        return None if suggestion.spawn_new_trial_id else int(suggestion.checkpoint_trial_id)

    def start(self, trial_id: int, suggestion: Any) -> None:
        trial = self._trial(trial_id=trial_id, config=suggestion.config, creation_time=self._now())
        self.trials[trial_id] = trial
        self.configs[trial_id] = suggestion.config["x"]
        self.s.on_trial_add(trial)

    def report(self, trial_id: int, level: int, value: float) -> str:
        return str(self.s.on_trial_result(self.trials[trial_id], {"y": value, "epoch": level}))


def trace(case: dict[str, Any], library: str) -> list[list[Any]]:
    """The events and decisions of one case (see the module docstring)."""
    scheduler: Adapter = HpoCore(case) if library == "hpo_core" else SyneTune(case)
    rng = np.random.default_rng(case["seed"])
    scripted = list(case.get("values", []))
    running: dict[int, int] = {}  # trial_id -> last level reported
    paused: dict[int, int] = {}
    events: list[list[Any]] = []
    next_id = 0
    reports = 0
    while reports < case["num_results"]:
        while len(running) < case["n_workers"]:
            bracket = int(rng.integers(case["brackets"] or 1))
            kind, trial_id = scheduler.suggest(next_id, bracket)
            events.append(["suggest", bracket, kind, trial_id])
            if kind == "none":
                return events
            if kind == "new":
                running[next_id] = 0
                next_id += 1
            else:
                assert trial_id is not None and trial_id in paused, (trial_id, paused)
                running[trial_id] = paused.pop(trial_id)
        trial_id = sorted(running)[int(rng.integers(len(running)))]
        level = running.pop(trial_id) + 1
        if scripted:
            value = float(scripted.pop(0))
        else:
            value = float(rng.random())
            if case["decimals"] is not None:  # ties
                value = round(value, case["decimals"])
        decision = scheduler.report(trial_id, level, value)
        events.append(["report", trial_id, level, value, decision])
        reports += 1
        if case["type"] == "dehb":  # DE's configs are decided too (same draws on both sides)
            events[-1].append(round(scheduler.configs[trial_id], 12))
        if decision == "CONTINUE" and level < case["max_t"]:
            running[trial_id] = level
        elif decision == "PAUSE":
            paused[trial_id] = level
    return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", choices=("hpo_core", "syne_tune"), required=True)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cases = json.loads(args.cases.read_text())
    traces = [trace(case, args.library) for case in cases]
    args.out.write_text(json.dumps({"traces": traces}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
