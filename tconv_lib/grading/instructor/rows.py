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


def _assign(row, values: dict) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def export_submission(gb, assignment: str, student: str) -> dict:
    """A submission's rows: its own columns, and each notebook's, grades' and comments' (by cell name)."""
    submission = gb.find_submission(assignment, student)
    return {"submission": _columns(submission),
            "notebooks": {notebook.name: {"notebook": _columns(notebook),
                                          "grades": {g.name: _columns(g) for g in notebook.grades},
                                          "comments": {c.name: _columns(c) for c in notebook.comments}}
                          for notebook in submission.notebooks}}


def import_submission(gb, assignment: str, student: str, rows: dict) -> None:
    """Write rows from ``export_submission`` as the submission of ``student`` (whose old one is gone)."""
    gb.update_or_create_student(student)
    submission = gb.update_or_create_submission(assignment, student, **rows["submission"])
    for notebook in submission.notebooks:
        saved = rows["notebooks"][notebook.name]
        _assign(notebook, saved["notebook"])
        for grade in notebook.grades:
            _assign(grade, saved["grades"][grade.name])
        for comment in notebook.comments:
            _assign(comment, saved["comments"][comment.name])
    gb.db.commit()
