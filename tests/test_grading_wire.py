"""The wire format: plain data crosses it unchanged; anything else is refused cheaply or cut off."""
from __future__ import annotations

import numpy as np
import pytest

from tconv_lib.grading.inside import wire


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", (1, 2), [1, [2.0, "a"]], {"k": (1, None)}, (4, 2),
    np.arange(12.0).reshape(3, 4), np.array([[1, 2]], dtype=np.int32), np.zeros((0, 3)),
    float("nan"), float("inf"), (np.ones(2, dtype=bool), [np.float32(1.5)]),
])
def test_plain_values_round_trip(value):
    got = wire.roundtrip(value)
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(got, value)
    elif isinstance(value, float) and value != value:
        assert got != got
    elif isinstance(value, tuple) and isinstance(value[0], np.ndarray):
        np.testing.assert_array_equal(got[0], value[0])
        assert got[1] == [1.5] and type(got[1][0]) is float
    else:
        assert got == value and type(got) is type(value)


def test_tuples_and_lists_stay_apart():
    assert type(wire.roundtrip((4, 2))) is tuple and type(wire.roundtrip([4, 2])) is list


def test_numpy_scalars_become_python_numbers():
    assert type(wire.roundtrip(np.int64(3))) is int and type(wire.roundtrip(np.float64(2.0))) is float


def test_a_huge_view_is_refused_without_being_copied():
    view = np.broadcast_to(0.0, (30000, 30000))  # 7 GB if materialised
    with pytest.raises(wire.Refused, match="900000000 elements"):
        wire.to_plain(view)


def test_a_huge_nested_list_is_refused_by_its_budget():
    row = [0.0] * 10 ** 4
    with pytest.raises(wire.Refused, match="at most"):
        wire.to_plain([row] * 10 ** 4)


@pytest.mark.parametrize("value, words", [
    (object(), "an object of type object"),
    (type("Sneaky", (list,), {})([1]), "an object of type Sneaky"),  # subclasses could lie
    (np.array(["a"]), "dtype"),
    (2 ** 1000, "too large"),
    (lambda: 0, "an object of type function"),
])
def test_objects_are_refused_by_type(value, words):
    with pytest.raises(wire.Refused, match=words):
        wire.to_plain(value)


def _frame(message: bytes):
    header, _ = wire.frame_lengths(message[:wire.PREFIX_BYTES], 1 << 30)
    return message[wire.PREFIX_BYTES:wire.PREFIX_BYTES + header], message[wire.PREFIX_BYTES + header:]


def test_decode_checks_arrays_against_their_bytes():
    header, body = _frame(wire.encode({"ok": np.arange(4.0)}))
    assert wire.decode(header, body)["ok"].tolist() == [0, 1, 2, 3]
    with pytest.raises(wire.WireError, match="does not match"):
        wire.decode(header, body[:-8])
    lying = header.replace(b"[4]", b"[400000]")
    with pytest.raises(wire.WireError):
        wire.decode(lying, body)
    with pytest.raises(wire.WireError, match="malformed"):
        wire.decode(header.replace(b"float64", b"object"), body)


@pytest.mark.parametrize("header", [b"\xff\xfe", b"[" * 100000 + b"]" * 100000, b'{"ok": {"a": [1]}}'])
def test_decode_rejects_malformed_headers(header):
    with pytest.raises(wire.WireError):
        tree = wire.decode(header, b"")
        wire.from_plain(tree["ok"])


def test_frame_lengths_refuses_a_message_over_the_cap():
    message = wire.encode({"ok": np.zeros(1000)})
    with pytest.raises(wire.WireError, match="at most 100"):
        wire.frame_lengths(message[:wire.PREFIX_BYTES], 100)


def test_refused_values_travel_as_refusals():
    with pytest.raises(wire.Refused, match="why"):
        wire.from_plain({"x": "why"})
    with pytest.raises(wire.WireError):
        wire.from_plain({"t": 5})
