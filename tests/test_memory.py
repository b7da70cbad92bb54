import threading
import weakref

import numpy as np
import pytest

from tconv_lib import conv2d, conv2d_transpose, memory


@pytest.fixture
def keep_small(monkeypatch):
    """Every output is kept for reuse, whatever its size, and nothing is kept yet."""
    monkeypatch.setattr(memory, "_KEEP_FROM_BYTES", 0)
    monkeypatch.setattr(memory, "_kept", [])


def test_a_dropped_output_memory_is_reused(keep_small):
    first = memory.empty((4, 5), np.float32)
    address = first.ctypes.data
    del first
    second = memory.empty((2, 3), np.float64)  # smaller, another dtype: the same memory serves
    assert second.ctypes.data == address
    assert second.shape == (2, 3) and second.dtype == np.float64 and second.flags.c_contiguous


def test_memory_still_referred_to_is_never_reused(keep_small):
    first = memory.empty((4, 5), np.float32)
    first[...] = 7
    view = first[1:3]
    del first  # the view still refers to the buffer
    second = memory.empty((4, 5), np.float32)
    second[...] = 0
    np.testing.assert_array_equal(view, 7)
    assert second.base is not view.base


def test_a_larger_output_gets_new_memory(keep_small):
    small = memory.empty((2,), np.float32)
    small_buffer = weakref.ref(small.base)
    del small
    large = memory.empty((1000,), np.float32)
    assert large.base.nbytes == large.nbytes
    assert small_buffer() is None  # not kept beside the new one


def test_sizes_outside_the_kept_range_are_plain_arrays():
    assert memory.empty((3, 3), np.float32).base is None  # under 32 MiB: glibc reuses it itself
    assert memory._KEEP_FROM_BYTES <= memory._KEEP_UP_TO_BYTES


def test_results_held_or_dropped_stay_exact(keep_small):
    """Layers computed one after another into reused memory: every result kept is unchanged."""
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


def test_threads_never_share_an_output(keep_small):
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
