"""Training data the course makes itself: synthetic shapes with masks, and super-resolution pairs.

Nothing is downloaded: the shapes are drawn with NumPy, the super-resolution pairs are cut
from the sample photograph (``tconv_lib.images``). Same seed, same data.
"""
from __future__ import annotations

import numpy as np

from . import validation
from .images import block_mean, photograph


def shapes(n: int, size: int = 32, *, seed: int = 0, noise: float = 0.15):
    """``n`` grayscale images of discs and rectangles on a textured background, with their masks.

    Returns ``(images, masks)``, both float32 (n, size, size, 1): images in [0, 1], masks 1
    inside a shape and 0 outside. Each image holds one to three shapes; shapes and background
    have random brightness (shapes brighter on average) plus Gaussian noise, so brightness
    alone does not separate them.
    """
    n, size = validation.integer(n, "n"), validation.integer(size, "size", minimum=8)
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    masks = np.zeros((n, size, size), bool)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(0.15, 0.85, 2) * size
            ry, rx = rng.uniform(0.08, 0.22, 2) * size
            if rng.random() < 0.5:
                masks[i] |= ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1
            else:
                masks[i] |= (np.abs(rows - cy) <= ry) & (np.abs(cols - cx) <= rx)
    background = rng.uniform(0.1, 0.5, (n, 1, 1))
    foreground = background + rng.uniform(0.2, 0.5, (n, 1, 1))
    images = np.where(masks, foreground, background) + rng.normal(0, noise, masks.shape)
    return (np.clip(images, 0, 1)[..., None].astype(np.float32), masks[..., None].astype(np.float32))


def superresolution_pairs(n: int, patch: int = 32, factor: int = 2, *, split: str = "train", seed: int = 0):
    """``(low, high)`` patches of the grayscale sample photograph for learning to upsample.

    high: float32 (n, patch, patch, 1) random crops; low: (n, patch // factor, patch // factor, 1),
    each ``factor x factor`` block of ``high`` averaged. ``split="train"`` crops from the top
    two thirds of the photograph, ``"test"`` from the bottom third, so they never overlap.
    """
    n = validation.integer(n, "n")
    factor = validation.integer(factor, "factor")
    patch = validation.integer(patch, "patch")
    if patch % factor:
        raise ValueError(f"patch ({patch}) must be a multiple of factor ({factor})")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    image = photograph(grayscale=True)[:, :, 0]
    cut = image.shape[0] * 2 // 3
    region = image[:cut] if split == "train" else image[cut:]
    rng = np.random.default_rng(seed)
    top = rng.integers(0, region.shape[0] - patch + 1, n)
    left = rng.integers(0, region.shape[1] - patch + 1, n)
    view = np.lib.stride_tricks.sliding_window_view(region, (patch, patch))
    high = view[top, left][..., None].astype(np.float32)
    return block_mean(high, factor), high
