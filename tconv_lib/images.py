"""Real photographs for the book, shipped inside installed packages (nothing is downloaded),
and the block averaging that makes smaller versions of them.

``photograph`` is matplotlib's sample ``grace_hopper.jpg`` (600 x 512 pixels, RGB), the
portrait of the computer scientist Grace Hopper that matplotlib's own examples use.
``skimage_photograph`` loads one of scikit-image's sample photographs (``skimage.data``) that
ship inside its wheel; its other samples would need the optional downloader pooch.
"""
from __future__ import annotations

import functools

import numpy as np

from . import validation

SAMPLE = "grace_hopper.jpg"

#: scikit-image's bundled sample photographs (files inside the installed package): name -> subject.
SKIMAGE_PHOTOGRAPHS = {
    "astronaut": "the astronaut Eileen Collins, 512 x 512, RGB",
    "camera": "a man with a camera, 512 x 512, grayscale",
    "chelsea": "Chelsea the cat, 300 x 451, RGB",
    "coffee": "a cup of coffee, 400 x 600, RGB",
    "rocket": "a rocket on its launch pad, 427 x 640, RGB",
}

#: ITU-R BT.601 luma weights, the ones ``tf.image.rgb_to_grayscale`` uses.
LUMA = (0.2989, 0.5870, 0.1140)


@functools.cache
def _sample_uint8() -> np.ndarray:
    import matplotlib.cbook
    import matplotlib.image

    pixels = matplotlib.image.imread(matplotlib.cbook.get_sample_data(SAMPLE, asfileobj=False))
    pixels.setflags(write=False)  # cached: callers get copies
    return pixels


def photograph(*, grayscale: bool = False, downscale: int = 1) -> np.ndarray:
    """The sample photograph as float32 in [0, 1], channels last.

    Returns (H, W, 3), or (H, W, 1) with ``grayscale=True`` (the luma ``LUMA @ rgb``). With
    ``downscale=f`` each f x f block of pixels is averaged into one (rows and columns that do
    not fill a whole block are dropped): ``H = 600 // f``, ``W = 512 // f``; a pair
    ``(fh, fw)`` averages fh x fw blocks.
    Add a batch axis (``[None]``) to feed it to a Keras layer.
    """
    return _prepare(_sample_uint8(), grayscale, downscale)


@functools.cache
def _skimage_uint8(name: str) -> np.ndarray:
    import skimage.data

    pixels = getattr(skimage.data, name)()
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels[:, :, :3]
    pixels.setflags(write=False)  # cached: callers get copies
    return pixels


def skimage_photograph(name: str, *, grayscale: bool = False, downscale: int = 1) -> np.ndarray:
    """One of ``SKIMAGE_PHOTOGRAPHS`` as float32 in [0, 1], channels last.

    Returns (H, W, 3) for a colour photograph, (H, W, 1) for a grayscale one or with
    ``grayscale=True`` (the luma ``LUMA @ rgb``). ``downscale`` averages blocks as in ``photograph``.
    """
    if name not in SKIMAGE_PHOTOGRAPHS:
        raise ValueError(f"name must be one of {sorted(SKIMAGE_PHOTOGRAPHS)} (the photographs bundled "
                         f"with scikit-image), got {name!r}")
    return _prepare(_skimage_uint8(name), grayscale, downscale)


def _prepare(pixels: np.ndarray, grayscale: bool, downscale) -> np.ndarray:
    """uint8 (H, W, C) -> float32 in [0, 1], to luma when asked, block-averaged by ``downscale``."""
    fh, fw = validation.pair(downscale, "downscale")
    image = pixels.astype(np.float32) / np.float32(255)
    if grayscale and image.shape[2] == 3:
        image = image @ np.asarray(LUMA, dtype=np.float32)[:, None]
    h, w, _ = image.shape
    if fh > h or fw > w:
        raise ValueError(f"downscale must be at most ({h}, {w}) for a {h} x {w} photograph, "
                         f"got {downscale!r}")
    return np.clip(block_mean(image, (fh, fw)), 0.0, 1.0).astype(np.float32)


def block_mean(x, size) -> np.ndarray:
    """Each ``size`` block of pixels averaged into one (``AveragePooling2D(size)``, ``"valid"``).

    x: (..., H, W, C), any leading axes (a batch). size: an int or a pair ``(fh, fw)``.
    Returns (..., H // fh, W // fw, C); rows and columns that do not fill a whole block are dropped.
    """
    fh, fw = validation.pair(size, "size")
    x = np.asarray(x)
    if x.ndim < 3 or x.shape[-3] < fh or x.shape[-2] < fw:
        raise ValueError(f"x must be (..., H, W, C) with H >= {fh} and W >= {fw} (one whole block "
                         f"of size {size!r}), got shape {x.shape}")
    *batch, h, w, c = x.shape
    h, w = h // fh, w // fw
    return x[..., : h * fh, : w * fw, :].reshape(*batch, h, fh, w, fw, c).mean(axis=(-4, -2))
