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


# ---- the audit hook and the reading of results: what a student function reaches past the static check

def _via_numpy_internals():
    """``sys``, as a function that got past the static check could reach it (np.testing's internals)."""
    return np.testing._private.utils.sys


@pytest.mark.parametrize("attack, refused", [
    (lambda x, tmp: np.savetxt(tmp / "tensorflow.py", [], header="x = 1", comments=""), "open"),
    (lambda x, tmp: x.tofile(tmp / "x.bin"), "open"),
    (lambda x, tmp: np.fromfile("/proc/self/maps", dtype=np.uint8), "open"),
    (lambda x, tmp: np.ctypeslib.load_library("libc.so.6", "/lib/x86_64-linux-gnu"), "ctypes.dlopen"),
    (lambda x, tmp: _via_numpy_internals().setprofile(None), "sys.setprofile"),
    (lambda x, tmp: _via_numpy_internals()._getframe(1), "sys._getframe"),
    (lambda x, tmp: _via_numpy_internals().modules["gc"].get_objects(), "gc.get_objects"),
    (lambda x, tmp: _via_numpy_internals().modules["os"].system("true"), "os.system"),
])
def test_a_student_function_cannot_reach_files_c_code_threads_or_the_profiler(tmp_path, attack, refused):
    def student(x):
        attack(x, tmp_path)
        return 2 * x
    with pytest.raises(GradingFailure, match=rf"double raised PermissionError: {refused} is not allowed"):
        run_cases(student, CASES, what="double")
    assert not list(tmp_path.iterdir())
    assert run_cases(double, CASES, what="double") == 1  # grading code itself is not restricted


def test_a_library_call_behind_a_removed_profiler_is_still_refused():
    def borrowed(x):
        _via_numpy_internals().setprofile(None)
        return tconv_lib.conv2d(x[None, :, :, None], np.full((1, 1, 1, 1), 2.0))[0, :, :, 0]
    with pytest.raises(GradingFailure, match="PermissionError: sys.setprofile is not allowed"):
        run_cases(borrowed, CASES, what="double")


def test_a_library_call_in_a_thread_is_still_refused():
    # Python 3.11 audits no thread start: threads started through threading get the watch.
    def borrowed(x):
        thread = _via_numpy_internals().modules["threading"].Thread(
            target=tconv_lib.conv2d, args=(x[None, :, :, None], np.ones((1, 1, 1, 1))))
        thread.start()
        thread.join()
        return 2 * x
    with pytest.raises(GradingFailure, match=r"double called tconv_lib\.conv\."):
        run_cases(borrowed, CASES, what="double")


def test_the_audit_hook_is_off_outside_student_code(tmp_path):
    (tmp_path / "ok.txt").write_text("grading code may write")  # no student code is running
    assert guards._mode[0] == guards._OFF


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_a_base_exception_is_a_one_line_failure(error):
    def stop(x):
        raise error("stop")
    with pytest.raises(GradingFailure, match=rf"double raised {error.__name__}: stop on x 2x2"):
        run_cases(stop, CASES, what="double")


@pytest.mark.parametrize("returned, message", [
    ([[10 ** 400, 0], [0, 0]], "expected a NumPy array of shape \\(2, 2\\), got list"),
    ({"a": 1}, "expected a NumPy array of shape \\(2, 2\\), got dict"),
    ((x for x in range(4)), "expected a NumPy array of shape \\(2, 2\\), got generator"),
])
def test_a_result_that_cannot_be_read_is_a_one_line_failure(returned, message):
    with pytest.raises(GradingFailure, match=rf"double on x 2x2: {message}"):
        run_cases(lambda x: returned, CASES, what="double")


def test_reading_the_result_is_under_the_time_limit(monkeypatch):
    monkeypatch.setattr(guards, "TIME_LIMIT_S", 0.5)
    def slow_read(expected, obtained, **kwargs):
        while True:
            pass
    monkeypatch.setattr(core, "_read", slow_read)
    monkeypatch.setattr(guards, "_snapshot", {})  # the replaced _read is the test's, not a student's
    with pytest.raises(GradingFailure, match=r"double did not return within 0.5 s"):
        run_cases(double, CASES, what="double")


def test_warnings_of_a_student_function_do_not_reach_stderr(capfd):
    # nbgrader gives 0 to a test cell that writes to stderr, as a warning does.
    import warnings

    def noisy(x):
        np.float64(1.0) / np.float64(0.0)
        warnings.warn("a student's own warning")
        return 2 * x
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert run_cases(noisy, CASES, what="double") == 1
    assert seen == [] and capfd.readouterr().err == ""


def test_numpy_error_settings_of_the_notebook_do_not_change_the_comparison():
    previous = np.seterr(all="raise")
    try:
        with pytest.raises(GradingFailure, match="first difference at position \\(0, 0\\)"):
            run_cases(lambda x: np.full((2, 2), -1.7e308), CASES, what="double")
        assert run_cases(double, CASES, what="double") == 1
    finally:
        np.seterr(**previous)


def test_a_test_cell_is_told_from_a_student_cell():
    graders = {"checks"}
    assert guards._test_cell("checks.visible_f(f)", graders)
    assert guards._test_cell("### BEGIN HIDDEN TESTS\nchecks.hidden_f(f)\n### END HIDDEN TESTS", graders)
    for cell in ["def f(x):\n    return x", "checks.visible_f(f)\nx = 1", "f(checks)", "%time checks.f(f)", ""]:
        assert not guards._test_cell(cell, graders), cell
