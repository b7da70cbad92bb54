import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import TOL, paddings
from tconv_lib import conv2d, conv2d_transpose_crop, keras_ref, upsample_nearest
from tconv_lib.conv import cut
from tconv_lib.subpixel import (depth_to_space, icnr, subpixel_conv, subpixel_crop, subpixel_to_transposed,
                                transposed_to_subpixel)


@pytest.mark.parametrize("r, c", [(2, 1), (2, 3), (3, 2)])
def test_depth_to_space_matches_tensorflow(r, c):
    x = np.random.default_rng(r * 10 + c).normal(size=(2, 3, 4, r * r * c)).astype(np.float32)
    expected = np.asarray(keras_ref.tensorflow().nn.depth_to_space(x, r))
    np.testing.assert_array_equal(depth_to_space(x, r), expected)


def test_icnr_starts_as_convolution_then_nearest_upsampling():
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(1, 5, 6, 2)), rng.normal(size=(3, 3, 2, 4))
    subpixel = depth_to_space(conv2d(x, icnr(kernel, 2), padding="same"), 2)
    np.testing.assert_allclose(subpixel, upsample_nearest(conv2d(x, kernel, padding="same"), 2), atol=1e-12)
    # A kernel that is not ICNR breaks the equality: the check can fail.
    broken = icnr(kernel, 2)
    broken[..., -1] += 1.0
    assert not np.allclose(depth_to_space(conv2d(x, broken, padding="same"), 2),
                           upsample_nearest(conv2d(x, kernel, padding="same"), 2))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="block_size"):
        depth_to_space(np.ones((1, 2, 2, 3)), 2)
    with pytest.raises(ValueError, match="kernel"):
        icnr(np.ones((3, 3, 2)), 2)


kernels_1_to_4 = st.integers(1, 4)


@st.composite
def subpixel_cases(draw):
    """x (N, H, W, C_in), a sub-pixel kernel (kh, kw, C_in, C * r * r), r and the padding."""
    r, kh, kw, padding = draw(st.integers(2, 3)), draw(kernels_1_to_4), draw(kernels_1_to_4), draw(paddings)
    smallest = (kh, kw) if padding == "valid" else (1, 1)
    h, w = draw(st.integers(smallest[0], 6)), draw(st.integers(smallest[1], 6))
    c_in, c = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), h, w, c_in)).astype(np.float32)
    return x, rng.standard_normal((kh, kw, c_in, c * r * r)).astype(np.float32), r, padding


def keras_subpixel(x, kernel, r, padding):
    return np.asarray(keras_ref.tensorflow().nn.depth_to_space(keras_ref.conv2d(x, kernel, padding=padding), r))


@settings(max_examples=60)
@given(subpixel_cases())
def test_subpixel_is_a_transposed_convolution_in_keras(case):
    x, kernel, r, padding = case
    expected = keras_subpixel(x, kernel, r, padding)
    full = keras_ref.conv2d_transpose(x, subpixel_to_transposed(kernel, r), strides=r, padding="valid")
    np.testing.assert_allclose(cut(full, subpixel_crop(kernel.shape[:2], r, padding)), expected, **TOL)
    np.testing.assert_allclose(subpixel_conv(x, kernel, r, padding), expected, **TOL)


@given(st.integers(1, 6), st.integers(2, 4), st.integers(1, 7))
def test_keras_same_padding_lines_up_only_for_odd_kernels(k, r, h):
    # Keras's "same" Conv2D puts its odd extra zero after the input; its "same" transposed
    # convolution cuts the odd extra row before: they agree only when there is none.
    keras_same = conv2d_transpose_crop((h, h), r * k, r, "same")
    assert (keras_same == subpixel_crop(k, r, "same")) == (k % 2 == 1)


@settings(max_examples=50)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(2, 4), st.integers(1, 3), st.integers(1, 3))
def test_rearrangement_round_trips(kh, kw, r, c_in, c):
    kernel = np.random.default_rng(kh * kw * r).standard_normal((kh, kw, c_in, c * r * r))
    big = subpixel_to_transposed(kernel, r)
    assert big.shape == (kh * r, kw * r, c, c_in)
    np.testing.assert_array_equal(transposed_to_subpixel(big, r), kernel)
    np.testing.assert_array_equal(subpixel_to_transposed(transposed_to_subpixel(big, r), r), big)


def test_a_wrong_arrangement_is_rejected():
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((1, 5, 5, 2)).astype(np.float32), rng.standard_normal((3, 3, 2, 8)).astype(np.float32)
    expected = keras_subpixel(x, kernel, 2, "same")

    def through_keras(big):
        return keras_ref.conv2d_transpose(x, big, strides=2, padding="same")

    np.testing.assert_allclose(through_keras(subpixel_to_transposed(kernel, 2)), expected, **TOL)
    unflipped = subpixel_to_transposed(kernel[::-1, ::-1], 2)
    channel_major = subpixel_to_transposed(kernel.reshape(3, 3, 2, 4, 2).swapaxes(3, 4).reshape(kernel.shape), 2)
    for wrong in (unflipped, channel_major):
        assert not np.allclose(through_keras(wrong), expected, **TOL)


def test_rearrangement_bad_arguments():
    for fn in (subpixel_to_transposed, lambda kernel, r: subpixel_conv(np.ones((1, 4, 4, 1)), kernel, r)):
        with pytest.raises(ValueError, match="kernel has 6 output channels, not a multiple of scale"):
            fn(np.ones((3, 3, 1, 6)), 2)
    with pytest.raises(ValueError, match="scale must be >= 2"):
        subpixel_to_transposed(np.ones((3, 3, 1, 4)), 1)
    with pytest.raises(ValueError, match="pad the kernel"):
        transposed_to_subpixel(np.ones((3, 4, 1, 1)), 2)
    with pytest.raises(ValueError, match="padding"):
        subpixel_crop(3, 2, "full")
