"""A call's chunks shared out between the cores, each thread running its own one-thread BLAS.

The products alone can use every core through the BLAS's own threads, but the im2col and the
copies into the output between them then run on one core while the BLAS's other threads spin
idle. Here each thread takes the next chunk as it finishes one (a core that the host slows for
a while takes fewer), and all of a chunk's work, copies included, runs in parallel with the
others'. NumPy releases the GIL inside each copy and product, so Python threads suffice.

Only a pthreads build of OpenBLAS (NumPy's own wheels) can be told to run one thread per call
here; with another BLAS, or one already limited to one thread (``OPENBLAS_NUM_THREADS=1``),
the chunks run in turn on the calling thread. OpenBLAS's thread count is one setting for the
whole process: while a call runs threaded, a product that another thread computes gets one
core, and code that sets the count itself meanwhile (threadpoolctl) may find its setting
undone when the last call in progress ends. The helpers are daemon threads fed by a queue
(its ``put`` never blocks, so a call from a signal handler cannot deadlock on it); a call
made while its thread is already inside one runs in turn.
"""
from __future__ import annotations

import ctypes
import itertools
import os
import queue
import threading

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
            paths = sorted({os.path.realpath(line.split(None, 5)[-1].strip()) for line in maps
                            if "openblas" in os.path.basename(line.rstrip()).lower()})
    except (OSError, KeyError, TypeError):  # not Linux, or an older NumPy's configuration
        return None
    if "openblas" not in blas.lower():
        return None
    # NumPy's wheels carry their own OpenBLAS beside the package (numpy.libs); SciPy's may be
    # loaded too. Otherwise (a NumPy built on the system's OpenBLAS) it must be the only one.
    site = os.path.dirname(os.path.dirname(os.path.realpath(np.__file__)))
    own = [path for path in paths if path.startswith(os.path.join(site, "numpy"))]
    if len(own or paths) != 1:
        return None
    try:
        library = ctypes.CDLL((own or paths)[0])
    except OSError:
        return None
    for prefix, suffix in itertools.product(("scipy_openblas", "openblas"), ("64_", "")):
        try:
            get, set_, parallel = (getattr(library, f"{prefix}_{name}{suffix}")
                                   for name in ("get_num_threads", "set_num_threads", "get_parallel"))
        except AttributeError:
            continue
        get.restype, get.argtypes, set_.restype, set_.argtypes = ctypes.c_int, [], None, [ctypes.c_int]
        parallel.restype, parallel.argtypes = ctypes.c_int, []
        # 1: pthreads. An OpenMP build (2) counts threads per caller: the helpers would not
        # see the setting.
        return (get, set_) if parallel() == 1 else None
    return None


_blas = _openblas()


def can_share() -> bool:
    """Whether this process's BLAS can be set to one thread (OpenBLAS), so that a large
    call's chunks are shared out between threads."""
    return _blas is not None


_lock = threading.Lock()
_running = 0  # threaded calls in progress, across the process's threads
_saved = None  # OpenBLAS's thread count before it was set to one (None: it was not)


class _Local(threading.local):
    depth = 0  # this thread's calls of each in progress
    counted = False  # whether this thread's threaded call counts in _running


_local = _Local()
_tasks: queue.SimpleQueue = queue.SimpleQueue()  # the helpers' work (its put never blocks)
_helper_count = 0


#: A call of fewer multiply-adds (about 20 ms of float32 products on the 2-core machine)
#: runs its chunks in turn, with the BLAS's own threads: there, sharing out smaller calls'
#: chunks made them up to 1.5x slower, and larger ones 0.74x-0.89x as long (see the README).
THREADED_FROM_MULTIPLY_ADDS = 2 * 10**9


def each(run, chunks, multiply_adds) -> None:
    """``run(scratch, chunk)`` for every chunk, shared out between as many threads as OpenBLAS had
    when the first threaded call in progress began.

    A call of fewer than ``THREADED_FROM_MULTIPLY_ADDS``, or one made while this thread is
    already inside a call (a signal handler's), runs them in turn on this thread, with the
    BLAS's threads as they are. Chunks must write disjoint outputs. The first exception a
    chunk raises (Ctrl-C included) is raised here, once every chunk already started has
    finished; no chunk starts after it.
    """
    chunks, depth = list(chunks), _local.depth
    try:
        _local.depth = depth + 1
        workers = 1
        if depth == 0 and multiply_adds >= THREADED_FROM_MULTIPLY_ADDS and len(chunks) > 1:
            workers = _enter()
        if workers == 1:
            scratch = Scratch()
            for chunk in chunks:
                run(scratch, chunk)
        else:
            _share(run, chunks, workers)
    finally:
        try:
            if depth == 0 and _local.counted:
                _leave()
        finally:
            # Only after _leave: a signal handler's call meanwhile must not wait for its lock.
            _local.depth = depth


def _share(run, chunks, workers):
    lock = threading.Lock()
    finished = threading.Condition(lock)
    claimed, running, failures = 0, 0, []

    def work(counted):
        # Only helpers count their chunks in ``running``: they never receive Ctrl-C, so a
        # count is never left one too high; the caller's own chunk is over when it waits.
        nonlocal claimed, running
        scratch = Scratch()
        while True:
            # Claimed under the lock, so that once a thread finds none left, no chunk starts later.
            with lock:
                if claimed == len(chunks) or failures:
                    return
                chunk, claimed, running = chunks[claimed], claimed + 1, running + counted
            try:
                run(scratch, chunk)
            except BaseException as error:  # handed to the caller; no chunk starts after it
                failures.append(error)
            finally:
                if counted:
                    with lock:
                        running -= 1
                        finished.notify_all()

    try:
        for _ in range(_start_helpers(min(workers, len(chunks)) - 1)):
            # A helper that starts late (busy with another call's chunks) finds none left.
            _tasks.put(lambda: work(True))
        work(False)
    except BaseException as error:  # Ctrl-C between two chunks: stop the helpers too
        failures.append(error)  # (list.append: no lock, which a second Ctrl-C could cut short)
    # Wait for the helpers' chunks, whatever further Ctrl-C comes meanwhile; raise the first.
    while True:
        try:
            with lock:
                while running:
                    finished.wait()
            break
        except BaseException as error:
            failures.append(error)
    if failures:
        raise failures[0]


def _enter() -> int:
    """Sets OpenBLAS to one thread for the first threaded call in progress; returns how many
    threads a call may use (1: run serially). This thread is counted in the same step (a
    ``finally``, so that no Ctrl-C falls between); a count left by a call cut short is reused."""
    global _running, _saved
    if _blas is None:
        return 1
    with _lock:
        if not _local.counted:
            if _running == 0 and _saved is None:
                threads = _blas[0]()
                if threads <= 1:
                    return 1
                _saved = threads  # saved before it is set: a Ctrl-C between cannot lose it
            try:
                if _running == 0:
                    _blas[1](1)
            finally:
                _running, _local.counted = _running + 1, True
        return _saved


def _leave() -> None:
    """Gives OpenBLAS its threads back when no threaded call is left in progress."""
    global _running, _saved
    with _lock:
        try:
            if _local.counted:
                _running, _local.counted = _running - 1, False
        finally:
            if _running == 0 and _saved is not None:
                threads, _saved = _saved, None
                _blas[1](threads)


def _start_helpers(count) -> int:
    """Starts helper threads until there are ``count`` (fewer at interpreter shutdown); returns how many there are."""
    global _helper_count
    with _lock:
        while _helper_count < count:
            try:
                threading.Thread(target=_helper, name=f"tconv_lib_{_helper_count}", daemon=True).start()
            except RuntimeError:  # the interpreter is shutting down: no new thread
                break
            _helper_count += 1
        return min(count, _helper_count)


def _helper():
    while True:
        _tasks.get()()


def _after_fork_in_child():
    # The parent's helper threads and its calls in progress stay behind in the parent; the
    # child gets OpenBLAS's thread count back.
    global _lock, _tasks, _helper_count, _running, _saved, _local
    if _saved is not None:
        _blas[1](_saved)
    _lock, _tasks, _helper_count, _running, _saved = threading.Lock(), queue.SimpleQueue(), 0, 0, None
    _local = _Local()


os.register_at_fork(after_in_child=_after_fork_in_child)
