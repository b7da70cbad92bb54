"""What ``tconv_lib.keras_ref`` does differently on each Keras 3 backend, one class each.

Keras runs the same layers on TensorFlow, JAX or PyTorch (``KERAS_BACKEND``, read when Keras
is first imported; TensorFlow by default). What Keras leaves to the backend sits here: the
device that computes references (the string ``keras.device()`` takes), the TF32 switch
(Ampere and Hopper GPUs may run float32 convolutions with 10-bit mantissas, ~1e-3 relative
error), the device's name for feedback, whether a dilated ``Conv2DTranspose`` runs natively,
and max pooling with indices, which no Keras op has. ``keras_ref`` builds one of these once,
with stderr silenced, so nothing here prints.
"""
from __future__ import annotations

import os

import numpy as np

# TensorFlow: both, before it loads (importing Keras loads it), keep its C++ log lines off stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


class TensorFlow:
    name = "TensorFlow"

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        gpus = tf.config.list_physical_devices("GPU")
        self.device = "/GPU:0" if gpus else "/CPU:0"
        self.device_name = (tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
                            if gpus else "CPU")
        # TensorFlow's CPU kernel (Conv2DBackpropInput) rejects dilation above 1; its GPU kernel runs it.
        self.native_dilated_transpose = bool(gpus)
        self.set_tf32(False)
        tf.constant(0.0) + 0.0  # first op: the last of the start-up log lines, while stderr is silenced

    def set_tf32(self, enabled: bool) -> None:
        # tf.config.experimental.enable_tensor_float_32_execution: TF32 is on by default, for
        # matrix products and convolutions on Ampere and newer GPUs.
        self.tf.config.experimental.enable_tensor_float_32_execution(enabled)

    def tf32_enabled(self) -> bool:
        return self.tf.config.experimental.tensor_float_32_execution_enabled()

    to_numpy = staticmethod(np.asarray)

    def max_pool_with_argmax(self, x, pool_size, strides, padding, include_batch_in_index):
        with self.tf.device(self.device):
            pooled, argmax = self.tf.nn.max_pool_with_argmax(
                self.tf.constant(x), pool_size, strides, padding.upper(),
                include_batch_in_index=include_batch_in_index)
        return np.asarray(pooled), np.asarray(argmax)


class JAX:
    name = "JAX"

    def __init__(self):
        import jax

        self.jax = jax
        # Without it JAX computes float64 inputs in float32 and warns on stderr.
        jax.config.update("jax_enable_x64", True)
        first = jax.devices()[0]  # the default device: a GPU when a CUDA jaxlib sees one
        self.device = "gpu:0" if first.platform == "gpu" else "cpu:0"
        self.device_name = first.device_kind if first.platform == "gpu" else "CPU"
        self.native_dilated_transpose = True  # lax.conv_transpose takes rhs_dilation on CPU and GPU
        self.set_tf32(False)

    def set_tf32(self, enabled: bool) -> None:
        # jax_default_matmul_precision: "the default matmul and conv precision for 32bit inputs"
        # (JAX's docs); its default lets GPUs use TF32, "highest" is full float32.
        self.jax.config.update("jax_default_matmul_precision", "tensorfloat32" if enabled else "highest")

    def tf32_enabled(self) -> bool:
        return self.jax.config.jax_default_matmul_precision != "highest"

    to_numpy = staticmethod(np.asarray)

    def max_pool_with_argmax(self, x, pool_size, strides, padding, include_batch_in_index):
        # JAX has no such op: XLA's reduce_window over (value, flat index) pairs keeps the
        # largest value and, among equal ones, the smallest index, as TensorFlow does.
        jnp, lax = self.jax.numpy, self.jax.lax
        n, h, w, c = x.shape
        index = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        if not include_batch_in_index:
            index %= h * w * c

        def keep(a, b):
            first = (a[0] > b[0]) | ((a[0] == b[0]) & (a[1] < b[1]))
            return jnp.where(first, a[0], b[0]), jnp.where(first, a[1], b[1])

        with self.jax.default_device(self.jax.devices()[0]):
            pooled, argmax = lax.reduce_window(
                (jnp.asarray(x), jnp.asarray(index)), (jnp.array(-np.inf, x.dtype), jnp.int64(x.size)),
                keep, (1, *pool_size, 1), (1, *strides, 1), padding.upper())
        return np.asarray(pooled), np.asarray(argmax)


class PyTorch:
    name = "PyTorch"

    def __init__(self):
        import torch

        self.torch = torch
        gpu = torch.cuda.is_available()
        self.device = "cuda:0" if gpu else "cpu:0"
        self.device_name = torch.cuda.get_device_name(0) if gpu else "CPU"
        self.native_dilated_transpose = True  # conv_transpose2d takes dilation on CPU and GPU
        self.set_tf32(False)

    def set_tf32(self, enabled: bool) -> None:
        # torch.backends.cudnn.allow_tf32 (True by default) is cuDNN's convolutions;
        # torch.backends.cuda.matmul.allow_tf32 matrix products, the same switch as
        # set_float32_matmul_precision("highest") for off. The newer fp32_precision settings
        # must not be mixed with these (PyTorch raises), so only these are used.
        self.torch.backends.cudnn.allow_tf32 = enabled
        self.torch.backends.cuda.matmul.allow_tf32 = enabled

    def tf32_enabled(self) -> bool:
        return self.torch.backends.cudnn.allow_tf32 or self.torch.backends.cuda.matmul.allow_tf32

    @staticmethod
    def to_numpy(y) -> np.ndarray:
        # Not np.asarray (what keras.ops.convert_to_numpy does): NumPy 2 warns about torch's __array__.
        return y.detach().cpu().numpy()

    def max_pool_with_argmax(self, x, pool_size, strides, padding, include_batch_in_index):
        # max_pool2d's indices count in each (image, channel) plane of its input, here padded
        # with -inf by TensorFlow's rule ("same": the odd padding pixel at the bottom/right).
        torch, F = self.torch, self.torch.nn.functional
        n, h, w, c = x.shape
        pads = [(0, 0), (0, 0)]
        if padding == "same":
            pads = [_same_padding(size, k, s) for size, k, s in zip((h, w), pool_size, strides)]
        planes = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(self.device)
        planes = F.pad(planes, (*pads[1], *pads[0]), value=-np.inf)
        pooled, index = F.max_pool2d(planes, pool_size, strides, return_indices=True)
        pooled, index = pooled.cpu().numpy().transpose(0, 2, 3, 1), index.cpu().numpy().transpose(0, 2, 3, 1)
        width = w + sum(pads[1])
        y, x_ = index // width - pads[0][0], index % width - pads[1][0]
        argmax = (y * w + x_) * c + np.arange(c)
        if include_batch_in_index:
            argmax = argmax + (np.arange(n) * h * w * c)[:, None, None, None]
        return pooled, argmax.astype(np.int64)


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one axis, (before, after), as Keras's torch backend pads."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


BACKENDS = {"tensorflow": TensorFlow, "jax": JAX, "torch": PyTorch}
