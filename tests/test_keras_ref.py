import re

import numpy as np
import pytest

from tconv_lib import keras_ref


def test_reference_device_is_reported():
    assert keras_ref.device() in ("/CPU:0", "/GPU:0", "cpu:0", "gpu:0", "cuda:0")
    assert re.fullmatch(r"Keras 3\.\d+\.\d+\S* on (TensorFlow|JAX|PyTorch), .+, TF32 off",
                        keras_ref.device_description())


def test_tf32_is_off_for_references_and_the_line_says_when_it_is_on():
    assert not keras_ref.backend().tf32_enabled()
    keras_ref.set_tf32(True)
    try:
        assert keras_ref.backend().tf32_enabled()
        assert keras_ref.device_description().endswith("TF32 on")
    finally:
        keras_ref.set_tf32(False)
    assert keras_ref.device_description().endswith("TF32 off")


def test_tf32_switch_is_tensorflows_own_on_tensorflow():
    if keras_ref.keras().backend.backend() != "tensorflow":
        pytest.skip("Keras runs on another backend")
    assert not keras_ref.tensorflow().config.experimental.tensor_float_32_execution_enabled()


def test_dilated_transpose_is_the_adjoint_of_dilated_conv2d():
    # <conv(x), y> == <x, conv_transpose(y)>: checks the dilated transpose (on TensorFlow's
    # CPU the dilated-kernel substitution) against Keras's own dilated Conv2D.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 9, 8, 2))
    kernel = rng.standard_normal((3, 2, 2, 3))
    for padding in ("valid", "same"):
        y_shape = keras_ref.conv2d(x, kernel, padding=padding, dilation_rate=(2, 3)).shape
        y = rng.standard_normal(y_shape)
        back = keras_ref.conv2d_transpose(y, kernel, padding=padding, dilation_rate=(2, 3))
        if back.shape != x.shape:  # "valid" may not reach back to every input pixel
            continue
        forward = keras_ref.conv2d(x, kernel, padding=padding, dilation_rate=(2, 3))
        np.testing.assert_allclose(np.vdot(forward, y), np.vdot(x, back), rtol=1e-10)


def test_float64_references_stay_float64():
    x = np.ones((1, 3, 3, 1))
    assert keras_ref.conv2d(x, np.ones((2, 2, 1, 1))).dtype == np.float64
    assert keras_ref.conv2d(x.astype(np.float32), np.ones((2, 2, 1, 1), np.float32)).dtype == np.float32


def test_dilate_kernel():
    k = np.arange(1.0, 5.0).reshape(2, 2, 1, 1)
    np.testing.assert_array_equal(keras_ref.dilate_kernel(k, (2, 3))[:, :, 0, 0],
                                  [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]])
