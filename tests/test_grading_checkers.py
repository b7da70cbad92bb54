"""The checker modules of the five exercise assignments accept right answers and reject wrong ones.

Right answers are thin wrappers around tconv_lib (tested against Keras elsewhere). Each wrong
answer is a mistake a student could make (often the article's own formula); the test asserts
that the check fails with a message naming the configuration and what differs.

The checks run here as in a student's own kernel (the function is called directly and what it
returns goes through ``wire.roundtrip``); grading runs the same checks against the sandbox
(tests/test_exercises.py).
"""
from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import tconv_lib
from tconv_lib.grading import checkerboard, core, multichannel, output_shapes, upsampling
from tconv_lib.grading import zero_insertion_matrix as zim


def _passed(printed: str) -> int:
    """The number of cases a check reported as passed (checkers print it and return None)."""
    counts = re.findall(r": all (\d+) ", printed)
    assert len(counts) == 1, printed
    return int(counts[0])


def _one(fn):
    """A tconv_lib function on (N, H, W, C) arrays as a function of one (H, W) image."""
    def call(x, *args, **kwargs):
        return fn(np.asarray(x)[None, :, :, None], *args, **kwargs)[0, :, :, 0]
    return call


def _rejects(checker, answer, *words):
    with pytest.raises(core.GradingFailure) as failure:
        checker(answer)
    message = str(failure.value)
    for word in words:
        assert word in message, message
    return message


# ---- right answers ---------------------------------------------------------------------

def _tconv_1ch(x, kernel, strides=(1, 1), padding="valid"):
    return tconv_lib.conv2d_transpose(np.asarray(x)[None, :, :, None],
                                      np.asarray(kernel)[:, :, None, None],
                                      strides=strides, padding=padding)[0, :, :, 0]


def _overlap_1d(length, kernel_size, strides, padding="valid"):
    return tconv_lib.overlap_count((1, length), (1, kernel_size), (1, strides), padding)[0]


def _choose(factor, min_kernel_size):
    return factor * math.ceil(min_kernel_size / factor), factor


RIGHT = {
    upsampling.visible_upsample_nearest: _one(tconv_lib.upsample_nearest),
    upsampling.visible_upsample_bilinear: _one(tconv_lib.upsample_bilinear),
    upsampling.visible_bed_of_nails: _one(tconv_lib.bed_of_nails),
    upsampling.visible_max_unpool: lambda p, a, shape: tconv_lib.max_unpool(
        np.asarray(p)[None, :, :, None], np.asarray(a)[None, :, :, None], (1, *shape, 1))[0, :, :, 0],
    zim.visible_insert_zeros: _one(tconv_lib.insert_zeros),
    zim.visible_conv2d_transpose_zero_insertion: _tconv_1ch,
    zim.visible_conv_matrix: tconv_lib.conv_matrix,
    zim.visible_conv2d_transpose_matrix: _tconv_1ch,
    output_shapes.visible_conv2d_output_shape: tconv_lib.conv2d_output_shape,
    output_shapes.visible_conv2d_same_padding: lambda i, k, s: tconv_lib.conv2d_padding(i, k, s, "same"),
    output_shapes.visible_conv2d_transpose_output_shape: tconv_lib.conv2d_transpose_output_shape,
    checkerboard.visible_overlap_count_1d: _overlap_1d,
    checkerboard.visible_overlap_count_2d: tconv_lib.overlap_count,
    checkerboard.visible_choose_kernel_and_stride: _choose,
    multichannel.visible_pixel_contribution: lambda p, k: tconv_lib.conv2d_transpose(
        np.asarray(p)[None, None, None, :], k)[0],
    multichannel.visible_conv2d_transpose: tconv_lib.conv2d_transpose,
}


def _hidden(visible):
    return getattr(sys.modules[visible.__module__], visible.__name__.replace("visible_", "hidden_"))


@pytest.mark.parametrize("visible", list(RIGHT), ids=lambda f: f.__name__)
def test_visible_check_accepts_a_right_answer(visible, capsys):
    assert visible(RIGHT[visible]) is None
    printed = capsys.readouterr().out
    passed = _passed(printed)
    assert passed >= 2 and f"all {passed} checks passed" in printed and printed.count("  ok  ") == passed


@pytest.mark.parametrize("visible", list(RIGHT), ids=lambda f: f.__name__)
def test_hidden_check_accepts_a_right_answer(visible, capsys):
    assert _hidden(visible)(RIGHT[visible]) is None
    printed = capsys.readouterr().out
    assert _passed(printed) >= 16 and "generated configurations agree with" in printed


def test_visible_literals_are_what_keras_computes():
    """The hand-worked expected values of the visible checks agree with Keras itself.

    (Where Keras has no such operation, the right-answer tests above check them against tconv_lib.)
    """
    from tconv_lib import keras_ref

    upsampling.visible_upsample_nearest(lambda x, size: keras_ref.upsampling2d(
        np.asarray(x)[None, :, :, None], size, "nearest")[0, :, :, 0])
    upsampling.visible_upsample_bilinear(lambda x, size: keras_ref.upsampling2d(
        np.asarray(x)[None, :, :, None], size, "bilinear")[0, :, :, 0])

    def keras_tconv_1ch(x, kernel, strides=(1, 1), padding="valid"):
        return keras_ref.conv2d_transpose(np.asarray(x)[None, :, :, None],
                                          np.asarray(kernel)[:, :, None, None],
                                          strides=strides, padding=padding)[0, :, :, 0]
    zim.visible_conv2d_transpose_zero_insertion(keras_tconv_1ch)
    zim.visible_conv2d_transpose_matrix(keras_tconv_1ch)
    checkerboard.visible_overlap_count_1d(lambda n, k, s, p: np.rint(keras_tconv_1ch(
        np.ones((1, n)), np.ones((1, k)), (1, s), p)[0]))
    checkerboard.visible_overlap_count_2d(lambda i, k, s, p: np.rint(keras_tconv_1ch(
        np.ones(i), np.ones(k), s, p)))
    multichannel.visible_conv2d_transpose(lambda x, k, b, s, p: keras_ref.conv2d_transpose(x, k, b, s, p))
    multichannel.visible_pixel_contribution(lambda p, k: keras_ref.conv2d_transpose(p[None, None, None, :], k)[0])
    output_shapes.visible_conv2d_output_shape(lambda i, k, s, p, d: keras_ref.conv2d(
        np.zeros((1, *i, 1)), np.zeros((*k, 1, 1)), strides=s, padding=p, dilation_rate=d).shape[1:3])
    output_shapes.visible_conv2d_transpose_output_shape(lambda i, k, s, p, op, d: keras_ref.conv2d_transpose(
        np.zeros((1, *i, 1)), np.zeros((*k, 1, 1)), strides=s, padding=p, output_padding=op,
        dilation_rate=d).shape[1:3])


def test_max_unpool_examples_come_from_real_pooling():
    """The visible max_unpool examples are what max pooling an image gives (not arbitrary indices)."""
    from tconv_lib import keras_ref

    image = np.array([[0, 1, 2, 8], [6, 0, 1, 0], [0, 5, 7, 4], [9, 1, 3, 2]], dtype=float)
    pooled, argmax = keras_ref.max_pool_with_argmax(image[None, :, :, None], 2, 2, "valid")
    assert pooled[0, :, :, 0].tolist() == [[6, 8], [9, 7]] and argmax[0, :, :, 0].tolist() == [[4, 3], [12, 10]]
    image = np.array([[1, 0, 4, 0, 0], [0, 5, 0, 0, 9], [3, 0, 0, 8, 2]], dtype=float)
    pooled, argmax = keras_ref.max_pool_with_argmax(image[None, :, :, None], 2, 2, "same")
    assert pooled[0, :, :, 0].tolist() == [[5, 4, 9], [3, 8, 2]]
    assert argmax[0, :, :, 0].tolist() == [[6, 2, 9], [10, 13, 14]]


# ---- wrong answers ---------------------------------------------------------------------

def _article_tconv_1ch(x, kernel, strides=(1, 1), padding="valid"):
    """The article's algorithm: full scatter, then for "same" a crop of k - s split floor/ceil; no gaps kept."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    (h, w), (kh, kw), (sh, sw) = x.shape, kernel.shape, strides
    out = np.zeros(((h - 1) * sh + kh, (w - 1) * sw + kw))
    for r in range(h):
        for c in range(w):
            out[r * sh:r * sh + kh, c * sw:c * sw + kw] += x[r, c] * kernel
    if padding == "same":
        top, left = (kh - sh) // 2, (kw - sw) // 2
        out = out[top:top + h * sh, left:left + w * sw]
    return out


def _align_corners_bilinear(x, size):
    """Bilinear with corners aligned (not Keras's half-pixel centres)."""
    x = np.asarray(x, float)
    (h, w), (sh, sw) = x.shape, size
    ys = np.linspace(0, h - 1, h * sh)
    xs = np.linspace(0, w - 1, w * sw)
    rows = np.array([np.interp(xs, np.arange(w), row) for row in x])
    return np.array([np.interp(ys, np.arange(h), col) for col in rows.T]).T


WRONG = [
    # (checker, wrong answer, words the message must contain)
    (upsampling.visible_upsample_nearest, lambda x, size: np.kron(x, np.ones(size[::-1])), "expected shape"),
    (upsampling.hidden_upsample_nearest, lambda x, size: np.tile(x, size), "first difference at position"),
    (upsampling.hidden_upsample_bilinear, _align_corners_bilinear, "first difference"),
    (upsampling.visible_upsample_bilinear, _one(tconv_lib.upsample_nearest), "size (2, 2)"),
    (upsampling.hidden_bed_of_nails,  # the pixel in the middle of its block instead of the corner
     lambda x, size: np.roll(_one(tconv_lib.bed_of_nails)(x, size), (size[0] // 2, size[1] // 2), (0, 1)),
     "first difference"),
    (upsampling.hidden_max_unpool,  # argmax read as x * H + y
     lambda p, a, shape: np.bincount((a % shape[1] * shape[0] + a // shape[1]).ravel(), p.ravel(),
                                     shape[0] * shape[1]).reshape(shape), "max-pooled by"),
    # The pooled map's shape: wrong whenever a window is larger than 1x1 (the value differs otherwise).
    (upsampling.hidden_max_unpool, lambda p, a, shape: np.zeros(p.shape), "max_unpool on image"),
    (zim.hidden_insert_zeros, lambda x, s: _one(tconv_lib.insert_zeros)(x, s[::-1]), "strides"),
    (zim.visible_conv2d_transpose_zero_insertion, _article_tconv_1ch, "strides (3, 3), padding='valid'"),
    (zim.hidden_conv2d_transpose_zero_insertion, _article_tconv_1ch, "X 3x4, W 2x1, strides (3, 2)"),
    (zim.hidden_conv2d_transpose_zero_insertion,  # kernel not flipped: a correlation, not the transpose
     lambda x, k, s, p: _tconv_1ch(x, np.asarray(k)[::-1, ::-1], s, p), "first difference"),
    (zim.hidden_conv_matrix, lambda shape, k, s: tconv_lib.conv_matrix(shape, np.asarray(k)[::-1, ::-1], s),
     "first difference"),
    (zim.visible_conv_matrix, lambda shape, k, s: tconv_lib.conv_matrix(shape, k, s).T, "expected shape (4, 16)"),
    (zim.hidden_conv2d_transpose_matrix, lambda x, k, s: _article_tconv_1ch(x, k, s), "strides (3, 2)"),
    (output_shapes.visible_conv2d_output_shape,  # "same" as input // stride
     lambda i, k, s, p, d: tconv_lib.conv2d_output_shape(i, k, s, p, d) if p == "valid"
     else tuple(n // t for n, t in zip(i, s)), "expected (4, 3), got (3, 2)"),
    (output_shapes.hidden_conv2d_output_shape,  # dilation ignored
     lambda i, k, s, p, d: tconv_lib.conv2d_output_shape(i, k, s, p), "dilation_rate"),
    (output_shapes.visible_conv2d_same_padding,  # the article: ceil of half the total on both sides
     lambda i, k, s: tuple((math.ceil(((n / t - 1) * t + m - n) / 2),) * 2 for n, m, t in zip(i, k, s)),
     "expected ((0, 1), (0, 1))"),
    (output_shapes.hidden_conv2d_same_padding,  # the extra row at the top instead of the bottom
     lambda i, k, s: tuple((b, a) for a, b in tconv_lib.conv2d_padding(i, k, s, "same")), "padding='same'"),
    (output_shapes.hidden_conv2d_transpose_output_shape,  # the article's (i - 1) * s + k
     lambda i, k, s, p, op, d: tuple((n - 1) * t + m if p == "valid" else n * t for n, m, t in zip(i, k, s)),
     "expected"),
    (output_shapes.hidden_conv2d_transpose_output_shape,  # output_padding ignored
     lambda i, k, s, p, op, d: tconv_lib.conv2d_transpose_output_shape(i, k, s, p, None, d), "output_padding="),
    (output_shapes.visible_conv2d_transpose_output_shape, lambda *a: "8x8", "got '8x8'"),
    (checkerboard.visible_overlap_count_1d,  # the full scatter, never cut or extended
     lambda n, k, s, p: _overlap_1d(n, k, s, "valid")[:(n - 1) * s + k], "padding='same'"),
    (checkerboard.hidden_overlap_count_1d, lambda n, k, s, p: np.ones(len(_overlap_1d(n, k, s, p))), "input length"),
    (checkerboard.hidden_overlap_count_2d,  # the sum of the 1-D counts instead of their product
     lambda i, k, s, p: _overlap_1d(i[0], k[0], s[0], p)[:, None] + _overlap_1d(i[1], k[1], s[1], p)[None, :],
     "first difference"),
    (checkerboard.visible_choose_kernel_and_stride, lambda f, k: (max(k, f), f), "expected (4, 2), got (3, 2)"),
    (checkerboard.hidden_choose_kernel_and_stride, lambda f, k: (2 * f, f), "kernel size at least"),
    (checkerboard.hidden_choose_kernel_and_stride, lambda f, k: _choose(f, k)[::-1], "upsampling factor"),
    (multichannel.visible_pixel_contribution,  # every input channel weighted alike
     lambda p, k: np.asarray(k).sum(axis=3) * np.sum(p), "pixel = [1, 2]"),
    (multichannel.hidden_conv2d_transpose,  # bias forgotten
     lambda x, k, b, s, p: tconv_lib.conv2d_transpose(x, k, None, s, p), "bias=True"),
    (multichannel.hidden_conv2d_transpose,  # the flipped kernel of the zero-insertion view, scattered
     lambda x, k, b, s, p: tconv_lib.conv2d_transpose(x, k[::-1, ::-1], b, s, p), "channels_in="),
]


@pytest.mark.parametrize("checker, answer, words", WRONG,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(WRONG)])
def test_check_rejects_a_wrong_answer(checker, answer, words):
    _rejects(checker, answer, words)


def test_every_checker_rejects_some_wrong_answer():
    checked = {checker.__name__.split("_", 1)[1] for checker, _, _ in WRONG}
    assert checked == {visible.__name__.split("_", 1)[1] for visible in RIGHT}


def test_sizes_may_hold_numpy_integers_but_must_be_tuples():
    answer = tconv_lib.conv2d_transpose_output_shape
    output_shapes.visible_conv2d_transpose_output_shape(lambda *a: tuple(np.int64(n) for n in answer(*a)))
    _rejects(output_shapes.visible_conv2d_transpose_output_shape, lambda *a: list(answer(*a)),
             "expected (4, 4), got [4, 4]")


def test_generated_configurations_cover_the_edge_cases_and_repeat():
    configs = output_shapes.tconv_configs(5, 30)
    assert configs == output_shapes.tconv_configs(5, 30)
    assert any(s > k for c in configs for s, k in zip(c.strides, c.kernel_size) if c.padding == "valid")
    assert any((k - s) % 2 == 1 for c in configs for s, k in zip(c.strides, c.kernel_size) if c.padding == "same")
    assert any(c.input_shape[0] != c.input_shape[1] for c in configs)


# ---- the instructor solutions pass every check --------------------------------------

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    upsampling: "upsampling/upsampling.ipynb",
    zim: "zero-insertion-matrix/zero_insertion_matrix.ipynb",
    output_shapes: "output-shapes/output_shapes.ipynb",
    checkerboard: "checkerboard/checkerboard.ipynb",
    multichannel: "multichannel/multichannel.ipynb",
}


def _student_cells(path: Path) -> list[str]:
    """Sources of the cells a student may edit: answers, and the ungraded cells to try things in."""
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("locked")]


@pytest.mark.parametrize("module", list(NOTEBOOKS), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_solution_notebooks_pass_every_check(module, capsys):
    """The solution cells pass every visible and hidden check."""
    path = ROOT / "solutions" / NOTEBOOKS[module]
    answers = [source for source in _student_cells(path) if "### BEGIN SOLUTION" in source]
    assert answers
    namespace = {"np": np, "__name__": "submission"}
    for source in answers:
        exec(compile(source, str(path), "exec"), namespace)
    functions = sorted(name[len("visible_"):] for name in vars(module) if name.startswith("visible_"))
    assert functions == sorted(name for name in namespace if not name.startswith("_") and name != "np")
    for name in functions:
        getattr(module, f"visible_{name}")(namespace[name])
        getattr(module, f"hidden_{name}")(namespace[name])
    printed = capsys.readouterr().out
    assert printed.count("checks passed") == printed.count("generated configurations agree") == len(functions)


def test_hidden_cases_come_from_the_seed_and_the_grading_secret(monkeypatch):
    """The seeds are public: without the secret a student could compute every hidden case at home."""
    from tconv_lib.grading import cases

    def draw(secret):
        monkeypatch.setenv(cases.SECRET_VARIABLE, secret)
        cases._secret.cache_clear()
        return cases.tconv_configs(7, 12), cases.hidden_rng(7).integers(0, 10 ** 9, size=4).tolist()
    try:
        assert draw("the instructor's") == draw("the instructor's")  # repeatable grading
        assert draw("the instructor's") != draw("another")
        assert draw("another")[0][:len(cases.EDGE_CONFIGS)] == list(cases.EDGE_CONFIGS)
        monkeypatch.delenv(cases.SECRET_VARIABLE)
        cases._secret.cache_clear()
        first = cases.hidden_rng(7).integers(0, 10 ** 9, size=4).tolist()
        cases._secret.cache_clear()
        assert cases.hidden_rng(7).integers(0, 10 ** 9, size=4).tolist() != first  # drawn per kernel
    finally:
        cases._secret.cache_clear()


def test_hidden_checks_do_not_repeat_the_students_exception_message():
    """A message could carry the hidden inputs into the feedback (and a lookup table into a regrade)."""
    from tconv_lib.grading import from_scratch

    def leaky(X, W, padding="valid", strides=(1, 1)):
        raise ValueError(f"inputs were {np.asarray(X).tolist()}")
    hidden = _rejects(from_scratch.hidden_Conv2D, leaky, "raised ValueError (its message is not shown")
    assert "inputs were" not in hidden
    assert "inputs were" in _rejects(from_scratch.visible_Conv2D, leaky, "raised ValueError: ")


def test_a_worker_given_the_references_uses_them_and_builds_none_of_its_own(monkeypatch):
    """On a Dask worker a check built there would draw its cases with the worker's secret."""
    from tconv_lib.grading import cases, core, from_scratch

    monkeypatch.setattr(cases, "_BUILT", {})
    monkeypatch.setattr(cases, "_INSTALLED", None)
    modules = cases.checker_modules(["from tconv_lib.grading.from_scratch import hidden_Conv2D\nimport numpy"])
    assert modules == {"tconv_lib.grading.from_scratch"}
    built = cases.references(sorted(modules))
    assert set(built) == {"tconv_lib.grading.from_scratch.hidden_Conv2D",
                          "tconv_lib.grading.from_scratch.hidden_Conv2DTranspose"}
    cases.install({})
    with pytest.raises(RuntimeError, match="not among the references"):
        from_scratch.hidden_Conv2D(lambda X, W, padding="valid", strides=(1, 1): X)
    cases.install(built)
    assert cases.built("tconv_lib.grading.from_scratch.hidden_Conv2D") is built[
        "tconv_lib.grading.from_scratch.hidden_Conv2D"]
    with pytest.raises(core.GradingFailure):
        from_scratch.hidden_Conv2D(lambda X, W, padding="valid", strides=(1, 1): X)
