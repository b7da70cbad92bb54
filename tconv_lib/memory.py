"""Arrays in memory that an earlier, freed array of the library used, as TensorFlow's allocator does.

A fresh NumPy array of a few MiB or more is often fresh memory: glibc maps an array over its
mmap threshold (at most 32 MiB) anew each time, and gives back the top of its heap when it
is freed once other allocations (TensorFlow's, in a process that also runs Keras) have moved
its thresholds. The kernel then zeroes each page on first write: a (16, 128, 128, 64) float32
output costs 5-7 ms of one core writing 67 MB of zeros before the library writes its values,
and beside Keras's calls batch-16 DCGAN's scratch arrays faulted 1,900 pages per call (54-61
ms instead of 41-49). Keras's calls fault none: TensorFlow keeps freed memory for reuse.

So the library keeps the buffers of its last few large arrays (outputs and scratch alike).
Once nothing else refers to one (the caller dropped the array and every view of it), the next
array of about its size is built in it. ``release()`` lets go of them.
"""
from __future__ import annotations

import math
import os
import sys
import threading

import numpy as np

#: Smaller arrays come from glibc's heap, which reuses them without faults.
_POOL_FROM_BYTES = 256 << 10
#: Larger ones are not kept: a kept buffer is memory the process holds while idle.
_POOL_UP_TO_BYTES = 512 << 20
#: A buffer serves arrays of its size down to this fraction of it (an array the caller keeps
#: holds its whole buffer).
_POOL_FIT = 0.8
#: Buffers kept at most; the least recently used goes first. A phase call uses about five,
#: and two more per thread it shares its chunks with (``parallel.py``).
_POOL_ENTRIES = 8 + 2 * (os.cpu_count() or 1)

_pool: list[np.ndarray] = []  # flat uint8 buffers, the most recently used last
_lock = threading.Lock()


def empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, like ``np.empty``, possibly in a freed array's memory.

    The array is then a view (its ``base`` is the buffer, and ``resize`` refuses it).
    """
    dtype, shape = np.dtype(dtype), tuple(shape) if np.iterable(shape) else (shape,)
    nbytes = math.prod(shape) * dtype.itemsize
    if not _POOL_FROM_BYTES <= nbytes <= _POOL_UP_TO_BYTES:
        return np.empty(shape, dtype)
    # Never waits: the lock may be held by this very thread, if a finaliser or a signal
    # handler calls the library while ``_take`` runs. Then the array is a plain one.
    if not _lock.acquire(blocking=False):
        return np.empty(shape, dtype)
    try:
        buffer = _take(nbytes)
    finally:
        _lock.release()
    if buffer is None:
        buffer = np.empty(nbytes, np.uint8)  # outside the lock: allocating can run finalisers
    if _lock.acquire(blocking=False):
        try:
            if len(_pool) >= _POOL_ENTRIES:
                del _pool[0]
            _pool.append(buffer)
        finally:
            _lock.release()
    return buffer[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Let go of the kept buffers (one still in use stays with its array, as any array's memory).

    Not from a finaliser or a signal handler: it waits for the pool's lock.
    """
    with _lock:
        _pool.clear()


def _take(nbytes):
    """The smallest free buffer that fits ``nbytes``, out of the pool; None if there is none.

    Allocates no Python container, so that no garbage collection (and no finaliser) can run
    while the caller holds the lock.
    """
    best = -1
    for i in range(len(_pool)):
        size = _pool[i].nbytes
        # sys.getrefcount(_pool[i]) counts the pool's reference and its own argument: 2
        # means no array of a caller, and no view of one, shares the buffer.
        if (nbytes <= size and nbytes >= _POOL_FIT * size and sys.getrefcount(_pool[i]) == 2
                and (best < 0 or size < _pool[best].nbytes)):
            best = i
    return None if best < 0 else _pool.pop(best)


def _after_fork_in_child():
    # A thread of the parent may have held the lock when the process forked.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
