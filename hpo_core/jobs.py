"""Workflow jobs: ``hpo-core`` commands run with their output in a log file, optionally in warm
worker processes.

A study's runs are short (seconds for model-free methods on tabulated blackboxes), so a job
that starts a fresh interpreter would spend as long on imports and on loading its blackbox as
on the run itself. When Snakemake executes jobs in its own process (local execution with
``force-use-threads``, set by ``profiles/default``), each job hands its command to a pool
of worker processes. The workers are forked from a server that has imported the launcher
already, and each keeps the blackboxes it has loaded (see
:func:`hpo_core.experiments.launcher.load_benchmark_blackbox`), so a job costs little more than
its run. Anywhere else (a job process of its own, e.g. on a cluster node) the command runs in
the calling process. Either way, the command is the one ``hpo-core`` would run from a shell,
and the job's log starts with it.

Example (the body of a Snakemake ``run:`` block)::

    run_cli_job(["run", "--benchmark", "synthetic", ...], log=log[0],
                workers=workflow.cores if workflow.is_main_process else None)
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import shlex
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool

#: Modules the worker server imports once, before forking workers.
PRELOAD = ["hpo_core.cli", "hpo_core.experiments.launcher", "hpo_core.experiments.analysis",
           "hpo_core.blackboxes.repository", "hpo_core.backends.simulator", "pandas", "h5py"]

#: Seconds between a worker's checks that the process which started it is still alive.
ORPHAN_CHECK_S = 0.5


class JobFailedError(RuntimeError):
    """An ``hpo-core`` command of a workflow job exited with a non-zero status."""


def run_cli(argv: Sequence[str], log: str) -> int:
    """Run ``hpo-core <argv>`` in this process, its stdout and stderr appended to ``log``.

    Output is redirected for Python and at the file-descriptor level, so messages of compiled
    libraries land in the log too. Returns the exit status (1 for an unexpected exception,
    whose traceback is logged).
    """
    from hpo_core import cli

    with open(log, "a") as sink:
        sink.write(f"# hpo-core {shlex.join(argv)}\n")
        sink.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                status = cli.main(list(argv))
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # the job fails; the log says why
            traceback.print_exc(file=sink)
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    return status


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(1)  # the workflow is gone (killed): stop, whatever the worker is doing


def _init_worker() -> None:
    # Workers are children of the fork server, which exits when the workflow process does.
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


_pool: concurrent.futures.ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=_init_worker
            )
        return _pool


def _drop_pool(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def run_cli_job(argv: Sequence[str], *, log: str, workers: int | None) -> None:
    """Run ``hpo-core <argv>`` for a workflow job; its output goes to ``log`` (overwritten).

    Args:
        argv: The command's arguments, as on the command line after ``hpo-core``.
        log: The job's log file.
        workers: Size of the pool of warm worker processes to run the command in (created on
            first use, at most this many commands run at once); ``None`` runs it in this
            process.

    Raises:
        JobFailedError: If the command fails (the message points to the log), or a worker
            process died while it ran (which fails the commands running in the other workers
            too; the next command starts a fresh pool).
    """
    open(log, "w").close()
    argv = [str(a) for a in argv]
    if workers is None:
        status = run_cli(argv, log)
    else:
        pool = _get_pool(workers)
        try:
            future = pool.submit(run_cli, argv, log)
        except BrokenProcessPool:  # a worker died in an earlier job: start afresh
            _drop_pool(pool)
            pool = _get_pool(workers)
            future = pool.submit(run_cli, argv, log)
        try:
            status = future.result()
        except BrokenProcessPool:
            _drop_pool(pool)  # the next job starts a fresh pool
            raise JobFailedError(
                f"hpo-core {argv[0]}: its worker process died (killed, or out of memory); "
                f"log: {log}"
            ) from None
    if status != 0:
        raise JobFailedError(f"hpo-core {argv[0]} exited with status {status}; log: {log}")
