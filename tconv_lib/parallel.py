"""A call's chunks shared out between the cores, each thread running its own one-thread BLAS.

The products alone can use every core through the BLAS's own threads, but the im2col and the
copies into the output between them then run on one core while the BLAS's other threads spin
idle. Here each thread takes the next chunk as it finishes one (a core that the host slows for
a while takes fewer), and all of a chunk's work, copies included, runs in parallel with the
others'. NumPy releases the GIL inside each copy and product, so Python threads suffice.

Only OpenBLAS (NumPy's own wheels) can be told to run one thread per call here; with another
BLAS, or a BLAS already limited to one thread (``OPENBLAS_NUM_THREADS=1``), the chunks run in
turn on the calling thread. While a call runs threaded, OpenBLAS runs one thread for every
caller in the process: a product another thread computes meanwhile gets one core.
"""
from __future__ import annotations

import ctypes
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import memory


class Scratch:
    """One thread's scratch buffers for the chunks it runs, each kept as large as the largest asked."""

    def __init__(self):
        self._buffers = {}

    def get(self, name, size, dtype) -> np.ndarray:
        """A flat array of ``size`` values (uninitialised): the same memory each time for ``name``."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._buffers[name] = memory.empty(size, dtype)
        return buffer[:size]


def _openblas():
    """``(get_num_threads, set_num_threads)`` of the OpenBLAS that NumPy's products run on, or None."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()})
    except (OSError, KeyError, TypeError):  # not Linux, or an older NumPy's configuration
        return None
    if "openblas" not in blas.lower():
        return None
    # NumPy's wheels carry their own OpenBLAS beside the package (numpy.libs); SciPy's may be
    # loaded too. Otherwise (a NumPy built on the system's OpenBLAS) it must be the only one.
    site = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    own = [path for path in paths if path.startswith(os.path.join(site, "numpy"))]
    if len(own or paths) != 1:
        return None
    try:
        library = ctypes.CDLL((own or paths)[0])
    except OSError:
        return None
    for prefix, suffix in itertools.product(("scipy_openblas", "openblas"), ("64_", "")):
        try:
            get, set_ = (getattr(library, f"{prefix}_{verb}_num_threads{suffix}") for verb in ("get", "set"))
        except AttributeError:
            continue
        get.restype, get.argtypes, set_.restype, set_.argtypes = ctypes.c_int, [], None, [ctypes.c_int]
        return get, set_
    return None


_blas = _openblas()
_lock = threading.Lock()
_running = 0  # threaded calls in progress, across the process's threads
_blas_threads = 1  # OpenBLAS's thread count before the first of them
_helpers: ThreadPoolExecutor | None = None


#: A call of fewer multiply-adds (about 20 ms of products on two cores) runs its chunks in
#: turn, with the BLAS's own threads: on the 2-core machine, sharing out smaller calls' chunks
#: made them up to 1.4x slower, and larger ones 0.75x-0.95x faster (see the README).
THREADED_FROM_MULTIPLY_ADDS = 2 * 10**9


def each(run, chunks, multiply_adds) -> None:
    """``run(scratch, chunk)`` for every chunk, on up to as many threads as the BLAS has cores.

    A call of fewer than ``THREADED_FROM_MULTIPLY_ADDS`` runs them in turn on this thread,
    with the BLAS's own threads. Chunks must write disjoint outputs. The first exception a
    chunk raises is raised here, once every chunk already started has finished.
    """
    chunks = list(chunks)
    threaded = multiply_adds >= THREADED_FROM_MULTIPLY_ADDS and len(chunks) > 1
    workers = _enter() if threaded else 1
    if workers == 1:
        scratch = Scratch()
        for chunk in chunks:
            run(scratch, chunk)
        return
    try:
        _share(run, chunks, workers)
    finally:
        _leave()


def _share(run, chunks, workers):
    lock = threading.Lock()
    finished = threading.Condition(lock)
    claimed, running, failures = 0, 0, []

    def work():
        nonlocal claimed, running
        scratch = Scratch()
        while True:
            # Claimed under the lock, so that once this thread finds none left, no chunk starts later.
            with lock:
                if claimed == len(chunks) or failures:
                    return
                chunk, claimed, running = chunks[claimed], claimed + 1, running + 1
            try:
                run(scratch, chunk)
            except BaseException as error:  # handed to the caller; no chunk starts after it
                failures.append(error)
            finally:
                with lock:
                    running -= 1
                    finished.notify_all()

    # A helper that starts late (the pool busy with another call's chunks) finds none left.
    for _ in range(min(workers, len(chunks)) - 1):
        _pool(workers).submit(work)
    work()
    with lock:
        while running:
            finished.wait()
    if failures:
        raise failures[0]


def _enter() -> int:
    """Sets OpenBLAS to one thread for the first threaded call in progress; returns how many
    threads a call may use (1: run serially)."""
    global _running, _blas_threads
    if _blas is None:
        return 1
    get, set_ = _blas
    with _lock:
        if _running == 0:
            _blas_threads = get()
            if _blas_threads <= 1:
                return 1
            set_(1)
        _running += 1
        return _blas_threads


def _leave() -> None:
    global _running
    with _lock:
        _running -= 1
        if _running == 0:
            _blas[1](_blas_threads)


def _pool(workers) -> ThreadPoolExecutor:
    global _helpers
    with _lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="tconv_lib")
        return _helpers


def _after_fork_in_child():
    # The parent's helper threads and any call in progress stay behind in the parent.
    global _lock, _helpers, _running
    _lock, _helpers, _running = threading.Lock(), None, 0


os.register_at_fork(after_in_child=_after_fork_in_child)
