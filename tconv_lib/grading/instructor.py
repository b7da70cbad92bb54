"""Instructor commands around nbgrader (run from the course root; see README "Instructors").

    python -m tconv_lib.grading.instructor collect PATH        # a folder or a .zip of notebooks
    python -m tconv_lib.grading.instructor autograde [ASSIGNMENT ...]

``collect`` files every notebook into ``submitted/<student>/<assignment>/<notebook>.ipynb``,
nbgrader's layout. A notebook is recognised by its name: ``<student>_<notebook>.ipynb`` (as
learning platforms name downloads) or ``<student>/<notebook>.ipynb``; the assignment follows
from the notebook's name, which is unique in ``solutions/``.

``autograde`` runs nbgrader's own autograder (``NbGraderAPI.autograde``) on every submission,
in one process, and prints one line per submission: ``[17/300] alice from-scratch 8/10 in 4.9 s``.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


def course_notebooks(root: Path) -> dict[str, str]:
    """``{notebook file name: assignment}`` for every notebook in ``solutions/``."""
    return {nb.name: nb.parent.name for nb in sorted((root / "solutions").glob("*/*.ipynb"))}


def _student_and_notebook(path: Path, notebooks) -> tuple[str, str] | None:
    for name in notebooks:
        if path.name == name:
            return path.parent.name, name
        for sep in ("_", "-", "."):
            if path.name.endswith(sep + name):
                return path.name[: -len(sep + name)], name
    return None


def collect(source: Path, root: Path) -> int:
    """Copy the notebooks of ``source`` (a folder or a .zip) into ``submitted/``; returns how many."""
    notebooks = course_notebooks(root)
    with tempfile.TemporaryDirectory() as tmp:
        if source.is_file() and zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                archive.extractall(tmp)
            source = Path(tmp)
        if not source.is_dir():
            raise SystemExit(f"collect: {source} is neither a folder nor a .zip file")
        count = 0
        for path in sorted(source.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts or "__MACOSX" in path.parts:
                continue
            found = _student_and_notebook(path, notebooks)
            if found is None or not STUDENT_ID.match(found[0]):
                print(f"skipped {path.relative_to(source)}: not <student>_<notebook>.ipynb "
                      f"for a notebook of this course ({', '.join(notebooks)})")
                continue
            student, name = found
            dest = root / "submitted" / student / notebooks[name] / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            print(f"{student} {notebooks[name]}/{name}")
            count += 1
    return count


def _api(root: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return NbGraderAPI(config=config)


def autograde(root: Path, assignments=()) -> bool:
    """Autograde every submission of ``assignments`` (all when empty); True when all succeeded."""
    from nbgrader.api import Gradebook

    submitted = root / "submitted"
    jobs = sorted((a.name, s.name) for s in submitted.glob("*") if s.is_dir()
                  for a in s.glob("*") if a.is_dir() and (not assignments or a.name in assignments))
    api = _api(root)
    ok = True
    for index, (assignment, student) in enumerate(jobs, 1):
        start = time.perf_counter()
        result = api.autograde(assignment, student, force=True, create=True)
        seconds = time.perf_counter() - start
        if result["success"]:
            with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
                sub = gb.find_submission(assignment, student)
                score = f"{sub.score:g}/{sub.max_score:g}"
        else:
            ok, score = False, "FAILED"
        print(f"[{index}/{len(jobs)}] {student} {assignment} {score} in {seconds:.1f} s", flush=True)
        if not result["success"]:
            print(result.get("log", "") + result.get("error", ""), flush=True)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tconv_lib.grading.instructor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("collect", help="file submissions into submitted/").add_argument("source", type=Path)
    commands.add_parser("autograde", help="autograde with a progress line per submission").add_argument(
        "assignments", nargs="*")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "collect":
        print(f"collected {collect(args.source, root)} notebooks into {root / 'submitted'}")
        return 0
    return 0 if autograde(root, args.assignments) else 1


if __name__ == "__main__":
    sys.exit(main())
