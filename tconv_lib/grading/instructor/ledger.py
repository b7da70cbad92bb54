"""Which submissions are already graded, by content: a rerun grades only what is new or changed.

``autograded/.ledger.jsonl`` has one line per graded submission: ``{"assignment", "student",
"digest"}``, appended as each grade is recorded (the last line of a submission wins), so a run
that is stopped keeps what it finished. The digest covers everything a grade depends on that
the instructor can change: the submitted files, the assignment's source folder (its tests),
``nbgrader_config.py`` and the grading secret (hashed). A line counts only while the gradebook
still holds the submission and its autograded copy exists; deleting either regrades it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..cases import SECRET_VARIABLE

NAME = ".ledger.jsonl"


def _files_digest(digest, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.relative_to(folder).as_posix().encode()
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)))
        digest.update(data)


def inputs_digest(root: Path, assignment: str, student: str) -> str:
    """sha256 of what a grade of ``student``'s ``assignment`` depends on."""
    digest = hashlib.sha256()
    for folder in (root / "submitted" / student / assignment, root / "solutions" / assignment):
        _files_digest(digest, folder)
        digest.update(b"|")
    config = root / "nbgrader_config.py"
    digest.update(config.read_bytes() if config.exists() else b"")
    digest.update(hashlib.sha256(os.environ.get(SECRET_VARIABLE, "").encode()).digest())
    return digest.hexdigest()


class Ledger:
    def __init__(self, autograded: Path):
        self.path = autograded / NAME
        self.digests: dict[tuple[str, str], str] = {}
        text = self.path.read_text() if self.path.exists() else ""
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
