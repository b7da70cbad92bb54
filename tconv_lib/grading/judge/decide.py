"""What the judge decides, in the trusted process: which cells are tests, and their outcomes.

1. Every code cell is classified against the instructor's source (``{grade_id: source}`` from the
   gradebook). A *test cell* (a grade cell that is not an answer) whose source is exactly the
   instructor's (or the one nbgrader puts back for a deleted test) is decided here; a grade cell
   that is not the instructor's gets an error (0 points).
   A locked instructor cell that is not a test (the setup cell) runs here too, and in the sandbox
   without its imports of the course library (which the sandbox does not have).
2. Every other code cell is the student's and runs in the sandbox, in notebook order; its outputs,
   checked and capped, go into the notebook.
3. Then the test cells run here, in order, with each name the cell uses that the student defined
   (``Conv2D``) bound to a proxy into the sandbox. Each test cell gets its output: the pass lines,
   or an error with the one-line failure, which nbgrader's ``SaveAutoGrades`` scores.

Needs nbformat, not nbgrader: ``selftest`` uses it on machines without nbgrader.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io
import sys
import threading

import nbformat

from .. import core
from .session import Session, error_output

COURSE_LIBRARY = "tconv_lib"


def _outputs(items: list[dict]) -> list:
    return [nbformat.from_dict(item) for item in items]


def without_tests(nb):
    """The submission as the sandbox gets it: the tests' sources (hidden ones included) are not in it."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cell.source = ""
    return nb


def classify(cell, sources: dict[str, str], restored: str = "") -> str:
    """``"test"``, ``"setup"``, ``"forged"`` (a grade cell that is not the instructor's) or ``"student"``.

    ``restored`` is ``OverwriteCells.missing_cell_notification``: a test the student deleted comes
    back as a comment made of it, then the instructor's source, and is still a test.
    """
    meta = cell.metadata.get("nbgrader", {})
    grade_id, expected = meta.get("grade_id"), sources.get(meta.get("grade_id"))
    comment = "# " + restored.format(cell_id=grade_id) if restored else ""
    # Only a comment of one line, ending before the source: never one that comments out a test.
    readded = comment.endswith("\n") and "\n" not in comment.rstrip("\n")
    instructor = expected is not None and (cell.source == expected or
                                           readded and cell.source == comment + expected)
    if meta.get("grade") and not meta.get("solution"):
        return "test" if instructor and meta.get("locked") else "forged"
    if meta.get("locked") and not meta.get("solution") and instructor:
        return "setup"
    return "student"


def grade(nb, sources: dict[str, str], session: Session, restored: str = "") -> None:
    """Fill in every code cell's outputs: student cells from the sandbox, tests from the judge.

    The tests run after every student cell, so that no student cell can print what the tests sent
    (the hidden cases) into the notebook and its feedback.
    """
    trusted: dict = {"__name__": "__main__", "__builtins__": builtins}
    tests = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kind = classify(cell, sources, restored)
        if kind == "test":
            tests.append(cell)
            continue
        if kind == "forged":
            cell.outputs = _outputs([error_output("NotATest", "this cell is not one of the assignment's tests")])
            continue
        source = cell.source
        if kind == "setup":
            exec(compile(source, "<setup>", "exec"), trusted)  # the instructor's own imports
            source = _without_course_imports(source)
        outputs, cell.execution_count = session.run_cell(source)
        cell.outputs = _outputs(outputs)
    for cell in tests:
        cell.outputs, cell.execution_count = _outputs(run_test(cell.source, trusted, session)), None


def _without_course_imports(source: str) -> str:
    """The setup cell as the sandbox runs it: the course library is not there."""
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if not _imports_course(node)] or [ast.Pass()]
    return ast.unparse(tree)


def _imports_course(node) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").partition(".")[0] == COURSE_LIBRARY
    if isinstance(node, ast.Import):
        return any(alias.name.partition(".")[0] == COURSE_LIBRARY for alias in node.names)
    return False


def run_test(source: str, trusted: dict, session: Session) -> list[dict]:
    """One instructor test cell, run here with the student's names bound to proxies; its outputs."""
    code = compile(source, "<test>", "exec")
    namespace = dict(trusted)
    for name in sorted(_free_names(source)):
        if name not in namespace and not hasattr(builtins, name):
            with contextlib.suppress(KeyError):
                namespace[name] = session.lookup(name)
    printed = io.StringIO()
    outputs = []
    try:
        with _ThreadStdout.capture(printed):
            exec(code, namespace)
    except core.GradingFailure as exc:
        failure = error_output("GradingFailure", str(exc))
    except Exception as exc:  # e.g. NameError: the student did not define the function
        failure = error_output(type(exc).__name__, str(exc))
    else:
        failure = None
    if printed.getvalue():
        outputs.append({"output_type": "stream", "name": "stdout", "text": printed.getvalue()})
    return outputs + ([failure] if failure else [])


class _ThreadStdout:
    """``sys.stdout`` for a grader that runs tests on several threads at once (a Dask worker's):
    what a thread's test prints goes to that test's outputs, anything else where it went before.
    (``contextlib.redirect_stdout`` swaps ``sys.stdout`` for the whole process: a test of another
    thread would print into this one's outputs, or out of both.)"""

    _installing = threading.Lock()

    def __init__(self, fallback) -> None:
        self.fallback, self.local = fallback, threading.local()

    def write(self, text: str) -> int:
        return (getattr(self.local, "stream", None) or self.fallback).write(text)

    def flush(self) -> None:
        (getattr(self.local, "stream", None) or self.fallback).flush()

    def __getattr__(self, name: str):
        return getattr(self.fallback, name)

    @classmethod
    @contextlib.contextmanager
    def capture(cls, stream):
        with cls._installing:
            if not isinstance(sys.stdout, cls):
                sys.stdout = cls(sys.stdout)
            router = sys.stdout
        router.local.stream = stream
        try:
            yield
        finally:
            router.local.stream = None


def _free_names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
