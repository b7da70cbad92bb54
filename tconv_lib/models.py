"""A small U-Net-style super-resolution network for the applications chapter, with a choice of
upsampling layer.

Every upsampling doubles the height and width and keeps the number of channels, so that the
five choices of ``UPSAMPLINGS`` drop into the same network unchanged:

- ``"transpose3"``: ``Conv2DTranspose`` 3x3, stride 2 (uneven overlap), random initialisation;
- ``"transpose4"``: ``Conv2DTranspose`` 4x4, stride 2 (even overlap), random initialisation;
- ``"resize"``: ``UpSampling2D`` (nearest) then ``Conv2D`` 3x3;
- ``"subpixel"``: ``Conv2D`` 2x2 to 4 times the channels, then depth-to-space, ICNR
  initialisation (``tconv_lib.subpixel.icnr``). Each output pixel reads a 2x2 window of inputs
  through weights of its own, as in a 4x4, stride-2 transposed convolution: it has the weights
  of ``"transpose4"``, and 4 biases per channel instead of 1;
- ``"bilinear"``: ``Conv2DTranspose`` 4x4, stride 2, initialised as bilinear interpolation
  channel by channel, as FCN initialises its upsampling layers.

``"transpose3"`` and ``"resize"`` have the same parameters; so do ``"transpose4"`` and ``"bilinear"``.
All upsamplings are linear (no activation), like U-Net's up-convolutions and FCN's upsampling.
"""
from __future__ import annotations

import numpy as np

from . import keras_ref
from .subpixel import icnr
from .upsample import bilinear_kernel

UPSAMPLINGS = {
    "transpose3": "Conv2DTranspose 3x3, stride 2",
    "transpose4": "Conv2DTranspose 4x4, stride 2",
    "resize": "UpSampling2D + Conv2D 3x3",
    "subpixel": "sub-pixel Conv2D 2x2, ICNR",
    "bilinear": "Conv2DTranspose 4x4, bilinear init",
}


def _icnr_initializer(scale: int):
    """Keras initializer for a sub-pixel ``Conv2D`` kernel (k, k, C_in, C * scale**2): Glorot-uniform
    for one (k, k, C_in, C) kernel, copied to every output phase."""
    keras = keras_ref.keras()
    glorot = keras.initializers.GlorotUniform()

    def initialize(shape, dtype=None):
        kh, kw, c_in, c_out = shape
        base = np.asarray(glorot((kh, kw, c_in, c_out // scale ** 2)))
        return keras.ops.convert_to_tensor(icnr(base, scale), dtype=dtype)

    return initialize


def upsample(x, upsampling: str, name: str):
    """Double the height and width of the Keras tensor ``x``: (N, H, W, C) -> (N, 2H, 2W, C).

    Linear: the convolutions after it add the non-linearity. ``name`` names the layer that
    holds the upsampling's weights."""
    keras = keras_ref.keras()
    layers = keras.layers
    channels = x.shape[-1]
    if upsampling in ("transpose3", "transpose4"):
        return layers.Conv2DTranspose(channels, int(upsampling[-1]), strides=2, padding="same", name=name)(x)
    if upsampling == "bilinear":
        def initialize(shape, dtype=None):
            return keras.ops.convert_to_tensor(bilinear_kernel(2, shape[2]), dtype=dtype)
        return layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                      kernel_initializer=initialize, name=name)(x)
    if upsampling == "resize":
        x = layers.UpSampling2D(2, name=f"{name}_resize")(x)
        return layers.Conv2D(channels, 3, padding="same", name=name)(x)
    if upsampling == "subpixel":
        x = layers.Conv2D(4 * channels, 2, padding="same", kernel_initializer=_icnr_initializer(2),
                          name=name)(x)
        return layers.Lambda(lambda t: keras.ops.depth_to_space(t, 2), name=f"{name}_depth_to_space")(x)
    raise ValueError(f"upsampling must be one of {list(UPSAMPLINGS)}, got {upsampling!r}")


def superresolution_unet(upsampling: str, width: int = 8):
    """U-Net-style 2x super-resolution: (N, H, W, 1) -> (N, 2H, 2W, 1), H and W multiples of 4.

    Encoder: 3x3 convolutions at H (``width`` channels), H/2 (2 ``width``) and H/4 (4 ``width``),
    the last two with stride 2. Decoder: upsample H/4 -> H/2 -> H, each time concatenating the
    encoder's map of that size (U-Net's skips) and a 3x3 convolution, then a last upsampling
    H -> 2H and a 3x3 convolution to one channel. That output is added to the bilinear
    upsampling of the input, so the network learns only the detail bilinear misses.
    """
    keras = keras_ref.keras()
    layers = keras.layers
    low = keras.Input((None, None, 1))
    full = layers.Conv2D(width, 3, padding="same", activation="relu", name="enc_full")(low)
    half = layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu", name="enc_half")(full)
    quarter = layers.Conv2D(4 * width, 3, strides=2, padding="same", activation="relu", name="enc_quarter")(half)
    x = layers.Concatenate()([upsample(quarter, upsampling, "up_half"), half])
    x = layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="dec_half")(x)
    x = layers.Concatenate()([upsample(x, upsampling, "up_full"), full])
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="dec_full")(x)
    # Zero: every variant starts as bilinear interpolation exactly, and training adds the detail
    # (a random start adds noise that short training spends its steps removing).
    detail = layers.Conv2D(1, 3, padding="same", kernel_initializer="zeros",
                           name="detail")(upsample(x, upsampling, "up_double"))
    smooth = layers.UpSampling2D(2, interpolation="bilinear", name="bilinear_input")(low)
    return keras.Model(low, layers.Add()([smooth, detail]), name=f"unet_{upsampling}")
