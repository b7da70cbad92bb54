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
undone when the last call in progress ends.
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
_inside: dict[int, bool] = {}  # the threads with a threaded call in progress (calls do not nest)
_saved = None  # OpenBLAS's thread count before it was set to one (None: it was not)
_helpers: ThreadPoolExecutor | None = None
_helper_count = 0


#: A call of fewer multiply-adds (about 20 ms of float32 products on the 2-core machine)
#: runs its chunks in turn, with the BLAS's own threads: there, sharing out smaller calls'
#: chunks made them up to 1.5x slower, and larger ones 0.74x-0.89x as long (see the README).
THREADED_FROM_MULTIPLY_ADDS = 2 * 10**9


def each(run, chunks, multiply_adds) -> None:
    """``run(scratch, chunk)`` for every chunk, shared out between as many threads as OpenBLAS had
    when the first threaded call in progress began.

    A call of fewer than ``THREADED_FROM_MULTIPLY_ADDS`` runs them in turn on this thread,
    with the BLAS's own threads. Chunks must write disjoint outputs. The first exception a
    chunk raises (Ctrl-C included) is raised here, once every chunk already started has
    finished; no chunk starts after it.
    """
    chunks, entered = list(chunks), []
    try:
        workers = 1
        if multiply_adds >= THREADED_FROM_MULTIPLY_ADDS and len(chunks) > 1:
            workers = _enter(entered)
        if workers == 1:
            scratch = Scratch()
            for chunk in chunks:
                run(scratch, chunk)
        else:
            _share(run, chunks, workers)
    finally:
        if entered:
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

    try:
        for _ in range(min(workers, len(chunks)) - 1):
            # A helper that starts late (the pool busy with another call's chunks) finds none left.
            try:
                _pool(workers).submit(work)
            except RuntimeError:  # the interpreter is shutting down: no new thread
                break
        work()
    except BaseException as error:  # Ctrl-C between two chunks: stop the helpers too
        with lock:
            failures.append(error)
    with lock:
        while running:
            finished.wait()
    if failures:
        raise failures[0]


def _enter(entered: list) -> int:
    """Sets OpenBLAS to one thread for the first threaded call in progress; returns how many
    threads a call may use (1: run serially). Appends to ``entered`` when the call counts as
    in progress (then it must ``_leave``), in the same step, so that no Ctrl-C falls between."""
    global _saved
    # Never waits: a signal handler may call the library while this thread holds the lock.
    if _blas is None or not _lock.acquire(blocking=False):
        return 1
    try:
        me, alive = threading.get_ident(), {thread.ident for thread in threading.enumerate()}
        # This thread is in no call, and a thread that ended is in none: an entry of theirs
        # was left by a Ctrl-C between a call's end and its bookkeeping.
        for ident in [ident for ident in _inside if ident == me or ident not in alive]:
            del _inside[ident]
        if _saved is None:
            threads = _blas[0]()
            if threads <= 1:
                return 1
            _saved = threads  # saved before it is set: a Ctrl-C between cannot lose it
            _blas[1](1)
        _inside[me] = True
        entered.append(True)
        return _saved
    finally:
        _lock.release()


def _leave() -> None:
    """Gives OpenBLAS its threads back when no threaded call is left in progress."""
    global _saved
    with _lock:
        _inside.pop(threading.get_ident(), None)
        if not _inside and _saved is not None:
            _blas[1](_saved)
            _saved = None


def _pool(workers) -> ThreadPoolExecutor:
    global _helpers, _helper_count
    with _lock:
        if _helper_count < workers - 1:  # first use, or OpenBLAS was given more threads since
            if _helpers is not None:
                _helpers.shutdown(wait=False)
            _helpers, _helper_count = (ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="tconv_lib"),
                                       workers - 1)
        return _helpers


def _after_fork_in_child():
    # The parent's helper threads and any call in progress stay behind in the parent; the
    # child gets OpenBLAS's thread count back.
    global _lock, _helpers, _helper_count, _saved
    if _saved is not None:
        _blas[1](_saved)
    _lock, _helpers, _helper_count, _saved = threading.Lock(), None, 0, None
    _inside.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
