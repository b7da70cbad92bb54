"""The phase (sub-pixel) decomposition: a transposed convolution that multiplies no inserted zeros.

Along one axis, input pixel ``r`` and kernel tap ``i`` meet at row ``r * s + i * d`` of the
full scatter. Write ``i * d = m * s + a`` with ``0 <= a < s``: the tap lands in *block*
``r + m`` (a block is ``s`` consecutive rows) at *phase* ``a``. So block ``q``, phase ``a`` is
``sum_i x[q - m_i] * kernel[i]`` over the taps of phase ``a``: for each of the ``s x s``
phases, a stride-1 correlation of the input with a small *sub-kernel* of about
``ceil(k / s) x ceil(k / s)`` taps. All phases read the same input windows, so one im2col
feeds them all, and interleaving the phases (block ``q``, phase ``a`` -> row ``q * s + a``)
while cropping Keras's padding gives the output. Nothing is multiplied by an inserted zero.

Phase rows whose taps sit in the same window rows (all of them when ``s`` divides ``k``) share
one matrix product, the patches times their sub-kernels side by side; each row of blocks is
then copied into its output row, cropped, with the bias added in the same copy.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .conv import pad_or_crop, patch_chunks


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
    return _sub_kernels(kernel, strides, *plans)


def _sub_kernels(kernel, strides, rows: AxisPlan, cols: AxisPlan):
    (sh, sw), (c_out, c_in) = strides, kernel.shape[2:]
    sub = np.zeros((rows.size, cols.size, c_in, sh, sw, c_out), dtype=kernel.dtype)
    # Each (tap row, tap column) has its own (window, phase) pair: plain assignment is exact.
    sub[rows.window[:, None], cols.window[None, :], :, rows.phase[:, None], cols.phase[None, :], :] = \
        kernel.transpose(0, 1, 3, 2)
    return sub


#: The widest product (phase rows x s x C_out values per patch) that phase rows share: wider
#: products are faster per multiply-add, up to here; beyond, a cache-sized chunk has too few
#: patch rows (FCN-32s's 32 phase rows of 672 each ran at half speed as one product).
_PRODUCT_VALUES = 512


def conv2d_transpose(x, kernel, bias, strides, dilation_rate, out_shape, crop) -> np.ndarray:
    """Keras's Conv2DTranspose by phases; arguments already checked (see ``transpose.conv2d_transpose``).

    x: (N, H, W, C_in); kernel: (kh, kw, C_out, C_in); bias: (C_out,) or None; ``out_shape``
    and ``crop`` from ``shapes``. Returns a C-contiguous (N, H_out, W_out, C_out).
    """
    (n, *in_shape, c_in), (sh, sw), c_out = x.shape, strides, kernel.shape[2]
    rows, cols = (axis_plan(i, k, s, d, c[0], o) for i, k, s, d, c, o in
                  zip(in_shape, kernel.shape[:2], strides, dilation_rate, crop, out_shape))
    sub = _sub_kernels(kernel, strides, rows, cols)  # (Th, Tw, C_in, sh, sw, C_out)
    depth, lanes = cols.size * c_in, sw * c_out  # patch values per window row; products per block
    # Phase row a has taps in the window rows [first, last) only (fewer when s does not divide
    # k): a contiguous range of the patch columns, so its product skips the other rows' zero
    # taps. Neighbouring phase rows with the same range share one product (when s divides k,
    # all do): (patches, rows * depth) @ (rows * depth, phase rows * sw * C_out).
    groups = []  # [(first, last), first phase row, phase rows]
    for a in range(sh):
        used = rows.window[rows.phase == a]  # none when s > k: a product of zeros, the bias
        span = (used.min(), used.max() + 1) if used.size else (0, 0)
        if groups and groups[-1][0] == span and (groups[-1][2] + 1) * lanes <= _PRODUCT_VALUES:
            groups[-1][2] += 1
        else:
            groups.append([span, a, 1])
    products = [(slice(first * depth, last * depth), a,
                 sub[first:last, :, :, a: a + count].reshape((last - first) * depth, count * lanes))
                for (first, last), a, count in groups]
    y = np.empty((n, *out_shape, c_out), dtype=x.dtype)
    lines = y.reshape(n, out_shape[0], -1)  # each output row as one contiguous line
    bias_lanes = None if bias is None else np.tile(bias, sw)
    width = max(weights.shape[1] for *_, weights in products)
    buffer = np.empty(0, dtype=x.dtype)
    for images, block_rows, patches in patch_chunks(
            pad_or_crop(x, rows.pads, cols.pads), (rows.size, cols.size), (1, 1), dilation_rate,
            (rows.blocks, cols.blocks), width):
        if buffer.size < patches.shape[0] * width:
            buffer = np.empty(patches.shape[0] * width, dtype=x.dtype)
        images, block_rows = range(n)[images], range(rows.blocks)[block_rows]
        for taps, first_row, weights in products:
            out = buffer[: patches.shape[0] * weights.shape[1]].reshape(patches.shape[0], -1)
            blocks = np.matmul(patches[:, taps], weights, out=out)
            blocks = blocks.reshape(len(images), len(block_rows), cols.blocks, -1, lanes)
            for k in range(blocks.shape[3]):
                # Block row q, phase a is output row q * sh + a + offset; keep those inside the output.
                start = first_row + k + rows.offset
                lo = max(block_rows.start, math.ceil(-start / sh))
                hi = min(block_rows.stop, math.ceil((out_shape[0] - start) / sh))
                if lo < hi:
                    _place(lines[images.start: images.stop, lo * sh + start: (hi - 1) * sh + start + 1: sh],
                           blocks[:, lo - block_rows.start: hi - block_rows.start, :, k],
                           -cols.offset * c_out, bias_lanes)
    return y


def _place(target, blocks, shift, bias):
    """``target[..., j] = blocks[..., r, l] (+ bias[l])`` for ``j = r * L + l - shift`` inside ``target``.

    target: (..., T), its last axis contiguous (output rows as lines); blocks: (..., nb, L), a
    block being one block column's ``sw`` phases. The blocks wholly inside go in one copy, a
    block cut at either end in one more each.
    """
    L, T = blocks.shape[-1], target.shape[-1]
    first, stop = -(-shift // L), (shift + T) // L  # the blocks wholly inside: [first, stop)
    if first > stop:  # the whole line inside one block
        lo = shift - stop * L
        pieces = [(target, blocks[..., stop, lo: lo + T], slice(lo, lo + T))]
    else:
        head, tail = first * L - shift, shift + T - stop * L
        whole = target[..., head: T - tail]
        pieces = [(whole.reshape(*whole.shape[:-1], stop - first, L), blocks[..., first: stop, :], slice(None))]
        if head:
            pieces.append((target[..., :head], blocks[..., first - 1, L - head:], slice(L - head, None)))
        if tail:
            pieces.append((target[..., T - tail:], blocks[..., stop, :tail], slice(None, tail)))
    for line, values, part in pieces:
        if bias is None:
            np.copyto(line, values)
        else:
            np.add(values, bias[part], out=line)
