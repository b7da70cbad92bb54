"""The sample photograph: shape, range, grayscale and block-mean downscaling."""
import numpy as np
import pytest

from tconv_lib.images import LUMA, block_mean, photograph


def test_full_colour_photograph():
    image = photograph()
    assert image.shape == (600, 512, 3)
    assert image.dtype == np.float32
    assert 0.0 <= image.min() < 0.05 and 0.95 < image.max() <= 1.0  # a real photo spans the range
    assert image.std() > 0.1  # not flat


def test_grayscale_is_the_luma_of_the_colour_image():
    colour, gray = photograph(), photograph(grayscale=True)
    assert gray.shape == (600, 512, 1)
    np.testing.assert_allclose(gray[..., 0], np.clip(colour @ np.asarray(LUMA), 0, 1), atol=1e-6)


@pytest.mark.parametrize("factor, shape", [(2, (300, 256)), (7, (85, 73)), ((3, 4), (200, 128))])
def test_downscale_averages_blocks(factor, shape):
    fh, fw = (factor, factor) if isinstance(factor, int) else factor
    full, small = photograph(), photograph(downscale=factor)
    assert small.shape == (*shape, 3) and small.dtype == np.float32
    np.testing.assert_allclose(small[1, 2], full[fh:2 * fh, 2 * fw:3 * fw].mean(axis=(0, 1)), atol=1e-6)
    np.testing.assert_allclose(small[-1, -1], full[(shape[0] - 1) * fh:shape[0] * fh,
                                                   (shape[1] - 1) * fw:shape[1] * fw].mean(axis=(0, 1)),
                               atol=1e-6)


def test_callers_cannot_change_the_cached_photograph():
    photograph()[:] = 0
    assert photograph().max() > 0.9


def test_block_mean_averages_each_block_over_a_batch():
    x = np.arange(2 * 5 * 7 * 3, dtype=np.float64).reshape(2, 5, 7, 3)
    small = block_mean(x, (2, 3))
    assert small.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(small[1, 1, 0], x[1, 2:4, 0:3].mean(axis=(0, 1)))
    np.testing.assert_array_equal(small[0, 0, 1], x[0, 0:2, 3:6].mean(axis=(0, 1)))
    assert block_mean(x[0], 1).shape == (5, 7, 3)  # (H, W, C) with no batch axis


@pytest.mark.parametrize("x, size, match", [(np.ones((4, 4)), 2, "x must be"), (np.ones((1, 4, 4, 1)), 5, "x must be"),
                                            (np.ones((4, 4, 1)), 0, "size"), (np.ones((4, 4, 1)), (2, 2, 2), "size")])
def test_block_mean_bad_arguments_name_the_argument(x, size, match):
    with pytest.raises(ValueError, match=match):
        block_mean(x, size)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "2", (2, 2, 2), 601])
def test_bad_downscale_names_the_argument(bad):
    with pytest.raises(ValueError, match="downscale"):
        photograph(downscale=bad)
