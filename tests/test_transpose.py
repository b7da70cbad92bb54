from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings

from strategies import TOL, conv_configs, outcome
from tconv_lib import (METHODS, conv, conv2d, conv2d_transpose, insert_zeros, keras_ref, parallel, phase,
                       zero_insertion_input)
from tconv_lib.phase import axis_plan, phase_kernel

Y = np.array([[55, 52], [57, 50]], dtype=float)[None, :, :, None]
W2 = np.array([[1, 2], [2, 1]], dtype=float)[:, :, None, None]


@pytest.mark.parametrize("method", METHODS)
def test_article_2x2_kernel_takes_2x2_to_3x3(method):
    y = conv2d_transpose(Y, W2, method=method)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[55, 162, 104], [167, 323, 152], [114, 157, 50]])


@pytest.mark.parametrize("method", METHODS)
def test_article_3x3_kernel_restores_the_4x4_shape_not_the_numbers(method):
    x = np.array([[3, 5, 2, 7], [4, 1, 3, 8], [6, 3, 8, 2], [9, 6, 1, 5]], dtype=float)[None, :, :, None]
    w = np.array([[1, 2, 1], [2, 1, 2], [1, 1, 2]], dtype=float)[:, :, None, None]
    back = conv2d_transpose(conv2d(x, w), w, method=method)
    assert back.shape == x.shape
    np.testing.assert_array_equal(back, conv2d_transpose(Y, w))
    assert not np.array_equal(back, x)


def test_article_same_example_keeps_2x2():
    y = conv2d_transpose(Y.astype(np.float32), W2.astype(np.float32), padding="same")
    np.testing.assert_array_equal(y, keras_ref.conv2d_transpose(Y.astype(np.float32),
                                                                W2.astype(np.float32), padding="same"))
    np.testing.assert_array_equal(y[0, :, :, 0], [[55, 162], [167, 323]])


def check_against_keras(fn, config, method):
    x, kernel, bias, kwargs = config
    ref = outcome(keras_ref.conv2d_transpose, x, kernel, bias, **kwargs)
    ours = outcome(fn, x, kernel, bias, method=method, **kwargs)
    if isinstance(ref, Exception):
        assert isinstance(ours, ValueError), f"Keras rejects {kwargs} ({ref!r}); {method} gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"Keras accepts {kwargs}; {method} raised {ours!r}"
    assert ours.shape == ref.shape and ours.dtype == np.float32, method
    np.testing.assert_allclose(ours, ref, **TOL, err_msg=f"method={method} {kwargs}")


@given(conv_configs(transpose=True))
def test_every_method_matches_keras_conv2d_transpose(config):
    for method in METHODS:
        check_against_keras(conv2d_transpose, config, method)


@pytest.mark.parametrize("bug", [
    lambda x, k, *a, **kw: conv2d_transpose(x, k[::-1, ::-1], *a, **kw),  # flips the kernel
    lambda x, k, *a, **kw: conv2d_transpose(x[:, ::-1], k, *a, **kw),  # reads the input upside down
])
def test_the_sweep_rejects_a_wrong_implementation(bug):
    @given(conv_configs(transpose=True))
    @settings(database=None, max_examples=100)
    def sweep(config):
        check_against_keras(bug, config, "scatter")

    with pytest.raises(AssertionError):
        sweep()


@given(conv_configs(transpose=True))
@settings(max_examples=150)
def test_phase_in_small_chunks_equals_the_scatter(config):
    # The sweep's inputs fit in one chunk; tiny chunks make every chunk boundary (in images,
    # in block rows, a phase row with no output row in a chunk) appear.
    x, kernel, bias, kwargs = config
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    expected = outcome(conv2d_transpose, x, kernel, bias, method="scatter", **kwargs)
    if isinstance(expected, Exception):
        return
    # The sweep's products are small, so they read their weights transposed; a threshold of 0
    # gives them the C-ordered copy that large layers get. The chunks run in turn, or shared
    # out between threads (from 0 multiply-adds: always).
    for chunk, transposed_below, threaded_from in ((1, 0, 0), (40, 2000, 0), (1, 2000, 1 << 62), (40, 0, 1 << 62)):
        with mock.patch.object(conv, "_CHUNK_VALUES", chunk), \
                mock.patch.object(phase, "_TRANSPOSED_WEIGHTS_ROWS", transposed_below), \
                mock.patch.object(parallel, "THREADED_FROM_MULTIPLY_ADDS", threaded_from):
            y = conv2d_transpose(x, kernel, bias, **kwargs)
        assert y.flags.c_contiguous and y.dtype == np.float64
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12, err_msg=f"{chunk} {kwargs}")


@pytest.mark.parametrize("kh, kw, s, padding", [(kh, kw, s, padding) for kh in range(1, 7)
                                                 for kw in range(1, 7) for s in (1, 2, 3)
                                                 for padding in ("valid", "same")])
def test_phase_products_multiply_each_tap_once(kh, kw, s, padding):
    # Each product reads the cells its phases have taps in and no other: over all products,
    # cells x phases is the number of taps (a product that padded a short phase with zero
    # taps, as 3 x 3 with stride 2 once did, counts 12 for 9 taps). The input is one chunk,
    # and both paddings keep rows of every phase, so each product runs exactly once ("same"
    # crops, and its blocks may start at the output's first row: see ``axis_plan``).
    rng = np.random.default_rng(kh * 10 + kw)
    x, kernel = rng.standard_normal((1, 5, 6, 3)), rng.standard_normal((kh, kw, 2, 3))
    with mock.patch.object(np, "matmul", wraps=np.matmul) as matmul:
        y = conv2d_transpose(x, kernel, strides=s, padding=padding)
    assert sum(left.shape[1] // 3 * (weights.shape[1] // 2)
               for (left, weights), _ in matmul.call_args_list) == kh * kw
    np.testing.assert_allclose(y, conv2d_transpose(x, kernel, strides=s, padding=padding, method="scatter"),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("length, k, s, crop, blocks, size, offset", [
    (16, 5, 2, 1, 16, 3, 0),     # DCGAN's 5x5 "same": from the output's first row, 16 blocks
    (64, 4, 2, 1, 65, 2, -1),    # pix2pix's 4x4: that start would stagger the phases (3 cells)
    (64, 3, 2, 0, 64, 2, 0),     # nothing cropped before: the scatter's grid is the output's
    (16, 64, 32, 16, 17, 2, -16),
    (10, 7, 3, 2, 11, 3, -2)])
def test_blocks_start_at_the_output_when_the_window_stays(length, k, s, crop, blocks, size, offset):
    plan = axis_plan(length, k, s, 1, crop, length * s)
    assert (plan.blocks, plan.size, plan.offset) == (blocks, size, offset)


def test_phase_output_narrower_than_one_block():
    # "same" with output_padding can make Keras's output narrower than s: each output row then
    # lies inside one block of s phases (kernel 5, stride 4: 1 column, phase 2 of its block).
    rng = np.random.default_rng(2)
    x, k = rng.standard_normal((1, 2, 1, 2)), rng.standard_normal((5, 5, 3, 2))
    kwargs = dict(strides=4, padding="same", output_padding=0)
    y = conv2d_transpose(x, k, **kwargs)
    assert y.shape[2] == 1
    np.testing.assert_allclose(y, conv2d_transpose(x, k, method="scatter", **kwargs), rtol=1e-12, atol=1e-12)


def test_phase_kernel_splits_the_taps_by_phase():
    # k = 5, s = 2 along the rows: phase 0 takes taps 0, 2, 4 and phase 1 taps 1, 3, each in
    # reverse order (window position u reads input pixel q - (2 - u)); phase 1's third tap is 0.
    kernel = np.arange(1.0, 6.0).reshape(5, 1, 1, 1)
    sub = phase_kernel(kernel, (2, 1))
    assert sub.shape == (3, 1, 1, 2, 1, 1)
    np.testing.assert_array_equal(sub[:, 0, 0, :, 0, 0].T, [[5, 3, 1], [0, 4, 2]])
    # Dilation without stride: one phase, the k taps d apart, reversed.
    np.testing.assert_array_equal(phase_kernel(kernel, (1, 1), (2, 1))[:, 0, 0, 0, 0, 0], [5, 4, 3, 2, 1])
    # Keras's rule: no stride and dilation above 1 together (the phases would lose taps).
    with pytest.raises(ValueError, match="dilation_rate"):
        phase_kernel(kernel, (2, 1), (2, 1))


def test_stride_larger_than_kernel_keeps_trailing_zeros():
    # Keras's valid output is (i - 1) * s + max(k, s): the gap after the last pixel stays.
    y = conv2d_transpose(np.ones((1, 2, 1, 1)), np.ones((1, 1, 1, 1)), strides=3)[0, :, 0, 0]
    np.testing.assert_array_equal(y, [1, 0, 0, 1, 0, 0])


def test_insert_zeros():
    x = np.arange(1, 5.0).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(insert_zeros(x, (2, 3))[0, :, :, 0],
                                  [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]])


def test_methods_agree_in_float64():
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((3, 2, 2, 3))
    results = [conv2d_transpose(x, k, strides=(2, 3), padding="same", method=m) for m in METHODS]
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12, atol=1e-12)
    assert results[0].dtype == np.float64


BAD = [
    (dict(method="fft"), "method must be one of"),
    (dict(padding="causal"), "padding must be 'valid' or 'same'"),
    (dict(strides=(0, 1)), "strides must be >= 1"),
    (dict(strides=2, output_padding=2), "output_padding must be smaller than strides"),
    (dict(strides=2, output_padding=-1), "output_padding must be >= 0"),
    (dict(strides=3, padding="same", output_padding=0), "output_padding=0 .* Keras .* rejects"),
    (dict(strides=2, dilation_rate=2), "strides > 1 cannot be combined"),
]


@pytest.mark.parametrize("kwargs, message", BAD)
def test_bad_arguments_name_the_argument(kwargs, message):
    # Kernel (kh, kw, C_out=1, C_in=2) for an input with 2 channels.
    with pytest.raises(ValueError, match=message):
        conv2d_transpose(np.ones((1, 4, 4, 2)), np.ones((2, 2, 1, 2)), **kwargs)


def test_channel_mismatch_uses_the_transpose_layout():
    # A Conv2D-layout kernel (kh, kw, C_in, C_out) passed by mistake is caught.
    with pytest.raises(ValueError, match=r"x has 2 channels but kernel \(kh, kw, C_out, C_in\)"):
        conv2d_transpose(np.ones((1, 4, 4, 2)), np.ones((2, 2, 2, 3)))


def test_matrix_method_refuses_huge_inputs():
    with pytest.raises(ValueError, match="method='phase'"):
        conv2d_transpose(np.ones((1, 64, 64, 8)), np.ones((3, 3, 8, 8)), method="matrix")


def test_zero_insertion_input_is_what_the_stride_1_convolution_sees():
    x = np.arange(1, 5.0).reshape(1, 2, 2, 1)
    seen = zero_insertion_input(x, 3, strides=2)[0, :, :, 0]
    # 2x2 -> 3x3 with one zero between pixels, then the "full" padding k - 1 = 2 on every side.
    expected = np.zeros((7, 7))
    expected[2:5:2, 2:5:2] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(seen, expected)
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((1, 3, 4, 2)), rng.standard_normal((3, 2, 1, 2))
    for kwargs in (dict(strides=(2, 3), padding="same"), dict(strides=2, output_padding=1)):
        seen = zero_insertion_input(x, k.shape[:2], **kwargs)
        flipped = k[::-1, ::-1].transpose(0, 1, 3, 2)
        np.testing.assert_allclose(conv2d(seen, flipped), conv2d_transpose(x, k, **kwargs))
    with pytest.raises(ValueError, match="kernel_size"):
        zero_insertion_input(x, 0)


def test_insert_zeros_checks_its_arguments():
    np.testing.assert_array_equal(insert_zeros(np.ones((1, 2, 1, 1)), 2)[0, :, 0, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        insert_zeros(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="strides must be >= 1"):
        insert_zeros(np.ones((1, 2, 2, 1)), 0)
