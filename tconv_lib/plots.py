"""Figure helpers shared by the book's chapters and widgets (matplotlib only)."""
from __future__ import annotations

import numpy as np


def number_grid(ax, values, *, title: str = "", cmap: str = "Blues", fmt: str = "{:g}",
                vmin=None, vmax=None, highlight=None):
    """Draw a 2-D array as a grid of coloured cells with its numbers written in.

    values: (H, W). highlight: optional boolean (H, W) mask of cells to outline in red.
    """
    values = np.asarray(values)
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    span = (np.nanmax(values) - np.nanmin(values)) or 1.0
    for (r, c), v in np.ndenumerate(values):
        dark = vmax is None and (v - np.nanmin(values)) / span > 0.6
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=9,
                color="white" if dark else "black")
    if highlight is not None:
        for r, c in np.argwhere(highlight):
            ax.add_patch(_outline(r, c))
    ax.set_xticks(np.arange(values.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(values.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="grey", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)
    return ax


def _outline(r, c):
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
