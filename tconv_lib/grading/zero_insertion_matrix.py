"""Checks for the ``zero-insertion-matrix`` assignment: two other ways to compute Conv2DTranspose.

Students work on 2-D single-channel arrays, sizes as pairs ``(height, width)``:

* ``insert_zeros(x, strides)`` -> ``((H - 1) * sh + 1, (W - 1) * sw + 1)``;
* ``conv2d_transpose_zero_insertion(x, kernel, strides, padding)``: Keras's Conv2DTranspose as
  zero insertion, zero padding and a stride-1 convolution with the flipped kernel;
* ``conv_matrix(input_shape, kernel, strides)``: the matrix ``C`` of a "valid" Conv2D, with
  ``conv(x).ravel() == C @ x.ravel()``, shape ``(H_out * W_out, H * W)``;
* ``conv2d_transpose_matrix(x, kernel, strides)``: the "valid" Conv2DTranspose as ``C.T @ x.ravel()``.

Transposed convolutions are checked against ``keras.layers.Conv2DTranspose``; the two helpers
against ``tconv_lib`` (Keras has no layer for them).
"""
from __future__ import annotations

import numpy as np

import tconv_lib
from tconv_lib import keras_ref
from tconv_lib.grading import core
from tconv_lib.grading.from_scratch import ARTICLE_W2, ARTICLE_W3, ARTICLE_Y
from tconv_lib.grading.cases import check, describe, hidden_check, hidden_rng, tconv_configs


_LIB_REFERENCE = "tconv_lib (itself tested against Keras)"


def _random_arrays(rng, input_shape, kernel_size):
    x = np.round(rng.uniform(-3, 3, size=input_shape), 2)
    kernel = np.round(rng.uniform(-2, 2, size=kernel_size), 2)
    return x, kernel


def _keras_tconv(x, kernel, strides, padding):
    """Keras's Conv2DTranspose of one (H, W) image with one (kh, kw) kernel, as (H_out, W_out)."""
    return keras_ref.conv2d_transpose(x[None, :, :, None], kernel[:, :, None, None],
                                      strides=strides, padding=padding)[0, :, :, 0]


def _shown(array):
    """An array as the nested list a student would type, whole numbers without ``.0``."""
    array = np.asarray(array)
    return (array.astype(int) if np.array_equal(array, np.round(array)) else array).tolist()


def _float_cases(examples, describe_args):
    """Cases from literal examples: lists and arrays become float arrays, sizes stay tuples."""
    cases = []
    for args, expected in examples:
        is_array = [isinstance(a, (list, np.ndarray)) for a in args]
        shown = [_shown(a) if array else a for a, array in zip(args, is_array)]
        values = tuple(np.array(a, dtype=float) if array else a for a, array in zip(args, is_array))
        cases.append(core.Case(describe_args(*shown), values, {}, np.array(expected, dtype=float)))
    return cases


# ---- insert_zeros ----------------------------------------------------------------------

def visible_insert_zeros(insert_zeros):
    examples = [
        (([[1, 2], [3, 4]], (2, 2)), [[1, 0, 2], [0, 0, 0], [3, 0, 4]]),
        (([[1, 2], [3, 4]], (1, 3)), [[1, 0, 0, 2], [3, 0, 0, 4]]),
        (([[5, 6, 7]], (3, 1)), [[5, 6, 7]]),  # a single row has no gaps between rows
        (([[1, 2], [3, 4]], (1, 1)), [[1, 2], [3, 4]]),  # stride 1: nothing to insert
    ]
    cases = _float_cases(examples, lambda x, s: f"x = {x}, strides {s}")
    check(insert_zeros, cases, what="insert_zeros")


@hidden_check("insert_zeros", reference=_LIB_REFERENCE)
def hidden_insert_zeros():
    rng = hidden_rng(51)
    cases = []
    for config in tconv_configs(51, 20):
        x, _ = _random_arrays(rng, config.input_shape, config.kernel_size)
        expected = tconv_lib.insert_zeros(x[None, :, :, None], config.strides)[0, :, :, 0]
        cases.append(core.Case(f"x of shape {x.shape}, strides {config.strides}",
                               (x, config.strides), {}, expected))
    return cases


# ---- conv2d_transpose_zero_insertion ----------------------------------------------------

def _tconv_examples():
    """The article's 2x2 examples and cases its code gets wrong, results worked out by hand."""
    return [
        ((ARTICLE_Y, ARTICLE_W2, (1, 1), "valid"), [[55, 162, 104], [167, 323, 152], [114, 157, 50]]),
        ((ARTICLE_Y, ARTICLE_W2, (1, 1), "same"), [[55, 162], [167, 323]]),
        ((ARTICLE_Y, ARTICLE_W3, (1, 1), "valid"),
         [[55, 162, 159, 52], [167, 323, 319, 154], [169, 264, 326, 204], [57, 107, 164, 100]]),
        ((ARTICLE_Y, ARTICLE_W3, (2, 2), "same"),  # odd crop: the extra row/column cut at the bottom/right
         [[55, 110, 107, 104], [110, 55, 214, 52], [112, 169, 269, 152], [114, 57, 214, 50]]),
        ((ARTICLE_Y, ARTICLE_W2, (3, 3), "valid"),  # stride > kernel: the last gap is kept
         [[55, 110, 0, 52, 104, 0], [110, 55, 0, 104, 52, 0], [0, 0, 0, 0, 0, 0],
          [57, 114, 0, 50, 100, 0], [114, 57, 0, 100, 50, 0], [0, 0, 0, 0, 0, 0]]),
        (([[1, 2, 3]], [[1], [2]], (2, 2), "same"), [[1, 0, 2, 0, 3, 0], [2, 0, 4, 0, 6, 0]]),
        (([[1, 2], [3, 4]], [[1, -1], [2, 0]], (2, 1), "valid"),
         [[1, 1, -2], [2, 4, 0], [3, 1, -4], [6, 8, 0]]),
    ]


def _describe_tconv(x, kernel, strides, padding):
    return f"x = {x}, kernel = {kernel}, strides {strides}, padding={padding!r}"


def _hidden_tconv_cases(seed: int, count: int, *, valid_only: bool = False) -> list[core.Case]:
    """Random images and kernels with Keras's result; ``valid_only`` leaves out the padding argument."""
    rng = hidden_rng(seed)
    cases = []
    for config in tconv_configs(seed, 3 * count):
        if valid_only and config.padding != "valid":
            continue
        x, kernel = _random_arrays(rng, config.input_shape, config.kernel_size)
        args = (x, kernel, config.strides) + (() if valid_only else (config.padding,))
        cases.append(core.Case(describe(*config), args, {},
                               _keras_tconv(x, kernel, config.strides, config.padding)))
        if len(cases) == count:
            return cases
    raise AssertionError("too few configurations generated")  # a bug in this module


def visible_conv2d_transpose_zero_insertion(conv2d_transpose_zero_insertion):
    cases = _float_cases(_tconv_examples(), _describe_tconv)
    check(conv2d_transpose_zero_insertion, cases, what="conv2d_transpose_zero_insertion")


@hidden_check("conv2d_transpose_zero_insertion")
def hidden_conv2d_transpose_zero_insertion():
    return _hidden_tconv_cases(52, 30)


# ---- conv_matrix -----------------------------------------------------------------------

def visible_conv_matrix(conv_matrix):
    examples = [
        # The article's 4x16 matrix: one row per output pixel, the kernel laid out in it.
        (((4, 4), ARTICLE_W3, (1, 1)), [
            [1, 2, 1, 0, 2, 1, 2, 0, 1, 1, 2, 0, 0, 0, 0, 0],
            [0, 1, 2, 1, 0, 2, 1, 2, 0, 1, 1, 2, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 2, 1, 0, 2, 1, 2, 0, 1, 1, 2, 0],
            [0, 0, 0, 0, 0, 1, 2, 1, 0, 2, 1, 2, 0, 1, 1, 2]]),
        (((2, 4), [[1, 2], [3, 4]], (1, 2)), [[1, 2, 0, 0, 3, 4, 0, 0], [0, 0, 1, 2, 0, 0, 3, 4]]),
        (((1, 3), [[5]], (1, 1)), [[5, 0, 0], [0, 5, 0], [0, 0, 5]]),
    ]
    cases = _float_cases(examples,
                         lambda shape, kernel, s: f"input_shape {shape}, kernel = {kernel}, strides {s}")
    check(conv_matrix, cases, what="conv_matrix")


@hidden_check("conv_matrix", reference=_LIB_REFERENCE)
def hidden_conv_matrix():
    rng = hidden_rng(53)
    cases = []
    for config in tconv_configs(53, 60, max_input=7):
        if config.kernel_size[0] > config.input_shape[0] or config.kernel_size[1] > config.input_shape[1]:
            continue  # a "valid" convolution needs the kernel to fit
        _, kernel = _random_arrays(rng, config.input_shape, config.kernel_size)
        args = (config.input_shape, kernel, config.strides)
        cases.append(core.Case(describe(*config[:3]), args, {}, tconv_lib.conv_matrix(*args)))
        if len(cases) == 20:
            break
    return cases


# ---- conv2d_transpose_matrix -----------------------------------------------------------

def visible_conv2d_transpose_matrix(conv2d_transpose_matrix):
    examples = [(args[:3], expected) for args, expected in _tconv_examples() if args[3] == "valid"]
    cases = _float_cases(examples, lambda x, kernel, s: _describe_tconv(x, kernel, s, "valid"))
    check(conv2d_transpose_matrix, cases, what="conv2d_transpose_matrix")


@hidden_check("conv2d_transpose_matrix")
def hidden_conv2d_transpose_matrix():
    return _hidden_tconv_cases(54, 20, valid_only=True)
