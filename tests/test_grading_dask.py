"""Grading a class on Dask: the same gradebook as serial grading, a worker killed midway, reruns, Ctrl-C.

A class of 20 generated submissions (``sample_class``: correct, partial, blank, failing, hostile,
unreadable) is graded serially, then on a real cluster (``dask scheduler`` and two ``dask worker``
processes started here on 127.0.0.1, one killed during the run), then on the command's own local
cluster stopped by Ctrl-C and run again. Each time the gradebook must be the serial one.
"""
from __future__ import annotations

import csv
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from course import ENV, make_course, run

from tconv_lib.grading.instructor.ledger import NAME as LEDGER
from tconv_lib.grading.sample_class import write_class

pytestmark = [pytest.mark.nbgrader, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]
SIZE = 20
SECRET_ENV = {**ENV, "TCONV_GRADING_SECRET": "dask-test"}
DASK = Path(sys.executable).parent / "dask"
AUTOGRADE = [sys.executable, "-m", "tconv_lib.grading.instructor", "autograde"]


def gradebook_rows(course: Path) -> dict:
    """Every submission's rows (all columns but keys), and the grades nbgrader exports."""
    from nbgrader.api import Gradebook

    from tconv_lib.grading.instructor.rows import export_submission

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tconv") as gb:
        rows = {sub.student_id: export_submission(gb, "from-scratch", sub.student_id)
                for sub in gb.find_assignment("from-scratch").submissions}
    out = course / "grades.csv"
    run(course, "nbgrader", "export", "--to", str(out), "--log-level=WARN")
    with open(out, newline="") as f:
        grades = sorted(tuple(row.items()) for row in csv.DictReader(f))
    return {"rows": rows, "grades": grades}


def progress_students(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("[")]


def outcomes(lines: list[str]) -> dict[str, str]:
    """Each student's score or reason, from the lines ``[3/20] alice from-scratch 8/10 in 1.2 s``."""
    return {line.split()[1]: re.sub(r" in [\d.]+ s$", "", line.split(maxsplit=2)[2])
            for line in lines if line.startswith("[")}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The course, each student's deserved score, and the serial run's gradebook."""
    from nbgrader.api import Gradebook

    course = make_course(tmp_path_factory.mktemp("class"), ["from-scratch"])
    expected = write_class(course, SIZE)
    # A due date, two submissions handed in after it (times in nbgrader's timestamp.txt), one of
    # them with an extension: the rows that record them must come out as in serial grading too.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tconv") as gb:
        gb.update_or_create_assignment("from-scratch", duedate=datetime.datetime(2026, 12, 1, 12))
        gb.update_or_create_student("s000-solution")
        gb.update_or_create_submission("from-scratch", "s000-solution", extension=datetime.timedelta(days=2))
    for student in ("s000-solution", "s001-article"):
        (course / "submitted" / student / "from-scratch" / "timestamp.txt").write_text("2026-12-02 09:30:00")
    serial = run(course, "tconv_lib.grading.instructor", "autograde", "--serial", env=SECRET_ENV, check=False)
    assert serial.returncode == 1, serial.stdout + serial.stderr  # the unreadable notebooks
    assert sorted(progress_students(serial.stdout.splitlines())) == sorted(expected)
    return course, expected, gradebook_rows(course) | {"outcomes": outcomes(serial.stdout.splitlines())}


def test_serial_grading_gives_each_submission_its_deserved_score(classroom):
    _, expected, serial = classroom
    submissions = {student: rows["submission"] for student, rows in serial["rows"].items()}
    assert submissions["s000-solution"]["extension"] == datetime.timedelta(days=2)  # kept through regrades
    assert submissions["s001-article"]["timestamp"] == datetime.datetime(2026, 12, 2, 9, 30)
    for student, deserved in expected.items():
        grades = serial["rows"][student]["notebooks"]["from_scratch"]["grades"]
        total = sum(g["auto_score"] or 0 for g in grades.values())
        assert total == (deserved or 0), (student, total, deserved)


class DaskCluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, stopped on exit."""

    def __init__(self, folder: Path, workers: int):
        self.folder, self.count, self.processes = folder, workers, []

    def __enter__(self):
        scheduler_file = self.folder / "scheduler.json"
        common = ["--no-dashboard", "--host", "127.0.0.1"]
        self.processes.append(self._start([DASK, "scheduler", "--port", "0", "--scheduler-file", scheduler_file,
                                           *common], "scheduler"))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]
        # Two grading threads per worker, as the README says: their submissions must not mix.
        self.workers = [self._start([DASK, "worker", self.address, "--nthreads", "2", "--no-nanny", *common],
                                    f"worker{i}") for i in range(self.count)]
        self.processes += self.workers
        return self

    def _start(self, command, name):
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen([str(c) for c in command], env=ENV, stdout=log, stderr=subprocess.STDOUT,
                                cwd=self.folder, start_new_session=True)

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_separate_cluster_with_a_worker_killed_midway_grades_as_serial_and_a_rerun_does_nothing(
        classroom, tmp_path):
    course, expected, serial = classroom
    with DaskCluster(tmp_path, workers=2) as cluster:
        grading = subprocess.Popen([*AUTOGRADE, "--force", "--scheduler", cluster.address], cwd=course,
                                   env=SECRET_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines, killed_after = [], None
        for line in grading.stdout:
            lines.append(line.rstrip("\n"))
            if killed_after is None and len(progress_students(lines)) == 4:
                cluster.workers[0].kill()  # mid-run: its tasks go to the other worker
                killed_after = len(lines)
        assert grading.wait(timeout=300) == 1, "\n".join(lines) + grading.stderr.read()  # the unreadable ones
        assert cluster.workers[0].wait() == -signal.SIGKILL
        students = progress_students(lines)
        assert killed_after is not None and len(progress_students(lines[killed_after:])) > 2, "killed too late"
        assert sorted(students) == sorted(expected), "each submission is recorded exactly once"
        assert any("graded again after a worker was lost" in line for line in lines), lines
        assert outcomes(lines) == serial["outcomes"]  # each its own score, or its own reason
        assert gradebook_rows(course) | {"outcomes": outcomes(lines)} == serial
        rerun = subprocess.run([*AUTOGRADE, "--scheduler", cluster.address], cwd=course, env=SECRET_ENV,
                               capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert progress_students(rerun.stdout.splitlines()) == []
    assert "graded 0 of 0 submissions" in rerun.stdout and f"{SIZE} unchanged since graded" in rerun.stdout
    ledger = [json.loads(line) for line in (course / "autograded" / LEDGER).read_text().splitlines()]
    assert len(ledger) == 2 * SIZE  # the serial run's and the Dask run's: the rerun recorded nothing


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# Serially, Ctrl-C comes while s005-sleepy sleeps in its sandbox, deep in nbgrader's autograde
# (whose capture_log catches everything): it must still stop the run, and leave s005 ungraded.
@pytest.mark.parametrize("where, after, pause", [(["--workers", "2"], 3, 0), (["--serial"], 5, 0.9)],
                         ids=["local cluster", "serial"])
def test_ctrl_c_stops_a_run_cleanly_and_a_rerun_finishes_it(classroom, where, after, pause):
    course, expected, serial = classroom
    grading = subprocess.Popen([*AUTOGRADE, "--force", *where], cwd=course, env=SECRET_ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    for line in grading.stdout:
        lines.append(line.rstrip("\n"))
        if len(progress_students(lines)) == after:
            time.sleep(pause)
            os.killpg(grading.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
            break
    lines += grading.stdout.read().splitlines()
    assert grading.wait(timeout=120) == 130, "\n".join(lines)
    assert any(line.startswith("stopped: graded ") for line in lines), lines
    assert not any("Traceback" in line for line in grading.stderr.read().splitlines())
    deadline = time.monotonic() + 15  # no process of the run left behind (the last ones being reaped)
    while _group_alive(grading.pid):
        assert time.monotonic() < deadline, "processes of the stopped run are still there"
        time.sleep(0.2)
    finished = progress_students(lines)
    assert 3 <= len(finished) < SIZE
    # Those under way were forgotten, as in a serial run: no grade (an extension's row aside), no
    # autograded copy. The others keep their grades, from this run or the serial one.
    rows = gradebook_rows(course)["rows"]
    under_way = sorted(s for s in expected if not (course / "autograded" / s / "from-scratch").exists())
    assert under_way and not set(under_way) & set(finished)
    assert under_way == ["s005-sleepy"] or where != ["--serial"]
    assert all(all(g["auto_score"] is None for g in rows[s]["notebooks"]["from_scratch"]["grades"].values())
               for s in under_way if s in rows)
    rest = subprocess.run(AUTOGRADE, cwd=course, env=SECRET_ENV, capture_output=True, text=True, timeout=300)
    assert rest.returncode in (0, 1), rest.stdout + rest.stderr
    assert sorted(progress_students(rest.stdout.splitlines())) == under_way  # the rest, and only the rest
    printed = outcomes(lines + rest.stdout.splitlines())  # each its own score or reason
    assert printed == {student: serial["outcomes"][student] for student in printed}
    assert gradebook_rows(course) | {"outcomes": serial["outcomes"]} == serial


@pytest.mark.parametrize("options, message", [
    (["--scheduler", "tcp://127.0.0.1:9", "--wait", "2"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    (["--scheduler", "nonsense://here", "--wait", "2"], "cannot reach the Dask scheduler at nonsense://here"),
    (["--workers", "0"], "--workers: must be at least 1, got 0"),
    (["--wait", "soon"], "--wait: must be a whole number, got 'soon'"),
])
def test_a_cluster_that_cannot_be_used_is_a_clear_error_and_grades_nothing(classroom, options, message):
    course = classroom[0]
    result = subprocess.run([*AUTOGRADE, "--force", *options], cwd=course, env=SECRET_ENV, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not progress_students(result.stdout.splitlines())
