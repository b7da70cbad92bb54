"""Porting between Keras's Conv2DTranspose and PyTorch's ConvTranspose2d.

PyTorch's semantics come from three independent places: its documented formula as NumPy
(``porting.torch_conv_transpose2d``), JAX's ``lax.conv_general_dilated`` with ``lhs_dilation``
set up as PyTorch's documentation describes, and PyTorch itself where it is installed (it is
not a requirement; those tests skip without it). Keras is always the real Keras.
"""
import itertools
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strategies import TOL, conv_configs, outcome
from tconv_lib import keras_ref, porting


@st.composite
def torch_configs(draw, max_kernel=5, keras_rules=True):
    """Arrays (PyTorch layouts) and keyword arguments of one ConvTranspose2d, groups=1.

    ``keras_rules``: no stride above 1 together with a dilation above 1 (PyTorch allows it).
    """
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (1, 1) if max(s) > 1 and keras_rules else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = tuple(draw(st.integers(0, dd * (kk - 1))) for kk, dd in zip(k, d))
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    assume(all(porting.torch_output_length(i, *args) >= 1 for i, *args in zip((h, w), k, s, p, op, d)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_in, c_out, *k))
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return x, weight, bias, dict(stride=s, padding=p, output_padding=op, dilation=d)


def keras_nchw(x, kernel, bias, **kwargs):
    """Real Keras on an NCHW input, result as NCHW (float64)."""
    y = keras_ref.conv2d_transpose(x.transpose(0, 2, 3, 1), kernel, bias, **kwargs)
    return np.asarray(y, np.float64).transpose(0, 3, 1, 2)


@settings(max_examples=30)   # JAX compiles each new shape: a few configurations, widely spread
@given(torch_configs(keras_rules=False))
def test_documented_formula_equals_jax(config):
    x, weight, bias, kwargs = config
    y = porting.torch_conv_transpose2d(x, weight, bias, **kwargs)
    np.testing.assert_allclose(y, porting.torch_conv_transpose2d_jax(x, weight, bias, **kwargs),
                               rtol=1e-9, atol=1e-9)
    assert y.shape[2:] == tuple(porting.torch_output_length(i, k, s, p, op, d) for i, k, s, p, op, d in
                                zip(x.shape[2:], weight.shape[2:], *kwargs.values()))


@settings(max_examples=100)
@given(conv_configs(transpose=True))
def test_keras_to_torch_is_exact_or_refused_with_an_exact_recipe(config):
    x, kernel, bias, kwargs = config
    reference = outcome(keras_nchw, x.transpose(0, 3, 1, 2), kernel, bias, **kwargs)
    assume(not isinstance(reference, Exception))          # Keras refuses this output_padding
    x_nchw = x.transpose(0, 3, 1, 2).astype(np.float64)
    layer_config = dict(kwargs, filters=kernel.shape[2], kernel_size=kernel.shape[:2], activation="linear")
    try:
        torch_config, weight, torch_bias = porting.keras_to_torch(layer_config, kernel, bias)
    except ValueError as error:
        assert "padding" in str(error)
        # No ConvTranspose2d with the right output size gives Keras's numbers...
        k_eff = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:2], kwargs["dilation_rate"])]
        per_axis = [[(p, op) for p in range(ke + 1) for op in range(max(s, d))
                     if porting.torch_output_length(i, k, s, p, op, d) == o]
                    for i, k, s, d, ke, o in zip(x.shape[1:3], kernel.shape[:2], kwargs["strides"],
                                                  kwargs["dilation_rate"], k_eff, reference.shape[2:])]
        weight = kernel.transpose(3, 2, 0, 1)
        for (ph, oph), (pw, opw) in itertools.product(*per_axis):
            y = porting.torch_conv_transpose2d(x_nchw, weight, bias, kwargs["strides"], (ph, pw), (oph, opw),
                                               kwargs["dilation_rate"])
            assert not np.allclose(y, reference, **TOL) or np.allclose(reference, 0)
        # ...and the recipe in the message is exact.
        recipe = re.search(r"padding=\((\d+), (\d+)\), output_padding=\((\d+), (\d+)\)\), then drop the "
                           r"last (\d+) row\(s\) and (\d+) column", str(error))
        ph, pw, oph, opw, rows, cols = map(int, recipe.groups())
        y = porting.torch_conv_transpose2d(x_nchw, weight, bias, kwargs["strides"], (ph, pw), (oph, opw),
                                           kwargs["dilation_rate"])
        y = y[:, :, : y.shape[2] - rows, : y.shape[3] - cols]
        np.testing.assert_allclose(y, reference, **TOL)
        return
    assert set(torch_config) == set(porting.TORCH_KEYS)
    y = porting.torch_conv_transpose2d(x_nchw, weight, torch_bias, torch_config["stride"], torch_config["padding"],
                                       torch_config["output_padding"], torch_config["dilation"])
    np.testing.assert_allclose(y, reference, **TOL)
    # Back again: a Keras layer that cuts the same cells, with the very same kernel.
    keras_config, back, back_bias = porting.torch_to_keras(torch_config, weight, torch_bias)
    assert porting.keras_crop(keras_config["kernel_size"], keras_config["strides"], keras_config["padding"],
                              keras_config["output_padding"], keras_config["dilation_rate"]) == \
        porting.keras_crop(kernel.shape[:2], **kwargs)
    np.testing.assert_array_equal(back, kernel)


@settings(max_examples=60)
@given(torch_configs(max_kernel=4))
def test_torch_to_keras_is_exact_or_no_keras_layer_matches(config):
    x, weight, bias, kwargs = config
    reference = porting.torch_conv_transpose2d(x, weight, bias, **kwargs)
    kernel = weight.transpose(2, 3, 1, 0)
    try:
        keras_config, kernel_out, bias_out = porting.torch_to_keras(dict(kwargs, kernel_size=weight.shape[2:]),
                                                                   weight, bias)
    except ValueError as error:
        assert "padding" in str(error)
        strides, dilation = kwargs["stride"], kwargs["dilation"]
        candidates = [None] + list(itertools.product(range(strides[0]), range(strides[1])))
        for padding, op in itertools.product(("valid", "same"), candidates):
            y = outcome(keras_nchw, x, kernel, bias, strides=strides, padding=padding, output_padding=op,
                        dilation_rate=dilation)
            assert isinstance(y, Exception) or y.shape != reference.shape or not np.allclose(y, reference, **TOL)
        return
    np.testing.assert_array_equal(kernel_out, kernel)
    options = {k: keras_config[k] for k in ("strides", "padding", "output_padding", "dilation_rate")}
    np.testing.assert_allclose(keras_nchw(x, kernel_out, bias_out, **options), reference, **TOL)
    keras_layer = keras_ref.keras().layers.Conv2DTranspose(**keras_config)     # a valid Keras layer
    assert keras_layer.filters == weight.shape[1]


def test_the_common_port_of_same_k3_s2_is_shifted_by_one_pixel():
    rng = np.random.default_rng(0)
    x, kernel = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 4, 2))
    keras_y = keras_nchw(x.transpose(0, 3, 1, 2), kernel, None, strides=2, padding="same")
    with pytest.raises(ValueError, match="padding='same'.*padding=1, output_padding=1 .*shifted by 1"):
        porting.keras_to_torch(dict(strides=2, padding="same"), kernel)
    common = porting.torch_conv_transpose2d(x.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1), None, 2, 1, 1)
    assert common.shape == keras_y.shape == (1, 4, 10, 10)
    assert not np.allclose(common, keras_y)
    np.testing.assert_allclose(common[:, :, :-1, :-1], keras_y[:, :, 1:, 1:])   # one pixel up and left
    # k = 4 ports exactly, to padding=1, output_padding=0.
    torch_config, weight, _ = porting.keras_to_torch(dict(strides=2, padding="same"), np.ones((4, 4, 1, 1)))
    assert torch_config["padding"] == (1, 1) and torch_config["output_padding"] == (0, 0)


def test_weight_layouts():
    kernel = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)         # (kh, kw, C_out, C_in)
    torch_config, weight, _ = porting.keras_to_torch({}, kernel)
    assert weight.shape == (5, 4, 2, 3) and weight[4, 3, 1, 2] == kernel[1, 2, 3, 4]
    assert (torch_config["in_channels"], torch_config["out_channels"]) == (5, 4)


@pytest.mark.parametrize("call, message", [
    (lambda: porting.keras_to_torch(dict(activation="relu"), np.ones((3, 3, 1, 1))), "activation"),
    (lambda: porting.keras_to_torch(dict(data_format="channels_first"), np.ones((3, 3, 1, 1))), "data_format"),
    (lambda: porting.keras_to_torch(dict(filters=2), np.ones((3, 3, 1, 1))), "filters"),
    (lambda: porting.keras_to_torch({}, np.ones((3, 3, 1))), "kernel"),
    (lambda: porting.keras_to_torch(dict(strides=2, output_padding=2), np.ones((3, 3, 1, 1))), "output_padding"),
    (lambda: porting.torch_to_keras(dict(groups=2), np.ones((2, 1, 3, 3))), "groups"),
    (lambda: porting.torch_to_keras(dict(padding_mode="reflect"), np.ones((1, 1, 3, 3))), "padding_mode"),
    (lambda: porting.torch_to_keras(dict(stride=2, dilation=2), np.ones((1, 1, 3, 3))), "dilation"),
    (lambda: porting.torch_to_keras(dict(stride=2, padding=2), np.ones((1, 1, 3, 3))), "padding"),
    (lambda: porting.torch_crop(3, 2, 0, 2), "output_padding"),
    (lambda: porting.torch_conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((1, 1, 3, 3))), "channels"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


needs_torch = pytest.mark.skipif(_torch() is None, reason="PyTorch is not installed (not a requirement)")


@needs_torch
@settings(max_examples=100)
@given(torch_configs(keras_rules=False))
def test_documented_formula_equals_pytorch(config):
    torch = _torch()
    x, weight, bias, kwargs = config
    y = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(weight),
                                             None if bias is None else torch.from_numpy(bias), **kwargs)
    np.testing.assert_allclose(porting.torch_conv_transpose2d(x, weight, bias, **kwargs), y.numpy(),
                               rtol=1e-7, atol=1e-9)


@needs_torch
@settings(max_examples=60)
@given(conv_configs(transpose=True))
def test_ported_keras_layer_runs_in_pytorch(config):
    torch = _torch()
    x, kernel, bias, kwargs = config
    reference = outcome(keras_nchw, x.transpose(0, 3, 1, 2), kernel, bias, **kwargs)
    assume(not isinstance(reference, Exception))
    ported = outcome(porting.keras_to_torch, dict(kwargs, kernel_size=kernel.shape[:2]), kernel, bias)
    assume(not isinstance(ported, Exception))
    torch_config, weight, torch_bias = ported
    layer = torch.nn.ConvTranspose2d(**torch_config, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight.astype(np.float64)))
        if torch_bias is not None:
            layer.bias.copy_(torch.from_numpy(torch_bias.astype(np.float64)))
        y = layer(torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float64))).numpy()
    np.testing.assert_allclose(y, reference, **TOL)
