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

from . import memory, parallel, validation
from .conv import Patches, chunks


class AxisPlan(NamedTuple):
    """Where each tap of one axis goes, and which input blocks the output needs.

    ``window[i]``: position of tap ``i`` in the sub-kernel window; ``phase[i]``: its phase.
    ``size``: window length (taps ``d`` apart); ``blocks``: output blocks computed;
    ``pads``: (before, after) zeros added (negative: cut) to the input;
    ``offset``: output row of block 0, phase 0 (a value in ``(-s, 0]``);
    ``lacking``: the window position that the phases with fewer taps lack (0 or ``size - 1``).
    """
    window: np.ndarray
    phase: np.ndarray
    size: int
    blocks: int
    pads: tuple[int, int]
    offset: int
    lacking: int


def axis_plan(input_length, kernel_size, strides, dilation_rate, crop_before, output_length):
    """The phase decomposition of one axis, for an output starting ``crop_before`` rows into the full scatter.

    Blocks can start at any row of the scatter that is ``t`` rows before the output's first
    (``0 <= t < s``): ``t = crop_before mod s`` starts them at the output's first row, so no
    block is half cropped at either end and one fewer may be needed, but its phases can be
    staggered (a longer window). Of the two, the smaller window wins, then the fewer blocks,
    then the scatter's grid (``t = 0``).
    """
    plans = (_axis_plan(input_length, kernel_size, strides, dilation_rate, crop_before, output_length, t)
             for t in dict.fromkeys((0, crop_before % strides)))
    return min((plan for plan in plans if plan is not None), key=lambda plan: (plan.size, plan.blocks))


def _axis_plan(input_length, kernel_size, strides, dilation_rate, crop_before, output_length, t):
    """``axis_plan`` with the blocks' rows starting ``t`` rows after the scatter's grid (None if
    its short phases lack different ends of the window, which ``product_plan`` cannot order)."""
    # Scatter row r * s + i * d is output row (r - first + shift) * s + phase - offset.
    shift, phase = np.divmod(np.arange(kernel_size) * dilation_rate - t, strides)
    first, offset = divmod(crop_before - t, strides)
    last, low = int(shift.max()), int(shift.min())
    blocks = -(-(output_length + offset) // strides)
    # Block q reads x[q + first - shift]: window position (last - shift) / d over the padded input.
    window = (last - shift) // dilation_rate
    size = (last - low) // dilation_rate + 1
    # Each phase must have all positions, or all but one end, the same end for every phase.
    missing = {frozenset(range(size)) - frozenset(window[phase == a].tolist()) for a in set(phase.tolist())}
    ends = {end for lacks in missing for end in lacks}
    if not missing <= {frozenset(), frozenset({0}), frozenset({size - 1})} or len(ends) > 1:
        return None
    pads = (last - first, blocks + first - low - input_length)
    return AxisPlan(window, phase, size, blocks, pads, -offset, ends.pop() if ends else 0)


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
    sub = memory.empty((sh, sw, c_out, len(cells), c_in), kernel.dtype)
    # Each (tap row, tap column) has its own (phase, cell) pair: plain assignment is exact.
    cell = slot[rows.window[:, None], cols.window[None, :]]
    sub[rows.phase[:, None], cols.phase[None, :], :, cell, :] = kernel
    # Only the rest is zeroed (phase_kernel shows those zeros; no product reads them).
    tapped = np.zeros((sh, sw, len(cells)), dtype=bool)
    tapped[rows.phase[:, None], cols.phase[None, :], cell] = True
    sub.transpose(0, 1, 3, 2, 4)[~tapped] = 0
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
    # A group's phases are consecutive (the whole ones, then the short ones, or the other way
    # round), so its weights are a view of the sub-kernels.
    weights = [sub[a, phases[0]: phases[-1] + 1, :, first:last].reshape(len(phases) * c_out, -1).T
               for a, phases, first, last in plan]
    if n * rows.blocks * cols.blocks >= _TRANSPOSED_WEIGHTS_ROWS:
        weights = _c_ordered(weights)
    # Phase row a's products, each writing its column phases' columns of one (patches,
    # sw * C_out) block: the s phases of the row side by side, as the output's columns hold them.
    row_products = {}
    for (a, phases, first, last), product_weights in zip(plan, weights):
        row_products.setdefault(a, []).append((
            slice(first * x.shape[3], last * x.shape[3]), slice(phases[0] * c_out, (phases[-1] + 1) * c_out),
            product_weights))
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

    def run(scratch, chunk):
        images, block_rows = chunk
        matrix = patches.matrix(images, block_rows, scratch)
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
            block = scratch.get("block", left.shape[0] * sw * c_out, x.dtype).reshape(left.shape[0], sw * c_out)
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

    parallel.each(run, chunks(n, rows.blocks, cols.blocks * (patches.depth + sw * c_out)),
                  multiply_adds=x.size * kernel.shape[0] * kernel.shape[1] * c_out)
    return y


def _c_ordered(arrays) -> list:
    """C-contiguous copies of ``arrays``, side by side in one array from ``memory``."""
    flat = memory.empty(sum(array.size for array in arrays), arrays[0].dtype)
    copies, start = [], 0
    for array in arrays:
        copies.append(flat[start: start + array.size].reshape(array.shape))
        np.copyto(copies[-1], array)
        start += array.size
    return copies


def product_plan(rows: AxisPlan, cols: AxisPlan, strides):
    """The phase method's matrix products, none of which multiplies a zero tap: ``(cells, products)``.

    ``cells``: the window positions (u, v) in the order each patch of the im2col holds them;
    ``products``: ``(a, phases, first, last)`` for each phase row ``a`` and group of column
    ``phases``: one matrix product gives those phases from the cells ``cells[first:last]``,
    exactly the window positions where they have taps.

    Why one order serves every phase: with d = 1, the taps of a phase are s apart in the
    kernel, so they fill consecutive window positions: all T of them, or all but one end (the
    phases' tap counts differ by at most one). With blocks on the scatter's grid, the end a
    phase lacks is the first; with blocks starting at the output (``axis_plan``) it can be the
    last, and ``axis_plan`` keeps that start only if every short phase lacks the same end,
    ``lacking``. With d > 1 (then s = 1) there is one phase and it has them all. So along each
    axis a phase is *whole* or *short*, and the order (lacking row less the corner), (the core:
    neither lacking row nor lacking column), (lacking column less the corner), the corner makes
    each of the four kinds of phase one contiguous range: whole x whole is all of it, whole rows
    x short columns the lacking row and the core, short x whole the core and the lacking column,
    short x short the core.
    """
    (th, tw), (lr, lc) = (rows.size, cols.size), (rows.lacking, cols.lacking)
    top = [(lr, v) for v in range(tw) if v != lc]
    core = [(u, v) for u in range(th) if u != lr for v in range(tw) if v != lc]
    left = [(u, lc) for u in range(th) if u != lr]
    ranges = {(False, False): (0, th * tw), (False, True): (0, len(top) + len(core)),
              (True, False): (len(top), th * tw - 1), (True, True): (len(top), len(top) + len(core))}
    row_kinds, col_kinds = _kinds(rows, strides[0]), _kinds(cols, strides[1])
    products = []
    for a, row_short in row_kinds.items():
        for col_short in (False, True):
            phases = [b for b, short in col_kinds.items() if short == col_short]
            if phases:
                products.append((a, phases, *ranges[row_short, col_short]))
    return top + core + left + [(lr, lc)], products


def _kinds(plan: AxisPlan, stride) -> dict:
    """``{phase: short}`` for the phases of one axis that have taps (see ``product_plan``)."""
    return {a: plan.lacking not in plan.window[plan.phase == a] for a in range(stride) if (plan.phase == a).any()}
