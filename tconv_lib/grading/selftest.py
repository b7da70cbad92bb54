"""Three known `from-scratch` submissions graded by the judge in this process: a grading machine's self-check.

``from_scratch_scores()`` grades the instructor's solution (10/10), the reference article's
algorithm (4/10: right on the article's examples, wrong on Keras's "same" and on strides larger
than the kernel) and a wrong answer (0/10) exactly as autograding would, the Keras references
computed by this process's backend and device, and returns ``{name: score}``. It needs nbformat
and the sandbox's Python (NumPy, IPython), not nbgrader, so it runs on a GPU machine that has
neither bubblewrap nor nbgrader (the student code then runs unsandboxed, which is fine for code
of our own). ``tests/test_grading_judge.py`` grades the same submissions through nbgrader.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from .judge.decide import grade
from .judge.sandbox import Limits, availability, sandbox_python
from .judge.session import Session

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "from-scratch" / "from_scratch.ipynb"
C, T = "Conv2D-answer", "Conv2DTranspose-answer"

# The reference article's algorithm, re-expressed: symmetric "same" padding; a scatter of
# (n - 1) * s + k. Right on the article's examples, wrong on Keras's asymmetric "same" and on
# strides larger than the kernel.
ARTICLE = {C: '''def Conv2D(X, W, padding="valid", strides=(1, 1)):
    import math
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    if padding == "same":
        p_h = math.ceil(((X.shape[0] / strides[0] - 1) * strides[0] + W.shape[0] - X.shape[0]) / 2)
        p_w = math.ceil(((X.shape[1] / strides[1] - 1) * strides[1] + W.shape[1] - X.shape[1]) / 2)
    else:
        p_h = p_w = 0
    padded = np.zeros((X.shape[0] + 2 * p_h, X.shape[1] + 2 * p_w))
    padded[p_h:p_h + X.shape[0], p_w:p_w + X.shape[1]] = X
    rows = []
    for i in range(0, padded.shape[0] - W.shape[0] + 1, strides[0]):
        rows.append([np.sum(padded[i:i + W.shape[0], j:j + W.shape[1]] * W)
                     for j in range(0, padded.shape[1] - W.shape[1] + 1, strides[1])])
    return np.array(rows)''', T: '''def Conv2DTranspose(X, W, padding="valid", strides=(1, 1)):
    import math
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    out = np.zeros(((X.shape[0] - 1) * strides[0] + W.shape[0], (X.shape[1] - 1) * strides[1] + W.shape[1]))
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            out[i * strides[0]:i * strides[0] + W.shape[0], j * strides[1]:j * strides[1] + W.shape[1]] += X[i, j] * W
    if padding == "same":
        top = math.floor((W.shape[0] - strides[0]) / 2)
        bottom = W.shape[0] - strides[0] - top
        left = math.floor((W.shape[1] - strides[1]) / 2)
        right = W.shape[1] - strides[1] - left
        out = out[top:out.shape[0] - bottom, left:out.shape[1] - right]
    return out'''}

WRONG = {C: 'def Conv2D(X, W, padding="valid", strides=(1, 1)):\n    return np.zeros((1, 1))',
         T: 'def Conv2DTranspose(X, W, padding="valid", strides=(1, 1)):\n    return np.zeros((1, 1))'}


def solution_answers(assignment: str = "from-scratch") -> dict[str, str]:
    """``{grade_id: source}`` of the instructor's answer cells of ``assignment``, markers removed."""
    (source,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    nb = nbformat.read(source, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: re.sub(r"\n *### (BEGIN|END) SOLUTION", "", c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def answered(notebook: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """``notebook`` (a release or source notebook) with the cells of ``answers``' grade ids replaced."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.source = answers.get(cell.metadata.get("nbgrader", {}).get("grade_id"), cell.source)
    return nb


def score(nb) -> float:
    """nbgrader's rule for autograded test cells: their points unless an output is an error or stderr."""
    total = 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            failed = any(o.output_type == "error" or o.get("name") == "stderr" for o in cell.outputs)
            total += 0 if failed else float(meta["points"])
    return total


def from_scratch_scores() -> dict[str, float]:
    source = nbformat.read(SOURCE, as_version=4)
    sources = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if "grade_id" in c.metadata.get("nbgrader", {})}
    isolate = availability() is None
    python = sandbox_python() if sandbox_python().exists() else Path(sys.executable)
    scores = {}
    for name, answers in {"solution": solution_answers(), "article": ARTICLE, "wrong": WRONG}.items():
        nb = answered(SOURCE, answers)
        with Session(Limits(), isolate=isolate, python=python) as session:
            grade(nb, sources, session)
        scores[name] = score(nb)
    return scores
