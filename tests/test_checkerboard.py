import numpy as np
import pytest

from tconv_lib import overlap_count, uneven_overlap


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
