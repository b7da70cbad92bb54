"""Keras-exact transposed convolution, computed four ways that give the same numbers.

* ``"phase"`` (the default, the fast one): each of the ``s x s`` output phases is a stride-1
  correlation of the input with a sub-kernel; one im2col feeds matrix products for all
  phases, which are then interleaved (see ``tconv_lib.phase``). No zero is multiplied.

The other three are the course's teaching methods:

* ``"scatter"``: every input pixel scatters a copy of the kernel, scaled by its value,
  into the output; where copies overlap they add up.
* ``"zero_insertion"``: put ``s - 1`` zeros between input pixels, pad, and run a stride-1
  convolution with the kernel flipped left-right and up-down.
* ``"matrix"``: multiply by the transpose of the convolution matrix (small inputs only).
"""
from __future__ import annotations

import numpy as np

from . import phase, shapes, validation
from .conv import conv2d, pad_or_crop
from .matrix import conv_matrix

METHODS = ("phase", "scatter", "zero_insertion", "matrix")
#: Kernel copies computed at once by the scatter (2 MiB of float32: they stay in cache).
_CHUNK_VALUES = 1 << 19


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, method="phase") -> np.ndarray:
    """Same numbers as ``keras.layers.Conv2DTranspose`` with these weights.

    x: (N, H, W, C_in); kernel: Keras's (kh, kw, C_out, C_in); bias: (C_out,) or None.
    Returns (N, H_out, W_out, C_out); see ``shapes.conv2d_transpose_output_shape``.
    float32 inputs give float32, anything else float64. ``method`` picks one of
    ``METHODS``; all four give the same result.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x, kernel, bias, strides, padding, dilation_rate, dtype = validation.conv_arguments(
        x, kernel, bias, strides, padding, dilation_rate, transpose=True)
    args = (x.shape[1:3], kernel.shape[:2], strides, padding, output_padding, dilation_rate)
    out_shape = shapes.conv2d_transpose_output_shape(*args)
    crop = shapes.conv2d_transpose_crop(*args)
    if method == "phase":  # adds the bias while each chunk is still in cache
        return phase.conv2d_transpose(x, kernel, bias, strides, dilation_rate, out_shape, crop)
    y = _IMPLEMENTATIONS[method](x, kernel, strides, padding, dilation_rate, out_shape, crop)
    y = y.astype(dtype, copy=False)
    return y if bias is None else y + bias


def _scatter(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    (n, h, w, c_in), (kh, kw, c_out, _) = x.shape, kernel.shape
    (sh, sw) = strides
    # Tap (i, j) of pixel (r, c) lands at row r * s + i * d: in block r + m, phase a, where
    # (m, a) = divmod(i * d, s). Grouping taps by block shift (m, l) makes each group one
    # large contiguous addition instead of kh * kw small strided ones.
    (m_r, a_r), (m_c, a_c) = (np.divmod(np.arange(k) * d, s) for k, d, s in
                              zip((kh, kw), dilation_rate, strides))
    shifts = sorted({(m, l) for m in m_r for l in m_c})
    # Each shift group's kernel taps as one (C_in, sh * sw * C_out) matrix: a matrix product
    # then gives every pixel's copies for that group, laid out by phase.
    grouped = np.zeros((len(shifts), c_in, sh, sw, c_out), dtype=x.dtype)
    index = {shift: g for g, shift in enumerate(shifts)}
    for i in range(kh):
        for j in range(kw):
            grouped[index[m_r[i], m_c[j]], :, a_r[i], a_c[j]] = kernel[i, j].T
    grouped = grouped.reshape(len(shifts), c_in, -1)
    # The output as blocks of s x s pixels: (N, block row, phase row, block col, phase col, C).
    blocks = np.zeros((n, h + m_r.max(), sh, w + m_c.max(), sw, c_out), dtype=x.dtype)
    # A few images at a time, so each group's copies are added while still in cache.
    images = max(1, _CHUNK_VALUES // (h * w * grouped.shape[2]))
    for b in range(0, n, images):
        pixels = x[b: b + images]
        for g, (m, l) in enumerate(shifts):  # where copies overlap, they add
            copies = (pixels.reshape(-1, c_in) @ grouped[g]).reshape(len(pixels), h, w, sh, sw, c_out)
            blocks[b: b + images, m: m + h, :, l: l + w] += copies.transpose(0, 1, 3, 2, 4, 5)
    full = blocks.reshape(n, blocks.shape[1] * sh, blocks.shape[3] * sw, c_out)
    # ``full`` may hold up to s - 1 spare zero rows after the scatter; crop counts from its start.
    spare = (full.shape[1] - out_shape[0] - crop[0][0], full.shape[2] - out_shape[1] - crop[1][0])
    return pad_or_crop(full, (-crop[0][0], -spare[0]), (-crop[1][0], -spare[1]))


def insert_zeros(x: np.ndarray, strides) -> np.ndarray:
    """``x: (N, H, W, C)`` with ``s - 1`` zeros between neighbouring pixels along each axis."""
    x = validation.array(x, "x", 4, "(N, H, W, C)")
    (n, h, w, c), (sh, sw) = x.shape, validation.pair(strides, "strides")
    out = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c), dtype=x.dtype)
    out[:, ::sh, ::sw] = x
    return out


def zero_insertion_input(x, kernel_size, strides=1, padding="valid", output_padding=None,
                         dilation_rate=1) -> np.ndarray:
    """What the stride-1 convolution of the ``"zero_insertion"`` method slides its kernel over.

    x: (N, H, W, C). Returns x with ``s - 1`` zeros between neighbouring pixels, then zero-padded
    (or cut, where Keras's padding cuts more than a "full" convolution adds) so that a stride-1
    ``conv2d`` with the flipped kernel gives Keras's Conv2DTranspose output.
    """
    x = validation.array(x, "x", 4, "(N, H, W, C)")
    kernel_size = validation.pair(kernel_size, "kernel_size")
    strides = validation.pair(strides, "strides")
    dilation_rate = validation.pair(dilation_rate, "dilation_rate")
    crop = shapes.conv2d_transpose_crop(x.shape[1:3], kernel_size, strides, padding,
                                        output_padding, dilation_rate)
    return _pad_zero_inserted(x, kernel_size, strides, dilation_rate, crop)


def _pad_zero_inserted(x, kernel_size, strides, dilation_rate, crop):
    spans = [shapes.effective_kernel_size(k, d) for k, d in zip(kernel_size, dilation_rate)]
    # A "full" stride-1 convolution pads k_eff - 1; the transposed padding cuts that back.
    pads = [(k - 1 - before, k - 1 - after) for k, (before, after) in zip(spans, crop)]
    return pad_or_crop(insert_zeros(x, strides), *pads)


def _zero_insertion(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_in, C_out) for conv2d
    return conv2d(_pad_zero_inserted(x, kernel.shape[:2], strides, dilation_rate, crop), flipped,
                  dilation_rate=dilation_rate)


def _matrix(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    # C maps the transposed convolution's output space to its input space.
    C = conv_matrix((*out_shape, kernel.shape[2]), kernel, strides, padding, dilation_rate)
    y = x.reshape(x.shape[0], -1) @ C
    return y.reshape(x.shape[0], *out_shape, kernel.shape[2])


_IMPLEMENTATIONS = {"scatter": _scatter, "zero_insertion": _zero_insertion, "matrix": _matrix}
