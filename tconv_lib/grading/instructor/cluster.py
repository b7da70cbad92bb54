"""The Dask cluster a parallel run grades on: a ``LocalCluster`` it starts, or an existing scheduler."""
from __future__ import annotations

import contextlib
import logging
import os


class ClusterError(RuntimeError):
    """No usable cluster: the scheduler cannot be reached, or no worker joined it."""


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *, wait_s: float = 60):
    """A ``distributed.Client`` and words for where it grades; a local cluster is stopped on exit.

    Without ``scheduler``: a ``LocalCluster`` on 127.0.0.1 with ``workers`` processes (one per
    core by default) of one thread each, no dashboard. With it (``tcp://host:8786``): that
    cluster, once at least one worker has joined (``wait_s``).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{wait_s}s")
        except OSError as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=wait_s)
            except TimeoutError:
                raise ClusterError(f"no worker joined the Dask scheduler at {scheduler} in {wait_s:g} s "
                                   f"(start some: dask worker {scheduler} --nthreads 1)") from None
            yield client, f"on the Dask scheduler at {scheduler}"
        return
    workers = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client, f"on a local Dask cluster of {workers} worker process{'es' if workers > 1 else ''}"
