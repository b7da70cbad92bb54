import numpy as np
import pytest

from tconv_lib.metrics import iou, psnr


def test_iou_counts_overlap_over_union():
    a = np.array([[1, 1, 0, 0]], float)
    b = np.array([[0, 1, 1, 0]], float)
    assert iou(a, b) == pytest.approx(1 / 3)
    assert iou(a, a) == 1.0 and iou(a, 1 - a) == 0.0
    assert iou(np.zeros(3), np.zeros(3)) == 1.0
    assert iou([0.6, 0.4], [1, 0]) == 1.0 and iou([0.6, 0.4], [1, 0], threshold=0.7) == 0.0


def test_psnr_in_decibels():
    target = np.zeros((4, 4))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert psnr(target + 0.01, target) == pytest.approx(40.0)
    assert psnr(target, target) == float("inf")


@pytest.mark.parametrize("metric", [iou, psnr])
def test_shapes_must_match(metric):
    with pytest.raises(ValueError, match="same shape"):
        metric(np.zeros(3), np.zeros(4))
