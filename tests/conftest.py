from __future__ import annotations

import os
from typing import Any

import pytest

# --- skips are failures where every source is available ------------------------------------

#: Set (to 1) where every data source and server is available (CI, which has the data mirror
#: and starts Slurm): any skipped test then fails the session, naming the reasons.
NO_SKIPS_ENV = "HPO_CORE_TESTS_NO_SKIPS"
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(NO_SKIPS_ENV) == "1" and _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get(NO_SKIPS_ENV) == "1" and _skipped:
        terminalreporter.section(
            f"{len(_skipped)} skipped test(s) fail this run ({NO_SKIPS_ENV}=1)"
        )
        for line in _skipped:
            terminalreporter.write_line(line)

