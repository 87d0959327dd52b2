"""The README's library example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def library_blocks() -> list[str]:
    """The python blocks of the README's section "Using the library directly", in order."""
    section = README.read_text().split("## Using the library directly", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_example_runs() -> None:
    blocks = library_blocks()
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    summary = namespace["summary"]
    results = namespace["results"]
    assert summary.tuner_time > 3600  # type: ignore[attr-defined]
    assert len(results) == summary.num_results > 100  # type: ignore[attr-defined,arg-type]
    assert summary.best_metric == results["error"].min()  # type: ignore[attr-defined,index]


def test_readme_searcher_example_runs() -> None:
    from hpo_core import StoppingCriterion, Tuner
    from hpo_core.backends.simulator import SimulatorBackend
    from hpo_core.searchers import GPSearcher
    from hpo_core.testing import SyntheticBlackbox

    namespace: dict[str, object] = {"blackbox": SyntheticBlackbox(max_t=27)}
    exec(compile(library_blocks()[1], str(README), "exec"), namespace)
    scheduler = namespace["scheduler"]
    searcher = scheduler.searcher  # type: ignore[attr-defined]
    assert isinstance(searcher, GPSearcher) and searcher.options.num_init_random == 5
    tuner = Tuner(backend=SimulatorBackend(blackbox=namespace["blackbox"],  # type: ignore[arg-type]
                                           max_resource_attr="epochs"),
                  scheduler=scheduler,  # type: ignore[arg-type]
                  stop_criterion=StoppingCriterion(max_num_trials_started=8), n_workers=2)
    tuner.run()
    assert tuner.num_trials_started == 8
