"""Autograde time per submission, and where it goes (run by `make bench-autograde`).

In a temporary copy of the course: generate `from-scratch`, submit the instructor solution for
a few students, autograde them as `make autograde` does (nbgrader's API, one process), and
print the time per submission. Then, in one `tconv` kernel, time the parts of a grading run:
kernel start, the setup cell (grading import), the visible tests, and the hidden tests
(TensorFlow import, Keras references, the student's code).
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

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = 4
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def solution_submission(course: Path) -> nbformat.NotebookNode:
    """The release with the instructor's answers filled in."""
    source = nbformat.read(ROOT / "solutions/from-scratch/from_scratch.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: re.sub(r"\n *### (BEGIN|END) SOLUTION", "", c.source)
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(course / "exercises/from-scratch/from_scratch.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


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
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "from-scratch", "--student=student0",
                    "--force", "--log-level=ERROR"], cwd=course, env=env, check=True, capture_output=True)
    print(f"for comparison, one `nbgrader autograde --student` process per submission: "
          f"{time.perf_counter() - start:.1f} s")
    return [float(t) for t in re.findall(r"in (\d+\.\d) s", out)]


def kernel_parts(course: Path) -> dict[str, float]:
    from jupyter_client.manager import start_new_kernel

    # The solution's answers, and the test cells as the autograder runs them (hidden ones included).
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
             for c in nbformat.read(ROOT / "solutions/from-scratch/from_scratch.ipynb", as_version=4).cells}
    for cell in solution_submission(course).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            by_id[cell.metadata["nbgrader"]["grade_id"]] = cell.source
    parts = {}
    start = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="tconv", cwd=str(course))
    parts["kernel start"] = time.perf_counter() - start
    try:
        by_id["import"] = "from tconv_lib import keras_ref\nkeras_ref.device();"
        steps = [("setup cell (grading import)", ["setup", "Conv2D-answer", "Conv2DTranspose-answer"]),
                 ("visible tests", ["Conv2D-visible", "Conv2DTranspose-visible"]),
                 ("TensorFlow + Keras import (first hidden test)", ["import"]),
                 ("hidden tests (60 Keras references, student code)", ["Conv2D-hidden", "Conv2DTranspose-hidden"])]
        for label, ids in steps:
            start = time.perf_counter()
            for grade_id in ids:
                reply = kc.execute_interactive(by_id[grade_id], timeout=300, output_hook=lambda msg: None)
                assert reply["content"]["status"] == "ok", (grade_id, reply["content"])
            parts[label] = time.perf_counter() - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return parts


def main() -> None:
    print(f"Autograde speed on {os.cpu_count()} CPU cores ({STUDENTS} submissions of the solution)")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        times = per_submission(course)
        print(f"per submission: median {statistics.median(times):.1f} s, "
              f"first {times[0]:.1f} s, min {min(times):.1f} s")
        print("one grading kernel, step by step:")
        for label, seconds in kernel_parts(course).items():
            print(f"  {label:<55} {seconds:5.2f} s")


if __name__ == "__main__":
    main()
