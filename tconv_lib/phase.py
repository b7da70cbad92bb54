"""The phase (sub-pixel) decomposition: a transposed convolution that multiplies no inserted zeros.

Along one axis, input pixel ``r`` and kernel tap ``i`` meet at row ``r * s + i * d`` of the
full scatter. Write ``i * d = m * s + a`` with ``0 <= a < s``: the tap lands in *block*
``r + m`` (a block is ``s`` consecutive rows) at *phase* ``a``. So block ``q``, phase ``a`` is
``sum_i x[q - m_i] * kernel[i]`` over the taps of phase ``a``: for each of the ``s x s``
phases, a stride-1 correlation of the input with a small *sub-kernel* of about
``ceil(k / s) x ceil(k / s)`` taps. All phases read the same input windows, so one im2col
feeds them all, and interleaving the phases (block ``q``, phase ``a`` -> row ``q * s + a``)
while cropping Keras's padding gives the output. Nothing is multiplied by an inserted zero,
nor by the zero taps that pad a phase with fewer taps than the others (``product_plan``).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import memory, validation
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
    validation.no_strided_dilation(tuple(strides), tuple(dilation_rate))
    # The windows and phases do not depend on the input length or the crop.
    plans = [axis_plan(1, k, s, d, 0, 1) for k, s, d in zip(kernel.shape[:2], strides, dilation_rate)]
    cells = [(u, v) for u in range(plans[0].size) for v in range(plans[1].size)]
    sub = _sub_kernels(kernel, strides, *plans, cells)
    return sub.reshape(*sub.shape[:3], plans[0].size, plans[1].size, -1).transpose(3, 4, 5, 0, 1, 2)


def _sub_kernels(kernel, strides, rows: AxisPlan, cols: AxisPlan, cells):
    """The sub-kernels as (sh, sw, C_out, window cell, C_in), the cells in the order ``cells``.

    Each tap is a whole (C_out, C_in) block of Keras's kernel; cells where a phase has no tap
    hold zeros.
    """
    (sh, sw), (c_out, c_in) = strides, kernel.shape[2:]
    slot = np.empty((rows.size, cols.size), dtype=int)
    slot[tuple(np.array(cells).T)] = np.arange(len(cells))
    sub = np.zeros((sh, sw, c_out, len(cells), c_in), dtype=kernel.dtype)
    # Each (tap row, tap column) has its own (phase, cell) pair: plain assignment is exact.
    cell = slot[rows.window[:, None], cols.window[None, :]]
    sub[rows.phase[:, None], cols.phase[None, :], :, cell, :] = kernel
    return sub


#: A layer with fewer patch rows than this (all images and block rows) reads its weights
#: transposed, as they are built (a few percent slower per product row); a larger one makes a
#: C-ordered copy of them once per call, which costs less than that.
_TRANSPOSED_WEIGHTS_ROWS = 2000


def conv2d_transpose(x, kernel, bias, strides, dilation_rate, out_shape, crop) -> np.ndarray:
    """Keras's Conv2DTranspose by phases; arguments already checked (see ``transpose.conv2d_transpose``).

    x: (N, H, W, C_in); kernel: (kh, kw, C_out, C_in); bias: (C_out,) or None; ``out_shape``
    and ``crop`` from ``shapes``. Returns a C-contiguous (N, H_out, W_out, C_out).
    """
    (n, *in_shape, _), (sh, sw), c_out = x.shape, strides, kernel.shape[2]
    rows, cols = (axis_plan(i, k, s, d, c[0], o) for i, k, s, d, c, o in
                  zip(in_shape, kernel.shape[:2], strides, dilation_rate, crop, out_shape))
    cells, plan = product_plan(rows, cols, strides)
    patches = Patches(x, (rows.pads, cols.pads), (rows.size, cols.size), (1, 1), dilation_rate,
                      (rows.blocks, cols.blocks), cells)
    sub = _sub_kernels(kernel, strides, rows, cols, cells)
    transposed = n * rows.blocks * cols.blocks < _TRANSPOSED_WEIGHTS_ROWS
    # Phase row a's products, each writing its column phases' columns of one (patches,
    # sw * C_out) block: the s phases of the row side by side, as the output's columns hold them.
    row_products = {}
    for a, phases, first, last in plan:
        # A group's phases are consecutive (whole ones first), so its weights are a view.
        weights = sub[a, phases[0]: phases[-1] + 1, :, first:last].reshape(len(phases) * c_out, -1).T
        row_products.setdefault(a, []).append((
            slice(first * x.shape[3], last * x.shape[3]), slice(phases[0] * c_out, (phases[-1] + 1) * c_out),
            weights if transposed else np.ascontiguousarray(weights)))
    # s > k: a phase with no tap receives the bias alone. Its columns of the block are zeroed
    # before each copy; its rows of the output are filled here.
    no_tap_columns = [slice(b * c_out, (b + 1) * c_out) for b in range(sw)
                      if not any(b in phases for _, phases, _, _ in plan)]
    y = memory.empty((n, *out_shape, c_out), x.dtype)
    for a in set(range(sh)) - set(row_products):
        y[:, (a + rows.offset) % sh:: sh] = 0 if bias is None else bias
    # Block column q, phase b lands on output column q * sw + b + offset: a contiguous range,
    # so an output row is one run of W_out * C_out values, and so is the bias added to it
    # (a long inner loop: broadcasting the (C_out,) bias makes NumPy loop over C_out at a time).
    columns = slice(-cols.offset * c_out, (-cols.offset + out_shape[1]) * c_out)
    bias_row = None if bias is None else np.tile(bias, out_shape[1])
    y_rows = y.reshape(n, out_shape[0], -1)
    buffer = np.empty(0, dtype=x.dtype)
    for images, block_rows in chunks(n, rows.blocks, cols.blocks * (patches.depth + sw * c_out)):
        matrix = patches.matrix(images, block_rows)
        for a, products in row_products.items():
            # Block row q, phase a is output row q * sh + a + offset; keep those inside the output.
            start = a + rows.offset
            lo = max(block_rows.start, math.ceil(-start / sh))
            hi = min(block_rows.stop, math.ceil((out_shape[0] - start) / sh))
            if lo >= hi:
                continue
            if images.stop - images.start == 1:  # its block rows [lo, hi) are contiguous: only those
                computed = range(lo, hi)
                first, last = ((q - block_rows.start) * cols.blocks for q in (lo, hi))
                left = matrix[first:last]
            else:
                computed = range(block_rows.start, block_rows.stop)
                left = matrix
            if buffer.size < left.shape[0] * sw * c_out:
                buffer = np.empty(left.shape[0] * sw * c_out, dtype=x.dtype)
            block = buffer[: left.shape[0] * sw * c_out].reshape(left.shape[0], sw * c_out)
            for taps, phase_columns, weights in products:
                np.matmul(left[:, taps], weights, out=block[:, phase_columns])
            for empty in no_tap_columns:
                block[:, empty] = 0
            block = block.reshape(images.stop - images.start, len(computed), -1)
            source = block[:, lo - computed.start: hi - computed.start, columns]
            target = y_rows[images, lo * sh + start: (hi - 1) * sh + start + 1: sh]
            if bias is None:
                np.copyto(target, source)
            else:
                np.add(source, bias_row, out=target)
    return y


def product_plan(rows: AxisPlan, cols: AxisPlan, strides):
    """The phase method's matrix products, none of which multiplies a zero tap: ``(cells, products)``.

    ``cells``: the window positions (u, v) in the order each patch of the im2col holds them;
    ``products``: ``(a, phases, first, last)`` for each phase row ``a`` and group of column
    ``phases``: one matrix product gives those phases from the cells ``cells[first:last]``,
    exactly the window positions where they have taps.

    Why one order serves every phase: with d = 1, phase a holds taps a, a + s, ... at window
    positions T - 1, T - 2, ...: a suffix of the window, all T positions or all but the first
    (the phases' tap counts differ by at most one). With d > 1 (then s = 1) there is one phase
    and it has them all. So along each axis a phase is *whole* or *short*, and the order
    (first row less (0, 0)), (the core: neither first row nor first column), (first column less
    (0, 0)), (0, 0) makes each of the four kinds of phase one contiguous range: whole x whole
    is all of it, whole rows x short columns the first row and the core, short x whole the core
    and the first column, short x short the core.
    """
    th, tw = rows.size, cols.size
    top = [(0, v) for v in range(1, tw)]
    core = [(u, v) for u in range(1, th) for v in range(1, tw)]
    left = [(u, 0) for u in range(1, th)]
    ranges = {(False, False): (0, th * tw), (False, True): (0, len(top) + len(core)),
              (True, False): (len(top), th * tw - 1), (True, True): (len(top), len(top) + len(core))}
    row_kinds, col_kinds = _kinds(rows, strides[0]), _kinds(cols, strides[1])
    products = []
    for a, row_short in row_kinds.items():
        for col_short in (False, True):
            phases = [b for b, short in col_kinds.items() if short == col_short]
            if phases:
                products.append((a, phases, *ranges[row_short, col_short]))
    return top + core + left + [(0, 0)], products


def _kinds(plan: AxisPlan, stride) -> dict:
    """``{phase: short}`` for the phases of one axis that have taps (see ``product_plan``)."""
    return {a: bool(plan.window[plan.phase == a].min()) for a in range(stride) if (plan.phase == a).any()}
