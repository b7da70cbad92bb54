"""The only data that crosses the sandbox's boundary: plain values and NumPy arrays, framed.

Used on both sides (the sandbox imports this file as the top-level module ``wire``; the judge as
``tconv_lib.grading.inside.wire``), so it needs nothing but the standard library and NumPy.

A message is an 8-byte big-endian length, a JSON header of that length, then the raw bytes of
the arrays it names. The tree is JSON with tags, so that nothing is ever unpickled or evaluated:

* ``None``, ``bool``, ``int``, ``float``, ``str`` as themselves;
* ``{"t": [...]}`` a tuple, ``{"l": [...]}`` a list, ``{"d": [[key, value], ...]}`` a dict;
* ``{"a": [dtype, shape, offset, nbytes]}`` an array whose bytes follow the header;
* ``{"x": "why"}`` a value that could not be sent (``to_plain`` refused it).

``to_plain`` turns what student code returned into such a tree without materialising anything
larger than ``MAX_ELEMENTS`` (it reads an array's size before copying it, and walks nested lists
with a budget); ``decode`` checks every length and dtype before it trusts a byte, so a hostile
sender can only send a wrong answer or be cut off with ``WireError``.
"""
from __future__ import annotations

import json
import struct

import numpy as np

MAX_ELEMENTS = 4_000_000  # array elements, or list items, in one value
MAX_HEADER_BYTES = 8 << 20
MAX_DEPTH = 32
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
_LENGTH = struct.Struct(">Q")


class WireError(ValueError):
    """A message that breaks the format: the sender is cut off."""


class Refused(ValueError):
    """A value that is not plain data (or too large): what the student is told instead."""


def _type_name(value) -> str:
    name = type(value).__name__
    return name if isinstance(name, str) and name.isidentifier() and len(name) < 40 else "object"


def to_plain(value, budget: list[int] | None = None, depth: int = 0):
    """``value`` as a tree of plain data and arrays; raises ``Refused`` saying why not.

    Works on student objects without trusting them: only exact built-in types and NumPy arrays
    and scalars are read; a subclass or any other object is refused by its type's name.
    """
    if budget is None:
        budget = [MAX_ELEMENTS]
        _count_items(value)
    if depth > MAX_DEPTH:
        raise Refused(f"a value nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind in (bool, str, float):
        return value
    if kind is int:
        if value.bit_length() > 256:
            raise Refused("an integer too large to be an answer")
        return value
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        if value.dtype.name not in DTYPES:
            raise Refused(f"a NumPy scalar of dtype {value.dtype.name}")
        return value.item()
    if kind is np.ndarray:
        if value.size > budget[0]:
            raise Refused(f"an array of {value.size} elements (at most {MAX_ELEMENTS} are read)")
        budget[0] -= value.size
        if value.dtype.name not in DTYPES:
            if value.dtype != object:
                raise Refused(f"an array of dtype {value.dtype.name}")
            # Object arrays of plain numbers (np.array of a ragged computation) are read item by item.
            return {"o": list(value.shape), "v": [to_plain(v, budget, depth + 1) for v in value.ravel().tolist()]}
        return value
    if kind in (tuple, list):
        if len(value) > budget[0]:
            raise Refused(f"a {kind.__name__} of {len(value)} items (at most {MAX_ELEMENTS} are read)")
        budget[0] -= len(value)
        items = [to_plain(v, budget, depth + 1) for v in value]
        return {"t": items} if kind is tuple else {"l": items}
    if kind is dict:
        if len(value) > budget[0]:
            raise Refused(f"a dict of {len(value)} items")
        budget[0] -= len(value)
        return {"d": [[to_plain(k, budget, depth + 1), to_plain(v, budget, depth + 1)]
                      for k, v in value.items()]}
    raise Refused(f"an object of type {_type_name(value)}")


def _count_items(value) -> None:
    """Refuse nested lists of more than ``MAX_ELEMENTS`` items from their lengths alone, level by level."""
    level, total = [value], 0
    for _ in range(MAX_DEPTH + 1):
        level = [v for v in level if type(v) in (list, tuple, dict)]
        if not level:
            return
        for v in level:
            total += len(v)
            if total > MAX_ELEMENTS:
                raise Refused(f"a {type(value).__name__} of more than {MAX_ELEMENTS} items (at most "
                              f"{MAX_ELEMENTS} are read)")
        level = [item for v in level for item in (v.values() if type(v) is dict else v)]


def encode(tree) -> bytes:
    """One framed message holding ``tree`` (from ``to_plain``, or any JSON-able dict of them)."""
    buffers: list[bytes] = []

    def pack(node):
        if isinstance(node, np.ndarray):
            data = np.ascontiguousarray(node).tobytes()
            offset = sum(len(b) for b in buffers)
            buffers.append(data)
            return {"a": [node.dtype.name, list(node.shape), offset, len(data)]}
        if isinstance(node, dict):
            return {k: pack(v) for k, v in node.items()}
        if isinstance(node, list):
            return [pack(v) for v in node]
        if isinstance(node, float) and node != node:
            return {"f": "nan"}
        if isinstance(node, float) and node in (float("inf"), float("-inf")):
            return {"f": "inf" if node > 0 else "-inf"}
        return node

    header = json.dumps(pack(tree), separators=(",", ":")).encode()
    return _LENGTH.pack(len(header)) + _LENGTH.pack(sum(len(b) for b in buffers)) + header + b"".join(buffers)


def frame_lengths(prefix: bytes, max_bytes: int) -> tuple[int, int]:
    """(header bytes, array bytes) of a message from its 16-byte prefix; ``WireError`` if too large."""
    header, body = _LENGTH.unpack(prefix[:8])[0], _LENGTH.unpack(prefix[8:16])[0]
    if header > MAX_HEADER_BYTES or header + body > max_bytes:
        raise WireError(f"a message of {header + body} bytes (at most {max_bytes})")
    return header, body


PREFIX_BYTES = 16


def decode(header: bytes, body: bytes):
    """The tree of one message, every array checked against its declared dtype, shape and bytes."""
    try:
        raw = json.loads(header.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"an unreadable header ({type(exc).__name__})") from None
    budget = [MAX_ELEMENTS]

    def unpack(node, depth):
        if depth > MAX_DEPTH + 4:
            raise WireError("a value nested too deep")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [unpack(v, depth + 1) for v in node]
        if type(node) is not dict:
            raise WireError("an unknown node")
        if set(node) == {"a"}:
            return _array(node["a"], body, budget)
        if set(node) == {"f"} and node["f"] in ("nan", "inf", "-inf"):
            return float(node["f"])
        return {str(k): unpack(v, depth + 1) for k, v in node.items()}

    return unpack(raw, 0)


def _array(spec, body: bytes, budget: list[int]) -> np.ndarray:
    if not (type(spec) is list and len(spec) == 4 and spec[0] in DTYPES and type(spec[1]) is list
            and all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in spec[1]) and len(spec[1]) <= MAX_DEPTH
            and all(type(n) is int and n >= 0 for n in spec[2:])):
        raise WireError("a malformed array")
    dtype, shape, offset, nbytes = np.dtype(spec[0]), tuple(spec[1]), spec[2], spec[3]
    size = int(np.prod(shape, dtype=object))
    if size > budget[0] or size * dtype.itemsize != nbytes or offset + nbytes > len(body):
        raise WireError("an array whose size does not match its bytes")
    budget[0] -= size
    return np.frombuffer(body, dtype=dtype, count=size, offset=offset).reshape(shape).copy()


def from_plain(tree):
    """The Python value of a ``to_plain`` tree (after ``decode``): tuples, lists, dicts, arrays.

    Raises ``Refused`` for a ``{"x": why}`` node and ``WireError`` for anything malformed.
    """
    if tree is None or type(tree) in (bool, int, float, str) or isinstance(tree, np.ndarray):
        return tree
    if type(tree) is dict and len(tree) == 1:
        (tag, items), = tree.items()
        if tag == "x" and type(items) is str:
            raise Refused(items[:200])
        if tag in ("t", "l") and type(items) is list:
            values = [from_plain(v) for v in items]
            return tuple(values) if tag == "t" else values
        if tag == "d" and type(items) is list and all(type(p) is list and len(p) == 2 for p in items):
            try:
                return {from_plain(k): from_plain(v) for k, v in items}
            except TypeError:
                raise WireError("a dict with an unhashable key") from None
    if type(tree) is dict and set(tree) == {"o", "v"} and type(tree["o"]) is list and type(tree["v"]) is list:
        values = [from_plain(v) for v in tree["v"]]
        out = np.empty(len(values), dtype=object)
        out[:] = values
        try:
            return out.reshape(tree["o"])
        except (TypeError, ValueError):
            raise WireError("an object array whose shape does not match") from None
    raise WireError("an unknown value")


def roundtrip(value):
    """What the judge would receive for ``value``: the same checks in a student's own kernel."""
    message = encode({"v": to_plain(value)})
    header, _ = frame_lengths(message[:PREFIX_BYTES], 1 << 62)
    tree = decode(message[PREFIX_BYTES:PREFIX_BYTES + header], message[PREFIX_BYTES + header:])
    return from_plain(tree["v"])


def describe_exception(exc: BaseException) -> str:
    """``raised Type: message`` for a failure in student code, without trusting its ``__str__``."""
    try:
        message = str(exc)
    except BaseException:
        message = ""
    return f"raised {_type_name(exc)}: {message[:300]}"
