"""Checks for the ``checkerboard`` assignment: uneven overlap, the cause of checkerboard artifacts.

Students write:

* ``overlap_count_1d(input_length, kernel_size, strides, padding)`` -> ints ``(L_out,)``: how many
  (input pixel, kernel tap) pairs write each output pixel of a 1-D transposed convolution;
* ``overlap_count_2d(input_shape, kernel_size, strides, padding)`` -> ints ``(H_out, W_out)``;
* ``choose_kernel_and_stride(factor, min_kernel_size)`` -> ``(kernel_size, strides)``: the stride
  and the smallest kernel of at least ``min_kernel_size`` taps with which a "same"
  Conv2DTranspose upsamples by ``factor`` with even overlap.

Overlap counts are checked against ``keras.layers.Conv2DTranspose`` run on all-ones inputs
with all-ones kernels (each output pixel then sums exactly its writers).
"""
from __future__ import annotations

import itertools

import numpy as np

import tconv_lib
from tconv_lib import keras_ref
from tconv_lib.grading import core
from tconv_lib.grading.cases import check, describe, hidden_check, tconv_configs


def _keras_overlap(input_shape, kernel_size, strides, padding) -> np.ndarray:
    """Keras's Conv2DTranspose of ones with a kernel of ones: the overlap count of every output pixel."""
    out = keras_ref.conv2d_transpose(np.ones((1, *input_shape, 1)), np.ones((*kernel_size, 1, 1)),
                                     strides=strides, padding=padding)
    return np.rint(out[0, :, :, 0]).astype(np.int64)


def _int_cases(examples, describe_args):
    return [core.Case(describe_args(*args), args, {}, np.array(expected)) for args, expected in examples]


# ---- overlap_count_1d ------------------------------------------------------------------

def _describe_1d(length, kernel_size, strides, padding):
    return f"input length {length}, kernel size {kernel_size}, strides {strides}, padding={padding!r}"


def visible_overlap_count_1d(overlap_count_1d):
    examples = [
        ((4, 3, 2, "valid"), [1, 1, 2, 1, 2, 1, 2, 1, 1]),  # 3 is not a multiple of 2: uneven
        ((4, 4, 2, "valid"), [1, 1, 2, 2, 2, 2, 2, 2, 1, 1]),  # 4 is: even inside
        ((4, 3, 2, "same"), [1, 1, 2, 1, 2, 1, 2, 1]),
        ((4, 4, 2, "same"), [1, 2, 2, 2, 2, 2, 2, 1]),
        ((3, 2, 3, "valid"), [1, 1, 0, 1, 1, 0, 1, 1, 0]),  # stride > kernel: gaps nobody writes
        ((3, 3, 1, "valid"), [1, 2, 3, 2, 1]),
    ]
    cases = _int_cases(examples, _describe_1d)
    check(overlap_count_1d, cases, what="overlap_count_1d")


@hidden_check("overlap_count_1d")
def hidden_overlap_count_1d():
    cases = []
    for config in tconv_configs(61, 24, max_input=8, max_kernel=6):
        # Each configuration's height settings make a 1-D question.
        args = (config.input_shape[0], config.kernel_size[0], config.strides[0], config.padding)
        expected = _keras_overlap((1, args[0]), (1, args[1]), (1, args[2]), args[3])[0]
        cases.append(core.Case(_describe_1d(*args), args, {}, expected))
    return cases


# ---- overlap_count_2d ------------------------------------------------------------------

def visible_overlap_count_2d(overlap_count_2d):
    examples = [
        (((2, 2), (3, 3), (2, 2), "valid"),
         [[1, 1, 2, 1, 1], [1, 1, 2, 1, 1], [2, 2, 4, 2, 2], [1, 1, 2, 1, 1], [1, 1, 2, 1, 1]]),
        (((2, 3), (2, 2), (2, 2), "valid"), np.ones((4, 6), dtype=int).tolist()),  # even: all ones
        (((3, 2), (3, 1), (2, 1), "same"), [[1, 1], [1, 1], [2, 2], [1, 1], [2, 2], [1, 1]]),
    ]
    cases = _int_cases(examples, describe)
    check(overlap_count_2d, cases, what="overlap_count_2d")


@hidden_check("overlap_count_2d")
def hidden_overlap_count_2d():
    cases = []
    for config in tconv_configs(62, 20):
        cases.append(core.Case(describe(*config), tuple(config), {}, _keras_overlap(*config)))
    return cases


# ---- choose_kernel_and_stride ----------------------------------------------------------

def _smallest_even_choice(factor: int, min_kernel_size: int) -> tuple[int, int]:
    """The answer from the definitions: a "same" output is ``input * strides`` long, so the stride
    is the factor; then the first kernel size from ``min_kernel_size`` up without uneven overlap."""
    strides = factor
    kernel_size = min_kernel_size
    while tconv_lib.uneven_overlap(kernel_size, strides):
        kernel_size += 1
    return kernel_size, strides


def _choice_case(factor: int, min_kernel_size: int, expected) -> core.Case:
    return core.Case(f"upsampling factor {factor}, kernel size at least {min_kernel_size}",
                     (factor, min_kernel_size), {}, expected)


def visible_choose_kernel_and_stride(choose_kernel_and_stride):
    examples = {  # (factor, min_kernel_size) -> (kernel_size, strides), worked out by hand
        (2, 3): (4, 2), (2, 4): (4, 2), (3, 2): (3, 3), (1, 5): (5, 1), (4, 5): (8, 4)}
    cases = [_choice_case(*args, expected) for args, expected in examples.items()]
    check(choose_kernel_and_stride, cases, what="choose_kernel_and_stride")


@hidden_check("choose_kernel_and_stride",
              reference="tconv_lib's rule (stride = factor, kernel a multiple of the stride)")
def hidden_choose_kernel_and_stride():
    return [_choice_case(f, k, _smallest_even_choice(f, k))
            for f, k in itertools.product(range(1, 7), range(1, 13))]
