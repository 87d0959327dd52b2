"""Progress files of running runs and `hpo-core status`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hpo_core.cli import main
from hpo_core.experiments.launcher import Experiment, run_experiment
from hpo_core.experiments.progress import ProgressFile, format_status, progress_path, read_status
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.testing import SyntheticBlackbox
from hpo_core.trial import Decision, Trial, TrialResult
from hpo_core.tuner import StoppingCriterion, Tuner, TunerCallback


class Watcher(TunerCallback):
    """Reads the progress file as the run goes, as `hpo-core status` would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: list[dict[str, Any]] = []

    def on_trial_result(
        self, tuner: Tuner, trial: Trial, result: TrialResult, decision: Decision
    ) -> None:
        if self.path.exists():
            self.seen.append(json.loads(self.path.read_text()))


def test_the_file_follows_the_run_and_ends_done(tmp_path: Path) -> None:
    from hpo_core.backends.simulator import SimulatorBackend

    blackbox = SyntheticBlackbox(max_t=27)
    path = tmp_path / "progress.json"
    progress = ProgressFile(path, run={"benchmark": "synthetic", "method": "ASHA", "seed": 0,
                                       "metric": "error", "mode": "min"},
                            budget=1800.0, interval=0.0)
    watcher = Watcher(path)
    tuner = Tuner(
        backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
        scheduler=HyperbandScheduler(blackbox.config_space, metric="error", mode="min",
                                     max_resource_attr="epochs", random_seed=1),
        stop_criterion=StoppingCriterion(max_wallclock_time=1800),
        n_workers=4, callbacks=[progress, watcher],
    )
    summary = tuner.run()
    running = [r for r in watcher.seen if r["state"] == "running"]
    assert len(running) > 10
    times = [r["simulated_time"] for r in running]
    assert times == sorted(times) and times[-1] > times[0]
    bests = [r["best"] for r in running if r["best"] is not None]
    assert bests == sorted(bests, reverse=True)  # mode min: the best only improves
    final = json.loads(path.read_text())
    assert final["state"] == "done"
    assert final["best"] == pytest.approx(summary.best_metric)
    assert final["trials_started"] == summary.num_trials_started
    assert final["results"] == summary.num_results


def test_status_shows_each_run_with_budget_best_and_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for method in ("RS", "ASHA"):
        run_experiment(Experiment(experiment_tag="p", benchmark="synthetic", method=method,
                                  seed=0, random_seed=3, max_wallclock_time=600),
                       tmp_path)
    records = read_status(tmp_path / "p")
    assert [(r["method"], r["state"]) for r in records] == [("ASHA", "done"), ("RS", "done")]
    assert main(["status", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.match(r"synthetic/ASHA/0: done    t=60\d/600 s \(10\d%\) trials=\d+ ", out[0])
    assert "best error=" in out[0] and "(lower is better)" in out[0]
    assert out[-1] == "2 done"
    meta = json.loads((tmp_path / "p/synthetic/RS/0/metadata.json").read_text())
    assert f"trials={meta['num_trials_started']} results={meta['num_results']}" in out[1]


def test_a_failed_run_says_so(tmp_path: Path) -> None:
    path = progress_path(tmp_path, "p", "synthetic", "RS", 4)
    ProgressFile(path, run={"benchmark": "synthetic", "method": "RS", "seed": 4,
                            "metric": "error", "mode": "min"},
                 budget=60.0).write(None, "failed", error="KeyboardInterrupt: ")
    (line, total) = format_status(read_status(tmp_path / "p")).splitlines()
    assert line.startswith("synthetic/RS/4: failed  t=0/60 s (  0%)")
    assert line.endswith("error: KeyboardInterrupt: ")
    assert total == "1 failed"
    assert format_status([]) == "no runs yet"
