"""The phase (sub-pixel) decomposition: a transposed convolution that multiplies no inserted zeros.

Along one axis, input pixel ``r`` and kernel tap ``i`` meet at row ``r * s + i * d`` of the
full scatter. Write ``i * d = m * s + a`` with ``0 <= a < s``: the tap lands in *block*
``r + m`` (a block is ``s`` consecutive rows) at *phase* ``a``. So block ``q``, phase ``a`` is
``sum_i x[q - m_i] * kernel[i]`` over the taps of phase ``a``: for each of the ``s x s``
phases, a stride-1 correlation of the input with a small *sub-kernel* of about
``ceil(k / s) x ceil(k / s)`` taps. All phases read the same input windows, so one im2col
feeds them all, and interleaving the phases (block ``q``, phase ``a`` -> row ``q * s + a``)
while cropping Keras's padding gives the output. Nothing is multiplied by an inserted zero.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .conv import Patches, chunks


class AxisPlan(NamedTuple):
    """Where each tap of one axis goes, and which input blocks the output needs.

    ``window[i]``: position of tap ``i`` in the sub-kernel window; ``phase[i]``: its phase.
    ``size``: window length (taps ``d`` apart); ``blocks``: output blocks computed;
    ``pads``: (before, after) zeros added (negative: cut) to the input;
    ``offset``: output row of block 0, phase 0 (``-before mod s``, as a value in ``(-s, 0]``).
    """
    window: np.ndarray
    phase: np.ndarray
    size: int
    blocks: int
    pads: tuple[int, int]
    offset: int


def axis_plan(input_length, kernel_size, strides, dilation_rate, crop_before, output_length):
    """The phase decomposition of one axis, for an output starting ``crop_before`` rows into the full scatter."""
    shift, phase = np.divmod(np.arange(kernel_size) * dilation_rate, strides)
    last = int(shift.max())
    first = crop_before // strides  # first block the output needs
    blocks = -(-(crop_before + output_length) // strides) - first
    # Block q reads x[q - shift]: window position (last - shift) / d over the padded input.
    window = (last - shift) // dilation_rate
    pads = (last - first, blocks + first - input_length)
    return AxisPlan(window, phase, last // dilation_rate + 1, blocks, pads, first * strides - crop_before)


def phase_kernel(kernel, strides, dilation_rate=(1, 1)) -> np.ndarray:
    """Every phase's sub-kernel: kernel (kh, kw, C_out, C_in) -> (Th, Tw, C_in, sh, sw, C_out).

    Entry ``[u, v, :, a, b, :]`` multiplies window position ``(u, v)`` for output phase
    ``(a, b)``; taps that no phase uses there are zeros (when ``s`` does not divide ``k``).
    """
    # The windows and phases do not depend on the input length or the crop.
    plans = [axis_plan(1, k, s, d, 0, 1) for k, s, d in zip(kernel.shape[:2], strides, dilation_rate)]
    return _sub_kernels(kernel, strides, *plans).transpose(3, 4, 5, 0, 1, 2)


def _sub_kernels(kernel, strides, rows: AxisPlan, cols: AxisPlan):
    """The sub-kernels as (sh, sw, C_out, Th, Tw, C_in): each tap a whole (C_out, C_in) kernel block."""
    (sh, sw), (c_out, c_in) = strides, kernel.shape[2:]
    sub = np.zeros((sh, sw, c_out, rows.size, cols.size, c_in), dtype=kernel.dtype)
    # Each (tap row, tap column) has its own (phase, window) pair: plain assignment is exact.
    sub[rows.phase[:, None], cols.phase[None, :], :, rows.window[:, None], cols.window[None, :], :] = kernel
    return sub


#: Below this many patch rows a product reads its weights transposed, as they are built (a
#: few percent slower per row); above it, making them C-ordered once costs less.
_TRANSPOSED_WEIGHTS_ROWS = 2000


def conv2d_transpose(x, kernel, bias, strides, dilation_rate, out_shape, crop) -> np.ndarray:
    """Keras's Conv2DTranspose by phases; arguments already checked (see ``transpose.conv2d_transpose``).

    x: (N, H, W, C_in); kernel: (kh, kw, C_out, C_in); bias: (C_out,) or None; ``out_shape``
    and ``crop`` from ``shapes``. Returns a C-contiguous (N, H_out, W_out, C_out).
    """
    (n, *in_shape, _), (sh, sw), c_out = x.shape, strides, kernel.shape[2]
    rows, cols = (axis_plan(i, k, s, d, c[0], o) for i, k, s, d, c, o in
                  zip(in_shape, kernel.shape[:2], strides, dilation_rate, crop, out_shape))
    patches = Patches(x, (rows.pads, cols.pads), (rows.size, cols.size), (1, 1), dilation_rate,
                      (rows.blocks, cols.blocks))
    # Phase row a uses the window rows [top, bottom) only (fewer when s does not divide k):
    # the patches' columns for those rows are one contiguous range, so its matrix product
    # skips the zero taps of the other rows. Its weights: (window taps * C_in, sw * C_out).
    depth = cols.size * x.shape[3]
    sub = _sub_kernels(kernel, strides, rows, cols)
    transposed = n * rows.blocks * cols.blocks < _TRANSPOSED_WEIGHTS_ROWS
    phase_rows = []
    for a in range(sh):
        window = rows.window[rows.phase == a]
        if window.size:  # none when s > k: that row receives the bias alone (below)
            top, bottom = window.min(), window.max() + 1
            weights = sub[a, :, :, top:bottom].reshape(sw * c_out, -1).T
            phase_rows.append((a, slice(top * depth, bottom * depth),
                               weights if transposed else np.ascontiguousarray(weights)))
    y = np.empty((n, *out_shape, c_out), dtype=x.dtype)
    if len(phase_rows) < sh:
        y[...] = 0 if bias is None else bias
    # Block column q, phase b lands on output column q * sw + b + offset: a contiguous range.
    columns = slice(-cols.offset, -cols.offset + out_shape[1])
    products = np.empty(0, dtype=x.dtype)
    for images, block_rows in chunks(n, rows.blocks, cols.blocks * (patches.depth + sw * c_out)):
        matrix = patches.matrix(images, block_rows)
        for a, taps, weights in phase_rows:
            # Block row q, phase a is output row q * sh + a + offset; keep those inside the output.
            start = a + rows.offset
            lo = max(block_rows.start, math.ceil(-start / sh))
            hi = min(block_rows.stop, math.ceil((out_shape[0] - start) / sh))
            if lo >= hi:
                continue
            if images.stop - images.start == 1:  # its block rows [lo, hi) are contiguous: only those
                computed = range(lo, hi)
                first, last = ((q - block_rows.start) * cols.blocks for q in (lo, hi))
                left = matrix[first:last, taps]
            else:
                computed = range(block_rows.start, block_rows.stop)
                left = matrix[:, taps]
            if products.size < left.shape[0] * weights.shape[1]:
                products = np.empty(left.shape[0] * weights.shape[1], dtype=x.dtype)
            phase = products[: left.shape[0] * weights.shape[1]].reshape(left.shape[0], -1)
            np.matmul(left, weights, out=phase)
            phase = phase.reshape(images.stop - images.start, len(computed), -1, c_out)
            source = phase[:, lo - computed.start: hi - computed.start, columns]
            target = y[images, lo * sh + start: (hi - 1) * sh + start + 1: sh]
            if bias is None:
                np.copyto(target, source)
            else:
                np.add(source, bias, out=target)
    return y
