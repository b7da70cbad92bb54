"""The nbgrader preprocessor that refuses student cells failing the static check.

Registered in ``nbgrader_config.py`` in ``Autograde.sanitize_preprocessors`` right after
nbgrader's ``OverwriteCells`` (which has restored every locked cell from the gradebook).
Every code cell that is not one of those locked instructor cells is checked with
``static_check.problem``; a refused cell's source becomes code that raises
"this cell was not run: <reason>", so the functions it defines are missing and only their
tests fail. The submitted code stays in the cell as comments, for the feedback.
"""
from __future__ import annotations

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from . import static_check


class StaticIntegrityCheck(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            locked = {}
            for cell in gb.find_notebook(info["notebook"], info["assignment"]).source_cells:
                if cell.locked and cell.cell_type == "code":
                    locked[cell.name] = cell.source
        reserved = static_check.reserved_names(locked.values())
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in locked and cell.source == locked[grade_id]:
                continue  # an instructor cell, exactly as released
            reason = static_check.problem(cell.source, reserved)
            if reason is not None:
                self.log.warning("Refusing cell %s of %s: %s", grade_id or "(no id)",
                                 info["notebook"], reason)
                cell.source = static_check.refusal_source(reason, cell.source)
        return nb, resources

