"""tconv_lib: transposed convolution, exactly as Keras computes it, for the course.

Every book page, widget, exercise and grader imports from here. Arrays follow Keras's
layouts (channels last; Conv2D kernels (kh, kw, C_in, C_out), Conv2DTranspose kernels
(kh, kw, C_out, C_in)) so ``layer.get_weights()`` can be passed straight in.
Importing this package does not import TensorFlow; ``tconv_lib.keras_ref`` does.

The array functions are exported here. The modules that serve the pages are imported by
name (``from tconv_lib import plots``), so that ``import tconv_lib`` stays fast and loads
neither matplotlib nor ipywidgets nor TensorFlow: ``plots`` and ``widgets`` (figures),
``images`` and ``datasets`` (data), ``models`` and ``metrics`` (the applications chapter),
``article`` (the reference article's code, bugs included), ``subpixel``, ``tables``,
``keras_ref`` (Keras itself) and ``grading`` (the exercises' checkers).
"""
from .checkerboard import overlap_count, phase_sums, uneven_overlap
from .conv import conv2d
from .matrix import conv_matrix
from .shapes import (
    conv2d_output_shape,
    conv2d_padding,
    conv2d_transpose_crop,
    conv2d_transpose_output_shape,
    conv_output_length,
    conv_padding,
    conv_transpose_crop,
    conv_transpose_output_length,
)
from .transpose import METHODS, conv2d_transpose, insert_zeros, zero_insertion_input
from .upsample import bed_of_nails, max_pool_with_argmax, max_unpool, upsample_bilinear, upsample_nearest

__all__ = [
    "METHODS", "bed_of_nails", "conv2d", "conv2d_output_shape", "conv2d_padding",
    "conv2d_transpose", "conv2d_transpose_crop", "conv2d_transpose_output_shape", "conv_matrix",
    "conv_output_length", "conv_padding", "conv_transpose_crop", "conv_transpose_output_length",
    "insert_zeros", "max_pool_with_argmax", "max_unpool", "overlap_count", "phase_sums", "uneven_overlap",
    "upsample_bilinear", "upsample_nearest", "zero_insertion_input",
]
