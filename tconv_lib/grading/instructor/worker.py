"""The task a Dask worker runs: one submission graded by nbgrader and the judge in a scratch course.

The coordinator sends the course once per run (``Course``: ``nbgrader_config.py``, the graded
assignments' folders of ``solutions/`` and ``exercises/``, a gradebook with no student data)
and the hidden checks it built; each task carries one submission's files. In a scratch folder of
this process, made once per course, ``grade_one`` does exactly what a serial run does. What goes
back is plain data: the outcome, the submission's gradebook rows and its autograded files. A
worker writes nothing of the course's: the coordinator does.

A worker process grades on several threads at once (``cluster.THREADS``, two): a thread spends
much of a submission waiting for its sandbox, another process, and a student's ``time.sleep``
holds no core. The threads share the scratch course, which is the process's
working folder (nbgrader's converters change into the course folder and back); each has its own
nbgrader API and logger, and its own submission's folders.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from traitlets.log import get_logger

from .. import cases
from .autograde import Outcome, api, autograded_path, grade_one, sandbox_problem
from .rows import export_submission


@dataclasses.dataclass(frozen=True)
class Course:
    """What a worker needs of the course: its ``files`` (by path relative to its root), its gradebook
    template, and the digest of the coordinator's ``tconv_lib`` (a worker must run the same)."""
    digest: str
    course_id: str
    files: dict[str, bytes]
    gradebook: bytes
    library: str


class WorkerUnfit(RuntimeError):
    """This worker cannot grade for this run (another tconv_lib, or no sandbox)."""


@functools.cache
def library_digest() -> str:
    """sha256 of this machine's ``tconv_lib`` sources: the checkers and the judge."""
    package = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fitness(course: Course) -> str | None:
    """Why this worker cannot grade ``course``'s submissions, or None."""
    if library_digest() != course.library:
        return ("it runs another version of tconv_lib than the coordinator (install the same commit "
                "of the course on every worker)")
    with _SCRATCH.use(course) as (_, nbgrader):
        return sandbox_problem(nbgrader)


@dataclasses.dataclass(frozen=True)
class Submission:
    """One submission: ``files`` by path relative to ``submitted/<student>/<assignment>/``, and the
    extension of its due date the instructor gave (None: none)."""
    assignment: str
    student: str
    files: dict[str, bytes]
    extension: datetime.timedelta | None = None


@dataclasses.dataclass
class Graded:
    """A graded submission: its outcome, its gradebook rows, its autograded files (relative paths)."""
    outcome: Outcome
    rows: dict
    files: dict[str, bytes]


def read_files(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder``, by relative path."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise ValueError(f"file {name!r} would be written outside {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class _ScratchCourse:
    """This process's scratch copy of one course at a time, shared by the threads grading it.

    A task of another course, or with other hidden checks (a second coordinator on the same
    cluster), waits until no thread is grading with these, then replaces them.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._digest: str | None = None
        self._root: Path | None = None
        self._users = 0
        self._checks: dict | None = None
        self._local = threading.local()  # per thread: its nbgrader API, and for which scratch course

    @contextlib.contextmanager
    def use(self, course: Course, checks: dict | None = None):
        """The scratch root and this thread's nbgrader API for ``course``, while the block runs;
        ``checks``: the hidden checks to grade with (``cases.install``), None: those installed."""
        def current() -> bool:
            return self._digest == course.digest and (checks is None or checks is self._checks)

        with self._changed:
            self._changed.wait_for(lambda: current() or not self._users)
            if self._digest != course.digest:
                self._replace(course)
            if checks is not None and checks is not self._checks:  # no thread grades with the others
                cases.install(checks)
                self._checks = checks
            self._users += 1
        try:
            if getattr(self._local, "course", None) != (course.digest, self._root):
                # nbgrader reads a submission's failure from what its log captured: each thread
                # logs alone (traitlets' logger is shared by every API of the process).
                thread = threading.get_ident()
                log = logging.getLogger(f"tconv.grading.worker.{thread}")
                log.propagate = False
                log.setLevel(get_logger().getEffectiveLevel())  # what a serial run's log holds
                if not log.handlers:  # (a thread's logger outlives a course)
                    log.addHandler(logging.NullHandler())  # what nbgrader logs outside a capture is dropped
                # A gradebook per thread: two threads writing one SQLite file can each hold the
                # lock the other waits for (a reader upgrading while a writer commits).
                gradebook = self._root / f"gradebook-{thread}.db"
                gradebook.write_bytes(course.gradebook)
                self._local.api = api(self._root, db_url=f"sqlite:///{gradebook}", log=log)
                self._local.course = course.digest, self._root
            yield self._root, self._local.api
        finally:
            with self._changed:
                self._users -= 1
                self._changed.notify_all()

    def _replace(self, course: Course) -> None:
        if self._root is not None:  # an earlier run's course
            shutil.rmtree(self._root, ignore_errors=True)
        root = Path(tempfile.mkdtemp(prefix="tconv-grading-course-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        write_files(root, course.files)
        os.chdir(root)  # nbgrader's chdir into the course and back then leaves every thread here
        _setenv_for_threads()
        self._digest, self._root = course.digest, root


def _setenv_for_threads() -> None:
    """nbgrader's ``utils.setenv`` deletes its variables on the way out, under any other thread that
    still runs with them set (and raises KeyError when that one deleted them first). The threads
    of a worker all set the same values: leave them set."""
    import nbgrader.utils

    @contextlib.contextmanager
    def setenv(**variables):
        os.environ.update(variables)
        yield

    nbgrader.utils.setenv = setenv


_SCRATCH = _ScratchCourse()


def check(course: Course) -> str | None:
    """``fitness``, for ``Client.run`` before a run starts. It also makes the scratch course and
    opens a gradebook there (importing SQLite's driver), while the coordinator builds the checks."""
    from nbgrader.api import Gradebook

    problem = fitness(course)
    if problem is None:
        with _SCRATCH.use(course) as (_, nbgrader), Gradebook(nbgrader.coursedir.db_url, course.course_id):
            pass
    return problem


def grade(submission: Submission, course: Course, checks: dict) -> Graded:
    """Grade ``submission`` as a serial run would, in this worker's scratch copy of ``course``, with
    the hidden ``checks`` the coordinator built (``cases.references``)."""
    from nbgrader.api import Gradebook, MissingEntry

    problem = fitness(course)
    if problem:
        raise WorkerUnfit(f"worker cannot grade: {problem}")
    with _SCRATCH.use(course, checks) as (root, nbgrader):
        a, s = submission.assignment, submission.student
        coursedir = nbgrader.coursedir
        folders = [Path(coursedir.format_path(coursedir.submitted_directory, s, a)), autograded_path(nbgrader, a, s)]
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        write_files(folders[0], submission.files)
        with Gradebook(nbgrader.coursedir.db_url, course.course_id) as gb:
            gb.update_or_create_student(s)
            if submission.extension is not None:  # kept by grade_one's forget, as in the course's gradebook
                gb.update_or_create_submission(a, s, extension=submission.extension)
            else:  # an extension an earlier run left in this scratch gradebook goes too
                with contextlib.suppress(MissingEntry):
                    gb.remove_submission(a, s)
        try:
            outcome = grade_one(nbgrader, root, a, s)  # it forgets an earlier grade of the submission
            with Gradebook(nbgrader.coursedir.db_url, course.course_id) as gb:
                rows = export_submission(gb, a, s)
            files = read_files(folders[1])
        finally:
            # The scratch gradebook keeps the rows (small); the files go.
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
        return Graded(outcome, rows, files)
