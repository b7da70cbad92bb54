"""``DropForgedMetadata``: nbgrader metadata on a cell counts only if the instructor's notebook has that cell.

Runs first in ``Autograde.sanitize_preprocessors``. A cell whose ``grade_id`` is not one of the
assignment's, or that repeats one already seen, loses its nbgrader metadata and is an ordinary
student cell from then on (nbgrader's own ``DeduplicateIds`` leaves a cell without a grade id
that stops ``OverwriteCells`` with a KeyError, and an unknown id stops ``SaveAutoGrades``: either
way one pasted cell would cost the whole submission). The judge still decides which cells are
tests by comparing them with the gradebook (``execute.classify``).
"""
from __future__ import annotations

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor


class DropForgedMetadata(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            known = {cell.name for cell in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
        seen = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id not in known or grade_id in seen:
                del cell.metadata["nbgrader"]
                self.log.warning("Cell %r is not one of the assignment's: graded as the student's own", grade_id)
            else:
                seen.add(grade_id)
        return nb, resources
