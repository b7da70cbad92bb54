import os
import threading

import numpy as np
import pytest

from tconv_lib import conv2d, conv2d_transpose, memory


@pytest.fixture
def pool_all(monkeypatch):
    """Every array goes through the pool, whatever its size, and the pool starts empty."""
    monkeypatch.setattr(memory, "_POOL_FROM_BYTES", 0)
    monkeypatch.setattr(memory, "_pool", [])


def pooled(array):
    """The pool's buffer under ``array`` (a reference to it keeps it in use)."""
    return next(buffer for buffer in memory._pool if np.shares_memory(buffer, array))


def test_a_dropped_array_memory_is_reused(pool_all):
    first = memory.empty((4, 5), np.float32)
    address = first.ctypes.data
    del first
    second = memory.empty((2, 4), np.float64)  # another shape and dtype: 64 of its 80 bytes
    assert second.ctypes.data == address
    assert second.shape == (2, 4) and second.dtype == np.float64 and second.flags.c_contiguous


def test_memory_still_referred_to_is_never_reused(pool_all):
    first = memory.empty((4, 5), np.float32)
    first[...] = 7
    view = first[1:3]
    del first  # the view still refers to the buffer
    second = memory.empty((4, 5), np.float32)
    second[...] = 0
    np.testing.assert_array_equal(view, 7)
    assert not np.shares_memory(second, view)


def test_a_buffer_serves_sizes_from_most_of_it_to_all_of_it(pool_all):
    # (Addresses, not the buffers: a reference held here would keep a buffer in use.)
    small = memory.empty((10,), np.float32)
    small_address = small.ctypes.data
    del small
    assert memory.empty((11,), np.float32).ctypes.data != small_address  # too large for it
    assert memory.empty((8,), np.float32).ctypes.data == small_address
    big = memory.empty((1000,), np.float32)
    big_address = big.ctypes.data
    del big
    # Under _POOL_FIT of it: a kept result would hold much more memory than its own.
    assert memory.empty((700,), np.float32).ctypes.data != big_address
    assert memory.empty((800,), np.float32).ctypes.data == big_address


def test_the_pool_keeps_a_few_buffers_and_drops_the_oldest(pool_all):
    held = [memory.empty((n + 1,), np.float64) for n in range(memory._POOL_ENTRIES + 3)]
    assert len(memory._pool) == memory._POOL_ENTRIES
    assert memory._pool[0] is pooled(held[3])
    assert not any(np.shares_memory(buffer, held[2]) for buffer in memory._pool)  # freed with it


def test_sizes_outside_the_pooled_range_are_plain_arrays():
    assert memory.empty((3, 3), np.float32).base is None  # small: glibc's heap reuses it itself
    assert memory.empty(5, np.float32).shape == (5,)
    assert memory._POOL_FROM_BYTES <= memory._POOL_UP_TO_BYTES


def test_results_held_or_dropped_stay_exact(pool_all):
    """Layers computed one after another in reused memory: every result kept is unchanged."""
    rng = np.random.default_rng(0)
    held = []
    for step in range(12):
        x = rng.standard_normal((2, 5, 6, 3)).astype(np.float32)
        kernel = rng.standard_normal((3, 3, 4, 3)).astype(np.float32)
        y = conv2d_transpose(x, kernel, strides=2, padding="same")
        expected = conv2d_transpose(x, kernel, strides=2, padding="same", method="scatter")
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
        z = conv2d(x, kernel.transpose(0, 1, 3, 2))
        if step % 3 == 0:
            held.append((y, y.copy(), z, z.copy()))
        for result, copy, *_ in held:
            np.testing.assert_array_equal(result, copy)
        for *_, result, copy in held:
            np.testing.assert_array_equal(result, copy)


def test_threads_never_share_an_array(pool_all):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    kernels = [rng.standard_normal((3, 3, 4, 3)).astype(np.float32) for _ in range(4)]
    expected = [conv2d_transpose(x, k, strides=2, method="scatter") for k in kernels]
    failures = []

    def work(index):
        for _ in range(200):
            y = conv2d_transpose(x, kernels[index], strides=2)
            if not np.allclose(y, expected[index], rtol=1e-5, atol=1e-5):
                failures.append(index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_release_lets_go_of_the_buffers(pool_all):
    kept = memory.empty((100,), np.float32)
    kept[...] = 3
    memory.empty((100,), np.float32)  # dropped at once: free
    assert len(memory._pool) == 2
    memory.release()
    assert memory._pool == []
    memory.empty((100,), np.float32)[...] = 0
    np.testing.assert_array_equal(kept, 3)  # still the caller's


def test_asking_for_an_array_never_waits_for_the_pool(pool_all):
    # A finaliser or a signal handler can run in the middle of memory.empty, on the same
    # thread, while it holds the pool's lock; if it asks for an array it must get one.
    arrays = []

    def reenter():
        with memory._lock:
            arrays.append(memory.empty((1000,), np.float32))

    thread = threading.Thread(target=reenter, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "memory.empty waited for a lock its own thread held"
    assert arrays[0].shape == (1000,)


def test_a_forked_child_has_a_usable_pool(pool_all):
    held = memory.empty((1000,), np.float32)
    held[...] = 5
    pid = os.fork()
    if pid == 0:  # the child: a fresh lock, the inherited buffers, the parent's array intact
        status = 0
        try:
            memory.empty((1000,), np.float32)[...] = 0
            status = 0 if (held == 5).all() else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
