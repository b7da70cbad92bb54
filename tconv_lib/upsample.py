"""Fixed (not learned) upsampling: nearest, bilinear, bed of nails, max pooling and unpooling,
and the transposed-convolution kernels that equal the first two.

All arrays are channels-last like Keras: x: (N, H, W, C).
"""
from __future__ import annotations

import numpy as np

from . import shapes, validation
from .conv import windows


def _input(x):
    return validation.array(x, "x", 4, "(N, H, W, C)")


def upsample_nearest(x, size=2) -> np.ndarray:
    """Each pixel copied into a ``size`` block; equals ``UpSampling2D(size, interpolation="nearest")``."""
    x, (sh, sw) = _input(x), validation.pair(size, "size")
    return np.repeat(np.repeat(x, sh, axis=1), sw, axis=2)


def _bilinear_axis(length_in: int, length_out: int):
    """TensorFlow's half-pixel-centre sample positions: (lower, upper, weight of upper)."""
    src = (np.arange(length_out) + 0.5) * (length_in / length_out) - 0.5
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(int)
    upper = np.minimum(np.ceil(src), length_in - 1).astype(int)
    return lower, upper, src - floor


def upsample_bilinear(x, size=2) -> np.ndarray:
    """Weighted mean of the 4 nearest pixels; equals ``UpSampling2D(size, interpolation="bilinear")``.

    Keras resizes with ``tf.image.resize`` (half-pixel centres, no antialiasing): output
    pixel ``o`` samples input position ``(o + 0.5) / size - 0.5``, clamped at the borders.
    """
    x, (sh, sw) = _input(x), validation.pair(size, "size")
    x = x.astype(validation.result_dtype(x), copy=False)
    top, bottom, wy = _bilinear_axis(x.shape[1], x.shape[1] * sh)
    left, right, wx = _bilinear_axis(x.shape[2], x.shape[2] * sw)
    wx = wx.astype(x.dtype)[None, None, :, None]
    wy = wy.astype(x.dtype)[None, :, None, None]
    # Interpolate along width on both rows, then along height (TensorFlow's order).
    upper = x[:, top][:, :, left] + (x[:, top][:, :, right] - x[:, top][:, :, left]) * wx
    lower = x[:, bottom][:, :, left] + (x[:, bottom][:, :, right] - x[:, bottom][:, :, left]) * wx
    return upper + (lower - upper) * wy


def bed_of_nails(x, size=2) -> np.ndarray:
    """Each pixel at the top-left corner of its ``size`` block, zeros elsewhere."""
    x, (sh, sw) = _input(x), validation.pair(size, "size")
    out = np.zeros((x.shape[0], x.shape[1] * sh, x.shape[2] * sw, x.shape[3]), dtype=x.dtype)
    out[:, ::sh, ::sw] = x
    return out


def max_pool_with_argmax(x, pool_size=2, strides=None, padding="valid",
                         include_batch_in_index=False):
    """Max pooling that also returns where each maximum came from.

    Returns ``(pooled, argmax)``, both (N, H_out, W_out, C), equal to
    ``tf.nn.max_pool_with_argmax``: argmax is the flat index ``(y * W + x) * C + c`` into one
    image (``((n * H + y) * W + x) * C + c`` with ``include_batch_in_index``). Ties go to the
    first maximum in row-major order within the window.
    """
    x = _input(x)
    pool = validation.pair(pool_size, "pool_size")
    strides = pool if strides is None else validation.pair(strides, "strides")
    n, h, w, c = x.shape
    out_shape = shapes.conv2d_output_shape((h, w), pool, strides, padding)
    pads = shapes.conv2d_padding((h, w), pool, strides, padding)
    # Pad with -inf (never a maximum); pool each pixel's flat index alongside its value.
    values = np.pad(x.astype(np.float64), ((0, 0), *pads, (0, 0)), constant_values=-np.inf)
    index = np.pad(np.arange(h * w * c).reshape(1, h, w, c), ((0, 0), *pads, (0, 0)))
    value_windows = windows(values, pool, strides, (1, 1), out_shape).reshape(n, *out_shape, -1, c)
    index_windows = windows(index, pool, strides, (1, 1), out_shape).reshape(1, *out_shape, -1, c)
    best = value_windows.argmax(axis=3)[:, :, :, None]  # first maximum wins, as in TensorFlow
    pooled = np.take_along_axis(value_windows, best, axis=3)[:, :, :, 0]
    argmax = np.take_along_axis(index_windows, best, axis=3)[:, :, :, 0]
    if include_batch_in_index:
        argmax = argmax + (np.arange(n) * h * w * c)[:, None, None, None]
    return pooled.astype(x.dtype), argmax.astype(np.int64)


def max_unpool(pooled, argmax, output_shape, include_batch_in_index=False) -> np.ndarray:
    """Each pooled value put back where its maximum came from, zeros elsewhere.

    pooled, argmax: (N, H_out, W_out, C) from ``max_pool_with_argmax``; output_shape:
    (N, H, W, C) of the pooled input. Values sharing an index (overlapping windows) add up.
    """
    pooled = _input(pooled)
    argmax = np.asarray(argmax)
    if argmax.shape != pooled.shape:
        raise ValueError(f"argmax must have the shape of pooled {pooled.shape}, got {argmax.shape}")
    output_shape = tuple(int(s) for s in output_shape)
    if len(output_shape) != 4 or output_shape[0] != pooled.shape[0] or output_shape[3] != pooled.shape[3]:
        raise ValueError(f"output_shape must be (N, H, W, C) with N={pooled.shape[0]} and "
                         f"C={pooled.shape[3]} of pooled, got {output_shape}")
    n = output_shape[0]
    per_image = int(np.prod(output_shape[1:]))
    index = argmax.reshape(n, -1)
    if not include_batch_in_index:
        index = index + (np.arange(n) * per_image)[:, None]
    if index.size and (index.min() < 0 or index.max() >= n * per_image):
        raise ValueError(f"argmax holds indices outside output_shape {output_shape}")
    out = np.zeros(n * per_image, dtype=pooled.dtype)
    np.add.at(out, index.ravel(), pooled.ravel())
    return out.reshape(output_shape)


def resize_conv_kernel(kernel, size=2) -> np.ndarray:
    """The tied Conv2DTranspose kernel (stride ``size``) equal to nearest upsampling, then a convolution.

    kernel: Conv2D (k_h, k_w, C_in, C_out) -> (k_h + s_h - 1, k_w + s_w - 1, C_out, C_in), Keras's
    transposed layout. The ``s x s`` output pixels that copy one input pixel all read it, so
    each tap of the flipped kernel is spread over ``s x s`` neighbouring taps: every stride
    phase of the result sums to ``kernel.sum()``, which is why resize-convolution is flat.
    Keep the output ``resize_conv_crop`` names.
    """
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw, C_in, C_out)")
    (sh, sw), (kh, kw, c_in, c_out) = validation.pair(size, "size"), kernel.shape
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # a convolution gathers, a transposed one scatters
    tied = np.zeros((kh + sh - 1, kw + sw - 1, c_out, c_in), dtype=validation.result_dtype(kernel))
    for i in range(sh):  # s*s shifted copies, not a loop over pixels
        for j in range(sw):
            tied[i: i + kh, j: j + kw] += flipped
    return tied


def resize_conv_crop(kernel_size, padding="same"):
    """``((top, bottom), (left, right))`` to cut from the full scatter of ``resize_conv_kernel``'s
    Conv2DTranspose (Keras's ``padding="valid"`` output) to get upsampling, then ``Conv2D``.

    A "full" convolution would pad ``k - 1`` zeros on each side; with ``(p_before, p_after)``
    the zeros the convolution really adds, the cut along each axis is
    ``(k - 1 - p_before, k - 1 - p_after)``, whatever the size.
    """
    return shapes.conv2d_full_crop(kernel_size, padding)


def bilinear_filter(size: int) -> np.ndarray:
    """FCN's ``upsample_filt``: a (size, size) pyramid, the outer product of a triangle.

    Tap ``u`` of the triangle weighs ``1 - |u - (size - 1) / 2| / ceil(size / 2)``.
    """
    size = validation.integer(size, "size")
    triangle = 1 - np.abs(np.arange(size) - (size - 1) / 2) / ((size + 1) // 2)
    return np.outer(triangle, triangle)


def bilinear_kernel(scale: int, channels: int) -> np.ndarray:
    """Conv2DTranspose kernel (stride ``scale``, ``padding="same"``) that interpolates bilinearly.

    Returns (K, K, channels, channels) with ``K = 2 * scale - scale % 2``: the triangle of
    width ``2 * scale`` sampled at the output pixels (``2s`` taps for even ``s``; for odd
    ``s`` its end samples are zero, leaving ``2s - 1``), placed on the diagonal so that each
    channel is interpolated on its own, as FCN's ``surgery.interp`` does.
    """
    s, c = validation.integer(scale, "scale"), validation.integer(channels, "channels")
    kernel = np.zeros((2 * s - s % 2,) * 2 + (c, c))
    kernel[:, :, np.arange(c), np.arange(c)] = bilinear_filter(2 * s - s % 2)[..., None]
    return kernel
