"""Uneven overlap: the source of the checkerboard artifacts of transposed convolutions."""
from __future__ import annotations

import numpy as np

from . import validation
from .transpose import conv2d_transpose


def overlap_count(input_shape, kernel_size, strides=1, padding="valid", output_padding=None,
                  dilation_rate=1) -> np.ndarray:
    """How many (input pixel, kernel tap) pairs write each output pixel: (H_out, W_out) ints.

    It is the transposed convolution of an all-ones input with an all-ones kernel; where
    these counts are uneven, a trained (or random) kernel paints a checkerboard.
    """
    (h, w), (kh, kw) = validation.pair(input_shape, "input_shape"), validation.pair(kernel_size, "kernel_size")
    counts = conv2d_transpose(np.ones((1, h, w, 1)), np.ones((kh, kw, 1, 1)), strides=strides,
                              padding=padding, output_padding=output_padding,
                              dilation_rate=dilation_rate)
    return np.rint(counts[0, :, :, 0]).astype(np.int64)


def uneven_overlap(kernel_size, strides) -> bool:
    """True when the stride does not divide the kernel size along some axis (artifacts follow)."""
    kernel_size = validation.pair(kernel_size, "kernel_size")
    strides = validation.pair(strides, "strides")
    return any(k % s for k, s in zip(kernel_size, strides))
