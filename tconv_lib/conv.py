"""Keras-exact 2-D convolution (cross-correlation, as in every deep-learning library)."""
from __future__ import annotations

import numpy as np

from . import memory, parallel, shapes, validation


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


def chunks(n, rows, values_per_row) -> list[tuple[slice, slice]]:
    """Cut ``n`` images of ``rows`` output rows into chunks of about ``_CHUNK_VALUES`` values.

    Returns ``(images, rows)`` slices: either one image and some of its rows or whole images,
    so that ``y[images, rows]`` of a C-contiguous ``y: (N, Ho, ...)`` is contiguous. Sizes
    differ by at most one row or image, so that threads sharing them finish together.
    """
    per_chunk = max(1, _CHUNK_VALUES // values_per_row)
    if per_chunk < rows:
        cuts = _even_cuts(rows, -(-rows // per_chunk))
        return [(slice(b, b + 1), slice(lo, hi)) for b in range(n) for lo, hi in cuts]
    return [(slice(lo, hi), slice(0, rows)) for lo, hi in _even_cuts(n, -(-n // (per_chunk // rows)))]


def _even_cuts(length, parts):
    """``parts`` consecutive (start, stop) ranges over ``range(length)``, sizes differing by at most one."""
    return [(i * length // parts, (i + 1) * length // parts) for i in range(parts)]


class Patches:
    """The receptive fields of ``x: (N, H, W, C)`` zero-padded by ``pads``, copied out (im2col) by chunks.

    ``pads``: ((top, bottom), (left, right)); negative pads cut. Only the pads before count:
    ``out_shape`` (Ho, Wo) sets how far the fields reach. The padding is never built: each
    window position copies the input pixels it reads and zeroes the cells it reads off the
    input. ``cells``: the window positions ``(u, v)`` in the order a field holds them (row by
    row if not given). ``depth``: values per field (cells * C); ``width``: output columns (Wo).
    """

    def __init__(self, x, pads, kernel_size, strides, dilation_rate, out_shape, cells=None):
        (kh, kw), self.x, self.strides = kernel_size, x, strides
        self.cells = [(u, v) for u in range(kh) for v in range(kw)] if cells is None else list(cells)
        self.depth, self.width = len(self.cells) * x.shape[3], out_shape[1]
        # Per axis and window position: the outputs [lo, hi) that read inside the input, and
        # the input index that output 0 reads (i * d - pad_before).
        self._reads = [[_inside(i * d - before, size, s, outputs) for i in range(k)]
                       for k, d, (before, _), size, s, outputs in
                       zip(kernel_size, dilation_rate, pads, x.shape[1:3], strides, out_shape)]
        # A 1 x 1 window on an unpadded, unstrided input reads the input itself.
        self._is_input = (tuple(kernel_size) == (1, 1) and tuple(strides) == (1, 1)
                          and not any(p for axis in pads for p in axis) and tuple(out_shape) == x.shape[1:3])

    def matrix(self, images, rows, scratch: parallel.Scratch) -> np.ndarray:
        """(len(images) * len(rows) * Wo, depth): the fields of those output rows.

        The copy lives in ``scratch``'s buffer, which the thread's next chunk overwrites.
        """
        x, (sh, sw) = self.x, self.strides
        if self._is_input:
            return x[images, rows].reshape(-1, self.depth)
        count = (images.stop - images.start) * (rows.stop - rows.start) * self.width * self.depth
        patches = scratch.get("patches", count, x.dtype).reshape(
            images.stop - images.start, rows.stop - rows.start, self.width, len(self.cells), x.shape[3])
        for slot, (u, v) in enumerate(self.cells):
            row_lo, row_hi, row_origin = self._reads[0][u]
            col_lo, col_hi, col_origin = self._reads[1][v]
            lo, hi = max(row_lo, rows.start), min(row_hi, rows.stop)
            cell = patches[:, :, :, slot]
            if lo >= hi or col_lo >= col_hi:
                cell[...] = 0
                continue
            cell[:, : lo - rows.start] = 0
            cell[:, hi - rows.start:] = 0
            inside = cell[:, lo - rows.start: hi - rows.start]
            inside[:, :, :col_lo] = 0
            inside[:, :, col_hi:] = 0
            source_rows = slice(lo * sh + row_origin, (hi - 1) * sh + row_origin + 1, sh)
            source_cols = slice(col_lo * sw + col_origin, (col_hi - 1) * sw + col_origin + 1, sw)
            inside[:, :, col_lo: col_hi] = x[images, source_rows, source_cols]
        return patches.reshape(-1, self.depth)


def _inside(origin, size, stride, outputs):
    """``(lo, hi, origin)``: outputs ``o`` in [lo, hi) read input ``o * stride + origin`` inside [0, size)."""
    lo = min(outputs, max(0, -(origin // stride)))
    hi = min(outputs, max(0, (size - 1 - origin) // stride + 1))
    return lo, max(lo, hi), origin


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
    y = memory.empty((x.shape[0], *out_shape, c_out), x.dtype)
    patches = Patches(x, pads, kernel_size, strides, dilation_rate, out_shape)
    # One matrix product per chunk of windows, (rows, kh*kw*C_in) @ (kh*kw*C_in, C_out),
    # written straight into the output.
    def run(scratch, chunk):
        images, rows = chunk
        out = y[images, rows].reshape(-1, c_out)
        np.matmul(patches.matrix(images, rows, scratch), weights, out=out)
        if bias is not None:
            out += bias

    parallel.each(run, chunks(x.shape[0], out_shape[0], patches.width * (patches.depth + c_out)),
                  multiply_adds=y.size * weights.shape[0])
    return y
