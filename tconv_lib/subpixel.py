"""Sub-pixel convolution (depth-to-space) and its ICNR initialisation, a checkerboard-free upsampler.

A convolution with ``C * r * r`` output channels followed by depth-to-space rearranges each
pixel's channels into an ``r x r`` block of ``C`` channels. ICNR (Aitken et al., 2017) starts
all ``r * r`` sub-kernels as copies of one kernel, so that at initialisation the layer equals
"convolve with that kernel, then nearest-neighbour upsample": no checkerboard to unlearn.

A sub-pixel convolution is also one stride-``r`` transposed convolution whose kernel is ``r``
times larger: ``subpixel_to_transposed`` rearranges the weights, ``subpixel_crop`` says which
rows and columns of that transposed convolution's output it keeps.
"""
from __future__ import annotations

import numpy as np

from . import shapes, validation
from .conv import conv2d


def depth_to_space(x, block_size: int) -> np.ndarray:
    """``tf.nn.depth_to_space`` (NHWC): x (N, H, W, r*r*C) -> (N, H*r, W*r, C).

    Output pixel ``(h*r + i, w*r + j)``, channel ``c`` is input ``(h, w)``, channel ``(i*r + j)*C + c``.
    """
    x = validation.array(x, "x", 4, "(N, H, W, C)")
    r = validation.integer(block_size, "block_size", minimum=2)
    n, h, w, depth = x.shape
    if depth % (r * r):
        raise ValueError(f"x has {depth} channels, not a multiple of block_size**2 = {r * r}")
    c = depth // (r * r)
    return x.reshape(n, h, w, r, r, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * r, w * r, c)


def icnr(kernel, scale: int) -> np.ndarray:
    """ICNR kernel for sub-pixel convolution: kernel (kh, kw, C_in, C) -> (kh, kw, C_in, C*scale**2).

    Every one of the ``scale**2`` blocks of output channels is a copy of ``kernel``, in the
    channel order ``depth_to_space`` reads them.
    """
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw, C_in, C_out)")
    r = validation.integer(scale, "scale", minimum=2)
    return np.tile(kernel, (1, 1, 1, r * r))


def subpixel_conv(x, kernel, scale: int, padding="same") -> np.ndarray:
    """Sub-pixel convolution: a stride-1 ``conv2d``, then ``depth_to_space``.

    x: (N, H, W, C_in); kernel: (kh, kw, C_in, C * scale**2). Returns (N, H' * r, W' * r, C),
    where (H', W') is the convolution's output size (``(H, W)`` for ``"same"``).
    """
    kernel, r = _subpixel_kernel(kernel, scale)
    return depth_to_space(conv2d(x, kernel, padding=padding), r)


def _subpixel_kernel(kernel, scale):
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw, C_in, C * scale**2)")
    r = validation.integer(scale, "scale", minimum=2)
    if kernel.shape[3] % (r * r):
        raise ValueError(f"kernel has {kernel.shape[3]} output channels, not a multiple of "
                         f"scale**2 = {r * r}: a sub-pixel kernel is (kh, kw, C_in, C * scale**2)")
    return kernel, r


def subpixel_to_transposed(kernel, scale: int) -> np.ndarray:
    """The Conv2DTranspose kernel (stride ``scale``) equal to a sub-pixel convolution.

    kernel: sub-pixel (kh, kw, C_in, C * r*r) -> (r*kh, r*kw, C, C_in), Keras's transposed layout.
    Tap ``(m*r + i, n*r + j)`` is the sub-kernel of output phase ``(i, j)`` (channels
    ``(i*r + j)*C + c``, as ``depth_to_space`` reads them) at tap ``(kh-1-m, kw-1-n)``: each
    phase's sub-kernel, flipped (a convolution gathers, a transposed convolution scatters),
    with its taps ``r`` apart. Keep the output ``subpixel_crop`` names.
    """
    kernel, r = _subpixel_kernel(kernel, scale)
    kh, kw, c_in, depth = kernel.shape
    phases = kernel[::-1, ::-1].reshape(kh, kw, c_in, r, r, depth // (r * r))
    # (m, n, C_in, i, j, C) -> (m, i, n, j, C, C_in): row m*r + i, column n*r + j.
    return phases.transpose(0, 3, 1, 4, 5, 2).reshape(kh * r, kw * r, depth // (r * r), c_in)


def transposed_to_subpixel(kernel, strides: int) -> np.ndarray:
    """The inverse of ``subpixel_to_transposed``: every stride-``s`` transposed convolution whose
    kernel size ``s`` divides is ``s * s`` ordinary convolutions, one per output phase.

    kernel: Keras's transposed (s*kh, s*kw, C, C_in) -> sub-pixel (kh, kw, C_in, C * s*s).
    """
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw, C_out, C_in)")
    s = validation.integer(strides, "strides", minimum=2)
    if kernel.shape[0] % s or kernel.shape[1] % s:
        raise ValueError(f"kernel size {kernel.shape[:2]} is not a multiple of strides={s} in "
                         f"both dimensions; pad the kernel with zero taps at the bottom and right first")
    (c, c_in), (kh, kw) = kernel.shape[2:], (kernel.shape[0] // s, kernel.shape[1] // s)
    phases = kernel.reshape(kh, s, kw, s, c, c_in).transpose(0, 2, 5, 1, 3, 4)
    return phases.reshape(kh, kw, c_in, s * s * c)[::-1, ::-1]


def subpixel_crop(kernel_size, scale: int, padding="same"):
    """``((top, bottom), (left, right))`` to cut from the full scatter of the equivalent
    Conv2DTranspose (Keras's ``padding="valid"`` output) to get the sub-pixel convolution.

    A "full" convolution would pad ``k - 1`` zeros on each side; with ``(p_before, p_after)``
    the zeros the stride-1 convolution really adds, the cut along each axis is
    ``((k - 1 - p_before) * r, (k - 1 - p_after) * r)``.
    """
    r = validation.integer(scale, "scale", minimum=2)
    return tuple((before * r, after * r) for before, after in shapes.conv2d_full_crop(kernel_size, padding))
