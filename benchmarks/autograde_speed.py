"""Autograde speed under the judge: serial against Dask, and where one submission's time goes.

Run by `make bench-autograde`. In a temporary copy of the course, with `from-scratch` generated:

1. The same class of 60 mixed submissions (`tconv_lib.grading.sample_class`: correct, partial,
   blank, failing, hostile, unreadable) graded from scratch with the instructor command,
   `--serial` (one after another in one process) and on a local Dask cluster (one worker
   process per core, two threads each), both with `--force`, each timed as a whole (TensorFlow
   import, the Keras references, the cluster's start included), twice in turn. Prints the best
   time of each, the speed-up, submissions per minute, and the projected time for 1,000
   submissions per added 16-core worker machine, from the measured cost of a submission on one
   core and of recording a result on the coordinator; and the machine's own ceiling, two
   CPU-bound Python processes at once against one alone.
2. The parts of one submission's run in this process: starting a sandbox, the student's cells
   in it, and the tests (references already computed).
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

from tconv_lib.grading.sample_class import write_class
from tconv_lib.grading.selftest import answered, solution_answers

ROOT = Path(__file__).resolve().parents[1]
CLASS_SIZE = 60
ROUNDS = 2
MACHINE_CORES = 16
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
       "TCONV_GRADING_SECRET": "benchmark"}


def solution_submission(course: Path) -> nbformat.NotebookNode:
    """The release with the instructor's answers filled in."""
    return answered(course / "exercises/from-scratch/from_scratch.ipynb", solution_answers("from-scratch"))


def timed_autograde(course: Path, *options: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tconv_lib.grading.instructor", "autograde", "--force",
                             *options], cwd=course, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):  # 1: the unreadable notebooks could not be graded (expected)
        sys.exit(f"autograde {' '.join(options)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout.splitlines()


def scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tconv") as gb:
        return {sub.student_id: sub.score for sub in gb.find_assignment("from-scratch").submissions}


def recording_cost(course: Path) -> float:
    """Seconds the coordinator spends on one result: forgetting the old grade, writing the rows."""
    from tconv_lib.grading.instructor.autograde import api, forget, gradebook
    from tconv_lib.grading.instructor.rows import export_submission, import_submission

    nbgrader = api(course)
    with gradebook(nbgrader) as gb:
        students = [sub.student_id for sub in gb.find_assignment("from-scratch").submissions]
        rows = {s: export_submission(gb, "from-scratch", s) for s in students}
        start = time.perf_counter()
        for student in students:
            forget(nbgrader, "from-scratch", student, gb)
            import_submission(gb, "from-scratch", student, rows[student])
        return (time.perf_counter() - start) / len(students)


def serial_against_dask(course: Path) -> None:
    expected = write_class(course, CLASS_SIZE)
    serial_runs, dask_runs = [], []
    for _ in range(ROUNDS):  # in turn, so that a slow spell of a shared machine hits both
        serial_runs.append(timed_autograde(course, "--serial"))
        serial_scores = scores(course)
        dask_runs.append(timed_autograde(course))
        assert scores(course) == serial_scores, "Dask grading gave other scores than serial grading"
    (serial_s, serial_lines), (dask_s, dask_lines) = min(serial_runs), min(dask_runs)
    graded = {s: v for s, v in expected.items() if v is not None}
    assert all(serial_scores[s] == v for s, v in graded.items()), "a submission got a score it does not deserve"
    per = [float(t) for t in re.findall(r" in (\d+\.\d) s$", "\n".join(serial_lines), re.M)]
    one_core = statistics.median(per[1:])
    record = recording_cost(course)
    workers = os.cpu_count()
    print(f"{CLASS_SIZE} mixed submissions ({len(expected) - len(graded)} unreadable), whole command, "
          f"{workers} cores:")
    print(f"  serial (one process)             {serial_s:6.1f} s  {60 * CLASS_SIZE / serial_s:5.0f} per minute"
          f"  (best of {', '.join(f'{t:.1f}' for t, _ in serial_runs)})")
    print(f"  Dask (local cluster, {workers} workers)   {dask_s:6.1f} s  {60 * CLASS_SIZE / dask_s:5.0f} per minute"
          f"  (best of {', '.join(f'{t:.1f}' for t, _ in dask_runs)})")
    print(f"  speed-up                         {serial_s / dask_s:6.2f}x  (target at least 1.7x on 2 cores)")
    print(f"  this machine's ceiling           {parallel_ceiling():6.2f}x  (two CPU-bound processes at once "
          "against one alone)")
    print("  every score the same as serial grading's; Dask run: "
          + next(line for line in dask_lines if line.startswith("graded ")))
    print(f"per submission on one core: {one_core:.2f} s (median after the first); recording a result "
          f"on the coordinator: {1000 * record:.0f} ms")
    print(f"projected for 1,000 submissions, {MACHINE_CORES}-core worker machines (one process per core):")
    for machines in (1, 2, 4, 8):
        compute = 1000 * one_core / (machines * MACHINE_CORES)
        print(f"  {machines} machine{'s' if machines > 1 else ' '}  {compute / 60:5.1f} min"
              + ("  (the coordinator's recording, " f"{1000 * record / 60:.1f} min, is the limit)"
                 if 1000 * record > compute else ""))


SPIN = "import time\nt = time.perf_counter()\nx = 0\nfor i in range(15_000_000):\n    x += i\nprint(time.perf_counter() - t)"


def parallel_ceiling() -> float:
    """How much faster two CPU-bound processes go than one on this machine (2.0 on two free cores)."""
    def spin(count: int) -> float:
        processes = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
                     for _ in range(count)]
        return max(float(p.communicate()[0]) for p in processes)
    alone, together = min(spin(1) for _ in range(2)), min(spin(2) for _ in range(2))
    return 2 * alone / together


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
    print(f"Autograde speed on {os.cpu_count()} CPU cores")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "from-scratch", "--force",
                        "--log-level=ERROR"], cwd=course, env=ENV, check=True)
        serial_against_dask(course)
        print("one submission, step by step (in this process):")
        for label, seconds in judge_parts(course).items():
            print(f"  {label:<55} {seconds:5.2f} s")


if __name__ == "__main__":
    main()
