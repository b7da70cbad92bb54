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

The same code runs in two places. In a student's own kernel ``student_fn`` is their function,
and what it returns goes through ``wire.roundtrip``: the very checks that grading applies. In
grading, ``student_fn`` is the judge's proxy (it has ``remote_call``): the function runs in the
sandbox and what comes back is already plain data. Either way a visible check passes or fails
exactly as it will in grading. Checker functions called from test cells return None: nbgrader
reads a number shown by a test cell as a partial score.
"""
from __future__ import annotations

import copy
import dataclasses
import numbers
from typing import Any, Callable

import numpy as np

from .inside import wire

RTOL = 1e-4
ATOL = 1e-4

__all__ = ["ATOL", "RTOL", "Case", "GradingFailure", "assert_close", "run_cases"]


class GradingFailure(AssertionError):
    """A wrong answer, described for the student."""


@dataclasses.dataclass(frozen=True)
class Case:
    config: str
    args: tuple
    kwargs: dict
    expected: Any


def _plain(value) -> bool:
    if type(value) in (tuple, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


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
        with np.errstate(all="ignore"):
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


def call_student(student_fn: Callable, args: tuple, kwargs: dict, *, what: str, config: str,
                 hidden: bool = False):
    """What ``student_fn(*args, **kwargs)`` returned, as plain data; any failure as ``GradingFailure``.

    For ``hidden`` cases the student's own exception message is not repeated: it could carry the
    hidden inputs into the feedback, and so into a lookup table for a later grading round.
    """
    remote = getattr(type(student_fn), "remote_call", None)
    try:
        if remote is not None:
            return remote(student_fn, args, kwargs)
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)  # cases are reused
        return wire.roundtrip(student_fn(*args, **kwargs))
    except wire.Refused as exc:
        raise GradingFailure(f"{what} on {config}: returned {exc}, not plain data or a NumPy array") from None
    except GradingFailure:
        raise
    except Exception as exc:  # the student's exception (in grading: its description from the sandbox)
        description = str(exc) if remote is not None else wire.describe_exception(exc)
        if hidden and description.startswith("raised "):
            description = description.partition(":")[0] + " (its message is not shown for hidden tests)"
        raise GradingFailure(f"{what} {description} on {config}") from None


def run_cases(student_fn: Callable, cases, *, what: str, hidden: bool = False) -> int:
    if not callable(student_fn):
        raise GradingFailure(f"{what} is not a function (got {type(student_fn).__name__})")
    passed = 0
    for case in cases:
        got = call_student(student_fn, case.args, case.kwargs, what=what, config=case.config, hidden=hidden)
        _compare(case.expected, _read(case.expected, got, config=case.config, what=what),
                 config=case.config, what=what)
        passed += 1
    return passed
