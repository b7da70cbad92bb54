import numpy as np
import pytest

from tconv_lib import datasets
from tconv_lib.images import photograph


def test_shapes_are_reproducible_binary_masks_on_brighter_shapes():
    images, masks = datasets.shapes(20, size=24, seed=3)
    assert images.shape == masks.shape == (20, 24, 24, 1) and images.dtype == masks.dtype == np.float32
    assert set(np.unique(masks)) == {0.0, 1.0} and masks.reshape(20, -1).max(axis=1).min() == 1.0
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert images[masks == 1].mean() > images[masks == 0].mean() + 0.1
    again, _ = datasets.shapes(20, size=24, seed=3)
    other, _ = datasets.shapes(20, size=24, seed=4)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)


def test_superresolution_low_is_the_block_mean_of_high_from_the_right_split():
    low, high = datasets.superresolution_pairs(5, patch=8, factor=2, split="test", seed=0)
    assert low.shape == (5, 4, 4, 1) and high.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(low, high.reshape(5, 4, 2, 4, 2, 1).mean(axis=(2, 4)), rtol=1e-6)
    photo = photograph(grayscale=True)[:, :, 0]
    cut = photo.shape[0] * 2 // 3
    windows = np.lib.stride_tricks.sliding_window_view(photo[cut:], (8, 8))
    def in_bottom_third(patch):
        return np.any(np.all(windows == patch, axis=(2, 3)))

    assert all(in_bottom_third(patch) for patch in high[..., 0])
    # The check can fail: training patches come from the top two thirds.
    _, train = datasets.superresolution_pairs(5, patch=8, factor=2, split="train", seed=0)
    assert not any(in_bottom_third(patch) for patch in train[..., 0])


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="factor"):
        datasets.superresolution_pairs(2, patch=9, factor=2)
    with pytest.raises(ValueError, match="split"):
        datasets.superresolution_pairs(2, split="valid")
    with pytest.raises(ValueError, match="size"):
        datasets.shapes(2, size=4)
