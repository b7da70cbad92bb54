"""Keras-exact transposed convolution, computed three ways that give the same numbers.

* ``"scatter"``: every input pixel scatters a copy of the kernel, scaled by its value,
  into the output; where copies overlap they add up.
* ``"zero_insertion"``: put ``s - 1`` zeros between input pixels, pad, and run a stride-1
  convolution with the kernel flipped left-right and up-down.
* ``"matrix"``: multiply by the transpose of the convolution matrix (small inputs only).
"""
from __future__ import annotations

import numpy as np

from . import shapes, validation
from .conv import conv2d, pad_or_crop
from .matrix import conv_matrix

METHODS = ("scatter", "zero_insertion", "matrix")


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, method="scatter") -> np.ndarray:
    """Same numbers as ``keras.layers.Conv2DTranspose`` with these weights.

    x: (N, H, W, C_in); kernel: Keras's (kh, kw, C_out, C_in); bias: (C_out,) or None.
    Returns (N, H_out, W_out, C_out); see ``shapes.conv2d_transpose_output_shape``.
    float32 inputs give float32, anything else float64. ``method`` picks one of
    ``METHODS``; all three give the same result.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x, kernel, bias, strides, padding, dilation_rate, dtype = validation.conv_arguments(
        x, kernel, bias, strides, padding, dilation_rate, transpose=True)
    args = (x.shape[1:3], kernel.shape[:2], strides, padding, output_padding, dilation_rate)
    out_shape = shapes.conv2d_transpose_output_shape(*args)
    crop = shapes.conv2d_transpose_crop(*args)
    y = _IMPLEMENTATIONS[method](x, kernel, strides, padding, dilation_rate, out_shape, crop)
    y = y.astype(dtype, copy=False)
    return y if bias is None else y + bias


def _scatter(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    (n, h, w, _), (kh, kw, c_out, _) = x.shape, kernel.shape
    (sh, sw), (dh, dw) = strides, dilation_rate
    full = np.zeros((n, (h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1, c_out),
                    dtype=x.dtype)
    # Every pixel times every tap at once: (N*H*W, C_in) @ (C_in, kh*kw*C_out).
    copies = (x.reshape(-1, x.shape[3]) @ kernel.transpose(3, 0, 1, 2).reshape(x.shape[3], -1))
    copies = copies.reshape(n, h, w, kh, kw, c_out)
    # Tap (i, j) of pixel (r, c) lands at (r * s + i * d, c * s + j * d): one strided add per tap.
    for i in range(kh):
        for j in range(kw):
            full[:, i * dh: i * dh + (h - 1) * sh + 1: sh,
                 j * dw: j * dw + (w - 1) * sw + 1: sw] += copies[:, :, :, i, j]
    return pad_or_crop(full, *((-before, -after) for before, after in crop))


def insert_zeros(x: np.ndarray, strides) -> np.ndarray:
    """``x: (N, H, W, C)`` with ``s - 1`` zeros between neighbouring pixels along each axis."""
    (n, h, w, c), (sh, sw) = x.shape, strides
    out = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c), dtype=x.dtype)
    out[:, ::sh, ::sw] = x
    return out


def _zero_insertion(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    spans = [shapes.effective_kernel_size(k, d) for k, d in zip(kernel.shape[:2], dilation_rate)]
    # A "full" stride-1 convolution pads k_eff - 1; the transposed padding cuts that back.
    pads = [(k - 1 - before, k - 1 - after) for k, (before, after) in zip(spans, crop)]
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, C_in, C_out) for conv2d
    return conv2d(pad_or_crop(insert_zeros(x, strides), *pads), flipped,
                  dilation_rate=dilation_rate)


def _matrix(x, kernel, strides, padding, dilation_rate, out_shape, crop):
    # C maps the transposed convolution's output space to its input space.
    C = conv_matrix((*out_shape, kernel.shape[2]), kernel, strides, padding, dilation_rate)
    y = x.reshape(x.shape[0], -1) @ C
    return y.reshape(x.shape[0], *out_shape, kernel.shape[2])


_IMPLEMENTATIONS = {"scatter": _scatter, "zero_insertion": _zero_insertion, "matrix": _matrix}
