"""Scores for the applications chapter: peak signal-to-noise ratio, and the phase means that
measure a checkerboard."""
from __future__ import annotations

import numpy as np

from . import validation


def psnr(predicted, target, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak**2 / mean squared error)``; inf when equal."""
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    if predicted.shape != target.shape:
        raise ValueError(f"predicted and target must have the same shape, got {predicted.shape} and {target.shape}")
    mse = np.mean((predicted - target) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))


def phase_means(y, period: int, margin: int = 0) -> np.ndarray:
    """Mean of ``y`` over each of the ``period x period`` pixel phases, per channel: (period, period, C).

    y: (N, H, W, C). ``margin`` rows and columns are dropped on every side first (borders
    differ for reasons of their own), then whole periods from the top left: phase ``(i, j)``
    is every pixel ``(margin + i + period * a, margin + j + period * b)``, over the batch.
    A layer that treats all pixels alike gives equal means on a flat input; their spread
    (``np.ptp`` over the first two axes) measures a checkerboard of that period.
    """
    y = validation.array(y, "y", 4, "(N, H, W, C)")
    p = validation.integer(period, "period")
    m = validation.integer(margin, "margin", minimum=0)
    n, h, w, c = y.shape
    rows, cols = (h - 2 * m) // p * p, (w - 2 * m) // p * p
    if rows < p or cols < p:
        raise ValueError(f"y ({h} x {w}) must hold at least one whole period ({p}) inside the margin ({m})")
    interior = y[:, m: m + rows, m: m + cols]
    return interior.reshape(n, rows // p, p, cols // p, p, c).mean(axis=(0, 1, 3))
