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


def phase_sums(kernel, strides) -> np.ndarray:
    """Sum of the kernel's taps in each of its ``s_h x s_w`` phases.

    kernel: (kh, kw), or Keras's Conv2DTranspose layout (kh, kw, C_out, C_in).
    Returns (s_h, s_w), or (s_h, s_w, C_out, C_in): entry ``[a, b]`` adds the taps
    ``kernel[i, j]`` with ``i % s_h == a`` and ``j % s_w == b``. Away from the borders, a
    constant input of ones gives exactly these sums on the output cells fed by that phase
    (summed over C_in), so the output is flat if and only if all the phase sums are equal.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim not in (2, 4):
        raise ValueError(f"kernel must be (kh, kw) or (kh, kw, C_out, C_in), got shape {kernel.shape}")
    kernel = validation.array(kernel, "kernel", kernel.ndim, "(kh, kw) or (kh, kw, C_out, C_in)")
    (kh, kw), (sh, sw) = kernel.shape[:2], validation.pair(strides, "strides")
    # Pad each axis to a multiple of the stride with zero taps, then fold the blocks together.
    rows, cols, rest = -(-kh // sh), -(-kw // sw), kernel.shape[2:]
    padded = np.zeros((rows * sh, cols * sw, *rest), dtype=np.result_type(kernel, float))
    padded[:kh, :kw] = kernel
    return padded.reshape(rows, sh, cols, sw, *rest).sum(axis=(0, 2))


def uneven_overlap(kernel_size, strides) -> bool:
    """True when the stride does not divide the kernel size along some axis (artifacts follow)."""
    kernel_size = validation.pair(kernel_size, "kernel_size")
    strides = validation.pair(strides, "strides")
    return any(k % s for k, s in zip(kernel_size, strides))
