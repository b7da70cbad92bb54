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

import functools
import hashlib
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


def hidden_check(what: str, reference: str | Callable[[], str] = keras_reference):
    """Make a hidden check from the function that builds its cases.

    The cases, and the Keras references in them, are built once per grading process (same
    secret, same cases) and reused for every submission; the check then runs them through
    ``check``. The decorated name takes the student's function, as test cells call it.
    """
    def decorate(build: Callable[[], list]) -> Callable:
        cases = functools.cache(build)

        @functools.wraps(build)
        def hidden(student_fn) -> None:
            check(student_fn, cases(), what=what, reference=reference() if callable(reference) else reference)
        return hidden
    return decorate
