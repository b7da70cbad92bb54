"""Gradebook rows as plain data: what a worker of a parallel run needs, and what it sends back.

A worker grades in a scratch course with a gradebook of its own, made from ``template``: the
course's assignments, notebooks and cells, and no student data. nbgrader's own autograde writes
the submission's rows there; ``export_submission`` reads every column of them (all but the keys)
and the coordinator writes them with ``import_submission`` into the course's gradebook, the only
one it writes. So the rows are the ones a serial ``nbgrader autograde`` writes.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import MetaData, create_engine, inspect


def _student_tables():
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    return {model.__table__.name for model in (Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook)}


def template(db_url: str) -> bytes:
    """An SQLite gradebook (its file's bytes) with every table of ``db_url`` but the students' ones."""
    from nbgrader.api import Base

    skip = _student_tables()
    source = create_engine(db_url)
    # The schema's version stamp too (a new nbgrader Gradebook would run alembic to learn it: seconds).
    stamp = MetaData()
    stamp.reflect(source, only=["alembic_version"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gradebook.db"
        target = create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(target)
        stamp.create_all(target)
        with source.connect() as read, target.begin() as write:
            for table in [*Base.metadata.sorted_tables, *stamp.sorted_tables]:
                rows = [dict(row._mapping) for row in read.execute(table.select())]
                if rows and table.name not in skip:
                    write.execute(table.insert(), rows)
        source.dispose()
        target.dispose()
        return path.read_bytes()


def _columns(row) -> dict:
    """Every stored column of an ORM row but its keys (ids and links); not the computed ones (scores)."""
    mapper = inspect(row).mapper
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs
            if all(getattr(column, "table", None) in mapper.tables and not column.primary_key
                   and not column.foreign_keys for column in attr.columns)}


def export_submission(gb, assignment: str, student: str) -> dict:
    """A submission's rows: its own columns, and each notebook's, grades' and comments' (by cell name)."""
    submission = gb.find_submission(assignment, student)
    return {"submission": _columns(submission),
            "notebooks": {notebook.name: {"notebook": _columns(notebook),
                                          "grades": {g.name: _columns(g) for g in notebook.grades},
                                          "comments": {c.name: _columns(c) for c in notebook.comments}}
                          for notebook in submission.notebooks}}


def delete_submission(gb, assignment: str, student: str, *, commit: bool = True):
    """Delete a submission and its notebooks', grades' and comments' rows, as nbgrader's
    ``remove_submission`` does (which loads and deletes them one by one, committing per notebook:
    most of a coordinator's time per result). Returns the extension it had, or None; raises
    nbgrader's ``MissingEntry`` when there is no such submission. ``commit``: False leaves the
    deletion in the session's transaction."""
    from nbgrader.api import Comment, Grade, MissingEntry, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import delete, select

    found = gb.db.execute(select(SubmittedAssignment.id, SubmittedAssignment.extension).where(
        SubmittedAssignment.assignment_id == gb.find_assignment(assignment).id,
        SubmittedAssignment.student_id == student)).first()
    if found is None:
        raise MissingEntry()
    notebooks = select(SubmittedNotebook.id).where(SubmittedNotebook.assignment_id == found.id)
    for table in (Grade.__table__, Comment.__table__):
        gb.db.execute(delete(table).where(table.c.notebook_id.in_(notebooks)))
    gb.db.execute(delete(SubmittedNotebook.__table__).where(SubmittedNotebook.__table__.c.assignment_id == found.id))
    gb.db.execute(delete(SubmittedAssignment.__table__).where(SubmittedAssignment.__table__.c.id == found.id))
    if commit:
        gb.db.commit()
    gb.db.expire_all()  # the session's objects of those rows are gone
    return found.extension


def import_submission(gb, assignment: str, student: str, rows: dict) -> None:
    """Write rows from ``export_submission`` as the submission of ``student``, replacing the one
    there is (a regrade's placeholder holding only an extension), in one transaction of inserts.

    The keys are made here: new ids, and the links to this gradebook's assignment, notebooks and
    cells by name; every other column is the worker's.
    """
    from contextlib import suppress

    from nbgrader.api import (BaseCell, Comment, Grade, MissingEntry, Notebook, SubmittedAssignment,
                              SubmittedNotebook, new_uuid)
    from sqlalchemy import insert, select

    gb.update_or_create_student(student)
    with suppress(MissingEntry):
        delete_submission(gb, assignment, student, commit=False)
    assignment_id = gb.find_assignment(assignment).id
    notebooks = dict(gb.db.execute(select(Notebook.name, Notebook.id)
                                   .where(Notebook.assignment_id == assignment_id)).all())
    # A grade belongs to a grade or task cell, a comment to a solution or task cell: a manually
    # graded answer is a grade cell and a solution cell of the same name.
    cells = {}
    for id, cell, notebook, kind in gb.db.execute(
            select(BaseCell.id, BaseCell.name, Notebook.name, BaseCell.type)
            .join(Notebook, BaseCell.notebook_id == Notebook.id).where(Notebook.assignment_id == assignment_id)):
        for rows_of in _ROWS_OF_CELL.get(kind, ()):
            cells[rows_of, notebook, cell] = id
    if set(rows["notebooks"]) != set(notebooks):
        raise ValueError(f"the rows of {student}'s {assignment} are for notebooks {sorted(rows['notebooks'])}, "
                         f"the gradebook has {sorted(notebooks)}")
    submission_id = new_uuid()
    gb.db.execute(insert(SubmittedAssignment.__table__), [_stored(SubmittedAssignment, rows["submission"]) | {
        "id": submission_id, "assignment_id": assignment_id, "student_id": student}])
    grades, comments = [], []
    for name, saved in rows["notebooks"].items():
        notebook_id = new_uuid()
        gb.db.execute(insert(SubmittedNotebook.__table__), [_stored(SubmittedNotebook, saved["notebook"]) | {
            "id": notebook_id, "assignment_id": submission_id, "notebook_id": notebooks[name]}])
        for kind, found in (("grades", grades), ("comments", comments)):
            model = Grade if kind == "grades" else Comment
            found += [_stored(model, values) | {"id": new_uuid(), "notebook_id": notebook_id,
                                                "cell_id": cells[kind, name, cell]}
                      for cell, values in saved[kind].items()]
    for model, values in ((Grade, grades), (Comment, comments)):
        if values:
            gb.db.execute(insert(model.__table__), values)
    gb.db.commit()
    gb.db.expire_all()


_ROWS_OF_CELL = {"GradeCell": ("grades",), "SolutionCell": ("comments",), "TaskCell": ("grades", "comments")}


def _stored(model, values: dict) -> dict:
    """``_columns``'s attribute names as the table's column names."""
    attrs = inspect(model).column_attrs
    return {attrs[key].columns[0].name: value for key, value in values.items()}
