"""Argument checking shared by every array function: one place, one wording.

Each checker raises ``ValueError`` naming the argument and saying what is allowed,
so bad input never turns into an IndexError or a silently wrong shape.
"""
from __future__ import annotations

import numbers

import numpy as np

PADDINGS = ("valid", "same")


def pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (Keras accepts both), as a checked pair."""
    values = (value, value) if _is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(values) != 2 or not all(_is_int(v) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be >= {minimum} in every dimension, got {value!r}")
    return int(values[0]), int(values[1])


def integer(value, name: str, *, minimum: int = 1) -> int:
    """A single int (not a pair), checked against ``minimum``."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def padding_mode(padding) -> str:
    """Keras's padding names, case-insensitive like Keras."""
    mode = padding.lower() if isinstance(padding, str) else None
    if mode not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return mode


def array(value, name: str, ndim: int, layout: str) -> np.ndarray:
    """A numeric array of exactly ``ndim`` dimensions with no empty axis."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {arr.shape}")
    if 0 in arr.shape:
        raise ValueError(f"{name} must not have an empty axis {layout}, got shape {arr.shape}")
    return arr


def bias(value, channels: int):
    if value is None:
        return None
    arr = array(value, "bias", 1, "(C_out,)")
    if arr.shape[0] != channels:
        raise ValueError(f"bias must have shape ({channels},) to match the kernel's C_out, got {arr.shape}")
    return arr


def no_strided_dilation(strides, dilation_rate) -> None:
    """Keras's own rule: strides above 1 and dilation above 1 are not combined."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            f"strides > 1 cannot be combined with dilation_rate > 1 (Keras's rule), "
            f"got strides={strides} and dilation_rate={dilation_rate}"
        )


def result_dtype(*arrays) -> type:
    """float32 when every input is float32 (as Keras keeps it), float64 otherwise."""
    present = [a for a in arrays if a is not None]
    return np.float32 if all(a.dtype == np.float32 for a in present) else np.float64


def conv_arguments(x, kernel, bias_, strides, padding, dilation_rate, *, transpose: bool):
    """Check and normalise the arguments shared by conv2d and conv2d_transpose.

    ``kernel`` is Keras's layout: ``(kh, kw, C_in, C_out)`` for a convolution and
    ``(kh, kw, C_out, C_in)`` for a transposed convolution.
    Returns ``(x, kernel, bias, strides, padding, dilation_rate, dtype)`` with the arrays
    already cast to the result dtype.
    """
    x = array(x, "x", 4, "(N, H, W, C_in)")
    layout = "(kh, kw, C_out, C_in)" if transpose else "(kh, kw, C_in, C_out)"
    kernel = array(kernel, "kernel", 4, layout)
    in_axis, out_axis = (3, 2) if transpose else (2, 3)
    if x.shape[3] != kernel.shape[in_axis]:
        raise ValueError(
            f"x has {x.shape[3]} channels but kernel {layout} expects C_in={kernel.shape[in_axis]}: "
            f"x {x.shape}, kernel {kernel.shape}"
        )
    bias_ = bias(bias_, kernel.shape[out_axis])
    strides = pair(strides, "strides")
    dilation_rate = pair(dilation_rate, "dilation_rate")
    no_strided_dilation(strides, dilation_rate)
    padding = padding_mode(padding)
    dtype = result_dtype(x, kernel, bias_)
    cast = [None if a is None else a.astype(dtype, copy=False) for a in (x, kernel, bias_)]
    return (*cast, strides, padding, dilation_rate, dtype)
