"""Checks for the ``from-scratch`` assignment: ``Conv2D`` and ``Conv2DTranspose`` on 2-D arrays.

The student's functions take one 2-D single-channel input ``X: (H, W)`` and kernel
``W: (kh, kw)`` with ``padding`` and ``strides=(sh, sw)`` and must return what Keras's
``Conv2D`` / ``Conv2DTranspose`` return for that input (one image, one channel).

* ``visible_*``: the article's worked examples and simple cases, with literal answers.
* ``hidden_*``: the special configurations, then random ones (``cases.hidden_rng``: the seed
  and the grading secret), each compared with the Keras layer run in this kernel through
  ``tconv_lib.keras_ref``.
"""
from __future__ import annotations

import numpy as np

from .. import article, keras_ref
from .cases import hidden_check, hidden_rng
from .core import Case, run_cases

# The article's worked examples (a 4x4 input, a 3x3 kernel, the 2x2 map they give, and a
# 2x2 kernel), as floats: what students' functions receive.
ARTICLE_X, ARTICLE_W3, ARTICLE_Y, ARTICLE_W2 = (a.astype(float) for a in
                                                (article.X, article.W3, article.Y, article.W2))

# Each random configuration set starts with the cases that separate Keras from a naive
# implementation: non-square shapes, "same" with an odd total padding (the extra zero goes
# at the bottom/right), and strides larger than the kernel.
_SPECIAL = (
    ((5, 7), (2, 3), (1, 1), "valid"),
    ((4, 6), (2, 2), (1, 1), "same"),
    ((6, 5), (2, 3), (3, 2), "valid"),
    ((4, 5), (3, 2), (2, 2), "same"),
    ((3, 4), (1, 2), (4, 3), "same"),
)
N_RANDOM = 25
SEED = {"Conv2D": 20240601, "Conv2DTranspose": 20240602}


def _describe(x, w, strides, padding) -> str:
    return (f"X {x.shape[0]}x{x.shape[1]}, W {w.shape[0]}x{w.shape[1]}, strides {tuple(strides)}, "
            f"padding={padding!r}")


def _case(x, w, strides, padding, expected) -> Case:
    return Case(_describe(x, w, strides, padding), (x, w),
                {"padding": padding, "strides": tuple(strides)}, np.asarray(expected, dtype=float))


def _configs(what: str, rng):
    """``_SPECIAL`` then ``N_RANDOM`` random ``(input_shape, kernel_shape, strides, padding)``."""
    yield from _SPECIAL
    for _ in range(N_RANDOM):
        kernel = tuple(int(k) for k in rng.integers(1, 6, size=2))
        low = kernel if what == "Conv2D" else (1, 1)  # a 'valid' Conv2D needs the kernel to fit
        shape = tuple(int(rng.integers(lo, 9)) for lo in low)
        strides = tuple(int(s) for s in rng.integers(1, 5, size=2))
        yield shape, kernel, strides, str(rng.choice(["valid", "same"]))


def _keras(what: str, x, w, strides, padding) -> np.ndarray:
    """The Keras layer's answer for one 2-D single-channel case, in float32 as Keras computes it."""
    fn = keras_ref.conv2d if what == "Conv2D" else keras_ref.conv2d_transpose
    y = fn(x[None, :, :, None].astype(np.float32), w[:, :, None, None].astype(np.float32),
           strides=strides, padding=padding)
    return y[0, :, :, 0]


def _hidden_cases(what: str) -> list[Case]:
    rng = hidden_rng(SEED[what])
    cases = []
    for shape, kernel, strides, padding in _configs(what, rng):
        # Small integers: every sum is exact in float32, and differences are easy to read.
        x = rng.integers(-5, 6, size=shape).astype(float)
        w = rng.integers(-3, 4, size=kernel).astype(float)
        cases.append(_case(x, w, strides, padding, _keras(what, x, w, strides, padding)))
    return cases


def visible_cases(what: str) -> list[Case]:
    """The article's worked examples and simple cases for ``what``, with their answers written out."""
    if what == "Conv2D":
        x35 = np.array([[1, 2, 0, 3, 1], [4, 0, 2, 1, 2], [1, 3, 1, 0, 4]], dtype=float)
        w22 = np.array([[1, 0], [2, -1]], dtype=float)
        return [
            _case(ARTICLE_X, ARTICLE_W3, (1, 1), "valid", ARTICLE_Y),
            _case(ARTICLE_X, ARTICLE_W3, (1, 1), "same",
                  [[19, 26, 46, 22], [29, 55, 52, 40], [42, 57, 50, 43], [36, 46, 44, 19]]),
            _case(ARTICLE_X, ARTICLE_W2, (1, 1), "valid", [[22, 14, 30], [21, 21, 37], [36, 32, 19]]),
            _case(ARTICLE_X, np.array([[2.0]]), (1, 1), "valid", 2 * ARTICLE_X),
            _case(x35, w22, (1, 2), "valid", [[9, 3], [3, 4]]),
        ]
    return [
        _case(ARTICLE_Y, ARTICLE_W2, (1, 1), "valid", [[55, 162, 104], [167, 323, 152], [114, 157, 50]]),
        _case(ARTICLE_Y, ARTICLE_W2, (1, 1), "same", [[55, 162], [167, 323]]),
        _case(ARTICLE_Y, ARTICLE_W3, (1, 1), "valid",
              [[55, 162, 159, 52], [167, 323, 319, 154], [169, 264, 326, 204], [57, 107, 164, 100]]),
        _case(ARTICLE_Y, ARTICLE_W2, (2, 2), "valid",
              [[55, 110, 52, 104], [110, 55, 104, 52], [57, 114, 50, 100], [114, 57, 100, 50]]),
        _case(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0]]), (1, 1), "valid", [[2, 4], [6, 8]]),
    ]


def _visible(student_fn, what: str) -> None:
    cases = visible_cases(what)
    passed = run_cases(student_fn, cases, what=what)
    for case in cases:
        print(f"ok  {what}: {case.config}")
    print(f"{what}: all {passed} visible checks passed.")


def visible_Conv2D(Conv2D) -> None:
    _visible(Conv2D, "Conv2D")


@hidden_check("Conv2D")
def hidden_Conv2D():
    return _hidden_cases("Conv2D")


def visible_Conv2DTranspose(Conv2DTranspose) -> None:
    _visible(Conv2DTranspose, "Conv2DTranspose")


@hidden_check("Conv2DTranspose")
def hidden_Conv2DTranspose():
    return _hidden_cases("Conv2DTranspose")
