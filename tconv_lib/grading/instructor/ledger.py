"""Which submissions are already graded, by content: a rerun grades only what is new or changed.

``autograded/.ledger.jsonl`` has one line per graded submission: ``{"assignment", "student",
"digest"}``, appended as each grade is recorded (the last line of a submission wins), so a run
that is stopped keeps what it finished. The digest covers everything a grade depends on that
the instructor can change: the submitted files, the assignment's source and release folders
(its tests), ``nbgrader_config.py``, the grading secret (hashed), the due date and the course
library (the checkers and the judge). Not the Keras backend or device: regrade with ``--force``
after changing those. A line counts only while the gradebook
still holds the submission and its autograded copy exists; deleting either regrades it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..cases import SECRET_VARIABLE

NAME = ".ledger.jsonl"


def files_digest(digest, files: dict[str, bytes]) -> None:
    """Add ``files`` (``worker.read_files``: path -> bytes) to a hashlib ``digest``, names and sizes included."""
    for name, data in sorted(files.items()):
        name = name.encode()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)))
        digest.update(data)


def assignment_files(root: Path, assignment: str, folders) -> dict[str, bytes]:
    """``nbgrader_config.py`` and ``assignment``'s files in each of ``folders`` (nbgrader's source
    and release folders), by path from ``root``: what all its students' grades share. Read once
    per run: they make its digest and the workers' copy of the course."""
    from .worker import read_files

    config = root / "nbgrader_config.py"
    files = {"nbgrader_config.py": config.read_bytes()} if config.exists() else {}
    for folder in folders:
        files.update({f"{folder}/{assignment}/{name}": data
                      for name, data in read_files(root / folder / assignment).items()})
    return files


def assignment_digest(files: dict[str, bytes], definition: bytes = b"") -> bytes:
    """sha256 of what every grade of an assignment depends on: its ``files`` (``assignment_files``),
    the secret; ``definition``: what the gradebook and the library add (a run passes the due date
    and tconv_lib's digest)."""
    digest = hashlib.sha256()
    files_digest(digest, files)
    digest.update(hashlib.sha256(os.environ.get(SECRET_VARIABLE, "").encode()).digest())
    digest.update(definition)
    return digest.digest()


def inputs_digest(submission: Path, assignment: bytes) -> str:
    """sha256 of what a grade depends on: the files of the ``submission`` folder, and its
    ``assignment``'s part (``assignment_digest``)."""
    from .worker import read_files

    digest = hashlib.sha256(assignment)
    files_digest(digest, read_files(submission) if submission.is_dir() else {})
    return digest.hexdigest()


class Ledger:
    def __init__(self, autograded: Path):
        self.path = autograded / NAME
        self.digests: dict[tuple[str, str], str] = {}
        text = self.path.read_text(errors="replace") if self.path.exists() else ""
        lines = text.splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
                self.digests[entry["assignment"], entry["student"]] = entry["digest"]
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a killed run
        if len(lines) > 2 * len(self.digests) + 100 or not text.endswith("\n") and text:
            self._rewrite()  # drop superseded and cut lines

    def _rewrite(self) -> None:
        staged = self.path.with_suffix(".tmp")
        staged.write_text("".join(self._line(a, s, d) for (a, s), d in self.digests.items()))
        os.replace(staged, self.path)

    @staticmethod
    def _line(assignment: str, student: str, digest: str) -> str:
        return json.dumps({"assignment": assignment, "student": student, "digest": digest}) + "\n"

    def current(self, assignment: str, student: str, digest: str) -> bool:
        return self.digests.get((assignment, student)) == digest

    def record(self, assignment: str, student: str, digest: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(self._line(assignment, student, digest))
        self.digests[assignment, student] = digest
