"""``SandboxedExecute``: nbgrader's ``Execute`` replaced by the judge (``Autograde.autograde_preprocessors``).

For one notebook, after nbgrader's ``OverwriteCells`` has restored the locked cells, it reads the
instructor's cells from the gradebook, starts the submission's sandbox session and lets
``decide.grade`` fill in every code cell's outputs. Nothing the student's code does can reach
this process: it only ever sends plain data back.
"""
from __future__ import annotations

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float, Integer

from .decide import grade, without_tests
from .sandbox import Limits, SandboxUnavailable, availability
from .session import Session
UNSANDBOXED_WARNING = ("**Graded without a sandbox.** The instructor set "
                       "`SandboxedExecute.allow_unsandboxed`: this notebook's code ran as an ordinary "
                       "process of the grading machine, without the sandbox's protections.")


class SandboxedExecute(NbGraderPreprocessor):
    """Run a submission under the judge; limits are configurable in ``nbgrader_config.py``."""

    memory_mb = Integer(Limits.memory_mb, help="Address space of each sandbox process, and (with a memory "
                                               "cgroup) memory of the whole sandbox, MiB").tag(config=True)
    processes = Integer(Limits.processes, help="Processes and threads of a sandbox").tag(config=True)
    file_mb = Integer(Limits.file_mb, help="Largest file a sandbox may write, and its scratch size, MiB").tag(config=True)
    cell_output_kb = Integer(Limits.cell_output_kb, help="Outputs kept per cell, KiB").tag(config=True)
    notebook_output_kb = Integer(Limits.notebook_output_kb, help="Outputs kept per notebook, KiB").tag(config=True)
    notebook_s = Float(Limits.notebook_s, help="Wall-clock limit of a whole notebook, s").tag(config=True)
    cell_s = Float(Limits.cell_s, help="Wall-clock limit of one student cell, s").tag(config=True)
    call_s = Float(Limits.call_s, help="Wall-clock limit of one call of a student's function, s").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade without a sandbox where none can be made (a warning "
                                         "goes into every feedback)").tag(config=True)

    def limits(self) -> Limits:
        return Limits(memory_mb=self.memory_mb, processes=self.processes, file_mb=self.file_mb,
                      cell_output_kb=self.cell_output_kb, notebook_output_kb=self.notebook_output_kb,
                      notebook_s=self.notebook_s, cell_s=self.cell_s, call_s=self.call_s)

    def preprocess(self, nb, resources):
        reason = availability()
        if reason and not self.allow_unsandboxed:
            raise SandboxUnavailable(f"cannot grade: {reason}. Install it, or set "
                                     "c.SandboxedExecute.allow_unsandboxed = True in nbgrader_config.py")
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            sources = {cell.name: cell.source
                       for cell in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
        if reason:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(UNSANDBOXED_WARNING))
        submission = (f"{info['notebook']}.ipynb", nbformat.writes(without_tests(nb)).encode())
        with Session(self.limits(), isolate=not reason, submission=submission) as session:
            grade(nb, sources, session, OverwriteCells(config=self.config).missing_cell_notification)
        return nb, resources
