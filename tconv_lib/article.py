"""The reference article's from-scratch Conv2D and Conv2DTranspose, bugs included: an object of study.

The article builds both layers for one channel, on 2-D arrays, and checks them against Keras
on four examples, "valid" and "same" for each layer (the convolution on a 4x4 input with a 3x3
kernel, the transposed convolution on a 2x2 input with a 2x2 kernel; ``X``, ``W3``, ``Y`` and
``W2`` here), where they agree. This module re-expresses its algorithm
(vectorised, the same numbers and the same shapes) so the book can run it on other cases and
show where it parts from Keras:

* ``"same"`` convolution pads ``ceil(((n / s - 1) * s + k - n) / 2)`` zeros on *both* sides
  (Keras puts an odd extra zero after, and sizes from ``ceil(n / s)``); a negative result
  (kernel smaller than stride by 2 or more) makes the article's code fail.
* its convolution slides over columns up to ``W_padded - kh`` (the kernel's *height*), so
  non-square kernels give too few columns, too many, or a failure.
* its transposed convolution is always ``(n - 1) * s + k`` long (Keras's ``"valid"`` keeps
  ``max(k, s)``), and its crop ends the columns at the *row* count and reuses the row crop
  for the columns' end.

For the correct versions use ``tconv_lib.conv2d`` and ``tconv_lib.conv2d_transpose``.
"""
from __future__ import annotations

import math

import numpy as np

from . import validation
from .conv import conv2d as keras_exact_conv
from .transpose import conv2d_transpose as keras_exact_transpose


def _example(rows) -> np.ndarray:
    values = np.array(rows)
    values.setflags(write=False)  # shared by every caller
    return values


#: The article's two worked examples, (H, W) and (kh, kw) int arrays: the 4x4 input ``X``
#: convolved ("valid") with the 3x3 kernel ``W3`` gives the 2x2 map ``Y``; ``Y`` transposed-
#: convolved with the 2x2 kernel ``W2`` gives a 3x3 output.
X = _example([[3, 5, 2, 7], [4, 1, 3, 8], [6, 3, 8, 2], [9, 6, 1, 5]])
W3 = _example([[1, 2, 1], [2, 1, 2], [1, 1, 2]])
Y = _example([[55, 52], [57, 50]])
W2 = _example([[1, 2], [2, 1]])


def _inputs(x, kernel, padding, strides):
    x = validation.array(x, "x", 2, "(H, W)").astype(np.float64)
    kernel = validation.array(kernel, "kernel", 2, "(kh, kw)").astype(np.float64)
    return x, kernel, validation.padding_mode(padding), validation.pair(strides, "strides")


def conv2d_same_padding(input_shape, kernel_size, strides) -> tuple[int, int]:
    """The article's zeros on *each* side for ``"same"``: ``(p_row, p_col)``, possibly negative.

    input_shape: (H, W); kernel_size, strides: an int or a pair. Per axis
    ``ceil(((n / s - 1) * s + k - n) / 2)``, in floating point as the article computes it
    (``n / s`` is not rounded up, so inputs that the stride does not divide are mis-sized).
    """
    return tuple(math.ceil(((n / s - 1) * s + k - n) / 2)
                 for n, k, s in zip(validation.pair(input_shape, "input_shape"),
                                    validation.pair(kernel_size, "kernel_size"),
                                    validation.pair(strides, "strides")))


def conv2d(x, kernel, padding="valid", strides=(1, 1)) -> np.ndarray:
    """The article's ``Conv2D``: x (H, W), kernel (kh, kw) -> float64 (H_out, W_out).

    Raises ValueError in the cases where the article's own code fails (negative padding,
    or a non-square kernel whose windows run off the right edge).
    """
    x, kernel, padding, (sh, sw) = _inputs(x, kernel, padding, strides)
    (h, w), (kh, kw) = x.shape, kernel.shape
    p_row, p_col = conv2d_same_padding((h, w), (kh, kw), (sh, sw)) if padding == "same" else (0, 0)
    if min(p_row, p_col) < 0:
        raise ValueError(f"the article's Conv2D fails: its 'same' padding is negative "
                         f"(p_row={p_row}, p_col={p_col}) for x {x.shape}, kernel {kernel.shape}, "
                         f"strides {(sh, sw)}")
    padded = np.pad(x, ((p_row, p_row), (p_col, p_col)))
    rows = np.arange(0, padded.shape[0] - kh + 1, sh)
    # The article bounds the column loop with the kernel's height: the bug kept on purpose.
    cols = np.arange(0, padded.shape[1] - kh + 1, sw)
    if rows.size == 0:
        return np.zeros(0)
    # Windows that run off the right edge are cut short; NumPy then multiplies a
    # (kh, width) slice by the (kh, kw) kernel, which only broadcasts when width is 1.
    widths = np.minimum(kw, padded.shape[1] - cols)
    if np.any((widths != kw) & (widths != 1)):
        raise ValueError(f"the article's Conv2D fails: a window of width {widths.min()} cannot be "
                         f"multiplied by the {kh}x{kw} kernel (x {x.shape}, strides {(sh, sw)})")
    out = np.empty((rows.size, cols.size))
    whole = widths == kw
    if whole.any():
        # Whole windows come first and are the first columns of a "valid" convolution.
        valid = keras_exact_conv(padded[None, :, :, None], kernel[:, :, None, None], strides=(sh, sw))
        out[:, whole] = valid[0, :, : whole.sum(), 0]
    if not whole.all():
        # A one-column slice broadcasts across the kernel: column times the kernel's row sums.
        strips = padded[rows[:, None] + np.arange(kh)][:, :, cols[~whole]]  # (rows, kh, n)
        out[:, ~whole] = np.einsum("aib,i->ab", strips, kernel.sum(axis=1))
    return out


def conv2d_transpose_slices(full_shape, kernel_size, strides, padding) -> tuple[slice, slice]:
    """The article's crop of its full ``(n - 1) * s + k`` output: (row slice, column slice).

    full_shape: (rows, cols) of the full scatter; kernel_size, strides: an int or a pair.
    For ``"same"`` it cuts ``floor((k - s) / 2)`` before, computed per axis, but the
    columns end at ``rows - (kw - sw - row_start)``: the row count and the row crop.
    """
    rows = validation.pair(full_shape, "full_shape")[0]
    (kh, kw), (sh, sw) = validation.pair(kernel_size, "kernel_size"), validation.pair(strides, "strides")
    if validation.padding_mode(padding) == "valid":
        row_start = row_end = col_start = col_end = 0
    else:
        row_start = (kh - sh) // 2
        row_end = kh - sh - row_start
        col_start = (kw - sw) // 2
        col_end = kw - sw - row_start
    return slice(row_start, rows - row_end), slice(col_start, rows - col_end)


def conv2d_transpose(x, kernel, padding="valid", strides=(1, 1)) -> np.ndarray:
    """The article's ``Conv2DTranspose``: x (H, W), kernel (kh, kw) -> float64 output.

    The full scatter ``((H - 1) * sh + kh, (W - 1) * sw + kw)`` followed by the article's
    crop (``conv2d_transpose_slices``, which uses Python's slicing, negative starts included).
    """
    x, kernel, padding, (sh, sw) = _inputs(x, kernel, padding, strides)
    full_shape = ((x.shape[0] - 1) * sh + kernel.shape[0], (x.shape[1] - 1) * sw + kernel.shape[1])
    # Keras's "valid" result starts with the full scatter (it only appends zeros when s > k).
    full = keras_exact_transpose(x[None, :, :, None], kernel[:, :, None, None], strides=(sh, sw))
    full = full[0, : full_shape[0], : full_shape[1], 0]
    return full[conv2d_transpose_slices(full_shape, kernel.shape, (sh, sw), padding)]
