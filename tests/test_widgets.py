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
                       conv_output_length, overlap_count, phase_sums, widgets)

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


def check_lab(text, panels, taps, strides):
    """The checkerboard lab for these taps (1-D or 2-D) and stride, against tconv_lib."""
    taps = np.asarray(taps, float)
    kernel = np.atleast_2d(taps)
    steps = (1, strides) if taps.ndim == 1 else (strides, strides)
    (_, k), (_, phase), (_, sums), (title, output) = ((p.title, p.values) for p in panels)
    np.testing.assert_array_equal(k, kernel)
    np.testing.assert_allclose(sums, phase_sums(kernel, steps), atol=1e-12)
    # Each tap is numbered with the phase that a kernel holding only that tap puts its sum in.
    for (i, j), label in np.ndenumerate(phase):
        alone = np.zeros(kernel.shape)
        alone[i, j] = 1
        assert phase_sums(alone, steps).ravel()[int(label) - 1] == 1
    rows, cols = _flat_shape(title)
    np.testing.assert_allclose(output, transpose_1ch(np.ones((rows, cols)), kernel, strides=steps))
    # Outlined: exactly the cells that are the sum of their phase (for a random kernel of this
    # shape no border cell is); they hold two periods of the pattern along each strided axis.
    mask = panels[3].highlight
    random = transpose_1ch(np.ones((rows, cols)), np.random.default_rng(0).standard_normal(kernel.shape),
                           strides=steps)
    random_sums = phase_sums(np.random.default_rng(0).standard_normal(kernel.shape), steps)
    r, c = np.indices(random.shape)
    np.testing.assert_array_equal(mask, np.isclose(random, random_sums[r % steps[0], c % steps[1]]))
    assert all(np.any(mask, axis=1 - a).sum() > 2 * steps[a] for a in range(2) if steps[a] > 1)
    np.testing.assert_allclose(output[mask], sums[r % steps[0], c % steps[1]][mask])
    flat = np.ptp(output[mask]) < 1e-9
    assert flat == (np.ptp(sums) < 1e-9)  # the rule the lab teaches
    assert ("Balanced" in text or "single phase" in text) == flat and ("Not balanced" in text) != flat


def check_picker(text, panels, input_length, kernel_size, strides, padding):
    """The output_padding picker's lengths, kept cells and advice, against tconv_lib."""
    n, k, s = input_length, kernel_size, strides
    m = conv_output_length(n, k, s, padding)
    assert text.startswith(f"Encoder: Conv2D(kernel_size={k}, strides={s}, padding={padding!r}) "
                           f"takes {n} cells to {m}.")
    assert [p.title.split(":")[0] for p in panels] == [f"output_padding={op}" for op in (None, *range(s + 1))]
    full = overlap_count((1, m), (1, k), (1, s), "valid", 0)[0]
    x = np.random.default_rng(n * 100 + k * 10 + s).standard_normal(m)
    scatter = transpose_1ch(x[None], np.arange(1.0, k + 1)[None], strides=(1, s), output_padding=(0, 0))[0]
    for op, panel in zip((None, *range(s + 1)), panels):
        row = panel.values[0]
        np.testing.assert_array_equal(row[:full.size], full)
        assert not row[full.size:].any()
        try:
            y = transpose_1ch(x[None], np.arange(1.0, k + 1)[None], strides=(1, s), padding=padding,
                              output_padding=None if op is None else (0, op))[0]
            conv2d_transpose_output_shape((m, m), k, s, padding, op)  # both of Keras's rules
        except ValueError:
            assert panel.title.endswith("refused") and not panel.highlight.any()
            assert f"Keras refuses output_padding={op}:" in text
            continue
        kept = panel.highlight[0]
        assert panel.title.startswith(f"output_padding={op}: {y.size} cells") and kept.sum() == y.size
        assert (f"= the encoder's {n}" in panel.title) == (y.size == n)
        # The kept cells are one run, and they are the output: the full scatter there, zeros beyond.
        start = kept.argmax()
        assert kept[start:start + y.size].all()
        np.testing.assert_allclose(y, np.concatenate([scatter, np.zeros(row.size)])[start:start + y.size])
    advice = re.search(r"use output_padding=(\d)\.|leave output_padding out \(None\)\.", text)
    op = None if advice.group(1) is None else int(advice.group(1))
    restored = transpose_1ch(np.ones((1, m)), np.ones((1, k)), strides=(1, s), padding=padding,
                             output_padding=None if op is None else (0, op))
    assert restored.shape[1] == n


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


def test_checkerboard_lab_follows_its_taps_and_stride():
    widget = widgets.checkerboard_lab()
    check_lab(*current(widget), [[0, 1, 0], [1, 2, 1], [0, 1, 0]], 2)
    assert "Not balanced" in current(widget)[0]  # the plus kernel: balanced along each axis, not in 2-D
    for taps, strides in [("1 1 0; 1 2 1; 0 1 1", 2), ("1 1 0; 1 2 1; 0 1 1", 3), ("0.5 1 0.5 2", 1)]:
        widget.controls["taps"].value, widget.controls["strides"].value = taps, strides
        text, panels = current(widget)
        check_lab(text, panels, widgets._read_taps(taps), strides)
    assert "Balanced" in widgets.checkerboard_panels([[1, 1, 0], [1, 2, 1], [0, 1, 1]], 2)[0]  # one solution


def test_checkerboard_lab_says_when_no_kernel_but_zero_is_flat():
    text, panels = widgets.checkerboard_panels([1, 2], 3)
    assert "some phases hold no tap" in text and phase_sums([[1, 2]], (1, 3)).tolist() == [[1, 2, 0]]
    assert "Balanced" in widgets.checkerboard_panels([0, 0], 3)[0]


def test_checkerboard_lab_matches_keras():
    from tconv_lib import keras_ref

    for taps, strides in [([[0, 1, 0], [1, 2, 1], [0, 1, 0]], 2), ([1, 2, 3, 4], 3)]:
        _, panels = widgets.checkerboard_panels(taps, strides)
        kernel = np.atleast_2d(np.asarray(taps, np.float32))
        steps = (1, strides) if np.ndim(taps) == 1 else strides
        flat = np.ones((1, *_flat_shape(panels[3].title), 1), np.float32)
        y = keras_ref.conv2d_transpose(flat, kernel[:, :, None, None], strides=steps)
        np.testing.assert_array_equal(panels[3].values, y[0, :, :, 0])


def _flat_shape(title):
    return tuple(int(v) for v in re.search(r"flat (\d+) \u00d7 (\d+) input", title).groups())


def test_checkerboard_lab_reports_unreadable_taps():
    widget = widgets.checkerboard_lab()
    widget.controls["taps"].value = "1 2; 3"
    text, panels = current(widget)
    assert panels == [] and text.startswith("Cannot use these taps: taps must be rows of equal length")
    widget.controls["taps"].value = "1 x"
    assert current(widget)[0].startswith("Cannot use these taps: taps must be numbers")
    widget.controls["taps"].value = "1 1"
    check_lab(*current(widget), [1, 1], 2)


def test_output_padding_picker_follows_every_control():
    widget = widgets.output_padding_picker()
    check_picker(*current(widget), 7, 3, 2, "same")
    for name, value in [("kernel_size", 2), ("strides", 1), ("padding", "valid")]:
        widget.controls[name].value = value
        check_picker(*current(widget), **{n: c.value for n, c in widget.controls.items()})


def test_output_padding_picker_shows_where_the_crop_falls():
    # k=3, s=2, "same": None and 1 keep the first 8 of the 9 scattered cells, 0 drops one at each end.
    _, panels = widgets.output_padding_panels(7, 3, 2, "same")
    assert [np.flatnonzero(p.highlight[0]).tolist() for p in panels] == [
        list(range(8)), list(range(1, 8)), list(range(8)), []]
    text, panels = widgets.output_padding_panels(8, 2, 2, "same")  # TensorFlow refuses output_padding=0
    assert [p.title.endswith("refused") for p in panels] == [False, True, False, True]
    assert "leave output_padding out (None)" in text and "a 'same' convolution of that length gives 3" in text
    text, panels = widgets.output_padding_panels(3, 5, 2, "valid")
    assert panels == [] and text.startswith("Keras rejects this encoder: a 'valid' convolution needs the kernel")


def test_output_padding_picker_matches_keras():
    from tconv_lib import keras_ref

    for n, k, s, padding in [(7, 3, 2, "same"), (8, 2, 2, "same"), (9, 5, 3, "valid"), (5, 1, 3, "valid")]:
        text, panels = widgets.output_padding_panels(n, k, s, padding)
        m = keras_ref.conv2d(np.ones((1, 1, n, 1), np.float32), np.ones((1, k, 1, 1), np.float32),
                             strides=(1, s), padding=padding).shape[2]
        assert f"takes {n} cells to {m}." in text
        x = np.arange(1, m + 1, dtype=np.float32).reshape(1, 1, m, 1)
        w = np.arange(1, k + 1, dtype=np.float32).reshape(1, k, 1, 1)
        scatter = keras_ref.conv2d_transpose(x, w, strides=(1, s), output_padding=(0, 0))[0, 0, :, 0]
        for op, panel in zip((None, *range(s + 1)), panels):
            try:
                y = keras_ref.conv2d_transpose(x, w, strides=(1, s), padding=padding,
                                               output_padding=None if op is None else (0, op))[0, 0, :, 0]
            except Exception:  # Keras's own rule (op < strides) or TensorFlow's shape check
                assert panel.title.endswith("refused")
                continue
            padded = np.concatenate([scatter, np.zeros(panel.values.shape[1] - scatter.size)])
            np.testing.assert_array_equal(y, padded[panel.highlight[0]])


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


def test_checks_reject_a_wrong_lab_state():
    taps = [[0, 1, 0], [1, 2, 1], [0, 1, 0]]
    text, panels = widgets.checkerboard_panels(taps, 2)
    with pytest.raises(AssertionError):
        check_lab(text.replace("Not balanced", "Balanced"), panels, taps, 2)  # a wrong verdict
    with pytest.raises(AssertionError):
        check_lab(text, panels, taps, 3)  # the figure of another stride
    panels[3].highlight = np.ones_like(panels[3].highlight)  # the borders outlined too
    with pytest.raises(AssertionError):
        check_lab(text, panels, taps, 2)


def test_checks_reject_a_wrong_picker_state():
    text, panels = widgets.output_padding_panels(7, 3, 2, "same")
    with pytest.raises(AssertionError):
        check_picker(text.replace("use output_padding=0", "use output_padding=1"), panels, 7, 3, 2, "same")
    panels[1].highlight = np.roll(panels[1].highlight, 1)  # the crop one cell off
    with pytest.raises(AssertionError):
        check_picker(text, panels, 7, 3, 2, "same")


# --- static twins ------------------------------------------------------------------------------

def payload(figure) -> dict:
    """The JSON a static figure's script draws from."""
    text = re.search(r'<script type="application/json">(.*?)</script>', figure.data, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def decode(figure):
    """The precomputed states of a static figure: {key: (text, [(title, values, highlight)])}."""
    data = payload(figure)
    states = {}
    for key, state in data["states"].items():
        states[key] = (state["text"], [(p["title"], np.array(data["arrays"][p["values"]]),
                                        {tuple(rc) for rc in p["highlight"]}) for p in state["panels"]])
    return data["controls"], states


def typed(figure, key, taps=None):
    """What a static figure with an editor shows in state ``key`` once ``taps`` are typed
    (default: its first taps), the stored terms summed as its script sums them.

    Returns (first taps, text, panels as in ``decode``)."""
    data = payload(figure)
    state = data["states"][key]
    edit = state["edit"]
    first = np.array(data["arrays"][edit["values"]])
    w = np.ravel(first if taps is None else taps)
    panels = []
    for p, panel in enumerate(state["panels"]):
        values = np.array(data["arrays"][panel["values"]], dtype=float)
        for cell, tap, coefficient in edit["terms"][p]:
            values.flat[cell] += w[tap] * coefficient
        panels.append((panel["title"], values, {tuple(rc) for rc in panel["highlight"]}))
    index, if_equal, if_not = edit["verdict"]
    return first, f"{state['text']} {if_equal if widgets._all_equal(panels[index][1]) else if_not}", panels


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


def test_static_lab_sums_to_the_live_lab_for_any_taps():
    figure = widgets.checkerboard_lab_html()
    controls, states = decode(figure)
    assert [c["label"] for c in controls] == ["kernel", "kernel size", "strides"]
    assert len(states) == 2 * 4 * 3
    rng = np.random.default_rng(0)
    for key in states:
        dims, k, s = key.split("|")
        first, _, _ = typed(figure, key)
        np.testing.assert_array_equal(first, np.atleast_2d(widgets._lab_taps(dims, int(k))))
        one_d = dims == "1-D"
        for taps in [first, rng.integers(-3, 4, first.shape), rng.standard_normal(first.shape).round(2),
                     np.ones(first.shape)]:
            taps = taps[0] if one_d else taps
            _, text, panels = typed(figure, key, taps)
            live_text, live = widgets.checkerboard_panels(taps, int(s))
            assert text == live_text
            for (title, values, marked), panel in zip(panels, live[1:]):
                assert title == panel.title and marked == set(map(tuple, np.argwhere(panel.highlight)))
                np.testing.assert_allclose(values, panel.values, atol=1e-12)
            check_lab(text, [live[0], *as_widget_panels(panels)], taps, int(s))
    assert "Not balanced" in typed(figure, "2-D|3|2")[1]  # the challenge starts unsolved


def test_static_picker_holds_every_combination():
    controls, states = decode(widgets.output_padding_picker_html())
    assert len(states) == 5 * 5 * 2 * 2
    for key, (text, panels) in states.items():
        n, k, s, padding = key.split("|")
        check_picker(text, as_widget_panels(panels), int(n), int(k), int(s), padding)


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
