import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import TOL
from tconv_lib import bed_of_nails, keras_ref, max_pool_with_argmax, max_unpool, upsample_bilinear, upsample_nearest


@st.composite
def images(draw, max_side=9):
    n, h, w, c = draw(st.integers(1, 2)), draw(st.integers(1, max_side)), draw(st.integers(1, max_side)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((n, h, w, c)).astype(np.float32)


upsample_sizes = st.tuples(st.integers(1, 4), st.integers(1, 4))


@given(images(), upsample_sizes)
def test_nearest_matches_keras(x, size):
    np.testing.assert_array_equal(upsample_nearest(x, size), keras_ref.upsampling2d(x, size, "nearest"))


@given(images(), upsample_sizes)
def test_bilinear_matches_keras(x, size):
    ours = upsample_bilinear(x, size)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, keras_ref.upsampling2d(x, size, "bilinear"), **TOL)


def test_bilinear_small_example():
    x = np.array([[0.0, 4.0]]).reshape(1, 1, 2, 1)
    # Half-pixel centres: outputs sample 0.25 and 0.75 of the way inwards, clamped at the edges.
    np.testing.assert_allclose(upsample_bilinear(x, 2)[0, 0, :, 0], [0, 1, 3, 4])


def test_bed_of_nails():
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(bed_of_nails(x, 2)[0, :, :, 0],
                                  [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])


@given(images(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]), st.booleans())
def test_max_pool_with_argmax_matches_tensorflow(x, pool, stride, padding, batch_index):
    if padding == "valid" and pool > min(x.shape[1:3]):
        with pytest.raises(ValueError, match="fit"):
            max_pool_with_argmax(x, pool, stride, padding)
        return
    pooled, argmax = max_pool_with_argmax(x, pool, stride, padding, include_batch_in_index=batch_index)
    ref_pooled, ref_argmax = keras_ref.max_pool_with_argmax(x, pool, stride, padding, batch_index)
    np.testing.assert_array_equal(pooled, ref_pooled)
    np.testing.assert_array_equal(argmax, ref_argmax)


def test_ties_go_to_the_first_maximum_like_tensorflow():
    x = np.ones((1, 2, 2, 1), np.float32)
    _, argmax = max_pool_with_argmax(x)
    assert argmax.item() == 0 == keras_ref.max_pool_with_argmax(x)[1].item()


@given(images(max_side=8), st.booleans())
def test_unpool_puts_each_maximum_back(x, batch_index):
    # Positive values, so the zeros that unpooling writes are never a window's maximum.
    x = np.abs(x[:, : x.shape[1] // 2 * 2 or 1, : x.shape[2] // 2 * 2 or 1]) + 0.5
    pool = (min(2, x.shape[1]), min(2, x.shape[2]))
    pooled, argmax = max_pool_with_argmax(x, pool, include_batch_in_index=batch_index)
    restored = max_unpool(pooled, argmax, x.shape, include_batch_in_index=batch_index)
    kept = restored != 0
    np.testing.assert_array_equal(restored[kept], x[kept])  # maxima where they were
    assert kept.sum() <= pooled.size  # zeros everywhere else
    np.testing.assert_array_equal(max_pool_with_argmax(restored, pool)[0], pooled)


def test_unpool_bad_arguments():
    pooled, argmax = max_pool_with_argmax(np.ones((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="argmax must have the shape"):
        max_unpool(pooled, argmax[:, :1], (1, 4, 4, 1))
    with pytest.raises(ValueError, match="output_shape must be"):
        max_unpool(pooled, argmax, (4, 4))
    with pytest.raises(ValueError, match="outside output_shape"):
        max_unpool(pooled, argmax + 100, (1, 4, 4, 1))


@pytest.mark.parametrize("fn", [upsample_nearest, upsample_bilinear, bed_of_nails])
def test_bad_size(fn):
    with pytest.raises(ValueError, match="size must be >= 1"):
        fn(np.ones((1, 2, 2, 1)), 0)
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        fn(np.ones((2, 2)), 2)
