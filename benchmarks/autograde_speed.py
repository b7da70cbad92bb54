"""Autograde time per submission under the judge, and where it goes (run by `make bench-autograde`).

In a temporary copy of the course: generate `from-scratch`, submit the instructor solution for
several students, autograde them as `make autograde` does (nbgrader's API, one process, the
sandboxed judge), and print the time per submission (the first one also pays for importing
TensorFlow and computing the Keras references, which later submissions reuse). Then time the
parts of one submission's run in this process: starting a sandbox, the student's cells in it,
and the tests (the proxied calls and the comparisons; references already computed).
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tconv_lib.grading.selftest import answered, solution_answers

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = 8
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def solution_submission(course: Path) -> nbformat.NotebookNode:
    """The release with the instructor's answers filled in."""
    return answered(course / "exercises/from-scratch/from_scratch.ipynb", solution_answers("from-scratch"))


def per_submission(course: Path) -> list[float]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "from-scratch", "--force",
                    "--log-level=ERROR"], cwd=course, env=env, check=True)
    nb = solution_submission(course)
    for i in range(STUDENTS):
        dest = course / "submitted" / f"student{i}" / "from-scratch" / "from_scratch.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)
    out = subprocess.run([sys.executable, "-m", "tconv_lib.grading.instructor", "autograde"], cwd=course,
                         env=env, check=True, capture_output=True, text=True).stdout
    print(out, end="")
    return [float(t) for t in re.findall(r"in (\d+\.\d) s", out)]


def judge_parts(course: Path) -> dict[str, float]:
    from tconv_lib.grading.judge.decide import run_test
    from tconv_lib.grading.judge.sandbox import Limits
    from tconv_lib.grading.judge.session import Session

    nb = solution_submission(course)
    code = [c for c in nb.cells if c.cell_type == "code"]
    student = [c.source for c in code if not c.metadata.get("nbgrader", {}).get("locked")]
    source = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
              for c in nbformat.read(ROOT / "solutions/from-scratch/from_scratch.ipynb", as_version=4).cells}
    tests = [source[c.metadata["nbgrader"]["grade_id"]] for c in code if c.metadata.get("nbgrader", {}).get("grade")]
    trusted: dict = {}
    exec(source["setup"], trusted)
    for test in tests:  # references computed once, as in a grading run
        with Session(Limits()) as session:
            session.run_cell("import numpy as np")
            for cell in student:
                session.run_cell(cell)
            run_test(test, trusted, session)
    parts = {}
    start = time.perf_counter()
    with Session(Limits()) as session:
        session.run_cell("import numpy as np")
        parts["sandbox start (bwrap, Python, NumPy, IPython)"] = time.perf_counter() - start
        start = time.perf_counter()
        for cell in student:
            session.run_cell(cell)
        parts["student cells in the sandbox"] = time.perf_counter() - start
        start = time.perf_counter()
        for test in tests:
            outputs = run_test(test, trusted, session)
            assert not [o for o in outputs if o["output_type"] == "error"], outputs
        parts["tests (60 proxied calls + 10 visible, compared here)"] = time.perf_counter() - start
    return parts


def main() -> None:
    print(f"Autograde speed on {os.cpu_count()} CPU cores ({STUDENTS} submissions of the solution)")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        times = per_submission(course)
        print(f"per submission: median {statistics.median(times[1:]):.2f} s after the first "
              f"(first {times[0]:.1f} s: TensorFlow import and the Keras references), min {min(times):.1f} s")
        print("one submission, step by step (in this process):")
        for label, seconds in judge_parts(course).items():
            print(f"  {label:<55} {seconds:5.2f} s")


if __name__ == "__main__":
    main()
