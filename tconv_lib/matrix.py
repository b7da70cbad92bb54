"""The convolution as a matrix: ``conv2d(x)[n].ravel() == C @ x[n].ravel()``.

Its transpose ``C.T`` maps the convolution's output space back to its input space; that is
exactly Keras's Conv2DTranspose with the same kernel, hence the name "transposed".
"""
from __future__ import annotations

import numpy as np

from . import shapes, validation

#: Dense matrices beyond this many entries would take gigabytes; the matrix view is for teaching.
MAX_ENTRIES = 50_000_000


def conv_matrix(input_shape, kernel, strides=1, padding="valid", dilation_rate=1) -> np.ndarray:
    """Matrix C of a Keras Conv2D on inputs of shape ``input_shape``.

    input_shape: (H, W) or (H, W, C_in); kernel: (kh, kw) for one channel, or Keras's
    (kh, kw, C_in, C_out). Returns C: (H_out * W_out * C_out, H * W * C_in), rows and columns
    in C order of (H_out, W_out, C_out) and (H, W, C_in). For a 4x4 input and a 3x3 kernel,
    C is the 4x16 matrix whose rows are the kernel placed at each of the 4 output positions.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim == 2:
        kernel = kernel[:, :, None, None]
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw) or (kh, kw, C_in, C_out)")
    input_shape = tuple(input_shape)
    if len(input_shape) == 2:
        input_shape = (*input_shape, kernel.shape[2])
    H, W, c_in = validation.pair(input_shape[:2], "input_shape") + (input_shape[2],)
    if c_in != kernel.shape[2]:
        raise ValueError(f"input_shape has {c_in} channels but kernel expects C_in={kernel.shape[2]}")
    kh, kw, _, c_out = kernel.shape
    strides = validation.pair(strides, "strides")
    dilation_rate = validation.pair(dilation_rate, "dilation_rate")
    validation.no_strided_dilation(strides, dilation_rate)
    (ho, wo) = shapes.conv2d_output_shape((H, W), (kh, kw), strides, padding, dilation_rate)
    (top, _), (left, _) = shapes.conv2d_padding((H, W), (kh, kw), strides, padding, dilation_rate)
    rows, cols = ho * wo * c_out, H * W * c_in
    if rows * cols > MAX_ENTRIES:
        raise ValueError(
            f"the convolution matrix for input_shape {input_shape} would be {rows} x {cols}, over "
            f"{MAX_ENTRIES} entries; the matrix view is for small examples, use method='phase'"
        )
    # Input row/column read by output position o and kernel tap t: o * s - pad + t * d.
    in_r = np.arange(ho)[:, None] * strides[0] - top + np.arange(kh)[None, :] * dilation_rate[0]
    in_c = np.arange(wo)[:, None] * strides[1] - left + np.arange(kw)[None, :] * dilation_rate[1]
    C = np.zeros((ho, wo, c_out, H, W, c_in), dtype=validation.result_dtype(kernel))
    o_r, t_r, o_c, t_c = np.ix_(range(ho), range(kh), range(wo), range(kw))
    r, c = in_r[o_r, t_r], in_c[o_c, t_c]
    inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
    o_r, t_r, o_c, t_c, r, c = (np.broadcast_to(a, inside.shape)[inside]
                                for a in (o_r, t_r, o_c, t_c, r, c))
    # Each (output position, tap) pair reads a distinct input pixel, so plain assignment is exact.
    C[o_r, o_c, :, r, c, :] = kernel[t_r, t_c].transpose(0, 2, 1)
    return C.reshape(rows, cols)
