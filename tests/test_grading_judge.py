"""Grading end to end, through nbgrader's own commands: honest work keeps its marks, attacks earn nothing.

One class of `from-scratch` submissions (zipped as a learning platform gives them) is collected,
autograded by the judge, fed back and exported. Each submission has the score it deserves (10
points: 5 for `Conv2D`, 5 for `Conv2DTranspose`), and after the run nothing any of them tried
has happened outside its sandbox: no file, no process, no listening socket, no secret or
solution in any feedback, the other students' grades intact.
"""
from __future__ import annotations

import csv
import html
import os
import re
import secrets
import socket
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from course import ENV, make_course, run, solution_answers

from tconv_lib.grading import selftest
from tconv_lib.grading.selftest import ARTICLE, WRONG

pytestmark = pytest.mark.nbgrader

TOKEN = secrets.token_hex(6)  # names this run's marker files, processes and printed strings
SECRET = f"grading-secret-{secrets.token_hex(8)}"
PORT = 20000 + int(TOKEN, 16) % 20000
MARKER = f"/tmp/tconv-attack-{TOKEN}"
LIMITS = """
c.SandboxedExecute.call_s = 2
c.SandboxedExecute.cell_s = 5
c.SandboxedExecute.notebook_s = 90
"""

C, T = "Conv2D-answer", "Conv2DTranspose-answer"
SOLUTION = solution_answers("from-scratch")


def transpose(body: str) -> str:
    return f'def Conv2DTranspose(X, W, padding="valid", strides=(1, 1)):\n    {body}'


def conv(body: str) -> str:
    return f'def Conv2D(X, W, padding="valid", strides=(1, 1)):\n    {body}'


# Honest code in unusual styles: match, str.format, f-strings, a decorator with functools.wraps,
# a class, helpers in a cell of their own, %timeit, prints, NumPy set to raise on errors.
HONEST_HELPERS = '''import functools
import math

np.seterr(all="raise")


def as_floats(fn):
    @functools.wraps(fn)
    def wrapper(X, W, *args, **kwargs):
        return fn(np.asarray(X, dtype=float), np.asarray(W, dtype=float), *args, **kwargs)
    return wrapper


class Axis:
    def __init__(self, n, k, s):
        self.n, self.k, self.s = n, k, s

    def same_pads(self):
        total = max((math.ceil(self.n / self.s) - 1) * self.s + self.k - self.n, 0)
        return total // 2, total - total // 2

print("helpers for {} ready, pads {}".format("Conv2D", Axis(4, 3, 1).same_pads()))'''
HONEST_CONV = '''from numpy.lib.stride_tricks import sliding_window_view


@as_floats
def Conv2D(X, W, padding="valid", strides=(1, 1)):
    match padding:
        case "same":
            X = np.pad(X, [Axis(n, k, s).same_pads() for n, k, s in zip(X.shape, W.shape, strides)])
        case "valid":
            pass
        case _:
            raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    windows = sliding_window_view(X, W.shape)[::strides[0], ::strides[1]]
    return np.einsum("ijkl,kl->ij", windows, W)

print(f"Conv2D of the article's example: {Conv2D(np.arange(16.).reshape(4, 4), np.ones((3, 3)))}")'''
HONEST_TIMEIT = "%timeit -n 3 -r 1 Conv2D(np.ones((8, 8)), np.ones((3, 3)), 'same', (2, 2))"
PLOT = '''%matplotlib inline
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.imshow(Conv2DTranspose(np.eye(3), np.ones((2, 2)), strides=(2, 2)))
plt.show()'''

# ---- attacks ---------------------------------------------------------------------------------
PATCH_NUMPY = '''np.isclose = lambda a, b, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.allclose = lambda *args, **kwargs: True
np.array_equal.__code__ = (lambda *args, **kwargs: True).__code__
import builtins
builtins.isinstance = lambda *args: True'''
PATCH_CHECKS = '''passing = lambda fn: None
checks.visible_Conv2D = checks.hidden_Conv2D = passing
checks.visible_Conv2DTranspose = checks.hidden_Conv2DTranspose = passing'''
FRAME_WALK = conv('''import sys, gc
    frame, found = sys._getframe(), None
    while frame is not None:
        for value in frame.f_locals.values():
            if getattr(value, "expected", None) is not None:
                found = value.expected
        frame = frame.f_back
    for obj in gc.get_objects():
        if type(obj).__name__ == "Case":
            found = obj.expected
    return found if found is not None else np.zeros((1, 1))''')
IPYTHON_HOOKS = '''ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["print('Conv2D: all 5 visible checks passed.')\\n"])
ip.events.register("post_run_cell", lambda result: print("all 30 generated configurations agree with Keras"))
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)'''
GRADEBOOK = '''import os, sqlite3
for top in ("/", "/work", "/root", "/tmp", "..", "../..", "../../.."):
    for folder, dirs, files in os.walk(top):
        for name in files:
            if name == "gradebook.db":
                db = sqlite3.connect(os.path.join(folder, name))
                db.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
                db.commit()
        if folder.count("/") > 6:
            dirs.clear()
open("../../../gradebook.db", "w").write("gone")'''
SHELL = f'''import os, subprocess, sys
subprocess.run("id > {MARKER}-shell; touch {MARKER}-touched", shell=True)
os.system("echo root > {MARKER}-system")
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "tconv-{TOKEN}"], start_new_session=True)
subprocess.Popen(["sleep", "600"])'''
SECRET_LEAK = '''import os
print(dict(os.environ))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            print(pid, open(f"/proc/{pid}/environ").read(), open(f"/proc/{pid}/cmdline").read())
        except OSError as exc:
            print(pid, exc)'''
SNOOP = '''import glob, os
for pattern in ("/*/*/from_scratch.ipynb", "/work/**/.grading_secret", "../../../**/*.ipynb", "/proc/1/root/*/*.ipynb"):
    for path in glob.glob(pattern, recursive=True)[:50]:
        try:
            print(path, open(path).read()[:20000])
        except OSError as exc:
            print(path, exc)
print(os.listdir("/"), os.listdir("/work") if os.path.exists("/work") else None)'''
MEMORY = '''big = np.ones(6 * 2 ** 30 // 8)
big[::512] = 2.0
print(big.sum())'''
FLOOD = '''print("x" * 50_000_000)
for i in range(200_000):
    print(i)'''
SOCKET = f'''import os, socket
server = socket.socket()
server.bind(("127.0.0.1", {PORT}))
server.listen()
if os.fork() == 0:
    os.setsid()
    server.accept()
print("listening on {PORT}")'''
FORK_BOMB = f'''import os, sys, time
children = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "tconv-{TOKEN}-fork"])
        children += 1
except OSError as exc:
    print("stopped after", children, "processes:", exc)'''
DISK = '''with open("big.bin", "wb") as f:
    for _ in range(300):
        f.write(b"0" * (1 << 20))'''
XSS = f'''from IPython.display import HTML, SVG, Javascript, display
display(HTML("<script>alert('xss-{TOKEN}')</script><b>bold-{TOKEN}</b>"))
display(Javascript("alert('js-{TOKEN}')"))
display({{"text/html": "<img src=x onerror=alert('img-{TOKEN}')>"}}, raw=True)'''
# HTML in an exception's class name and message: both reach the feedback, in an error output and
# in a visible test's failure line.
HTML_ERRORS = f'''Evil = type("<img src=x onerror=alert('ename-{TOKEN}')>", (Exception,), {{}})
raise Evil("<script>alert('evalue-{TOKEN}')</script>")'''
HTML_MESSAGE = conv(f'''raise ValueError("<script>alert('msg-{TOKEN}')</script>")''')
FORGE_REPLY = conv('''import os, sys
    sys.path.insert(0, "/scratch/judge")
    import wire
    os.write(int(sys.argv[2]), wire.encode({"ok": wire.to_plain(np.zeros((2, 2)))}))
    return np.zeros((1, 1))''')
REPLY_FLOOD = '''import os, sys, threading
def flood():
    while True:
        os.write(int(sys.argv[2]), b"\\xff" * 4096)
threading.Thread(target=flood, daemon=True).start()'''


def _cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "solution": False, "task": False, **nbgrader}
    return cell


def forge_test_cell(nb):
    """A copy of the hidden Conv2D test, emptied, placed before the real one."""
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "Conv2D-visible")
    nb.cells.insert(index, _cell("pass", grade=True, grade_id="Conv2D-hidden", locked=True, points=3))
    nb.cells.append(_cell("print('bonus')", grade=True, grade_id="bonus", locked=True, points=100))


def delete_tests(nb):
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in
                ("Conv2D-visible", "Conv2D-hidden")]


def prefill_outputs(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="all checks passed\n")]
            cell.execution_count = 7


def rewrite_setup(nb):
    """The locked setup cell replaced (OverwriteCells restores it) and a raw cell posing as code."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup":
            cell.source = "import numpy as np\nclass checks:\n    visible_Conv2D = hidden_Conv2D = staticmethod(print)"
    nb.cells.append(nbformat.v4.new_raw_cell("checks.visible_Conv2D = print"))


# student: (answers, cells added after the answers, notebook change, score /10)
SUBMISSIONS = {
    "solution": ({C: SOLUTION[C] + f"\n# written by the victim {TOKEN}", T: SOLUTION[T]}, [], None, 10),
    "blank": ({}, [], None, 0),
    "article": (ARTICLE, [], None, 4),
    "honest-style": ({C: HONEST_CONV, T: SOLUTION[T]}, [HONEST_TIMEIT], None, 10),
    "honest-plot": (SOLUTION, [PLOT, "print('done')"], None, 10),
    "keras": ({C: SOLUTION[C], T: transpose("from tensorflow import keras\n    return keras")}, [], None, 5),
    "patch-numpy": ({C: WRONG[C], T: SOLUTION[T]}, [PATCH_NUMPY], None, 5),
    "patch-checks": (WRONG, [PATCH_CHECKS], None, 0),
    "frame-walk": ({C: FRAME_WALK, T: SOLUTION[T]}, [], None, 5),
    "ipython-hooks": (WRONG, [IPYTHON_HOOKS], None, 0),
    "gradebook": (SOLUTION, [GRADEBOOK], None, 10),
    "shell": (SOLUTION, [SHELL], None, 10),
    "secret": (SOLUTION, [SECRET_LEAK], None, 10),
    "snoop": (SOLUTION, [SNOOP], None, 10),
    "memory": (SOLUTION, [MEMORY], None, 10),
    "flood": (SOLUTION, [FLOOD], None, 10),
    "socket": (SOLUTION, [SOCKET], None, 10),
    "fork-bomb": (SOLUTION, [FORK_BOMB], None, 10),
    "disk": (SOLUTION, [DISK], None, 10),
    "xss": (SOLUTION, [XSS], None, 10),
    "html-errors": ({C: HTML_MESSAGE, T: SOLUTION[T]}, [HTML_ERRORS], None, 5),
    "sleeper": ({C: SOLUTION[C], T: transpose("import time\n    time.sleep(1000)")},
                ["import time\ntime.sleep(1000)"], None, 5),
    "endless": ({C: SOLUTION[C], T: transpose("while True:\n        pass")}, [], None, 5),
    "exit": ({C: conv("import os\n    os._exit(3)"), T: SOLUTION[T]}, [], None, 5),
    "interrupt": ({C: SOLUTION[C], T: transpose("raise KeyboardInterrupt")}, [], None, 5),
    "huge-view": ({C: conv("return np.broadcast_to(0.0, (30000, 30000))"), T: SOLUTION[T]}, [], None, 5),
    "huge-list": ({C: SOLUTION[C], T: transpose("row = [0.0] * 10 ** 4\n    return [row] * 10 ** 4")},
                  [], None, 5),
    "forged-test": ({C: WRONG[C], T: SOLUTION[T]}, [], forge_test_cell, 5),
    "deleted-test": ({C: WRONG[C], T: SOLUTION[T]}, [], delete_tests, 5),
    "prefilled": (WRONG, [], prefill_outputs, 0),
    "setup-rewrite": (WRONG, [], rewrite_setup, 0),
    "forge-reply": ({C: FORGE_REPLY, T: SOLUTION[T]}, [], None, 5),
    "reply-flood": (WRONG, [REPLY_FLOOD], None, 0),
}
# Forged replies can only confuse the grader against the submission that sent them.
AT_MOST = {"forge-reply", "reply-flood"}


def submission(release: Path, answers: dict, added: list, change) -> nbformat.NotebookNode:
    nb = nbformat.read(release, as_version=4)
    for cell in list(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        if grade_id == C and answers.get(C) == HONEST_CONV:
            nb.cells.insert(nb.cells.index(cell), _cell(HONEST_HELPERS))
        if grade_id == T:
            for offset, source in enumerate(added, 1):
                nb.cells.insert(nb.cells.index(cell) + offset, _cell(source))
    if change:
        change(nb)
    return nb


class ActiveParts(HTMLParser):
    """The scripts of a page and its elements' event handlers (``onerror=...``): what a browser runs."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.parts += [value or "" for name, value in attrs if name.startswith("on") or value and "javascript:" in value]

    def handle_data(self, data):
        if self._in_script:
            self.parts.append(data)

    def handle_endtag(self, tag):
        self._in_script = False


def _processes_with(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"), ["from-scratch"], LIMITS)
    archive = tmp_path_factory.mktemp("downloads") / "from-scratch.zip"
    release = course / "exercises/from-scratch/from_scratch.ipynb"
    with zipfile.ZipFile(archive, "w") as zf:
        for student, (answers, added, change, _) in SUBMISSIONS.items():
            zf.writestr(f"{student}_from_scratch.ipynb", nbformat.writes(submission(release, answers, added, change)))
    collected = run(course, "tconv_lib.grading.instructor", "collect", str(archive)).stdout
    # A notebook that does not parse (collect refuses those: it is put there by hand).
    corrupt = course / "submitted/corrupt/from-scratch/from_scratch.ipynb"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("{not json")
    env = {**ENV, "TCONV_GRADING_SECRET": SECRET}
    result = run(course, "tconv_lib.grading.instructor", "autograde", "from-scratch", env=env, check=False)
    assert result.returncode == 1, result.stdout + result.stderr  # one submission could not be graded
    progress = result.stdout
    run(course, "nbgrader", "generate_feedback", "from-scratch", "--force")
    run(course, "nbgrader", "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == "from-scratch"}
    return course, collected, progress, grades


def feedback(course: Path, student: str) -> str:
    return (course / "feedback" / student / "from-scratch" / "from_scratch.html").read_text()


def autograded(course: Path, student: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "autograded" / student / "from-scratch" / "from_scratch.ipynb", as_version=4)


def test_collect_files_every_submission(graded):
    course, collected, _, _ = graded
    for student in SUBMISSIONS:
        assert f"{student} from-scratch/from_scratch.ipynb" in collected
        assert (course / "submitted" / student / "from-scratch" / "from_scratch.ipynb").exists()


def test_autograde_prints_a_progress_line_per_submission_and_a_summary(graded):
    output = graded[2].strip().splitlines()
    lines = [line for line in output if line.startswith("[")]
    assert len(lines) == len(SUBMISSIONS) + 1
    assert f"graded {len(lines)} of {len(lines)} submissions" in output[len(lines)], output
    assert output[-2:] == ["1 not graded (0 points, reason in their feedback):",
                           "  corrupt from-scratch: " + next(line for line in lines if " corrupt " in line)
                           .split("(not graded: ")[1].rsplit(") in ", 1)[0]]
    for index, line in enumerate(lines, 1):
        assert line.startswith(f"[{index}/{len(lines)}] "), line
        if " corrupt " in line:
            assert "corrupt from-scratch 0 (not graded: " in line, line
        else:
            assert " from-scratch " in line and "/10 in " in line, line


def test_a_submission_that_cannot_be_graded_gets_0_and_the_reason(graded):
    course = graded[0]
    assert float(graded[3]["corrupt"]["score"]) == 0
    assert "This submission could not be graded" in html.unescape(feedback(course, "corrupt"))


@pytest.mark.parametrize("student", SUBMISSIONS)
def test_every_submission_gets_the_score_it_deserves(graded, student):
    row = graded[3][student]
    deserved = SUBMISSIONS[student][3]
    assert float(row["max_score"]) == 10.0
    if student in AT_MOST:
        assert float(row["score"]) <= deserved
    else:
        assert float(row["score"]) == deserved


def test_conv2d_points_are_earned_only_by_conv2d(graded):
    """Forged replies may confuse later tests, never pass a wrong Conv2D."""
    course = graded[0]
    for student in ("forge-reply", "forged-test", "deleted-test", "patch-numpy", "frame-walk"):
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in autograded(course, student).cells}
        for test in ("Conv2D-visible", "Conv2D-hidden"):
            assert any(o.output_type == "error" for o in cells[test].outputs), (student, test)


def test_feedback_names_the_failure_and_hides_the_tests(graded):
    course = graded[0]
    article = html.unescape(feedback(course, "article"))
    assert "Conv2DTranspose on X 6x5, W 2x3, strides (3, 2), padding='valid': " \
           "expected shape (18, 11), got shape (17, 11)" in article
    assert re.search(r"Conv2D: all 30 generated configurations agree with Keras 3\.\d+\.\d+ on TensorFlow, "
                     r"CPU, TF32 off", html.unescape(feedback(course, "solution")))
    for student in SUBMISSIONS:
        page = html.unescape(feedback(course, student))
        for hidden in ("default_rng", "run_cases", "_SPECIAL", "keras_ref", "grading/core.py", "from_scratch.py"):
            assert hidden not in page, f"{student}'s feedback shows {hidden!r}"


def test_feedback_explains_what_was_refused(graded):
    course = graded[0]
    page = lambda student: html.unescape(feedback(course, student))  # noqa: E731
    assert "graded code is NumPy only: tensorflow is not available while grading" in page("keras")
    assert "Conv2DTranspose did not return within 2 s on X" in page("endless")
    assert "Conv2DTranspose raised KeyboardInterrupt" in page("interrupt")
    assert "returned an array of 900000000 elements (at most 4000000 are read)" in page("huge-view")
    assert "returned a list of more than 4000000 items (at most 4000000 are read)" in page("huge-list")
    assert "MemoryError" in page("memory")
    assert "File too large" in page("disk") or "No space left on device" in page("disk")
    assert "ran past its time limit of 5 s" in page("sleeper")
    assert "could not be run: the sandbox stopped (exit status 3)" in page("exit")


def test_honest_code_keeps_its_outputs(graded):
    course = graded[0]
    style = html.unescape(feedback(course, "honest-style"))
    assert "helpers for Conv2D ready, pads (1, 1)" in style and "per loop" in style
    plots = [o for c in autograded(course, "honest-plot").cells for o in c.get("outputs", [])
             if o.output_type == "display_data" and "image/png" in o.data]
    assert plots


def test_nothing_escapes_the_sandbox(graded):
    course = graded[0]
    assert not list(Path("/tmp").glob(f"tconv-attack-{TOKEN}*"))
    assert not _processes_with(f"tconv-{TOKEN}")  # the shell attack's and the fork bomb's processes
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
    assert (course / "gradebook.db").read_bytes()[:15] == b"SQLite format 3"
    assert float(graded[3]["solution"]["score"]) == 10  # the gradebook attack changed no grade


def test_no_secret_solution_or_other_submission_reaches_a_feedback(graded):
    course = graded[0]
    for student in SUBMISSIONS:
        for text in (feedback(course, student), nbformat.writes(autograded(course, student))):
            assert SECRET not in text, student
            assert "BEGIN SOLUTION" not in text and "_hidden_cases" not in text, student  # solutions/, grading code
            if student != "solution":
                assert f"written by the victim {TOKEN}" not in text, student  # another submission


def test_outputs_are_capped_and_carry_no_script(graded):
    course = graded[0]
    size = (course / "autograded/flood/from-scratch/from_scratch.ipynb").stat().st_size
    assert size < 6 << 20
    assert "output cut" in feedback(course, "flood")
    for student in ("xss", "html-errors"):
        active = ActiveParts()
        active.feed(feedback(course, student))
        assert active.parts and not [part for part in active.parts if TOKEN in part]  # no script of theirs
    assert f"<b>bold-{TOKEN}</b>" not in feedback(course, "xss")  # no HTML of the student's either


def test_no_test_cell_writes_to_stderr(graded):
    course = graded[0]
    for student in SUBMISSIONS:
        for cell in autograded(course, student).cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                assert not [o for o in cell.get("outputs", []) if o.get("name") == "stderr"], student


def test_the_self_check_gives_the_scores_nbgrader_gives(graded):
    """``selftest`` (for machines without nbgrader, such as a GPU box) agrees with the real run."""
    scores = selftest.from_scratch_scores()
    assert scores == {"solution": 10, "article": 4, "wrong": 0}
    assert float(graded[3]["article"]["score"]) == scores["article"]
