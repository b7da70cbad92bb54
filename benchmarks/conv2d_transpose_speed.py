"""How fast is tconv_lib's default conv2d_transpose? Ratios measured in one run, on the CPU.

Layer: x (8, 64, 64, 32) float32, 4x4 kernel, 32 filters, stride 2, padding "same".
Compared with Keras's Conv2DTranspose (TensorFlow with oneDNN) and with a straightforward
per-pixel Python loop (each input pixel scatters its copy of the kernel).

    .venv/bin/python benchmarks/conv2d_transpose_speed.py
"""
import os
import statistics
import time

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"  # Keras at its fastest on the CPU: the fair comparison
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU, even on a machine with a GPU

import numpy as np  # noqa: E402

from tconv_lib import conv2d_transpose, keras_ref, shapes  # noqa: E402

STRIDES, PADDING = (2, 2), "same"


def per_pixel_loop(x, kernel):
    """The teaching version (the article's loops, channels as vectors): each input pixel
    adds its value times each kernel tap into the output."""
    n, h, w, _ = x.shape
    kh, kw, c_out, _ = kernel.shape
    (sh, sw) = STRIDES
    full = np.zeros((n, (h - 1) * sh + kh, (w - 1) * sw + kw, c_out), x.dtype)
    for b, i, j in np.ndindex(n, h, w):
        for ki in range(kh):
            for kj in range(kw):
                full[b, i * sh + ki, j * sw + kj] += kernel[ki, kj] @ x[b, i, j]
    (top, bottom), (left, right) = shapes.conv2d_transpose_crop((h, w), (kh, kw), STRIDES, PADDING)
    return full[:, top: full.shape[1] - bottom, left: full.shape[2] - right]


def best_time(fn, repeats):
    fn()  # warm-up: first calls allocate and, for Keras, trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 64, 32)).astype(np.float32)
    kernel = rng.standard_normal((4, 4, 32, 32)).astype(np.float32)
    keras = keras_ref.keras()
    layer = keras.layers.Conv2DTranspose(32, 4, strides=STRIDES, padding=PADDING, use_bias=False)
    layer.build(x.shape)
    layer.set_weights([kernel])
    tf = keras_ref.tensorflow()
    x_tf = tf.constant(x)

    ours = conv2d_transpose(x, kernel, strides=STRIDES, padding=PADDING)
    np.testing.assert_allclose(ours, np.asarray(layer(x_tf)), rtol=1e-4, atol=1e-3)
    # The loop is checked on one image only: it is the slow part of this script.
    np.testing.assert_allclose(per_pixel_loop(x[:1], kernel), ours[:1], rtol=1e-4, atol=1e-3)

    t_ours = best_time(lambda: conv2d_transpose(x, kernel, strides=STRIDES, padding=PADDING), 7)
    t_keras = best_time(lambda: np.asarray(layer(x_tf)), 7)
    t_loop = best_time(lambda: per_pixel_loop(x, kernel), 1)
    print(f"input {x.shape} float32, kernel 4x4, 32 filters, strides {STRIDES}, padding {PADDING!r}, "
          f"{os.cpu_count()} CPU cores")
    for name, (best, median) in [("tconv_lib scatter", t_ours), ("Keras (oneDNN)", t_keras),
                                 ("per-pixel loop", t_loop)]:
        print(f"  {name:<18} best {best * 1e3:8.1f} ms   median {median * 1e3:8.1f} ms")
    print(f"tconv_lib / Keras:      {t_ours[0] / t_keras[0]:6.2f}x the time (target: under 4x)")
    print(f"loop / tconv_lib:       {t_loop[0] / t_ours[0]:6.1f}x faster (target: over 100x)")


if __name__ == "__main__":
    main()
