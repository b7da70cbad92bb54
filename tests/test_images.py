"""The sample photographs: shape, range, grayscale, bundled files and block-mean downscaling."""
import glob
import os
import re

import numpy as np
import pytest

from tconv_lib.images import LUMA, SKIMAGE_PHOTOGRAPHS, block_mean, photograph, skimage_photograph


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


@pytest.mark.parametrize("name", sorted(SKIMAGE_PHOTOGRAPHS))
def test_skimage_photographs_are_bundled_files_with_the_documented_size(name):
    import skimage.data

    bundled = glob.glob(os.path.join(os.path.dirname(skimage.data.__file__), f"{name}.*"))
    assert bundled, f"{name} is not a file inside the installed scikit-image"  # nothing to download
    image = skimage_photograph(name)
    h, w, channels = re.search(r"(\d+) x (\d+), (RGB|grayscale)", SKIMAGE_PHOTOGRAPHS[name]).groups()
    assert image.shape == (int(h), int(w), 3 if channels == "RGB" else 1) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.1


def test_skimage_photograph_grayscale_and_downscale():
    colour, gray = skimage_photograph("coffee"), skimage_photograph("coffee", grayscale=True, downscale=4)
    assert gray.shape == (100, 150, 1)
    np.testing.assert_allclose(gray, block_mean(np.clip(colour @ np.asarray(LUMA), 0, 1)[..., None], 4),
                               atol=1e-6)
    assert skimage_photograph("camera", grayscale=True).shape == (512, 512, 1)  # already gray
    skimage_photograph("camera")[:] = 0                                        # a copy, not the cache
    assert skimage_photograph("camera").max() > 0.9


@pytest.mark.parametrize("name", ["eagle", "brain", "photograph"])  # eagle and brain need pooch
def test_unbundled_or_unknown_names_are_rejected(name):
    with pytest.raises(ValueError, match="name must be one of"):
        skimage_photograph(name)
