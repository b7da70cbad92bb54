import numpy as np
import pytest

from tconv_lib import datasets


def _photographs():
    rng = np.random.default_rng(0)
    return [rng.random((20, 30, 1), np.float32), rng.random((25, 18, 1), np.float32)]


def _found_in(patch, photo):
    windows = np.lib.stride_tricks.sliding_window_view(photo[..., 0], patch.shape[:2])
    return bool(np.any(np.all(windows == patch[..., 0], axis=(2, 3))))


def test_crops_come_from_their_photographs_in_turn_and_low_is_their_block_mean():
    photos = _photographs()
    low, high = datasets.superresolution_pairs(photos, 7, patch=8, factor=2, seed=0)
    assert low.shape == (7, 4, 4, 1) and high.shape == (7, 8, 8, 1) and high.dtype == np.float32
    np.testing.assert_allclose(low, high.reshape(7, 4, 2, 4, 2, 1).mean(axis=(2, 4)), rtol=1e-6)
    assert all(_found_in(high[i], photos[i % 2]) for i in range(7))
    # Random photographs share no 8 x 8 window: the check can fail.
    assert not any(_found_in(high[i], photos[1 - i % 2]) for i in range(7))


def test_same_seed_same_crops():
    photos = _photographs()
    first, again, other = (datasets.superresolution_pairs(photos, 6, patch=8, seed=s)[1] for s in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("kwargs, match", [
    (dict(patch=9, factor=2), "factor"), (dict(patch=20), "photographs"), (dict(n=0), "n"),
    (dict(photographs=[np.ones((20, 20, 1)), np.ones((20, 20, 3))]), "one C"),
    (dict(photographs=[np.ones((20, 20))]), "photographs"), (dict(photographs=[]), "photographs")])
def test_bad_arguments_name_the_argument(kwargs, match):
    arguments = dict(photographs=_photographs(), n=2, patch=8) | kwargs
    with pytest.raises(ValueError, match=match):
        datasets.superresolution_pairs(**arguments)
