"""The Keras references on a second backend: the library's parity sweep, and agreement with this one.

Keras picks its backend once per process, so the other backend's references come from
tests/keras_ref_worker.py in a subprocess. A reduced, derandomised sweep of the same
configurations as tests/test_conv.py, tests/test_transpose.py and tests/test_upsample.py,
each in random float32 data, in small integers (where float32 sums are exact, as grading
uses them: the backends must agree exactly) and, for the convolutions, in float64.
"""
import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

import tconv_lib as tl
from strategies import TOL, conv_configs, examples, outcome, small_integers, tensorflow_only_rejection
from tconv_lib import keras_ref

WORKER = Path(__file__).with_name("keras_ref_worker.py")
OTHER_BACKENDS = [
    "jax",
    pytest.param("torch", marks=pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                                   reason="PyTorch is not installed")),
]


@st.composite
def _images(draw):
    n, h, w, c = draw(st.integers(1, 2)), draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((n, h, w, c)).astype(np.float32)


def _sweep():
    """``(label, exact, keras_ref function name, library function, args, kwargs)`` of every case."""
    cases = []
    for name, ours, transpose, n in (("conv2d", tl.conv2d, False, 20), ("conv2d_transpose", tl.conv2d_transpose, True, 25)):
        for i, (x, kernel, bias, kwargs) in enumerate(examples(conv_configs(transpose=transpose), n)):
            cases.append((f"{name} random {kwargs}", False, name, ours, (x, kernel, bias), kwargs))
            cases.append((f"{name} integers {kwargs}", True, name, ours,
                          (small_integers(x), small_integers(kernel), small_integers(bias)), kwargs))
            if i % 5 == 0:
                as64 = tuple(None if a is None else a.astype(np.float64) for a in (x, kernel, bias))
                cases.append((f"{name} float64 {kwargs}", False, name, ours, as64, kwargs))
    images = examples(st.tuples(_images(), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]),
                             st.booleans()), 10)
    for x, size, stride, padding, batch_index in images:
        for interpolation, ours in (("nearest", tl.upsample_nearest), ("bilinear", tl.upsample_bilinear)):
            cases.append((f"upsampling2d {interpolation} {x.shape} size {(size, stride)}", False, "upsampling2d",
                          lambda x, size, interpolation, ours=ours: ours(x, size), (x, (size, stride), interpolation), {}))
        if padding == "same" or size <= min(x.shape[1:3]):
            for label, data in (("random", x), ("integers (ties)", np.round(x))):
                cases.append((f"max_pool_with_argmax {label} {x.shape} pool {size} strides {stride} {padding}", True,
                              "max_pool_with_argmax", tl.max_pool_with_argmax, (data, size, stride, padding, batch_index), {}))
    return cases


@pytest.fixture(scope="module")
def sweep():
    """Every case with this process's Keras reference and the library's result."""
    cases = _sweep()
    here = [outcome(getattr(keras_ref, name), *args, **kwargs) for _, _, name, _, args, kwargs in cases]
    ours = [outcome(fn, *args, **kwargs) for _, _, _, fn, args, kwargs in cases]
    return cases, here, ours


def disagreement(expected, got, exact: bool) -> str | None:
    """Why ``got`` differs from ``expected`` (results, tuples of results or error texts), or None."""
    if isinstance(expected, (Exception, str)) or isinstance(got, (Exception, str)):
        both_rejected = isinstance(expected, (Exception, str)) and isinstance(got, (Exception, str))
        return None if both_rejected else f"one side rejects it: {expected!r:.200} against {got!r:.200}"
    if isinstance(expected, tuple):
        return next(filter(None, (disagreement(e, g, exact) for e, g in zip(expected, got))), None)
    if expected.shape != got.shape or expected.dtype != got.dtype:
        return f"{expected.shape} {expected.dtype} against {got.shape} {got.dtype}"
    if exact:
        return None if np.array_equal(expected, got) else f"not equal: largest difference {np.abs(expected - got).max()}"
    return None if np.allclose(got, expected, **TOL) else f"largest difference {np.abs(expected - got).max()}"


def test_disagreement_rejects_what_it_should():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert disagreement(a, a.copy(), exact=True) is None
    assert disagreement(a, a + 1e-6, exact=False) is None
    assert "not equal" in disagreement(a, np.nextafter(a, 10), exact=True)
    assert "largest difference" in disagreement(a, a + 1e-3, exact=False)
    assert "float64" in disagreement(a, a.astype(np.float64), exact=False)
    assert "(3, 2)" in disagreement(a, a.reshape(3, 2), exact=False)
    assert "rejects" in disagreement(ValueError("no"), a, exact=False)
    assert disagreement("ValueError: no", ValueError("nor here"), exact=False) is None
    assert "not equal" in disagreement((a, a), (a, a + 1), exact=True)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_references_on_another_backend_agree_with_this_one_and_the_library(backend, sweep, tmp_path):
    if keras_ref.keras().backend.backend() == backend:
        pytest.skip(f"this process already runs Keras on {backend}")
    cases, here, ours = sweep
    calls = tmp_path / "calls.pkl"
    calls.write_bytes(pickle.dumps([(name, args, kwargs) for _, _, name, _, args, kwargs in cases]))
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(WORKER), str(calls), str(tmp_path / "results.pkl")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-3000:]
    other = pickle.loads((tmp_path / "results.pkl").read_bytes())
    assert other["device"].startswith(f"Keras {keras_ref.keras().__version__} on ")
    problems, tensorflow_only = [], 0
    for (label, exact, *_), ref, theirs, mine in zip(cases, here, other["results"], ours):
        if tensorflow_only_rejection(mine) and not isinstance(theirs, str):
            tensorflow_only += 1  # JAX and PyTorch compute it; TensorFlow and tconv_lib refuse it
            continue
        for against, expected in (("this backend's Keras", ref), ("tconv_lib", mine)):
            why = disagreement(expected, theirs, exact)
            if why:
                problems.append(f"{label}: {other['device']} and {against}: {why}")
    assert tensorflow_only < len(cases) // 4, "the sweep hardly compares anything"
    assert not problems, f"{len(problems)} of {len(cases)} cases:\n" + "\n".join(problems[:20])
