"""Configurations and report lines shared by the checker modules of the exercises.

Every hidden check draws its configurations and data from ``hidden_rng``, names them with
``describe`` in its feedback, and reports through ``check``.

``hidden_rng(seed)`` mixes the public seed with the grading machine's secret: the course's
source is public, so with the seed alone a student could compute every hidden case and its
answer at home and return them from a lookup table. The secret is the environment variable
``TCONV_GRADING_SECRET`` (set it for repeatable grading, and keep it private), else a random
number drawn once per grading kernel. The edge configurations are always checked first.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import os
import secrets
from typing import Callable, NamedTuple

import numpy as np

from tconv_lib import keras_ref
from tconv_lib.grading import core

PADDINGS = ("valid", "same")
SECRET_VARIABLE = "TCONV_GRADING_SECRET"


@functools.cache
def _secret() -> int:
    text = os.environ.get(SECRET_VARIABLE)
    if text:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return secrets.randbits(64)


def hidden_rng(*seed: int) -> np.random.Generator:
    """The random generator of a hidden check: its public ``seed`` and the grading secret."""
    return np.random.default_rng([*seed, _secret()])


class Config(NamedTuple):
    """A 2-D transposed (or plain) convolution's shape parameters, sizes as pairs of ints."""
    input_shape: tuple[int, int]
    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str


# Configurations that random draws could miss and that the article's code gets wrong.
EDGE_CONFIGS = (
    # Stride larger than the kernel: under "valid" Keras keeps the gap after the last pixel.
    Config((3, 4), (2, 1), (3, 2), "valid"),
    # "same" with an even kernel: an odd number of rows cut, the extra one at the bottom/right.
    Config((4, 3), (4, 2), (1, 1), "same"),
    Config((2, 5), (3, 4), (2, 3), "same"),
    # "same" with the stride larger than the kernel: zeros appended after the full scatter.
    Config((3, 2), (2, 1), (4, 3), "same"),
)


def describe(input_shape, kernel_size, strides=(1, 1), padding="valid", **extra) -> str:
    """One line naming a configuration, e.g. ``X 5x7, W 2x3, strides (3, 1), padding='same'``."""
    text = (f"X {input_shape[0]}x{input_shape[1]}, W {kernel_size[0]}x{kernel_size[1]}, "
            f"strides {tuple(strides)}, padding={padding!r}")
    return "".join([text, *(f", {name}={value!r}" for name, value in extra.items())])


def tconv_configs(seed: int, count: int, *, max_input=6, max_kernel=5, max_stride=4) -> list[Config]:
    """``count`` configurations: the edge cases first, then random ones (``hidden_rng(seed)``).

    Sizes are pairs of Python ints, mostly not square.
    """
    rng = hidden_rng(seed)
    configs = list(EDGE_CONFIGS[:count])
    while len(configs) < count:
        configs.append(Config(_pair(rng, 1, max_input), _pair(rng, 1, max_kernel),
                              _pair(rng, 1, max_stride), PADDINGS[int(rng.integers(2))]))
    return configs


def _pair(rng, low: int, high: int) -> tuple[int, int]:
    return tuple(int(v) for v in rng.integers(low, high + 1, size=2))


def dilation_pair(rng, probability: float) -> tuple[int, int]:
    return _pair(rng, 1, 3) if rng.random() < probability else (1, 1)


def check(student_fn, cases, *, what: str, reference: str | None = None) -> None:
    """Run the cases through ``core.run_cases`` and say what passed.

    Visible checks (``reference`` None) list every configuration; hidden checks print only
    how many generated configurations agree with ``reference``. Returns None: nbgrader would
    read a number shown by a test cell as its score.
    """
    cases = list(cases)
    passed = core.run_cases(student_fn, cases, what=what, hidden=reference is not None)
    if reference is None:
        print(f"{what}: all {passed} checks passed")
        for case in cases:
            print(f"  ok  {case.config}")
    else:
        print(f"{what}: all {passed} generated configurations agree with {reference}")


def keras_reference() -> str:
    """The words for checks against Keras: which device computed the references."""
    return keras_ref.device_description()


# Every hidden check, by name ("module.function"): how to build its cases and name its reference.
_HIDDEN: dict[str, tuple[Callable[[], list], str | Callable[[], str]]] = {}
# Built case sets: name -> (cases, reference words). Built once per process, or installed.
_BUILT: dict[str, tuple[list, str]] = {}
_INSTALLED: dict | None = None  # what ``install`` installed: no other check is built


def hidden_check(what: str, reference: str | Callable[[], str] = keras_reference):
    """Make a hidden check from the function that builds its cases.

    The cases, and the Keras references in them, are built once per grading process (same
    secret, same cases) and reused for every submission, or built once by the coordinator of a
    parallel run and installed in each worker (``references``, ``install``). The check then runs
    them through ``check``. The decorated name takes the student's function, as test cells call it.
    """
    def decorate(build: Callable[[], list]) -> Callable:
        name = f"{build.__module__}.{build.__qualname__}"
        _HIDDEN[name] = (build, reference)

        @functools.wraps(build)
        def hidden(student_fn) -> None:
            cases, words = built(name)
            check(student_fn, cases, what=what, reference=words)
        return hidden
    return decorate


def built(name: str) -> tuple[list, str]:
    """The cases of hidden check ``name`` and the words for its reference, built on first use."""
    if name not in _BUILT:
        if _INSTALLED is not None:
            raise RuntimeError(f"hidden check {name} was not among the references this worker was given")
        build, reference = _HIDDEN[name]
        _BUILT[name] = (build(), reference() if callable(reference) else reference)
    return _BUILT[name]


def references(modules) -> dict[str, tuple[list, str]]:
    """Every hidden check of the checker ``modules`` (dotted names), built here: what workers get."""
    for module in modules:
        importlib.import_module(module)
    return {name: built(name) for name in _HIDDEN if name.rpartition(".")[0] in set(modules)}


def install(built_checks: dict[str, tuple[list, str]]) -> None:
    """Use these built checks (from ``references``), and build no other, until the next ``install``.

    For a worker of a parallel run: a check built there would draw its cases with the worker's
    secret, not the coordinator's, and grade differently from a serial run.
    """
    global _INSTALLED
    if built_checks is not _INSTALLED:  # the same again: threads grading with them see them all along
        _BUILT.clear()
        _BUILT.update(built_checks)
        _INSTALLED = built_checks


def checker_modules(sources) -> set[str]:
    """The modules of ``tconv_lib.grading`` that these cell sources import (a run builds their checks)."""
    names = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
    return {name for name in names if name.startswith(f"{__package__}.") and _is_module(name)}


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False
