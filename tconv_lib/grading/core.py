"""Run a student's function on cases and explain the first failure in words a student can act on.

CONTRACT (other modules rely on it; keep the signatures):

* ``Case(config, args, kwargs, expected)``: ``config`` is a short human description that is
  shown to the student ("X 5x7, W 2x3, strides (3, 1), padding='same'"), ``expected`` a
  NumPy array or a plain Python value (int, tuple, bool ...).
* ``run_cases(student_fn, cases, *, what)`` calls ``student_fn(*args, **kwargs)`` for each case
  and raises ``GradingFailure`` (an AssertionError) at the first case that does not match,
  with a message naming the configuration, the expected and obtained shapes (or values) and
  the first position that differs. Returns the number of cases passed.
* ``assert_close(expected, obtained, *, config, what)``: the comparison on its own.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

RTOL = 1e-4
ATOL = 1e-4


class GradingFailure(AssertionError):
    """A wrong answer, described for the student."""


@dataclasses.dataclass(frozen=True)
class Case:
    config: str
    args: tuple
    kwargs: dict
    expected: Any


def assert_close(expected, obtained, *, config: str, what: str) -> None:
    if isinstance(expected, np.ndarray):
        try:
            got = np.asarray(obtained, dtype=np.float64)
        except (TypeError, ValueError):
            raise GradingFailure(f"{what} on {config}: expected a NumPy array of shape "
                                 f"{expected.shape}, got {type(obtained).__name__}") from None
        if got.shape != expected.shape:
            raise GradingFailure(f"{what} on {config}: expected shape {expected.shape}, "
                                 f"got shape {got.shape}")
        bad = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise GradingFailure(f"{what} on {config}: first difference at position {pos}: "
                                 f"expected {expected[pos]:.6g}, got {got[pos]:.6g} "
                                 f"({int(bad.sum())} of {bad.size} values differ)")
    elif obtained != expected:
        raise GradingFailure(f"{what} on {config}: expected {expected!r}, got {obtained!r}")


def run_cases(student_fn: Callable, cases, *, what: str) -> int:
    passed = 0
    for case in cases:
        obtained = student_fn(*case.args, **case.kwargs)
        assert_close(case.expected, obtained, config=case.config, what=what)
        passed += 1
    return passed
