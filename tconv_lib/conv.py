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
    patches = windows(pad_or_crop(x, *pads), kernel_size, strides, dilation_rate, out_shape)
    # One matrix product over all windows: (N*Ho*Wo, kh*kw*C_in) @ (kh*kw*C_in, C_out).
    y = patches.reshape(-1, kernel[..., 0].size) @ kernel.reshape(-1, kernel.shape[3])
    y = y.reshape(x.shape[0], *out_shape, kernel.shape[3])
    return y if bias is None else y + bias
