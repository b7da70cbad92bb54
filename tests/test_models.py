import numpy as np
import pytest

from tconv_lib import bilinear_kernel, keras_ref, models
from tconv_lib.metrics import phase_means


def _untrained(upsampling, width=2):
    keras_ref.keras().utils.set_random_seed(0)
    return models.superresolution_unet(upsampling, width=width)


@pytest.mark.parametrize("upsampling", models.UPSAMPLINGS)
def test_unet_doubles_the_size_and_starts_as_bilinear_interpolation(upsampling):
    net = _untrained(upsampling)
    x = np.random.default_rng(0).random((2, 8, 12, 1)).astype(np.float32)
    out = np.asarray(net(x))
    assert out.shape == (2, 16, 24, 1)
    # The last layer starts at zero, so the untrained network is bilinear upsampling.
    np.testing.assert_allclose(out, keras_ref.upsampling2d(x, 2, interpolation="bilinear"), atol=1e-6)


def test_parameter_counts_match_where_the_docstring_says():
    width = 8
    counts = {u: _untrained(u, width).count_params() for u in models.UPSAMPLINGS}
    assert counts["transpose3"] == counts["resize"]
    assert counts["transpose4"] == counts["bilinear"]
    # A sub-pixel layer has 4 biases per channel where a transposed convolution has one:
    # 3 more per channel in each of the three upsamplings (4w, 2w and w channels).
    assert counts["subpixel"] - counts["transpose4"] == 3 * (4 + 2 + 1) * width


def _last_features_spread(upsampling):
    """Spread of the 2x2 phase means, per channel, of the upsampled features the last layer reads."""
    keras = keras_ref.keras()
    net = _untrained(upsampling)
    features = keras.Model(net.input, net.get_layer("detail").input)
    y = np.asarray(features(np.full((1, 40, 40, 1), 0.5, np.float32)))
    return np.ptp(phase_means(y, 2, margin=24), axis=(0, 1))


@pytest.mark.parametrize("upsampling, flat", [("transpose3", False), ("transpose4", False), ("resize", True),
                                               ("subpixel", True), ("bilinear", True)])
def test_which_upsamplings_start_free_of_a_checkerboard(upsampling, flat):
    spread = _last_features_spread(upsampling)
    assert np.all(spread < 1e-6) if flat else np.any(spread > 1e-3)


def test_the_bilinear_kernel_is_bilinear_interpolation_away_from_the_borders():
    keras = keras_ref.keras()
    x = np.random.default_rng(1).random((1, 6, 7, 3)).astype(np.float32)
    layer = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False)
    layer.build(x.shape)
    layer.set_weights([bilinear_kernel(2, 3)])
    interior = (slice(None), slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(np.asarray(layer(x))[interior],
                               keras_ref.upsampling2d(x, 2, interpolation="bilinear")[interior], atol=1e-6)
    kernel = bilinear_kernel(2, 3)
    tent = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(kernel[:, :, 1, 1], np.outer(tent, tent))
    assert np.all(kernel[:, :, 0, 1] == 0)  # channels do not mix


def test_unknown_upsampling_is_rejected():
    with pytest.raises(ValueError, match="upsampling must be one of"):
        models.superresolution_unet("nearest")
