import numpy as np
import pytest

from tconv_lib import article, conv2d, conv2d_transpose

X4, W3, X2, W2 = article.X, article.W3, article.Y, article.W2


def keras_exact(fn, x, w, **kwargs):
    """tconv_lib (equal to Keras) on one channel, back to 2-D."""
    return fn(x[None, :, :, None].astype(float), w[:, :, None, None].astype(float), **kwargs)[0, :, :, 0]


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_the_articles_own_examples_match_keras(padding):
    np.testing.assert_array_equal(article.conv2d(X4, W3, padding), keras_exact(conv2d, X4, W3, padding=padding))
    np.testing.assert_array_equal(article.conv2d_transpose(X2, W2, padding),
                                  keras_exact(conv2d_transpose, X2, W2, padding=padding))
    assert article.conv2d(X4, W3, "valid").tolist() == [[55, 52], [57, 50]]
    assert article.conv2d_transpose(X2, W2).tolist() == [[55, 162, 104], [167, 323, 152], [114, 157, 50]]
    with pytest.raises(ValueError, match="read-only"):
        X4[0, 0] = 0  # shared by every caller


def test_same_padding_is_symmetric_with_ceil():
    assert article.conv2d_same_padding((4, 4), (2, 2), (1, 1)) == (1, 1)  # Keras: (0, 1) per axis
    assert article.conv2d(X4, W2, "same").shape == (5, 5)
    assert article.conv2d_same_padding((4, 4), (1, 1), (3, 3)) == (-1, -1)
    with pytest.raises(ValueError, match="negative"):
        article.conv2d(X4, np.ones((1, 1)), "same", strides=3)


def test_column_loop_uses_the_kernel_height():
    assert article.conv2d(X4, np.ones((3, 2))).shape == (2, 2)  # Keras: (2, 3)
    with pytest.raises(ValueError, match="width"):
        article.conv2d(X4, np.ones((2, 3)))
    # A 1x2 kernel: the last window is one column wide and broadcasts over the kernel.
    out = article.conv2d(X4, np.array([[1, 2]]))
    assert out.shape == (4, 4)
    np.testing.assert_array_equal(out[:, :3], keras_exact(conv2d, X4, np.array([[1, 2]])))
    np.testing.assert_array_equal(out[:, 3], X4[:, 3] * 3)


def test_transpose_length_ignores_a_stride_larger_than_the_kernel():
    out = article.conv2d_transpose(X2, W2, strides=3)
    ref = keras_exact(conv2d_transpose, X2, W2, strides=3)
    assert out.shape == (5, 5) and ref.shape == (6, 6)
    np.testing.assert_array_equal(ref[:5, :5], out)


def test_transpose_crop_mixes_rows_and_columns():
    assert article.conv2d_transpose_slices((5, 7), (3, 2), (1, 1), "same") == (slice(1, 4), slice(0, 5))
    wide = np.arange(6).reshape(2, 3)
    assert article.conv2d_transpose(wide, W2).shape == (3, 3)  # Keras: (3, 4)


def test_bad_shapes_name_the_argument():
    with pytest.raises(ValueError, match="kernel_size"):
        article.conv2d_same_padding((4, 4), (2, 2, 2), 1)
    with pytest.raises(ValueError, match="input_shape"):
        article.conv2d_same_padding(4.5, 2, 1)
    with pytest.raises(ValueError, match="full_shape"):
        article.conv2d_transpose_slices((0, 5), 2, 1, "same")
    with pytest.raises(ValueError, match="kernel_size"):
        article.conv2d_transpose_slices((5, 5), "2", 1, "same")


@pytest.mark.parametrize("fn", [article.conv2d, article.conv2d_transpose])
def test_bad_arguments_name_the_argument(fn):
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        fn(np.ones((1, 4, 4, 1)), W2)
    with pytest.raises(ValueError, match="padding"):
        fn(X4, W2, "full")
    with pytest.raises(ValueError, match="strides"):
        fn(X4, W2, strides=0)
