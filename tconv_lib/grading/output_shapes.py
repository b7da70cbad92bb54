"""Checks for the ``output-shapes`` assignment: predict the sizes Keras's layers produce.

Students write three functions of 2-D sizes, every size argument a pair ``(height, width)``:

* ``conv2d_output_shape(input_shape, kernel_size, strides, padding, dilation_rate)`` -> ``(H_out, W_out)``
* ``conv2d_same_padding(input_shape, kernel_size, strides)`` -> ``((top, bottom), (left, right))``
* ``conv2d_transpose_output_shape(input_shape, kernel_size, strides, padding, output_padding,
  dilation_rate)`` -> ``(H_out, W_out)``

Hidden checks build real Keras layers (through ``tconv_lib.keras_ref``) for generated
configurations and read the shapes of their outputs; the padding, which Keras never shows,
is checked against ``tconv_lib`` (itself tested against Keras's outputs).

Configurations and report lines come from ``cases``, shared with the other checkers.
"""
from __future__ import annotations

import numpy as np

import tconv_lib
from tconv_lib import keras_ref
from tconv_lib.grading import core
from tconv_lib.grading.cases import (check, describe, dilation_pair, hidden_check, hidden_rng,
                                     tconv_configs)

# ---- conv2d_output_shape ---------------------------------------------------------------

def visible_conv2d_output_shape(conv2d_output_shape):
    """The article's 4x4 examples and a few simple cases, with sizes worked out by hand."""
    examples = [
        # (input_shape, kernel_size, strides, padding, dilation_rate) -> expected
        (((4, 4), (3, 3), (1, 1), "valid", (1, 1)), (2, 2)),  # the article's 4x4 input, 3x3 kernel
        (((4, 4), (2, 2), (1, 1), "valid", (1, 1)), (3, 3)),  # ... and 2x2 kernel
        (((4, 4), (3, 3), (1, 1), "same", (1, 1)), (4, 4)),
        (((7, 5), (3, 2), (2, 2), "valid", (1, 1)), (3, 2)),
        (((7, 5), (3, 3), (2, 2), "same", (1, 1)), (4, 3)),
        (((7, 7), (3, 3), (1, 1), "valid", (2, 2)), (3, 3)),
    ]
    cases = [core.Case(describe(*a[:4], dilation_rate=a[4]), a, {}, expected) for a, expected in examples]
    check(conv2d_output_shape, cases, what="conv2d_output_shape")


# Always asked, whatever the random draws: a dilation that changes a "valid" output, and
# output paddings (with "valid" and "same") that change a transposed output.
_DILATED_CONV = ((7, 9), (3, 2), (1, 1), "valid", (2, 3))
_TCONV_SHAPE_EDGES = (
    ((3, 4), (3, 2), (1, 1), "valid", None, (2, 2)),
    ((3, 2), (2, 3), (3, 2), "valid", (2, 1), (1, 1)),
    ((4, 3), (2, 4), (2, 3), "same", (1, 2), (1, 1)),
)


def _conv_configs(seed: int, count: int) -> list[tuple]:
    """(input_shape, kernel_size, strides, padding, dilation_rate) that Keras's Conv2D accepts."""
    rng = hidden_rng(seed, 1)
    configs = [_DILATED_CONV]
    for config in tconv_configs(seed, 3 * count, max_input=9):
        dilation = dilation_pair(rng, 0.3)
        if dilation != (1, 1):
            config = config._replace(strides=(1, 1))  # Keras does not combine strides and dilation
        try:
            tconv_lib.conv2d_output_shape(*config, dilation_rate=dilation)
        except ValueError:  # a "valid" kernel that does not fit: Keras rejects it too
            continue
        configs.append((*config, dilation))
        if len(configs) == count:
            return configs
    raise AssertionError("too few valid configurations generated")  # a bug in this module


@hidden_check("conv2d_output_shape")
def hidden_conv2d_output_shape():
    cases = []
    for args in _conv_configs(seed=31, count=30):
        (h, w), (kh, kw) = args[0], args[1]
        out = keras_ref.conv2d(np.zeros((1, h, w, 1)), np.zeros((kh, kw, 1, 1)), strides=args[2],
                               padding=args[3], dilation_rate=args[4])
        cases.append(core.Case(describe(*args[:4], dilation_rate=args[4]), args, {},
                               tuple(int(v) for v in out.shape[1:3])))
    return cases


# ---- conv2d_same_padding ---------------------------------------------------------------

def visible_conv2d_same_padding(conv2d_same_padding):
    """Keras's "same" padding: the odd extra row/column goes to the bottom/right."""
    examples = [
        # (input_shape, kernel_size, strides) -> ((top, bottom), (left, right))
        (((4, 4), (3, 3), (1, 1)), ((1, 1), (1, 1))),
        (((4, 4), (2, 2), (1, 1)), ((0, 1), (0, 1))),  # odd total: the article pads 1 on both sides
        (((5, 6), (3, 3), (2, 2)), ((1, 1), (0, 1))),
        (((4, 4), (1, 1), (3, 3)), ((0, 0), (0, 0))),  # stride larger than the kernel: no padding
    ]
    cases = [core.Case(describe(*a, "same"), a, {}, expected) for a, expected in examples]
    check(conv2d_same_padding, cases, what="conv2d_same_padding")


@hidden_check("conv2d_same_padding", reference="tconv_lib (itself tested against Keras)")
def hidden_conv2d_same_padding():
    cases = []
    for config in tconv_configs(seed=32, count=40, max_input=9):
        args = config[:3]
        cases.append(core.Case(describe(*args, "same"), args, {},
                               tconv_lib.conv2d_padding(*args, "same")))
    return cases


# ---- conv2d_transpose_output_shape -----------------------------------------------------

def visible_conv2d_transpose_output_shape(conv2d_transpose_output_shape):
    """The article's examples and the cases its formula gets wrong, worked out by hand."""
    examples = [
        # (input_shape, kernel_size, strides, padding, output_padding, dilation_rate) -> expected
        (((2, 2), (3, 3), (1, 1), "valid", None, (1, 1)), (4, 4)),  # the article's 2x2 back to 4x4
        (((2, 2), (2, 2), (1, 1), "valid", None, (1, 1)), (3, 3)),  # the article's 2x2 kernel
        (((2, 2), (2, 2), (1, 1), "same", None, (1, 1)), (2, 2)),
        (((3, 3), (2, 2), (3, 3), "valid", None, (1, 1)), (9, 9)),  # stride > kernel: not 8x8
        (((4, 3), (3, 3), (2, 2), "same", None, (1, 1)), (8, 6)),
        (((4, 4), (3, 3), (2, 2), "same", (0, 0), (1, 1)), (7, 7)),
        (((4, 4), (3, 3), (2, 2), "valid", (1, 1), (1, 1)), (10, 10)),
        (((3, 3), (3, 3), (1, 1), "valid", None, (2, 2)), (7, 7)),
    ]
    cases = [core.Case(describe(*a[:4], output_padding=a[4], dilation_rate=a[5]), a, {}, expected)
             for a, expected in examples]
    check(conv2d_transpose_output_shape, cases, what="conv2d_transpose_output_shape")


def _tconv_shape_configs(seed: int, count: int) -> list[tuple]:
    """(input_shape, kernel_size, strides, padding, output_padding, dilation_rate) Keras accepts."""
    rng = hidden_rng(seed, 1)
    configs = list(_TCONV_SHAPE_EDGES)
    for config in tconv_configs(seed, 3 * count):
        dilation = dilation_pair(rng, 0.25)
        if dilation != (1, 1):
            config = config._replace(strides=(1, 1))  # Keras does not combine strides and dilation
        output_padding = None
        if rng.random() < 0.4:
            output_padding = tuple(int(rng.integers(s)) for s in config.strides)
        args = (*config, output_padding, dilation)
        try:
            tconv_lib.conv2d_transpose_output_shape(*args)
        except ValueError:  # an output_padding TensorFlow rejects: not a question to ask
            continue
        configs.append(args)
        if len(configs) == count:
            return configs
    raise AssertionError("too few valid configurations generated")  # a bug in this module


@hidden_check("conv2d_transpose_output_shape")
def hidden_conv2d_transpose_output_shape():
    cases = []
    for args in _tconv_shape_configs(seed=33, count=36):
        (h, w), (kh, kw) = args[0], args[1]
        out = keras_ref.conv2d_transpose(np.zeros((1, h, w, 1)), np.zeros((kh, kw, 1, 1)),
                                         strides=args[2], padding=args[3], output_padding=args[4],
                                         dilation_rate=args[5])
        cases.append(core.Case(describe(*args[:4], output_padding=args[4], dilation_rate=args[5]),
                               args, {}, tuple(int(v) for v in out.shape[1:3])))
    return cases
