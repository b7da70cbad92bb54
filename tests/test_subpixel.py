import numpy as np
import pytest

from tconv_lib import conv2d, keras_ref, upsample_nearest
from tconv_lib.subpixel import depth_to_space, icnr


@pytest.mark.parametrize("r, c", [(2, 1), (2, 3), (3, 2)])
def test_depth_to_space_matches_tensorflow(r, c):
    x = np.random.default_rng(r * 10 + c).normal(size=(2, 3, 4, r * r * c)).astype(np.float32)
    expected = np.asarray(keras_ref.tensorflow().nn.depth_to_space(x, r))
    np.testing.assert_array_equal(depth_to_space(x, r), expected)


def test_icnr_starts_as_convolution_then_nearest_upsampling():
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(1, 5, 6, 2)), rng.normal(size=(3, 3, 2, 4))
    subpixel = depth_to_space(conv2d(x, icnr(kernel, 2), padding="same"), 2)
    np.testing.assert_allclose(subpixel, upsample_nearest(conv2d(x, kernel, padding="same"), 2), atol=1e-12)
    # A kernel that is not ICNR breaks the equality: the check can fail.
    broken = icnr(kernel, 2)
    broken[..., -1] += 1.0
    assert not np.allclose(depth_to_space(conv2d(x, broken, padding="same"), 2),
                           upsample_nearest(conv2d(x, kernel, padding="same"), 2))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="block_size"):
        depth_to_space(np.ones((1, 2, 2, 3)), 2)
    with pytest.raises(ValueError, match="kernel"):
        icnr(np.ones((3, 3, 2)), 2)
