"""Reference results from Keras itself, on the best device its backend sees.

Everything the course checks is checked against these functions. They build the matching
Keras layer, load the given weights, run it (on a GPU when the backend sees one, else the
CPU) and return NumPy arrays. They work unchanged on every Keras 3 backend: TensorFlow (the
default), JAX or PyTorch, chosen by ``KERAS_BACKEND`` before Keras is first imported; what
differs between backends is in ``tconv_lib.backends``.

TF32: on Ampere and Hopper GPUs float32 convolutions may run in TF32, which keeps only 10
mantissa bits (relative error ~1e-3). References must be exact float32, so loading Keras
here turns TF32 off, whatever the backend.
"""
from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from . import backends, validation


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2: TensorFlow's and XLA's device probes log there despite their settings."""
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
        import keras

        backend = backends.BACKENDS[keras.backend.backend()]()
    return keras, backend


def keras():
    """The ``keras`` module, imported quietly, its backend set up with TF32 off."""
    return _load()[0]


def backend() -> backends.TensorFlow | backends.JAX | backends.PyTorch:
    """What this Keras backend does differently (``tconv_lib.backends``): name, device, TF32 switch."""
    return _load()[1]


@functools.cache
def tensorflow():
    """The ``tensorflow`` module, imported quietly with TF32 off (whatever Keras's backend)."""
    if keras().backend.backend() == "tensorflow":
        return backend().tf
    with _quiet_stderr():
        return backends.TensorFlow().tf


def device() -> str:
    """The device that computes references, as ``keras.device()`` takes it.

    TensorFlow: ``"/GPU:0"`` when there is a GPU, else ``"/CPU:0"``; JAX: ``"gpu:0"`` or
    ``"cpu:0"``; PyTorch: ``"cuda:0"`` or ``"cpu:0"``.
    """
    return backend().device


def set_tf32(enabled: bool) -> None:
    """Turn TF32 on or off for the references (it is off unless this turns it on)."""
    backend().set_tf32(enabled)


def device_description() -> str:
    """A line for feedback: Keras's version, backend, device and TF32 setting.

    For example ``"Keras 3.15.1 on TensorFlow, CPU, TF32 off"`` or
    ``"Keras 3.15.1 on JAX, NVIDIA H200, TF32 off"``.
    """
    b = backend()
    return f"Keras {keras().__version__} on {b.name}, {b.device_name}, TF32 {'on' if b.tf32_enabled() else 'off'}"


def _run(layer, x, weights=None):
    """Build ``layer`` for ``x``, load ``weights``, call it on the reference device: a NumPy array."""
    with keras().device(device()):
        layer.build(x.shape)
        if weights is not None:
            layer.set_weights(weights)
        return backend().to_numpy(layer(x))


# Weights are always loaded with set_weights: zeros skip the random initialisers, which JAX
# compiles afresh for each kernel shape (seconds per layer under load).
_NO_INIT = dict(kernel_initializer="zeros", bias_initializer="zeros")


def _dtype_name(*arrays):
    return np.dtype(validation.result_dtype(*arrays)).name


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1) -> np.ndarray:
    """``keras.layers.Conv2D`` with these weights. x: (N, H, W, C_in); kernel: (kh, kw, C_in, C_out)."""
    x, kernel = np.asarray(x), np.asarray(kernel)
    dtype = _dtype_name(x, kernel, None if bias is None else np.asarray(bias))
    layer = keras().layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=strides, padding=padding,
                                  dilation_rate=dilation_rate, use_bias=bias is not None, dtype=dtype, **_NO_INIT)
    return _run(layer, x.astype(dtype), [kernel] if bias is None else [kernel, np.asarray(bias)])


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

    TensorFlow's CPU kernel rejects dilation above 1, so there a dilated layer runs as the
    same Keras layer with the zeros of the dilation written into its kernel (the output size
    formula only sees the kernel's span, so it is the same operator and the same shape). JAX
    and PyTorch run it natively.
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    dtype = _dtype_name(x, kernel, None if bias is None else np.asarray(bias))
    if not backend().native_dilated_transpose and validation.pair(dilation_rate, "dilation_rate") != (1, 1):
        kernel, dilation_rate = dilate_kernel(kernel, dilation_rate), 1
    layer = keras().layers.Conv2DTranspose(
        kernel.shape[2], kernel.shape[:2], strides=strides, padding=padding,
        output_padding=output_padding, dilation_rate=dilation_rate, use_bias=bias is not None,
        dtype=dtype, **_NO_INIT)
    return _run(layer, x.astype(dtype), [kernel] if bias is None else [kernel, np.asarray(bias)])


def upsampling2d(x, size=2, interpolation="nearest") -> np.ndarray:
    """``keras.layers.UpSampling2D``. x: (N, H, W, C)."""
    x = np.asarray(x)
    layer = keras().layers.UpSampling2D(size=size, interpolation=interpolation,
                                        dtype=_dtype_name(x))
    return _run(layer, x.astype(_dtype_name(x)))


def max_pool_with_argmax(x, pool_size=2, strides=None, padding="valid", include_batch_in_index=False):
    """``tf.nn.max_pool_with_argmax``: (pooled, argmax) as NumPy arrays, both (N, H_out, W_out, C).

    argmax is the flat index ``(y * W + x) * C + c`` into one image (``((n * H + y) * W + x) * C + c``
    with ``include_batch_in_index``); ties go to the first maximum. No Keras op returns the
    indices: TensorFlow's own op where Keras runs on TensorFlow, PyTorch's ``max_pool2d`` with
    ``return_indices``, or XLA's ``reduce_window`` on JAX (``tconv_lib.backends``).
    """
    x = np.asarray(x)
    pool_size = validation.pair(pool_size, "pool_size")
    strides = pool_size if strides is None else validation.pair(strides, "strides")
    return backend().max_pool_with_argmax(x, pool_size, strides, validation.padding_mode(padding),
                                          include_batch_in_index)
