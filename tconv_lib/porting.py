"""Porting a transposed convolution between Keras's Conv2DTranspose and PyTorch's ConvTranspose2d.

NumPy only: PyTorch is never imported. Both layers compute the same *full scatter* (every
input pixel adds a scaled copy of the kernel, ``(i - 1) * s + (k - 1) * d + 1`` cells per axis,
no flip of the kernel in either library); they differ in the layout of the weights and in
which cells of the full scatter they keep, per axis:

* Keras cuts ``shapes.conv_transpose_crop(...)`` = (before, after) cells, set by ``padding``
  ("valid"/"same") and ``output_padding``; a negative ``after`` appends zeros.
* PyTorch cuts ``padding`` cells before and ``padding - output_padding`` after (its docs say it
  pads the zero-inserted input with ``dilation * (k - 1) - padding`` zeros, the same thing).

Neither cut depends on the input size, so a port is exact for every input or for none. PyTorch
never cuts fewer cells before than after; Keras's ``"same"`` does when ``k - s`` is odd (k=3,
s=2), and then no ConvTranspose2d is exact: ``keras_to_torch`` raises a ValueError that names
``padding`` and gives the exact alternative (a ConvTranspose2d followed by a crop).
"""
from __future__ import annotations

import os

import numpy as np

from . import shapes, validation
from .conv import conv2d, pad_or_crop
from .transpose import insert_zeros

#: ConvTranspose2d's keyword arguments, as ``keras_to_torch`` returns them.
TORCH_KEYS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
              "groups", "bias", "dilation", "padding_mode")


def torch_output_length(input_length: int, kernel_size: int, stride: int = 1, padding: int = 0,
                        output_padding: int = 0, dilation: int = 1) -> int:
    """PyTorch's documented ConvTranspose2d output length along one axis.

    ``(i - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``.
    """
    return (input_length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def torch_conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                           dilation=1) -> np.ndarray:
    """What PyTorch's ``conv_transpose2d`` computes, following its documentation (groups=1).

    x: (N, C_in, H, W); weight: PyTorch's (C_in, C_out, kh, kw); bias: (C_out,) or None.
    Returns (N, C_out, H_out, W_out), ``H_out = torch_output_length(H, kh, ...)``. As documented:
    ``s - 1`` zeros between input pixels, ``dilation * (k - 1) - padding`` zeros around them
    (a negative number cuts), ``output_padding`` more at the bottom and right, then a stride-1
    convolution with the kernel flipped, dilated by ``dilation``.
    """
    x = validation.array(x, "x", 4, "(N, C_in, H, W)")
    weight = validation.array(weight, "weight", 4, "(C_in, C_out, kh, kw)")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(f"x has {x.shape[1]} channels but weight (C_in, C_out, kh, kw) expects "
                         f"C_in={weight.shape[0]}: x {x.shape}, weight {weight.shape}")
    stride, dilation = validation.pair(stride, "stride"), validation.pair(dilation, "dilation")
    padding = validation.pair(padding, "padding", minimum=0)
    output_padding = _torch_output_padding(output_padding, stride, dilation)
    bias = validation.bias(bias, weight.shape[1])
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op) for k, d, p, op in
            zip(weight.shape[2:], dilation, padding, output_padding)]
    spread = pad_or_crop(insert_zeros(x.transpose(0, 2, 3, 1), stride), *pads)
    flipped = weight[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)            # (kh, kw, C_in, C_out)
    y = conv2d(spread, flipped, bias, dilation_rate=dilation)
    return y.transpose(0, 3, 1, 2)


def torch_conv_transpose2d_jax(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                               dilation=1) -> np.ndarray:
    """``torch_conv_transpose2d`` computed independently, by JAX's ``lax.conv_general_dilated``.

    Same arguments, layouts and result (float64). It is PyTorch's documented recipe in JAX's
    own terms: ``lhs_dilation`` inserts the zeros, ``padding`` the ``dilation * (k - 1) - padding``
    (plus ``output_padding`` after), ``rhs_dilation`` dilates the flipped kernel. JAX is imported
    here, on the CPU (its GPU probe would write to stderr), and only when this is called.
    """
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    from jax import lax

    x = validation.array(x, "x", 4, "(N, C_in, H, W)")
    weight = validation.array(weight, "weight", 4, "(C_in, C_out, kh, kw)")
    stride, dilation = validation.pair(stride, "stride"), validation.pair(dilation, "dilation")
    padding = validation.pair(padding, "padding", minimum=0)
    output_padding = _torch_output_padding(output_padding, stride, dilation)
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op) for k, d, p, op in
            zip(weight.shape[2:], dilation, padding, output_padding)]
    with jax.enable_x64(True):
        y = lax.conv_general_dilated(np.asarray(x, np.float64), np.flip(weight, (2, 3)).transpose(1, 0, 2, 3),
                                     (1, 1), pads, lhs_dilation=stride, rhs_dilation=dilation,
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        y = np.asarray(y, np.float64)
    return y if bias is None else y + np.asarray(bias, np.float64)[:, None, None]


def torch_crop(kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """``((top, bottom), (left, right))`` that ConvTranspose2d cuts from the full scatter."""
    stride, dilation = validation.pair(stride, "stride"), validation.pair(dilation, "dilation")
    validation.pair(kernel_size, "kernel_size")
    padding = validation.pair(padding, "padding", minimum=0)
    output_padding = _torch_output_padding(output_padding, stride, dilation)
    return tuple((p, p - op) for p, op in zip(padding, output_padding))


def keras_crop(kernel_size, strides=1, padding="valid", output_padding=None, dilation_rate=1):
    """``((top, bottom), (left, right))`` that Conv2DTranspose cuts, for any input size.

    Raises ``ValueError`` for an ``output_padding`` Keras refuses (for every input size alike).
    """
    return shapes.conv2d_transpose_crop((1, 1), kernel_size, strides, padding, output_padding,
                                        dilation_rate)


def keras_to_torch(config: dict, kernel, bias=None):
    """A Keras Conv2DTranspose as PyTorch's ConvTranspose2d: ``(torch_config, weight, bias)``.

    config: the layer's ``get_config()`` (``kernel_size``, ``strides``, ``padding``,
    ``output_padding``, ``dilation_rate``; ``activation`` must be linear, ``data_format``
    channels_last); kernel: Keras's (kh, kw, C_out, C_in); bias: (C_out,) or None.
    Returns ConvTranspose2d's keyword arguments (``TORCH_KEYS``), the weight as
    (C_in, C_out, kh, kw) and the bias. Raises ``ValueError`` naming the argument when no
    ConvTranspose2d computes exactly the same outputs.
    """
    kernel = validation.array(kernel, "kernel", 4, "(kh, kw, C_out, C_in)")
    (kh, kw, c_out, c_in) = kernel.shape
    bias = validation.bias(bias, c_out)
    _check_keras_extras(config, kernel)
    strides = validation.pair(config.get("strides", 1), "strides")
    dilation = validation.pair(config.get("dilation_rate", 1), "dilation_rate")
    padding = validation.padding_mode(config.get("padding", "valid"))
    output_padding = config.get("output_padding")
    crop = keras_crop((kh, kw), strides, padding, output_padding, dilation)
    # PyTorch cuts (padding, padding - output_padding): exact when Keras cuts no more after than before.
    torch_padding = tuple(before for before, _ in crop)
    torch_output_padding = tuple(max(before - after, 0) for before, after in crop)  # < s: Keras's op < s
    drop = tuple(max(after - before, 0) for before, after in crop)
    if any(drop):
        axis = "height" if drop[0] else "width"
        before, after = crop[0] if drop[0] else crop[1]
        shift = after - before
        s, d = (strides[0], dilation[0]) if drop[0] else (strides[1], dilation[1])
        usual = (f" (padding={after}, output_padding={shift} gives the same size, shifted by {shift})"
                 if shift < max(s, d) else "")
        raise ValueError(
            f"padding={padding!r} with kernel_size {(kh, kw)}, strides {strides} and "
            f"output_padding={output_padding!r} cuts {before} cell(s) before and {after} after "
            f"the full scatter along the {axis}; ConvTranspose2d cuts `padding` before and "
            f"`padding - output_padding` after, never fewer before, so no ConvTranspose2d is "
            f"exact{usual}. Exact: ConvTranspose2d(padding={torch_padding}, "
            f"output_padding={torch_output_padding}), then drop the last {drop[0]} row(s) and "
            f"{drop[1]} column(s) of its output"
        )
    torch_config = dict(in_channels=c_in, out_channels=c_out, kernel_size=(kh, kw), stride=strides,
                        padding=torch_padding, output_padding=torch_output_padding,
                        groups=1, bias=bias is not None, dilation=dilation, padding_mode="zeros")
    return torch_config, np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), bias


def torch_to_keras(config: dict, weight, bias=None):
    """PyTorch's ConvTranspose2d as a Keras Conv2DTranspose: ``(keras_config, kernel, bias)``.

    config: ConvTranspose2d's keyword arguments (``kernel_size``, ``stride``, ``padding``,
    ``output_padding``, ``dilation``; ``groups`` 1, ``padding_mode`` "zeros"); weight:
    PyTorch's (C_in, C_out, kh, kw); bias: (C_out,) or None. Returns keyword arguments for
    ``keras.layers.Conv2DTranspose`` (``filters``, ``kernel_size``, ``strides``, ``padding``,
    ``output_padding``, ``dilation_rate``, ``use_bias``), the kernel as (kh, kw, C_out, C_in)
    and the bias. Raises ``ValueError`` naming the argument when no Keras layer is exact.
    """
    weight = validation.array(weight, "weight", 4, "(C_in, C_out, kh, kw)")
    (c_in, c_out, kh, kw) = weight.shape
    bias = validation.bias(bias, c_out)
    if config.get("groups", 1) != 1:
        raise ValueError(f"groups must be 1 (Keras's Conv2DTranspose has no groups), got {config['groups']!r}")
    if config.get("padding_mode", "zeros") != "zeros":
        raise ValueError(f"padding_mode must be 'zeros' (the only one ConvTranspose2d supports), "
                         f"got {config['padding_mode']!r}")
    if "kernel_size" in config and validation.pair(config["kernel_size"], "kernel_size") != (kh, kw):
        raise ValueError(f"kernel_size {config['kernel_size']!r} does not match weight {weight.shape}")
    stride = validation.pair(config.get("stride", 1), "stride")
    dilation = validation.pair(config.get("dilation", 1), "dilation")
    if max(stride) > 1 and max(dilation) > 1:
        raise ValueError(f"dilation must be 1 when stride > 1: Keras does not combine them, "
                         f"got stride={stride} and dilation={dilation}")
    target = torch_crop((kh, kw), stride, config.get("padding", 0), config.get("output_padding", 0), dilation)
    for padding in ("valid", "same"):
        output_padding = _keras_output_padding(target, (kh, kw), stride, padding, dilation)
        if output_padding is not False:
            keras_config = dict(filters=c_out, kernel_size=(kh, kw), strides=stride, padding=padding,
                                output_padding=output_padding, dilation_rate=dilation,
                                use_bias=bias is not None)
            return keras_config, np.ascontiguousarray(weight.transpose(2, 3, 1, 0)), bias
    raise ValueError(
        f"padding={config.get('padding', 0)!r} with output_padding={config.get('output_padding', 0)!r}, "
        f"kernel_size {(kh, kw)} and stride {stride} cuts {target} (before, after) cells from the full "
        f"scatter; no Keras padding ('valid' or 'same') and output_padding cuts that"
    )


def _keras_output_padding(target, kernel_size, strides, padding, dilation):
    """Keras's output_padding (None or a pair) giving the cut ``target``, or False if none does."""
    if _keras_crop_or_none(kernel_size, strides, padding, None, dilation) == target:
        return None
    per_axis = []
    for a in range(2):
        ops = [op for op in range(strides[a]) if _axis_crop(kernel_size, strides, padding, op, dilation, a)
               == target[a]]
        if not ops:
            return False
        per_axis.append(ops[0])
    return tuple(per_axis)


def _axis_crop(kernel_size, strides, padding, op, dilation, axis):
    try:
        return shapes.conv_transpose_crop(1, kernel_size[axis], strides[axis], padding, op, dilation[axis])
    except ValueError:  # Keras refuses this output_padding
        return None


def _keras_crop_or_none(*args):
    try:
        return keras_crop(*args)
    except ValueError:
        return None


def _check_keras_extras(config, kernel):
    if config.get("activation") not in (None, "linear"):
        raise ValueError(f"activation must be 'linear' (ConvTranspose2d has none; port "
                         f"activation={config['activation']!r} as its own PyTorch module)")
    if config.get("data_format") not in (None, "channels_last"):
        raise ValueError(f"data_format must be 'channels_last' (the kernel layout assumed here), "
                         f"got {config['data_format']!r}")
    if config.get("groups", 1) != 1:
        raise ValueError(f"groups must be 1, got {config['groups']!r}")
    if "kernel_size" in config and validation.pair(config["kernel_size"], "kernel_size") != kernel.shape[:2]:
        raise ValueError(f"kernel_size {config['kernel_size']!r} does not match kernel {kernel.shape}")
    if config.get("filters", kernel.shape[2]) != kernel.shape[2]:
        raise ValueError(f"filters={config['filters']} does not match kernel (kh, kw, C_out, C_in) "
                         f"{kernel.shape}")


def _torch_output_padding(output_padding, stride, dilation):
    """PyTorch's rule: each output_padding smaller than its stride or its dilation."""
    pads = validation.pair(output_padding, "output_padding", minimum=0)
    for op, s, d in zip(pads, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"output_padding must be smaller than either stride or dilation (PyTorch's "
                             f"rule), got output_padding={output_padding!r}, stride={stride}, "
                             f"dilation={dilation}")
    return pads
