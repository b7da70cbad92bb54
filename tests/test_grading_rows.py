"""Gradebook rows as plain data: the workers' template holds no student data, and rows copy exactly."""
from __future__ import annotations

import datetime
import shutil
import sqlite3

import pytest
from course import make_course

from tconv_lib.grading.instructor.rows import delete_submission, export_submission, import_submission, template

pytestmark = [pytest.mark.nbgrader, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    from nbgrader.api import Gradebook

    course = make_course(tmp_path_factory.mktemp("rows"), ["from-scratch"])
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url, "tconv") as gb:
        gb.add_student("ann", first_name="Ann", email="ann@example.org")
        sub = gb.add_submission("from-scratch", "ann", timestamp=datetime.datetime(2026, 11, 30, 23, 59))
        for notebook in sub.notebooks:
            notebook.late_submission_penalty = 1.5
            for i, grade in enumerate(notebook.grades):
                grade.auto_score, grade.needs_manual_grade, grade.extra_credit = float(i), bool(i % 2), 0.5
            for comment in notebook.comments:
                comment.auto_comment = f"about {comment.name}"
        gb.db.commit()
    return course, url


def test_the_template_has_the_assignment_and_no_student_data(gradebook, tmp_path):
    course, url = gradebook
    path = tmp_path / "template.db"
    path.write_bytes(template(url))
    db = sqlite3.connect(path)
    count = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
             for table in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment",
                           "assignment", "notebook", "grade_cells", "source_cell", "alembic_version")}
    assert count["student"] == count["submitted_assignment"] == count["submitted_notebook"] == 0
    assert count["grade"] == count["comment"] == 0
    assert count["assignment"] == count["notebook"] == count["alembic_version"] == 1
    assert count["grade_cells"] == 4 and count["source_cell"] > 0
    assert b"ann@example.org" not in path.read_bytes()


def test_exported_rows_written_into_another_gradebook_read_back_the_same(gradebook, tmp_path):
    from nbgrader.api import Gradebook

    course, url = gradebook
    with Gradebook(url, "tconv") as gb:
        rows = export_submission(gb, "from-scratch", "ann")
    grades = rows["notebooks"]["from_scratch"]["grades"]
    assert sorted(grades) == ["Conv2D-hidden", "Conv2D-visible", "Conv2DTranspose-hidden",
                              "Conv2DTranspose-visible"]
    assert rows["submission"]["timestamp"] == datetime.datetime(2026, 11, 30, 23, 59)
    assert rows["notebooks"]["from_scratch"]["notebook"]["late_submission_penalty"] == 1.5
    other = tmp_path / "other.db"
    shutil.copy(course / "gradebook.db", other)
    with Gradebook(f"sqlite:///{other}", "tconv") as gb:
        gb.remove_submission("from-scratch", "ann")
        import_submission(gb, "from-scratch", "ann", rows)
    with Gradebook(f"sqlite:///{other}", "tconv") as gb:
        assert export_submission(gb, "from-scratch", "ann") == rows
        assert gb.find_student("ann").email == "ann@example.org"  # the student's own row is kept


def _tables(path) -> dict:
    db = sqlite3.connect(path)
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: sorted(map(repr, db.execute(f"SELECT * FROM {name}"))) for name in names}


def test_deleting_a_submission_leaves_the_rows_nbgraders_remove_submission_leaves(gradebook, tmp_path):
    from nbgrader.api import Gradebook, MissingEntry

    course, _ = gradebook
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    for path in (ours, theirs):
        shutil.copy(course / "gradebook.db", path)
    with Gradebook(f"sqlite:///{ours}", "tconv") as gb:
        assert delete_submission(gb, "from-scratch", "ann") is None  # it had no extension
        with pytest.raises(MissingEntry):
            delete_submission(gb, "from-scratch", "ann")
    with Gradebook(f"sqlite:///{theirs}", "tconv") as gb:
        gb.remove_submission("from-scratch", "ann")
    assert _tables(ours) == _tables(theirs)
    assert _tables(ours)["grade"] == [] and _tables(ours)["student"] != []


def test_rows_replace_a_regrades_placeholder_and_nbgrader_computes_the_same_scores(gradebook, tmp_path):
    from nbgrader.api import Gradebook

    course, url = gradebook
    with Gradebook(url, "tconv") as gb:
        rows = export_submission(gb, "from-scratch", "ann")
        score = gb.find_submission("from-scratch", "ann").score
    other = tmp_path / "other.db"
    shutil.copy(course / "gradebook.db", other)
    with Gradebook(f"sqlite:///{other}", "tconv") as gb:
        gb.remove_submission("from-scratch", "ann")  # what forget leaves when there is an extension
        gb.update_or_create_submission("from-scratch", "ann", extension=datetime.timedelta(days=1))
        import_submission(gb, "from-scratch", "ann", rows | {"submission": rows["submission"] | {
            "extension": datetime.timedelta(days=1)}})
    with Gradebook(f"sqlite:///{other}", "tconv") as gb:
        assert len(gb.find_assignment("from-scratch").submissions) == 1
        submission = gb.find_submission("from-scratch", "ann")
        assert submission.extension == datetime.timedelta(days=1)
        assert submission.score == score == 8.0  # 0 + 1 + 2 + 3, and 4 x 0.5 extra credit
        assert export_submission(gb, "from-scratch", "ann")["notebooks"] == rows["notebooks"]
    with pytest.raises(ValueError, match="notebooks"):
        with Gradebook(f"sqlite:///{other}", "tconv") as gb:
            import_submission(gb, "from-scratch", "ann", rows | {"notebooks": {}})


def test_a_manually_graded_answer_keeps_its_grade_and_its_comment_apart(gradebook, tmp_path):
    """Such an answer is a grade cell and a solution cell of one name: each row links to its own."""
    from nbgrader.api import Gradebook

    shutil.copy(gradebook[0] / "gradebook.db", tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "tconv") as gb:
        gb.add_assignment("hw")
        gb.add_notebook("nb", "hw")
        gb.add_grade_cell("q1", "nb", "hw", max_score=2, cell_type="markdown")
        gb.add_solution_cell("q1", "nb", "hw")
        gb.add_task_cell("t1", "nb", "hw", max_score=3, cell_type="markdown")
        gb.add_submission("hw", "ann")  # ann is the fixture's student
        gb.find_grade("q1", "nb", "hw", "ann").manual_score = 1.5
        gb.find_comment("q1", "nb", "hw", "ann").manual_comment = "close"
        gb.db.commit()
        rows = export_submission(gb, "hw", "ann")
        import_submission(gb, "hw", "ann", rows)
    with Gradebook(url, "tconv") as gb:
        assert export_submission(gb, "hw", "ann") == rows
        assert gb.find_grade("q1", "nb", "hw", "ann").max_score == 2
        assert gb.find_grade("t1", "nb", "hw", "ann").max_score == 3
        assert gb.find_comment("q1", "nb", "hw", "ann").manual_comment == "close"
        assert gb.find_comment("t1", "nb", "hw", "ann") is not None
        assert gb.find_submission("hw", "ann").score == 1.5
