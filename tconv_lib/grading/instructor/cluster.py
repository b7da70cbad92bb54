"""The Dask cluster a parallel run grades on: a ``LocalCluster`` it starts, or an existing scheduler."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile


# Grading threads per worker process. A thread spends much of a submission waiting: for its
# sandbox (another process) and for the student's own sleeps: two threads per process keep its
# core busy meanwhile.
THREADS = 2


class RunError(RuntimeError):
    """A grading run that cannot start; the message says why."""


class ClusterError(RunError):
    """No usable cluster: the scheduler cannot be reached, no worker joined it, or a worker cannot grade."""


@contextlib.contextmanager
def ctrl_c_ignored_by_children():
    """Processes started inside ignore SIGINT (they inherit it): Ctrl-C, sent to the terminal's whole
    process group, then reaches this process alone, which stops its cluster and children in order."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *, wait_s: float = 60):
    """A ``distributed.Client`` and words for where it grades; a local cluster is stopped on exit.

    Without ``scheduler``: a ``LocalCluster`` on 127.0.0.1 with ``workers`` processes (one per
    core by default) of ``THREADS`` threads each, no dashboard, TLS. With it
    (``tcp://host:8786``): that cluster, once at least one worker has joined (``wait_s``).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{wait_s}s")
        except (OSError, ValueError) as exc:  # unreachable, or not an address (tcp://host:8786, tls://...)
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=wait_s)
            except TimeoutError:
                raise ClusterError(f"no worker joined the Dask scheduler at {scheduler} in {wait_s:g} s "
                                   f"(start some: dask worker {scheduler} --nthreads {THREADS})") from None
            yield client, f"on the Dask scheduler at {scheduler}"
        return
    workers = workers or os.cpu_count() or 1
    # The workers' own files (what they spill holds references and solutions) in a private folder.
    with tempfile.TemporaryDirectory(prefix="tconv-dask-") as local:
        with ctrl_c_ignored_by_children():
            # security=True: TLS with a certificate made for this run, so that no other user of the
            # machine can connect to the scheduler and run code as the instructor.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=THREADS, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.CRITICAL, security=True,
                                   local_directory=local)
        with cluster, Client(cluster) as client:
            yield client, f"on a local Dask cluster of {workers} worker process{'es' if workers > 1 else ''}"
