"""Reference results from Keras itself, on the best device TensorFlow sees.

Everything the course checks is checked against these functions. They build the matching
Keras layer, load the given weights, run it (on a GPU when TensorFlow sees one, else the
CPU) and return NumPy arrays.

TF32: on Ampere and Hopper GPUs TensorFlow runs float32 convolutions in TF32 by default,
which keeps only 10 mantissa bits (relative error ~1e-3). References must be exact float32,
so importing this module turns TF32 off.
"""
from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from . import validation

# Both are needed, before TensorFlow loads, to keep its C++ log lines off stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2: TensorFlow's device probe logs there despite TF_CPP_MIN_LOG_LEVEL."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@functools.cache
def _load():
    with _quiet_stderr():
        import tensorflow as tf
        import keras

        gpus = tf.config.list_physical_devices("GPU")
        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.constant(0.0) + 0.0  # first op: the last of the start-up log lines, while silenced
    return tf, keras, ("/GPU:0" if gpus else "/CPU:0")


def tensorflow():
    """The ``tensorflow`` module, imported quietly with TF32 off."""
    return _load()[0]


def keras():
    """The ``keras`` module, imported quietly with TF32 off."""
    return _load()[1]


def device() -> str:
    """The TensorFlow device that computes references: ``"/GPU:0"`` when there is one, else ``"/CPU:0"``."""
    return _load()[2]


def device_description() -> str:
    """A line for feedback: which device computed the references, and the TF32 setting."""
    tf, _, dev = _load()
    if dev == "/CPU:0":
        return "Keras references computed on the CPU"
    name = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
    return f"Keras references computed on {name.get('device_name', 'a GPU')} (TF32 off)"


def _run(layer, x):
    tf, _, dev = _load()
    with tf.device(dev):
        return np.asarray(layer(tf.constant(x)))


def _dtype_name(*arrays):
    return np.dtype(validation.result_dtype(*arrays)).name


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1) -> np.ndarray:
    """``keras.layers.Conv2D`` with these weights. x: (N, H, W, C_in); kernel: (kh, kw, C_in, C_out)."""
    x, kernel = np.asarray(x), np.asarray(kernel)
    dtype = _dtype_name(x, kernel, None if bias is None else np.asarray(bias))
    layer = keras().layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=strides, padding=padding,
                                  dilation_rate=dilation_rate, use_bias=bias is not None, dtype=dtype)
    layer.build(x.shape)
    layer.set_weights([kernel] if bias is None else [kernel, np.asarray(bias)])
    return _run(layer, x.astype(dtype))


def dilate_kernel(kernel, dilation_rate) -> np.ndarray:
    """``kernel: (kh, kw, A, B)`` with ``d - 1`` zeros between taps: the same operator at dilation 1."""
    (dh, dw) = validation.pair(dilation_rate, "dilation_rate")
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, *kernel.shape[2:]), dtype=kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1) -> np.ndarray:
    """``keras.layers.Conv2DTranspose`` with these weights. x: (N, H, W, C_in); kernel: (kh, kw, C_out, C_in).

    TensorFlow's CPU kernel rejects dilation above 1, so on the CPU a dilated layer runs as
    the same Keras layer with the zeros of the dilation written into its kernel (the output
    size formula only sees the kernel's span, so it is the same operator and the same shape).
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    dtype = _dtype_name(x, kernel, None if bias is None else np.asarray(bias))
    if device() == "/CPU:0" and validation.pair(dilation_rate, "dilation_rate") != (1, 1):
        kernel, dilation_rate = dilate_kernel(kernel, dilation_rate), 1
    layer = keras().layers.Conv2DTranspose(
        kernel.shape[2], kernel.shape[:2], strides=strides, padding=padding,
        output_padding=output_padding, dilation_rate=dilation_rate, use_bias=bias is not None,
        dtype=dtype)
    layer.build(x.shape)
    layer.set_weights([kernel] if bias is None else [kernel, np.asarray(bias)])
    return _run(layer, x.astype(dtype))


def upsampling2d(x, size=2, interpolation="nearest") -> np.ndarray:
    """``keras.layers.UpSampling2D``. x: (N, H, W, C)."""
    x = np.asarray(x)
    layer = keras().layers.UpSampling2D(size=size, interpolation=interpolation,
                                        dtype=_dtype_name(x))
    return _run(layer, x.astype(_dtype_name(x)))


def max_pool_with_argmax(x, pool_size=2, strides=None, padding="valid", include_batch_in_index=False):
    """``tf.nn.max_pool_with_argmax``: (pooled, argmax) as NumPy arrays."""
    tf, _, dev = _load()
    pool_size = validation.pair(pool_size, "pool_size")
    strides = pool_size if strides is None else validation.pair(strides, "strides")
    with tf.device(dev):
        pooled, argmax = tf.nn.max_pool_with_argmax(
            tf.constant(np.asarray(x)), pool_size, strides, padding.upper(),
            include_batch_in_index=include_batch_in_index)
    return np.asarray(pooled), np.asarray(argmax)
