"""Checks for the ``multichannel`` assignment: Keras's Conv2DTranspose in full, channels and bias.

Students write, with Keras's layouts (NHWC images, kernel ``(kh, kw, C_out, C_in)``):

* ``pixel_contribution(pixel, kernel)``: ``pixel (C_in,)`` -> ``(kh, kw, C_out)``, the block one
  input pixel writes into the output;
* ``conv2d_transpose(x, kernel, bias, strides, padding)``: ``x (N, H, W, C_in)`` -> ``(N, H_out,
  W_out, C_out)``, bias ``(C_out,)`` or None.

Both are checked against ``keras.layers.Conv2DTranspose`` loaded with the same weights
(``set_weights``) through ``tconv_lib.keras_ref``.
"""
from __future__ import annotations

import numpy as np

from tconv_lib import keras_ref
from tconv_lib.grading import core
from tconv_lib.grading.cases import check, describe, hidden_rng, hidden_check, tconv_configs
from tconv_lib.grading.from_scratch import ARTICLE_W2, ARTICLE_Y

# A 2x2 kernel from 2 input channels to 3 output channels: (kh, kw, C_out, C_in).
KERNEL_2x2_3x2 = [[[[-2, -1], [0, 1], [2, -2]], [[-1, 0], [1, 2], [-2, -1]]],
                  [[[0, 1], [2, -2], [-1, 0]], [[1, 2], [-2, -1], [0, 1]]]]
# Two 2x2 images with 2 channels, and a 2x2 kernel from 2 channels to 1.
IMAGES_2x2x2 = [[[[-1, 0], [1, -1]], [[0, 1], [-1, 0]]], [[[1, -1], [0, 1]], [[-1, 0], [1, -1]]]]
KERNEL_2x2_1x2 = [[[[1, 0]], [[2, 1]]], [[[0, -1]], [[1, 1]]]]


def _array(value):
    return None if value is None else np.array(value, dtype=float)


def _shape_words(name, value):
    return f"{name} {'None' if value is None else np.shape(value)}"


def _random_weights(rng, config, c_in, c_out):
    kernel = np.round(rng.uniform(-2, 2, size=(*config.kernel_size, c_out, c_in)), 2)
    bias = None if rng.random() < 0.3 else np.round(rng.uniform(-1, 1, size=c_out), 2)
    return kernel, bias


def _keras(x, kernel, bias=None, strides=(1, 1), padding="valid"):
    return keras_ref.conv2d_transpose(x, kernel, bias, strides=strides, padding=padding)


# ---- pixel_contribution ----------------------------------------------------------------

def visible_pixel_contribution(pixel_contribution):
    examples = [
        # pixel (C_in,), kernel (kh, kw, C_out, C_in) -> block (kh, kw, C_out)
        ([3], [[[[1], [2]], [[0], [-1]]]], [[[3, 6], [0, -3]]]),
        ([1, 2], [[[[1, 0]], [[0, 1]]], [[[1, 1]], [[2, -1]]]], [[[1], [2]], [[3], [0]]]),
        ([1, 2], KERNEL_2x2_3x2, [[[-4, 2, -2], [-1, 5, -4]], [[2, -2, -1], [5, -4, 2]]]),
    ]
    cases = [core.Case(f"pixel = {p}, kernel of shape {np.shape(k)}", (_array(p), _array(k)), {},
                       np.array(expected, dtype=float)) for p, k, expected in examples]
    check(pixel_contribution, cases, what="pixel_contribution")


@hidden_check("pixel_contribution")
def hidden_pixel_contribution():
    rng = hidden_rng(71)
    cases = []
    for config in tconv_configs(71, 16):
        c_in, c_out = (int(v) for v in rng.integers(1, 4, size=2))
        pixel = np.round(rng.uniform(-3, 3, size=c_in), 2)
        kernel, _ = _random_weights(rng, config, c_in, c_out)
        # A 1x1 input under "valid", stride 1: the output is exactly that pixel's block.
        expected = _keras(pixel.reshape(1, 1, 1, c_in), kernel)[0]
        cases.append(core.Case(f"pixel of shape {pixel.shape}, kernel of shape {kernel.shape}",
                               (pixel, kernel), {}, expected))
    return cases


# ---- conv2d_transpose ------------------------------------------------------------------

def visible_conv2d_transpose(conv2d_transpose):
    # The article's 2x2 map and 2x2 kernel, in Keras's layouts.
    x, kernel = ARTICLE_Y.reshape(1, 2, 2, 1), ARTICLE_W2.reshape(2, 2, 1, 1)
    examples = [
        # (x, kernel, bias, strides, padding) -> expected (N, H_out, W_out, C_out)
        ((x, kernel, None, (1, 1), "valid"),
         np.array([[55, 162, 104], [167, 323, 152], [114, 157, 50]]).reshape(1, 3, 3, 1)),
        (([[[[1, 2]]]], KERNEL_2x2_3x2, [0.5, -1, 2], (1, 1), "valid"),  # one pixel: its block plus bias
         [[[[-3.5, 1, 0], [-0.5, 4, -2]], [[2.5, -3, 1], [5.5, -5, 4]]]]),
        ((IMAGES_2x2x2, KERNEL_2x2_1x2, [1], (2, 2), "same"),
         np.array([[[0, -1, 2, 2], [1, 0, 2, 1], [1, 2, 0, -1], [0, 2, 1, 0]],
                   [[2, 2, 1, 2], [2, 1, 0, 2], [0, -1, 2, 2], [1, 0, 2, 1]]]).reshape(2, 4, 4, 1)),
        ((IMAGES_2x2x2, KERNEL_2x2_1x2, [1], (1, 2), "same"),  # the odd row is cut at the bottom
         np.array([[[0, -1, 2, 2], [1, 1, 1, -1]], [[2, 2, 1, 2], [1, -1, 1, 3]]]).reshape(2, 2, 4, 1)),
    ]
    cases = []
    for (x, kernel, bias, strides, padding), expected in examples:
        args = (_array(x), _array(kernel), _array(bias), strides, padding)
        config = (f"{_shape_words('x', x)}, {_shape_words('kernel', kernel)}, {_shape_words('bias', bias)}, "
                  f"strides {strides}, padding={padding!r}")
        cases.append(core.Case(config, args, {}, np.array(expected, dtype=float)))
    check(conv2d_transpose, cases, what="conv2d_transpose")


@hidden_check("conv2d_transpose")
def hidden_conv2d_transpose():
    rng = hidden_rng(72)
    cases = []
    for config in tconv_configs(72, 24):
        n, c_in, c_out = (int(v) for v in rng.integers(1, [2, 3, 3], endpoint=True))
        x = np.round(rng.uniform(-3, 3, size=(n, *config.input_shape, c_in)), 2)
        kernel, bias = _random_weights(rng, config, c_in, c_out)
        words = describe(*config, batch=n, channels_in=c_in, channels_out=c_out, bias=bias is not None)
        cases.append(core.Case(words, (x, kernel, bias, config.strides, config.padding), {},
                               _keras(x, kernel, bias, config.strides, config.padding)))
    return cases
