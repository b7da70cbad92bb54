"""Large outputs in memory that a previous, freed output used, as TensorFlow's allocator does.

A NumPy array over glibc's largest mmap threshold (32 MiB) is mapped afresh on every call,
and the kernel zeroes each new page when it is first written: for a (16, 128, 128, 64)
float32 output that is 5-7 ms of one core writing 67 MB of zeros before the library writes
its own values (Keras's calls fault no page: TensorFlow keeps freed memory for reuse). So the
library keeps the buffer of its last large output; once nothing else refers to it (the caller
dropped the array and every view of it), the next output of at most that size is built in it.
"""
from __future__ import annotations

import math
import sys
import threading

import numpy as np

#: Outputs from this size up are kept (below it glibc keeps freed memory itself).
_KEEP_FROM_BYTES = 32 << 20
#: Larger ones are not: the kept buffer is memory the process holds while idle.
_KEEP_UP_TO_BYTES = 512 << 20

_kept: list[np.ndarray] = []  # at most one flat uint8 buffer
_lock = threading.Lock()


def empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, like ``np.empty``, possibly in a freed output's memory."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if not _KEEP_FROM_BYTES <= nbytes <= _KEEP_UP_TO_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        buffer = _kept.pop() if _kept else None
        # Referred to by `buffer` and getrefcount's argument only: no array of a caller
        # shares this memory any more.
        if buffer is None or buffer.nbytes < nbytes or sys.getrefcount(buffer) > 2:
            buffer = np.empty(nbytes, np.uint8)
        _kept.append(buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)
