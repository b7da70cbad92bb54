import numpy as np
import pytest

from tconv_lib.metrics import phase_means, psnr


def test_psnr_in_decibels():
    target = np.zeros((4, 4))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert psnr(target + 0.01, target) == pytest.approx(40.0)
    assert psnr(target, target) == float("inf")


def test_psnr_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros(3), np.zeros(4))


def test_phase_means_find_a_planted_checkerboard_inside_the_margin():
    rng = np.random.default_rng(0)
    pattern = rng.normal(size=(3, 3, 2))                  # a period-3 pattern in 2 channels
    y = np.tile(pattern, (6, 5, 1))[None].repeat(2, axis=0)  # (2, 18, 15, 2)
    y[:, :3] = 100.0                                      # a border that the margin must drop
    means = phase_means(y, 3, margin=3)
    assert means.shape == (3, 3, 2)
    np.testing.assert_allclose(means, pattern)            # margin 3 keeps the phases aligned
    flat = phase_means(np.full((1, 10, 10, 1), 0.5), 2)
    assert np.ptp(flat) == 0 and flat[0, 0, 0] == 0.5
    # Without the margin the border leaks in: the check can fail.
    assert not np.allclose(phase_means(y, 3), pattern)


@pytest.mark.parametrize("y, period, margin, match", [
    (np.ones((4, 4, 1)), 2, 0, "y must have 4"), (np.ones((1, 4, 4, 1)), 0, 0, "period"),
    (np.ones((1, 4, 4, 1)), 2, -1, "margin"), (np.ones((1, 6, 6, 1)), 2, 3, "whole period")])
def test_phase_means_bad_arguments_name_the_argument(y, period, margin, match):
    with pytest.raises(ValueError, match=match):
        phase_means(y, period, margin)
