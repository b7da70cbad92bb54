"""The task a Dask worker runs: one submission graded by nbgrader and the judge in a scratch course.

The coordinator sends the course once per run (``Course``: ``nbgrader_config.py``, the graded
assignments' folders of ``solutions/`` and ``exercises/``, a gradebook with no student data)
and the hidden checks it built; each task carries one submission's files. In a scratch folder of
this process, made once per course, ``grade_one`` does exactly what a serial run does. What goes
back is plain data: the outcome, the submission's gradebook rows and its autograded files. A
worker writes nothing of the course's: the coordinator does.

Tasks of one process run one at a time (nbgrader's apps are not thread-safe): start workers with
one thread each and one process per core.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime
import functools
import hashlib
import shutil
import tempfile
import threading
from pathlib import Path

from .. import cases
from .autograde import Outcome, api, grade_one, sandbox_problem
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
    return sandbox_problem(_scratch(course)[1])


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


_LOCK = threading.Lock()
_SCRATCH: dict[str, tuple[Path, object]] = {}  # course digest -> (scratch root, nbgrader's API)


def _scratch(course: Course):
    if course.digest not in _SCRATCH:
        for root, _ in _SCRATCH.values():  # an earlier run's course
            shutil.rmtree(root, ignore_errors=True)
        _SCRATCH.clear()
        root = Path(tempfile.mkdtemp(prefix="tconv-grading-course-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        write_files(root, course.files)
        (root / "gradebook.db").write_bytes(course.gradebook)
        # The scratch gradebook, whatever database the course's configuration names.
        _SCRATCH[course.digest] = root, api(root, db_url=f"sqlite:///{root / 'gradebook.db'}")
    return _SCRATCH[course.digest]


def check(course: Course) -> str | None:
    """``fitness``, for ``Client.run`` before a run starts (it also makes the scratch course)."""
    with _LOCK:
        return fitness(course)


def grade(submission: Submission, course: Course, checks: dict) -> Graded:
    """Grade ``submission`` as a serial run would, in this worker's scratch copy of ``course``, with
    the hidden ``checks`` the coordinator built (``cases.references``)."""
    from nbgrader.api import Gradebook, MissingEntry

    with _LOCK:
        problem = fitness(course)
        if problem:
            raise WorkerUnfit(f"worker cannot grade: {problem}")
        cases.install(checks)
        root, nbgrader = _scratch(course)
        a, s = submission.assignment, submission.student
        shutil.rmtree(root / "submitted", ignore_errors=True)
        write_files(root / "submitted" / s / a, submission.files)
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
            files = read_files(root / "autograded" / s / a)
        finally:
            # The scratch gradebook keeps the rows (small); the files go.
            for folder in ("submitted", "autograded"):
                shutil.rmtree(root / folder, ignore_errors=True)
        return Graded(outcome, rows, files)
