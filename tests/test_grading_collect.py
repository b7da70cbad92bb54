"""``collect``: every accepted layout is filed; every hostile or ambiguous input is refused, whole."""
from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from course import ROOT, run

from tconv_lib.grading.instructor import collect as collecting
from tconv_lib.grading.instructor.collect import CollectError, collect

FROM_SCRATCH = nbformat.writes(nbformat.read(ROOT / "exercises/from-scratch/from_scratch.ipynb", as_version=4))
CHECKERBOARD = nbformat.writes(nbformat.read(ROOT / "exercises/checkerboard/checkerboard.ipynb", as_version=4))


@pytest.fixture
def course(tmp_path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    return course


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def submitted(course: Path) -> list[str]:
    return sorted(p.relative_to(course / "submitted").as_posix() for p in (course / "submitted").rglob("*.ipynb"))


def test_the_accepted_layouts(course, tmp_path):
    source = write(tmp_path / "in", {
        "alice_from_scratch.ipynb": FROM_SCRATCH,                    # a platform's flat download
        "bob/from_scratch.ipynb": FROM_SCRATCH,                      # a folder per student
        "carol/carol_checkerboard.ipynb": CHECKERBOARD,
        "wrapped/dan_from_scratch.ipynb": FROM_SCRATCH,              # a flat download in a folder
        "wrapped/erin-from_scratch.ipynb": FROM_SCRATCH,
        "bob/notes.txt": "not a notebook: not read",
        "bob/.ipynb_checkpoints/from_scratch-checkpoint.ipynb": "{",
    })
    lines = collect(source, course)
    assert submitted(course) == ["alice/from-scratch/from_scratch.ipynb", "bob/from-scratch/from_scratch.ipynb",
                                 "carol/checkerboard/checkerboard.ipynb", "dan/from-scratch/from_scratch.ipynb",
                                 "erin/from-scratch/from_scratch.ipynb"]
    assert len(lines) == 5
    assert collect(source, course)[0].endswith("(replaced)")  # a new collection replaces the old one


@pytest.mark.parametrize("files, problem", [
    ({"alice/bob_from_scratch.ipynb": FROM_SCRATCH}, "in the folder of student 'alice' but named for 'bob'"),
    ({"alice_from_scratch.ipynb": FROM_SCRATCH, "alice/from_scratch.ipynb": FROM_SCRATCH},
     "alice: 2 files for from_scratch.ipynb"),
    ({"-rf_from_scratch.ipynb": FROM_SCRATCH}, "'-rf' cannot be a student id"),
    ({"from_scratch.ipynb": FROM_SCRATCH}, "None cannot be a student id"),
    ({"alice_from_scratch.ipynb": "{not json"}, "not a readable notebook"),
    ({"alice_from_scratch.ipynb": CHECKERBOARD}, "holds the cells of checkerboard, not of from-scratch"),
    ({"alice_homework.ipynb": FROM_SCRATCH}, "not a notebook of this course"),
])
def test_problems_are_listed_and_nothing_is_filed(course, tmp_path, files, problem):
    source = write(tmp_path / "in", {"good_from_scratch.ipynb": FROM_SCRATCH})
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    with pytest.raises(CollectError) as error:
        collect(source, course)
    assert any(problem in line for line in error.value.problems), error.value.problems
    assert not (course / "submitted").exists()


def test_symlinks_are_not_followed(course, tmp_path):
    secret = write(tmp_path / "private", {"gradebook.ipynb": FROM_SCRATCH})
    source = write(tmp_path / "in", {"good_from_scratch.ipynb": FROM_SCRATCH})
    os.symlink(secret / "gradebook.ipynb", source / "eve_from_scratch.ipynb")
    with pytest.raises(CollectError, match="a symbolic link"):
        collect(source, course)
    link = tmp_path / "link"
    os.symlink(source, link)
    with pytest.raises(CollectError, match="a symbolic link"):
        collect(link, course)


def test_a_zip_slip_writes_nothing_outside(course, tmp_path):
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil_from_scratch.ipynb", FROM_SCRATCH)
        zf.writestr("/abs/mallory/from_scratch.ipynb", FROM_SCRATCH)
        zf.writestr("ok_from_scratch.ipynb", FROM_SCRATCH)
        link = zipfile.ZipInfo("trudy_from_scratch.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(CollectError, match="trudy_from_scratch.ipynb: a symbolic link"):
        collect(archive, course)
    assert not (course / "submitted").exists()


def test_a_zip_bomb_is_stopped_while_reading(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collecting, "MAX_NOTEBOOK_BYTES", 1 << 20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb_from_scratch.ipynb", b"{" + b" " * (200 << 20) + b"}")  # 200 MiB, 200 KiB packed
    assert archive.stat().st_size < 1 << 20
    with pytest.raises(CollectError, match="larger than 1 MiB"):
        collect(archive, course)


def test_the_command_exits_non_zero_and_says_why(course, tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", course)
    source = write(tmp_path / "in", {"alice/bob_from_scratch.ipynb": FROM_SCRATCH})
    result = run(course, "tconv_lib.grading.instructor", "collect", str(source), check=False)
    assert result.returncode == 1
    assert "nothing was filed; 1 problem(s)" in result.stderr and "named for 'bob'" in result.stderr
