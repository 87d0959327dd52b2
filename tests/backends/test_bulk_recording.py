"""Results recorded in bulk (segments between decisions) equal event-by-event replay.

Every registered method runs twice on the same blackbox and seed, with ``record_in_bulk`` off
and on; the results tables (rows in order, every column, rung sizes included), the trials'
states and the summary must be identical. Besides the synthetic curves, two blackboxes stress
the ordering: one where every epoch takes one or two seconds (simultaneous events everywhere,
ordered by the heap's push order) and one whose elapsed time sometimes goes backwards (events
the heap moves to the clock's time); 81-epoch curves give segments long enough for the numpy
paths of the simulator and the results store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hpo_core.backends.simulator import SimulatorBackend
from hpo_core.blackboxes.base import Curve
from hpo_core.experiments.launcher import RungSizes
from hpo_core.experiments.methods import METHODS, MethodArguments, apply_method_args, get_method
from hpo_core.experiments.progress import ProgressFile
from hpo_core.schedulers import HyperbandScheduler
from hpo_core.testing.scheduler_contract import ContractBlackbox, fast_overrides
from hpo_core.tuner import StoppingCriterion, Tuner


class Ties(ContractBlackbox):
    """Epochs of one second, or two for a third of the configs: many simultaneous events."""

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        curve = super().curve(config, seed)
        objectives = curve.objectives.copy()
        step = 2.0 if int(config["num_units"]) % 3 == 0 else 1.0
        objectives[:, 1] = step * np.arange(1, len(objectives) + 1)
        return replace(curve, objectives=objectives)


class Long(ContractBlackbox):
    """81 epochs: segments long enough for the simulator's and the store's numpy paths."""

    def __init__(self, *, failure_fraction: float = 0.0) -> None:
        super().__init__(max_t=81, failure_fraction=failure_fraction)


class Backwards(Long):
    """81 epochs whose elapsed time drops at every seventh epoch for some configs."""

    def curve(self, config: Mapping[str, Any], seed: int = 0) -> Curve:
        curve = super().curve(config, seed)
        objectives = curve.objectives.copy()
        if int(config["num_units"]) % 2:
            objectives[6::7, 1] -= 0.5 * objectives[0, 1]
        return replace(curve, objectives=objectives)


BLACKBOXES = {"synthetic": ContractBlackbox, "ties": Ties, "long": Long,
              "backwards": Backwards}
STOPS = {
    "started": StoppingCriterion(max_num_trials_started=40),
    "wallclock": StoppingCriterion(max_wallclock_time=1_500.0),
    "evaluations": StoppingCriterion(max_num_evaluations=211),
    "completed": StoppingCriterion(max_num_trials_completed=5),
}


def run(method: str, blackbox: ContractBlackbox, stop: StoppingCriterion, *,
        bulk: bool, tmp_path: Any) -> tuple[Tuner, pd.DataFrame]:
    args = MethodArguments(config_space=blackbox.config_space, metric="error", mode="min",
                           resource_attr="epoch", max_resource_attr="epochs", n_workers=4,
                           random_seed=5)
    scheduler = get_method(method)(apply_method_args(args, fast_overrides(method)))
    extra = RungSizes(scheduler.levels) if isinstance(scheduler, HyperbandScheduler) else None
    progress = ProgressFile(tmp_path / f"{method}-{bulk}.json", run={}, budget=1.0)
    tuner = Tuner(backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
                  scheduler=scheduler, stop_criterion=stop, n_workers=4, callbacks=[progress],
                  extra_results=extra, record_in_bulk=bulk)
    tuner.run()
    assert progress.num_results == len(tuner.results)
    return tuner, tuner.results.to_dataframe(metric="error")


def assert_same(method: str, kind: str, stop: str, failure: float, tmp_path: Any) -> None:
    criterion = STOPS[stop]
    if kind == "ties" and stop == "wallclock":  # epochs of 1-2 s instead of ~20-60 s
        criterion = StoppingCriterion(max_wallclock_time=100.0)
    runs = [run(method, BLACKBOXES[kind](failure_fraction=failure), criterion, bulk=bulk,
                tmp_path=tmp_path) for bulk in (False, True)]
    (events, expected), (bulk, got) = runs
    assert bulk._segments and not events._segments
    pd.testing.assert_frame_equal(got, expected)
    assert [(t.status, t.resource) for t in bulk.trials.values()] == [
        (t.status, t.resource) for t in events.trials.values()]
    assert replace(bulk.summary(), real_seconds=0.0) == replace(events.summary(), real_seconds=0.0)


MODEL_FREE = [m for m, d in METHODS.items() if not d.model_based]
MODEL_BASED = [m for m, d in METHODS.items() if d.model_based]


@pytest.mark.parametrize("stop", sorted(STOPS))
@pytest.mark.parametrize("kind", sorted(BLACKBOXES))
@pytest.mark.parametrize("method", MODEL_FREE)
def test_model_free_methods(method: str, kind: str, stop: str, tmp_path: Any) -> None:
    assert_same(method, kind, stop, 0.3 if stop in ("started", "evaluations") else 0.0,
                tmp_path)


@pytest.mark.parametrize(("kind", "stop"), [("ties", "wallclock"), ("synthetic", "evaluations")])
@pytest.mark.parametrize("method", MODEL_BASED)
def test_model_based_methods(method: str, kind: str, stop: str, tmp_path: Any) -> None:
    assert_same(method, kind, stop, 0.2, tmp_path)


def test_bulk_needs_every_callback_to_accept_it(tmp_path: Any) -> None:
    class EveryResult(ProgressFile):
        supports_bulk = False

    blackbox = ContractBlackbox()
    for callbacks, bulk in (([], True), ([EveryResult(tmp_path / "p.json", run={}, budget=1)],
                                         False)):
        tuner = Tuner(backend=SimulatorBackend(blackbox=blackbox, max_resource_attr="epochs"),
                      scheduler=get_method("RS")(MethodArguments(
                          config_space=blackbox.config_space, metric="error", mode="min",
                          resource_attr="epoch", max_resource_attr="epochs", n_workers=2,
                          random_seed=0)),
                      stop_criterion=StoppingCriterion(max_num_trials_started=5), n_workers=2,
                      callbacks=callbacks)
        tuner.run()
        assert tuner._segments is bulk
