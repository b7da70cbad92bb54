"""The GPU grading path, checked on a machine with a GPU: run ``python benchmarks/gpu_check.py [BACKEND ...]``.

For each Keras backend named (default: ``jax torch``; ``tensorflow`` too where TensorFlow has
CUDA), in a process of its own (Keras picks its backend once per process), it prints:

1. the parity sweep of tconv_lib against Keras on that backend's device: the configurations
   of tests/strategies.py (derandomised, ``--examples`` per layer), each in random float32
   data and in small integers (the graders' data), with TF32 off and with TF32 on; for each,
   the largest absolute difference from the exact result (tconv_lib in float64 on the same
   float32 inputs), the largest relative one (that difference over the case's largest
   magnitude), how many integer cases are not exact, and how many configurations one side
   rejects and the other does not;
2. UpSampling2D and max pooling with indices on the device, against tconv_lib;
3. the device line that feedback shows (``keras_ref.device_description()``), and how much
   the run wrote to stderr (which would fail the book build and grading);
4. the from-scratch grading checks with references from this device, when the grading code
   provides ``tconv_lib.grading.selftest.from_scratch_scores()``; else "skipped".

Needs NumPy, hypothesis, Keras and the backend (PyTorch, or JAX with CUDA); no TensorFlow.
Takes a few minutes on an H200 (most of it JAX compiling each new shape once).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parent(backends: list[str], examples: int, timeout: int) -> int:
    failed = 0
    for backend in backends:
        print(f"==== KERAS_BACKEND={backend}", flush=True)
        env = {**os.environ, "KERAS_BACKEND": backend,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))}
        try:
            done = subprocess.run([sys.executable, __file__, "--child", "--examples", str(examples)],
                                  env=env, timeout=timeout, stderr=subprocess.PIPE, text=True)
        except subprocess.TimeoutExpired as stopped:
            print(f"{backend}: stopped after {timeout} s; stderr: {stopped.stderr!r:.2000}", flush=True)
            failed += 1
            continue
        failed += done.returncode != 0
        # The book build and nbgrader fail on any stderr output: a GPU backend's logs would show here.
        print(f"stderr of the {backend} run: {len(done.stderr)} characters", flush=True)
        if done.stderr:
            print(done.stderr[-3000:], flush=True)
    return failed


def child(n: int) -> None:
    import numpy as np

    import tconv_lib as tl
    from strategies import conv_configs, examples, outcome, small_integers, tensorflow_only_rejection
    from tconv_lib import keras_ref

    start = time.perf_counter()
    print(keras_ref.device_description(), f"(Keras and backend loaded in {time.perf_counter() - start:.1f} s)")
    print("   device string:", keras_ref.device(), "| dilated Conv2DTranspose native:",
          keras_ref.backend().native_dilated_transpose)

    layers = [("Conv2D", keras_ref.conv2d, tl.conv2d, examples(conv_configs(transpose=False), n)),
              ("Conv2DTranspose", keras_ref.conv2d_transpose, tl.conv2d_transpose,
               examples(conv_configs(transpose=True), n))]
    print(f"{'layer':16} {'data':9} {'TF32':4} {'cases':>5} {'max abs diff':>12} {'max rel diff':>12} "
          f"{'not exact':>9} {'reject mismatch':>15} {'TF-only reject':>14} {'time':>7}")
    for tf32 in (False, True):
        keras_ref.set_tf32(tf32)
        for name, ref_fn, our_fn, configs in layers:
            for data in ("random", "integers"):
                started, worst_abs, worst_rel = time.perf_counter(), 0.0, 0.0
                not_exact = mismatched = tensorflow_only = compared = 0
                for x, kernel, bias, kwargs in configs:
                    if data == "integers":
                        x, kernel, bias = small_integers(x), small_integers(kernel), small_integers(bias)
                    ref = outcome(ref_fn, x, kernel, bias, **kwargs)
                    exact = outcome(our_fn, *(None if a is None else a.astype(np.float64) for a in (x, kernel, bias)),
                                    **kwargs)
                    if tensorflow_only_rejection(exact) and not isinstance(ref, Exception):
                        tensorflow_only += 1  # a "same" output_padding only TensorFlow's kernel rejects
                        continue
                    if isinstance(ref, Exception) or isinstance(exact, Exception):
                        mismatched += isinstance(ref, Exception) != isinstance(exact, Exception)
                        continue
                    if ref.shape != exact.shape:
                        mismatched += 1
                        continue
                    compared += 1
                    diff = float(np.abs(ref.astype(np.float64) - exact).max())
                    worst_abs = max(worst_abs, diff)
                    worst_rel = max(worst_rel, diff / max(float(np.abs(exact).max()), 1e-30))
                    not_exact += diff != 0
                print(f"{name:16} {data:9} {'on' if tf32 else 'off':4} {compared:5d} {worst_abs:12.3e} "
                      f"{worst_rel:12.3e} {not_exact if data == 'integers' else '-':>9} {mismatched:15d} {tensorflow_only:14d} "
                      f"{time.perf_counter() - started:6.1f}s", flush=True)
    keras_ref.set_tf32(False)

    rng = np.random.default_rng(0)
    images = [rng.standard_normal((int(rng.integers(1, 3)), *rng.integers(2, 10, 2), int(rng.integers(1, 4))))
              .astype(np.float32) for _ in range(20)]
    for interpolation, ours in (("nearest", tl.upsample_nearest), ("bilinear", tl.upsample_bilinear)):
        worst = max(float(np.abs(keras_ref.upsampling2d(x, (2, 3), interpolation) - ours(x, (2, 3))).max())
                    for x in images)
        print(f"UpSampling2D {interpolation}: largest difference from tconv_lib {worst:.3e} (20 images)")
    agree = 0
    for i, x in enumerate(images):
        data = np.round(x) if i % 2 else x  # integers: ties, which go to the first maximum
        args = (data, (2, 1 + i % 3), (1 + i % 2, 2), ("valid", "same")[i % 2], bool(i % 3))
        ref, ours = keras_ref.max_pool_with_argmax(*args), tl.max_pool_with_argmax(*args)
        agree += all(np.array_equal(a, b) for a, b in zip(ref, ours))
    print(f"max_pool_with_argmax: {agree}/20 equal to tconv_lib (values and indices)")
    print("feedback line:", keras_ref.device_description())

    # Hook for the grading code: the from-scratch checks (the instructor's solution, the
    # article's algorithm, a wrong submission) graded with references from this device.
    try:
        from tconv_lib.grading import selftest
        scores = selftest.from_scratch_scores
    except (ImportError, AttributeError) as error:
        print(f"from-scratch scores: skipped ({type(error).__name__}: {error})")
    else:
        print("from-scratch scores:", scores())
    print(f"total {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=["jax", "torch"],
                        help="Keras backends to check: jax, torch, tensorflow (default: jax torch)")
    parser.add_argument("--examples", type=int, default=150, help="configurations per layer (default 150)")
    parser.add_argument("--timeout", type=int, default=270, help="seconds per backend (default 270)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if unknown := set(args.backends) - {"jax", "torch", "tensorflow"}:
        parser.error(f"unknown backends {sorted(unknown)}: choose from jax, torch, tensorflow")
    if args.child:
        child(args.examples)
    else:
        sys.exit(parent(args.backends, args.examples, args.timeout))


if __name__ == "__main__":
    main()
