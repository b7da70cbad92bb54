"""Training data for the applications chapter: super-resolution pairs cut from real photographs.

Nothing is downloaded: the photographs ship inside installed packages (``tconv_lib.images``).
Same seed, same data.
"""
from __future__ import annotations

import numpy as np

from . import validation
from .images import block_mean


def superresolution_pairs(photographs, n: int, patch: int = 64, factor: int = 2, *, seed: int = 0):
    """``(low, high)``: ``n`` random crops of the photographs and their block-averaged versions.

    photographs: a sequence of (H, W, C) arrays (one C for all), each at least ``patch`` pixels high and wide;
    crop ``i`` comes from photograph ``i % len(photographs)``, so each gives an equal share.
    high: float32 (n, patch, patch, C); low: (n, patch // factor, patch // factor, C), each
    ``factor x factor`` block of ``high`` averaged (what a camera with ``factor`` times fewer
    pixels would have recorded).
    """
    n = validation.integer(n, "n")
    factor = validation.integer(factor, "factor")
    patch = validation.integer(patch, "patch")
    if patch % factor:
        raise ValueError(f"patch ({patch}) must be a multiple of factor ({factor})")
    photographs = [np.asarray(p) for p in photographs]
    if (not photographs or any(p.ndim != 3 or min(p.shape[:2]) < patch for p in photographs)
            or len({p.shape[2] for p in photographs}) > 1):
        raise ValueError(f"photographs must be a non-empty sequence of (H, W, C) arrays with H, W >= "
                         f"patch ({patch}) and one C, got shapes {[p.shape for p in photographs]}")
    rng = np.random.default_rng(seed)
    source = np.arange(n) % len(photographs)
    high = np.empty((n, patch, patch, photographs[0].shape[2]), np.float32)
    for i, photo in enumerate(photographs):
        chosen = np.flatnonzero(source == i)
        top = rng.integers(0, photo.shape[0] - patch + 1, chosen.size)
        left = rng.integers(0, photo.shape[1] - patch + 1, chosen.size)
        view = np.lib.stride_tricks.sliding_window_view(photo, (patch, patch), axis=(0, 1))
        high[chosen] = view[top, left].transpose(0, 2, 3, 1)  # (k, C, patch, patch) -> (k, patch, patch, C)
    return block_mean(high, factor), high
