from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings

from strategies import TOL, conv_configs, outcome
from tconv_lib import conv, conv2d, conv_matrix, keras_ref, parallel
from tconv_lib.conv import Patches, cut, pad_or_crop, windows

ARTICLE_X = np.array([[3, 5, 2, 7], [4, 1, 3, 8], [6, 3, 8, 2], [9, 6, 1, 5]])
ARTICLE_W = np.array([[1, 2, 1], [2, 1, 2], [1, 1, 2]])


def test_article_example_4x4_input_3x3_kernel():
    y = conv2d(ARTICLE_X[None, :, :, None], ARTICLE_W[:, :, None, None])
    np.testing.assert_array_equal(y[0, :, :, 0], [[55, 52], [57, 50]])


def test_article_same_example_matches_keras():
    x, w = ARTICLE_X[None, :, :, None].astype(np.float32), ARTICLE_W[:, :, None, None].astype(np.float32)
    np.testing.assert_array_equal(conv2d(x, w, padding="same"), keras_ref.conv2d(x, w, padding="same"))


@given(conv_configs(transpose=False))
def test_matches_keras_conv2d(config):
    x, kernel, bias, kwargs = config
    ours = outcome(conv2d, x, kernel, bias, **kwargs)
    ref = outcome(keras_ref.conv2d, x, kernel, bias, **kwargs)
    if isinstance(ref, Exception):
        assert isinstance(ours, ValueError), f"Keras rejects {kwargs} ({ref!r}) but conv2d gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"Keras accepts {kwargs} but conv2d raised {ours!r}"
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, **TOL)


@given(conv_configs(transpose=False))
@settings(max_examples=150)
def test_conv2d_in_small_chunks_equals_the_convolution_matrix(config):
    # Tiny chunks split the im2col into one image or a few output rows at a time.
    x, kernel, bias, kwargs = config
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    try:
        C = conv_matrix(x.shape[1:], kernel, kwargs["strides"], kwargs["padding"], kwargs["dilation_rate"])
    except ValueError:  # Keras rejects it too (test_matches_keras_conv2d)
        return
    expected = np.stack([(C @ image.ravel()).reshape(-1, kernel.shape[3]) for image in x])
    expected = expected if bias is None else expected + bias
    # Chunks run in turn, and shared out between threads (from 0 multiply-adds: always).
    for chunk, threaded_from in ((1, 0), (30, 0), (30, 1 << 62)):
        with mock.patch.object(conv, "_CHUNK_VALUES", chunk), \
                mock.patch.object(parallel, "THREADED_FROM_MULTIPLY_ADDS", threaded_from):
            y = conv2d(x, kernel, bias, **kwargs)
        np.testing.assert_allclose(y.reshape(expected.shape), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pads, strides, dilation", [
    (((1, 2), (0, 3)), (1, 1), (1, 1)), (((-1, 0), (2, -2)), (1, 1), (1, 1)),
    (((-2, 1), (-1, 1)), (2, 3), (1, 1)), (((2, 0), (-1, 3)), (1, 1), (2, 3))])
def test_patches_read_the_input_as_if_padded_or_cut(pads, strides, dilation):
    # The patch matrix never builds the padding (or the cut): each window position reads the
    # input where it can and zeroes the rest. It must equal the fields of the padded input, in
    # any order of the window positions and for any chunk.
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 3))
    padded = pad_or_crop(x, *pads)
    kernel_size = (2, 3)
    span = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation)]
    out_shape = tuple((p - e) // s + 1 for p, e, s in zip(padded.shape[1:3], span, strides))
    expected = windows(padded, kernel_size, strides, dilation, out_shape)
    cells = [(1, 2), (0, 0), (1, 0), (0, 2), (0, 1), (1, 1)]
    patches = Patches(x, pads, kernel_size, strides, dilation, out_shape, cells)
    for images, rows in [(slice(0, 2), slice(0, out_shape[0])), (slice(1, 2), slice(1, 2))]:
        got = patches.matrix(images, rows, parallel.Scratch()).reshape(
            images.stop - images.start, rows.stop - rows.start, out_shape[1], len(cells), 3)
        want = expected[images, rows][:, :, :, [u for u, _ in cells], [v for _, v in cells]]
        np.testing.assert_array_equal(got, want)


def test_odd_same_padding_extra_row_goes_bottom_right():
    # A 2x2 kernel of ones on "same": each output sums its pixel, the right and the lower
    # neighbours, because the single padding row/column is added at the bottom/right.
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = conv2d(x, np.ones((2, 2, 1, 1)), padding="same")[0, :, :, 0]
    np.testing.assert_array_equal(y, [[8, 12, 7], [20, 24, 13], [13, 15, 8]])


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int64, np.float64)])
def test_result_dtype(dtype, expected):
    assert conv2d(np.ones((1, 3, 3, 1), dtype), np.ones((2, 2, 1, 1), dtype)).dtype == expected


BAD = [
    (dict(padding="full"), "padding"),
    (dict(strides=0), "strides"),
    (dict(strides=(1, -2)), "strides"),
    (dict(strides=(1, 2, 3)), "strides"),
    (dict(strides=1.5), "strides"),
    (dict(dilation_rate=0), "dilation_rate"),
    (dict(strides=2, dilation_rate=2), "strides > 1 cannot be combined with dilation_rate"),
    (dict(bias=np.ones(3)), "bias"),
]


@pytest.mark.parametrize("kwargs, message", BAD)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4)), **kwargs)


def test_bad_arrays_name_the_argument():
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        conv2d(np.ones((5, 5)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="kernel must have 4 dimensions"):
        conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="x has 2 channels but kernel"):
        conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="x must not have an empty axis"):
        conv2d(np.ones((1, 0, 5, 1)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="x must hold real numbers"):
        conv2d(np.full((1, 5, 5, 1), "a"), np.ones((3, 3, 1, 1)))


def test_valid_kernel_larger_than_input_is_rejected():
    with pytest.raises(ValueError, match="kernel .* to fit in the input"):
        conv2d(np.ones((1, 3, 3, 1)), np.ones((4, 2, 1, 1)))
    # A dilated 3-tap kernel spans 5 pixels: too large for 4.
    with pytest.raises(ValueError, match="span 5"):
        conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), dilation_rate=2)


def test_cut_removes_rows_and_columns_from_each_side():
    x = np.arange(5 * 6).reshape(1, 5, 6, 1)
    np.testing.assert_array_equal(cut(x, ((1, 2), (0, 3))), x[:, 1:3, 0:3])
    np.testing.assert_array_equal(cut(x, ((0, 0), (0, 0))), x)
