"""Runtime integrity guards: student code runs in the grading kernel, before the tests.

A submission must not earn points by replacing NumPy, builtins or the grading helpers, by
calling a library's convolution, or by never returning. The static check
(``static_check``, run by nbgrader before execution) rejects such cells outright; these
guards are the second line, in the kernel itself:

* ``snapshot()`` records, before any student code runs, which object every name of
  ``builtins``, ``math``, ``numpy.*`` and ``tconv_lib.*`` refers to; ``check_untampered()``
  refuses to grade when one of them was replaced.
* ``call_student()`` runs the student's function with ``sys.setprofile`` watching for calls
  into TensorFlow, Keras, SciPy, PyTorch, JAX or the course library (the reference
  implementation), under a per-call time limit (``signal.setitimer``).
* In IPython (the grading kernel), importing this module installs a short error display for
  ``GradingFailure`` (the message only: nothing of the grading code or the hidden tests), and
  after the cell that imported it (the locked setup cell) freezes the grading modules and
  re-binds the names that cell defined before every later cell.
"""
from __future__ import annotations

import builtins
import contextlib
import os
import signal
import sys
import threading
import traceback
import types

import numpy as np


class GradingFailure(AssertionError):
    """A wrong answer, described for the student."""


TIME_LIMIT_S = 5.0
FORBIDDEN_PACKAGES = frozenset({"tensorflow", "keras", "tf_keras", "scipy", "torch", "jax", "jaxlib",
                                "tconv_lib"})
_PROTECTED_PACKAGES = ("builtins", "math", "numpy", "tconv_lib")
# Names IPython and ipykernel legitimately rebind in builtins around every cell.
_VOLATILE_BUILTINS = frozenset({"input", "get_ipython", "display", "exit", "quit", "_", "__", "___"})
_VOLATILE_NAMES = frozenset({"__warningregistry__"})
_LIBRARY_DIRS = tuple(os.path.dirname(p) + os.sep for p in
                      (os.path.dirname(__file__), os.path.dirname(np.__file__), os.path.dirname(os.__file__)))

_snapshot: dict[str, tuple[types.ModuleType, dict]] = {}
# Kept by reference so that a replaced module attribute cannot switch the guards off.
_setprofile, _getprofile, _setitimer, _signal = sys.setprofile, sys.getprofile, signal.setitimer, signal.signal


def _protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _PROTECTED_PACKAGES)


def snapshot() -> None:
    """Record the protected modules loaded now; modules already recorded are never refreshed.

    A module still being imported (the grading module that imported this one) is left for
    the next call, when its names are all defined.
    """
    for name, module in list(sys.modules.items()):
        if (isinstance(module, types.ModuleType) and name not in _snapshot and _protected(name)
                and not getattr(getattr(module, "__spec__", None), "_initializing", False)):
            _snapshot[name] = (module, dict(vars(module)))


def _replaced() -> str | None:
    for name, (module, saved) in _snapshot.items():
        if sys.modules.get(name, module) is not module:
            return name
        current = vars(module)
        volatile = _VOLATILE_BUILTINS if module is builtins else _VOLATILE_NAMES
        for key, value in saved.items():
            if key not in volatile and current.get(key, _MISSING) is not value:
                return f"{name}.{key}"
    return None


_MISSING = object()


def check_untampered() -> None:
    """Raise ``GradingFailure`` when a protected function was replaced since the snapshot."""
    culprit = _replaced()
    if culprit is not None:
        raise GradingFailure(f"refusing to grade: {culprit} was replaced or removed by code in this "
                             f"notebook. Remove the code that changes it and run the notebook again.")
    snapshot()  # modules loaded since (e.g. TensorFlow's references) join the protected set


class _TimeUp(BaseException):
    """Raised inside the student's function when its time is up (not an Exception: not caught by accident)."""


def _on_alarm(signum, frame):
    raise _TimeUp


class _ForbiddenCalls:
    """A ``sys.setprofile`` hook remembering the first call into a forbidden package."""

    def __init__(self):
        self.first: str | None = None

    def __call__(self, frame, event, arg):
        if self.first is not None or frame.f_code is _on_alarm.__code__:
            return
        if event == "call":
            module, what = frame.f_globals.get("__name__") or "", frame.f_code.co_name
        elif event == "c_call":
            module, what = getattr(arg, "__module__", None) or "", getattr(arg, "__name__", "")
        else:
            return
        if module.partition(".")[0] in FORBIDDEN_PACKAGES:
            self.first = f"{module}.{what}"


@contextlib.contextmanager
def _time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    previous = _signal(signal.SIGALRM, _on_alarm)
    _setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _setitimer(signal.ITIMER_REAL, 0)
        _signal(signal.SIGALRM, previous)


def _student_frames(tb) -> str:
    """The lines of the traceback that are the student's own code (not NumPy's, not ours)."""
    lines = [f"    line {f.lineno} in {f.name}: {(f.line or '').strip()}"
             for f in traceback.extract_tb(tb) if not f.filename.startswith(_LIBRARY_DIRS)]
    return ("\n" + "\n".join(lines[-3:])) if lines else ""


def call_student(fn, args, kwargs, *, what: str, config: str):
    """``fn(*args, **kwargs)`` watched: forbidden calls, time limit and exceptions become ``GradingFailure``."""
    watch = _ForbiddenCalls()
    previous = _getprofile()
    try:
        with _time_limit(TIME_LIMIT_S):
            _setprofile(watch)
            try:
                result = fn(*args, **kwargs)
            finally:
                _setprofile(previous)
    except _TimeUp:
        raise GradingFailure(f"{what} did not return within {TIME_LIMIT_S:g} s on {config} "
                             f"(an endless loop?)") from None
    except Exception as error:  # the student's own error, reported without our frames
        raise GradingFailure(f"{what} raised {type(error).__name__}: {error} on {config}"
                             f"{_student_frames(error.__traceback__)}") from None
    if watch.first is not None:
        raise GradingFailure(f"{what} called {watch.first} on {config}: this exercise is from "
                             f"scratch, so use NumPy only (no TensorFlow, Keras, SciPy, PyTorch, "
                             f"JAX or the course library)")
    return result


# ---------------------------------------------------------------- IPython (the grading kernel)

class _FrozenModule(types.ModuleType):
    def __setattr__(self, name, value):
        raise AttributeError(f"the grading module {self.__name__} cannot be changed")

    def __delattr__(self, name):
        raise AttributeError(f"the grading module {self.__name__} cannot be changed")


def _show_failure(shell, etype, value, tb, tb_offset=None):
    """Show a ``GradingFailure`` as an error with its message only (no code, no traceback)."""
    stb = [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def _install(shell) -> None:
    shell.set_custom_exc((GradingFailure,), _show_failure)
    protected_names: dict[str, object] = {}

    def after_setup_cell(result):
        # Runs once, after the cell that imported the grading module: before any student code.
        shell.events.unregister("post_run_cell", after_setup_cell)
        snapshot()
        for name, module in list(sys.modules.items()):
            if name.startswith("tconv_lib.grading.") and type(module) is types.ModuleType:
                module.__class__ = _FrozenModule
        for name, value in shell.user_ns.items():
            if isinstance(value, types.ModuleType) and _protected(value.__name__):
                protected_names[name] = value

    def rebind_names(info):
        for name, value in protected_names.items():
            if shell.user_ns.get(name) is not value:
                shell.user_ns[name] = value

    shell.events.register("post_run_cell", after_setup_cell)
    shell.events.register("pre_run_cell", rebind_names)


def _ipython_shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


snapshot()
if _ipython_shell() is not None:
    _install(_ipython_shell())
