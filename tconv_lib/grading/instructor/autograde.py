"""nbgrader's own autograder (with the judge) on one submission: ``grade_one``.

A run over a class (``run.py``) calls it for each submission, in this process (serial) or in a
worker's scratch course (``worker.py``). Before a submission is graded its earlier grade and
autograded copy are removed, so a run that is killed midway leaves that submission ungraded (a
rerun grades it), never showing an old grade or an unexecuted notebook as graded. A submission
that nbgrader cannot grade at all (a notebook that does not parse, say) gets 0 for every test
and, as its autograded notebook, the release with the reason on top, so that its feedback says
why.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import shutil
import time
import warnings
from pathlib import Path

import nbformat


def api(root: Path, *, db_url: str | None = None, log=None):
    """nbgrader's API on the course at ``root`` (with its gradebook, or the one at ``db_url``;
    logging to ``log``, or to traitlets' shared logger)."""
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader re-creating a submission that ``forget`` removed makes SQLAlchemy warn on stderr.
    warnings.filterwarnings("ignore", category=SAWarning)
    _share_engines()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)  # even where the configuration names another folder
    if db_url:
        config.CourseDirectory.db_url = db_url
    return NbGraderAPI(config=config, **({"log": log} if log is not None else {}))


def _share_engines() -> None:
    """One SQLAlchemy engine per database URL for all of nbgrader's ``Gradebook`` objects.

    nbgrader opens a new ``Gradebook``, with a new engine, a dozen times per submission, and each
    new engine compiles every query again (its compiled-statement cache is per engine): about a
    fifth of a submission's grading time. A shared engine keeps its cache; ``Gradebook.close``
    still disposes of its connections.
    """
    import nbgrader.api
    import sqlalchemy

    if not hasattr(nbgrader.api.create_engine, "cache_info"):
        nbgrader.api.create_engine = functools.lru_cache(maxsize=8)(sqlalchemy.create_engine)


def sandbox_problem(nbgrader) -> str | None:
    """Why this machine cannot grade with the course's configuration (no sandbox, none allowed), or None."""
    from ..judge.sandbox import availability

    reason = availability()
    if reason and not nbgrader.config.SandboxedExecute.get("allow_unsandboxed", False):
        return (f"{reason}. Student code is graded only in a sandbox; set "
                "c.SandboxedExecute.allow_unsandboxed = True in nbgrader_config.py to grade without one")
    return None


def jobs(root: Path, assignments=()) -> list[tuple[str, str]]:
    """(assignment, student) of every folder in ``submitted/``, sorted."""
    submitted = root / "submitted"
    return sorted((a.name, s.name) for s in submitted.glob("*") if s.is_dir() and not s.is_symlink()
                  for a in s.glob("*") if a.is_dir() and (not assignments or a.name in assignments))


def gradebook(nbgrader, gb=None):
    """The course's gradebook, or ``gb`` left open (one kept for a run: each new one makes SQLAlchemy
    compile its queries again)."""
    from nbgrader.api import Gradebook

    return contextlib.nullcontext(gb) if gb is not None else Gradebook(nbgrader.coursedir.db_url,
                                                                       nbgrader.coursedir.course_id)


def autograded_path(nbgrader, assignment: str, student: str) -> Path:
    """``autograded/<student>/<assignment>`` (as the course's configuration names it)."""
    coursedir = nbgrader.coursedir
    return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))


def forget(nbgrader, assignment: str, student: str, gb=None):
    """Remove a submission's grade and autograded copy: nothing old survives a regrade. The
    instructor's extension of its due date stays (on an ungraded submission); it is returned."""
    from nbgrader.api import MissingEntry

    from .rows import delete_submission

    with gradebook(nbgrader, gb) as gb:
        try:  # one transaction: a stopped run cannot lose the extension
            extension = delete_submission(gb, assignment, student, commit=False)
        except MissingEntry:
            extension = None
        if extension is not None:
            gb.update_or_create_submission(assignment, student, extension=extension)
        gb.db.commit()
    shutil.rmtree(autograded_path(nbgrader, assignment, student), ignore_errors=True)
    return extension


def score(nbgrader, assignment: str, student: str) -> str:
    with gradebook(nbgrader) as gb:
        sub = gb.find_submission(assignment, student)
        return f"{sub.score:g}/{sub.max_score:g}"


def record_failure(nbgrader, root: Path, assignment: str, student: str, reason: str, gb=None) -> None:
    """0 for every test of the submission, and an autograded notebook that says why."""
    forget(nbgrader, assignment, student, gb)
    with gradebook(nbgrader, gb) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, False
        gb.db.commit()
        names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
    out = autograded_path(nbgrader, assignment, student)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        nb = nbformat.read(root / "exercises" / assignment / f"{name}.ipynb", as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f"**This submission could not be graded: {reason}.** Every test scores 0."))
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("error", ename="NotGraded", evalue=reason,
                                                       traceback=[f"NotGraded: {reason}"])]
        nbformat.write(nb, out / f"{name}.ipynb")


STAGING = ".autograding"


def _autograde_staged(nbgrader, assignment: str, student: str) -> dict:
    """nbgrader's autograde, writing into ``STAGING`` (it leaves a sanitized, unexecuted copy there
    while it works); the result moves into ``autograded/`` only once graded."""
    coursedir = nbgrader.coursedir
    final = autograded_path(nbgrader, assignment, student)
    coursedir.autograded_directory, saved = STAGING, coursedir.autograded_directory
    try:
        staged = Path(coursedir.format_path(STAGING, student, assignment))
        shutil.rmtree(staged, ignore_errors=True)
        result = nbgrader.autograde(assignment, student, force=True, create=True)
    finally:
        coursedir.autograded_directory = saved
    if not result["success"] and result.get("error", "").rstrip().endswith("KeyboardInterrupt"):
        # Ctrl-C while nbgrader ran (its capture_log catches everything): not this submission's
        # failure, but the end of the run. It is left ungraded, for a rerun.
        shutil.rmtree(staged, ignore_errors=True)
        forget(nbgrader, assignment, student)
        raise KeyboardInterrupt
    if result["success"]:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
    shutil.rmtree(staged, ignore_errors=True)
    return result


def _reason(result: dict) -> str:
    """The last exception nbgrader's log names (not its own "see the above traceback")."""
    lines = [line.strip() for line in f"{result.get('log', '')}\n{result.get('error', '')}".splitlines()]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Unavailable|Died): ", line)
              and "NbGraderException" not in line]
    return (errors[-1] if errors else "nbgrader could not run it")[:300]


@dataclasses.dataclass
class Outcome:
    """A submission's grading: its ``score`` ("8/10"), or the ``reason`` it could not be graded (it got 0)."""
    assignment: str
    student: str
    score: str | None
    reason: str | None
    seconds: float


def grade_one(nbgrader, root: Path, assignment: str, student: str) -> Outcome:
    """Autograde one submission in the course at ``root``, writing its gradebook and autograded copy."""
    start = time.perf_counter()
    forget(nbgrader, assignment, student)
    result = _autograde_staged(nbgrader, assignment, student)
    if result["success"]:
        return Outcome(assignment, student, score(nbgrader, assignment, student), None,
                       time.perf_counter() - start)
    reason = _reason(result)
    record_failure(nbgrader, root, assignment, student, reason)
    return Outcome(assignment, student, None, reason, time.perf_counter() - start)
