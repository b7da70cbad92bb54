"""The sample photograph: shape, range, grayscale and block-mean downscaling."""
import numpy as np
import pytest

from tconv_lib.images import LUMA, photograph


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


@pytest.mark.parametrize("bad", [0, -1, 2.5, "2", (2, 2, 2), 601])
def test_bad_downscale_names_the_argument(bad):
    with pytest.raises(ValueError, match="downscale"):
        photograph(downscale=bad)
