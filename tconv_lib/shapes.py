"""Output sizes and paddings of Keras's Conv2D and Conv2DTranspose, one spatial axis at a time.

Every function here works on a single axis (ints in, ints out); the 2-D helpers at the
bottom apply them to height and width. All match Keras 3 with the TensorFlow backend:

* ``"same"`` convolution pads ``total = max((out - 1) * s + k_eff - i, 0)`` and puts the odd
  extra row or column at the bottom or right: ``before = total // 2``.
* A transposed convolution without ``output_padding`` has length ``i * s + max(k_eff - s, 0)``
  for ``"valid"`` (that is ``(i - 1) * s + max(k_eff, s)``: when the stride is larger than the
  kernel, the gaps after the last input pixel are kept) and ``i * s`` for ``"same"``.
* With ``output_padding = op`` the length is ``(i - 1) * s + k_eff - 2 * pad + op`` where
  ``pad = k_eff // 2`` for ``"same"`` and ``0`` for ``"valid"``.

``k_eff = (k - 1) * d + 1`` is the span of a kernel of size ``k`` with dilation ``d``.
"""
from __future__ import annotations

from . import validation


def effective_kernel_size(kernel_size: int, dilation_rate: int = 1) -> int:
    """Span of a dilated kernel: ``(k - 1) * d + 1``."""
    return (kernel_size - 1) * dilation_rate + 1


def conv_output_length(input_length: int, kernel_size: int, strides: int = 1,
                       padding: str = "valid", dilation_rate: int = 1) -> int:
    """Length of a convolution's output along one axis (Keras Conv2D)."""
    padding = validation.padding_mode(padding)
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    if padding == "same":
        return -(-input_length // strides)
    if k_eff > input_length:
        raise ValueError(
            f"a 'valid' convolution needs the kernel (span {k_eff}) to fit in the input "
            f"(length {input_length}); use a smaller kernel or padding='same'"
        )
    return (input_length - k_eff) // strides + 1


def conv_padding(input_length: int, kernel_size: int, strides: int = 1,
                 padding: str = "valid", dilation_rate: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) the input along one axis; odd totals put the extra one after."""
    out = conv_output_length(input_length, kernel_size, strides, padding, dilation_rate)
    if validation.padding_mode(padding) == "valid":
        return 0, 0
    total = max((out - 1) * strides + effective_kernel_size(kernel_size, dilation_rate) - input_length, 0)
    return total // 2, total - total // 2


def conv_transpose_output_length(input_length: int, kernel_size: int, strides: int = 1,
                                 padding: str = "valid", output_padding: int | None = None,
                                 dilation_rate: int = 1) -> int:
    """Length of a transposed convolution's output along one axis (Keras Conv2DTranspose)."""
    padding = validation.padding_mode(padding)
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    if output_padding is None:
        if padding == "valid":
            return input_length * strides + max(k_eff - strides, 0)
        return input_length * strides
    pad = k_eff // 2 if padding == "same" else 0
    length = (input_length - 1) * strides + k_eff - 2 * pad + output_padding
    # TensorFlow computes the transposed convolution as the gradient of a convolution from
    # this length back to the input length; it rejects lengths that convolution cannot map back.
    back = -(-length // strides) if padding == "same" else (length - k_eff) // strides + 1
    if length < 1 or back != input_length:
        raise ValueError(
            f"output_padding={output_padding} with padding={padding!r}, kernel {kernel_size}, "
            f"strides {strides} and input length {input_length} gives an output length {length} "
            f"that Keras (TensorFlow) rejects: a {padding!r} convolution of that length gives "
            f"{back}, not {input_length}; choose another output_padding or leave it None"
        )
    return length


def conv_transpose_crop(input_length: int, kernel_size: int, strides: int = 1,
                        padding: str = "valid", output_padding: int | None = None,
                        dilation_rate: int = 1) -> tuple[int, int]:
    """Rows cut (before, after) from the full scatter ``(i - 1) * s + k_eff`` along one axis.

    The full scatter is every input pixel's copy of the kernel, nothing cut. ``after`` is
    negative when the output is longer than the full scatter (zeros are appended there,
    as with a stride larger than the kernel under ``"valid"``).
    """
    out = conv_transpose_output_length(input_length, kernel_size, strides, padding,
                                       output_padding, dilation_rate)
    k_eff = effective_kernel_size(kernel_size, dilation_rate)
    full = (input_length - 1) * strides + k_eff
    before = conv_padding(out, kernel_size, strides, padding, dilation_rate)[0]
    return before, full - out - before


def output_padding_for(target: int, input_length: int, kernel_size: int, strides: int = 1,
                       padding: str = "valid", dilation_rate: int = 1) -> int | None:
    """The ``output_padding`` (one axis) that makes a transposed convolution ``target`` long.

    Returns ``None`` when leaving ``output_padding`` out already gives ``target`` (the default,
    preferred), otherwise the value in ``[0, strides)`` that Keras accepts and that gives it.
    Typical use: ``target`` is an encoder's input length and ``input_length`` its output, so the
    decoder gives back the encoder's odd size. Raises ``ValueError`` when no value does.
    """
    target = validation.integer(target, "target")
    if conv_transpose_output_length(input_length, kernel_size, strides, padding, None, dilation_rate) == target:
        return None
    for op in range(strides):
        try:
            if conv_transpose_output_length(input_length, kernel_size, strides, padding, op,
                                            dilation_rate) == target:
                return op
        except ValueError:  # Keras refuses this op; another may still work
            continue
    reachable = sorted({length for op in (None, *range(strides))
                        if (length := _length_or_none(input_length, kernel_size, strides, padding, op,
                                                      dilation_rate)) is not None})
    raise ValueError(
        f"target={target} cannot be reached from input length {input_length} with kernel {kernel_size}, "
        f"strides {strides} and padding={padding!r}: output_padding reaches only {reachable}"
    )


def _length_or_none(*args):
    try:
        return conv_transpose_output_length(*args)
    except ValueError:
        return None


def _per_axis(fn, input_shape, kernel_size, strides, padding, dilation_rate, **extra):
    kernel_size = validation.pair(kernel_size, "kernel_size")
    strides = validation.pair(strides, "strides")
    dilation_rate = validation.pair(dilation_rate, "dilation_rate")
    input_shape = validation.pair(input_shape, "input_shape")
    validation.no_strided_dilation(strides, dilation_rate)
    per_axis_extra = [{k: v[a] for k, v in extra.items()} for a in range(2)]
    return tuple(
        fn(input_shape[a], kernel_size[a], strides[a], padding, dilation_rate=dilation_rate[a],
           **per_axis_extra[a])
        for a in range(2)
    )


def conv2d_output_shape(input_shape, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """``(H_out, W_out)`` of Keras Conv2D for an input of spatial shape ``(H, W)``."""
    return _per_axis(conv_output_length, input_shape, kernel_size, strides, padding, dilation_rate)


def conv2d_padding(input_shape, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """``((top, bottom), (left, right))`` zeros Keras Conv2D adds to an ``(H, W)`` input."""
    return _per_axis(conv_padding, input_shape, kernel_size, strides, padding, dilation_rate)


def output_padding_pair(output_padding, strides):
    """``None`` or a checked pair, each entry in ``[0, stride)`` as Keras requires."""
    if output_padding is None:
        return (None, None)
    pads = validation.pair(output_padding, "output_padding", minimum=0)
    for p, s in zip(pads, strides):
        if p >= s:
            raise ValueError(
                f"output_padding must be smaller than strides in every dimension (Keras's rule), "
                f"got output_padding={output_padding!r} and strides={strides}"
            )
    return pads


def conv2d_transpose_output_shape(input_shape, kernel_size, strides=1, padding="valid",
                                  output_padding=None, dilation_rate=1):
    """``(H_out, W_out)`` of Keras Conv2DTranspose for an input of spatial shape ``(H, W)``."""
    pads = output_padding_pair(output_padding, validation.pair(strides, "strides"))
    return _per_axis(conv_transpose_output_length, input_shape, kernel_size, strides, padding,
                     dilation_rate, output_padding=pads)


def conv2d_transpose_crop(input_shape, kernel_size, strides=1, padding="valid",
                          output_padding=None, dilation_rate=1):
    """``((top, bottom), (left, right))`` cut from the full scatter; see ``conv_transpose_crop``."""
    pads = output_padding_pair(output_padding, validation.pair(strides, "strides"))
    return _per_axis(conv_transpose_crop, input_shape, kernel_size, strides, padding,
                     dilation_rate, output_padding=pads)
