"""The program that runs inside the grading sandbox: a student's cells and functions, nothing else.

Started by ``tconv_lib.grading.judge.sandbox`` as ``python -I runner.py REQUEST_FD REPLY_FD`` in a
bubblewrap sandbox whose filesystem holds only Python, NumPy, matplotlib, IPython, this folder
and a scratch folder. It knows no expected value, no secret and no test: it answers requests,
one at a time, with plain data (``wire``):

* ``{"op": "cell", "source", "limit_s", "max_bytes"}``: run a cell in IPython (magics, displays
  and matplotlib's inline figures included); reply ``{"outputs": [...], "count": n}`` in
  nbformat's output format, capped at ``max_bytes``.
* ``{"op": "call", "name", "args", "kwargs", "limit_s"}``: call the student's global ``name``;
  reply ``{"ok": value}`` or ``{"error": "Type: message"}``. What the function prints is dropped.
* ``{"op": "kind", "name"}``: ``{"kind": "function" | "value" | "missing"}``;
  ``{"op": "value", "name"}``: ``{"ok": value}`` or ``{"error": ...}``.

Everything student code does to this process (rebinding NumPy, hooking IPython, writing to the
reply pipe itself) can only change the answers it sends, and the judge checks those against
Keras. Nothing here is a defence; the sandbox and the judge are.
"""
from __future__ import annotations

import base64
import importlib.abc
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402  (this folder, bound read-only into the sandbox)

NOT_AVAILABLE = frozenset({"tensorflow", "keras", "tf_keras", "scipy", "torch", "jax", "jaxlib",
                           "sklearn", "tconv_lib"})
MIME_TYPES = ("text/plain", "image/png", "image/jpeg")  # HTML, SVG and scripts are not shown


class NumPyOnly(importlib.abc.MetaPathFinder):
    """A clear message for the libraries graded code may not use (they are not installed here)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in NOT_AVAILABLE:
            raise ModuleNotFoundError(f"graded code is NumPy only: {fullname.partition('.')[0]} "
                                      f"is not available while grading", name=fullname)
        return None


class OverTime(BaseException):
    """Raised in student code by the alarm when a cell or a call runs past its limit."""

    def __str__(self) -> str:
        return f"ran past its time limit of {_limit_s[0]:g} s"


_limit_s = [0.0]


class Outputs:
    """The outputs of one cell in nbformat's shape, stopped at ``max_bytes`` of text and images."""

    def __init__(self, max_bytes: int):
        self.items: list[dict] = []
        self.left = max_bytes
        self.cut = False

    def _take(self, size: int) -> bool:
        if size > self.left:
            self.cut = True
            return False
        self.left -= size
        return True

    def stream(self, name: str, text: str) -> None:
        if not self._take(len(text)):
            text = text[:max(self.left, 0)]
            self.left = 0
        if not text:
            return
        if self.items and self.items[-1].get("name") == name:
            self.items[-1]["text"] += text
        else:
            self.items.append({"output_type": "stream", "name": name, "text": text})

    def data(self, output_type: str, data: dict, **extra) -> None:
        kept = {}
        for mime in MIME_TYPES:
            value = data.get(mime)
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode()
            if isinstance(value, str) and self._take(len(value)):
                kept[mime] = value
        if kept:
            self.items.append({"output_type": output_type, "data": kept, "metadata": {}, **extra})

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        lines = [line[:2000] for line in traceback[-30:]]
        if self._take(sum(map(len, lines)) + len(evalue)):
            self.items.append({"output_type": "error", "ename": ename[:200], "evalue": evalue[:2000],
                               "traceback": lines})
        else:
            self.items.append({"output_type": "error", "ename": ename[:200], "evalue": evalue[:200],
                               "traceback": [f"{ename[:200]}: {evalue[:200]}"]})

    def finish(self) -> list[dict]:
        if self.cut:
            self.items.append({"output_type": "stream", "name": "stderr",
                               "text": "\n[output cut: this cell printed more than the grader keeps]\n"})
        return self.items


class Stream:
    """``sys.stdout`` / ``sys.stderr`` for student code: text goes to the current cell's outputs."""

    def __init__(self, name: str, state: dict):
        self.name, self.state = name, state
        self.encoding, self.errors = "utf-8", "replace"

    def write(self, text) -> int:
        text = str(text)
        sink = self.state.get("outputs")
        if sink is not None:
            sink.stream(self.name, text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self):
        raise OSError("no file descriptor while grading")


def _alarm(_signum, _frame):
    raise OverTime()


def _timed(limit_s: float, fn, *args):
    _limit_s[0] = float(limit_s)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(limit_s), 0.01))
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def make_shell(state: dict):
    """An IPython shell whose displays, results and errors land in ``state["outputs"]``."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            if state.get("outputs") is not None:
                state["outputs"].data("display_data", data)

        def clear_output(self, wait=False):
            pass

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            if state.get("outputs") is not None:
                state["outputs"].data("execute_result", format_dict, execution_count=self.prompt_count)

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def enable_gui(self, gui=None):  # %matplotlib inline needs no event loop (as in ipykernel)
            pass

        def _showtraceback(self, etype, evalue, stb):
            if state.get("outputs") is not None:
                state["outputs"].error(getattr(etype, "__name__", "Exception"), str(evalue), list(stb))

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    return Shell.instance(config=config)


def serve(requests: int, replies: int) -> None:
    state: dict = {"outputs": None}
    sys.stdout, sys.stderr = Stream("stdout", state), Stream("stderr", state)
    shell = make_shell(state)
    reply(replies, {"ready": True})
    while True:
        message = read(requests)
        op = message.get("op")
        if op == "cell":
            state["outputs"] = sink = Outputs(int(message["max_bytes"]))
            try:
                _timed(message["limit_s"], shell.run_cell, message["source"], True)
            except OverTime as exc:  # raised between IPython's own handlers
                sink.error("OverTime", str(exc), [f"OverTime: {exc}"])
            state["outputs"] = None
            reply(replies, {"outputs": sink.finish(), "count": shell.execution_count - 1})
        elif op in ("call", "value"):
            reply(replies, _call(shell, message))
        elif op == "kind":
            value = shell.user_ns.get(message["name"], _MISSING)
            kind = "missing" if value is _MISSING else "function" if callable(value) else "value"
            reply(replies, {"kind": kind})


_MISSING = object()


def _call(shell, message: dict) -> dict:
    name, limit_s = message["name"], float(message.get("limit_s", 5))
    target = shell.user_ns.get(name, _MISSING)
    if target is _MISSING:
        return {"error": f"{name} is not defined"}

    def run():
        if message["op"] == "value":
            return wire.to_plain(target)
        args = wire.from_plain(message["args"])
        kwargs = wire.from_plain(message["kwargs"])
        return wire.to_plain(target(*args, **kwargs))

    try:
        return {"ok": _timed(limit_s, run)}
    except wire.Refused as exc:
        return {"refused": str(exc)}
    except OverTime:
        return {"error": f"did not return within {limit_s:g} s"}
    except BaseException as exc:  # the student's exception, SystemExit and KeyboardInterrupt too
        return {"error": wire.describe_exception(exc)}


def read(fd: int) -> dict:
    prefix = _read_exactly(fd, wire.PREFIX_BYTES)
    header, body = wire.frame_lengths(prefix, 1 << 40)
    return wire.decode(_read_exactly(fd, header), _read_exactly(fd, body))


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise SystemExit(0)  # the judge has gone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def reply(fd: int, tree: dict) -> None:
    data = memoryview(wire.encode(tree))
    while data:
        data = data[os.write(fd, data):]


def main() -> None:
    requests, replies = int(sys.argv[1]), int(sys.argv[2])
    # Ctrl-C as in any kernel, whatever the grader ignores (a parallel run's workers ignore it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Nothing inherited but the two pipes; C-level writes to stdout/stderr go nowhere.
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2 and fd not in (requests, replies):
            try:
                os.close(fd)
            except OSError:
                pass
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.meta_path.insert(0, NumPyOnly())
    serve(requests, replies)


if __name__ == "__main__":
    main()
