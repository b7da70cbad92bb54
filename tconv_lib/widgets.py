"""Interactive figures of the course: live in a kernel, and static twins for the website.

Five figures, each in two forms that show the same numbers:

=====================  ==========================  ===========================================
figure                 live (ipywidgets 8)         static (HTML + inline JavaScript, no kernel)
=====================  ==========================  ===========================================
scatter-add steps      ``scatter_stepper``         ``scatter_stepper_html``
parameter explorer     ``parameter_explorer``      ``parameter_explorer_html``
matrix view            ``matrix_view``             ``matrix_view_html``
checkerboard lab       ``checkerboard_lab``        ``checkerboard_lab_html``
output_padding picker  ``output_padding_picker``   ``output_padding_picker_html``
=====================  ==========================  ===========================================

A live widget redraws a matplotlib figure (a PNG in a ``widgets.Image``) whenever one of its
controls changes. A static twin holds every state of a small grid of parameter values and a few
lines of JavaScript that draw the chosen state as tables of numbers, so a reader of the built
site can change the parameters without a kernel (and without loading anything from elsewhere).
Both forms draw the same ``Panel`` lists, made by the ``*_panels`` functions, and every number
in them is computed by tconv_lib.

The checkerboard lab lets the reader type the kernel's taps, which no grid of states can
cover. Its panels are affine in the taps (a transposed convolution is linear in its kernel), so
its static twin stores, for each state, the panels of the all-zero kernel and how much one unit
of each tap adds to each cell, both computed by tconv_lib from unit kernels; the JavaScript only
adds those up with the reader's taps as weights. Tests check the sums against tconv_lib.
"""
from __future__ import annotations

import dataclasses
import html
import io
import itertools
import json

import ipywidgets as widgets
import numpy as np
from IPython.display import HTML

from . import article, plots, validation
from .checkerboard import overlap_count, phase_sums, uneven_overlap
from .matrix import conv_matrix
from .shapes import (conv2d_output_shape, conv2d_transpose_crop, conv2d_transpose_output_shape,
                     conv_output_length, output_padding_for)
from .transpose import conv2d_transpose, zero_insertion_input

__all__ = [
    "Panel", "checkerboard_lab", "checkerboard_lab_html", "checkerboard_panels", "explorer_panels",
    "matrix_panels", "matrix_view", "matrix_view_html", "output_padding_panels", "output_padding_picker",
    "output_padding_picker_html", "parameter_explorer", "parameter_explorer_html", "scatter_panels",
    "scatter_stepper", "scatter_stepper_html",
]

@dataclasses.dataclass
class Panel:
    """One grid of numbers in a figure. values: (rows, cols); highlight: bool mask or None."""

    title: str
    values: np.ndarray
    highlight: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# What each figure shows: (text, panels) for one choice of its controls.

def scatter_panels(x, kernel, step: int, strides=1, padding="valid"):
    """The scatter-add after ``step`` input pixels (row-major order, 1 <= step <= H * W).

    x: (H, W); kernel: (kh, kw). Panels: the input (current pixel outlined), the kernel, the
    current pixel's scaled copy of the kernel (the cells it covers outlined) and the running sum.
    After the last step the running sum is ``conv2d_transpose(x, kernel)``.
    """
    x, kernel = np.asarray(x), np.asarray(kernel)
    partials, footprints = plots.scatter_partials(x, kernel, strides, padding)
    h, w = x.shape
    if not 1 <= step <= h * w:
        raise ValueError(f"step must be between 1 and {h * w} (the number of input pixels), got {step}")
    r, c = divmod(step - 1, w)
    current = np.zeros(x.shape, dtype=bool)
    current[r, c] = True
    running = partials.reshape(h * w, *partials.shape[2:])[:step].sum(axis=0)
    text = (f"Step {step} of {h * w}: input pixel ({r}, {c}) holds {x[r, c]:g}. It scales a copy of "
            f"the kernel, which lands on the outlined cells and is added to the running sum.")
    if step == h * w:
        text += " Every pixel is in: the running sum is the transposed convolution's output."
    return text, [
        Panel("input", x, current),
        Panel("kernel", kernel),
        Panel(f"{x[r, c]:g} \u00d7 kernel", partials[r, c], footprints[r, c]),
        Panel(f"running sum ({step} of {h * w})", running, footprints[r, c]),
    ]


def explorer_panels(input_size: int, kernel_size: int, strides: int, padding: str = "valid",
                    output_padding=None):
    """A square one-channel Conv2DTranspose: its output shape, what its stride-1 convolution
    sees, and how many kernel copies overlap on each output pixel.

    Panels: the zero-inserted and padded input (input pixels numbered 1, 2, ... in row-major
    order, see ``zero_insertion_input``) and the overlap counts (``overlap_count``), which have
    the output's shape. Combinations Keras rejects give the ValueError's message and no panels.
    """
    shape = (input_size, input_size)
    try:
        out_h, out_w = conv2d_transpose_output_shape(shape, kernel_size, strides, padding, output_padding)
        numbered = np.arange(1, input_size * input_size + 1).reshape(1, *shape, 1)
        seen = zero_insertion_input(numbered, kernel_size, strides, padding, output_padding)[0, :, :, 0]
        overlap = overlap_count(shape, kernel_size, strides, padding, output_padding)
    except ValueError as error:
        return f"Keras rejects this combination: {error}", []
    text = (f"Output: {out_h} \u00d7 {out_w}. The same result comes from a stride-1 convolution of "
            f"the flipped {kernel_size} \u00d7 {kernel_size} kernel over the "
            f"{seen.shape[0]} \u00d7 {seen.shape[1]} grid on the left: the input pixels (numbered "
            f"1 to {input_size * input_size}) with {strides - 1} zero(s) between neighbours, then "
            f"padded. Each output pixel receives {overlap.min()} to {overlap.max()} kernel copies; ")
    if uneven_overlap(kernel_size, strides):
        text += (f"the stride {strides} does not divide the kernel size {kernel_size}, so the counts "
                 f"alternate even away from the borders: the source of checkerboard artefacts.")
    else:
        text += (f"the stride {strides} divides the kernel size {kernel_size}, so away from the "
                 f"borders every output pixel receives the same number.")
    return text, [
        Panel("zero-inserted, padded input", seen, seen > 0),
        Panel(f"overlap counts ({out_h} \u00d7 {out_w} output)", overlap),
    ]


def matrix_panels(input_size: int, kernel_size: int, strides: int = 1, padding: str = "valid",
                  pixel: int = 1):
    """The convolution as a matrix C and the transposed convolution as C transposed.

    A square one-channel input of side ``input_size`` and the kernel 1, 2, ... (row-major).
    y (the convolution's output shape, holding 1, 2, ...) is what the transposed convolution
    takes in; ``C.T @ y`` has the input's shape and equals Keras's Conv2DTranspose of y with
    the output_padding named in the text. ``pixel`` (1-based, row-major) picks the output pixel
    whose row of C.T (a column of C) and inputs are outlined.
    """
    shape = (input_size, input_size)
    try:
        kernel = np.arange(1, kernel_size * kernel_size + 1).reshape(kernel_size, kernel_size)
        C = conv_matrix(shape, kernel, strides, padding)
        y = np.arange(1, C.shape[0] + 1).reshape(conv2d_output_shape(shape, kernel_size, strides, padding))
    except ValueError as error:
        return f"Keras rejects this combination: {error}", []
    if not 1 <= pixel <= C.shape[1]:
        raise ValueError(f"pixel must be between 1 and {C.shape[1]}, got {pixel}")
    product = (C.T @ y.ravel()).reshape(shape)
    op = output_padding_for(input_size, y.shape[0], kernel_size, strides, padding)
    row = np.zeros(C.T.shape, dtype=bool)
    row[pixel - 1] = True
    column = row.T
    used = (C.T[pixel - 1] != 0).reshape(y.shape)
    chosen = np.zeros(shape, dtype=bool)
    chosen.flat[pixel - 1] = True
    r, c = divmod(pixel - 1, input_size)
    text = (f"The convolution of a {input_size} \u00d7 {input_size} input is y = C x with C of shape "
            f"{C.shape[0]} \u00d7 {C.shape[1]}. Its transpose takes a {y.shape[0]} \u00d7 {y.shape[1]} "
            f"y back to {input_size} \u00d7 {input_size}: output pixel ({r}, {c}) is row {pixel} of "
            f"C\u1d40 times y (outlined) = {product[r, c]:g}. Keras's Conv2DTranspose(kernel_size="
            f"{kernel_size}, strides={strides}, padding={padding!r}, output_padding={op}) gives "
            f"the same {input_size} \u00d7 {input_size} result.")
    return text, [
        Panel("C (convolution)", C, column),
        Panel("C\u1d40", C.T, row),
        Panel("y", y, used),
        Panel("C\u1d40 y", product, chosen),
    ]


def checkerboard_panels(taps, strides: int, input_size: int | None = None):
    """The checkerboard lab: a kernel's phase sums and what it makes of a flat input.

    taps: (k,) for a 1-D kernel, or (kh, kw) for a 2-D one (run as a (1, k) kernel with
    strides (1, s), or with strides (s, s)). The flat input is ``input_size`` ones along each
    strided axis (by default the least that shows two periods away from the borders); padding
    "valid" (the full scatter, with the gaps after the last copy when s > k). Panels: the kernel; the phase of each tap
    (w[i, j] is in phase (i mod s, j mod s), numbered 1, 2, ... in the phase sums' row-major
    order); the phase sums (``phase_sums``); the output (``conv2d_transpose``), with the cells
    away from the borders outlined: those that receive a copy of every tap of their phase. Each
    of them is the sum of its phase, so the output is flat there if and only if all the phase
    sums are equal.
    """
    kernel, steps, shape = _lab_setup(taps, strides, input_size)
    sums = phase_sums(kernel, steps)
    phases = np.arange(1, sums.size + 1).reshape(sums.shape)
    tap_phase = phases[np.ix_(*(np.arange(k) % st for k, st in zip(kernel.shape, steps)))]
    output = conv2d_transpose(np.ones((1, *shape, 1)), kernel[:, :, None, None], strides=steps)[0, :, :, 0]
    inner = _interior(shape, kernel.shape, steps)
    intro, balanced, unbalanced = _lab_texts(kernel.shape, steps)
    return f"{intro} {balanced if _all_equal(sums) else unbalanced}", [
        Panel("kernel taps", kernel),
        Panel("phase of each tap", tap_phase),
        Panel(f"phase sums ({sums.shape[0]} \u00d7 {sums.shape[1]})", sums),
        Panel(f"output of a flat {shape[0]} \u00d7 {shape[1]} input", output, inner),
    ]


def _lab_setup(taps, strides, input_size=None):
    """The lab's kernel (kh, kw), strides pair and flat input shape for ``checkerboard_panels``."""
    taps = np.asarray(taps, dtype=np.float64)
    kernel = validation.array(taps[None] if taps.ndim == 1 else taps, "taps", 2, "(k,) or (kh, kw)")
    s = validation.integer(strides, "strides")
    steps = (1, s) if taps.ndim == 1 else (s, s)
    if input_size is None:  # the least that shows, away from the borders, 2 periods and a cell
        input_size = next(n for n in itertools.count(2) if all(
            _interior((1, n) if taps.ndim == 1 else (n, n), kernel.shape, steps).any(axis=1 - a).sum()
            > (2 * st if st > 1 else 0) for a, st in enumerate(steps)))
    n = validation.integer(input_size, "input_size")
    return kernel, steps, ((1, n) if taps.ndim == 1 else (n, n))


def _interior(input_shape, kernel_shape, steps) -> np.ndarray:
    """The cells of the full scatter of a constant input that are away from the borders: those
    that receive a copy of every tap of their phase. (H_out, W_out) bools."""
    counts = overlap_count(input_shape, kernel_shape, steps)
    per_phase = phase_sums(np.ones(kernel_shape), steps)  # how many taps each phase holds
    r, c = np.indices(counts.shape)
    return counts == per_phase[r % steps[0], c % steps[1]]


def _all_equal(values) -> bool:
    """All values equal (the static twin's JavaScript uses the same tolerance)."""
    values = np.asarray(values, dtype=np.float64)
    return bool(np.all(np.abs(values - values.flat[0]) <= 1e-9 * (1 + abs(values.flat[0]))))


def _lab_texts(kernel_shape, steps):
    """The lab's text for one kernel shape and strides pair: (intro, if balanced, if not)."""
    (kh, kw), (_, s) = kernel_shape, steps
    if steps[0] == 1 and kh == 1:  # a 1-D kernel
        intro = (f"A {kw}-tap kernel with stride {s}: tap i belongs to phase i mod {s}, one of {s} "
                 f"(numbered on the second grid in the order of the phase sums). Away from the borders "
                 f"(outlined), output cell o of a constant input of ones is the sum of the taps in "
                 f"phase o mod {s}.")
    else:
        intro = (f"A {kh} \u00d7 {kw} kernel with stride {s}: tap w[i, j] belongs to phase "
                 f"(i mod {s}, j mod {s}), one of {s * s} (numbered on the second grid in the order "
                 f"of the phase sums). Away from the borders (outlined), output pixel (r, c) of a "
                 f"constant input of ones is the sum of phase (r mod {s}, c mod {s}).")
    if s == 1:
        return intro, "Stride 1 has a single phase: the output is flat away from the borders, whatever the taps.", ""
    balanced = "Balanced: all the phase sums are equal, so the output is flat away from the borders."
    if any(k < st for k, st in zip(kernel_shape, steps)):
        unbalanced = ("Not balanced: the phase sums differ. The kernel is smaller than the stride, so "
                      "some phases hold no tap and sum to 0: only the all-zero kernel is flat.")
    else:
        unbalanced = (f"Not balanced: the phase sums differ, so the output repeats a pattern of period "
                      f"{s} away from the borders. Balance it: change the taps until every phase sum "
                      f"is the same.")
    return intro, balanced, unbalanced


def output_padding_panels(input_length: int, kernel_size: int, strides: int, padding: str = "same"):
    """Which ``output_padding`` gives a U-Net decoder back its encoder's length (one axis).

    The encoder, ``Conv2D(kernel_size, strides, padding)``, takes ``input_length`` cells to m;
    the decoder, ``Conv2DTranspose`` with the same arguments, takes m cells back. One panel per
    output_padding None, 0, ..., ``strides`` (the last one to show Keras's rule op < strides):
    the full scatter, (m - 1) * s + k cells, each holding how many kernel copies land on it
    (``overlap_count``), with zeros after it where the output is longer, and the cells Keras
    keeps outlined (``conv_transpose_crop``). A refused value outlines nothing.
    """
    n, k, s = (validation.integer(v, name) for v, name in
               ((input_length, "input_length"), (kernel_size, "kernel_size"), (strides, "strides")))
    try:
        m = conv_output_length(n, k, s, padding)
    except ValueError as error:
        return f"Keras rejects this encoder: {error}", []
    full = overlap_count((1, m), (1, k), (1, s), "valid", 0)[0]
    kept, refused = {}, {}
    for op in (None, *range(s + 1)):
        try:  # the 2-D functions apply both of Keras's rules on output_padding
            length = conv2d_transpose_output_shape((m, m), k, s, padding, op)[0]
            kept[op] = (length, *conv2d_transpose_crop((m, m), k, s, padding, op)[0])
        except ValueError as error:
            refused[op] = str(error)
    width = max(full.size, *(length + before for length, before, _ in kept.values()))
    row = np.zeros((1, width), dtype=np.int64)
    row[0, :full.size] = full
    panels = []
    for op in (None, *range(s + 1)):
        mask = np.zeros(row.shape, dtype=bool)
        if op in refused:
            title = f"output_padding={op}: refused"
        else:
            length, before, after = kept[op]
            mask[0, before:before + length] = True
            title = f"output_padding={op}: {length} cells" + (f" = the encoder's {n}" if length == n else "")
            title += (f", cut {before} before and {after} after" if after >= 0 else
                      f", cut {before} before, {-after} zero(s) added after")
        panels.append(Panel(title, row, mask))
    best = output_padding_for(n, m, k, s, padding)
    text = (f"Encoder: Conv2D(kernel_size={k}, strides={s}, padding={padding!r}) takes {n} cells to {m}. "
            f"Conv2DTranspose with the same arguments scatters them into {full.size} cells (the numbers: "
            f"kernel copies per cell) and keeps the outlined ones. To give back the encoder's {n} cells, "
            + ("leave output_padding out (None)." if best is None else f"use output_padding={best}.")
            + "".join(f" Keras refuses output_padding={op}: {why}." for op, why in refused.items()))
    return text, panels


# ---------------------------------------------------------------------------------------------
# Live widgets.

class LiveFigure(widgets.VBox):
    """Controls, a line of text and a figure, redrawn whenever a control changes.

    ``controls`` maps the ``panels`` function's keyword arguments to value widgets. After each
    change ``text`` (an HTML widget), ``image`` (PNG) and ``panels`` (the ``Panel`` list) hold
    the new state; a state without panels (an error) hides the image.
    """

    def __init__(self, panels, controls: dict):
        self._panels, self.controls = panels, controls
        self.text = widgets.HTML()
        self.image = widgets.Image(format="png")
        super().__init__([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}),
                          self.text, self.image])
        for control in controls.values():
            control.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        text, self.panels = self._panels(**{name: c.value for name, c in self.controls.items()})
        self.text.value = f"<p>{html.escape(text)}</p>"
        if self.panels:
            self.image.value = _png(self.panels)
        self.image.layout.display = None if self.panels else "none"


def _png(panels) -> bytes:
    import matplotlib.pyplot as plt

    fig = plots.number_grids([p.values for p in panels], [p.title for p in panels],
                             highlights=[p.highlight for p in panels])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)  # drawn into the widget only, never shown again by the inline backend
    return buffer.getvalue()


def _slider(description, value, low, high):
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             continuous_update=False, style={"description_width": "initial"})


def _dropdown(description, options, value):
    return widgets.Dropdown(options=options, value=value, description=description,
                            style={"description_width": "initial"}, layout={"width": "max-content"})


def scatter_stepper(x=article.Y, kernel=article.W2, strides=1, padding="valid") -> LiveFigure:
    """Live scatter-add: a slider over the input pixels (see ``scatter_panels``).

    x: (H, W); kernel: (kh, kw); by default the article's 2x2 example, scattered into 3x3.
    """
    x = validation.array(x, "x", 2, "(H, W)")
    kernel = validation.array(kernel, "kernel", 2, "(kh, kw)")

    def panels(step):
        return scatter_panels(x, kernel, step, strides, padding)

    return LiveFigure(panels, {"step": _slider("input pixels scattered", 1, 1, x.size)})


def parameter_explorer(input_size=3, kernel_size=3, strides=2, padding="valid",
                       output_padding=None) -> LiveFigure:
    """Live Conv2DTranspose parameter explorer (see ``explorer_panels``)."""
    return LiveFigure(explorer_panels, {
        "input_size": _slider("input size", input_size, 1, 6),
        "kernel_size": _slider("kernel size", kernel_size, 1, 5),
        "strides": _slider("strides", strides, 1, 4),
        "padding": _dropdown("padding", ["valid", "same"], padding),
        "output_padding": _dropdown("output_padding", [("None", None), *((str(p), p) for p in range(4))],
                                    output_padding),
    })


class _MatrixView(LiveFigure):
    def update(self, change=None):
        # The pixel slider spans the input. Shrinking it may clamp its value, and that change
        # has already redrawn everything.
        pixel, side = self.controls["pixel"], self.controls["input_size"].value
        if pixel.max != side * side:
            before = pixel.value
            pixel.max = side * side
            if pixel.value != before:
                return
        super().update(change)


def matrix_view(input_size=4, kernel_size=3, strides=1, padding="valid", pixel=1) -> LiveFigure:
    """Live matrix view: C, its transpose, and the product C.T @ y (see ``matrix_panels``)."""
    return _MatrixView(matrix_panels, {
        "input_size": _slider("input size", input_size, 2, 4),
        "kernel_size": _slider("kernel size", kernel_size, 1, 3),
        "strides": _slider("strides", strides, 1, 2),
        "padding": _dropdown("padding", ["valid", "same"], padding),
        "pixel": _slider("output pixel", pixel, 1, input_size * input_size),
    })


_PLUS = ((0, 1, 0), (1, 2, 1), (0, 1, 0))  # balanced in 1-D along both axes, yet a 2 x 2 pattern


def checkerboard_lab(taps=_PLUS, strides=2) -> LiveFigure:
    """Live checkerboard lab: type the taps (numbers, rows separated by ';'; one row is a 1-D
    kernel) and pick the stride (see ``checkerboard_panels``)."""
    def panels(taps, strides):
        try:
            return checkerboard_panels(_read_taps(taps), strides)
        except ValueError as error:
            return f"Cannot use these taps: {error}", []

    text = "; ".join(" ".join(f"{v:g}" for v in row) for row in np.atleast_2d(np.asarray(taps, float)))
    return LiveFigure(panels, {
        "taps": widgets.Text(value=text, description="taps (rows separated by ;)", continuous_update=False,
                             style={"description_width": "initial"}, layout={"width": "28em"}),
        "strides": _slider("strides", strides, 1, 3),
    })


def _read_taps(text: str) -> np.ndarray:
    """'0 1 0; 1 2 1; 0 1 0' as a (3, 3) array; one row as a 1-D array."""
    try:
        rows = [[float(v) for v in row.replace(",", " ").split()] for row in text.split(";") if row.strip()]
    except ValueError:
        raise ValueError(f"taps must be numbers, got {text!r}") from None
    if not rows or len({len(row) for row in rows}) != 1:
        raise ValueError(f"taps must be rows of equal length separated by ';', got {text!r}")
    return np.array(rows[0] if len(rows) == 1 else rows)


def output_padding_picker(input_length=7, kernel_size=3, strides=2, padding="same") -> LiveFigure:
    """Live output_padding picker for a U-Net decoder (see ``output_padding_panels``)."""
    return LiveFigure(output_padding_panels, {
        "input_length": _slider("encoder input length", input_length, 1, 16),
        "kernel_size": _slider("kernel size", kernel_size, 1, 5),
        "strides": _slider("strides", strides, 1, 4),
        "padding": _dropdown("padding", ["valid", "same"], padding),
    })


# ---------------------------------------------------------------------------------------------
# Static twins: every state precomputed, drawn by inline JavaScript (no kernel, no other host).

def scatter_stepper_html(x=article.Y, kernel=article.W2, strides=1, padding="valid") -> HTML:
    """Static scatter-add step-through: a slider over the input pixels (see ``scatter_stepper``)."""
    x = validation.array(x, "x", 2, "(H, W)")
    kernel = validation.array(kernel, "kernel", 2, "(kh, kw)")
    steps = range(1, x.size + 1)
    controls = [_Control("input pixels scattered", [(str(s), s) for s in steps], x.size, "range")]
    states = {(s,): scatter_panels(x, kernel, s, strides, padding) for s in steps}
    return HTML(_static_html(controls, states))


def parameter_explorer_html(input_sizes=(2, 3, 4), kernel_sizes=(1, 2, 3, 4), strides=(1, 2, 3),
                            paddings=("valid", "same"), output_paddings=(None, 0, 1, 2),
                            default=(3, 3, 2, "valid", None)) -> HTML:
    """Static parameter explorer over every combination of the given values."""
    choices = [input_sizes, kernel_sizes, strides, paddings, output_paddings]
    labels = ["input size", "kernel size", "strides", "padding", "output_padding"]
    controls = [_Control(label, [(str(v), v) for v in values], d, "select")
                for label, values, d in zip(labels, choices, default)]
    states = {combo: explorer_panels(*combo) for combo in itertools.product(*choices)}
    return HTML(_static_html(controls, states))


def matrix_view_html(input_size=4, kernel_sizes=(2, 3), strides=(1, 2), paddings=("valid", "same"),
                     default=(3, 1, "valid", 1)) -> HTML:
    """Static matrix view of a square input of side ``input_size``."""
    pixels = range(1, input_size * input_size + 1)
    choices = [kernel_sizes, strides, paddings, pixels]
    labels = ["kernel size", "strides", "padding", "output pixel"]
    kinds = ["select", "select", "select", "range"]
    controls = [_Control(label, [(str(v), v) for v in values], d, kind)
                for label, values, d, kind in zip(labels, choices, default, kinds)]
    states = {combo: matrix_panels(input_size, *combo) for combo in itertools.product(*choices)}
    return HTML(_static_html(controls, states))


def checkerboard_lab_html(kernel_sizes=(1, 2, 3, 4), strides=(1, 2, 3), default=("2-D", 3, 2)) -> HTML:
    """Static checkerboard lab: pick 1-D or 2-D, the kernel size and the stride, then type the taps.

    Each state starts from ``_lab_taps`` and holds its panels as affine maps of the taps (see
    the module's docstring), computed with ``checkerboard_panels`` from unit kernels.
    """
    choices = [("1-D", "2-D"), kernel_sizes, strides]
    controls = [_Control(label, [(str(v), v) for v in values], d, "select")
                for label, values, d in zip(["kernel", "kernel size", "strides"], choices, default)]
    states = {}
    for dims, k, s in itertools.product(*choices):
        taps = _lab_taps(dims, k)
        kernel, steps, _ = _lab_setup(taps, s)
        intro, balanced, unbalanced = _lab_texts(kernel.shape, steps)
        zero = checkerboard_panels(np.zeros(taps.shape), s)[1]
        units = [checkerboard_panels(unit.reshape(taps.shape), s)[1] for unit in np.eye(taps.size)]
        # terms[p]: [cell, tap, coefficient] for each cell of panel p (the kernel panel excepted,
        # it is the editor) that one unit of the tap changes.
        terms = [[[cell, t, _number(coef)] for t, unit in enumerate(units)
                  for cell, coef in enumerate((unit[p].values - zero[p].values).ravel()) if coef]
                 for p in range(1, len(zero))]
        states[dims, k, s] = (intro, zero[1:], _Editable("kernel taps (type yours)", kernel, terms,
                                                         (1, balanced, unbalanced)))
    return HTML(_static_html(controls, states))


def _lab_taps(dims: str, kernel_size: int) -> np.ndarray:
    """The lab's first taps: the plus-shaped kernel at 2-D 3 x 3, else 1, 2, 3, ... (unbalanced)."""
    if dims == "2-D" and kernel_size == 3:
        return np.array(_PLUS)
    shape = (kernel_size,) if dims == "1-D" else (kernel_size, kernel_size)
    return np.arange(1, np.prod(shape) + 1).reshape(shape)


def output_padding_picker_html(input_lengths=(5, 6, 7, 8, 9), kernel_sizes=(1, 2, 3, 4, 5), strides=(2, 3),
                               paddings=("valid", "same"), default=(7, 3, 2, "same")) -> HTML:
    """Static output_padding picker over every combination of the given values."""
    choices = [input_lengths, kernel_sizes, strides, paddings]
    labels = ["encoder input length", "kernel size", "strides", "padding"]
    controls = [_Control(label, [(str(v), v) for v in values], d, "select")
                for label, values, d in zip(labels, choices, default)]
    states = {combo: output_padding_panels(*combo) for combo in itertools.product(*choices)}
    return HTML(_static_html(controls, states))


@dataclasses.dataclass
class _Control:
    label: str
    options: list  # (label, value) pairs
    default: object
    kind: str  # "select" or "range"


@dataclasses.dataclass
class _Editable:
    """Numbers the reader types into a static figure (a grid, ``default`` at first), and what
    they do: for each [cell, tap, coefficient] in ``terms[p]``, panel p's value at that flat
    cell gains coefficient x the tap's number. ``verdict``: (panel index, text when all that
    panel's values are equal, text otherwise), added to the state's text."""

    title: str
    default: np.ndarray
    terms: list
    verdict: tuple


def _key(values) -> str:
    return "|".join(str(v) for v in values)


def _number(value):
    """A JSON-ready number: an int where it is whole."""
    return int(value) if float(value).is_integer() else float(value)


def _plain(values: np.ndarray) -> list:
    """A JSON-ready nested list: ints where the numbers are whole, else 4 significant digits."""
    values = np.asarray(values, dtype=np.float64)
    if np.all(values == np.round(values)):
        return values.astype(np.int64).tolist()
    return [[float(f"{v:.4g}") for v in row] for row in values]


def _static_html(controls, states) -> str:
    """The HTML of a static figure. states: {tuple of control values: (text, panels)}, or
    (text, panels, ``_Editable``) for a figure whose panels follow numbers the reader types.

    Identical arrays are stored once (``arrays``) and referred to by index.
    """
    arrays: dict[str, int] = {}

    def ref(values) -> int:
        return arrays.setdefault(json.dumps(_plain(values)), len(arrays))

    def state(text, panels, edit=None):
        out = {"text": text, "panels": [
            {"title": p.title, "values": ref(p.values),
             "highlight": [] if p.highlight is None else np.argwhere(p.highlight).tolist()}
            for p in panels]}
        if edit is not None:
            out["edit"] = {"title": edit.title, "values": ref(edit.default), "terms": edit.terms,
                           "verdict": list(edit.verdict)}
        return out

    data = {
        "controls": [{"label": c.label, "options": [[label, str(v)] for label, v in c.options],
                      "value": str(c.default), "kind": c.kind} for c in controls],
        "states": {_key(values): state(*content) for values, content in states.items()},
    }
    data["arrays"] = [json.loads(values) for values in arrays]  # in index order
    # "</" would end the <script> element early.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (f'<div class="tconv-static">{_STYLE}<div class="tc-controls"></div>'
            f'<p class="tc-text"></p><div class="tc-panels"></div>'
            f'<script type="application/json">{payload}</script>'
            f"<script>{_SCRIPT}</script></div>")


_STYLE = """<style>
.tconv-static{margin:0.5rem 0 1rem}
.tconv-static .tc-controls{display:flex;flex-wrap:wrap;gap:0.3rem 1.5rem;align-items:center}
.tconv-static .tc-controls label{display:flex;gap:0.4rem;align-items:center;font-size:0.9rem;margin:0}
.tconv-static .tc-text{margin:0.6rem 0;font-size:0.95rem}
.tconv-static .tc-panels{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.tconv-static figure{margin:0}
.tconv-static figcaption{font-size:0.9rem;margin:0 0 0.3rem;text-align:center;color:inherit}
.tconv-static table.tc-grid{border-collapse:collapse;margin:0;width:auto}
.tconv-static table.tc-grid td{min-width:2.2rem;height:2.2rem;padding:0 0.2rem;text-align:center;
  vertical-align:middle;font-size:0.85rem;line-height:1;border:1px solid #999;color:#000}
.tconv-static table.tc-grid td.tc-dark{color:#fff}
.tconv-static table.tc-grid td.tc-hl{outline:3px solid #d62728;outline-offset:-3px}
.tconv-static .tc-taps td{padding:0;background:#fff}
.tconv-static .tc-taps input{width:2.8rem;height:2.2rem;border:0;text-align:center;font-size:0.9rem;
  background:transparent;color:#000}
</style>"""

# Draws the chosen state as tables, coloured like matplotlib's "Blues" (as the live figures).
_SCRIPT = r"""(function (root) {
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var bar = root.querySelector(".tc-controls"), text = root.querySelector(".tc-text");
  var panels = root.querySelector(".tc-panels");
  // The grid of numbers the reader types (states with "edit" only); made once per kernel shape
  // and otherwise left in place, so that typing keeps its focus.
  var editor = null, editorShape = null;
  var inputs = data.controls.map(function (control) {
    var label = document.createElement("label"), input, shown;
    label.appendChild(document.createTextNode(control.label));
    var keys = control.options.map(function (o) { return o[1]; });
    if (control.kind === "range") {
      input = document.createElement("input");
      input.type = "range"; input.min = 0; input.max = keys.length - 1; input.step = 1;
      input.value = keys.indexOf(control.value);
      shown = document.createElement("output");
      label.appendChild(input); label.appendChild(shown);
      input.key = function () { shown.textContent = control.options[input.value][0]; return keys[input.value]; };
    } else {
      input = document.createElement("select");
      control.options.forEach(function (o) {
        var option = document.createElement("option");
        option.value = o[1]; option.textContent = o[0]; input.appendChild(option);
      });
      input.value = control.value;
      label.appendChild(input);
      input.key = function () { return input.value; };
    }
    input.addEventListener("input", draw);
    bar.appendChild(label);
    return input;
  });
  function colour(t) {
    var low = [247, 251, 255], high = [8, 48, 107];
    return "rgb(" + low.map(function (l, i) { return Math.round(l + t * (high[i] - l)); }).join(",") + ")";
  }
  function show(v) { return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4)); }
  function grid(title, values, highlight) {
    var flat = [].concat.apply([], values);
    var lo = Math.min.apply(null, flat), hi = Math.max.apply(null, flat);
    var marked = {};
    highlight.forEach(function (rc) { marked[rc[0] + "," + rc[1]] = true; });
    var figure = document.createElement("figure"), caption = document.createElement("figcaption");
    var table = document.createElement("table");
    caption.textContent = title; table.className = "tc-grid";
    values.forEach(function (row, r) {
      var tr = table.insertRow();
      row.forEach(function (v, c) {
        var td = tr.insertCell(), t = hi > lo ? (v - lo) / (hi - lo) : 0;
        td.textContent = show(v); td.style.background = colour(t);
        if (t > 0.6) td.classList.add("tc-dark");
        if (marked[r + "," + c]) td.classList.add("tc-hl");
      });
    });
    figure.appendChild(caption); figure.appendChild(table);
    return figure;
  }
  function setEditor(edit) {
    var values = data.arrays[edit.values], shape = values.length + "x" + values[0].length;
    if (!editor) {
      editor = document.createElement("figure"); editor.className = "tc-taps";
      panels.insertBefore(editor, panels.firstChild);
    }
    editor.hidden = false;
    if (shape === editorShape) return;  // the same kernel shape: keep the reader's numbers
    editorShape = shape;
    var caption = document.createElement("figcaption"), table = document.createElement("table");
    caption.textContent = edit.title; table.className = "tc-grid";
    values.forEach(function (row) {
      var tr = table.insertRow();
      row.forEach(function (v) {
        var input = document.createElement("input");
        input.type = "number"; input.step = "any"; input.value = v;
        input.addEventListener("input", draw);
        tr.insertCell().appendChild(input);
      });
    });
    editor.replaceChildren(caption, table);
  }
  function typed() {  // the reader's numbers, row-major; anything not a number counts as 0
    return [].map.call(editor.querySelectorAll("input"), function (input) {
      var v = parseFloat(input.value);
      return isFinite(v) ? v : 0;
    });
  }
  function valuesOf(state, panel, p) {  // the stored values, plus each typed number's terms
    var values = data.arrays[panel.values].map(function (row) { return row.slice(); });
    if (state.edit) {
      var w = typed(), cols = values[0].length;
      state.edit.terms[p].forEach(function (term) {
        values[Math.floor(term[0] / cols)][term[0] % cols] += w[term[1]] * term[2];
      });
    }
    return values;
  }
  function allEqual(values) {  // the tolerance of widgets._all_equal
    var flat = [].concat.apply([], values), first = flat[0];
    return flat.every(function (v) { return Math.abs(v - first) <= 1e-9 * (1 + Math.abs(first)); });
  }
  function draw() {
    var state = data.states[inputs.map(function (i) { return i.key(); }).join("|")];
    if (state.edit) setEditor(state.edit); else if (editor) editor.hidden = true;
    var shown = state.panels.map(function (panel, p) { return valuesOf(state, panel, p); });
    var words = state.text;
    if (state.edit) {
      var verdict = state.edit.verdict;
      words += " " + (allEqual(shown[verdict[0]]) ? verdict[1] : verdict[2]);
    }
    text.textContent = words;
    [].slice.call(panels.children).forEach(function (child) { if (child !== editor) child.remove(); });
    state.panels.forEach(function (panel, p) { panels.appendChild(grid(panel.title, shown[p], panel.highlight)); });
  }
  draw();
})(document.currentScript.parentElement);"""
