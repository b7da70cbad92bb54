"""The phase (sub-pixel) decomposition: a transposed convolution that multiplies no inserted zeros.

Along one axis, input pixel ``r`` and kernel tap ``i`` meet at row ``r * s + i * d`` of the
full scatter. Write ``i * d = m * s + a`` with ``0 <= a < s``: the tap lands in *block*
``r + m`` (a block is ``s`` consecutive rows) at *phase* ``a``. So block ``q``, phase ``a`` is
``sum_i x[q - m_i] * kernel[i]`` over the taps of phase ``a``: for each of the ``s x s``
phases, a stride-1 correlation of the input with a small *sub-kernel* of about
``T x T`` taps, ``T = ceil(k / s)``. All phases read the same input windows, so one im2col
feeds them all, and interleaving the phases (block ``q``, phase ``a`` -> row ``q * s + a``)
while cropping Keras's padding gives the output. Nothing is multiplied by an inserted zero.

Two neighbouring block rows read ``T - 1`` window rows in common. When ``T`` is 2 or 3 the
rows are computed two blocks at a time by Winograd's minimal filtering F(2, T) (Lavin and
Gray, 2016, arXiv:1509.09308): the ``T + 1`` input rows of a pair are mixed into ``T + 1``
sums and differences (``B^T``), each is multiplied by one mix of the sub-kernel's rows
(``G``), and the two block rows are sums and differences of those ``T + 1`` products
(``A^T``): ``T + 1`` matrix products per pair instead of ``2 T`` (3 instead of 4 for a
4 x 4 kernel with stride 2). The sums round differently from a direct sum, by a few units in
the last place: the same numbers as Keras to float32 precision, not bit for bit.
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


#: Winograd's minimal filtering F(2, T) for the window sizes where it pays, as (B^T, G, A^T):
#: for T + 1 input rows d and taps g, the two outputs sum_u d[e + u] g[u] (e = 0, 1) are
#: A^T ((G g) * (B^T d)), T + 1 products instead of 2T. B^T and A^T hold only 0 and +-1,
#: with a +1 in every row (see ``_signed_sum``).
WINOGRAD = {
    2: ([[1, -1, 0], [0, 1, 0], [0, -1, 1]], [[1, 0], [1, 1], [0, 1]], [[1, 1, 0], [0, 1, 1]]),
    3: ([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], [[1, 1, 1, 0], [0, 1, -1, -1]]),
}
#: Winograd only where a product's depth (window columns x C_in) is at least this: shallower
#: products are bound by memory, and Winograd's extra sums cost more than the saved
#: multiplications (FCN-32s's 2 x 21 doubled its time).
WINOGRAD_DEPTH = 128


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
    # Phase row a has taps in window rows [first, last) only (fewer when s does not divide k):
    # a contiguous range of the patch columns, so its product skips the other rows' zero taps.
    spans = []
    for a in range(sh):
        used = rows.window[rows.phase == a]  # none when s > k: a product of zeros, the bias
        spans.append((used.min(), used.max() + 1) if used.size else (0, 0))
    if (dilation_rate[0] == 1 and rows.size in WINOGRAD and depth >= WINOGRAD_DEPTH
            and (rows.size + 1) * sh < 2 * sum(last - first for first, last in spans)):
        pair, source, window, rows_out, products, outputs = _winograd_plan(x, sub, rows, cols)
    else:  # one block row per tile, and one product per phase row
        pair, source, window, rows_out = 1, pad_or_crop(x, rows.pads, cols.pads), (rows.size, 1), rows.blocks
        products = [(slice(first * depth, last * depth), sub[first:last, :, :, a].reshape(-1, lanes))
                    for a, (first, last) in enumerate(spans)]
        outputs = [(0, slice(a, a + 1), [(1, a)]) for a in range(sh)]
    y = np.empty((n, *out_shape, c_out), dtype=x.dtype)
    lines = y.reshape(n, out_shape[0], -1)  # each output row as one contiguous line
    bias_lanes = None if bias is None else np.tile(bias, sw)
    step = pair * sh  # output rows from one tile to the next
    widths = [weights.shape[1] for _, weights in products]
    if pair > 1:  # room for the block rows' sums of products
        widths.append(sh * lanes)
    buffers = None
    for images, tile_rows, patches in patch_chunks(source, (window[0], cols.size), (window[1], 1), dilation_rate,
                                                   (rows_out, cols.blocks), sum(widths)):
        m = patches.shape[0]
        if buffers is None or buffers[0].shape[0] < m:
            buffers = [np.empty((m, width), dtype=x.dtype) for width in widths]
        results = [np.matmul(patches[:, taps], weights, out=buffer[:m])
                   for (taps, weights), buffer in zip(products, buffers)]
        images, tile_rows = range(n)[images], range(rows_out)[tile_rows]
        for e, phase_rows, terms in outputs:  # block row e of each tile, these phase rows
            block_rows = (results[terms[0][1]] if len(terms) == 1 else
                          _signed_sum([(c, results[p]) for c, p in terms], buffers[-1][:m]))
            block_rows = block_rows.reshape(len(images), len(tile_rows), cols.blocks, -1, lanes)
            for k, a in enumerate(range(sh)[phase_rows]):
                start = e * sh + a + rows.offset  # its output row in tile 0
                lo = max(tile_rows.start, math.ceil(-start / step))
                hi = min(tile_rows.stop, math.ceil((out_shape[0] - start) / step))
                if lo < hi:
                    _place(lines[images.start: images.stop, lo * step + start: (hi - 1) * step + start + 1: step],
                           block_rows[:, lo - tile_rows.start: hi - tile_rows.start, :, k],
                           -cols.offset * c_out, bias_lanes)
    return y


def _winograd_plan(x, sub, rows: AxisPlan, cols: AxisPlan):
    """F(2, T) along the rows: tile t is block rows 2t and 2t + 1, from padded input rows 2t .. 2t + T.

    Returns what ``conv2d_transpose`` iterates over: 2 block rows per tile; the ``T + 1``
    mixed input rows of every tile (``B^T``), (N, tiles * (T + 1), Wp, C_in), read as windows
    of ``T + 1`` rows, ``T + 1`` apart; the tile count; one product per mixed row (its patch
    columns, the sub-kernel rows mixed by ``G``); each block row's signed sum of products (``A^T``).
    """
    bt, g, at = (np.asarray(m, dtype=x.dtype) for m in WINOGRAD[rows.size])
    tiles = -(-rows.blocks // 2)
    padded = pad_or_crop(x, (rows.pads[0], rows.pads[1] + 2 * tiles - rows.blocks), cols.pads)
    mixed = np.empty((x.shape[0], tiles, len(bt), *padded.shape[2:]), dtype=x.dtype)
    for p, coefficients in enumerate(bt):
        _signed_sum([(c, padded[:, i: i + 2 * tiles: 2]) for i, c in enumerate(coefficients) if c],
                    mixed[:, :, p])
    depth = cols.size * x.shape[3]
    weights = np.tensordot(g, sub, axes=1).reshape(len(g), depth, -1)
    products = [(slice(p * depth, (p + 1) * depth), w) for p, w in enumerate(weights)]
    outputs = [(e, slice(None), [(c, p) for p, c in enumerate(row) if c]) for e, row in enumerate(at)]
    return 2, mixed.reshape(x.shape[0], -1, *padded.shape[2:]), (len(bt), len(bt)), tiles, products, outputs


def _signed_sum(terms, out):
    """``out`` = the sum of ``c * array`` over ``terms``, (c, array) with c = +-1, at least one +1."""
    (_, first), *rest = sorted(terms, key=lambda term: -term[0])
    if not rest:
        np.copyto(out, first)
    for k, (c, array) in enumerate(rest):
        (np.add if c > 0 else np.subtract)(first if k == 0 else out, array, out=out)
    return out


def _place(target, blocks, shift, bias):
    """``target[..., j] = blocks[..., r, l] (+ bias[l])`` for ``j = r * L + l - shift`` inside ``target``.

    target: (..., T), its last axis contiguous (output lines); blocks: (..., nb, L). The blocks
    wholly inside go in one copy, the cut ones at either end in one more each.
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
    for line, values, lanes in pieces:
        if bias is None:
            np.copyto(line, values)
        else:
            np.add(values, bias[lanes], out=line)
