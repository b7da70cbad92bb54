import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import kernels, paddings, sizes, strides
from tconv_lib import (conv2d_output_shape, conv2d_padding, conv2d_transpose_crop,
                       conv2d_transpose_output_shape, conv_output_length, conv_padding,
                       conv_transpose_crop, conv_transpose_output_length, keras_ref)
from tconv_lib.shapes import output_padding_for


def keras_shape(layer_cls, h, w, **kwargs):
    """Spatial output shape of a real Keras layer run on an (1, h, w, 1) input, or the error."""
    layer = layer_cls(1, **kwargs)
    try:
        return tuple(layer(np.zeros((1, h, w, 1), np.float32)).shape[1:3])
    except Exception as error:  # noqa: BLE001
        return error


@given(sizes, sizes, kernels, kernels, strides, paddings)
def test_conv2d_output_shape_matches_keras(h, w, kh, kw, s, padding):
    ref = keras_shape(keras_ref.keras().layers.Conv2D, h, w, kernel_size=(kh, kw), strides=s, padding=padding)
    if isinstance(ref, Exception):
        with pytest.raises(ValueError):
            conv2d_output_shape((h, w), (kh, kw), s, padding)
    else:
        assert conv2d_output_shape((h, w), (kh, kw), s, padding) == ref


@given(sizes, sizes, kernels, kernels, strides, paddings, st.data())
def test_conv2d_transpose_output_shape_matches_keras(h, w, kh, kw, s, padding, data):
    op = data.draw(st.none() | st.integers(0, s - 1))
    ref = keras_shape(keras_ref.keras().layers.Conv2DTranspose, h, w, kernel_size=(kh, kw), strides=s,
                      padding=padding, output_padding=op)
    if isinstance(ref, Exception):
        with pytest.raises(ValueError):
            conv2d_transpose_output_shape((h, w), (kh, kw), s, padding, op)
    else:
        assert conv2d_transpose_output_shape((h, w), (kh, kw), s, padding, op) == ref


@given(st.integers(1, 9), kernels, strides, paddings)
def test_output_padding_for_restores_an_encoders_size_in_keras(n, k, s, padding):
    keras = keras_ref.keras()
    if isinstance(i := keras_shape(keras.layers.Conv2D, n, 1, kernel_size=(k, 1), strides=(s, 1),
                                   padding=padding), Exception):
        return  # the encoder itself does not exist ("valid" kernel larger than the input)
    i = i[0]
    decoder = dict(kernel_size=(k, 1), strides=(s, 1), padding=padding)
    try:
        op = output_padding_for(n, i, k, s, padding)
    except ValueError:  # then no output_padding, nor leaving it out, gives n back in Keras
        for op in (None, *range(s)):
            pair = None if op is None else (op, 0)
            assert keras_shape(keras.layers.Conv2DTranspose, i, 1, output_padding=pair, **decoder)[:1] != (n,)
        return
    assert op is None or 0 <= op < s
    pair = None if op is None else (op, 0)
    assert keras_shape(keras.layers.Conv2DTranspose, i, 1, output_padding=pair, **decoder) == (n, 1)


def test_output_padding_for_prefers_leaving_it_out_and_refuses_the_unreachable():
    assert output_padding_for(8, 4, 3, 2, "same") is None     # 1 would work too
    assert output_padding_for(7, 4, 3, 2, "same") == 0
    assert output_padding_for(7, 4, 4, 2, "same") == 1
    with pytest.raises(ValueError, match="target=6"):
        output_padding_for(6, 4, 3, 2, "same")
    with pytest.raises(ValueError, match="target"):
        output_padding_for(0, 4, 3, 2, "same")


@pytest.mark.parametrize("i, k, s", [(2, 1, 3), (3, 2, 4), (5, 3, 3), (4, 4, 2)])
def test_valid_transpose_length_is_max_of_kernel_and_stride(i, k, s):
    assert conv_transpose_output_length(i, k, s, "valid") == (i - 1) * s + max(k, s)


@pytest.mark.parametrize("i, k, s", [(2, 1, 3), (3, 5, 2), (4, 4, 4)])
def test_same_transpose_length_is_input_times_stride(i, k, s):
    assert conv_transpose_output_length(i, k, s, "same") == i * s


@pytest.mark.parametrize("op", [0, 1, 2])
def test_output_padding_adds_to_the_valid_length(op):
    assert conv_transpose_output_length(4, 3, 3, "valid", op) == (4 - 1) * 3 + 3 + op


def test_same_padding_puts_the_odd_extra_one_after():
    assert conv_padding(4, 2, 1, "same") == (0, 1)
    assert conv_padding(5, 4, 2, "same") == (1, 2)
    assert conv2d_padding((4, 5), (2, 4), (1, 2), "same") == ((0, 1), (1, 2))
    assert conv_padding(7, 3, 1, "valid") == (0, 0)


def test_dilation_widens_the_kernel():
    assert conv_output_length(7, 3, 1, "valid", dilation_rate=3) == 1
    assert conv_transpose_output_length(2, 3, 1, "valid", dilation_rate=2) == 6


def test_transpose_crop_before_and_after():
    # Full scatter of 4 pixels, kernel 4, stride 2: (4 - 1) * 2 + 4 = 10; "same" keeps 8, cut 1 + 1.
    assert conv_transpose_crop(4, 4, 2, "same") == (1, 1)
    # Kernel 3, stride 2: full 9, keep 8; the odd cut is at the end, where "same" pads a convolution.
    assert conv_transpose_crop(4, 3, 2, "same") == (0, 1)
    # Stride larger than the kernel: the output is longer than the scatter (negative cut = zeros).
    assert conv_transpose_crop(2, 1, 3, "valid") == (0, -2)
    assert conv2d_transpose_crop((4, 2), (3, 1), (2, 3), "same") == ((0, 1), (0, -2))


@pytest.mark.parametrize("call, message", [
    (lambda: conv_output_length(3, 4), "kernel .* fit"),
    (lambda: conv2d_output_shape((3, 3), 2, padding="SAME_ISH"), "padding"),
    (lambda: conv2d_output_shape((3, 3), 0), "kernel_size"),
    (lambda: conv2d_output_shape((3,), 2), "input_shape"),
    (lambda: conv2d_transpose_output_shape((3, 3), 2, 2, output_padding=(0, 2)), "output_padding"),
    (lambda: conv2d_transpose_output_shape((3, 3), 2, 2, dilation_rate=2), "dilation_rate"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()

