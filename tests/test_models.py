import numpy as np
import pytest

from tconv_lib import models


@pytest.mark.parametrize("upsampling", models.UPSAMPLINGS)
def test_networks_have_the_documented_shapes(upsampling):
    seg = models.segmentation_net(upsampling, size=16, width=4)
    out = np.asarray(seg(np.zeros((2, 16, 16, 1), np.float32)))
    assert out.shape == (2, 16, 16, 1) and np.all((0 <= out) & (out <= 1))
    sr = models.superresolution_net(upsampling, width=4)
    assert tuple(sr(np.zeros((1, 5, 7, 1), np.float32)).shape) == (1, 10, 14, 1)


def test_both_upsamplings_have_the_same_parameter_count():
    assert (models.segmentation_net("transpose").count_params()
            == models.segmentation_net("resize").count_params())
    assert (models.superresolution_net("transpose").count_params()
            == models.superresolution_net("resize").count_params())


def test_unknown_upsampling_is_rejected():
    with pytest.raises(ValueError, match="upsampling must be one of"):
        models.superresolution_net("bilinear")
    with pytest.raises(ValueError, match="upsampling must be one of"):
        models.segmentation_net("bilinear", size=8, width=2)


@pytest.mark.parametrize("size", [0, 2, 30])
def test_segmentation_size_must_survive_two_halvings(size):
    with pytest.raises(ValueError, match="size must be a positive multiple of 4"):
        models.segmentation_net("transpose", size=size)
