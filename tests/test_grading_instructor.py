"""The instructor's autograde command: reruns after a kill, no sandbox, and references from JAX."""
from __future__ import annotations

import html
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from course import ENV, make_course, run, solution_answers

from tconv_lib.grading import selftest

pytestmark = pytest.mark.nbgrader
STUDENTS = ("ann", "ben", "cat")


def _submit(course: Path, students) -> None:
    nb = selftest.answered(course / "exercises/from-scratch/from_scratch.ipynb", solution_answers("from-scratch"))
    for student in students:
        dest = course / "submitted" / student / "from-scratch" / "from_scratch.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)


def _graded(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment("from-scratch").submissions
                if all(g.auto_score is not None for nb in s.notebooks for g in nb.grades)}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = make_course(tmp_path_factory.mktemp("course"), ["from-scratch"])
    _submit(course, STUDENTS)
    return course


def test_a_grader_killed_midway_leaves_nothing_half_graded_and_a_rerun_finishes(course):
    process = subprocess.Popen([sys.executable, "-m", "tconv_lib.grading.instructor", "autograde", "--serial"], cwd=course,
                               env=ENV, stdout=subprocess.PIPE, text=True, start_new_session=True)
    first = process.stdout.readline()  # one submission graded; the next one is under way
    assert first.startswith("[1/3] ann from-scratch 10/10"), first
    time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    finished = [line.split()[1] for line in [first, *process.stdout.read().splitlines()]]
    process.wait()
    assert len(finished) < len(STUDENTS), "killed too late to test anything"
    graded = _graded(course)
    assert {s: graded[s] for s in finished} == {s: 10 for s in finished}
    in_progress = STUDENTS[len(finished)]
    assert in_progress not in graded  # no old grade kept, and none half-written
    assert not (course / "autograded" / in_progress / "from-scratch" / "from_scratch.ipynb").exists()
    lines = run(course, "tconv_lib.grading.instructor", "autograde", "--serial").stdout.splitlines()
    rest = STUDENTS[len(finished):]  # the finished ones are graded already, from the same files
    assert [line.split(" in ")[0] for line in lines[:len(rest)]] == [
        f"[{i}/{len(rest)}] {s} from-scratch 10/10" for i, s in enumerate(rest, 1)]
    assert _graded(course) == {s: 10 for s in STUDENTS}


def test_without_a_sandbox_autograde_refuses_unless_allowed(course):
    no_bwrap = {**ENV, "PATH": str(Path(sys.executable).parent)}  # bubblewrap is not found
    refused = run(course, "tconv_lib.grading.instructor", "autograde", env=no_bwrap, check=False)
    assert refused.returncode == 2
    assert "bubblewrap is not installed" in refused.stderr and "allow_unsandboxed" in refused.stderr
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\nc.SandboxedExecute.allow_unsandboxed = True\n")
    try:
        lines = run(course, "tconv_lib.grading.instructor", "autograde", env=no_bwrap).stdout
        assert lines.count("10/10") == 3
        run(course, "nbgrader", "generate_feedback", "from-scratch", "--force")
        page = html.unescape((course / "feedback/ann/from-scratch/from_scratch.html").read_text())
        assert "Graded without a sandbox." in page
    finally:
        config = (course / "nbgrader_config.py").read_text()
        (course / "nbgrader_config.py").write_text(config.replace("\nc.SandboxedExecute.allow_unsandboxed = True\n", ""))


def test_references_from_jax_give_the_same_scores_as_from_tensorflow(tmp_path):
    course = make_course(tmp_path, ["from-scratch"])
    for name, answers in {"solution": solution_answers("from-scratch"), "article": selftest.ARTICLE,
                          "wrong": selftest.WRONG}.items():
        nb = selftest.answered(course / "exercises/from-scratch/from_scratch.ipynb", answers)
        dest = course / "submitted" / name / "from-scratch" / "from_scratch.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)
    scores = {}
    for backend in ("tensorflow", "jax"):
        run(course, "tconv_lib.grading.instructor", "autograde", "--force", env={**ENV, "KERAS_BACKEND": backend})
        scores[backend] = _graded(course)
        run(course, "nbgrader", "generate_feedback", "from-scratch", "--force", env={**ENV, "KERAS_BACKEND": backend})
        page = html.unescape((course / "feedback/solution/from-scratch/from_scratch.html").read_text())
        assert f"on {'JAX' if backend == 'jax' else 'TensorFlow'}, CPU, TF32 off" in page
    assert scores["tensorflow"] == scores["jax"] == {"solution": 10, "article": 4, "wrong": 0}
