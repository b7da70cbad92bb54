"""Scores for the applications chapter: intersection over union and peak signal-to-noise ratio."""
from __future__ import annotations

import numpy as np


def iou(predicted, target, threshold: float = 0.5) -> float:
    """Intersection over union of two masks (any equal shapes), each thresholded at ``threshold``.

    1.0 when both masks are empty (nothing to find, nothing found).
    """
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape:
        raise ValueError(f"predicted and target must have the same shape, got {predicted.shape} and {target.shape}")
    p, t = predicted > threshold, target > threshold
    union = np.logical_or(p, t).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, t).sum() / union)


def psnr(predicted, target, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak**2 / mean squared error)``; inf when equal."""
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    if predicted.shape != target.shape:
        raise ValueError(f"predicted and target must have the same shape, got {predicted.shape} and {target.shape}")
    mse = np.mean((predicted - target) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))
