"""Sub-pixel convolution (depth-to-space) and its ICNR initialisation, a checkerboard-free upsampler.

A convolution with ``C * r * r`` output channels followed by depth-to-space rearranges each
pixel's channels into an ``r x r`` block of ``C`` channels. ICNR (Aitken et al., 2017) starts
all ``r * r`` sub-kernels as copies of one kernel, so that at initialisation the layer equals
"convolve with that kernel, then nearest-neighbour upsample": no checkerboard to unlearn.
"""
from __future__ import annotations

import numpy as np

from . import validation


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
