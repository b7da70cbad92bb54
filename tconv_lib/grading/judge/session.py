"""One submission's run: its sandbox, its clocks and output budget, and the proxies of its functions.

The judge runs every student cell in the sandbox, in notebook order, then decides the tests in
this (trusted) process, where a test cell's ``Conv2D`` is a ``StudentFunction``: calling it sends
the arguments into the sandbox and returns what the student's function returned, as plain data
already checked by ``wire``. If the sandbox dies (a limit, a crash, ``os._exit``), the call
fails, a new sandbox is started and the student's cells are run again, silently, before the next
test; after ``MAX_RESTARTS`` the remaining tests fail with the reason.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
from pathlib import Path

from ..inside import wire
from .sandbox import Limits, Sandbox, SandboxDied

MAX_RESTARTS = 3
GRACE_S = 2.0  # beyond a limit the runner enforces itself, before the judge kills the sandbox
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


class StudentError(Exception):
    """A student's function failed in the sandbox; the message says how (``raised ...``, ``did not return ...``)."""


class Session:
    def __init__(self, limits: Limits, *, isolate: bool = True, submission: tuple[str, bytes] | None = None,
                 python: Path | None = None):
        self.limits, self.isolate, self.submission, self.python = limits, isolate, submission, python
        self.deadline = time.monotonic() + limits.notebook_s
        self.output_left = limits.notebook_output_kb << 10
        self.cells: list[str] = []  # student sources run so far, replayed after a restart
        self.restarts = 0
        self.box: Sandbox | None = None
        self.stopped: str | None = None  # why no more code of this submission will run

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        if self.box is not None:
            self.box.close()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _sandbox(self) -> Sandbox:
        if self.stopped:
            raise SandboxDied(self.stopped)
        if self.box is not None and not self.box.dead:
            return self.box
        if self.box is not None:
            self.restarts += 1
            self.box.close()  # its pipes and folder (a long-lived worker would run out of descriptors)
            if self.restarts > MAX_RESTARTS:
                self.stopped = f"{self.box.dead}, and it stopped {MAX_RESTARTS} times"
                raise SandboxDied(self.stopped)
        self.box = Sandbox(self.limits, isolate=self.isolate, submission=self.submission, python=self.python)
        self.box.start(timeout_s=max(min(60.0, self.remaining()), 1.0))
        for source in self.cells:  # the state the student's cells built, outputs discarded
            self._request({"op": "cell", "source": source, "limit_s": self.limits.cell_s, "max_bytes": 0},
                          self.limits.cell_s)
        return self.box

    def _request(self, message: dict, limit_s: float, max_bytes: int = 16 << 20) -> dict:
        left = self.remaining()
        if left <= 0:
            self.stopped = f"the notebook ran past its time limit of {self.limits.notebook_s:g} s"
            if self.box is not None:
                self.box.kill(self.stopped)
            raise SandboxDied(self.stopped)
        if "limit_s" in message:
            message = {**message, "limit_s": min(message["limit_s"], left)}
        box = self.box if self.box is not None and not self.box.dead else self._sandbox()
        return box.request(message, timeout_s=min(limit_s, left) + GRACE_S, max_bytes=max_bytes)

    # ---- student cells ----------------------------------------------------------------

    def run_cell(self, source: str) -> tuple[list[dict], int | None]:
        """Run a student cell in the sandbox: its outputs (checked and capped) and execution count."""
        cap = min(self.limits.cell_output_kb << 10, self.output_left)
        try:
            self._sandbox()
            reply = self._request({"op": "cell", "source": source, "limit_s": self.limits.cell_s,
                                   "max_bytes": cap}, self.limits.cell_s, max_bytes=cap + (1 << 20))
        except SandboxDied as exc:  # not replayed after the restart: it would only stop it again
            return [error_output("CellNotRun", f"this cell did not finish: {exc}")], None
        self.cells.append(source)
        outputs = clean_outputs(reply.get("outputs"), cap)
        self.output_left -= output_size(outputs)
        count = reply.get("count")
        return outputs, count if type(count) is int and count >= 0 else None

    # ---- the student's names, for test cells -------------------------------------------

    def lookup(self, name: str):
        """``StudentFunction`` for a function, the value for plain data, ``KeyError`` when undefined."""
        try:
            kind = self._request({"op": "kind", "name": name}, 10.0).get("kind")
        except SandboxDied:
            return StudentFunction(self, name)  # calling it says why the sandbox is gone
        if kind == "function":
            return StudentFunction(self, name)
        if kind == "value":
            return self.value(name)
        raise KeyError(name)

    def value(self, name: str):
        return _result(self._request({"op": "value", "name": name, "limit_s": self.limits.call_s},
                                     self.limits.call_s))

    def call(self, name: str, args: tuple, kwargs: dict):
        message = {"op": "call", "name": name, "args": wire.to_plain(tuple(args)),
                   "kwargs": wire.to_plain(dict(kwargs)), "limit_s": self.limits.call_s}
        try:
            return _result(self._request(message, self.limits.call_s))
        except SandboxDied as exc:
            raise StudentError(f"could not be run: {exc}") from None


def _result(reply: dict):
    if "ok" in reply:
        return wire.from_plain(reply["ok"])
    if "refused" in reply and type(reply["refused"]) is str:
        raise wire.Refused(reply["refused"][:200])
    message = reply.get("error")
    raise StudentError(message[:400] if type(message) is str else "failed")


class StudentFunction:
    """A student's function seen from the judge: calls run in the sandbox and return plain data."""

    def __init__(self, session: Session, name: str):
        self._session, self.__name__ = session, name

    def remote_call(self, args: tuple, kwargs: dict):
        return self._session.call(self.__name__, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self.remote_call(args, kwargs)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


# ---- outputs that go into the autograded notebook ----------------------------------------

def error_output(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def output_size(outputs: list[dict]) -> int:
    return len(json.dumps(outputs))


def clean_outputs(items, max_bytes: int) -> list[dict]:
    """The sandbox's outputs rebuilt field by field (only strings of known kinds), within ``max_bytes``."""
    kept: list[dict] = []
    left = max_bytes
    for item in items if type(items) is list else []:
        output = _clean(item)
        if output is None:
            continue
        size = output_size([output])
        if size > left:
            kept.append({"output_type": "stream", "name": "stderr",
                         "text": f"[output cut: more than {max_bytes >> 10} KiB]\n"})
            break
        left -= size
        kept.append(output)
    return kept


def _clean(item) -> dict | None:
    if type(item) is not dict or item.get("output_type") not in OUTPUT_TYPES:
        return None
    kind = item["output_type"]
    if kind == "stream":
        name, text = item.get("name"), item.get("text")
        return {"output_type": "stream", "name": name, "text": text} if name in ("stdout", "stderr") and \
            type(text) is str else None
    if kind == "error":
        ename, evalue, tb = item.get("ename"), item.get("evalue"), item.get("traceback")
        if type(ename) is not str or type(evalue) is not str or type(tb) is not list:
            return None
        return {"output_type": "error", "ename": ename[:200], "evalue": evalue[:2000],
                "traceback": [line[:2000] for line in tb[:30] if type(line) is str]}
    data = item.get("data")
    if type(data) is not dict:
        return None
    clean = {}
    for mime, value in data.items():
        if type(value) is not str:
            continue
        if mime == "text/plain":
            clean[mime] = value
        elif mime in ("image/png", "image/jpeg"):
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                continue
            clean[mime] = value
    if not clean:
        return None
    output = {"output_type": kind, "data": clean, "metadata": {}}
    if kind == "execute_result":
        count = item.get("execution_count")
        output["execution_count"] = count if type(count) is int else None
    return output
