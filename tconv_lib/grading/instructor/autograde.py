"""``autograde``: nbgrader's own autograder (with the judge) on every submission, one line each.

Before a submission is graded its earlier grade and autograded copy are removed, so a run that
is killed midway leaves that submission ungraded (a rerun grades it), never showing an old grade
or an unexecuted notebook as graded. A submission that nbgrader cannot grade at all (a notebook
that does not parse, say) gets 0 for every test and, as its autograded notebook, the release with
the reason on top, so that its feedback says why.
"""
from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from pathlib import Path

import nbformat


def api(root: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return NbGraderAPI(config=config)


def jobs(root: Path, assignments=()) -> list[tuple[str, str]]:
    """(assignment, student) of every folder in ``submitted/``, sorted."""
    submitted = root / "submitted"
    return sorted((a.name, s.name) for s in submitted.glob("*") if s.is_dir() and not s.is_symlink()
                  for a in s.glob("*") if a.is_dir() and (not assignments or a.name in assignments))


def forget(nbgrader, assignment: str, student: str) -> None:
    """Remove a submission's grade and autograded copy: nothing old survives a regrade."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(nbgrader.coursedir.db_url, nbgrader.coursedir.course_id) as gb:
        try:
            gb.remove_submission(assignment, student)
        except MissingEntry:
            pass
    shutil.rmtree(Path(nbgrader.coursedir.format_path(nbgrader.coursedir.autograded_directory, student,
                                                      assignment)), ignore_errors=True)


def score(nbgrader, assignment: str, student: str) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(nbgrader.coursedir.db_url, nbgrader.coursedir.course_id) as gb:
        sub = gb.find_submission(assignment, student)
        return f"{sub.score:g}/{sub.max_score:g}"


def record_failure(nbgrader, root: Path, assignment: str, student: str, reason: str) -> None:
    """0 for every test of the submission, and an autograded notebook that says why."""
    from nbgrader.api import Gradebook

    forget(nbgrader, assignment, student)
    with Gradebook(nbgrader.coursedir.db_url, nbgrader.coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, False
        gb.db.commit()
        names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
    out = Path(nbgrader.coursedir.format_path(nbgrader.coursedir.autograded_directory, student, assignment))
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
    final = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    coursedir.autograded_directory, saved = STAGING, coursedir.autograded_directory
    try:
        staged = Path(coursedir.format_path(STAGING, student, assignment))
        shutil.rmtree(staged, ignore_errors=True)
        result = nbgrader.autograde(assignment, student, force=True, create=True)
    finally:
        coursedir.autograded_directory = saved
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


def autograde(root: Path, assignments=(), *, out=print) -> bool:
    """Autograde every submission of ``assignments`` (all when empty); True when every one was graded."""
    from sqlalchemy.exc import SAWarning

    # nbgrader re-creating a submission that ``forget`` removed makes SQLAlchemy warn on stderr.
    warnings.filterwarnings("ignore", category=SAWarning)
    nbgrader = api(root)
    todo = jobs(root, assignments)
    ok = True
    for index, (assignment, student) in enumerate(todo, 1):
        start = time.perf_counter()
        forget(nbgrader, assignment, student)
        result = _autograde_staged(nbgrader, assignment, student)
        if result["success"]:
            line = score(nbgrader, assignment, student)
        else:
            ok = False
            reason = _reason(result)
            record_failure(nbgrader, root, assignment, student, reason)
            line = f"0 (not graded: {reason})"
        out(f"[{index}/{len(todo)}] {student} {assignment} {line} in {time.perf_counter() - start:.1f} s")
    return ok
