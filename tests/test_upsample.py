import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import TOL
from tconv_lib import (bed_of_nails, bilinear_filter, bilinear_kernel, keras_ref, max_pool_with_argmax, max_unpool,
                       resize_conv_crop, resize_conv_kernel, upsample_bilinear, upsample_nearest)
from tconv_lib.conv import cut


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


@st.composite
def resize_conv_cases(draw):
    """x (N, H, W, C_in), a Conv2D kernel (kh, kw, C_in, C_out), an UpSampling2D size, a padding."""
    size, padding = draw(upsample_sizes), draw(st.sampled_from(["valid", "same"]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # "valid" needs the kernel to fit in the upsampled image.
    h, w = draw(st.integers(-(-kh // size[0]), 5)), draw(st.integers(-(-kw // size[1]), 5))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), h, w, c_in)).astype(np.float32)
    return x, rng.standard_normal((kh, kw, c_in, c_out)).astype(np.float32), size, padding


@settings(max_examples=60)
@given(resize_conv_cases())
def test_resize_then_convolve_is_a_tied_transposed_convolution_in_keras(case):
    x, kernel, size, padding = case
    expected = keras_ref.conv2d(keras_ref.upsampling2d(x, size), kernel, padding=padding)
    full = keras_ref.conv2d_transpose(x, resize_conv_kernel(kernel, size), strides=size, padding="valid")
    np.testing.assert_allclose(cut(full, resize_conv_crop(kernel.shape[:2], padding)), expected, **TOL)


@settings(max_examples=50)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4))
def test_every_phase_of_the_tied_kernel_sums_to_the_kernel(kh, kw, sh, sw):
    kernel = np.random.default_rng(kh + 10 * kw).standard_normal((kh, kw, 2, 3))
    tied = resize_conv_kernel(kernel, (sh, sw))
    assert tied.shape == (kh + sh - 1, kw + sw - 1, 3, 2)
    for i in range(sh):
        for j in range(sw):
            np.testing.assert_allclose(tied[i::sh, j::sw].sum(axis=(0, 1)), kernel.sum(axis=(0, 1)).T)


def test_a_wrong_tied_kernel_is_rejected():
    rng = np.random.default_rng(2)
    x, kernel = rng.standard_normal((1, 5, 6, 2)).astype(np.float32), rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    expected = keras_ref.conv2d(keras_ref.upsampling2d(x, 2), kernel, padding="same")

    def through_keras(tied):
        return keras_ref.conv2d_transpose(x, tied, strides=2, padding="same")

    np.testing.assert_allclose(through_keras(resize_conv_kernel(kernel, 2)), expected, **TOL)
    unflipped = resize_conv_kernel(kernel[::-1, ::-1], 2)
    untied = np.pad(kernel[::-1, ::-1].transpose(0, 1, 3, 2), ((0, 1), (0, 1), (0, 0), (0, 0)))
    for wrong in (unflipped, untied, resize_conv_kernel(kernel.transpose(0, 1, 3, 2), 2)):
        assert not np.allclose(through_keras(wrong), expected, **TOL)


def fcn_upsample_filt(size):
    """FCN's rule (surgery.py) in its own terms: factor ceil(size / 2), centre between taps when even."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 else factor - 0.5
    rows, cols = np.ogrid[:size, :size]
    return (1 - abs(rows - center) / factor) * (1 - abs(cols - center) / factor)


@pytest.mark.parametrize("size", range(1, 9))
def test_bilinear_filter_is_fcns(size):
    np.testing.assert_allclose(bilinear_filter(size), fcn_upsample_filt(size), atol=1e-15)


@pytest.mark.parametrize("scale, taps", [(1, [1]), (2, [1, 3, 3, 1]), (3, [1, 2, 3, 2, 1]), (4, [1, 3, 5, 7, 7, 5, 3, 1])])
def test_bilinear_kernel_is_a_triangle_of_width_2s_channel_by_channel(scale, taps):
    kernel = bilinear_kernel(scale, 3)
    triangle = np.array(taps) / (2 * scale if scale % 2 == 0 else scale)
    assert kernel.shape == (len(taps), len(taps), 3, 3)
    for c in range(3):
        np.testing.assert_allclose(kernel[:, :, c, c], np.outer(triangle, triangle), atol=1e-15)
    off_diagonal = ~np.eye(3, dtype=bool)
    assert not kernel[:, :, off_diagonal].any()


@settings(max_examples=40)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_bilinear_kernel_equals_keras_bilinear_resize_away_from_the_borders(s, h, w, seed):
    # Positive pixels: at the borders the transposed convolution misses the weight that the
    # resize clamps back onto the edge pixel, so every border pixel differs.
    x = np.random.default_rng(seed).uniform(1, 2, (1, h, w, 2)).astype(np.float32)
    resized = keras_ref.upsampling2d(x, s, "bilinear")
    tconv = keras_ref.conv2d_transpose(x, bilinear_kernel(s, 2).astype(np.float32), strides=s, padding="same")
    band = np.zeros(resized.shape[1:3], bool)  # floor(s / 2) rows and columns on each side
    if s // 2:
        band[: s // 2] = band[-(s // 2):] = band[:, : s // 2] = band[:, -(s // 2):] = True
    agree = np.isclose(tconv, resized, **TOL)
    np.testing.assert_array_equal(agree, np.broadcast_to(~band[None, :, :, None], agree.shape))


def test_kernel_builders_bad_arguments():
    with pytest.raises(ValueError, match="kernel must have 4 dimensions"):
        resize_conv_kernel(np.ones((3, 3, 1)), 2)
    with pytest.raises(ValueError, match="size must be >= 1"):
        resize_conv_kernel(np.ones((3, 3, 1, 1)), 0)
    with pytest.raises(ValueError, match="scale must be >= 1"):
        bilinear_kernel(0, 1)
    with pytest.raises(ValueError, match="channels must be an int"):
        bilinear_kernel(2, 1.5)
