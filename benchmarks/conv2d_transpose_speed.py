"""How fast is tconv_lib's default conv2d_transpose? Ratios to Keras measured in one run, on the CPU.

A suite of real layers (float32), each at batch 1 and batch 16, plus the course's benchmark
layer. Keras is timed at its fastest on the CPU: oneDNN on (this script turns it on, whatever
the Makefile says), and the faster of an eager layer call and a ``tf.function``-compiled one
(XLA's ``jit_compile`` was several times slower on these layers, so it is left out). Each
repetition times tconv_lib, then the two Keras calls, so a change of load on a shared machine
moves all three; before each timed call the machine settles (a pause, then one untimed call of
the same function: see ``interleaved_times``). Printed per layer:

* ours, Keras (ms, medians) and their ratio: the median over repetitions of ours over Keras
  in the same repetition (target: at most 1.5 on every layer, at most 1.0 as a geometric
  mean; the moonshot is 0.8);
* peak: the layer's GFLOP/s (2 x input pixels x kernel taps x C_in x C_out over our time)
  as a fraction of NumPy's own matrix product on large square matrices, measured here too;
* extra memory: what tconv_lib allocates beyond the output (tracemalloc peak minus the
  output's bytes), per byte of output.

    .venv/bin/python benchmarks/conv2d_transpose_speed.py      (or: make bench)
"""
import os
import statistics
import time
import tracemalloc

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"  # Keras at its fastest on the CPU: the fair comparison
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU, even on a machine with a GPU

import numpy as np  # noqa: E402

from tconv_lib import conv2d_transpose, keras_ref, memory  # noqa: E402

#: (name, input (H, W, C_in), kernel size, filters, strides, padding, bias) of real layers.
LAYERS = [
    ("U-Net 2x2 s2", (32, 32, 256), 2, 128, 2, "valid", True),
    ("DCGAN 5x5 s2", (16, 16, 256), 5, 128, 2, "same", False),
    ("pix2pix 4x4 s2", (64, 64, 128), 4, 64, 2, "same", False),
    ("decoder 3x3 s2", (64, 64, 64), 3, 64, 2, "same", True),
    ("FCN-32s 64x64 s32", (16, 16, 21), 64, 21, 32, "same", True),
]
#: The course's own benchmark layer: (8, 64, 64, 32), 4x4 kernel, 32 filters, stride 2, "same".
BENCHMARK_LAYER = ("course benchmark", (64, 64, 32), 4, 32, 2, "same", False)
SUITE = [(name, (batch, *shape), *rest) for name, shape, *rest in LAYERS for batch in (1, 16)]
SUITE.append((BENCHMARK_LAYER[0], (8, *BENCHMARK_LAYER[1]), *BENCHMARK_LAYER[2:]))
REPEATS = 9
#: Pause before each timed call (see interleaved_times).
SETTLE_S = 0.15
MAX_RATIO, MAX_GEOMEAN, MOONSHOT = 1.5, 1.0, 0.8


def matmul_peak(size=2048, repeats=7) -> float:
    """GFLOP/s of NumPy's float32 matrix product on two ``size x size`` matrices (the fastest
    of ``repeats``: a peak, which a slow spell of a shared machine would otherwise lower)."""
    a = np.random.default_rng(1).standard_normal((size, size)).astype(np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * size**3 / min(times) / 1e9


def interleaved_times(calls, repeats):
    """Seconds of each call in each repetition, timing them in turn, each on a settled machine.

    A BLAS or a thread pool keeps its threads spinning for a while after a call (OpenBLAS's
    for about 0.1 s), and they would take the cores from whichever call comes next. So
    before each timed call: a pause that lets the previous call's threads go to sleep, then
    one untimed call of the same function (its own threads awake, its memory reused).
    """
    times = [[] for _ in calls]
    for _ in range(repeats):
        for call, spent in zip(calls, times):
            time.sleep(SETTLE_S)
            call()
            start = time.perf_counter()
            call()
            spent.append(time.perf_counter() - start)
    return times


def extra_memory(call, output_bytes) -> float:
    """Bytes allocated at the peak of ``call`` beyond its output, per output byte (tracemalloc).

    The library's kept buffers are let go first, so that the call allocates all it uses (it
    otherwise reuses the memory of earlier calls: ``tconv_lib.memory``).
    """
    memory.release()
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - output_bytes) / output_bytes


def measure(shape, kernel_size, filters, strides, padding, use_bias, rng, tf, keras):
    x = rng.standard_normal(shape).astype(np.float32)
    kernel = rng.standard_normal((kernel_size, kernel_size, filters, shape[3])).astype(np.float32)
    bias = rng.standard_normal(filters).astype(np.float32) if use_bias else None
    layer = keras.layers.Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding,
                                         use_bias=use_bias)
    layer.build(shape)
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    compiled = tf.function(layer)
    x_tf = tf.constant(x)

    def ours():
        return conv2d_transpose(x, kernel, bias, strides=strides, padding=padding)

    y = ours()
    reference = np.asarray(layer(x_tf))
    np.testing.assert_allclose(y, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())
    np.testing.assert_allclose(np.asarray(compiled(x_tf)), reference, rtol=1e-5, atol=1e-5)
    output_bytes = y.nbytes
    del y, reference  # freed, as a caller's output would be (tconv_lib.memory reuses it)
    ours_times, *keras_times = interleaved_times(
        [ours, lambda: np.asarray(layer(x_tf)), lambda: np.asarray(compiled(x_tf))], REPEATS)
    (t_keras, keras_mode, keras_times) = min(
        (statistics.median(times), mode, times) for mode, times in zip(("eager", "tf.function"), keras_times))
    # Each repetition times ours and Keras within a second of each other, so the median of
    # their ratios holds up when a slow spell of a shared machine takes some repetitions.
    ratio = statistics.median(o / k for o, k in zip(ours_times, keras_times))
    flops = 2 * x.size * kernel_size**2 * filters
    return statistics.median(ours_times), t_keras, ratio, keras_mode, flops, extra_memory(ours, output_bytes)


def main():
    keras, tf = keras_ref.keras(), keras_ref.tensorflow()
    rng = np.random.default_rng(0)
    peak = matmul_peak()
    print(f"tconv_lib conv2d_transpose (default method) against Keras Conv2DTranspose (oneDNN), "
          f"float32, {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f}")
    print(f"NumPy matmul peak (2048 x 2048, float32, fastest of 7): {peak:.0f} GFLOP/s; {REPEATS} repetitions, "
          f"medians (the ratio: of the repetitions' ratios)")
    header = (f"{'layer':<18} {'input':<18} {'ours ms':>8} {'Keras ms':>9} {'ratio':>6} "
              f"{'peak':>5} {'extra mem':>9}  Keras mode")
    print(header)
    print("-" * len(header))
    ratios = []
    start = time.perf_counter()
    for name, shape, kernel_size, filters, strides, padding, use_bias in SUITE:
        t_ours, t_keras, ratio, mode, flops, extra = measure(shape, kernel_size, filters, strides, padding,
                                                             use_bias, rng, tf, keras)
        ratios.append(ratio)
        print(f"{name:<18} {str(shape):<18} {t_ours * 1e3:8.2f} {t_keras * 1e3:9.2f} "
              f"{ratios[-1]:5.2f}x {flops / t_ours / 1e9 / peak:5.0%} {extra:9.2f}  {mode}",
              flush=True)
    geomean = float(np.exp(np.mean(np.log(ratios))))
    worst = max(ratios)
    def verdict(value, target):
        return "met" if value <= target else "NOT met"

    print(f"geometric mean ratio {geomean:.2f}x: target {MAX_GEOMEAN}x {verdict(geomean, MAX_GEOMEAN)}, "
          f"moonshot {MOONSHOT}x {verdict(geomean, MOONSHOT)}; worst layer {worst:.2f}x: target "
          f"{MAX_RATIO}x {verdict(worst, MAX_RATIO)} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
