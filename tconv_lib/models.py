"""Small Keras networks for the applications chapter, each with a choice of upsampling layer.

``upsampling="transpose"`` upsamples with ``Conv2DTranspose`` (kernel 3, stride 2: uneven
overlap), ``upsampling="resize"`` with ``UpSampling2D`` followed by a ``Conv2D`` (kernel 3).
Both have the same number of parameters, so the comparison is fair.
"""
from __future__ import annotations

from . import keras_ref

UPSAMPLINGS = ("transpose", "resize")


def upsample(x, filters: int, upsampling: str, name: str):
    """Double the height and width of the Keras tensor ``x`` (N, H, W, C) -> (N, 2H, 2W, filters), ReLU."""
    layers = keras_ref.keras().layers
    if upsampling == "transpose":
        return layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu", name=name)(x)
    if upsampling == "resize":
        x = layers.UpSampling2D(2, name=f"{name}_resize")(x)
        return layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)
    raise ValueError(f"upsampling must be one of {UPSAMPLINGS}, got {upsampling!r}")


def segmentation_net(upsampling: str, size: int = 32, width: int = 16):
    """Encoder-decoder: (N, size, size, 1) image -> (N, size, size, 1) probability of "inside a shape".

    Two stride-2 convolutions take the image down to size/4, two upsampling steps bring it back;
    skip connections add the encoder's features at each resolution (as in U-Net, but added).
    """
    if size < 4 or size % 4:
        # Otherwise the decoder's maps come out one pixel off the encoder's and cannot be added.
        raise ValueError(f"size must be a positive multiple of 4 (two stride-2 steps), got {size!r}")
    keras = keras_ref.keras()
    layers = keras.layers
    image = keras.Input((size, size, 1))
    full = layers.Conv2D(width, 3, padding="same", activation="relu")(image)
    half = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(full)
    quarter = layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu")(half)
    up_half = layers.Add()([upsample(quarter, width, upsampling, "up1"), half])
    up_full = layers.Add()([upsample(up_half, width, upsampling, "up2"), full])
    mask = layers.Conv2D(1, 1, activation="sigmoid")(up_full)
    return keras.Model(image, mask, name=f"segmentation_{upsampling}")


def superresolution_net(upsampling: str, width: int = 32):
    """(N, H, W, 1) low-resolution image -> (N, 2H, 2W, 1): features, one 2x upsampling, a 3x3 output conv."""
    keras = keras_ref.keras()
    layers = keras.layers
    low = keras.Input((None, None, 1))
    x = layers.Conv2D(width, 5, padding="same", activation="relu")(low)
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    x = upsample(x, width, upsampling, "up")
    high = layers.Conv2D(1, 3, padding="same")(x)
    return keras.Model(low, high, name=f"superresolution_{upsampling}")
