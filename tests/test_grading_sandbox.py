"""The sandbox itself: what student code can see and do in it, and what it cannot."""
from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

import pytest

from tconv_lib.grading.inside import wire
from tconv_lib.grading.judge.sandbox import (Limits, MemoryGroup, Sandbox, SandboxDied, availability,
                                             bwrap_command)
from tconv_lib.grading.judge.session import Session, StudentError, clean_outputs

pytestmark = pytest.mark.skipif(availability() is not None, reason=f"no sandbox here: {availability()}")
LIMITS = Limits(memory_mb=1024, processes=32, file_mb=8, call_s=1.0, cell_s=3.0, notebook_s=60)


@pytest.fixture(scope="module")
def box():
    with Sandbox(LIMITS, submission=("mine.ipynb", b'{"cells": []}')) as sandbox:
        yield sandbox


def cell(box: Sandbox, source: str, limit_s: float = 20) -> list[dict]:
    return box.request({"op": "cell", "source": source, "limit_s": limit_s, "max_bytes": 1 << 20},
                       timeout_s=limit_s + 5)["outputs"]


def printed(box: Sandbox, source: str) -> str:
    outputs = cell(box, source)
    assert not [o for o in outputs if o["output_type"] == "error"], outputs
    return "".join(o.get("text", "") for o in outputs)


def test_the_filesystem_holds_nothing_of_the_course(box):
    seen = printed(box, "import os\nprint(sorted(os.listdir('/')), sorted(os.listdir('.')))")
    assert "'mine.ipynb'" in seen  # the submission's own copy, in the scratch folder
    for path in ("/work/main/README.md", "/root/.bashrc", os.path.abspath("nbgrader_config.py"), "/etc/passwd"):
        assert "FileNotFoundError" in str(cell(box, f"open({path!r})")), path


@pytest.mark.parametrize("module", ["tensorflow", "keras", "scipy", "tconv_lib", "jax"])
def test_only_numpy_is_importable(box, module):
    outputs = cell(box, f"import {module}")
    assert outputs[0]["evalue"] == f"graded code is NumPy only: {module} is not available while grading"


def test_numpy_matplotlib_and_ipython_work(box):
    assert "6.0" in printed(box, "import numpy as np\nprint(np.ones(6).sum())")
    outputs = cell(box, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert "per loop" in printed(box, "%timeit -n1 -r1 sum(range(10))")


def test_it_runs_as_an_unprivileged_user_without_network(box):
    uid = int(printed(box, "import os\nprint(os.getuid())"))
    assert uid != 0
    outputs = cell(box, "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)")
    assert outputs[0]["output_type"] == "error"
    port = 31000 + os.getpid() % 1000
    printed(box, f"import socket\ns = socket.socket()\ns.bind(('127.0.0.1', {port}))\ns.listen()")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # its loopback is its own


def test_it_sees_only_its_own_processes(box):
    pids = printed(box, "import os\nprint([p for p in os.listdir('/proc') if p.isdigit()])")
    assert len(eval(pids)) <= 4  # bwrap's init, the runner (and the ls of this very cell)


def test_limits_hold(box):
    assert "MemoryError" in str(cell(box, "x = bytearray(2 * 1024 ** 3)"))
    full = str(cell(box, "open('big', 'wb').write(b'0' * (9 << 20))"))
    assert "File too large" in full or "No space left on device" in full
    forks = printed(box, "import os, time\nn = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n"
                         "            time.sleep(5)\n            os._exit(0)\n        n += 1\nexcept OSError:\n"
                         "    pass\nprint(n)")
    assert int(forks) < LIMITS.processes
    assert "ran past its time limit of 3 s" in str(cell(box, "import time\ntime.sleep(30)", limit_s=3))


def test_output_is_capped(box):
    outputs = box.request({"op": "cell", "source": "print('x' * 10 ** 6)", "limit_s": 3, "max_bytes": 1000},
                          timeout_s=10)["outputs"]
    assert sum(len(o.get("text", "")) for o in outputs) < 1200
    assert "output cut" in outputs[-1]["text"]


def test_a_sandbox_that_breaks_the_protocol_is_killed():
    with Sandbox(LIMITS) as sandbox:
        with pytest.raises(SandboxDied, match="sent a message of"):
            cell(sandbox, "import os, sys\nos.write(int(sys.argv[2]), b'\\xff' * 64)")
        with pytest.raises(SandboxDied, match="sent a message of"):
            cell(sandbox, "1")


def test_a_stuck_sandbox_is_killed_with_everything_it_started():
    sandbox = Sandbox(LIMITS)
    sandbox.start()
    try:
        cell(sandbox, "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)")
        start = time.monotonic()
        with pytest.raises(SandboxDied, match="time limit"):
            sandbox.request({"op": "cell", "source": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                             "while True:\n    pass", "limit_s": 1, "max_bytes": 100}, timeout_s=2)
        assert time.monotonic() - start < 5
    finally:
        sandbox.close()
    # The PID namespace's end is asynchronous (the kernel kills what is left once its first
    # process is gone): under a loaded CI machine 0.5 s was once not enough. The sleep would
    # last 300 s; gone within 5 s means it was killed.
    deadline = time.monotonic() + 5
    while [p for p in os.listdir("/proc") if p.isdigit() and b"sleep\x00300" in _cmdline(p)]:
        assert time.monotonic() < deadline, "a process the sandbox started outlived it"
        time.sleep(0.05)


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_a_session_restarts_a_dead_sandbox_and_replays_the_cells():
    with Session(LIMITS) as session:
        outputs, _ = session.run_cell("import numpy as np\nimport os\n"
                                      "def f(x):\n    return np.asarray(x) * 2\n"
                                      "def die(x):\n    os._exit(1)")
        assert outputs == []
        assert session.lookup("f")([1, 2]).tolist() == [2, 4]
        with pytest.raises(StudentError, match="could not be run: the sandbox stopped"):
            session.lookup("die")(1)
        assert session.lookup("f")([3]).tolist() == [6] and session.restarts == 1
        with pytest.raises(KeyError):
            session.lookup("undefined")
        with pytest.raises(StudentError, match="did not return within 1 s"):
            session.run_cell("import time\ndef slow():\n    time.sleep(10)")
            session.lookup("slow")()


def test_outputs_from_the_sandbox_are_rebuilt_not_trusted():
    kept = clean_outputs([
        {"output_type": "stream", "name": "stdout", "text": "hi"},
        {"output_type": "display_data", "data": {"text/html": "<script>x</script>", "text/plain": "p",
                                                 "image/png": "not base64!"}},
        {"output_type": "stream", "name": "stdout", "text": 5},
        {"output_type": "weird"}, "junk",
    ], 10_000)
    assert kept == [{"output_type": "stream", "name": "stdout", "text": "hi"},
                    {"output_type": "display_data", "data": {"text/plain": "p"}, "metadata": {}}]


def test_the_command_line_keeps_the_sandbox_shut():
    command = bwrap_command(Sandbox().python, ["3", "4"], LIMITS)
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in command
    assert "--bind" not in command  # everything of the host is read-only
    mounted = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]
    assert not [path for path in mounted if "tconv_lib" in path and not path.endswith("grading/inside")]
    assert str(Path(wire.__file__).parent) in mounted  # the runner and the wire format, nothing else of it


def test_a_stale_memory_group_of_the_same_name_is_replaced(monkeypatch):
    # Groups are named by pid and a counter; pids wrap, so an earlier process's leftover group
    # can hold the next name. It is removed and the sandbox still gets its limit (it used to
    # fall through to cgroup v1 and run with no memory group at all).
    monkeypatch.setattr(MemoryGroup, "_made", itertools.count(10 ** 6))
    probe = MemoryGroup(1 << 30)
    if probe.path is None:
        pytest.skip("no memory cgroup can be made here")
    stale = probe.path.with_name(f"tconv-sandbox-{os.getpid()}-{10 ** 6 + 1}")
    probe.remove()
    stale.mkdir()
    group = MemoryGroup(1 << 30)
    try:
        limit = next(group.path / name for name in ("memory.max", "memory.limit_in_bytes")
                     if (group.path / name).exists())  # cgroup v2 or v1
        assert group.path == stale and limit.read_text().strip() == str(1 << 30)
    finally:
        group.remove()
    assert not stale.exists()
