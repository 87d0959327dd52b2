"""Tuner: stopping criteria, results table, extra results, summary, input validation."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.schedulers import FIFOScheduler, HyperbandScheduler
from hpo_core.testing import SyntheticBlackbox
from hpo_core.tuner import StoppingCriterion, Tuner

BLACKBOX = SyntheticBlackbox(max_t=27)


def make_tuner(scheduler: Any = None, **kwargs: Any) -> Tuner:
    scheduler = scheduler or HyperbandScheduler(
        BLACKBOX.config_space, metric="error", max_resource_attr="epochs", random_seed=0
    )
    args: dict[str, Any] = {
        "backend": SimulatorBackend(blackbox=BLACKBOX, max_resource_attr="epochs"),
        "scheduler": scheduler,
        "stop_criterion": StoppingCriterion(max_num_trials_started=100),
        "n_workers": 4,
    }
    args.update(kwargs)
    return Tuner(**args)


def test_results_table_has_one_row_per_result_and_syne_tune_columns() -> None:
    tuner = make_tuner()
    summary = tuner.run()
    df = tuner.results.to_dataframe(metric="error", mode="min")
    assert len(df) == summary.num_results == len(tuner.results)
    for column in ["trial_id", "st_tuner_time", "st_decision", "epoch", "error",
                   "elapsed_time", "best_error", "config_learning_rate", "config_optimizer",
                   "config_epochs"]:
        assert column in df.columns
    assert df["st_tuner_time"].is_monotonic_increasing
    assert set(df["st_decision"].astype(str)) <= {"CONTINUE", "STOP", "PAUSE"}
    assert (df["best_error"] == df["error"].cummin()).all()
    # configs are the trials' configs
    row = df.iloc[-1]
    assert row["config_learning_rate"] == tuner.trials[row["trial_id"]].config["learning_rate"]
    # summary: best over all recorded results
    assert summary.best_metric == df["error"].min()
    best_row = df.loc[df["error"].idxmin()]
    assert summary.best_trial_id == best_row["trial_id"]
    assert summary.best_config == tuner.trials[summary.best_trial_id].config


class RungSizes:
    """Seed 001's extra results: sizes of rung levels over time."""

    levels = (1, 3, 9)

    def keys(self) -> list[str]:
        return [f"num_at_level{r}" for r in self.levels]

    def __call__(self, tuner: Tuner) -> dict[str, Any] | None:
        scheduler = tuner.scheduler
        if not isinstance(scheduler, HyperbandScheduler):
            return None
        return {f"num_at_level{info.level}": info.num_entries
                for info in scheduler.information_for_rungs() if info.level in self.levels}


def test_extra_results_record_rung_sizes() -> None:
    tuner = make_tuner(extra_results=RungSizes())
    tuner.run()
    df = tuner.results.to_dataframe()
    at_one = df["num_at_level1"].to_numpy()
    assert at_one[-1] == (df["epoch"] == 1).sum()
    assert np.all(np.diff(at_one) >= 0) and at_one[-1] > at_one[0]
    # With random search, the composer has nothing to say: empty columns.
    rs = make_tuner(FIFOScheduler(BLACKBOX.config_space, metric="error", random_seed=0),
                    extra_results=RungSizes())
    rs.run()
    assert rs.results.to_dataframe()["num_at_level1"].isna().all()


def test_maximize_mode_finds_the_largest() -> None:
    tuner = make_tuner(FIFOScheduler(BLACKBOX.config_space, metric="error", mode="max",
                                     random_seed=0))
    summary = tuner.run()
    assert summary.best_metric == max(tuner.results.metrics["error"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "StoppingCriterion needs at least one"),
        ({"max_wallclock_time": -1}, "max_wallclock_time"),
        ({"max_num_evaluations": 1.5}, "max_num_evaluations"),
        ({"max_num_trials_started": 0}, "max_num_trials_started"),
    ],
)
def test_bad_stopping_criterion(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        StoppingCriterion(**kwargs)


def test_bad_tuner_arguments() -> None:
    with pytest.raises(ValueError, match="n_workers"):
        make_tuner(n_workers=0)
    with pytest.raises(ValueError, match=r"metric 'accuracy'.*allowed: \['error', "):
        make_tuner(FIFOScheduler(BLACKBOX.config_space, metric="accuracy"))
    with pytest.raises(ValueError, match="mode"):
        FIFOScheduler(BLACKBOX.config_space, metric="error", mode="best")


def test_config_outside_domain_in_points_to_evaluate() -> None:
    with pytest.raises(ValueError, match="learning_rate"):
        FIFOScheduler(BLACKBOX.config_space, metric="error",
                      points_to_evaluate=[{"learning_rate": 5.0}])


def test_points_to_evaluate_midpoint_default_and_partial_and_off() -> None:
    space = BLACKBOX.config_space
    default = FIFOScheduler(space, metric="error", random_seed=0).suggest(0)
    assert default is not None and default.config is not None
    assert default.config["learning_rate"] == pytest.approx(1e-2)
    assert default.config["optimizer"] == "sgd"
    partial = FIFOScheduler(space, metric="error", random_seed=0,
                            points_to_evaluate=[{"optimizer": "adam"}]).suggest(0)
    assert partial is not None and partial.config is not None
    assert partial.config["optimizer"] == "adam"
    assert partial.config["learning_rate"] == pytest.approx(1e-2)
    off = FIFOScheduler(space, metric="error", random_seed=0, points_to_evaluate=[]).suggest(0)
    assert off is not None and off.config is not None
    assert off.config != default.config


def test_paired_seeds_give_the_same_configs_across_methods() -> None:
    rs = FIFOScheduler(BLACKBOX.config_space, metric="error", random_seed=11)
    asha = HyperbandScheduler(BLACKBOX.config_space, metric="error", max_resource_attr="epochs",
                              brackets=3, random_seed=11)
    for trial_id in range(20):
        a, b = rs.suggest(trial_id), asha.suggest(trial_id)
        assert a is not None and b is not None and a.config == b.config


def test_import_is_light() -> None:
    code = ("import sys, hpo_core; from hpo_core import Tuner; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'torch', 'sklearn', 'h5py', "
            "'snakemake', 'boto3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
