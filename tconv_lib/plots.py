"""Figure helpers shared by the book's chapters and widgets (matplotlib only)."""
from __future__ import annotations

import textwrap

import numpy as np

from . import validation
from .transpose import conv2d_transpose


def number_grid(ax, values, *, title: str = "", cmap: str = "Blues", fmt: str = "{:g}",
                vmin=None, vmax=None, highlight=None):
    """Draw a 2-D array as a grid of coloured cells with its numbers written in.

    values: (H, W). highlight: optional boolean (H, W) mask of cells to outline in red.
    vmin, vmax: the colour scale's ends (default: the smallest and largest value). Returns ``ax``.
    """
    values = validation.array(values, "values", 2, "(H, W)")
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    low = np.nanmin(values) if vmin is None else vmin
    span = ((np.nanmax(values) if vmax is None else vmax) - low) or 1.0
    for (r, c), v in np.ndenumerate(values):
        # White text on the darkest 40% of the colour scale, as the static figures do.
        dark = (v - low) / span > 0.6
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


def number_grids(arrays, titles=(), *, highlights=None, cell: float = 0.42, **grid_kw):
    """A row of ``number_grid`` panels, each as wide as its number of columns, so cells line up in size.

    arrays: 2-D arrays; titles, highlights: one per array (or fewer). ``grid_kw`` goes to
    ``number_grid`` (``cmap``, ``fmt``, ``vmin``, ``vmax``). Returns the figure.
    """
    import matplotlib.pyplot as plt

    arrays = [np.asarray(a) for a in arrays]
    if not arrays or any(a.ndim != 2 for a in arrays):
        raise ValueError("arrays must be a non-empty sequence of 2-D arrays")
    titles = list(titles) + [""] * (len(arrays) - len(titles))
    highlights = list(highlights or []) + [None] * (len(arrays) - len(highlights or []))
    widths = [a.shape[1] for a in arrays]
    rows = max(a.shape[0] for a in arrays)
    fig, axes = plt.subplots(1, len(arrays), squeeze=False, gridspec_kw={"width_ratios": widths},
                             figsize=(cell * (sum(widths) + 1.2 * len(arrays)), cell * rows + 0.8))
    for ax, values, title, mask in zip(axes[0], arrays, titles, highlights):
        # A title wider than its panel would run into the next one: wrap it.
        title = textwrap.fill(title, max(10, 5 * values.shape[1]))
        number_grid(ax, values, title=title, highlight=mask, **grid_kw)
    fig.tight_layout()
    return fig


def image_grid(images, titles=(), *, ncols=None, size: float = 2.4, cmap: str = "gray"):
    """Images side by side (``ncols`` per row), pixels drawn as squares with no smoothing.

    images: (H, W), (H, W, 1) or (H, W, 3) arrays with values in [0, 1]. Returns the figure.
    """
    import matplotlib.pyplot as plt

    images = [np.asarray(im) for im in images]
    if not images or any(im.ndim not in (2, 3) or (im.ndim == 3 and im.shape[2] not in (1, 3))
                         for im in images):
        raise ValueError("images must be a non-empty sequence of (H, W), (H, W, 1) or (H, W, 3) arrays, "
                         f"got shapes {[im.shape for im in images]}")
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    titles = list(titles) + [""] * (len(images) - len(titles))
    aspect = max(im.shape[0] / im.shape[1] for im in images)  # panel height per unit of width
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(size * ncols, (size * aspect + 0.35) * nrows))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles):
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        ax.imshow(np.clip(image, 0, 1), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def scatter_partials(x, kernel, strides=1, padding="valid"):
    """Each input pixel's own contribution to a one-channel transposed convolution.

    x: (H, W); kernel: (kh, kw). Returns ``(partials, footprints)``, both (H, W, H_out, W_out):
    ``partials[r, c]`` is ``conv2d_transpose`` of ``x`` with every pixel but (r, c) set to zero
    (a copy of the kernel scaled by ``x[r, c]``), ``footprints[r, c]`` the boolean mask of the
    output cells that copy covers. The partials add up to the transposed convolution of ``x``.
    """
    x = validation.array(x, "x", 2, "(H, W)")
    kernel = validation.array(kernel, "kernel", 2, "(kh, kw)")
    h, w = x.shape
    one_hot = np.eye(h * w).reshape(h * w, h, w, 1)  # one image per input pixel, in a batch
    options = dict(strides=strides, padding=padding)
    partials = conv2d_transpose(one_hot * x[None, :, :, None], kernel[:, :, None, None], **options)
    covered = conv2d_transpose(one_hot, np.ones(kernel.shape + (1, 1)), **options) > 0
    out_shape = partials.shape[1:3]
    return partials.reshape(h, w, *out_shape), covered.reshape(h, w, *out_shape)


def feature_map_sizes(ax, layers, *, title: str = ""):
    """An encoder-decoder drawn as blocks: height = spatial size, width = channels (log scale).

    layers: sequence of ``(name, (H, W, C))``. Blocks sit on a common centre line, so the
    narrowing and widening of the network is visible at a glance.
    """
    from matplotlib.patches import Rectangle

    x0 = 0.0
    top = max(shape[0] for _, shape in layers)
    for name, (h, w, c) in layers:
        width = 0.4 + 0.25 * np.log2(c)
        ax.add_patch(Rectangle((x0, -h / 2), width, h, facecolor="#9ecae1", edgecolor="#08519c"))
        ax.text(x0 + width / 2, h / 2 + top * 0.04, f"{h}x{w}\nx{c}", ha="center", va="bottom", fontsize=8)
        ax.text(x0 + width / 2, -top / 2 - top * 0.06, name, ha="center", va="top", fontsize=8, rotation=40)
        x0 += width + 0.5
    ax.set_xlim(-0.3, x0)
    ax.set_ylim(-top * 0.95, top * 0.8)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax


def scatter_steps(x, kernel, strides=1, padding="valid", *, fmt: str = "{:g}"):
    """The scatter-add drawn step by step: each input pixel's scaled kernel copy, then their sum.

    x: (H, W); kernel: (kh, kw) (one channel). One panel per input pixel, its footprint in
    red, and a last panel with the sum (the transposed convolution). Returns the figure.
    """
    partials, footprints = scatter_partials(x, kernel, strides, padding)
    x = np.asarray(x)
    panels = [partials[r, c] for r, c in np.ndindex(x.shape)] + [partials.sum(axis=(0, 1))]
    titles = [f"pixel ({r}, {c}): {fmt.format(x[r, c])} \u00d7 W" for r, c in np.ndindex(x.shape)] + ["sum"]
    masks = [footprints[r, c] for r, c in np.ndindex(x.shape)] + [None]
    return number_grids(panels, titles, highlights=masks, fmt=fmt)
