"""The from-scratch checker: the instructor solution passes, wrong answers fail, literals are Keras's."""
from __future__ import annotations

import numpy as np
import pytest

from tconv_lib import keras_ref
from tconv_lib.grading import from_scratch
from tconv_lib.grading.core import GradingFailure
from tconv_lib.grading.selftest import solution_answers

@pytest.fixture(scope="module")
def solution():
    """The instructor's Conv2D and Conv2DTranspose, run from the source notebook."""
    namespace = {"np": np}
    for source in solution_answers("from-scratch").values():
        exec(source, namespace)
    return namespace


@pytest.mark.parametrize("fn", ["Conv2D", "Conv2DTranspose"])
@pytest.mark.parametrize("kind", ["visible", "hidden"])
def test_the_solution_passes_and_the_check_returns_none(solution, fn, kind, capsys):
    assert getattr(from_scratch, f"{kind}_{fn}")(solution[fn]) is None  # a number would be a score
    assert ("all 30 generated configurations agree with Keras" if kind == "hidden" else "all 5 visible") \
        in capsys.readouterr().out


def _off_by_one(fn):
    def wrong(X, W, padding="valid", strides=(1, 1)):
        Y = fn(X, W, padding=padding, strides=strides).copy()
        Y[-1, -1] += 1
        return Y
    return wrong


def _symmetric_same(fn):
    """Pads "same" like the reference article: as many zeros before as after."""
    def wrong(X, W, padding="valid", strides=(1, 1)):
        if padding == "same" and (W.shape[0] - 1) % 2:
            return fn(np.pad(X, ((0, 1), (0, 0)))[1:], W, padding=padding, strides=strides)
        return fn(X, W, padding=padding, strides=strides)
    return wrong


def _no_trailing_gap(fn):
    """Conv2DTranspose as (n - 1) * s + k long, as in the article."""
    def wrong(X, W, padding="valid", strides=(1, 1)):
        Y = fn(X, W, padding=padding, strides=strides)
        if padding == "valid":
            Y = Y[:(X.shape[0] - 1) * strides[0] + W.shape[0], :(X.shape[1] - 1) * strides[1] + W.shape[1]]
        return Y
    return wrong


@pytest.mark.parametrize("fn", ["Conv2D", "Conv2DTranspose"])
@pytest.mark.parametrize("kind", ["visible", "hidden"])
def test_an_off_by_one_answer_fails_with_the_position(solution, fn, kind):
    with pytest.raises(GradingFailure, match=rf"{fn} on X \d+x\d+, W .*first difference at position"):
        getattr(from_scratch, f"{kind}_{fn}")(_off_by_one(solution[fn]))


def test_hidden_catches_what_visible_does_not(solution):
    from_scratch.visible_Conv2D(_symmetric_same(solution["Conv2D"]))
    with pytest.raises(GradingFailure, match="padding='same'"):
        from_scratch.hidden_Conv2D(_symmetric_same(solution["Conv2D"]))
    from_scratch.visible_Conv2DTranspose(_no_trailing_gap(solution["Conv2DTranspose"]))
    with pytest.raises(GradingFailure, match=r"strides \(3, 2\), padding='valid': expected shape \(18, 11\)"):
        from_scratch.hidden_Conv2DTranspose(_no_trailing_gap(solution["Conv2DTranspose"]))


def test_visible_literals_are_what_keras_computes():
    article = [from_scratch.ARTICLE_X, from_scratch.ARTICLE_W3]
    y = keras_ref.conv2d(article[0][None, :, :, None].astype(np.float32),
                         article[1][:, :, None, None].astype(np.float32))
    np.testing.assert_array_equal(y[0, :, :, 0], from_scratch.ARTICLE_Y)
    seen = []
    for fn in ("Conv2D", "Conv2DTranspose"):
        ref = keras_ref.conv2d if fn == "Conv2D" else keras_ref.conv2d_transpose

        def keras_answer(X, W, padding="valid", strides=(1, 1), ref=ref):
            seen.append(fn)
            out = ref(X[None, :, :, None].astype(np.float32), W[:, :, None, None].astype(np.float32),
                      strides=strides, padding=padding)
            return out[0, :, :, 0]
        # The literals of the visible cases are what the Keras layer computes.
        for case in from_scratch.visible_cases(fn):
            np.testing.assert_array_equal(keras_answer(*case.args, **case.kwargs), case.expected)
    assert seen.count("Conv2D") == 5 and seen.count("Conv2DTranspose") == 5
