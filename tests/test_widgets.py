"""The widgets: change their controls from Python and check what they then show against tconv_lib.

Each ``check_*`` function states what a figure must show; ``test_checks_reject_*`` feed them a
deliberately wrong figure to show that they can fail. The static twins are checked here by
decoding their precomputed states (tests/test_site.py drives their JavaScript in Chromium).
"""
import html
import json
import re

import numpy as np
import pytest

from tconv_lib import (conv2d, conv2d_transpose, conv2d_transpose_output_shape, conv_matrix,
                       overlap_count, widgets)

X = np.array([[1.0, -2.0, 3.0], [4.0, 0.5, -1.0]])
K = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]])


def transpose_1ch(x, kernel, **kwargs):
    return conv2d_transpose(np.asarray(x, float)[None, :, :, None], np.asarray(kernel, float)[:, :, None, None],
                            **kwargs)[0, :, :, 0]


def check_scatter(text, panels, x, kernel, step, **kwargs):
    h, w = x.shape
    r, c = divmod(step - 1, w)
    first = np.zeros(h * w)
    first[:step] = 1
    assert f"Step {step} of {h * w}" in text
    np.testing.assert_array_equal(panels[0].values, x)
    assert panels[0].highlight[r, c] and panels[0].highlight.sum() == 1
    np.testing.assert_array_equal(panels[1].values, kernel)
    only = np.zeros_like(x)
    only[r, c] = x[r, c]
    np.testing.assert_allclose(panels[2].values, transpose_1ch(only, kernel, **kwargs))
    np.testing.assert_allclose(panels[3].values, transpose_1ch(x * first.reshape(h, w), kernel, **kwargs))


def check_explorer(text, panels, input_size, kernel_size, strides, padding, output_padding):
    try:
        shape = conv2d_transpose_output_shape((input_size,) * 2, kernel_size, strides, padding, output_padding)
    except ValueError as error:
        assert panels == [] and text == f"Keras rejects this combination: {error}"
        return
    assert text.startswith(f"Output: {shape[0]} \u00d7 {shape[1]}.")
    seen, overlap = panels[0].values, panels[1].values
    np.testing.assert_array_equal(overlap, overlap_count((input_size,) * 2, kernel_size, strides, padding,
                                                         output_padding))
    # The stride-1 convolution of what it shows, with the flipped kernel, is the transposed one.
    x = np.arange(1.0, input_size ** 2 + 1).reshape(input_size, input_size)
    kernel = np.random.default_rng(0).standard_normal((kernel_size, kernel_size))
    via_seen = conv2d(seen[None, :, :, None].astype(float), kernel[::-1, ::-1, None, None])[0, :, :, 0]
    np.testing.assert_allclose(via_seen, transpose_1ch(x, kernel, strides=strides, padding=padding,
                                                       output_padding=output_padding), atol=1e-9)


def check_matrix(text, panels, input_size, kernel_size, strides, padding, pixel):
    C, CT, y, product = (p.values for p in panels)
    kernel = np.arange(1, kernel_size ** 2 + 1).reshape(kernel_size, kernel_size)
    np.testing.assert_array_equal(C, conv_matrix((input_size, input_size), kernel, strides, padding))
    np.testing.assert_array_equal(CT, C.T)
    np.testing.assert_array_equal(product.ravel(), C.T @ y.ravel())
    assert panels[1].highlight[pixel - 1].all() and panels[1].highlight.sum() == C.shape[0]
    # The text names the Keras layer that gives the same result: check that it does.
    op = re.search(r"output_padding=(None|\d+)\)", text).group(1)
    same = transpose_1ch(y, kernel, strides=strides, padding=padding,
                         output_padding=None if op == "None" else int(op))
    np.testing.assert_array_equal(same, product)
    assert f"= {product.flat[pixel - 1]:g}" in text


def current(widget):
    """What a live widget shows now: its text (unescaped) and panels, after checking the image."""
    assert bytes(widget.image.value).startswith(b"\x89PNG") or not widget.panels
    assert (widget.image.layout.display == "none") == (not widget.panels)
    text = re.fullmatch(r"<p>(.*)</p>", widget.text.value, re.S).group(1)
    return html.unescape(text), widget.panels


# --- live widgets ------------------------------------------------------------------------------

def test_scatter_stepper_follows_its_slider():
    widget = widgets.scatter_stepper(X, K, strides=2)
    images = set()
    for step in (1, 4, 6, 2):
        widget.controls["step"].value = step
        check_scatter(*current(widget), X, K, step, strides=2)
        images.add(bytes(widget.image.value))
    assert len(images) == 4
    assert widget.controls["step"].max == X.size


def test_scatter_stepper_ends_on_the_transposed_convolution():
    widget = widgets.scatter_stepper(X, K, padding="same")
    widget.controls["step"].value = X.size
    text, panels = current(widget)
    np.testing.assert_allclose(panels[3].values, transpose_1ch(X, K, padding="same"))
    assert "the running sum is the transposed convolution's output" in text


def test_parameter_explorer_follows_every_control():
    widget = widgets.parameter_explorer()
    sequence = [("input_size", 4), ("kernel_size", 4), ("strides", 3), ("padding", "same"),
                ("output_padding", 2), ("output_padding", 1), ("padding", "valid"), ("kernel_size", 1)]
    before = bytes(widget.image.value)
    for name, value in sequence:
        widget.controls[name].value = value
        check_explorer(*current(widget), **{n: c.value for n, c in widget.controls.items()})
    assert bytes(widget.image.value) != before


def test_parameter_explorer_shows_the_error_and_recovers():
    widget = widgets.parameter_explorer(strides=2)
    widget.controls["output_padding"].value = 3  # not smaller than the stride: Keras rejects it
    text, panels = current(widget)
    assert panels == [] and "output_padding must be smaller than strides" in text
    widget.controls["strides"].value = 4
    text, panels = current(widget)
    assert len(panels) == 2 and text.startswith("Output:")
    check_explorer(text, panels, **{n: c.value for n, c in widget.controls.items()})


def test_parameter_explorer_tells_even_from_uneven_overlap():
    assert "does not divide" in widgets.explorer_panels(3, 3, 2)[0]
    text, panels = widgets.explorer_panels(4, 4, 2)
    assert "divides the kernel size 4" in text
    # Away from the borders (kernel_size - 1 cells), every output pixel gets the same count.
    assert len(set(panels[1].values[3:-3, 3:-3].ravel())) == 1


def test_matrix_view_follows_every_control():
    widget = widgets.matrix_view()
    for name, value in [("pixel", 7), ("kernel_size", 2), ("strides", 2), ("padding", "same"),
                        ("input_size", 3), ("pixel", 9)]:
        widget.controls[name].value = value
        check_matrix(*current(widget), **{n: c.value for n, c in widget.controls.items()})


def test_matrix_view_clamps_the_pixel_when_the_input_shrinks():
    widget = widgets.matrix_view(input_size=4, kernel_size=1, pixel=16)
    widget.controls["input_size"].value = 2
    assert widget.controls["pixel"].max == 4 and widget.controls["pixel"].value == 4
    check_matrix(*current(widget), **{n: c.value for n, c in widget.controls.items()})


def test_matrix_view_reports_a_kernel_larger_than_the_input():
    text, panels = widgets.matrix_panels(2, 3)
    assert panels == [] and "needs the kernel (span 3) to fit" in text


# --- the checks can fail -----------------------------------------------------------------------

def test_checks_reject_a_wrong_scatter_step():
    text, panels = widgets.scatter_panels(X, K, 3)
    panels[3].values = panels[3].values + np.eye(*panels[3].values.shape)  # a wrong running sum
    with pytest.raises(AssertionError):
        check_scatter(text, panels, X, K, 3)
    text, panels = widgets.scatter_panels(X, K, 3)
    with pytest.raises(AssertionError):
        check_scatter(text, panels, X, K, 2)  # the figure of another step


def test_checks_reject_a_wrong_explorer_state():
    text, panels = widgets.explorer_panels(3, 3, 2, "same", 1)
    with pytest.raises(AssertionError):
        check_explorer(text, panels, 3, 3, 2, "same", 0)  # claims another output shape
    text, panels = widgets.explorer_panels(3, 3, 2)
    panels[0].values = np.roll(panels[0].values, 1, axis=0)  # zeros inserted in the wrong place
    with pytest.raises(AssertionError):
        check_explorer(text, panels, 3, 3, 2, "valid", None)


def test_checks_reject_a_wrong_matrix_claim():
    text, panels = widgets.matrix_panels(4, 3, 2, "valid", 1)
    with pytest.raises(AssertionError):
        check_matrix(text.replace("output_padding=1", "output_padding=None"), panels, 4, 3, 2, "valid", 1)
    with pytest.raises(AssertionError):
        check_matrix(text, panels, 4, 3, 2, "valid", 2)  # the figure of another output pixel
    text, panels = widgets.matrix_panels(4, 3, 1, "same", 1)
    panels[1].values = panels[0].values.T[::-1]  # C's rows in the wrong order: not its transpose
    with pytest.raises(AssertionError):
        check_matrix(text, panels, 4, 3, 1, "same", 1)


# --- static twins ------------------------------------------------------------------------------

def decode(figure):
    """The precomputed states of a static figure: {key: (text, [(title, values, highlight)])}."""
    payload = re.search(r'<script type="application/json">(.*?)</script>', figure.data, re.S).group(1)
    data = json.loads(payload.replace("<\\/", "</"))
    states = {}
    for key, state in data["states"].items():
        states[key] = (state["text"], [(p["title"], np.array(data["arrays"][p["values"]]),
                                        {tuple(rc) for rc in p["highlight"]}) for p in state["panels"]])
    return data["controls"], states


def as_widget_panels(panels):
    out = []
    for title, values, marked in panels:
        mask = np.zeros(values.shape, dtype=bool)
        for rc in marked:
            mask[rc] = True
        out.append(widgets.Panel(title, values, mask))
    return out


def test_static_scatter_holds_every_step():
    controls, states = decode(widgets.scatter_stepper_html(X, K, strides=2))
    assert [c["kind"] for c in controls] == ["range"] and controls[0]["value"] == str(X.size)
    assert set(states) == {str(s) for s in range(1, X.size + 1)}
    for step in range(1, X.size + 1):
        text, panels = states[str(step)]
        check_scatter(text, as_widget_panels(panels), X, K, step, strides=2)


def test_static_explorer_holds_every_combination():
    controls, states = decode(widgets.parameter_explorer_html())
    assert [c["label"] for c in controls] == ["input size", "kernel size", "strides", "padding", "output_padding"]
    assert len(states) == 3 * 4 * 3 * 2 * 4
    errors = 0
    for key, (text, panels) in states.items():
        size, k, s, padding, op = key.split("|")
        errors += not panels
        check_explorer(text, as_widget_panels(panels), int(size), int(k), int(s), padding,
                       None if op == "None" else int(op))
    assert 0 < errors < len(states)


def test_static_matrix_view_holds_every_combination():
    controls, states = decode(widgets.matrix_view_html())
    assert len(states) == 2 * 2 * 2 * 16
    for key, (text, panels) in states.items():
        k, s, padding, pixel = key.split("|")
        check_matrix(text, as_widget_panels(panels), 4, int(k), int(s), padding, int(pixel))


def test_static_html_cannot_end_its_script_early():
    evil = widgets.Panel("</script><script>alert(1)</script>", np.zeros((1, 1)))
    figure = widgets._static_html([widgets._Control("c", [("a", "a")], "a", "select")], {("a",): ("t", [evil])})
    assert figure.count("</script>") == 2  # the JSON's and the drawing script's own
    controls, states = decode(type("F", (), {"data": figure}))
    assert states["a"][1][0][0] == evil.title


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="step must be between 1 and 6"):
        widgets.scatter_panels(X, K, 7)
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        widgets.scatter_stepper(np.ones((1, 2, 2, 1)))
    with pytest.raises(ValueError, match="pixel must be between 1 and 16"):
        widgets.matrix_panels(4, 3, pixel=17)
