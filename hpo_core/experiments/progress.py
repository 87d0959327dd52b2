"""Progress of tuning runs: printed to stderr (the launcher's ``--verbose 1``), and kept in a
small file per run that ``hpo-core status`` reads while a study runs (:class:`ProgressFile`).

Lines start with a label such as ``[synthetic/ASHA/0]``. The first lines say what is searched
over and what is fixed (constants of the config space, e.g. activations fixed to ``"relu"`` by
``ASHA-RELU``). Then a status line is printed whenever another trial takes the lead, and
otherwise every ``every`` results: simulated time, trials started and completed, the best metric
so far with its trial, resource and config, and for Hyperband-type schedulers (those with
``information_for_rungs``) the decisions taken so far and the rung sizes. A decision counts
when the scheduler was asked (at rung levels and the maximum resource, where it says STOP). The
reporter is only attached when asked for, so a quiet run pays nothing for it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hpo_core import space as sp
from hpo_core.trial import Decision, Trial, TrialResult
from hpo_core.tuner import Tuner, TunerCallback


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _fmt_config(config: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in config.items()) + "}"


class ProgressReporter(TunerCallback):
    """Prints the progress of a tuning run.

    Args:
        label: Prefix of every line, e.g. ``"synthetic/ASHA/0"``.
        every: Print a status line every ``every`` results (and when another trial takes the
            lead).
        stream: Where to print (default: ``sys.stderr`` at the time of printing).

    Example::

        tuner = Tuner(..., callbacks=[ProgressReporter(label="synthetic/ASHA/0")])
    """

    def __init__(self, *, label: str = "", every: int = 100, stream: TextIO | None = None) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        self.label = label
        self.every = every
        self.stream = stream
        self.num_results = 0
        self.decisions: Counter[str] = Counter({d.value: 0 for d in Decision})
        self.best: float | None = None
        self.best_trial: Trial | None = None
        self.best_resource: int | None = None
        self._last_printed = 0

    def _print(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        prefix = f"[{self.label}] " if self.label else ""
        print(prefix + text, file=stream, flush=True)

    def on_tuning_start(self, tuner: Tuner) -> None:
        scheduler = tuner.scheduler
        meta = scheduler.metadata()
        settings = ", ".join(
            f"{k}={v}" for k, v in meta.items() if k not in ("scheduler", "metric", "mode")
        )
        limit = tuner.stop_criterion.max_wallclock_time
        self._print(
            f"start: {meta.get('scheduler', type(scheduler).__name__)} ({settings}); "
            f"metric {scheduler.metric} ({scheduler.mode}); n_workers={tuner.n_workers}; "
            f"max_wallclock_time={limit}"
        )
        space = getattr(scheduler, "config_space", None)
        if isinstance(space, Mapping):
            searched = ", ".join(sp.hyperparameters(space))
            fixed = _fmt_config(sp.constants(space))
            self._print(f"searching over: {searched}; fixed: {fixed}")

    def on_trial_result(
        self, tuner: Tuner, trial: Trial, result: TrialResult, decision: Decision
    ) -> None:
        self.num_results += 1
        scheduler = tuner.scheduler
        levels = scheduler.result_levels(trial)
        if levels is None or result.resource in levels:
            self.decisions[decision.value] += 1
        value = result.metrics.get(scheduler.metric)
        new_best_trial = False
        if isinstance(value, int | float) and not math.isnan(value):
            value = float(value)
            if self.best is None or (
                value < self.best if scheduler.mode == "min" else value > self.best
            ):
                new_best_trial = self.best_trial is None or self.best_trial is not trial
                self.best, self.best_trial, self.best_resource = value, trial, result.resource
        # A trial improving on its own best epoch after epoch is not news; a new best trial is.
        if new_best_trial:
            self._status(tuner, "new best")
        elif self.num_results - self._last_printed >= self.every:
            self._status(tuner, "progress")

    def on_tuning_end(self, tuner: Tuner) -> None:
        self._status(tuner, "end")

    def _status(self, tuner: Tuner, what: str) -> None:
        self._last_printed = self.num_results
        scheduler = tuner.scheduler
        parts = [
            f"{what}: t={tuner.time:.1f}s trials started={tuner.num_trials_started} "
            f"completed={tuner.num_trials_completed} results={self.num_results}"
        ]
        if self.best_trial is not None:
            parts.append(
                f"best {scheduler.metric}={_fmt(self.best)} (trial {self.best_trial.trial_id}, "
                f"resource {self.best_resource}) config={_fmt_config(self.best_trial.config)}"
            )
        rungs = getattr(scheduler, "information_for_rungs", None)
        if callable(rungs):
            counts = " ".join(f"{k}={v}" for k, v in self.decisions.items())
            sizes = " ".join(f"{info.level}:{info.num_entries}" for info in rungs())
            parts.append(f"decisions {counts}; rung sizes {sizes}")
            if getattr(scheduler, "type", None) == "pasha":
                parts.append(f"max_resource={getattr(scheduler, 'max_resource', None)}")
        self._print(" | ".join(parts))


#: Seconds of real time between two writes of a progress file (and the first write).
PROGRESS_INTERVAL = 1.0


def progress_path(results_dir: Path, tag: str, benchmark: str, method: str, seed: int) -> Path:
    """Where a run's progress is written, ``<results>/<tag>/progress/<benchmark>/<method>/
    <seed>.json``: beside, not inside, the run's directory, whose files the workflow tracks."""
    return results_dir / tag / "progress" / benchmark / method / f"{seed}.json"


class ProgressFile(TunerCallback):
    """Keeps a small JSON file with a run's state, for ``hpo-core status``.

    The file says ``state`` (``running``, ``done`` or ``failed``), the simulated time reached
    and the budget, trials started, results, the best metric so far, and when it was written.
    While the run goes it is rewritten at most every ``interval`` seconds of real time
    (atomically), so the cost per result is one clock reading.

    Args:
        path: The file (see :func:`progress_path`).
        run: What identifies the run (benchmark, method, seed, metric, mode).
        budget: The run's simulated time budget in seconds.
        interval: Seconds of real time between two writes.
    """

    def __init__(self, path: Path, *, run: Mapping[str, Any], budget: float,
                 interval: float = PROGRESS_INTERVAL) -> None:
        self.path = Path(path)
        self.run = dict(run)
        self.budget = budget
        self.interval = interval
        self.num_results = 0
        self.best: float | None = None
        self._started = time.monotonic()
        self._next = self._started + interval

    #: Counts and the best value do not depend on when results arrive: bulk is fine.
    supports_bulk = True

    def on_tuning_start(self, tuner: Tuner) -> None:
        self.write(tuner, "running")

    def on_trial_result(
        self, tuner: Tuner, trial: Trial, result: TrialResult, decision: Decision
    ) -> None:
        self.num_results += 1
        value = result.metrics.get(tuner.scheduler.metric)
        if isinstance(value, int | float) and not math.isnan(value):
            self._offer(float(value), tuner.scheduler.mode)
        if time.monotonic() >= self._next:
            self.write(tuner, "running")

    def _offer(self, value: float, mode: str) -> None:
        if self.best is None or (value < self.best if mode == "min" else value > self.best):
            self.best = value

    def on_bulk_results(self, tuner: Tuner, trial: Trial, rows: range) -> None:
        self.num_results += len(rows)
        column = tuner.results.metrics.get(tuner.scheduler.metric)
        if column is not None:
            values = np.frombuffer(column, dtype=float)[rows.start:rows.stop]
            values = values[~np.isnan(values)]
            if len(values):
                mode = tuner.scheduler.mode
                self._offer(float(values.min() if mode == "min" else values.max()), mode)
        if time.monotonic() >= self._next:
            self.write(tuner, "running")

    def on_tuning_end(self, tuner: Tuner) -> None:
        self.write(tuner, "done")

    def write(self, tuner: Tuner | None, state: str, error: str | None = None) -> None:
        """Write the file now (``failed`` runs pass ``tuner=None`` if it is not at hand)."""
        now = time.monotonic()
        self._next = now + self.interval
        record = {
            **self.run, "state": state, "budget": self.budget, "results": self.num_results,
            "best": self.best, "real_seconds": round(now - self._started, 3),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if tuner is not None:
            record.update(simulated_time=tuner.time, trials_started=tuner.num_trials_started)
        if error is not None:
            record["error"] = error
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, self.path)


def read_status(results: Path) -> list[dict[str, Any]]:
    """The progress records under a study's results directory (``results/<tag>``), sorted."""
    records = []
    for path in sorted((Path(results) / "progress").rglob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # being replaced right now
    return sorted(records, key=lambda r: (r.get("benchmark", ""), r.get("method", ""),
                                          r.get("seed", 0)))


def format_status(records: list[dict[str, Any]]) -> str:
    """One line per run (state, simulated time / budget, trials, best so far), then totals."""
    lines = []
    for r in records:
        reached = r.get("simulated_time") or 0.0
        share = 100.0 * reached / r["budget"] if r.get("budget") else 0.0
        best = "-" if r.get("best") is None else _fmt(r["best"])
        direction = "higher is better" if r.get("mode") == "max" else "lower is better"
        line = (f"{r.get('benchmark')}/{r.get('method')}/{r.get('seed')}: {r['state']:<7} "
                f"t={reached:,.0f}/{r.get('budget', 0):,.0f} s ({share:3.0f}%) "
                f"trials={r.get('trials_started', 0)} results={r.get('results', 0)} "
                f"best {r.get('metric')}={best} ({direction}) "
                f"[{r.get('real_seconds', 0):.0f} s real, updated {r.get('updated')}]")
        if r.get("error"):
            line += f" error: {r['error']}"
        lines.append(line)
    states = Counter(r["state"] for r in records)
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no runs yet")
    return "\n".join(lines)
