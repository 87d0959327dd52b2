"""Every command the README shows works after the README's install line.

The shell commands of the README's ``bash`` blocks run in order in a copy of the project, after
the README's first command has run the default study; studies run with a one-minute simulated
budget (``--config max_wallclock_time=60``) so that the whole README takes about a minute. The
README's two install lines are checked by ``tests/test_fresh_clone.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
BUDGET = "max_wallclock_time=60"
#: The files of a checkout a user runs the workflow in.
PROJECT_FILES = ("Snakefile", "workflow", "profiles", "config")


def readme_commands() -> list[str]:
    """The shell commands of the README's bash blocks, in order, without comments."""
    commands = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", README.read_text(), re.S | re.M):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def with_budget(command: str) -> list[str]:
    """``command`` as arguments; a snakemake command gets the short budget."""
    args = shlex.split(command)
    if args[0] == "snakemake" and "--unlock" not in args:
        if "--config" in args:
            args.insert(args.index("--config") + 1, BUDGET)
        else:
            args += ["--config", BUDGET]
    return args


def test_the_readme_shows_its_two_commands_first() -> None:
    first, second = readme_commands()[:2]
    assert first == ("python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
                     "snakemake --cores 2")
    assert second == ("python3 -m venv .venv && . .venv/bin/activate && "
                      "pip install -e '.[dev]' && python -m pytest -n 2 -q")


def test_every_readme_command_runs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    env = {**ENV, "HPO_CORE_BLACKBOX_STORE": str(tmp_path / "store")}
    first, _, *rest = readme_commands()
    assert first.endswith("&& snakemake --cores 2")
    commands = ["snakemake --cores 2", *rest]
    assert len(commands) >= 12
    for command in commands:
        done = subprocess.run(with_budget(command), cwd=project, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if command.startswith("hpo-core status"):
            assert done.stdout.strip().endswith("30 done"), done.stdout
    assert (project / "report.html").stat().st_size > 100_000
    assert (project / "blackboxes/yahpo_iaml_glmnet/1489.h5.sha256").exists()


@pytest.mark.parametrize("heading", ["## Blackboxes"])
def test_readme_python_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  heading: str) -> None:
    monkeypatch.setenv("HPO_CORE_BLACKBOX_STORE", str(tmp_path / "store"))
    section = README.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks
    for code in blocks:
        namespace: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), namespace)
    assert "blackbox" in namespace
