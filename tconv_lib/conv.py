"""Keras-exact 2-D convolution (cross-correlation, as in every deep-learning library)."""
from __future__ import annotations

import numpy as np

from . import shapes, validation


def pad_or_crop(x: np.ndarray, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Zero-pad (positive) or cut (negative) ``x: (N, H, W, C)`` by (before, after) per axis."""
    def cut(lo, hi, size):
        return slice(max(-lo, 0), size - max(-hi, 0))

    x = x[:, cut(*rows, x.shape[1]), cut(*cols, x.shape[2]), :]
    pads = ((0, 0), (max(rows[0], 0), max(rows[1], 0)), (max(cols[0], 0), max(cols[1], 0)), (0, 0))
    return np.pad(x, pads) if any(p for ax in pads for p in ax) else x


def cut(x: np.ndarray, crop) -> np.ndarray:
    """``x: (N, H, W, C)`` less ``crop = ((top, bottom), (left, right))`` rows and columns."""
    (top, bottom), (left, right) = crop
    return pad_or_crop(x, (-top, -bottom), (-left, -right))


def windows(x_padded: np.ndarray, kernel_size, strides, dilation_rate, out_shape) -> np.ndarray:
    """Every receptive field of ``x_padded: (N, Hp, Wp, C)`` as a view ``(N, Ho, Wo, kh, kw, C)``."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    span = (shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw))
    view = np.lib.stride_tricks.sliding_window_view(x_padded, span, axis=(1, 2))
    view = view[:, ::sh, ::sw, :, ::dh, ::dw][:, : out_shape[0], : out_shape[1]]
    return view.transpose(0, 1, 2, 4, 5, 3)


#: Values in one chunk's patch matrix and products (4 MiB of float32): they stay in cache.
_CHUNK_VALUES = 1 << 20


def patch_chunks(x_padded, kernel_size, strides, dilation_rate, out_shape, columns):
    """im2col a few output rows at a time: yields ``(images, rows, patches)`` per chunk.

    x_padded: (N, Hp, Wp, C). ``patches``: (len(images) * len(rows) * Wo, kh * kw * C), the
    receptive fields of those output rows, in one buffer that the next chunk overwrites.
    ``images`` and ``rows`` are slices, either one image and some of its rows or whole images,
    so that ``y[images, rows]`` of a C-contiguous ``y: (N, Ho, Wo, ...)`` is contiguous.
    ``columns``: values the caller's product gives per patch (sizes the chunks).
    """
    view = windows(x_padded, kernel_size, strides, dilation_rate, out_shape)
    n, ho, wo = view.shape[:3]
    depth = view[0, 0, 0].size
    rows = max(1, _CHUNK_VALUES // (wo * (depth + columns)))
    images, rows = max(1, rows // ho), min(rows, ho)
    buffer = None
    for b in range(0, n, images):
        for r in range(0, ho, rows):
            chunk = view[b: b + images, r: r + rows]
            if not chunk.flags.c_contiguous:  # a 1 x 1 window on an unpadded input needs no copy
                if buffer is None:
                    buffer = np.empty((min(images, n), rows, *view.shape[2:]), dtype=x_padded.dtype)
                patches = buffer[: chunk.shape[0], : chunk.shape[1]]
                np.copyto(patches, chunk)
                chunk = patches
            yield slice(b, b + images), slice(r, r + rows), chunk.reshape(-1, depth)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1) -> np.ndarray:
    """Same numbers as ``keras.layers.Conv2D`` with these weights.

    x: (N, H, W, C_in); kernel: (kh, kw, C_in, C_out); bias: (C_out,) or None.
    Returns (N, H_out, W_out, C_out); see ``shapes.conv2d_output_shape`` for the sizes.
    float32 inputs give float32, anything else float64.
    """
    x, kernel, bias, strides, padding, dilation_rate, _ = validation.conv_arguments(
        x, kernel, bias, strides, padding, dilation_rate, transpose=False)
    kernel_size = kernel.shape[:2]
    out_shape = shapes.conv2d_output_shape(x.shape[1:3], kernel_size, strides, padding, dilation_rate)
    pads = shapes.conv2d_padding(x.shape[1:3], kernel_size, strides, padding, dilation_rate)
    c_out = kernel.shape[3]
    weights = kernel.reshape(-1, c_out)
    y = np.empty((x.shape[0], *out_shape, c_out), dtype=x.dtype)
    # One matrix product per chunk of windows, (rows, kh*kw*C_in) @ (kh*kw*C_in, C_out),
    # written straight into the output.
    for images, rows, patches in patch_chunks(pad_or_crop(x, *pads), kernel_size, strides,
                                              dilation_rate, out_shape, c_out):
        out = y[images, rows].reshape(patches.shape[0], c_out)
        np.matmul(patches, weights, out=out)
        if bias is not None:
            out += bias
    return y
