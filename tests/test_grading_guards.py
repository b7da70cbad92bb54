"""The grading core and its runtime guards: each must reject what it is there to reject."""
from __future__ import annotations

import numpy as np
import pytest

import tconv_lib
from tconv_lib.grading import core, guards
from tconv_lib.grading.core import Case, GradingFailure, assert_close, run_cases

CASES = [Case("x 2x2", (np.array([[1.0, 2.0], [3.0, 4.0]]),), {}, np.array([[2.0, 4.0], [6.0, 8.0]]))]


def double(x):
    return 2 * x


def test_a_right_answer_passes():
    assert run_cases(double, CASES, what="double") == 1


def test_a_wrong_value_names_the_case_and_position():
    with pytest.raises(GradingFailure, match=r"double on x 2x2: first difference at position \(1, 0\): "
                                             r"expected 6, got 7 \(1 of 4 values differ\)"):
        run_cases(lambda x: 2 * x + np.array([[0, 0], [1, 0]]), CASES, what="double")


def test_a_wrong_shape_is_named():
    with pytest.raises(GradingFailure, match=r"expected shape \(2, 2\), got shape \(2,\)"):
        run_cases(lambda x: np.zeros(2), CASES, what="double")


def test_the_arguments_are_copies():
    def mutate(x):
        x[...] = 0
        return 2 * x
    with pytest.raises(GradingFailure):
        run_cases(mutate, CASES, what="double")
    assert CASES[0].args[0][1, 1] == 4.0


def test_plain_values_only_for_plain_expectations():
    class AlwaysEqual:
        def __ne__(self, other):
            return False
    assert_close((3, 4), (np.int64(3), 4), config="c", what="w")
    with pytest.raises(GradingFailure, match="got an object of type AlwaysEqual"):
        assert_close((3, 4), AlwaysEqual(), config="c", what="w")
    with pytest.raises(GradingFailure, match=r"expected \(3, 4\), got \(3, 5\)"):
        assert_close((3, 4), (3, 5), config="c", what="w")


def test_an_exception_names_the_case_and_the_students_line():
    def broken(x):
        return x[5, 5]
    with pytest.raises(GradingFailure, match=r"double raised IndexError: .* on x 2x2\n.*in broken: return x\[5, 5\]"):
        run_cases(broken, CASES, what="double")


def test_a_function_that_never_returns_fails_after_the_time_limit():
    # The limit itself is protected (changing it is refused like any other tampering).
    def endless(x):
        while True:
            pass
    with pytest.raises(GradingFailure, match=rf"double did not return within {guards.TIME_LIMIT_S:g} s on x 2x2"):
        run_cases(endless, CASES, what="double")


def test_calling_the_course_library_is_refused():
    def borrowed(x):
        tconv_lib.conv2d(x[None, :, :, None], np.ones((1, 1, 1, 1)))
        return 2 * x
    with pytest.raises(GradingFailure, match=r"double called tconv_lib\.conv\..* NumPy only"):
        run_cases(borrowed, CASES, what="double")


def test_calling_keras_is_refused():
    from tconv_lib import keras_ref
    keras = keras_ref.keras()  # loaded before the student's call, as in the grading kernel

    def borrowed(x):
        layer = keras.layers.Conv2D(1, 1, use_bias=False)
        layer(x[None, :, :, None].astype(np.float32))
        return 2 * x
    with pytest.raises(GradingFailure, match=r"double called (keras|tensorflow)\."):
        run_cases(borrowed, CASES, what="double")


@pytest.mark.parametrize("owner, name", [(np, "isclose"), (np, "argwhere"), (core, "assert_close"),
                                         (__import__("builtins"), "len")])
def test_grading_refuses_when_a_function_it_relies_on_was_replaced(monkeypatch, owner, name):
    original = getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args, **kwargs: original(*args, **kwargs))  # same results
    with pytest.raises(GradingFailure, match=rf"refusing to grade: .*{name} was replaced"):
        run_cases(double, CASES, what="double")


def test_grading_refuses_when_the_student_function_patches_numpy(monkeypatch):
    original = np.isclose
    def patching(x):
        np.isclose = lambda *args, **kwargs: True
        return x
    try:
        with pytest.raises(GradingFailure, match=r"refusing to grade: numpy\.isclose"):
            run_cases(patching, CASES, what="double")
    finally:
        np.isclose = original


def test_a_grading_failure_is_shown_as_its_message_only():
    class Shell:
        def _showtraceback(self, etype, value, stb):
            self.shown = (etype, stb)
    shell = Shell()
    guards._show_failure(shell, GradingFailure, GradingFailure("Conv2D on X 2x2: wrong"), None)
    assert shell.shown == (GradingFailure, ["\x1b[0;31mGradingFailure\x1b[0m: Conv2D on X 2x2: wrong"])
