"""Run a student's function on cases and explain the first failure in words a student can act on.

CONTRACT (other modules rely on it; keep the signatures):

* ``Case(config, args, kwargs, expected)``: ``config`` is a short human description that is
  shown to the student ("X 5x7, W 2x3, strides (3, 1), padding='same'"), ``expected`` a
  NumPy array or a plain Python value (int, float, bool, str, None, or tuples/lists of them).
* ``run_cases(student_fn, cases, *, what)`` calls ``student_fn(*args, **kwargs)`` for each case
  and raises ``GradingFailure`` (an AssertionError) at the first case that does not match,
  with a message naming the configuration, the expected and obtained shapes (or values) and
  the first position that differs. Returns the number of cases passed.
* ``assert_close(expected, obtained, *, config, what)``: the comparison on its own.

Integrity (see ``guards``): ``run_cases`` refuses to grade when NumPy, builtins or a grading
module was changed by notebook code; each call gets fresh copies of the arguments, a time
limit, and fails if it calls TensorFlow, Keras, SciPy, PyTorch, JAX or ``tconv_lib``; an
exception inside the student's function (or in reading what it returned into a plain array
or value, done under the same watch) becomes a ``GradingFailure`` naming the case.
Grading modules must therefore not rebind their own globals after import (mutate a container
or use ``functools.cache`` instead), and checker functions called from test cells must return
None: nbgrader reads a number shown by a test cell as a partial score.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
from typing import Any, Callable

import numpy as np

from . import guards
from .guards import GradingFailure

RTOL = 1e-4
ATOL = 1e-4

__all__ = ["ATOL", "RTOL", "Case", "GradingFailure", "assert_close", "run_cases"]


@dataclasses.dataclass(frozen=True)
class Case:
    config: str
    args: tuple
    kwargs: dict
    expected: Any


def _plain(value) -> bool:
    """Whether ``value`` is a built-in value whose ``!=`` cannot be overridden by notebook code."""
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str) or (
        isinstance(value, np.generic) and isinstance(value, (numbers.Number, np.bool_)))


def _read(expected, obtained, *, config: str, what: str):
    """``obtained`` as plain data comparable with ``expected`` (a float64 array or a plain value)."""
    if isinstance(expected, np.ndarray):
        if isinstance(obtained, (np.ndarray, list, tuple, numbers.Number)):
            try:
                return np.array(obtained, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                pass
        raise GradingFailure(f"{what} on {config}: expected a NumPy array of shape "
                             f"{expected.shape}, got {type(obtained).__name__}")
    if not _plain(obtained):
        raise GradingFailure(f"{what} on {config}: expected {expected!r}, got an object of type "
                             f"{type(obtained).__name__}")
    return obtained


def _compare(expected, got, *, config: str, what: str) -> None:
    if isinstance(expected, np.ndarray):
        if got.shape != expected.shape:
            raise GradingFailure(f"{what} on {config}: expected shape {expected.shape}, "
                                 f"got shape {got.shape}")
        with np.errstate(all="ignore"):  # notebook code may have asked for errors or callbacks
            bad = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise GradingFailure(f"{what} on {config}: first difference at position {pos}: "
                                 f"expected {expected[pos]:.6g}, got {got[pos]:.6g} "
                                 f"({int(bad.sum())} of {bad.size} values differ)")
    elif got != expected:
        raise GradingFailure(f"{what} on {config}: expected {expected!r}, got {got!r}")


def assert_close(expected, obtained, *, config: str, what: str) -> None:
    _compare(expected, _read(expected, obtained, config=config, what=what), config=config, what=what)


def run_cases(student_fn: Callable, cases, *, what: str) -> int:
    guards.check_untampered()
    if not callable(student_fn):
        raise GradingFailure(f"{what} is not a function (got {type(student_fn).__name__})")
    passed = 0
    for case in cases:
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        # What the student returned is read into plain data inside the watch: reading an
        # object can run its code (a huge int, a list subclass), and must fail like a call.
        got = guards.call_student(student_fn, args, kwargs, what=what, config=case.config,
                                  read=functools.partial(_read, case.expected, config=case.config,
                                                         what=what))
        guards.check_untampered()
        _compare(case.expected, got, config=case.config, what=what)
        passed += 1
    return passed
