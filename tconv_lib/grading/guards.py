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
  implementation), under a per-call time limit (``signal.setitimer``), with its warnings
  silenced (they would reach stderr, and nbgrader gives 0 to a test cell with stderr); any
  exception it raises, ``SystemExit`` and ``KeyboardInterrupt`` included, and any failure to
  read what it returned, becomes a one-line ``GradingFailure``.
* An audit hook (``sys.addaudithook``, which nothing can remove) refuses, while student code
  runs (a student cell, or a student function called by a test), what no exercise needs and
  what would reach around the other guards: writing files (and, in a student function,
  reading anything but Python sources), running programs, ``ctypes``, unpickling, threads,
  profilers and tracers, the garbage collector's object lists, importing TensorFlow, Keras,
  SciPy, PyTorch, JAX or the course library, changing a class of the grading code; and, inside a student function,
  ``sys._getframe``.
* In IPython (the grading kernel), importing this module installs a short error display for
  ``GradingFailure`` (the message only: nothing of the grading code or the hidden tests), and
  after the cell that imported it (the locked setup cell) freezes the grading modules and
  re-binds the names that cell defined before every later cell. Every later cell that is not
  a test cell (calls of the grading module only) runs as student code for the audit hook.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import os
import signal
import sys
import threading
import traceback
import types
import warnings

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

# Audited events refused while student code runs (see ``_audit``); prefixes end with a dot.
_REFUSED_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "os.putenv", "os.unsetenv", "os.remove", "os.rename", "os.rmdir",
    "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime",
    "os.chdir", "os.chroot", "os.setxattr", "os.removexattr", "os.startfile",
    "pickle.find_class", "_thread.start_new_thread",
    "sys.setprofile", "sys.settrace", "sys.addaudithook", "sys._current_frames",
    "sys._current_exceptions", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
})
_REFUSED_PREFIXES = ("ctypes.", "shutil.", "socket.", "tempfile.", "webbrowser.", "urllib.", "http.")
# (Not "object.__getattr__", which frame.f_code raises: the profiler reads it on every call.)
_REFUSED_IN_CALLS = frozenset({"sys._getframe", "sys._getframemodulename"})
_REFUSED_IMPORTS = FORBIDDEN_PACKAGES | {"ctypes", "_ctypes", "subprocess", "_posixsubprocess",
                                         "socket", "multiprocessing", "threading", "_thread", "gc"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_OFF, _CELL, _CALL = 0, 1, 2
_mode = [_OFF]  # what runs now on the main thread: grading code, a student cell, a student function
_MAIN_THREAD = threading.main_thread().ident

_snapshot: dict[str, tuple[types.ModuleType, dict]] = {}
# Kept by reference so that a replaced module attribute cannot switch the guards off.
_setprofile, _getprofile, _setitimer, _signal = sys.setprofile, sys.getprofile, signal.setitimer, signal.signal
_thread_setprofile = threading.setprofile


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


def _refused(event: str, args) -> bool:
    if event in _REFUSED_EVENTS or event.startswith(_REFUSED_PREFIXES):
        return True
    if event == "open":
        # Writing is refused; so is reading, inside a student function, anything but Python
        # sources (imports). A student cell may read: IPython reads files to show its errors.
        path, mode, flags = (tuple(args) + (None, None, 0))[:3]
        writes = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & _WRITE_FLAGS)
        source = isinstance(path, str) and path.endswith((".py", ".pyc"))
        return writes or (_mode[0] == _CALL and not source)
    if event == "import":
        return str(args[0]).partition(".")[0] in _REFUSED_IMPORTS
    if event in ("object.__setattr__", "object.__delattr__"):
        owner = vars(args[0]).get("__module__") if isinstance(args[0], type) else None
        return isinstance(owner, str) and (_protected(owner) or owner.partition(".")[0] in FORBIDDEN_PACKAGES)
    return _mode[0] == _CALL and event in _REFUSED_IN_CALLS


def _audit(event: str, args) -> None:
    if _mode[0] != _OFF and threading.get_ident() == _MAIN_THREAD and _refused(event, args):
        raise PermissionError(f"{event} is not allowed in an exercise of this course")


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


def call_student(fn, args, kwargs, *, what: str, config: str, read=None):
    """``fn(*args, **kwargs)`` watched: forbidden calls, time limit and exceptions become ``GradingFailure``.

    ``read(result)``, when given, turns the result into plain data under the same watch (the
    result is the student's object: reading it may run the student's code); it returns the
    plain value or raises ``GradingFailure``.
    """
    watch = _ForbiddenCalls()
    previous = _getprofile()
    reading = False
    try:
        with _time_limit(TIME_LIMIT_S), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outer = _mode[0]
            _thread_setprofile(watch)  # threads the student starts are watched too
            # No function call between the profiler and the student's code: it would be seen.
            _setprofile(watch)
            try:
                _mode[0] = _CALL
                try:
                    result = fn(*args, **kwargs)
                finally:
                    _mode[0] = outer
            finally:
                _setprofile(previous)
                _thread_setprofile(None)
            reading = True
            if read is not None:
                _mode[0] = _CALL
                try:
                    result = read(result)
                finally:
                    _mode[0] = outer
    except _TimeUp:
        raise GradingFailure(f"{what} did not return within {TIME_LIMIT_S:g} s on {config} "
                             f"(an endless loop?)") from None
    except GradingFailure:
        if not reading:  # only ours, from read(): the student cannot reach this class
            raise GradingFailure(f"{what} raised GradingFailure on {config}") from None
        raise
    except BaseException as error:  # the student's own error, reported without our frames
        done = "returned a value that cannot be read" if reading else "raised"
        raise GradingFailure(f"{what} {done} {type(error).__name__}: {error} on {config}"
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

    def before_cell(info):
        for name, value in protected_names.items():
            if shell.user_ns.get(name) is not value:
                shell.user_ns[name] = value
        graders = {name for name, module in protected_names.items()
                   if module.__name__.startswith("tconv_lib.grading.")}
        if graders:  # after the setup cell
            _mode[0] = _OFF if _test_cell(info.raw_cell, graders) else _CELL

    def after_cell(result):
        _mode[0] = _OFF

    shell.events.register("post_run_cell", after_setup_cell)
    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", after_cell)


def _test_cell(source: str, graders) -> bool:
    """Whether a cell only calls functions of the grading modules (``checks.hidden_f(f)``).

    A student cell naming a grading module never gets here: the static check replaced it.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
        and isinstance(s.value.func, ast.Attribute) and isinstance(s.value.func.value, ast.Name)
        and s.value.func.value.id in graders for s in body)


def _ipython_shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


snapshot()
sys.addaudithook(_audit)
if _ipython_shell() is not None:
    _install(_ipython_shell())
