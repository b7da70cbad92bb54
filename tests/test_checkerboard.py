import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tconv_lib import conv2d_transpose, overlap_count, phase_sums, uneven_overlap


def test_kernel_3_stride_2_alternates_one_and_two():
    counts = overlap_count((1, 4), (1, 3), (1, 2))[0]
    np.testing.assert_array_equal(counts, [1, 1, 2, 1, 2, 1, 2, 1, 1])
    assert uneven_overlap(3, 2)


def test_kernel_divisible_by_stride_is_even_inside():
    counts = overlap_count((6, 6), 4, 2)
    inner = counts[2:-2, 2:-2]
    assert (inner == inner[0, 0]).all() and inner[0, 0] == 4
    assert not uneven_overlap(4, 2)


def test_2d_count_is_product_of_1d_counts():
    rows, cols = overlap_count((5, 1), (3, 1), (2, 1))[:, 0], overlap_count((1, 5), (1, 3), (1, 2))[0]
    np.testing.assert_array_equal(overlap_count((5, 5), 3, 2), np.outer(rows, cols))


def test_same_padding_shape_and_total():
    counts = overlap_count((4, 4), 3, 2, padding="same")
    assert counts.shape == (8, 8)
    assert counts.dtype == np.int64


def test_bad_arguments():
    with pytest.raises(ValueError, match="input_shape"):
        overlap_count((4,), 3, 2)
    with pytest.raises(ValueError, match="strides"):
        uneven_overlap(3, 0)


def test_phase_sums_of_the_plus_kernel_are_uneven():
    # It meets the 1-D balance rule (centre = sum of the outer two) on both axes, but not the 2-D one.
    plus = np.array([[0, 1, 0], [1, 2, 1], [0, 1, 0]])
    np.testing.assert_array_equal(phase_sums(plus, 2), [[0, 2], [2, 2]])
    np.testing.assert_array_equal(phase_sums(np.outer([1, 2, 1], [1, 2, 1]), 2), [[4, 4], [4, 4]])


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_phase_sums_are_the_interior_of_a_constant_input(kh, kw, sh, sw, seed):
    rng = np.random.default_rng(seed)
    kernel = rng.integers(-3, 4, size=(kh, kw, 2, 3)).astype(float)
    y = conv2d_transpose(np.ones((1, 12, 12, 3)), kernel, strides=(sh, sw))[0]
    # Full scatter: output row r * s + i holds tap i, so cell (y, x) is fed by phase (y % s, x % s).
    inner = y[kh + sh: -(kh + sh), kw + sw: -(kw + sw)]
    sums = phase_sums(kernel, (sh, sw)).sum(axis=3)              # (s_h, s_w, C_out): summed over C_in
    rows, cols = np.arange(kh + sh, y.shape[0] - kh - sh), np.arange(kw + sw, y.shape[1] - kw - sw)
    np.testing.assert_allclose(inner, sums[rows[:, None] % sh, cols[None, :] % sw])
    flat = np.ptp(inner.reshape(-1, 2), axis=0).max() == 0
    assert flat == (np.ptp(sums.reshape(-1, 2), axis=0).max() == 0)


def test_phase_sums_bad_arguments():
    with pytest.raises(ValueError, match="kernel"):
        phase_sums(np.ones((3, 3, 1)), 2)
    with pytest.raises(ValueError, match="strides"):
        phase_sums(np.ones((3, 3)), (2, 0))
