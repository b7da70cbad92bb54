import numpy as np
import pytest
from hypothesis import given

from strategies import TOL, conv_configs
from tconv_lib import conv2d_transpose, conv_matrix, keras_ref

W = np.array([[1, 2, 1], [2, 1, 2], [1, 1, 2]], dtype=float)


def test_article_4x16_matrix():
    C = conv_matrix((4, 4), W)
    assert C.shape == (4, 16)
    # Row 0 is the kernel on the top-left 3x3 block of the 4x4 input, zeros elsewhere.
    np.testing.assert_array_equal(C[0].reshape(4, 4), np.pad(W, ((0, 1), (0, 1))))
    np.testing.assert_array_equal(C[3].reshape(4, 4), np.pad(W, ((1, 0), (1, 0))))
    x = np.array([[3, 5, 2, 7], [4, 1, 3, 8], [6, 3, 8, 2], [9, 6, 1, 5]], dtype=float)
    np.testing.assert_array_equal((C @ x.ravel()).reshape(2, 2), [[55, 52], [57, 50]])


def test_transpose_of_the_matrix_is_the_transposed_convolution():
    C = conv_matrix((4, 4), W)
    y = np.array([55, 52, 57, 50], dtype=float)
    expected = conv2d_transpose(y.reshape(1, 2, 2, 1), W[:, :, None, None])[0, :, :, 0]
    np.testing.assert_array_equal((C.T @ y).reshape(4, 4), expected)


@given(conv_configs(transpose=False))
def test_matrix_times_input_is_keras_conv2d(config):
    x, kernel, _, kwargs = config
    try:
        C = conv_matrix(x.shape[1:], kernel, **kwargs)
    except ValueError:
        return  # rejected configurations are covered by test_conv against Keras
    ref = keras_ref.conv2d(x, kernel, **kwargs)
    ours = x.reshape(x.shape[0], -1) @ C.T
    np.testing.assert_allclose(ours, ref.reshape(ref.shape[0], -1), **TOL)


def test_bad_input_shape_channels():
    with pytest.raises(ValueError, match="input_shape has 3 channels"):
        conv_matrix((4, 4, 3), np.ones((3, 3, 2, 1)))


def test_too_large_is_refused_with_advice():
    with pytest.raises(ValueError, match="matrix view is for small examples"):
        conv_matrix((128, 128, 16), np.ones((3, 3, 16, 16)), padding="same")
