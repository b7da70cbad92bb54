"""A generated class of `from-scratch` submissions, for the parallel-grading test and benchmark.

Ten kinds, each with the score it deserves: the instructor's solution, the article's algorithm,
a wrong answer, an untouched release, answers that raise, a solution that sleeps, a wrong answer
that patches NumPy's comparisons, the article's algorithm snooping on the grader, a Conv2D
that kills its sandbox (the Conv2DTranspose points stay), and a file that is not a notebook (which cannot be
graded: 0 and the reason).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from .selftest import ARTICLE, C, WRONG, answered, solution_answers

UNREADABLE = "unreadable"

_EXTRA = {
    "sleepy": "import time\ntime.sleep(1.5)",
    "patcher": "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)\n"
               "np.allclose = lambda *a, **k: True",
    "snooper": "import glob, os\nfound = [open(p, errors='replace').read()[:100] for p in "
               "glob.glob('/proc/1/environ') + glob.glob('/*/gradebook.db') + glob.glob('../*/*.db')]\n"
               "open('/tmp/planted', 'w').write(str(os.listdir('/')))\nprint(len(found))",
}
_EXITS = 'def Conv2D(X, W, padding="valid", strides=(1, 1)):\n    import os\n    os._exit(3)'
# kind: (answers, extra cell or None, score out of 10, None for a notebook that cannot be graded)
KINDS = {
    "solution": ("solution", None, 10),
    "article": (ARTICLE, None, 4),
    "wrong": (WRONG, None, 0),
    "blank": ({}, None, 0),
    "failing": ("raise", None, 0),
    "sleepy": ("solution", _EXTRA["sleepy"], 10),
    "patcher": (WRONG, _EXTRA["patcher"], 0),
    "snooper": (ARTICLE, _EXTRA["snooper"], 4),
    "exits": ("exits", None, 5),
    UNREADABLE: (None, None, None),
}


def submission(release: Path, kind: str, student: str = "") -> bytes:
    """The notebook file ``student``, of ``kind``, hands in (``release``: the from-scratch release)."""
    answers, extra, _ = KINDS[kind]
    if answers is None:  # its reason names the student: a reason must reach its own submission only
        return f'{{"cells": [ {student} broke this'.encode()
    if answers == "solution":
        answers = solution_answers("from-scratch")
    elif answers == "exits":
        answers = {**solution_answers("from-scratch"), C: _EXITS}
    elif answers == "raise":
        answers = {grade_id: 'raise RuntimeError("not finished")' for grade_id in solution_answers("from-scratch")}
    nb = answered(release, answers)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    return nbformat.writes(nb).encode()


def write_class(course: Path, size: int) -> dict[str, float | None]:
    """``size`` students' submissions in ``course/submitted/``, the kinds in turn; {student: deserved score}."""
    release = course / "exercises" / "from-scratch" / "from_scratch.ipynb"
    kinds = list(KINDS)
    expected = {}
    for i in range(size):
        kind = kinds[i % len(kinds)]
        student = f"s{i:03d}-{kind}"  # in name order the kinds alternate, as in a real class
        path = course / "submitted" / student / "from-scratch" / "from_scratch.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(submission(release, kind, student))
        expected[student] = KINDS[kind][2]
    return expected
