"""``collect``: file a folder or a .zip of submissions into nbgrader's ``submitted/`` layout.

Accepted names, with ``<notebook>`` a notebook of ``solutions/`` (it names the assignment):

* ``<student>/<notebook>.ipynb`` or ``<student>/<student>_<notebook>.ipynb``: the folder names the student;
* ``<student>_<notebook>.ipynb`` at the top (``-`` and ``.`` work as separators too), or in a folder
  that holds several students' files that way (a platform's download wrapped in one folder, not
  named for one of the students in it).

Nothing is chosen silently: two files for one student and notebook, a name that is no student id,
a file in one student's folder named for another, a notebook that does not parse, or one that
holds another assignment's cells is listed with the reason, and then nothing at all is written
and the command exits non-zero. Only ``.ipynb`` entries are read, each at most
``MAX_NOTEBOOK_BYTES`` and all together at most ``MAX_TOTAL_BYTES`` (sizes are counted while
reading, so a zip bomb is stopped, never unpacked); symbolic links are not followed; files are
written only as ``submitted/<student>/<assignment>/<notebook>.ipynb`` under the course.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

import nbformat

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SEPARATORS = ("_", "-", ".")
MAX_NOTEBOOK_BYTES = 16 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_ENTRIES = 100_000


class CollectError(Exception):
    """What was wrong with the submissions, one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclasses.dataclass
class Entry:
    path: PurePosixPath  # relative to the folder or archive
    read: callable       # () -> bytes, at most MAX_NOTEBOOK_BYTES + 1 of them


def course_notebooks(root: Path) -> dict[str, str]:
    """``{notebook file name: assignment}`` for every notebook in ``solutions/``."""
    return {nb.name: nb.parent.name for nb in sorted((root / "solutions").glob("*/*.ipynb"))}


def course_cell_ids(root: Path) -> dict[str, set[str]]:
    """``{assignment: grade ids of its notebook}``: what tells one assignment's notebook from another's."""
    ids = {}
    for nb in sorted((root / "solutions").glob("*/*.ipynb")):
        cells = nbformat.read(nb, as_version=4).cells
        ids[nb.parent.name] = {c.metadata["nbgrader"]["grade_id"] for c in cells
                               if "grade_id" in c.metadata.get("nbgrader", {})}
    return ids


def _folder_entries(source: Path, problems: list[str]) -> list[Entry]:
    entries = []
    for folder, dirs, files in os.walk(source, followlinks=False):
        for name in sorted(files):
            path = Path(folder) / name
            relative = PurePosixPath(path.relative_to(source).as_posix())
            if not name.endswith(".ipynb") or _ignored(relative):
                continue
            if path.is_symlink():
                problems.append(f"{relative}: a symbolic link (not followed)")
                continue
            entries.append(Entry(relative, lambda path=path: _read_file(path)))
    return entries


def _read_file(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(MAX_NOTEBOOK_BYTES + 1)


def _zip_entries(archive: zipfile.ZipFile, problems: list[str]) -> list[Entry]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise CollectError([f"the archive has {len(infos)} entries (at most {MAX_ENTRIES})"])
    entries = []
    for info in infos:
        relative = PurePosixPath(info.filename)
        if info.is_dir() or not relative.name.endswith(".ipynb") or _ignored(relative):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            problems.append(f"{relative}: a symbolic link (not followed)")
            continue
        entries.append(Entry(relative, lambda info=info: _read_member(archive, info)))
    return entries


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as f:  # declared sizes can lie: read at most one byte past the cap
        return f.read(MAX_NOTEBOOK_BYTES + 1)


def _ignored(path: PurePosixPath) -> bool:
    return any(part in (".ipynb_checkpoints", "__MACOSX") or part.startswith("._") for part in path.parts)


def _split(name: str, notebooks) -> tuple[str | None, str] | None:
    """(prefix or None, notebook name) of a file name, or None when it names no course notebook."""
    for notebook in notebooks:
        if name == notebook:
            return None, notebook
        for sep in SEPARATORS:
            if name.endswith(sep + notebook):
                return name[: -len(sep + notebook)], notebook
    return None


def _assign(entries: list[Entry], notebooks, problems: list[str]) -> dict[tuple[str, str], Entry]:
    """``{(student, notebook): entry}``; every entry that cannot be placed is a problem."""
    split = {}
    for entry in entries:
        found = _split(entry.path.name, notebooks)
        if entry.path.is_absolute() or ".." in entry.path.parts:
            problems.append(f"{entry.path}: a path that leaves the folder or archive")
        elif found is None:
            problems.append(f"{entry.path}: not a notebook of this course ({', '.join(notebooks)})")
        else:
            split[entry.path] = found
    prefixes = defaultdict(set)  # folder -> file-name prefixes in it
    for path, (prefix, _) in split.items():
        prefixes[path.parent].add(prefix)
    placed: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.path not in split:
            continue
        prefix, notebook = split[entry.path]
        folder = entry.path.parent
        at_top = folder == PurePosixPath(".") or str(folder) == ""
        # Several students' files in one folder, none of them named for the folder (then it is that
        # student's folder, holding files named for classmates).
        wrapper = None not in prefixes[folder] and len(prefixes[folder]) > 1 and folder.name not in prefixes[folder]
        if prefix is None:
            student = None if at_top else folder.name
        elif at_top or wrapper or prefix == folder.name:
            student = prefix
        else:
            problems.append(f"{entry.path}: in the folder of student {folder.name!r} but named for {prefix!r}")
            continue
        if student is None or not STUDENT_ID.fullmatch(student):
            problems.append(f"{entry.path}: {student!r} cannot be a student id (letters, digits, "
                            f"'_', '.', '@', '-'; at most 64; not starting with a symbol)")
            continue
        placed[(student, notebook)].append(entry)
    for (student, notebook), found in sorted(placed.items()):
        if len(found) > 1:
            problems.append(f"{student}: {len(found)} files for {notebook}: "
                            f"{', '.join(str(e.path) for e in found)} (keep one)")
    return {key: found[0] for key, found in placed.items() if len(found) == 1}


def _check_notebook(data: bytes, assignment: str, cell_ids: dict[str, set[str]]) -> str | None:
    """None for a readable notebook of ``assignment``, else the reason."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        return f"larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.ValidationError, ValueError, KeyError,
            TypeError, AttributeError) as exc:
        return f"not a readable notebook ({type(exc).__name__})"
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    # Ids of no assignment are a student's own doing (the judge ignores them); another's are not.
    others = [a for a, known in cell_ids.items() if a != assignment and (ids - cell_ids[assignment]) & known]
    if others:
        return f"holds the cells of {', '.join(others)}, not of {assignment}"
    return None


def collect(source: Path, root: Path) -> list[str]:
    """File the notebooks of ``source`` (a folder or .zip) into ``submitted/``; the lines to print.

    Raises ``CollectError`` listing every problem, having written nothing.
    """
    notebooks = course_notebooks(root)
    cell_ids = course_cell_ids(root)
    problems: list[str] = []
    if source.is_symlink():
        raise CollectError([f"{source}: a symbolic link (not followed)"])
    if source.is_dir():
        archive = None
        entries = _folder_entries(source, problems)
    elif source.is_file() and zipfile.is_zipfile(source):
        archive = zipfile.ZipFile(source)
        entries = _zip_entries(archive, problems)
    else:
        raise CollectError([f"{source}: neither a folder nor a .zip file"])
    try:
        placed = _assign(entries, notebooks, problems)
        contents, total = {}, 0
        for (student, notebook), entry in sorted(placed.items()):
            data = entry.read()
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise CollectError(problems + [f"the submissions are larger than {MAX_TOTAL_BYTES >> 20} MiB"])
            try:
                reason = _check_notebook(data, notebooks[notebook], cell_ids)
            except RecursionError:  # JSON nested too deep for the parser or the validator
                reason = "not a readable notebook (RecursionError)"
            if reason:
                problems.append(f"{entry.path}: {reason}")
            else:
                contents[(student, notebook)] = data
    except zipfile.BadZipFile as exc:
        raise CollectError(problems + [f"{source}: a broken archive ({exc})"]) from None
    finally:
        if archive is not None:
            archive.close()
    if problems:
        raise CollectError(problems)
    lines = []
    submitted = (root / "submitted").resolve()
    for (student, notebook), data in sorted(contents.items()):
        dest = submitted / student / notebooks[notebook] / notebook
        if submitted not in dest.resolve().parents:  # cannot happen with STUDENT_ID; never write outside
            raise CollectError([f"{student}: would be written outside {submitted}"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        replaced = dest.exists()
        tmp = dest.with_suffix(".ipynb.partial")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        lines.append(f"{student} {notebooks[notebook]}/{notebook}" + (" (replaced)" if replaced else ""))
    return lines
