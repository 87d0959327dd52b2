"""The README's library example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs() -> None:
    text = README.read_text()
    section = text.split("## Using the library directly", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    summary = namespace["summary"]
    results = namespace["results"]
    assert summary.tuner_time > 3600  # type: ignore[attr-defined]
    assert len(results) == summary.num_results > 100  # type: ignore[attr-defined,arg-type]
    assert summary.best_metric == results["error"].min()  # type: ignore[attr-defined,index]
