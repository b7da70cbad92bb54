"""Checks for the ``upsampling`` assignment: the four fixed (not learned) upsamplings.

Students work on 2-D single-channel arrays ``x: (H, W)`` with ``size = (sh, sw)``:

* ``upsample_nearest(x, size)`` and ``upsample_bilinear(x, size)`` -> ``(H * sh, W * sw)``,
  checked against ``keras.layers.UpSampling2D`` (interpolation "nearest" / "bilinear");
* ``bed_of_nails(x, size)`` -> ``(H * sh, W * sw)``, checked against ``tconv_lib`` (Keras has no layer);
* ``max_unpool(pooled, argmax, output_shape)`` -> ``output_shape``, with ``pooled`` and
  ``argmax`` made by ``tf.nn.max_pool_with_argmax`` on non-overlapping windows.
"""
from __future__ import annotations

import numpy as np

import tconv_lib
from tconv_lib import keras_ref
from tconv_lib.grading import core
from tconv_lib.grading.cases import check, hidden_rng, hidden_check

_X = [[1.0, 2.0], [3.0, 4.0]]


def _image_cases(seed: int, count: int, reference_fn) -> list[core.Case]:
    """Random images ``(H, W)`` and sizes ``(sh, sw)``, mostly not square.

    ``reference_fn(x, size)`` computes the expected result on ``x`` reshaped to (1, H, W, 1).
    """
    rng = hidden_rng(seed)
    cases = []
    for _ in range(count):
        h, w, sh, sw = (int(v) for v in rng.integers(1, [7, 7, 5, 5], endpoint=True))
        x = np.round(rng.uniform(-5, 5, size=(h, w)), 2)
        expected = reference_fn(x[None, :, :, None], (sh, sw))[0, :, :, 0]
        cases.append(core.Case(f"x of shape {x.shape}, size {(sh, sw)}", (x, (sh, sw)), {}, expected))
    return cases


def _visible(student_fn, examples, what):
    cases = [core.Case(f"x = {x}, size {size}", (np.array(x), size), {}, np.array(expected))
             for x, size, expected in examples]
    check(student_fn, cases, what=what)


def visible_upsample_nearest(upsample_nearest):
    _visible(upsample_nearest, [
        (_X, (2, 2), [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]),
        (_X, (1, 3), [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]),
        ([[5.0, 6.0, 7.0]], (2, 1), [[5, 6, 7], [5, 6, 7]]),
    ], "upsample_nearest")


@hidden_check("upsample_nearest")
def hidden_upsample_nearest():
    cases = _image_cases(41, 20, lambda x, size: keras_ref.upsampling2d(x, size, "nearest"))
    return cases


def visible_upsample_bilinear(upsample_bilinear):
    _visible(upsample_bilinear, [
        (_X, (2, 2), [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5],
                      [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4]]),
        ([[0.0, 3.0]], (1, 3), [[0, 0, 1, 2, 3, 3]]),
        ([[2.0], [6.0]], (4, 1), [[2], [2], [2.5], [3.5], [4.5], [5.5], [6], [6]]),
        ([[7.0]], (2, 3), [[7, 7, 7], [7, 7, 7]]),
    ], "upsample_bilinear")


@hidden_check("upsample_bilinear")
def hidden_upsample_bilinear():
    cases = _image_cases(42, 20, lambda x, size: keras_ref.upsampling2d(x, size, "bilinear"))
    return cases


def visible_bed_of_nails(bed_of_nails):
    _visible(bed_of_nails, [
        (_X, (2, 2), [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]),
        (_X, (1, 3), [[1, 0, 0, 2, 0, 0], [3, 0, 0, 4, 0, 0]]),
    ], "bed_of_nails")


@hidden_check("bed_of_nails", reference="tconv_lib (Keras has no bed-of-nails layer)")
def hidden_bed_of_nails():
    return _image_cases(43, 20, tconv_lib.bed_of_nails)


def visible_max_unpool(max_unpool):
    """A 4x4 image pooled by 2x2 windows, and a 3x5 one pooled by 2x2 windows with "same" padding."""
    examples = [
        # pooled, argmax (flat index y * W + x into the image), output_shape -> expected
        ([[6.0, 8.0], [9.0, 7.0]], [[4, 3], [12, 10]], (4, 4),
         [[0, 0, 0, 8], [6, 0, 0, 0], [0, 0, 7, 0], [9, 0, 0, 0]]),
        ([[5.0, 4.0, 9.0], [3.0, 8.0, 2.0]], [[6, 2, 9], [10, 13, 14]], (3, 5),
         [[0, 0, 4, 0, 0], [0, 5, 0, 0, 9], [3, 0, 0, 8, 2]]),
    ]
    cases = [core.Case(f"pooled = {p}, argmax = {a}, output_shape {shape}",
                       (np.array(p), np.array(a), shape), {}, np.array(expected, dtype=float))
             for p, a, shape, expected in examples]
    check(max_unpool, cases, what="max_unpool")


@hidden_check("max_unpool", reference=lambda: "tconv_lib's unpooling of max pooling with indices "
                                              f"({keras_ref.device_description()})")
def hidden_max_unpool():
    rng = hidden_rng(44)
    cases = []
    for _ in range(20):
        h, w, ph, pw = (int(v) for v in rng.integers(1, [8, 8, 3, 3], endpoint=True))
        padding = ("valid", "same")[int(rng.integers(2))]
        if padding == "valid" and (ph > h or pw > w):
            padding = "same"
        x = rng.permutation(h * w).reshape(1, h, w, 1).astype(np.float64)  # distinct: no ties
        # Windows as large as the stride never overlap, so every index is used at most once.
        pooled, argmax = keras_ref.max_pool_with_argmax(x, (ph, pw), (ph, pw), padding)
        expected = tconv_lib.max_unpool(pooled, argmax, x.shape)[0, :, :, 0]
        config = f"image {h}x{w} max-pooled by {ph}x{pw} windows, padding={padding!r}"
        cases.append(core.Case(config, (pooled[0, :, :, 0], argmax[0, :, :, 0], (h, w)), {}, expected))
    return cases
