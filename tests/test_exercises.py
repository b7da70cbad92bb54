"""The nbgrader exercises: the release is what nbgrader makes and shows no solution or hidden test.

(Grading end to end, through nbgrader's own commands, is tests/test_grading_judge.py.)
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from course import ASSIGNMENTS, ROOT, make_course

pytestmark = pytest.mark.nbgrader


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("course"), ASSIGNMENTS)


def _cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return nb.metadata, [(c.cell_type, c.source, c.metadata) for c in nb.cells]


def test_every_assignment_is_released():
    released = sorted(p.parent.name for p in (ROOT / "exercises").glob("*/*.ipynb"))
    assert released == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_what_nbgrader_generates(course, assignment):
    for generated in sorted((course / "exercises" / assignment).glob("*.ipynb")):
        committed = ROOT / "exercises" / assignment / generated.name
        assert committed.exists(), f"{committed} is missing: run `make assignments`"
        assert _cells(committed) == _cells(generated), f"{committed} is stale: run `make assignments`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_or_hidden_test(assignment):
    for source in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        release = (ROOT / "exercises" / assignment / source.name).read_text()
        assert "BEGIN SOLUTION" not in release and "BEGIN HIDDEN TESTS" not in release
        secret = [block for cell in nbformat.read(source, as_version=4).cells
                  for block in re.findall(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END",
                                          cell.source, re.S)]
        assert secret, f"{source} has no solution or hidden test"
        for line in (line.strip() for block in secret for line in block.splitlines()):
            if len(line) > 20:
                assert json.dumps(line)[1:-1] not in release, f"{source.name}: release shows {line!r}"
